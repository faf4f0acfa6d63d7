// binfmt-reg seal, unseal and inspect as a user runs them: trees, notices, the summary line,
// exit codes, dry runs, hard links, kept metadata, the progress line, matching entries.
import ELFEngine
import Foundation
import Testing
import TestSupport

private func tool(_ arguments: [String]) throws -> CommandResult {
    try run([try BuiltTools.binfmtReg()] + arguments)
}

/// What ends seal's summary line by default.
let interpDispatch = " (PT_INTERP dispatch through /usr/libexec/runbottle)\n"

/// A bottle with one dynamic program, a static one, a script, a library and a symlink.
private func mixedBottle() throws -> (FixtureBottle, program: String) {
    let bottle = try FixtureBottle("cli")
    let program = try bottle.compile("hello", Build.pie64.flags)
    try bottle.compile("static", ["-static"])
    try "#!/bin/sh\necho hi\n".write(toFile: bottle.bin + "/script.sh", atomically: true, encoding: .utf8)
    try bottle.compile("libx.so", ["-shared", "-fPIC"], source: "int x(void) { return 1; }\n")
    try FileManager.default.createSymbolicLink(atPath: bottle.bin + "/link", withDestinationPath: "hello")
    return (bottle, program)
}

@Test func sealingATreeSkipsWithNoticesAndSummarises() throws {
    let (bottle, program) = try mixedBottle()
    defer { bottle.remove() }
    let first = try tool(["seal", bottle.dir.path])
    #expect(first.status == 0, "\(first)")
    // hello sealed; the three C sources, the script, static, libx.so and the two loaders in lib/
    // skipped; the symlink not visited.
    #expect(first.stdout == "seal: 1 sealed, 0 updated, 0 already sealed, 8 skipped, 0 failed" + interpDispatch)
    #expect(first.stderr.contains("binfmt-reg: \(bottle.bin)/script.sh: skipped: not an ELF file\n"))
    #expect(first.stderr.contains("binfmt-reg: \(bottle.bin)/static: skipped: statically linked (no PT_INTERP)\n"))
    #expect(first.stderr.contains("binfmt-reg: \(bottle.bin)/libx.so: skipped: a shared library"))
    #expect(!first.stderr.contains("/link"))
    #expect(try SealedStateProbe.status(program) == .sealed)

    let second = try tool(["seal", bottle.dir.path])
    #expect(second.status == 0)
    #expect(second.stdout == "seal: 0 sealed, 0 updated, 1 already sealed, 8 skipped, 0 failed" + interpDispatch)

    // Named on the command line: through the symlink, the target is what is sealed (already).
    let named = try tool(["seal", bottle.bin + "/link"])
    #expect(named.stdout.contains("\(bottle.bin)/link: already sealed, unchanged"))
    #expect(FileManager.default.fileExists(atPath: bottle.bin + "/link"))
    #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: bottle.bin + "/link")) == "hello")
}

@Test func aNamedFileThatIsNotELFFailsWithOneLine() throws {
    let bottle = try FixtureBottle("notelf")
    defer { bottle.remove() }
    let text = bottle.dir.file("notes.txt")
    try "plain text\n".write(toFile: text, atomically: true, encoding: .utf8)
    let result = try tool(["seal", text, bottle.dir.file("missing")])
    #expect(result.status == 1)
    #expect(result.stderr.contains("binfmt-reg: \(text): not an ELF file\n"))
    #expect(result.stderr.contains("binfmt-reg: \(bottle.dir.file("missing")): No such file or directory\n"))
    #expect(result.stdout == "seal: 0 sealed, 0 updated, 0 already sealed, 0 skipped, 2 failed" + interpDispatch)
    #expect(try String(contentsOfFile: text, encoding: .utf8) == "plain text\n")
}

