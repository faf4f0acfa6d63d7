// binfmt-reg seal, unseal and inspect as a user runs them: trees, notices, the summary line,
// exit codes, dry runs, hard links, kept metadata, the progress line, matching entries.
import ELFEngine
import Foundation
import Testing
import TestSupport

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
    let first = try binfmtReg(["seal", bottle.dir.path])
    #expect(first.status == 0, "\(first)")
    // hello sealed; the three C sources, the script, static, libx.so and the two loaders in lib/
    // skipped; the symlink not visited.
    #expect(first.stdout == "seal: 1 sealed, 0 updated, 0 already sealed, 8 skipped, 0 failed" + interpDispatch)
    #expect(first.stderr.contains("binfmt-reg: \(bottle.bin)/script.sh: skipped: not an ELF file\n"))
    #expect(first.stderr.contains("binfmt-reg: \(bottle.bin)/static: skipped: statically linked (no PT_INTERP)\n"))
    #expect(first.stderr.contains("binfmt-reg: \(bottle.bin)/libx.so: skipped: a shared library"))
    #expect(!first.stderr.contains("/link"))
    #expect(try SealedStateProbe.status(program) == .sealed)

    let second = try binfmtReg(["seal", bottle.dir.path])
    #expect(second.status == 0)
    #expect(second.stdout == "seal: 0 sealed, 0 updated, 1 already sealed, 8 skipped, 0 failed" + interpDispatch)

    // Named on the command line: through the symlink, the target is what is sealed (already).
    let named = try binfmtReg(["seal", bottle.bin + "/link"])
    #expect(named.stdout.contains("\(bottle.bin)/link: already sealed, unchanged"))
    #expect(FileManager.default.fileExists(atPath: bottle.bin + "/link"))
    #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: bottle.bin + "/link")) == "hello")
}

@Test func aNamedFileThatIsNotELFFailsWithOneLine() throws {
    let bottle = try FixtureBottle("notelf")
    defer { bottle.remove() }
    let text = bottle.dir.file("notes.txt")
    try "plain text\n".write(toFile: text, atomically: true, encoding: .utf8)
    let result = try binfmtReg(["seal", text, bottle.dir.file("missing")])
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
    let result = try binfmtReg(["seal", "--dry-run", program])
    #expect(result.status == 0)
    #expect(result.stdout.contains("would seal \(program): loader ../lib/ld-linux-x86-64.so.2, note type 3"))
    #expect(result.stdout.hasSuffix("seal: 1 would seal, 0 would update, 0 already sealed, 0 skipped, 0 failed" + interpDispatch))
    #expect(try bytes(program) == before)
    let binfmt = try binfmtReg(["seal", "--dry-run", "--dispatch", "binfmt", program])
    #expect(binfmt.stdout.contains("would seal \(program): loader ../lib/ld-linux-x86-64.so.2, note type 1"), "\(binfmt)")
    #expect(binfmt.stdout.hasSuffix(
        " (binfmt_misc dispatch; PT_INTERP /usr/libexec/runbottle where no entry is registered)\n"), "\(binfmt)")
    // An update is planned, not written, too.
    try expectSuccess(binfmtReg(["seal", "--dispatch", "binfmt", program]))
    let sealed = try bytes(program)
    let update = try binfmtReg(["seal", "--dry-run", program])
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
    let refused = try binfmtReg(["seal", program])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("binfmt-reg: \(program): has 2 hard links"))
    #expect(try bytes(program) == before)

    let allowed = try binfmtReg(["seal", "--allow-hard-links", program])
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
    let result = try binfmtReg(["seal", program, plain])
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
    let binfmt = try binfmtReg(["seal", "--dispatch", "binfmt", "-v", program, plain])
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
    try expectSuccess(binfmtReg(["seal", program]))
    #expect(try bytes(program) != bytes(original))
    let unsealed = try binfmtReg(["unseal", bottle.dir.path])
    #expect(unsealed.status == 0, "\(unsealed)")
    #expect(unsealed.stdout.hasPrefix("unseal: 1 unsealed, "))
    try expectSuccess(run(["cmp", program, original]))
    let again = try binfmtReg(["unseal", program])
    #expect(again.status == 0)
    #expect(again.stdout.contains("\(program): not sealed, unchanged"))
}

