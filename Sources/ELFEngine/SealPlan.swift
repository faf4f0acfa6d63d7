// The seal transformation as a pure function: from a parsed image and a note to the bytes to write.

/// Everything sealing changes in a file, computed without I/O. Applying it means: copy the
/// original's bytes, overwrite `edits`, then extend the file to `newFileSize` (the gap before the
/// appended segment is a hole).
public struct SealPlan: Sendable {
    /// One run of bytes to write at a file offset.
    public struct Edit: Sendable, Equatable {
        public var offset: UInt64
        public var bytes: [UInt8]

        public init(offset: UInt64, bytes: [UInt8]) {
            self.offset = offset
            self.bytes = bytes
        }
    }

    public var format: ELFFormat
    public var note: BottleNote
    /// The program interpreter the PT_INTERP slot names.
    public var interpreter: String
    public var newHeader: ELFHeader
    public var newProgramHeaders: [ProgramHeader]
    /// The appended PT_LOAD.
    public var segment: ProgramHeader
    /// Offset of the PT_INTERP slot within the file.
    public var slotOffset: UInt64
    public var record: SealRecord
    public var originalSize: UInt64
    public var newFileSize: UInt64
    /// In file order: the header, the note over the old table, the appended segment.
    public var edits: [Edit]

    /// The alignment of the appended segment's offset and address, and the gap left below it:
    /// the largest page size the file's machine uses, a page on x86 (4 KiB), elsewhere 64 KiB
    /// (arm64 kernels may use 64 KiB pages). The file's, not the host's: seal cross-seals.
    public static func segmentAlignment(for machine: UInt16) -> UInt64 {
        machine == ELF.EM_X86_64 || machine == ELF.EM_386 ? 0x1000 : 0x10000
    }

