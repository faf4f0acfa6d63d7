// Setting a file's DT_RPATH (and removing its DT_RUNPATH): the dynamic-section and string-table edit bottling needs.

/// How a run path edit changes the file.
public enum RunPathMethod: Sendable, Equatable {
    /// DT_RPATH already is the wanted string and there is no DT_RUNPATH.
    case unchanged
    /// The existing DT_RPATH/DT_RUNPATH entry retagged DT_RPATH, the string rewritten in its own bytes.
    case inPlace
    /// Copies of the string table (plus the new string) and of the dynamic array (plus DT_RPATH)
    /// written in the file padding right below the writable PT_LOAD, which is extended down over
    /// them: the same pages are mapped, the program header table keeps its size.
    case belowWritableSegment
    /// The same copies in a new writable PT_LOAD appended at the end of the file, taking the
    /// program header slot of a PT_NULL or of a PT_NOTE that only repeats PT_GNU_PROPERTY.
    case appendedSegment
    /// The appended segment taking PT_PHDR's slot, for a file about to be sealed: the seal puts
    /// a PT_PHDR first in its new table. Until then a PIE does not run (glibc and musl find a
    /// PIE's load address through PT_PHDR), so only a caller that seals right after asks for it.
    case appendedSegmentBeforeSeal

    /// Every method that leaves a file that runs as it is.
    public static let all: Set<RunPathMethod> = [.unchanged, .inPlace, .belowWritableSegment, .appendedSegment]
    /// Every method, for a file that is sealed next.
    public static let beforeSeal: Set<RunPathMethod> = all.union([.appendedSegmentBeforeSeal])
}

/// The edit planned for one file: bytes to write over a copy of it, and its new size.
public struct RunPathPlan: Sendable {
    public var method: RunPathMethod
    public var edits: [SealPlan.Edit]
    public var newFileSize: UInt64
}

public enum RunPathEditor {
    static let PT_GNU_PROPERTY: UInt32 = 0x6474_e553

    /// Plans setting DT_RPATH of the ELF file `file` to `runPath`, removing any DT_RUNPATH (which
    /// would make the loader ignore DT_RPATH). Leaves the program header table where it is, so
    /// the file can still be sealed. Throws, naming why, when no method fits.
    /// `methods` limits the methods tried (tests use it to exercise each one).
    public static func plan(
        _ file: ELFFile, _ image: ELFImage, runPath: String, methods: Set<RunPathMethod> = RunPathMethod.all
    ) throws(ELFError) -> RunPathPlan {
        let path = file.path, format = image.format
        let table = try DynamicTable.read(file, image)
        let wanted = Array(runPath.utf8)
        guard !wanted.isEmpty, !wanted.contains(0) else { throw ELFError(path, .corrupt(.emptyRunPath)) }
        let pathIndices = table.entries.indices.filter {
            table.entries[$0].d_tag == ELF.DT_RPATH || table.entries[$0].d_tag == ELF.DT_RUNPATH
        }
        if pathIndices.count == 1, let only = pathIndices.first, table.entries[only].d_tag == ELF.DT_RPATH,
           try table.string(file, at: table.entries[only].d_val) == wanted {
            return RunPathPlan(method: .unchanged, edits: [], newFileSize: image.fileSize)
        }
        if methods.contains(.inPlace), let first = pathIndices.first, let edits = try inPlaceEdits(file, format, table, entryIndex: first, pathIndices, wanted) {
            return RunPathPlan(method: .inPlace, edits: edits, newFileSize: image.fileSize)
        }
        let tables = NewTables(try table.stringTable(file), table.entries, pathIndices, wanted, format)
        var placement = try place(tables, image, table, methods, path)
        let (bytes, dynamicAddress) = tables.bytes(at: placement.stringsAddress)
        let dynamicOffset = placement.stringsOffset + (dynamicAddress - placement.stringsAddress)
        var newFileSize = image.fileSize
        if let segment = placement.newSegment {
            placement.programHeaders[segment].p_filesz = UInt64(bytes.count)
            placement.programHeaders[segment].p_memsz = UInt64(bytes.count)
            newFileSize = placement.stringsOffset + UInt64(bytes.count)
        }
        guard let dynamicIndex = placement.programHeaders.firstIndex(where: { $0.p_type == ELF.PT_DYNAMIC }) else {
            throw ELFError(path, .corrupt(.noDynamicSegment))
        }
        placement.programHeaders[dynamicIndex].p_offset = dynamicOffset
        placement.programHeaders[dynamicIndex].p_vaddr = dynamicAddress
        placement.programHeaders[dynamicIndex].p_paddr = dynamicAddress
        placement.programHeaders[dynamicIndex].p_filesz = tables.dynamicSize
        placement.programHeaders[dynamicIndex].p_memsz = tables.dynamicSize

        let edits = [SealPlan.Edit(offset: image.header.e_phoff, bytes: format.encodeProgramHeaders(placement.programHeaders)),
                     SealPlan.Edit(offset: placement.stringsOffset, bytes: bytes)]
            + (try sectionEdits(file, table, format, dynamic: (dynamicOffset, dynamicAddress, tables.dynamicSize),
                                strings: (placement.stringsOffset, placement.stringsAddress, tables.stringsSize)))
        return RunPathPlan(method: placement.method, edits: edits, newFileSize: newFileSize)
    }

