// binfmt-reg seal and inspect where the system takes part: inspect naming the entry of a private
// binfmt_misc instance that would take a file, and a seal killed under strace at its rename.
import ELFEngine
import Foundation
import Testing
import TestSupport

@Test func inspectNamesTheEntryThatWouldTakeTheFile() throws {
    let bottle = try FixtureBottle("match")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let original = bottle.dir.file("original")
    try expectSuccess(run(["cp", program, original]))
    try expectSuccess(binfmtReg(["seal", program]))
    func escaped(_ bytes: [UInt8]) -> String { bytes.map { String(format: "\\x%02x", $0) }.joined() }
    let (magic, mask) = SealFormat.binfmtMagic(is64Bit: true, bigEndian: false, machine: ELF.EM_X86_64, noteType: .ordinary)
    let line = ":BOTTLE-inspect-test:M:0:\(escaped(magic)):\(escaped(mask)):/bin/true:PO"
    // The PT_INTERP dispatch's note type 3 is matched by no entry; type 1 by the BOTTLE one.
    let interp = bottle.bin + "/interp"
    try expectSuccess(run(["cp", program, interp]))
    try expectSuccess(binfmtReg(["seal", "--dispatch", "binfmt", program]))
    let result = try inPrivateBinfmt("""
        printf '%s\\n' '\(line)' > /proc/sys/fs/binfmt_misc/register
        '\(try BuiltTools.binfmtReg())' inspect '\(program)' '\(original)' '\(interp)'
        """)
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout.contains("\(program): sealed\n"))
    #expect(result.stdout.contains("  binfmt_misc: matched by BOTTLE-inspect-test\n"))
    #expect(result.stdout.contains("\(interp): sealed\n"))
    #expect(result.stdout.hasSuffix(": /usr/libexec/runbottle (runbottle)\n"
        + "  trampoline: in the slot's tail (the binfmt dispatch maps it from the file)\n"
        + "  binfmt_misc: no enabled entry matches\n"), "\(result)")
    #expect(result.stdout.contains("\(original): not sealed\n  ELF: x86-64 64-bit little-endian, ET_DYN\n  binfmt_misc: no enabled entry matches\n"))
}

@Test func aRunKilledBeforeTheRenameIsFinishedByTheNext() throws {
    let bottle = try FixtureBottle("killed")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let original = try bytes(program)
    let leftover = bottle.bin + "/" + AtomicReplacement.temporaryName(for: "hello")
    // Killed at the rename: the complete replacement is linked under its temporary name.
    let killed = try run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "inject=renameat,renameat2:signal=KILL",
                          try BuiltTools.binfmtReg(), "seal", program])
    #expect(killed.signaled || killed.status == 137, "\(killed)")
    #expect(try bytes(program) == original)
    #expect(FileManager.default.fileExists(atPath: leftover))

    // A walk passes the leftover over; sealing again replaces it and leaves nothing behind.
    let again = try binfmtReg(["seal", bottle.bin])
    #expect(again.status == 0, "\(again)")
    #expect(again.stdout == "seal: 1 sealed, 0 updated, 0 already sealed, 0 skipped, 0 failed" + interpDispatch)
    #expect(try SealedStateProbe.status(program) == .sealed)
    #expect(!FileManager.default.fileExists(atPath: leftover))
    #expect(AtomicReplacement.temporaryName(for: String(repeating: "n", count: 250)).utf8.count <= 255)
}