    /// Plans the sealing of `image` with `note`, its PT_INTERP slot naming `interpreter`. Throws
    /// when the layout does not fit, naming why.
    public static func make(
        _ image: ELFImage, note: BottleNote, interpreter: String = SealFormat.runbottlePath
    ) throws(ELFError) -> SealPlan {
        let path = image.path, format = image.format, elfClass = format.elfClass
        func refuse(_ what: ELFError.Layout) -> ELFError { ELFError(path, .unsupportedLayout(what)) }
        let header = image.header
        guard image.interpBytes != nil, let oldInterp = image.first(ELF.PT_INTERP) else {
            throw ELFError(path, .staticExecutable(.noInterpreter))
        }
        if let problem = SealFormat.interpreterProblem(interpreter) { throw ELFError(path, .badInterpreter(problem)) }
        guard header.e_phoff == UInt64(header.e_ehsize) else {
            throw refuse(.tableNotAfterHeader(phoff: header.e_phoff, ehsize: header.e_ehsize))
        }
        if let problem = BottleNote.problem(withLoader: note.loader) { throw ELFError(path, .badLoaderPath(problem)) }
        let loads = image.loads
        guard let firstLoad = loads.first else { throw ELFError(path, .corrupt(.noLoadSegment)) }
        for (a, b) in zip(loads, loads.dropFirst()) where b.p_vaddr < a.p_vaddr {
            throw ELFError(path, .corrupt(.loadsUnsorted))
        }
        let phdrs = image.programHeaders.filter { $0.p_type == ELF.PT_PHDR }
        guard phdrs.count <= 1 else { throw ELFError(path, .corrupt(.repeated(type: ELF.PT_PHDR, count: phdrs.count))) }

        // The note goes where the old table was; the first PT_LOAD must map it from offset 0, so
        // the note is in memory at firstLoad.p_vaddr + e_ehsize.
        let ehsize = Int(header.e_ehsize)
        let oldTableSize = image.tableBytes.count
        let noteBytes = note.encoded(format.byteOrder)
        guard noteBytes.count <= oldTableSize else {
            throw ELFError(path, .noteDoesNotFit(need: noteBytes.count, have: oldTableSize))
        }
        guard firstLoad.p_offset == 0, let firstEnd = firstLoad.fileEnd, firstEnd >= UInt64(ehsize + oldTableSize) else {
            throw refuse(.firstLoadMissesHeaders)
        }

        let align = segmentAlignment(for: header.e_machine)
        // Kernels before 5.18 compute AT_PHDR as the first PT_LOAD's p_vaddr - p_offset + e_phoff:
        // the new segment keeps the first PT_LOAD's vaddr - offset so that formula stays right.
        // The first PT_LOAD starts at offset 0 (checked above): its p_vaddr is the difference.
        let delta = firstLoad.p_vaddr
        guard delta % align == 0 else {
            throw refuse(.firstLoadUnaligned(address: delta, alignment: align))
        }
        var highest: UInt64 = 0
        for load in loads {
            guard let end = load.memoryEnd else { throw ELFError(path, .corrupt(.loadEndOverflows)) }
            highest = max(highest, end)
        }
        let newPhnum = image.programHeaders.count + (phdrs.isEmpty ? 3 : 2)
        let tableSize = newPhnum * elfClass.programHeaderSize
        guard tableSize <= ELFImage.maxTableSize else {
            throw refuse(.tooManyProgramHeaders(newPhnum, limit: ELFImage.maxTableSize))
        }
        let record = SealRecord(
            originalSize: image.fileSize, originalPhoff: header.e_phoff, addedPHDR: phdrs.isEmpty,
            originalHeader: image.headerBytes, originalTable: image.tableBytes)
        let recordBytes = record.encoded(format)
        let segmentSize = UInt64(tableSize + SealFormat.interpSlotSize + recordBytes.count)

        // Above every existing segment with a gap of at least `align`, at an offset past the
        // original end of file; the difference between the two is a hole in the file.
        guard let minVaddr = alignUp(highest, align).flatMap({ checkedAdd($0, align) }),
              let segmentOffset = alignUp(max(image.fileSize, minVaddr - min(minVaddr, delta)), align),
              let segmentVaddr = checkedAdd(segmentOffset, delta),
              let segmentEnd = checkedAdd(segmentVaddr, segmentSize), segmentEnd <= format.maxWord,
              let newFileSize = checkedAdd(segmentOffset, segmentSize), newFileSize <= format.maxWord,
              newFileSize <= UInt64(Int64.max)
        else { throw refuse(.noRoomForSegment(elfClass)) }

        let wordAlign = UInt64(elfClass == .elf64 ? 8 : 4)
        let newPHDR = ProgramHeader(
            p_type: ELF.PT_PHDR, p_flags: ELF.PF_R, p_offset: segmentOffset, p_vaddr: segmentVaddr,
            p_paddr: segmentVaddr, p_filesz: UInt64(tableSize), p_memsz: UInt64(tableSize), p_align: wordAlign)
        let slotOffset = segmentOffset + UInt64(tableSize)
        let newInterp = ProgramHeader(
            p_type: ELF.PT_INTERP, p_flags: oldInterp.p_flags, p_offset: slotOffset,
            p_vaddr: segmentVaddr + UInt64(tableSize), p_paddr: segmentVaddr + UInt64(tableSize),
            p_filesz: UInt64(SealFormat.interpSlotSize), p_memsz: UInt64(SealFormat.interpSlotSize), p_align: 1)
        let segment = ProgramHeader(
            p_type: ELF.PT_LOAD, p_flags: ELF.PF_R, p_offset: segmentOffset, p_vaddr: segmentVaddr,
            p_paddr: segmentVaddr, p_filesz: segmentSize, p_memsz: segmentSize, p_align: align)
        let notePhdr = ProgramHeader(
            p_type: ELF.PT_NOTE, p_flags: ELF.PF_R, p_offset: UInt64(ehsize),
            p_vaddr: firstLoad.p_vaddr + UInt64(ehsize), p_paddr: firstLoad.p_paddr &+ UInt64(ehsize),
            p_filesz: UInt64(noteBytes.count), p_memsz: UInt64(noteBytes.count), p_align: 4)

        let lastLoadIndex = image.programHeaders.lastIndex { $0.p_type == ELF.PT_LOAD }
        var table = [newPHDR, newInterp]
        for (i, p) in image.programHeaders.enumerated() {
            if p.p_type != ELF.PT_PHDR && p.p_type != ELF.PT_INTERP { table.append(p) }
            if i == lastLoadIndex { table.append(segment) }
        }
        table.append(notePhdr)

        var newHeader = header
        newHeader.e_phoff = segmentOffset
        newHeader.e_phnum = UInt16(newPhnum)

        var segmentBytes = format.encodeProgramHeaders(table)
        // The original string stays where it was, in the body unseal restores around.
        segmentBytes += SealFormat.slotBytes(naming: interpreter, machine: header.e_machine)
        segmentBytes += recordBytes
        let noteRegion = noteBytes + [UInt8](repeating: 0, count: oldTableSize - noteBytes.count)

        return SealPlan(
            format: format, note: note, interpreter: interpreter, newHeader: newHeader, newProgramHeaders: table,
            segment: segment, slotOffset: slotOffset, record: record, originalSize: image.fileSize,
            newFileSize: newFileSize,
            edits: [Edit(offset: 0, bytes: format.encodeHeader(newHeader)),
                    Edit(offset: UInt64(ehsize), bytes: noteRegion),
                    Edit(offset: segmentOffset, bytes: segmentBytes)])
    }
}