    /// The copies of the string table (the new string at its end) and of the dynamic array (one
    /// DT_RPATH naming it, no other run path entry), laid out strings first, then the array
    /// word-aligned.
    struct NewTables {
        var strings: [UInt8]
        var entries: [DynamicEntry]
        var format: ELFFormat
        var wordSize: UInt64 { UInt64(format.elfClass == .elf64 ? 8 : 4) }
        var stringsSize: UInt64 { UInt64(strings.count) }
        var dynamicSize: UInt64 { UInt64(entries.count * format.elfClass.dynamicEntrySize) }
        /// Bytes the copies need wherever they go, alignment padding included.
        var needed: UInt64 { stringsSize + wordSize + dynamicSize }

        init(_ oldStrings: [UInt8], _ oldEntries: [DynamicEntry], _ pathIndices: [Int], _ wanted: [UInt8], _ format: ELFFormat) {
            strings = oldStrings + wanted + [0]
            entries = oldEntries.enumerated().filter { !pathIndices.dropFirst().contains($0.offset) }.map(\.element)
            let rpath = DynamicEntry(d_tag: ELF.DT_RPATH, d_val: UInt64(oldStrings.count))
            if let first = pathIndices.first {
                entries[first] = rpath
            } else {
                entries.insert(rpath, at: entries.count - 1)
            }
            self.format = format
        }

        /// The copies' bytes with the strings at `stringsAddress`, and where the array lands.
        func bytes(at stringsAddress: UInt64) -> (bytes: [UInt8], dynamicAddress: UInt64) {
            let dynamicAddress = (stringsAddress + stringsSize + wordSize - 1) & ~(wordSize - 1)
            var placed = entries
            for i in placed.indices {
                if placed[i].d_tag == ELF.DT_STRTAB { placed[i].d_val = stringsAddress }
                if placed[i].d_tag == ELF.DT_STRSZ { placed[i].d_val = stringsSize }
            }
            var bytes = strings
            bytes += [UInt8](repeating: 0, count: Int(dynamicAddress - stringsAddress - stringsSize))
            bytes += format.encodeDynamicEntries(placed)
            return (bytes, dynamicAddress)
        }
    }

    /// Where the copies go, and the program headers that map them there.
    struct Placement {
        var method: RunPathMethod
        var stringsAddress: UInt64
        var stringsOffset: UInt64
        var programHeaders: [ProgramHeader]
        /// The appended PT_LOAD's index, sized once the copies' bytes are known.
        var newSegment: Int?
    }

