// The two dispatches: what seal writes for each, files of format 1's first revision brought up to
// date in place, --interpreter's checks, and a moved bottle run by the kernel through runbottle
// as PT_INTERP with no binfmt_misc entry at all.
import ELFEngine
import Foundation
import Testing
import TestSupport

/// The PT_INTERP slot's file offset, as readelf shows it (not through the engine).
private func slotOffset(_ path: String) throws -> Int {
    let interp = try readelfSegments(path).first { $0[0] == "INTERP" }
    return try #require(interp.flatMap { Int($0[1].dropFirst(2), radix: 16) })
}

/// Makes `path` (sealed for the binfmt dispatch) what format 1's first revision wrote: the slot
/// holding the original interpreter string, NUL-padded.
private func writeFirstRevisionSlot(_ path: String, interpreter: String) throws {
    let slot = Array(interpreter.utf8) + [UInt8](repeating: 0, count: 4096 - interpreter.utf8.count)
    var st = stat()
    try #require(stat(path, &st) == 0)
    try ELFBytes.patch(path, at: try slotOffset(path), slot)
    // Writing clears setuid for a caller without CAP_FSETID.
    chmod(path, st.st_mode & 0o7777)
}

@Test func sealGivesEachDispatchItsNoteTypeAndTheSlotRunbottle() throws {
    let bottle = try FixtureBottle("dispatch")
    defer { bottle.remove() }
    let plain = try bottle.compile("plain", Build.pie64.flags)
    let setuid = try bottle.compile("setuid", Build.pie64.flags)
    chmod(setuid, 0o4755)
    let interp = try bottle.compile("interp", Build.pie64.flags)
    chmod(interp, 0o4755)
    for (path, dispatch, type) in [(plain, SealFormat.Dispatch.binfmt, SealFormat.NoteType.ordinary),
                                   (setuid, .binfmt, .privileged), (interp, .interp, .interp)] {
        let change = try sealNow(path, SealOptions(dispatch: dispatch))
        guard case .sealed(let note, _) = change.outcome else { Issue.record("\(path): \(change.outcome)"); continue }
        #expect(note.type == type, "\(path)")
        let file = try ELFFile(path: path)
        let state = try SealedState.read(file, try ELFImage.parse(file))
        #expect(state.note?.type == type && state.slotContents == SealFormat.runbottlePath, "\(path)")
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o7777 == (path == plain ? 0o755 : 0o4755), "\(path)")
    }
}