@Test func dryRunChangesNothing() throws {
    let bottle = try FixtureBottle("dry")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let before = try bytes(program)
    let result = try tool(["seal", "--dry-run", program])
    #expect(result.status == 0)
    #expect(result.stdout.contains("would seal \(program): loader ../lib/ld-linux-x86-64.so.2, note type 3"))
    #expect(result.stdout.hasSuffix("seal: 1 would seal, 0 would update, 0 already sealed, 0 skipped, 0 failed" + interpDispatch))
    #expect(try bytes(program) == before)
    let binfmt = try tool(["seal", "--dry-run", "--dispatch", "binfmt", program])
    #expect(binfmt.stdout.contains("would seal \(program): loader ../lib/ld-linux-x86-64.so.2, note type 1"), "\(binfmt)")
    #expect(binfmt.stdout.hasSuffix(
        " (binfmt_misc dispatch; PT_INTERP /usr/libexec/runbottle where no entry is registered)\n"), "\(binfmt)")
    // An update is planned, not written, too.
    try expectSuccess(tool(["seal", "--dispatch", "binfmt", program]))
    let sealed = try bytes(program)
    let update = try tool(["seal", "--dry-run", program])
    #expect(update.stdout == "would update \(program): note type 1 -> 3\n"
        + "seal: 0 would seal, 1 would update, 0 already sealed, 0 skipped, 0 failed" + interpDispatch, "\(update)")
    #expect(try bytes(program) == sealed)
}

@Test func hardLinksAreRefusedUnlessAllowed() throws {
    let bottle = try FixtureBottle("links")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let other = bottle.bin + "/hello-link"
    try FileManager.default.linkItem(atPath: program, toPath: other)
    let before = try bytes(program)
    let refused = try tool(["seal", program])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("binfmt-reg: \(program): has 2 hard links"))
    #expect(try bytes(program) == before)

    let allowed = try tool(["seal", "--allow-hard-links", program])
    #expect(allowed.status == 0, "\(allowed)")
    #expect(try SealedStateProbe.status(program) == .sealed)
    // The other name keeps the original file.
    #expect(try bytes(other) == before)
}

@Test func ownerModeAndExtendedAttributesAreKept() throws {
    let bottle = try FixtureBottle("meta")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let plain = try bottle.compile("plain", Build.pie64.flags)
    try expectSuccess(shell("""
        chown 1234:5678 '\(program)'
        chmod 6755 '\(program)'
        setfattr -n user.bottle-test -v kept '\(program)'
        setcap cap_net_raw+ep '\(program)'
        chmod 0700 '\(plain)'
        """))
    let result = try tool(["seal", program, plain])
    #expect(result.status == 0, "\(result)")
    let after = try expectSuccess(shell("""
        stat -c '%a %u %g' '\(program)' '\(plain)'
        getfattr --only-values -n user.bottle-test '\(program)'; echo
        getcap '\(program)'
        """))
    #expect(after.stdout == "6755 1234 5678\n700 0 0\nkept\n\(program) cap_net_raw=ep\n")
    // The PT_INTERP dispatch has one note type: the kernel computes credentials itself.
    #expect(try SealedStateProbe.note(program)?.type == .interp)
    #expect(try SealedStateProbe.note(plain)?.type == .interp)

    // For the binfmt dispatch, privileged programs get note type 2, the BOTTLE-privileged
    // entry's, ordinary ones type 1: both updated in place, their metadata kept again.
    let binfmt = try tool(["seal", "--dispatch", "binfmt", "-v", program, plain])
    #expect(binfmt.status == 0, "\(binfmt)")
    #expect(binfmt.stdout.contains("updated \(program): note type 3 -> 2\n"), "\(binfmt)")
    #expect(binfmt.stdout.contains("updated \(plain): note type 3 -> 1\n"), "\(binfmt)")
    #expect(try SealedStateProbe.note(program)?.type == .privileged)
    #expect(try SealedStateProbe.note(plain)?.type == .ordinary)
    let kept = try expectSuccess(shell("""
        stat -c '%a %u %g' '\(program)' '\(plain)'
        getfattr --only-values -n user.bottle-test '\(program)'; echo
        getcap '\(program)'
        """))
    #expect(kept.stdout == after.stdout)
}

