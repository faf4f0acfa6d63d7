// binfmt-reg bottle on files alone: a C program bottled and inspected with the loader's list mode,
// a second run, soname conflicts, bad input, privileged and aarch64 programs, shared libraries.
import Bottling
import ELFEngine
import Foundation
import TestSupport
import Testing

@Suite struct BottleCommandTests {
    @Test func bottlesACProgram() throws {
        let rig = try BottleRig("bottle-c")
        defer { rig.dir.remove() }
        let (root, made) = try rig.bottleProbe(probeC)
        #expect(made.stdout.contains("added     bin/probe"), "\(made.stdout)")
        #expect(made.stdout.hasSuffix("bottle \(root): 3 added, 0 replaced, 0 unchanged" + rig.dispatched()), "\(made.stdout)")
        for file in ["bin/probe", "lib/libc.so.6", "lib/ld-linux-x86-64.so.2", Bottler.manifestName] {
            #expect(FileManager.default.fileExists(atPath: root + "/" + file), "\(file) missing")
        }
        // ldd's equivalent, with the bottle's own loader: every library resolved inside the bottle.
        let listed = try listedPaths(loader: root + "/lib/ld-linux-x86-64.so.2", program: root + "/bin/probe")
        #expect(listed.contains(root + "/bin/../lib/libc.so.6"), "\(listed)")
        #expect(!listed.isEmpty && listed.allSatisfy { $0.hasPrefix(root + "/") }, "\(listed)")
        let dynamic = try run(["readelf", "-dW", root + "/bin/probe"]).stdout
        #expect(dynamic.contains("(RPATH)") && dynamic.contains("Library rpath: [$ORIGIN/../lib]") && !dynamic.contains("RUNPATH"))
        let (file, image, _) = try Sealer.open(root + "/bin/probe")
        let state = try SealedState.read(file, image)
        #expect(state.note?.loader == "../lib/ld-linux-x86-64.so.2")
        #expect(state.note?.type == .interp && state.slotContents == rig.runbottle)
        // Runs with the bottle's loader named explicitly, no binfmt_misc needed.
        let ran = try run([root + "/lib/ld-linux-x86-64.so.2", root + "/bin/probe", "maps"])
        #expect(ran.succeeded && ran.stdout.hasPrefix("hello"), "\(ran)")
        let maps = mappedPaths(ran.stdout)
        #expect(maps.contains(root + "/lib/libc.so.6") && maps.allSatisfy { $0.hasPrefix(root + "/") }, "\(maps)")
    }

