// What seal refuses, and how: one reason naming the file, and the file left byte for byte as it was.
import ELFEngine
import Foundation
import Testing
import TestSupport

/// Expects sealing `path` to throw, with a reason `matches` accepts, and the file unchanged.
func expectRefused(
    _ path: String, _ options: SealOptions = SealOptions(), sourceLocation: SourceLocation = #_sourceLocation,
    _ matches: (ELFError.Reason) -> Bool
) throws {
    let before = try bytes(path)
    do {
        let change = try Sealer.seal(path, options)
        Issue.record("sealed anyway: \(change.outcome)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.path == path, sourceLocation: sourceLocation)
        #expect(matches(error.reason), "unexpected reason: \(error.reason)", sourceLocation: sourceLocation)
        #expect(!texts(in: error.reason).contains { $0.contains("\n") }, sourceLocation: sourceLocation)
    }
    #expect(try bytes(path) == before, "the file changed", sourceLocation: sourceLocation)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        .filter { $0.contains(".bottle-") }
    #expect(leftovers.isEmpty, "temporary files left: \(leftovers)", sourceLocation: sourceLocation)
}

@Test func staticExecutablesAndSharedLibrariesAreSkipped() throws {
    let bottle = try FixtureBottle("skip")
    defer { bottle.remove() }
    let staticProgram = try bottle.compile("static", ["-static"])
    try expectRefused(staticProgram) { if case .staticExecutable = $0 { return true }; return false }
    let staticPIE = try bottle.compile("staticpie", ["-static-pie"])
    try expectRefused(staticPIE) { $0 == .staticExecutable(.staticPIE) }
    let library = try bottle.compile("libx.so", ["-shared", "-fPIC"], source: "int x(void) { return 1; }\n")
    // No PT_INTERP: --shared-libraries would not seal it either, so no hint says it would.
    try expectRefused(library) { $0 == .sharedLibrary(hasInterpreter: false) }
    let skipped = try run([try BuiltTools.binfmtReg(), "seal", library])
    #expect(skipped.status == 0 && skipped.stderr == "binfmt-reg: \(library): skipped: a shared library\n", "\(skipped)")
    for path in [staticProgram, library] {
        #expect((try? Sealer.seal(path)).map { _ in false } ?? true)
    }
    let object = bottle.dir.file("x.o")
    try expectSuccess(run(["cc", "-c", "-o", object, "-x", "c", "/dev/null"]))
    try expectRefused(object) { if case .notExecutable = $0 { return true }; return false }
}

@Test func libcWithAPTINTERPIsALibraryUnlessAsked() throws {
    let bottle = try FixtureBottle("libc")
    defer { bottle.remove() }
    let libc = bottle.bin + "/libc.so.6"
    try expectSuccess(run(["cp", "-L", "/lib/x86_64-linux-gnu/libc.so.6", libc]))
    try expectRefused(libc) { $0 == .sharedLibrary(hasInterpreter: true) }
    let skipped = try run([try BuiltTools.binfmtReg(), "seal", libc])
    #expect(skipped.stderr == "binfmt-reg: \(libc): skipped: a shared library with a PT_INTERP (seal it with --shared-libraries)\n",
            "\(skipped)")
    // Run natively through the system's loader, which the slot names here.
    let change = try sealNow(libc, SealOptions(sharedLibraries: true, interpreter: "/lib64/ld-linux-x86-64.so.2"))
    guard case .sealed = change.outcome else { Issue.record("not sealed"); return }
    #expect(try expectSuccess(runWritten([libc])).stdout.contains("GNU C Library"))
}