@Test func progressIsShownOnATerminalOnly() throws {
    let bottle = try FixtureBottle("progress")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    for i in 0..<24 { try expectSuccess(run(["cp", program, program + "\(i)"])) }
    let piped = try binfmtReg(["seal", "--dry-run", bottle.bin])
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
    let unsealed = try binfmtReg(["inspect", program])
    #expect(unsealed.status == 0)
    #expect(unsealed.stdout.hasPrefix("\(program): not sealed\n"))

    try expectSuccess(binfmtReg(["seal", program]))
    let sealed = try binfmtReg(["inspect", "--json", program])
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
    #expect(report.slotTrampoline == true)
    let text = try binfmtReg(["inspect", program])
    #expect(text.stdout.contains("""
          note: type 3 (PT_INTERP dispatch), format version 1
          dispatch: PT_INTERP: /usr/libexec/runbottle

        """), "\(text)")
    #expect(text.stdout.contains(": /usr/libexec/runbottle (runbottle)\n"), "\(text)")
    #expect(text.stdout.contains("  trampoline: in the slot's tail (the binfmt dispatch maps it from the file)\n"), "\(text)")

    // The binfmt dispatch, then a relocated slot.
    try expectSuccess(binfmtReg(["seal", "--dispatch", "binfmt", program]))
    let binfmt = try binfmtReg(["inspect", "--json", program])
    let binfmtReport = try #require(try inspectReports(binfmt.stdout).first)
    #expect(binfmtReport.noteType == 1 && binfmtReport.dispatch == "binfmt", "\(binfmt)")
    #expect(try binfmtReg(["inspect", program]).stdout.contains(
        "  dispatch: binfmt_misc BOTTLE entry (PT_INTERP /usr/libexec/runbottle where none is registered)\n"))
    try expectSuccess(binfmtReg(["relocate", program]))
    let relocated = try binfmtReg(["inspect", "--json", program])
    let relocatedReport = try #require(try inspectReports(relocated.stdout).first)
    #expect(relocatedReport.slotNames == "loader" && relocatedReport.slotTrampoline == true, "\(relocated)")
    #expect(relocatedReport.slot == bottle.lib + "/ld-linux-x86-64.so.2", "\(relocated)")
    try expectSuccess(binfmtReg(["seal", program]))

    // strip and objcopy wreck the seal silently: inspect says so and how to fix it.
    for wrecker in [["strip"], ["objcopy"]] {
        let copy = bottle.dir.file("wrecked-\(wrecker[0])")
        try expectSuccess(run(["cp", program, copy]))
        try expectSuccess(run(wrecker + [copy]))
        let damaged = try binfmtReg(["inspect", copy])
        #expect(damaged.status == 1)
        #expect(damaged.stdout.contains("\(copy): damaged"))
        #expect(damaged.stdout.contains("reseal from the unstripped file"))
        let reseal = try binfmtReg(["seal", copy])
        #expect(reseal.status == 1)
        #expect(reseal.stderr.contains("reseal from the unstripped file"))
    }

    // The loader missing is visible.
    try FileManager.default.removeItem(atPath: bottle.lib + "/ld-linux-x86-64.so.2")
    #expect(try binfmtReg(["inspect", program]).stdout.contains("(MISSING)"))
}

@Test func aFileReachedTwiceIsSealedOnce() throws {
    let bottle = try FixtureBottle("twice")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let result = try binfmtReg(["seal", program, bottle.bin, program, bottle.bin + "/../bin/hello"])
    #expect(result.status == 0, "\(result)")
    #expect(result.stdout == "seal: 1 sealed, 0 updated, 0 already sealed, 0 skipped, 0 failed" + interpDispatch)
    #expect(try SealedStateProbe.status(program) == .sealed)
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
        let result = try binfmtReg(["seal", "--loader", loader, program])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains(reason), "\(loader): \(result)")
        #expect(try bytes(program) == original)
    }
    #expect(try binfmtReg(["seal", "--loader", "../lib/ld-linux-x86-64.so.2", program]).succeeded)
}

/// -q: nothing but errors. A tree with files to skip prints no notice and no summary; the exit
/// status tells the outcome, and a failure is still reported.
@Test func quietPrintsNothingButErrors() throws {
    let bottle = try FixtureBottle("quiet")
    defer { bottle.remove() }
    try bottle.compile("hello", Build.pie64.flags)
    try "#!/bin/sh\n".write(toFile: bottle.bin + "/script.sh", atomically: true, encoding: .utf8)
    let quiet = try binfmtReg(["seal", "-q", bottle.dir.path])
    #expect(quiet.status == 0 && quiet.stdout.isEmpty && quiet.stderr.isEmpty, "\(quiet)")
    let again = try binfmtReg(["unseal", "--quiet", bottle.dir.path])
    #expect(again.status == 0 && again.stdout.isEmpty && again.stderr.isEmpty, "\(again)")
    let failing = try binfmtReg(["seal", "-q", bottle.dir.path + "/missing"])
    #expect(failing.status == 1 && failing.stdout.isEmpty, "\(failing)")
    #expect(failing.stderr == "binfmt-reg: \(bottle.dir.path)/missing: No such file or directory\n", "\(failing)")
}