    /// Bottling again changes nothing; a new program is added; a changed source is replaced.
    @Test func secondRunChangesNothingAndUpdatesWhatChanged() throws {
        let rig = try BottleRig("bottle-again")
        defer { rig.dir.remove() }
        let program = try rig.compile("probe", probeC)
        let root = rig.dir.path + "/bottle"
        #expect(try rig.bottle([program, "-o", root]).succeeded)
        let before = try rig.snapshot(root)
        let again = try rig.bottle([program, "-o", root])
        #expect(again.succeeded && again.stdout == "bottle \(root): 0 added, 0 replaced, 3 unchanged" + rig.dispatched(), "\(again)")
        #expect(try rig.snapshot(root) == before)

        let other = try rig.compile("other", probeCxx, compiler: "c++")
        let added = try rig.bottle([program, other, "-o", root])
        #expect(added.succeeded, "\(added)")
        #expect(added.stdout.contains("added     bin/other") && added.stdout.contains("added     lib/libstdc++.so.6"))
        #expect(added.stdout.hasSuffix(": 4 added, 0 replaced, 3 unchanged" + rig.dispatched()), "\(added.stdout)")

        _ = try rig.compile("probe", probeC.replacingOccurrences(of: "hello", with: "howdy"))
        let replaced = try rig.bottle([program, "-o", root])
        #expect(replaced.stdout == "replaced  bin/probe  (DT_RPATH: below the writable segment)\nbottle \(root): 0 added, 1 replaced, 2 unchanged"
            + rig.dispatched(), "\(replaced)")
        let ran = try run([root + "/lib/ld-linux-x86-64.so.2", root + "/bin/probe"])
        #expect(ran.stdout.hasPrefix("howdy"), "\(ran)")
        #expect(try rig.leftovers().isEmpty)
    }

    /// Two libraries with one soname from two places: an error naming both, and no bottle.
    @Test func sonameConflictNamesBothSources() throws {
        let rig = try BottleRig("bottle-conflict")
        defer { rig.dir.remove() }
        var programs: [String] = []
        for side in ["a", "b"] {
            let dir = rig.src + "/" + side
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "int dup(void) { return '\(side)'; }\n".write(toFile: dir + "/dup.c", atomically: true, encoding: .utf8)
            let lib = try run(["cc", "-shared", "-fPIC", "-Wl,-soname,libdup.so.1", "-o", dir + "/libdup.so.1", dir + "/dup.c"])
            try #require(lib.succeeded, "\(lib)")
            programs.append(try rig.compile("use-" + side, "int dup(void);\nint main(void) { return dup() == 0; }\n",
                                            flags: [dir + "/libdup.so.1", "-Wl,-rpath," + dir]))
        }
        let root = rig.dir.path + "/bottle"
        let both = try rig.bottle(programs + ["-o", root])
        #expect(!both.succeeded && both.stdout.isEmpty)
        #expect(both.stderr.split(separator: "\n").count == 1, "\(both.stderr)")
        #expect(both.stderr.hasPrefix("binfmt-reg: lib/libdup.so.1: two different files for one name: "), "\(both.stderr)")
        #expect(both.stderr.contains(rig.src + "/a/libdup.so.1") && both.stderr.contains(rig.src + "/b/libdup.so.1"), "\(both.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root))

        // The same across two runs: the bottle keeps what it had.
        #expect(try rig.bottle([programs[0], "-o", root]).succeeded)
        let before = try rig.snapshot(root)
        let second = try rig.bottle([programs[1], "-o", root])
        #expect(!second.succeeded && second.stderr.contains(rig.src + "/a/libdup.so.1") && second.stderr.contains(rig.src + "/b/libdup.so.1"), "\(second)")
        #expect(try rig.snapshot(root) == before)
        #expect(try rig.leftovers().isEmpty)
    }

    /// Not an ELF, a missing library: one line naming the file, nothing written.
    @Test func badInputsGetOneLineAndLeaveNothing() throws {
        let rig = try BottleRig("bottle-bad")
        defer { rig.dir.remove() }
        let script = rig.src + "/script"
        try "#!/bin/sh\necho hi\n".write(toFile: script, atomically: true, encoding: .utf8)
        try "int gone(void) { return 0; }\n".write(toFile: rig.src + "/gone.c", atomically: true, encoding: .utf8)
        #expect(try run(["cc", "-shared", "-fPIC", "-o", rig.src + "/libgone.so", rig.src + "/gone.c"]).succeeded)
        let orphan = try rig.compile("orphan", "int gone(void);\nint main(void) { return gone(); }\n", flags: ["-L" + rig.src, "-lgone"])
        try FileManager.default.removeItem(atPath: rig.src + "/libgone.so")
        let good = try rig.compile("good", probeC)
        let cases: [(String, String)] = [
            (script, "binfmt-reg: \(script): not an ELF file"),
            (orphan, "binfmt-reg: \(orphan): the loader cannot resolve its libraries: libgone.so: cannot open shared object file: No such file or directory"),
            (rig.src + "/absent", "binfmt-reg: \(rig.src)/absent: no such file"),
        ]
        let root = rig.dir.path + "/bottle"
        for (input, message) in cases {
            let result = try rig.bottle([good, input, "-o", root])
            #expect(result.status == 1 && result.stderr == message + "\n", "\(input): \(result)")
            #expect(!FileManager.default.fileExists(atPath: root))
        }
        // Into an existing bottle: it stays as it was.
        #expect(try rig.bottle([good, "-o", root]).succeeded)
        let before = try rig.snapshot(root)
        for (input, message) in cases {
            let result = try rig.bottle([good, input, "-o", root])
            #expect(result.status == 1 && result.stderr == message + "\n", "\(input): \(result)")
        }
        #expect(try rig.snapshot(root) == before)
        // A directory that is no bottle is never written into; an empty one is fine.
        let notBottle = try rig.bottle([good, "-o", rig.src])
        #expect(notBottle.status == 1 && notBottle.stderr == "binfmt-reg: \(rig.src): exists and is not a bottle (\(Bottler.manifestName) missing): name a new or empty directory\n", "\(notBottle)")
        let empty = rig.dir.path + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        #expect(try rig.bottle([good, "-o", empty]).succeeded)
        #expect(FileManager.default.fileExists(atPath: empty + "/bin/good"))
        // A program from a bottle is sealed already: its DT_RPATH and table are not the original's.
        let sealed = try rig.bottle([root + "/bin/good", "-o", rig.dir.path + "/again"])
        #expect(sealed.status == 1 && sealed.stderr == "binfmt-reg: \(root)/bin/good: already sealed: bottle the program it was sealed from\n", "\(sealed)")
        #expect(try rig.leftovers().isEmpty)
    }
}