@Test func unsealRestoresTheOriginalBytes() throws {
    let (bottle, program) = try mixedBottle()
    defer { bottle.remove() }
    let original = bottle.dir.file("hello.orig")
    try expectSuccess(run(["cp", "-p", program, original]))
    try expectSuccess(tool(["seal", program]))
    #expect(try bytes(program) != bytes(original))
    let unsealed = try tool(["unseal", bottle.dir.path])
    #expect(unsealed.status == 0, "\(unsealed)")
    #expect(unsealed.stdout.hasPrefix("unseal: 1 unsealed, "))
    try expectSuccess(run(["cmp", program, original]))
    let again = try tool(["unseal", program])
    #expect(again.status == 0)
    #expect(again.stdout.contains("\(program): not sealed, unchanged"))
}

@Test func progressIsShownOnATerminalOnly() throws {
    let bottle = try FixtureBottle("progress")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    for i in 0..<24 { try expectSuccess(run(["cp", program, program + "\(i)"])) }
    let piped = try tool(["seal", "--dry-run", bottle.bin])
    #expect(!piped.stderr.contains("\u{1B}[K"))
    // script(1) gives the command a terminal.
    let command = "'\(try BuiltTools.binfmtReg())' seal '\(bottle.bin)'"
    let onTerminal = try expectSuccess(run(["script", "-qec", command, "/dev/null"]))
    #expect(onTerminal.stdout.contains("\r\u{1B}[K[0/25] "))
    #expect(onTerminal.stdout.contains("seal: 25 sealed, 0 updated, 0 already sealed, 0 skipped, 0 failed"))
}