@Test func corruptInputsAreRefusedWithTheirReason() throws {
    let bottle = try FixtureBottle("corrupt")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let good = try bytes(program)
    func variant(_ name: String, _ data: [UInt8]) throws -> String {
        let path = bottle.bin + "/" + name
        try ELFBytes(data).write(to: path)
        chmod(path, 0o755)
        return path
    }
    func isTruncated(_ r: ELFError.Reason) -> Bool { if case .truncated = r { return true }; return false }
    func isCorrupt(_ r: ELFError.Reason) -> Bool { if case .corrupt = r { return true }; return false }

    try expectRefused(try variant("empty", [])) { $0 == .notELF }
    try expectRefused(try variant("text", Array("#!/bin/sh\necho hi\n".utf8))) { $0 == .notELF }
    for length in [3, 10, 40, 63] {
        try expectRefused(try variant("short\(length)", Array(good.prefix(length)))) {
            length < 4 ? $0 == .notELF : isTruncated($0)
        }
    }
    // Cut inside the program header table, and inside the segments.
    for length in [64 + 100, 2000, good.count / 2, good.count - 1] {
        try expectRefused(try variant("cut\(length)", Array(good.prefix(length)))) { isTruncated($0) }
    }
    var badPhoff = good
    badPhoff[32..<40] = [0, 0, 0, 0, 0, 0, 0, 0x10][...]
    try expectRefused(try variant("badphoff", badPhoff)) { isTruncated($0) }
    var farPhoff = good
    farPhoff[32..<40] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][...]
    try expectRefused(try variant("farphoff", farPhoff)) { isTruncated($0) }
    var hugePhnum = good
    hugePhnum[56] = 0xf0
    hugePhnum[57] = 0xff
    try expectRefused(try variant("hugephnum", hugePhnum)) { isCorrupt($0) }
    var badClass = good
    badClass[4] = 7
    try expectRefused(try variant("badclass", badClass)) { isCorrupt($0) }
    var badEntsize = good
    badEntsize[54] = 40
    try expectRefused(try variant("badentsize", badEntsize)) { isCorrupt($0) }
    var otherMachine = good
    otherMachine[18] = 243  // EM_RISCV: no runbottle is built for it
    try expectRefused(try variant("riscv", otherMachine)) { if case .noPort = $0 { return true }; return false }
    var bigEndian = good
    bigEndian[5] = 2
    try expectRefused(try variant("bigendian", bigEndian)) { _ in true }
    // The table not right after the header: moved by one entry's worth, the first entry kept.
    var movedTable = good
    movedTable[32] = 64 + 56
    try expectRefused(try variant("moved", movedTable)) { if case .unsupportedLayout = $0 { return true }; return isCorrupt($0) }
}

@Test func aLoaderPathTooLongForTheOldTableIsRefused() throws {
    let bottle = try FixtureBottle("long")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    // 13 program headers leave 728 bytes: a loader path of 800 bytes cannot fit.
    let deep = "../lib/" + String(repeating: "d/", count: 400)
    let dir = bottle.bin + "/" + deep
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try expectSuccess(run(["cp", "-L", "/lib64/ld-linux-x86-64.so.2", dir]))
    try expectRefused(program, SealOptions(loader: deep + "ld-linux-x86-64.so.2")) {
        if case .noteDoesNotFit = $0 { return true }; return false
    }
}

