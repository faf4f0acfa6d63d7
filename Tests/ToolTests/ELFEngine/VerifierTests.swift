// The verifier catches a sealed file that differs from the plan or from the original anywhere.
import ELFEngine
import Foundation
import Testing
import TestSupport

@Test func verifierRejectsAnyStrayChange() throws {
    let bottle = try FixtureBottle("verify")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let original = bottle.dir.file("original")
    try expectSuccess(run(["cp", program, original]))
    try sealNow(program)
    let sealed = try bytes(program)

    let originalFile = try ELFFile(path: original)
    let originalImage = try ELFImage.parse(originalFile)
    let plan = try SealPlan.make(originalImage, note: BottleNote(type: .interp, loader: "../lib/ld-linux-x86-64.so.2"))

    func verify(_ data: [UInt8]) throws -> ELFError.Reason? {
        let path = bottle.dir.file("candidate")
        try ELFBytes(data).write(to: path)
        do {
            try SealVerifier.verify(try ELFFile(path: path), plan: plan, original: originalImage, originalFile: originalFile)
            return nil
        } catch {
            return error.reason
        }
    }
    #expect(try verify(sealed) == nil)

    var body = sealed
    body[0x1100] ^= 0xff  // in .text, far from anything sealing touches
    #expect(try verify(body) == .verificationFailed(.contentsDiffer))
    var entry = sealed
    entry[24] ^= 1  // e_entry
    #expect(try verify(entry) == .verificationFailed(.headerByte(24)))
    var slot = sealed
    slot[Int(plan.slotOffset) + 100] = 0x41  // after the interpreter's NUL
    #expect(try verify(slot) == .verificationFailed(.slotPlacement(size: SealFormat.interpSlotSize, interpreter: "/usr/libexec/runbottle")))
    var otherName = sealed
    otherName[Int(plan.slotOffset) + 5] ^= 0x20  // "/usr/Libexec/runbottle"
    #expect(try verify(otherName) == .verificationFailed(.slotPlacement(size: SealFormat.interpSlotSize, interpreter: "/usr/libexec/runbottle")))
    var noteType = sealed
    noteType[64 + 8] = 1  // the note's type word, in the note the plan did not ask for
    #expect(try verify(noteType) == .verificationFailed(.oldTableSpace))
    var oldTable = sealed
    oldTable[64 + 200] = 1  // the zeroed rest of the old table
    #expect(try verify(oldTable) == .verificationFailed(.oldTableSpace))
    #expect(try verify(Array(sealed.dropLast())) != nil)
}

@Test func updateVerifierRejectsAnyByteBesidesTheTypeAndTheSlot() throws {
    let bottle = try FixtureBottle("verify-update")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    try sealNow(program, SealOptions(dispatch: .binfmt))
    let before = try bytes(program)
    let originalFile = try ELFFile(path: program)
    let originalImage = try ELFImage.parse(originalFile)
    let state = try SealedState.read(originalFile, originalImage)
    let update = try #require(try SealUpdate.make(originalImage, state: state, type: .interp, interpreter: "/opt/rb"))
    #expect(update.note.type == .interp && update.previousType == .ordinary && update.previousSlot == SealFormat.runbottlePath)
    // Two edits: the n_type word at e_ehsize + 8, little-endian here, and the whole slot.
    #expect(update.edits.map(\.offset) == [72, state.slotOffset ?? 0])
    #expect(update.edits.first?.bytes == [3, 0, 0, 0])
    #expect(update.edits.last?.bytes == SealFormat.slotBytes(naming: "/opt/rb", machine: originalImage.header.e_machine))
    // Asked for what the file is: nothing to do. Only the type: one edit.
    #expect(try SealUpdate.make(originalImage, state: state, type: .ordinary, interpreter: SealFormat.runbottlePath) == nil)
    #expect(try SealUpdate.make(originalImage, state: state, type: .interp, interpreter: SealFormat.runbottlePath)?
        .edits.map(\.offset) == [72])

    var updated = before
    for edit in update.edits { updated.replaceSubrange(Int(edit.offset)..<(Int(edit.offset) + edit.bytes.count), with: edit.bytes) }
    func verify(_ data: [UInt8]) throws -> ELFError.Reason? {
        let path = bottle.dir.file("candidate")
        try ELFBytes(data).write(to: path)
        do {
            try update.verify(try ELFFile(path: path), original: originalImage, originalFile: originalFile)
            return nil
        } catch {
            return error.reason
        }
    }
    #expect(try verify(updated) == nil)
    var body = updated
    body[0x1100] ^= 0xff
    #expect(try verify(body) == .verificationFailed(.byteOutsideTypeAndSlot))
    var loader = updated
    loader[64 + 28] ^= 1  // the note's loader path
    #expect(try verify(loader) == .verificationFailed(.notSealedAs(noteType: .interp)))
    var wrongType = updated
    wrongType[72] = 2
    #expect(try verify(wrongType) == .verificationFailed(.notSealedAs(noteType: .interp)))
    var slot = updated
    slot[Int(update.slotOffset) + 3] = 0x41
    #expect(try verify(slot) == .verificationFailed(.slotName("/opt/rb")))
    var record = updated
    record[Int(update.slotOffset) + SealFormat.interpSlotSize + 20] ^= 1
    #expect(try verify(record) != nil)
    #expect(try verify(Array(updated.dropLast())) != nil)
}