@Test func inspectReportsSealNoteLoaderAndDamage() throws {
    let bottle = try FixtureBottle("inspect")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let unsealed = try tool(["inspect", program])
    #expect(unsealed.status == 0)
    #expect(unsealed.stdout.hasPrefix("\(program): not sealed\n"))

    try expectSuccess(tool(["seal", program]))
    let sealed = try tool(["inspect", "--json", program])
    #expect(sealed.status == 0)
    let reports = try inspectReports(sealed.stdout)
    let report = try #require(reports.first)
    #expect(report.status == "sealed")
    #expect(report.noteType == 3)
    #expect(report.dispatch == "interp")
    #expect(report.privileged == false)
    #expect(report.loader == "../lib/ld-linux-x86-64.so.2")
    #expect(report.loaderExists == true)
    #expect(report.slot == "/usr/libexec/runbottle")
    #expect(report.slotNames == "runbottle")
    #expect(report.originalInterpreter == "/lib64/ld-linux-x86-64.so.2")
    let text = try tool(["inspect", program])
    #expect(text.stdout.contains("""
          note: type 3 (PT_INTERP dispatch), format version 1
          dispatch: PT_INTERP: /usr/libexec/runbottle

        """), "\(text)")
    #expect(text.stdout.contains(": /usr/libexec/runbottle (runbottle)\n"), "\(text)")

    // The binfmt dispatch, then a relocated slot.
    try expectSuccess(tool(["seal", "--dispatch", "binfmt", program]))
    let binfmt = try tool(["inspect", "--json", program])
    let binfmtReport = try #require(try inspectReports(binfmt.stdout).first)
    #expect(binfmtReport.noteType == 1 && binfmtReport.dispatch == "binfmt", "\(binfmt)")
    #expect(try tool(["inspect", program]).stdout.contains(
        "  dispatch: binfmt_misc BOTTLE entry (PT_INTERP /usr/libexec/runbottle where none is registered)\n"))
    try expectSuccess(tool(["relocate", program]))
    let relocated = try tool(["inspect", "--json", program])
    let relocatedReport = try #require(try inspectReports(relocated.stdout).first)
    #expect(relocatedReport.slotNames == "loader", "\(relocated)")
    #expect(relocatedReport.slot == bottle.lib + "/ld-linux-x86-64.so.2", "\(relocated)")
    try expectSuccess(tool(["seal", program]))

    // strip and objcopy wreck the seal silently: inspect says so and how to fix it.
    for wrecker in [["strip"], ["objcopy"]] {
        let copy = bottle.dir.file("wrecked-\(wrecker[0])")
        try expectSuccess(run(["cp", program, copy]))
        try expectSuccess(run(wrecker + [copy]))
        let damaged = try tool(["inspect", copy])
        #expect(damaged.status == 1)
        #expect(damaged.stdout.contains("\(copy): damaged"))
        #expect(damaged.stdout.contains("reseal from the unstripped file"))
        let reseal = try tool(["seal", copy])
        #expect(reseal.status == 1)
        #expect(reseal.stderr.contains("reseal from the unstripped file"))
    }

    // The loader missing is visible.
    try FileManager.default.removeItem(atPath: bottle.lib + "/ld-linux-x86-64.so.2")
    #expect(try tool(["inspect", program]).stdout.contains("(MISSING)"))
}

@Test func inspectNamesTheEntryThatWouldTakeTheFile() throws {
    let bottle = try FixtureBottle("match")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let original = bottle.dir.file("original")
    try expectSuccess(run(["cp", program, original]))
    try expectSuccess(tool(["seal", program]))
    func escaped(_ bytes: [UInt8]) -> String { bytes.map { String(format: "\\x%02x", $0) }.joined() }
    let (magic, mask) = SealFormat.binfmtMagic(is64Bit: true, bigEndian: false, machine: ELF.EM_X86_64, noteType: .ordinary)
    let line = ":BOTTLE-inspect-test:M:0:\(escaped(magic)):\(escaped(mask)):/bin/true:PO"
    // The PT_INTERP dispatch's note type 3 is matched by no entry; type 1 by the BOTTLE one.
    let interp = bottle.bin + "/interp"
    try expectSuccess(run(["cp", program, interp]))
    try expectSuccess(tool(["seal", "--dispatch", "binfmt", program]))
    let result = try inPrivateBinfmt("""
        printf '%s\\n' '\(line)' > /proc/sys/fs/binfmt_misc/register
        '\(try BuiltTools.binfmtReg())' inspect '\(program)' '\(original)' '\(interp)'
        """)
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout.contains("\(program): sealed\n"))
    #expect(result.stdout.contains("  binfmt_misc: matched by BOTTLE-inspect-test\n"))
    #expect(result.stdout.contains("\(interp): sealed\n"))
    #expect(result.stdout.hasSuffix(": /usr/libexec/runbottle (runbottle)\n  binfmt_misc: no enabled entry matches\n"), "\(result)")
    #expect(result.stdout.contains("\(original): not sealed\n  ELF: x86-64 64-bit little-endian, ET_DYN\n  binfmt_misc: no enabled entry matches\n"))
}

/// Reading a file's seal through the engine.
enum SealedStateProbe {
    static func status(_ path: String) throws -> SealedState.Status {
        let file = try ELFFile(path: path)
        return try SealedState.read(file, ELFImage.parse(file)).status
    }

    static func note(_ path: String) throws -> BottleNote? {
        let file = try ELFFile(path: path)
        return try SealedState.read(file, ELFImage.parse(file)).note
    }
}

@Test func aFileReachedTwiceIsSealedOnce() throws {
    let bottle = try FixtureBottle("twice")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let result = try tool(["seal", program, bottle.bin, program, bottle.bin + "/../bin/hello"])
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout == "seal: 1 sealed, 0 updated, 0 already sealed, 0 skipped, 0 failed" + interpDispatch)
    #expect(try SealedStateProbe.status(program) == .sealed)
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
    let again = try tool(["seal", bottle.bin])
    #expect(again.status == 0, "\(again)")
    #expect(again.stdout == "seal: 1 sealed, 0 updated, 0 already sealed, 0 skipped, 0 failed" + interpDispatch)
    #expect(try SealedStateProbe.status(program) == .sealed)
    #expect(!FileManager.default.fileExists(atPath: leftover))
    #expect(AtomicReplacement.temporaryName(for: String(repeating: "n", count: 250)).utf8.count <= 255)
}

/// A directory the walk cannot read is a failure, as find(1) counts it: exit 1 and one line
/// naming it, never a silent gap in a tree reported as done.
@Test(arguments: [["seal", "--dry-run"], ["unseal"], ["relocate", "--check"]])
func anUnreadableDirectoryInATreeIsAFailure(command: [String]) throws {
    let bottle = try FixtureBottle("unreadable")
    defer {
        chmod(bottle.dir.path + "/locked", 0o755)
        bottle.remove()
    }
    try FileManager.default.createDirectory(atPath: bottle.dir.path + "/locked", withIntermediateDirectories: false)
    #expect(chmod(bottle.dir.path + "/locked", 0) == 0)
    #expect(chmod(bottle.dir.path, 0o755) == 0)
    // As an ordinary user: root reads any directory.
    let result = try run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          try BuiltTools.binfmtReg()] + command + [bottle.dir.path])
    #expect(result.status == 1, "\(result)")
    #expect(result.stderr.contains("binfmt-reg: \(bottle.dir.path)/locked: Permission denied\n"), "\(result)")
    #expect(result.stdout.contains(" 1 failed"), "\(result)")
}

/// --loader must name an ELF shared object of the program's class and machine: anything else
/// is refused when sealing, with one line, instead of a program that fails with 126 when run.
@Test func aLoaderThatCannotLoadTheProgramIsRefused() throws {
    let bottle = try FixtureBottle("bad-loader")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    try "not a loader\n".write(toFile: bottle.lib + "/text", atomically: true, encoding: .utf8)
    try bottle.compile("exec", Build.nonPIE64.flags)
    let original = try bytes(program)
    for (loader, reason) in [
        ("../lib/text", "is not an ELF loader: not an ELF file"),
        ("../lib/ld-linux.so.2", "is for i386 32-bit little-endian, the program is x86-64 64-bit little-endian"),
        ("exec", "is not a loader: not a shared object (ET_DYN)"),
    ] {
        let result = try tool(["seal", "--loader", loader, program])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains(reason), "\(loader): \(result)")
        #expect(try bytes(program) == original)
    }
    #expect(try tool(["seal", "--loader", "../lib/ld-linux-x86-64.so.2", program]).succeeded)
}

/// -q: nothing but errors. A tree with files to skip prints no notice and no summary; the exit
/// status tells the outcome, and a failure is still reported.
@Test func quietPrintsNothingButErrors() throws {
    let bottle = try FixtureBottle("quiet")
    defer { bottle.remove() }
    try bottle.compile("hello", Build.pie64.flags)
    try "#!/bin/sh\n".write(toFile: bottle.bin + "/script.sh", atomically: true, encoding: .utf8)
    let quiet = try tool(["seal", "-q", bottle.dir.path])
    #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty, "\(quiet)")
    let again = try tool(["unseal", "--quiet", bottle.dir.path])
    #expect(again.status == 0 && again.stdout.isEmpty && again.stderr.isEmpty, "\(again)")
    let failing = try tool(["seal", "-q", bottle.dir.path + "/missing"])
    #expect(failing.status == 1 && failing.stdout.isEmpty, "\(failing)")
    #expect(failing.stderr == "binfmt-reg: \(bottle.dir.path)/missing: No such file or directory\n", "\(failing)")
}
