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
    let plan = try SealPlan.make(originalImage, note: BottleNote(type: .ordinary, loader: "../lib/ld-linux-x86-64.so.2"))

    func verify(_ data: [UInt8]) throws -> String? {
        let path = bottle.dir.file("candidate")
        try Data(data).write(to: URL(fileURLWithPath: path))
        do {
            try SealVerifier.verify(try ELFFile(path: path), plan: plan, original: originalImage, originalFile: originalFile)
            return nil
        } catch {
            guard case .verificationFailed(let why) = error.reason else { return "\(error)" }
            return why
        }
    }
    #expect(try verify(sealed) == nil)

    var body = sealed
    body[0x1100] ^= 0xff  // in .text, far from anything sealing touches
    #expect(try verify(body)?.contains("copied contents differ") == true)
    var entry = sealed
    entry[24] ^= 1  // e_entry
    #expect(try verify(entry)?.contains("ELF header byte 24") == true)
    var slot = sealed
    slot[Int(plan.slotOffset) + 100] = 0x41  // after the interpreter's NUL
    #expect(try verify(slot)?.contains("PT_INTERP slot") == true)
    var oldTable = sealed
    oldTable[64 + 200] = 1  // the zeroed rest of the old table
    #expect(try verify(oldTable)?.contains("zeroed rest of the old table") == true)
    #expect(try verify(Array(sealed.dropLast())) != nil)
}