    /// Below the writable segment if there is room, else in a segment appended in a spare
    /// program header slot.
    private static func place(
        _ tables: NewTables, _ image: ELFImage, _ table: DynamicTable, _ methods: Set<RunPathMethod>, _ path: String
    ) throws(ELFError) -> Placement {
        var programHeaders = image.programHeaders
        let needed = tables.needed
        if methods.contains(.belowWritableSegment),
           let (loadIndex, start, offset) = roomBelowWritableSegment(image, table, needed: needed, wordSize: tables.wordSize) {
            var load = programHeaders[loadIndex]
            let grow = load.p_vaddr - start
            load.p_offset -= grow
            load.p_vaddr -= grow
            load.p_paddr = load.p_paddr &- grow
            load.p_filesz += grow
            load.p_memsz += grow
            programHeaders[loadIndex] = load
            return Placement(method: .belowWritableSegment, stringsAddress: start, stringsOffset: offset,
                             programHeaders: programHeaders)
        }
        guard let (slot, slotMethod) = spareSlot(programHeaders, methods) else {
            throw ELFError(path, .unsupportedLayout(
                .noRoomForRunPath(bytes: needed, phdrSpare: methods.contains(.appendedSegmentBeforeSeal))))
        }
        let format = image.format
        let page = SealPlan.segmentAlignment(for: image.header.e_machine)
        let highest = image.loads.compactMap(\.memoryEnd).max() ?? 0
        guard let address = alignUp(highest, page).flatMap({ checkedAdd($0, page) }),
              let offset = alignUp(image.fileSize, page),
              let end = checkedAdd(offset, needed), end <= format.maxWord,
              let addressEnd = checkedAdd(address, needed), addressEnd <= format.maxWord
        else { throw ELFError(path, .unsupportedLayout(.noRoomForRunPathSegment)) }
        programHeaders.remove(at: slot)
        let segment = ProgramHeader(
            p_type: ELF.PT_LOAD, p_flags: ELF.PF_R | ELF.PF_W, p_offset: offset, p_vaddr: address,
            p_paddr: address, p_filesz: 0, p_memsz: 0, p_align: page)
        let afterLastLoad = (programHeaders.lastIndex { $0.p_type == ELF.PT_LOAD } ?? programHeaders.count - 1) + 1
        programHeaders.insert(segment, at: afterLastLoad)
        return Placement(method: slotMethod, stringsAddress: address, stringsOffset: offset,
                         programHeaders: programHeaders, newSegment: afterLastLoad)
    }

    /// The section headers follow the moved tables, so that tools reading sections see the same
    /// ones, and the symbols defined in them (_DYNAMIC, section symbols) move too.
    private static func sectionEdits(
        _ file: ELFFile, _ table: DynamicTable, _ format: ELFFormat,
        dynamic: (offset: UInt64, address: UInt64, size: UInt64),
        strings: (offset: UInt64, address: UInt64, size: UInt64)
    ) throws(ELFError) -> [SealPlan.Edit] {
        let shsize = UInt64(SectionHeader.size(format.elfClass))
        var edits: [SealPlan.Edit] = []
        for (index, moved) in [(table.dynamicSectionIndex, dynamic), (table.stringSectionIndex, strings)] {
            guard let index else { continue }
            var section = table.sections[index]
            section.sh_offset = moved.offset
            section.sh_addr = moved.address
            section.sh_size = moved.size
            edits.append(.init(offset: table.sectionTableOffset + UInt64(index) * shsize, bytes: format.encodeSectionHeader(section)))
        }
        if let index = table.dynamicSectionIndex {
            edits += try table.symbolEdits(file, format: format, section: index, movedTo: dynamic.address)
        }
        if let index = table.stringSectionIndex {
            edits += try table.symbolEdits(file, format: format, section: index, movedTo: strings.address)
        }
        return edits
    }

