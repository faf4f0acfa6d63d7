// runbottle's refusals: one line on stderr naming the file and the reason, 127 when the loader
// (or the program) is missing, 126 for an unusable file.
import Foundation
import Testing
import TestSupport

@Test func refusesAnUnsealedBinary() throws {
    let rig = try RunbottleRig("unsealed")
    defer { rig.dir.remove() }
    let b = try Bottles.build(name: "plain", source: Fixture.source("hello-bottle.c"),
                              in: rig.dir.file("plain"), seal: false)
    let r = try rig.direct([b.program])
    #expect(r.status == 126, "\(r)")
    #expect(r.stderr == "runbottle: \(b.program): not a sealed binary (no BOTTLE note after the ELF header)\n")
}

/// Named as PT_INTERP by a file that carries no BOTTLE note, runbottle refuses it in one line.
@Test func refusesAnUnsealedBinaryThatNamesItAsPTInterp() throws {
    let rig = try RunbottleRig("unsealed-interp")
    defer { rig.dir.remove() }
    let b = try Bottles.build(name: "plain", source: Fixture.source("hello-bottle.c"),
                              in: rig.dir.file("plain"), seal: false)
    let patched = try run(["patchelf", "--set-interpreter", rig.runbottle, b.program])
    try #require(patched.succeeded, "\(patched)")
    let r = try run([b.program])
    #expect(r.status == 126, "\(r)")
    #expect(r.stderr == "runbottle: \(b.program): started as PT_INTERP: not a sealed binary "
            + "(no BOTTLE note after the ELF header)\n", "\(r)")
}

/// runbottle(8) CAVEATS: with no descriptor free, runbottle cannot open the loader and says
/// so; natively the loader fails at the first library (Error 24).
@Test func saysWhenNoDescriptorIsFreeForTheLoader() throws {
    let rig = try RunbottleRig("nofile")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe", interp: true)
    let r = try run(["bash", "-c", "ulimit -n 3; exec \"$0\"", b.program])
    #expect(r.status == 126, "\(r)")
    #expect(r.stderr.contains(": cannot open the loader: no descriptor free under RLIMIT_NOFILE: "), "\(r)")
}

/// runbottle(8) CAVEATS: executed from a memfd, the program has no directory; runbottle takes
/// /, as glibc's $ORIGIN does, and says where it looked.
@Test func aProgramExecutedFromAMemfdLooksForItsLoaderFromTheRoot() throws {
    let rig = try RunbottleRig("memfd")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe", interp: true)
    try #require(!FileManager.default.fileExists(atPath: "/lib/ld-linux-x86-64.so.2"),
                 "the host must have no loader at /lib/ld-linux-x86-64.so.2 for this test")
    let r = try run(["python3", "-c", """
        import os, sys
        fd = os.memfd_create("probe", 0)
        os.write(fd, open(sys.argv[1], "rb").read())
        os.execve(fd, ["probe"], {})
        """, b.program])
    #expect(r.status == 127, "\(r)")
    #expect(r.stderr.hasSuffix(": loader not found: /../lib/ld-linux-x86-64.so.2\n"), "\(r)")
}

@Test func refusesAWrongArchitectureAndACorruptELF() throws {
    let rig = try RunbottleRig("corrupt")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe")
    try FileManager.default.copyItem(atPath: b.program, toPath: b.root + "/bin/arm")
    try ELFBytes.patch(b.root + "/bin/arm", at: 18, [183, 0])     // e_machine = EM_AARCH64
    var r = try rig.direct([b.root + "/bin/arm"])
    #expect(r.status == 126, "\(r)")
    #expect(r.stderr == "runbottle: \(b.root)/bin/arm: wrong architecture (e_machine is not x86-64)\n")
    // Cut before the program header table the seal appended at the end.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: b.program))
    try bytes.prefix(8192).write(to: URL(fileURLWithPath: b.root + "/bin/cut"))
    r = try rig.direct([b.root + "/bin/cut"])
    #expect(r.status == 126, "\(r)")
    #expect(r.stderr.hasPrefix("runbottle: \(b.root)/bin/cut: corrupt ELF"), "\(r)")
}

@Test func refusesALoaderThatIsADirectoryOrAFIFO() throws {
    let rig = try RunbottleRig("badloader")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe")
    try FileManager.default.removeItem(atPath: b.loader)
    try FileManager.default.createDirectory(atPath: b.loader, withIntermediateDirectories: false)
    var r = try rig.direct(["probe/bin/probe"])
    #expect(r.status == 126, "\(r)")
    #expect(r.stderr == "runbottle: probe/bin/probe: loader \(b.loader.replacingOccurrences(of: "/lib/", with: "/bin/../lib/")): not a regular file\n", "\(r)")
    try FileManager.default.removeItem(atPath: b.loader)
    #expect(mkfifo(b.loader, 0o644) == 0)
    r = try rig.direct(["probe/bin/probe"])
    #expect(r.status == 126, "\(r)")
    #expect(r.stderr.hasSuffix(": not a regular file\n"), "\(r)")
}
