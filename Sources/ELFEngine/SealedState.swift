// Whether a file is sealed, what its note and PT_INTERP slot say, and whether the seal is intact.

/// The seal as found in a file.
public struct SealedState: Sendable {
    public enum Status: Sendable, Equatable {
        case unsealed
        case sealed
        /// The sealed layout is there but its note or slot was destroyed (strip, objcopy).
        case damaged(ELFError.SealDamage)
    }

    public var status: Status
    public var note: BottleNote?
    /// The PT_INTERP slot (file offset), when the program headers have the sealed shape.
    public var slotOffset: UInt64?
    /// The slot's string: runbottle's path as sealed, the absolute loader relocate wrote, or in
    /// files of format 1's first revision the original interpreter.
    public var slotContents: String?

    /// Reads the seal of `image` (parsed from `file`).
    public static func read(_ file: ELFFile, _ image: ELFImage) throws(ELFError) -> SealedState {
        let ehsize = UInt64(image.header.e_ehsize)
        let available = file.size > ehsize ? file.size - ehsize : 0
        let noteBytes = try file.read(at: ehsize, count: Int(min(available, UInt64(BottleNote.maxSize))), .bottleNote)
        let decoded = BottleNote.decode(noteBytes, image.format.byteOrder)
        let headers = image.programHeaders
        let layout = hasSealedShape(image)
        var state = SealedState(status: .unsealed)
        if layout {
            state.slotOffset = headers[1].p_offset
            state.slotContents = image.interpreter
        }
        switch (decoded, layout) {
        case (.note(let note, _), true):
            state.note = note
            if headers[1].p_filesz != UInt64(SealFormat.interpSlotSize) {
                state.status = .damaged(.slotSize(headers[1].p_filesz, expected: SealFormat.interpSlotSize))
            } else if image.interpreter?.isEmpty != false {
                state.status = .damaged(.emptySlot)
            } else {
                state.status = .sealed
            }
        case (.note(let note, _), false):
            state.note = note
            state.status = .damaged(.noteWithoutLayout)
        case (.absent, true):
            state.status = .damaged(.noteGone(offset: ehsize))
        case (.malformed(let why), true):
            state.status = .damaged(why)
        case (.malformed(let why), false):
            state.status = .damaged(why)
        case (.absent, false):
            break
        }
        return state
    }

    /// True when the program headers have the sealed shape: the table moved, PT_PHDR first,
    /// PT_INTERP second, and last a PT_NOTE at e_ehsize in the file or in memory (strip keeps the
    /// address but zeroes the offset).
    public static func hasSealedShape(_ image: ELFImage) -> Bool {
        let ehsize = UInt64(image.header.e_ehsize), headers = image.programHeaders
        guard image.header.e_phoff != ehsize, headers.count >= 3, headers[0].p_type == ELF.PT_PHDR,
              headers[1].p_type == ELF.PT_INTERP, let last = headers.last, last.p_type == ELF.PT_NOTE
        else { return false }
        let firstLoad = headers.first { $0.p_type == ELF.PT_LOAD }
        return last.p_offset == ehsize || last.p_vaddr == (firstLoad?.p_vaddr ?? 0) &+ ehsize
    }

    /// The original PT_INTERP string, read where sealing left it in the body (the record's copy
    /// of the original table says where); nil when the record or the string cannot be read.
    public func originalInterpreter(_ file: ELFFile, _ image: ELFImage) -> String? {
        guard let record = try? record(file, image) else { return nil }
        let entrySize = image.format.elfClass.programHeaderSize
        let tableEnd = record.originalPhoff &+ UInt64(record.originalTable.count)
        for i in 0..<(record.originalTable.count / entrySize) {
            let p = image.format.decodeProgramHeader(record.originalTable, at: i * entrySize)
            guard p.p_type == ELF.PT_INTERP else { continue }
            // Not in the old table's bytes, which the note and zeros now fill.
            guard p.p_filesz > 0, p.p_filesz <= UInt64(SealFormat.interpSlotSize),
                  let end = checkedAdd(p.p_offset, p.p_filesz), end <= record.originalSize,
                  end <= record.originalPhoff || p.p_offset >= tableEnd,
                  let bytes = try? file.read(at: p.p_offset, count: Int(p.p_filesz), .originalInterpreter)
            else { return nil }
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return nil
    }

    /// Reads and checks the seal record after the slot; the reason it is unusable otherwise.
    public func record(_ file: ELFFile, _ image: ELFImage) throws(ELFError) -> SealRecord {
        guard status == .sealed, let slotOffset, let start = checkedAdd(slotOffset, UInt64(SealFormat.interpSlotSize)) else {
            throw ELFError(file.path, .notSealed)
        }
        let head = try file.read(at: start, count: 16, .sealRecord)
        guard let size = SealRecord.declaredSize(head, image.format.byteOrder), size >= 16, size <= 16384 else {
            throw ELFError(file.path, .damagedSeal(.noRecord))
        }
        let bytes = try file.read(at: start, count: size, .sealRecord)
        switch SealRecord.decode(bytes, image.format) {
        case .success(let record): return record
        case .failure(let damage): throw ELFError(file.path, .damagedSeal(damage))
        }
    }
}