    /// The in-place edit: the first run path entry becomes DT_RPATH naming `wanted`, written over
    /// its old string when it fits and no other name shares those bytes (linkers merge string
    /// tails); other run path entries are dropped. Nil when it does not fit.
    private static func inPlaceEdits(
        _ file: ELFFile, _ format: ELFFormat, _ table: DynamicTable, entryIndex: Int, _ pathIndices: [Int], _ wanted: [UInt8]
    ) throws(ELFError) -> [SealPlan.Edit]? {
        let index = table.entries[entryIndex].d_val
        let old = try table.string(file, at: index)
        // Another name starting inside the old string's bytes would be corrupted by the rewrite;
        // one at its NUL stays the empty string.
        guard wanted.count <= old.count,
              let refs = try table.stringReferences(file, format: format, except: Set(pathIndices)),
              !refs.contains(where: { $0 >= index && $0 < index + UInt64(old.count) })
        else { return nil }
        var entries = table.entries.enumerated().filter { !pathIndices.dropFirst().contains($0.offset) }.map(\.element)
        entries[entryIndex].d_tag = ELF.DT_RPATH
        while entries.count < table.capacity { entries.append(DynamicEntry(d_tag: ELF.DT_NULL, d_val: 0)) }
        // Only the entries up to the old first DT_NULL are rewritten; removed ones leave DT_NULLs behind.
        let rewritten = Array(entries.prefix(table.entries.count))
        let string = wanted + [UInt8](repeating: 0, count: old.count + 1 - wanted.count)
        return [SealPlan.Edit(offset: table.phdr.p_offset, bytes: format.encodeDynamicEntries(rewritten)),
                SealPlan.Edit(offset: table.strtabOffset + index, bytes: string)]
    }

    /// The writable PT_LOAD holding PT_DYNAMIC, and the start address and offset of `needed`
    /// bytes right below it that are file padding and already mapped with its first page:
    /// no other segment or section uses them in the file or in memory.
    private static func roomBelowWritableSegment(
        _ image: ELFImage, _ table: DynamicTable, needed: UInt64, wordSize: UInt64
    ) -> (Int, UInt64, UInt64)? {
        let page = SealPlan.segmentAlignment(for: image.header.e_machine)
        guard let loadIndex = image.programHeaders.firstIndex(where: {
            $0.p_type == ELF.PT_LOAD && $0.p_flags & ELF.PF_W != 0 && $0.p_vaddr <= table.phdr.p_vaddr
                && table.phdr.p_vaddr - $0.p_vaddr < $0.p_memsz
        }) else { return nil }
        let load = image.programHeaders[loadIndex]
        guard load.p_vaddr % wordSize == 0, load.p_vaddr >= needed, load.p_offset >= needed else { return nil }
        let start = load.p_vaddr - needed, offset = load.p_offset - needed
        guard start >= load.p_vaddr & ~(page - 1) else { return nil }
        let memory = start..<load.p_vaddr, bytes = offset..<load.p_offset
        let headerEnd = UInt64(image.header.e_ehsize) + UInt64(image.tableBytes.count)
        guard offset >= max(headerEnd, image.header.e_phoff + UInt64(image.tableBytes.count)) else { return nil }
        for (i, p) in image.programHeaders.enumerated() where i != loadIndex {
            if p.p_filesz > 0, let end = p.fileEnd, (p.p_offset..<end).overlaps(bytes) { return nil }
            if p.p_type == ELF.PT_LOAD, p.p_memsz > 0, let end = p.memoryEnd, (p.p_vaddr..<end).overlaps(memory) { return nil }
        }
        for section in table.sections {
            if let range = section.fileRange, range.overlaps(bytes) { return nil }
            if let range = section.memoryRange, range.overlaps(memory) { return nil }
        }
        if !table.sections.isEmpty {
            let shsize = UInt64(SectionHeader.size(image.format.elfClass))
            let start = table.sectionTableOffset
            if (start..<(start + UInt64(table.sections.count) * shsize)).overlaps(bytes) { return nil }
        }
        return (loadIndex, start, offset)
    }