@Test(arguments: [false, true])
func aFirstRevisionFileIsUpdatedInPlace(setuid: Bool) throws {
    let bottle = try FixtureBottle("revision")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    if setuid { chmod(program, 0o4755) }
    let original = try bytes(program)
    try sealNow(program, SealOptions(dispatch: .binfmt))
    try writeFirstRevisionSlot(program, interpreter: "/lib64/ld-linux-x86-64.so.2")
    let old = try bytes(program)
    let oldType: UInt8 = setuid ? 2 : 1
    #expect(old[72] == oldType)

    // Read as what it is: sealed, type 1 or 2, the slot naming the original interpreter.
    let inspected = try binfmtReg(["inspect", "--json", program])
    let report = try #require(try inspectReports(inspected.stdout).first)
    #expect(report.status == "sealed" && report.dispatch == "binfmt", "\(inspected)")
    #expect(report.slot == "/lib64/ld-linux-x86-64.so.2" && report.slotNames == "original",
            "\(inspected)")
    #expect(report.slotTrampoline == false, "\(inspected)")
    #expect(try binfmtReg(["inspect", program]).stdout.contains(
        "/lib64/ld-linux-x86-64.so.2 (the original interpreter, as sealed by an earlier revision: seal brings it up to date)\n"
        + "  trampoline: none in the slot's tail (the binfmt dispatch copies runbottle's into a memfd, about 20 µs per exec: seal adds it)\n"))

    // --dispatch binfmt keeps the type and brings the slot up to date; the default goes on to 3.
    let binfmtCopy = bottle.bin + "/binfmt-copy"
    try expectSuccess(run(["cp", "-p", program, binfmtCopy]))
    let slotOnly = try binfmtReg(["seal", "-v", "--dispatch", "binfmt", binfmtCopy])
    #expect(slotOnly.stdout == """
        updated \(binfmtCopy): PT_INTERP slot /lib64/ld-linux-x86-64.so.2 -> /usr/libexec/runbottle
        seal: 0 sealed, 1 updated, 0 already sealed, 0 skipped, 0 failed \
        (binfmt_misc dispatch; PT_INTERP /usr/libexec/runbottle where no entry is registered)

        """, "\(slotOnly)")
    #expect(try bytes(binfmtCopy)[72] == oldType)

    let updated = try binfmtReg(["seal", "-v", program])
    #expect(updated.status == 0, "\(updated)")
    #expect(updated.stdout == """
        updated \(program): note type \(oldType) -> 3, PT_INTERP slot /lib64/ld-linux-x86-64.so.2 -> /usr/libexec/runbottle
        seal: 0 sealed, 1 updated, 0 already sealed, 0 skipped, 0 failed (PT_INTERP dispatch through /usr/libexec/runbottle)

        """, "\(updated)")
    let new = try bytes(program)
    #expect(new.count == old.count)
    // Only the note's type word and the slot changed.
    let slot = try slotOffset(program)
    let changed = (0..<new.count).filter { new[$0] != old[$0] }
    #expect(changed.allSatisfy { (72..<76).contains($0) || (slot..<(slot + 4096)).contains($0) }, "\(changed.prefix(20))")
    #expect(Array(new[72..<76]) == [3, 0, 0, 0])
    #expect(Array(new[slot..<(slot + 4096)]) == SealFormat.slotBytes(naming: "/usr/libexec/runbottle", machine: ELF.EM_X86_64))
    let file = try ELFFile(path: program)
    let state = try SealedState.read(file, try ELFImage.parse(file))
    #expect(state.status == .sealed && state.note?.type == .interp && state.slotContents == "/usr/libexec/runbottle")
    var st = stat()
    #expect(stat(program, &st) == 0 && st.st_mode & 0o7777 == (setuid ? 0o4755 : 0o755))

    let again = try binfmtReg(["seal", program])
    #expect(again.stdout == "\(program): already sealed, unchanged\n"
        + "seal: 0 sealed, 0 updated, 1 already sealed, 0 skipped, 0 failed (PT_INTERP dispatch through /usr/libexec/runbottle)\n",
        "\(again)")
    #expect(try bytes(program) == new)

    // unseal restores the original from files of either revision.
    for path in [program, binfmtCopy] {
        try expectSuccess(binfmtReg(["unseal", path]))
        #expect(try bytes(path) == original, "\(path)")
    }
}

@Test func aHardLinkedSealedFileIsUpdatedOnlyWhenAllowed() throws {
    let bottle = try FixtureBottle("update-links")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    try sealNow(program, SealOptions(dispatch: .binfmt))
    let other = bottle.bin + "/hello-link"
    try FileManager.default.linkItem(atPath: program, toPath: other)
    let before = try bytes(program)
    let refused = try binfmtReg(["seal", program])
    #expect(refused.status == 1 && refused.stderr.contains("binfmt-reg: \(program): has 2 hard links"), "\(refused)")
    #expect(try bytes(program) == before)
    // Already as asked: nothing to replace, so the links are no obstacle.
    let asked = try binfmtReg(["seal", "--dispatch", "binfmt", program])
    #expect(asked.status == 0 && asked.stdout.contains("1 already sealed"), "\(asked)")
    let allowed = try binfmtReg(["seal", "--allow-hard-links", program])
    #expect(allowed.status == 0 && allowed.stdout.contains("1 updated"), "\(allowed)")
    #expect(try bytes(program)[72] == 3)
    #expect(try bytes(other) == before)
}

@Test func anInterpreterTheSlotCannotNameIsAUsageError() throws {
    let bottle = try FixtureBottle("relative")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let before = try bytes(program)
    for arguments in [["seal", "--interpreter", "usr/libexec/runbottle", program],
                      ["bottle", "--interpreter", "usr/libexec/runbottle", program, "-o", bottle.dir.file("b")]] {
        let result = try binfmtReg(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.hasPrefix(
            "binfmt-reg: --interpreter: usr/libexec/runbottle is relative; the kernel needs an absolute path\n"), "\(result)")
        #expect(result.stdout.isEmpty)
    }
    let empty = try binfmtReg(["seal", "--interpreter", "", program])
    #expect(empty.status == 64 && empty.stderr.hasPrefix("binfmt-reg: --interpreter: empty\n"), "\(empty)")
    let unknown = try binfmtReg(["seal", "--dispatch", "kernel", program])
    #expect(unknown.status == 64, "\(unknown)")
    #expect(try bytes(program) == before)
    #expect(!FileManager.default.fileExists(atPath: bottle.dir.file("b")))
}
