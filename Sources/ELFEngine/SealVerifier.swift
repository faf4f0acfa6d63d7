// Re-reads a sealed file before it replaces the original and checks every invariant of bottle(5).

public enum SealVerifier {
    /// Checks the file `written` against `original` and the plan it was written from. Throws
    /// `.verificationFailed` naming the first broken invariant.
    public static func verify(_ written: ELFFile, plan: SealPlan, original: ELFImage, originalFile: ELFFile) throws(ELFError) {
        func fail(_ what: ELFError.Verification) -> ELFError { ELFError(original.path, .verificationFailed(what)) }
        guard written.size == plan.newFileSize else { throw fail(.size(written.size, planned: plan.newFileSize)) }
        let image: ELFImage
        do { image = try ELFImage.parse(written) } catch { throw ELFError(original.path, .resultDoesNotParse(error.reason, runPathEdit: false)) }
        let ehsize = Int(original.header.e_ehsize)

        // Header: only e_phoff and e_phnum differ.
        let changed = ELFHeader.sealedFieldRanges(original.format.elfClass)
        for i in 0..<ehsize where image.headerBytes[i] != original.headerBytes[i] && !changed.contains(where: { $0.contains(i) }) {
            throw fail(.headerByte(i))
        }
        let headers = image.programHeaders
        let entrySize = UInt64(original.format.elfClass.programHeaderSize)

        // PT_PHDR first, covering the table, inside a PT_LOAD at the matching address.
        guard headers.count == plan.newProgramHeaders.count, headers.count >= 4 else { throw fail(.programHeaderCount) }
        let phdr = headers[0]
        guard phdr.p_type == ELF.PT_PHDR, phdr.p_offset == image.header.e_phoff,
              phdr.p_filesz == UInt64(headers.count) * entrySize, phdr.p_memsz == phdr.p_filesz,
              covered(phdr, in: image.loads)
        else { throw fail(.phdrPlacement) }

        // PT_INTERP second: the full slot, the planned interpreter, NUL-padded, NUL last.
        let interp = headers[1]
        guard interp.p_type == ELF.PT_INTERP, interp.p_filesz == UInt64(SealFormat.interpSlotSize),
              interp.p_memsz == interp.p_filesz, covered(interp, in: image.loads),
              let slot = image.interpBytes, slot == SealFormat.slotBytes(naming: plan.interpreter, machine: image.header.e_machine), slot.last == 0
        else {
            throw fail(.slotPlacement(size: SealFormat.interpSlotSize, interpreter: plan.interpreter))
        }

        // PT_LOADs sorted and disjoint; the new one last, congruent, above the rest with a gap.
        let align = SealPlan.segmentAlignment(for: original.header.e_machine)
        let loads = image.loads
        for (a, b) in zip(loads, loads.dropFirst()) {
            guard let end = a.memoryEnd, end <= b.p_vaddr else { throw fail(.loadsOverlap) }
        }
        guard let first = loads.first, let segment = loads.last, loads.count == original.loads.count + 1,
              segment.p_offset % align == 0, segment.p_flags == ELF.PF_R,
              segment.p_vaddr &- segment.p_offset == first.p_vaddr &- first.p_offset,
              segment.fileEnd == written.size, segment.p_filesz == segment.p_memsz,
              segment.p_offset >= original.fileSize
        else { throw fail(.appendedLoadPlacement) }
        let below = loads[loads.count - 2]
        guard let belowEnd = below.memoryEnd.flatMap({ alignUp($0, align) }),
              segment.p_vaddr >= belowEnd + align
        else { throw fail(.noAddressGap) }

        // PT_NOTE last, at e_ehsize, inside the first PT_LOAD, holding the planned note.
        let notePhdr = headers[headers.count - 1]
        let noteBytes = plan.note.encoded(original.format.byteOrder)
        guard notePhdr.p_type == ELF.PT_NOTE, notePhdr.p_offset == UInt64(ehsize),
              notePhdr.p_filesz == UInt64(noteBytes.count), notePhdr.p_vaddr == first.p_vaddr + UInt64(ehsize),
              covered(notePhdr, in: [first])
        else { throw fail(.notePlacement) }
        let oldTable = try written.read(at: UInt64(ehsize), count: original.tableBytes.count, .oldTableSpace)
        guard Array(oldTable.prefix(noteBytes.count)) == noteBytes, oldTable.dropFirst(noteBytes.count).allSatisfy({ $0 == 0 }) else {
            throw fail(.oldTableSpace)
        }

        // The original entries, in their order and unchanged, besides PT_PHDR and PT_INTERP.
        let kept = headers.dropFirst(2).dropLast().filter { $0 != segment }
        let originals = original.programHeaders.filter { $0.p_type != ELF.PT_PHDR && $0.p_type != ELF.PT_INTERP }
        guard Array(kept) == originals else { throw fail(.originalHeaderMoved) }

        // What inspect and unseal will read back.
        let state = try SealedState.read(written, image)
        guard state.status == .sealed, state.note == plan.note else { throw fail(.notSealed) }
        guard try state.record(written, image) == plan.record else { throw fail(.recordUnreadable) }

        // Every other byte of the original, unchanged.
        let bodyStart = UInt64(ehsize + original.tableBytes.count)
        guard try written.sameBytes(as: originalFile, from: bodyStart, to: original.fileSize) else {
            throw fail(.contentsDiffer)
        }
    }

    private static func covered(_ p: ProgramHeader, in loads: [ProgramHeader]) -> Bool {
        loads.contains { load in
            guard let pEnd = p.fileEnd, let loadEnd = load.fileEnd else { return false }
            return p.p_offset >= load.p_offset && pEnd <= loadEnd
                && p.p_vaddr == load.p_vaddr &+ (p.p_offset - load.p_offset)
        }
    }
}