    /// A program header the edit may take over, and the method that names it: a PT_NULL, or a
    /// PT_NOTE covering exactly what PT_GNU_PROPERTY covers (the kernel and glibc read the
    /// property through PT_GNU_PROPERTY); for a file sealed next, PT_PHDR.
    private static func spareSlot(_ headers: [ProgramHeader], _ methods: Set<RunPathMethod>) -> (Int, RunPathMethod)? {
        if methods.contains(.appendedSegment) {
            if let index = headers.firstIndex(where: { $0.p_type == ELF.PT_NULL }) { return (index, .appendedSegment) }
            if let property = headers.first(where: { $0.p_type == PT_GNU_PROPERTY }), let index = headers.firstIndex(where: {
                $0.p_type == ELF.PT_NOTE && $0.p_offset == property.p_offset && $0.p_vaddr == property.p_vaddr
                    && $0.p_filesz == property.p_filesz && $0.p_memsz == property.p_memsz
            }) { return (index, .appendedSegment) }
        }
        if methods.contains(.appendedSegmentBeforeSeal), let index = headers.firstIndex(where: { $0.p_type == ELF.PT_PHDR }) {
            return (index, .appendedSegmentBeforeSeal)
        }
        return nil
    }

    /// Sets DT_RPATH of the file at `path` (a real path, replaced atomically) to `runPath`, and
    /// checks the result before it replaces the file. Returns how it was done. `durability`:
    /// `.byCaller` for a file the caller syncs with the rest of its file system (a bottle's stage).
    @discardableResult
    public static func apply(
        to path: String, runPath: String, methods: Set<RunPathMethod> = RunPathMethod.all,
        durability: RewriteTransaction.Durability = .synced
    ) throws(ELFError) -> RunPathMethod {
        let file = try ELFFile(path: path)
        let image = try ELFImage.parse(file)
        let before = try DynamicTable.read(file, image)
        let plan = try plan(file, image, runPath: runPath, methods: methods)
        if plan.method == .unchanged { return .unchanged }
        try Rewrite(path: path, target: path, original: file, copying: image.fileSize, edits: plan.edits,
                    size: max(plan.newFileSize, image.fileSize)) { written throws(ELFError) in
            try verify(written, original: file, before: before, runPath: runPath)
        }.commit(durability: durability)
        return plan.method
    }

    /// Re-reads an edited file: the run path is `runPath` in DT_RPATH alone, every other string
    /// entry names the same string as before, PT_DYNAMIC lies in a writable PT_LOAD.
    static func verify(_ written: ELFFile, original: ELFFile, before: DynamicTable, runPath: String) throws(ELFError) {
        func fail(_ what: ELFError.Verification) -> ELFError { ELFError(original.path, .verificationFailed(what)) }
        let image: ELFImage, table: DynamicTable, info: DynamicInfo
        do {
            image = try ELFImage.parse(written)
            table = try DynamicTable.read(written, image)
            info = try DynamicInfo.read(written, image)
        } catch { throw ELFError(original.path, .resultDoesNotParse(error.reason, runPathEdit: true)) }
        guard info.rpath == runPath.split(separator: ":").map(String.init), info.runpath.isEmpty else {
            throw fail(.runPaths(rpath: info.rpath, runpath: info.runpath))
        }
        guard image.loads.contains(where: {
            $0.p_flags & ELF.PF_W != 0 && $0.p_vaddr <= table.phdr.p_vaddr
                && table.phdr.p_vaddr + table.phdr.p_memsz <= $0.p_vaddr + $0.p_filesz
        }) else { throw fail(.dynamicNotWritable) }
        func strings(_ t: DynamicTable, _ f: ELFFile) throws(ELFError) -> [[UInt8]] {
            var result: [[UInt8]] = []
            for e in t.entries where DynamicTable.stringTags.contains(e.d_tag) && e.d_tag != ELF.DT_RPATH && e.d_tag != ELF.DT_RUNPATH {
                result.append(try t.string(f, at: e.d_val))
            }
            return result
        }
        let old = try strings(before, original), new = try strings(table, written)
        guard old == new else { throw fail(.stringsChanged) }
        let kept = { (t: DynamicTable) in
            t.entries.filter { ![ELF.DT_RPATH, ELF.DT_RUNPATH, ELF.DT_STRTAB, ELF.DT_STRSZ, ELF.DT_NULL].contains($0.d_tag) }
        }
        guard kept(before) == kept(table) else { throw fail(.entriesChanged) }
    }
}