@Test func loaderIsFoundInRunPathsThenLibThenLibSubdirectories() throws {
    let bottle = try FixtureBottle("loader")
    defer { bottle.remove() }
    let loaderName = "ld-linux-x86-64.so.2"
    // $ORIGIN run path first.
    let lib64 = bottle.dir.file("lib64")
    try FileManager.default.createDirectory(atPath: lib64, withIntermediateDirectories: true)
    try expectSuccess(run(["cp", "-L", "/lib64/" + loaderName, lib64]))
    let withRunpath = try bottle.compile("rp", Build.pie64.flags + ["-Wl,-rpath,$ORIGIN/../lib64"])
    guard case .sealed(let a, _) = try sealNow(withRunpath).outcome else { Issue.record("not sealed"); return }
    #expect(a.loader == "../lib64/" + loaderName)

    // ../lib/*/ when ../lib has none.
    try FileManager.default.removeItem(atPath: bottle.lib + "/" + loaderName)
    let multiarch = bottle.lib + "/x86_64-linux-gnu"
    try FileManager.default.createDirectory(atPath: multiarch, withIntermediateDirectories: true)
    try expectSuccess(run(["cp", "-L", "/lib64/" + loaderName, multiarch]))
    let plain = try bottle.compile("plain", Build.pie64.flags)
    guard case .sealed(let b, _) = try sealNow(plain).outcome else { Issue.record("not sealed"); return }
    #expect(b.loader == "../lib/x86_64-linux-gnu/" + loaderName)

    // --loader overrides; an absolute or missing one is refused.
    let chosen = try bottle.compile("chosen", Build.pie64.flags)
    try expectRefused(chosen, SealOptions(loader: "/lib64/" + loaderName)) { if case .badLoaderPath = $0 { return true }; return false }
    try expectRefused(chosen, SealOptions(loader: "../nowhere/ld.so")) {
        if case .unusableLoader("../nowhere/ld.so", _, .notAFile) = $0 { return true }; return false
    }
    // binfmt-reg words both refusals.
    let absolute = try run([try BuiltTools.binfmtReg(), "seal", "--loader", "/lib64/" + loaderName, chosen])
    #expect(absolute.status == 1 && absolute.stderr == "binfmt-reg: \(chosen): bad loader path: /lib64/\(loaderName) is absolute; it must be relative to the binary's directory\n", "\(absolute)")
    let missing = try run([try BuiltTools.binfmtReg(), "seal", "--loader", "../nowhere/ld.so", chosen])
    #expect(missing.status == 1 && missing.stderr.hasPrefix("binfmt-reg: \(chosen): bad loader path: ../nowhere/ld.so (/")
            && missing.stderr.hasSuffix("/nowhere/ld.so) is not a file\n"), "\(missing)")
    guard case .sealed(let c, _) = try sealNow(chosen, SealOptions(loader: "../lib64/" + loaderName)).outcome else {
        Issue.record("not sealed"); return
    }
    #expect(c.loader == "../lib64/" + loaderName)

    // None anywhere: a clear error, the file untouched.
    try FileManager.default.removeItem(atPath: multiarch + "/" + loaderName)
    let lost = try bottle.compile("lost", Build.pie64.flags)
    try expectRefused(lost) { reason in
        guard case .loaderNotFound(let name, let searched) = reason else { return false }
        return name == loaderName && searched.contains("$ORIGIN/../lib") && searched.contains("$ORIGIN/../lib/x86_64-linux-gnu")
    }
}

@Test func anInterpreterTheSlotCannotNameIsRefused() throws {
    let bottle = try FixtureBottle("interpreter")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let refusals: [(String, ELFError.InterpreterPathFault)] = [
        ("usr/libexec/runbottle", .relative("usr/libexec/runbottle")), ("./runbottle", .relative("./runbottle")),
        ("", .empty), ("/" + String(repeating: "r", count: 4095), .tooLong(bytes: 4096, maximum: 4095)),
        ("/usr/\u{0}x", .containsNUL),
    ]
    for (bad, fault) in refusals {
        try expectRefused(program, SealOptions(interpreter: bad)) { $0 == .badInterpreter(fault) }
    }
    // Also for a sealed file, which would otherwise be updated.
    try sealNow(program)
    try expectRefused(program, SealOptions(dispatch: .binfmt, interpreter: "runbottle")) {
        $0 == .badInterpreter(.relative("runbottle"))
    }
    // The longest the slot holds, 4095 bytes and its NUL, is taken.
    let longest = "/" + String(repeating: "r", count: 4094)
    let change = try sealNow(program, SealOptions(interpreter: longest))
    guard case .updated(_, let slot, _, _) = change.outcome else { Issue.record("not updated: \(change.outcome)"); return }
    #expect(slot == longest)
    let file = try ELFFile(path: program)
    #expect(try ELFImage.parse(file).interpBytes == Array(longest.utf8) + [0])
}
