// Bringing a sealed file's dispatch up to date in place: the note's type word and the PT_INTERP
// slot are the only bytes that differ between the revisions of format 1 (bottle(5), Versioning).

/// The rewrite of a sealed file whose note type or PT_INTERP slot differ from what is asked,
/// computed without I/O. Applying it means: copy the file, overwrite `edits`. The size, the
/// program headers and the seal record stay as they are, so unseal is unaffected.
public struct SealUpdate: Sendable, Equatable {
    /// The note as it will be: the same loader and version, the asked type.
    public var note: BottleNote
    public var previousType: SealFormat.NoteType
    /// The program interpreter the slot will name, and what it names now.
    public var interpreter: String
    public var previousSlot: String
    public var slotOffset: UInt64
    /// File offset of the note's n_type word: e_ehsize + 8.
    public var typeOffset: UInt64
    /// Only the parts that change, in file order.
    public var edits: [SealPlan.Edit]

    /// Plans the update of `image`, whose seal `state` read as intact, to note type `type` and a
    /// slot naming `interpreter`. Returns nil when the file already is as asked.
    public static func make(
        _ image: ELFImage, state: SealedState, type: SealFormat.NoteType, interpreter: String
    ) throws(ELFError) -> SealUpdate? {
        let path = image.path
        if let problem = SealFormat.interpreterProblem(interpreter) { throw ELFError(path, .badInterpreter(problem)) }
        guard state.status == .sealed, let current = state.note, let slotOffset = state.slotOffset,
              let slot = image.interpBytes, slot.count == SealFormat.interpSlotSize
        else { throw ELFError(path, .notSealed) }
        let typeOffset = UInt64(image.header.e_ehsize) + 8
        // The slot lies in the appended segment, far past the note: the two edits never overlap.
        guard let typeEnd = checkedAdd(typeOffset, 4), typeEnd <= slotOffset else {
            throw ELFError(path, .damagedSeal(.slotOverlapsNote))
        }
        let wanted = SealFormat.slotBytes(naming: interpreter, machine: image.header.e_machine)
        var edits: [SealPlan.Edit] = []
        if current.type != type {
            var word = FieldEncoder(image.format.byteOrder)
            word.u32(type.rawValue)
            edits.append(SealPlan.Edit(offset: typeOffset, bytes: word.bytes))
        }
        if slot != wanted { edits.append(SealPlan.Edit(offset: slotOffset, bytes: wanted)) }
        if edits.isEmpty { return nil }
        var note = current
        note.type = type
        return SealUpdate(
            note: note, previousType: current.type, interpreter: interpreter,
            previousSlot: image.interpreter ?? "", slotOffset: slotOffset, typeOffset: typeOffset, edits: edits)
    }

    /// Checks the updated file `written` against `original` (parsed from `originalFile`): the
    /// same size, header, program headers and seal record, the asked note and slot, and every
    /// other byte unchanged. Throws `.verificationFailed` naming the first difference.
    public func verify(_ written: ELFFile, original: ELFImage, originalFile: ELFFile) throws(ELFError) {
        func fail(_ what: ELFError.Verification) -> ELFError { ELFError(original.path, .verificationFailed(what)) }
        guard written.size == originalFile.size else { throw fail(.sizeChanged(written.size, was: originalFile.size)) }
        let image: ELFImage
        do { image = try ELFImage.parse(written) } catch { throw ELFError(original.path, .resultDoesNotParse(error.reason, runPathEdit: false)) }
        guard image.headerBytes == original.headerBytes, image.tableBytes == original.tableBytes else {
            throw fail(.headersChanged)
        }
        guard image.interpBytes == SealFormat.slotBytes(naming: interpreter, machine: image.header.e_machine) else {
            throw fail(.slotName(interpreter))
        }
        let state = try SealedState.read(written, image)
        guard state.status == .sealed, state.note == note, state.slotOffset == slotOffset else {
            throw fail(.notSealedAs(noteType: note.type))
        }
        let originalState = try SealedState.read(originalFile, original)
        guard try state.record(written, image) == originalState.record(originalFile, original) else {
            throw fail(.recordUnreadable)
        }
        let slotEnd = slotOffset + UInt64(SealFormat.interpSlotSize)
        guard try written.sameBytes(as: originalFile, from: 0, to: typeOffset),
              try written.sameBytes(as: originalFile, from: typeOffset + 4, to: slotOffset),
              try written.sameBytes(as: originalFile, from: slotEnd, to: originalFile.size)
        else { throw fail(.byteOutsideTypeAndSlot) }
    }
}