/// setuid, setgid and file-capability programs are refused with one line, never copied without
/// their privilege or carried with it to wherever the bottle goes.
@Test(arguments: [("chmod u+s", "setuid"), ("chmod g+s", "setgid"), ("setcap cap_net_raw+ep", "a file capability")])
func privilegedProgramsAreRefused(change: String, what: String) throws {
    let rig = try BottleRig("bottle-privileged")
    defer { rig.dir.remove() }
    let program = try rig.compile("probe", probeC)
    let changed = try run(["sh", "-c", "\(change) \(program)"])
    try #require(changed.succeeded, "\(changed)")
    let root = rig.dir.path + "/bottle"
    let made = try rig.bottle([program, "-o", root])
    #expect(made.status == 1, "\(made)")
    #expect(made.stderr == "binfmt-reg: \(program): has \(what): bottle refuses privileged programs (seal the installed program in place with binfmt-reg seal, which keeps it)\n", "\(made)")
    #expect(!FileManager.default.fileExists(atPath: root))
}

/// A shared library named as a program says what it is, not "statically linked".
@Test func aSharedLibraryIsNotAProgram() throws {
    let rig = try BottleRig("bottle-library")
    defer { rig.dir.remove() }
    let library = try rig.compile("libx.so", "int x(void) { return 1; }\n", flags: ["-shared", "-fPIC"])
    let made = try rig.bottle([library, "-o", rig.dir.path + "/bottle"])
    #expect(made.status == 1)
    #expect(made.stderr == "binfmt-reg: \(library): a shared library, not a program: bring it in with --lib or --include\n", "\(made)")
}

/// Cross-bottling: an aarch64 program, built with Debian's cross compiler, bottled on this
/// x86-64 host from the sysroot its libraries are in (the VM suite runs such a bottle on an
/// arm64 kernel). Without --sysroot, the line says what is missing.
@Test func anAArch64ProgramIsBottledFromItsSysroot() throws {
    let rig = try BottleRig("bottle-aarch64")
    defer { rig.dir.remove() }
    let program = try rig.compile("hello", Fixture.source("hello-bottle.c"),
                                  compiler: "aarch64-linux-gnu-gcc")
    let root = rig.dir.path + "/bottle"
    let refused = try rig.bottle([program, "-o", root])
    #expect(refused.status == 1 && refused.stderr.contains("name the root of its loader and libraries with --sysroot"), "\(refused)")
    let made = try rig.bottle(["--sysroot", "/usr/aarch64-linux-gnu", program, "-o", root])
    #expect(made.succeeded, "\(made)")
    #expect(made.stdout.contains("added     lib/ld-linux-aarch64.so.1\nadded     lib/libc.so.6\nadded     bin/hello"), "\(made)")
    let inspected = try run([try BuiltTools.binfmtReg(), "inspect", root + "/bin/hello"])
    #expect(inspected.stdout.contains("ELF: aarch64 64-bit little-endian"), "\(inspected)")
    #expect(inspected.stdout.contains("loader: ../lib/ld-linux-aarch64.so.1 ->") && inspected.stdout.contains("(present)"), "\(inspected)")
    let rpath = try run(["readelf", "-dW", root + "/bin/hello"])
    #expect(rpath.stdout.contains("Library rpath: [$ORIGIN/../lib]"), "\(rpath)")
}
