// binfmt-reg bottle end to end: C, C++ and musl programs bottled, inspected with the loader's list mode, moved, run through runbottle, chrooted.
import Bottling
import ELFEngine
import Foundation
import TestSupport
import Testing

@Suite struct BottleCommandTests {
    /// A C++ bottle moved elsewhere runs through runbottle as its PT_INTERP, with no binfmt_misc
    /// entry, with exceptions, mapping only bottle files (and runbottle).
    @Test func movedCxxBottleRunsThroughRunbottle() throws {
        let rig = try BottleRig("bottle-cxx")
        defer { rig.dir.remove() }
        let (root, _) = try rig.bottleProbe(probeCxx, compiler: "c++")
        for file in ["lib/libstdc++.so.6", "lib/libgcc_s.so.1", "lib/libm.so.6", "lib/libc.so.6"] {
            #expect(FileManager.default.fileExists(atPath: root + "/" + file), "\(file) missing")
        }
        let moved = rig.dir.path + "/elsewhere/moved-bottle"
        try FileManager.default.createDirectory(atPath: rig.dir.path + "/elsewhere", withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: root, toPath: moved)
        let listed = try listedPaths(loader: moved + "/lib/ld-linux-x86-64.so.2", program: moved + "/bin/probe")
        #expect(listed.count >= 4 && listed.allSatisfy { $0.hasPrefix(moved + "/") }, "\(listed)")
        let ran = try inPrivateBinfmt("\(moved)/bin/probe maps")
        #expect(ran.succeeded, "\(ran)")
        #expect(ran.stdout.hasPrefix("caught 42\nhello argv0=\(moved)/bin/probe\n"), "\(ran)")
        let maps = mappedPaths(ran.stdout).subtracting([rig.runbottle])
        #expect(maps.contains(moved + "/lib/libstdc++.so.6") && maps.contains(moved + "/bin/probe"), "\(maps)")
        #expect(maps.allSatisfy { $0.hasPrefix(moved + "/") }, "host files mapped: \(maps.filter { !$0.hasPrefix(moved + "/") })")
    }

    /// Through the binfmt dispatch: the entries take the program.
    @Test func bottlesAMuslProgram() throws {
        let rig = try BottleRig("bottle-musl")
        defer { rig.dir.remove() }
        let (root, made) = try rig.bottleProbe(probeC, compiler: "musl-gcc", binfmt: true)
        #expect(made.stdout.hasSuffix(rig.dispatched(true)), "\(made)")
        // musl's loader is its libc: one file, which its list mode names for libc.so.
        let entries = try FileManager.default.contentsOfDirectory(atPath: root + "/lib")
        #expect(entries == ["ld-musl-x86_64.so.1"], "\(entries)")
        // musl's list mode names itself by the program's PT_INTERP string (the slot: runbottle),
        // wherever it was run from: libc.so is the loader, and there is nothing else to resolve.
        let listed = try run([root + "/lib/ld-musl-x86_64.so.1", "--list", root + "/bin/probe"])
        let libraries = listed.stdout.split(separator: "\n").filter { $0.contains(" => ") }
        #expect(listed.succeeded && libraries.count == 1 && libraries[0].contains("libc.so => \(rig.runbottle)"), "\(listed)")
        let moved = rig.dir.path + "/moved"
        try FileManager.default.moveItem(atPath: root, toPath: moved)
        let ran = try rig.inBinfmt("\(moved)/bin/probe maps")
        #expect(ran.succeeded && ran.stdout.hasPrefix("hello argv0=\(moved)/bin/probe\n"), "\(ran)")
        let maps = mappedPaths(ran.stdout)
        #expect(maps.contains(moved + "/lib/ld-musl-x86_64.so.1"), "\(maps)")
        #expect(maps.allSatisfy { $0.hasPrefix(moved + "/") }, "host files mapped: \(maps.filter { !$0.hasPrefix(moved + "/") })")
    }

    /// FROM scratch: a chroot holding the bottle and /proc only, the entry registered with F
    /// (the binfmt dispatch: no runbottle in the chroot for a PT_INTERP to name).
    @Test func runsInAChrootHoldingOnlyTheBottle() throws {
        let rig = try BottleRig("bottle-chroot")
        defer { rig.dir.remove() }
        let (root, _) = try rig.bottleProbe(probeC, binfmt: true)
        let ran = try rig.inChroot(root, "/bin/probe maps", before: "ls -A \(root); echo ---")
        #expect(ran.succeeded, "\(ran)")
        let parts = ran.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 2, "\(ran)")
        #expect(parts[0] == "\(Bottler.manifestName)\nbin\nlib\nproc\n")
        #expect(parts[1].hasPrefix("hello argv0=/bin/probe\n"), "\(ran)")
        let maps = mappedPaths(parts[1])
        #expect(maps.isSuperset(of: ["/bin/probe", "/lib/libc.so.6", "/lib/ld-linux-x86-64.so.2"]), "\(maps)")
        #expect(maps.allSatisfy { $0.hasPrefix("/bin/") || $0.hasPrefix("/lib/") }, "\(maps)")
    }

    /// A program called through a symlink keeps that name, as a link to the real file's name.
    @Test func aliasNamesStayLinks() throws {
        let rig = try BottleRig("bottle-alias")
        defer { rig.dir.remove() }
        let program = try rig.compile("probe-21", probeC)
        let alias = rig.src + "/probe"
        try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: "probe-21")
        let root = rig.dir.path + "/bottle"
        let made = try rig.bottle([alias, "-o", root])
        #expect(made.succeeded, "\(made)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/bin/probe") == "probe-21")
        let ran = try rig.inBinfmt("\(root)/bin/probe; cd \(root)/bin && ./probe-21")
        #expect(ran.stdout == "hello argv0=\(root)/bin/probe\nhello argv0=./probe-21\n", "\(ran)")
        _ = program
    }

    /// The programs' dispatch and slot follow --dispatch and --interpreter; bottling again with
    /// another dispatch replaces the programs, and nothing else.
    @Test func dispatchAndInterpreterOptions() throws {
        let rig = try BottleRig("bottle-dispatch")
        defer { rig.dir.remove() }
        let program = try rig.compile("probe", probeC)
        let root = rig.dir.path + "/bottle"
        let made = try rig.bottle([program, "--interpreter", "/usr/libexec/runbottle", "-o", root])
        #expect(made.succeeded && made.stdout.hasSuffix(
            "bottle \(root): 3 added, 0 replaced, 0 unchanged (programs: PT_INTERP dispatch through /usr/libexec/runbottle)\n"),
            "\(made)")
        func sealed() throws -> SealedState {
            let (file, image, _) = try Sealer.open(root + "/bin/probe")
            return try SealedState.read(file, image)
        }
        #expect(try sealed().note?.type == .interp && sealed().slotContents == SealFormat.runbottlePath)
        let binfmt = try rig.bottle([program, "--dispatch", "binfmt", "-o", root])
        #expect(binfmt.succeeded && binfmt.stdout.hasPrefix("replaced  bin/probe  (DT_RPATH: ")
            && binfmt.stdout.split(separator: "\n").count == 2
            && binfmt.stdout.hasSuffix("bottle \(root): 0 added, 1 replaced, 2 unchanged" + rig.dispatched(true)), "\(binfmt)")
        #expect(try sealed().note?.type == .ordinary && sealed().slotContents == rig.runbottle)
        let ran = try rig.inBinfmt("\(root)/bin/probe")
        #expect(ran.succeeded && ran.stdout == "hello argv0=\(root)/bin/probe\n", "\(ran)")
    }

    /// --lib brings a dlopen'd library, --include a data tree at its path without /usr.
    @Test func libAndIncludeOptions() throws {
        let rig = try BottleRig("bottle-lib")
        defer { rig.dir.remove() }
        let program = try rig.compile("opener", Fixture.source("opener.c"), flags: ["-ldl"])
        let data = rig.src + "/share/opener"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try "data\n".write(toFile: data + "/file.txt", atomically: true, encoding: .utf8)
        let root = rig.dir.path + "/bottle"
        let made = try rig.bottle([program, "--lib", "libz.so.1", "--include", data, "--include", data + "=usr/share/opener",
                                   "-o", root])
        #expect(made.succeeded, "\(made)")
        #expect(FileManager.default.fileExists(atPath: root + "/lib/libz.so.1"))
        for copied in [root + "/" + String(data.dropFirst()) + "/file.txt", root + "/usr/share/opener/file.txt"] {
            #expect(FileManager.default.contents(atPath: copied) == Data("data\n".utf8), "\(copied)")
        }
        #expect(made.stdout.contains("added     usr/share/opener/ (2 entries)\n"), "\(made.stdout)")
        let ran = try rig.inBinfmt("\(root)/bin/opener")
        #expect(ran.succeeded && ran.stdout.hasPrefix("zlib 1."), "\(ran)")
        let maps = mappedPaths(ran.stdout)
        #expect(maps == [root + "/lib/libz.so.1"], "\(maps)")
        let missing = try rig.bottle([program, "--lib", "libnot-there.so.9", "-o", rig.dir.path + "/other"])
        #expect(missing.status == 1 && missing.stderr == "binfmt-reg: libnot-there.so.9: --lib names a library the loader cannot find\n", "\(missing)")
    }

    /// A library with a DT_RUNPATH of its own (which the loader would follow out of the bottle for
    /// its own dependencies) gets DT_RPATH $ORIGIN; the chain resolves inside the bottle after the
    /// originals are gone.
    @Test func librariesWithRunPathsPointAtTheBottle() throws {
        let rig = try BottleRig("bottle-runpath")
        defer { rig.dir.remove() }
        let libs = rig.src + "/libs"
        try FileManager.default.createDirectory(atPath: libs, withIntermediateDirectories: true)
        try "int inner(void) { return 7; }\n".write(toFile: libs + "/inner.c", atomically: true, encoding: .utf8)
        try "int inner(void);\nint outer(void) { return inner() * 6; }\n".write(toFile: libs + "/outer.c", atomically: true, encoding: .utf8)
        for argv in [["cc", "-shared", "-fPIC", "-Wl,-soname,libinner.so.1", "-o", libs + "/libinner.so.1", libs + "/inner.c"],
                     ["cc", "-shared", "-fPIC", "-Wl,-soname,libouter.so.1", "-o", libs + "/libouter.so.1", libs + "/outer.c",
                      libs + "/libinner.so.1", "-Wl,--enable-new-dtags,-rpath," + libs]] {
            let built = try run(argv)
            try #require(built.succeeded, "\(built)")
        }
        let program = try rig.compile("answer", "#include <stdio.h>\nint outer(void);\nint main(void) { printf(\"%d\\n\", outer()); return 0; }\n",
                                      flags: [libs + "/libouter.so.1", "-Wl,--enable-new-dtags,-rpath," + libs])
        let root = rig.dir.path + "/bottle"
        let made = try rig.bottle([program, "-o", root])
        #expect(made.stdout.contains("added     lib/libouter.so.1  (DT_RPATH: in place)\n"), "\(made)")
        #expect(made.stdout.contains("added     lib/libinner.so.1\n"), "\(made)")
        let outer = try run(["readelf", "-dW", root + "/lib/libouter.so.1"]).stdout
        #expect(outer.contains("Library rpath: [$ORIGIN]") && !outer.contains("RUNPATH"), "\(outer)")
        try FileManager.default.removeItem(atPath: libs)
        let listed = try listedPaths(loader: root + "/lib/ld-linux-x86-64.so.2", program: root + "/bin/answer")
        #expect(listed.contains(root + "/bin/../lib/libinner.so.1") && listed.allSatisfy { $0.hasPrefix(root + "/") }, "\(listed)")
        let ran = try rig.inBinfmt("\(root)/bin/answer")
        #expect(ran.succeeded && ran.stdout == "42\n", "\(ran)")
    }

    /// Shared objects in an --include tree (a language's extension modules) bring their libraries.
    @Test func includedSharedObjectsBringTheirLibraries() throws {
        let rig = try BottleRig("bottle-ext")
        defer { rig.dir.remove() }
        let program = try rig.compile("probe", probeC)
        let modules = rig.src + "/modules"
        try FileManager.default.createDirectory(atPath: modules, withIntermediateDirectories: true)
        try "const char *XML_ExpatVersion(void);\nconst char *ext(void) { return XML_ExpatVersion(); }\n".write(toFile: modules + "/ext.c", atomically: true, encoding: .utf8)
        let built = try run(["cc", "-shared", "-fPIC", "-o", modules + "/ext.so", modules + "/ext.c", "/usr/lib/x86_64-linux-gnu/libexpat.so.1"])
        try #require(built.succeeded, "\(built)")
        let root = rig.dir.path + "/bottle"
        let made = try rig.bottle([program, "--include", modules, "-o", root])
        #expect(made.succeeded && made.stdout.contains("added     lib/libexpat.so.1\n"), "\(made)")
        var st = stat()
        #expect(stat(root, &st) == 0 && st.st_mode & 0o777 == 0o777 & ~currentUmask(), "bottle mode \(String(st.st_mode, radix: 8))")
    }
}

/// The process's umask, read without changing it for long.
func currentUmask() -> mode_t {
    let mask = umask(0)
    umask(mask)
    return mask
}

/// `-o` onto a mount point (a Docker volume, a bind mount): nothing renames over a mount point or
/// between two mounts, so the files move in from a stage inside it, the manifest last. A run
/// interrupted while moving leaves its stage, which marks the fill as unfinished: the next run
/// finishes it.
@Test func bottleIntoAMountPoint() throws {
    let rig = try BottleRig("bottle-volume")
    defer { rig.dir.remove() }
    let program = try rig.compile("probe", probeC)
    let volume = rig.dir.path + "/volume"
    try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: false)
    let tool = "\(try BuiltTools.binfmtReg()) bottle --interpreter \(rig.runbottle)"
    let result = try run(["unshare", "--mount", "--propagation", "private", "sh", "-ec", """
        mount -t tmpfs tmpfs \(volume)
        \(tool) \(program) -o \(volume) | tail -1
        ls -A \(volume) | tr '\\n' ' '; echo
        \(volume)/bin/probe
        \(tool) \(program) -o \(volume) | tail -1
        # An interrupted fill: the stage left behind, the manifest not yet in, one library moved.
        rm \(volume)/.bottle-sources \(volume)/bin/probe
        mkdir \(volume)/.bottle-staging-xyz
        \(tool) \(program) -o \(volume) | tail -1
        ls -A \(volume) | tr '\\n' ' '; echo
        \(volume)/bin/probe
        """])
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout == """
        bottle \(volume): 3 added, 0 replaced, 0 unchanged\(rig.dispatched())\
        .bottle-sources bin lib 
        hello argv0=\(volume)/bin/probe
        bottle \(volume): 0 added, 0 replaced, 3 unchanged\(rig.dispatched())\
        bottle \(volume): 1 added, 0 replaced, 2 unchanged\(rig.dispatched())\
        .bottle-sources bin lib 
        hello argv0=\(volume)/bin/probe

        """, "\(result)")
}

/// A program reached through symlinks in other directories (/usr/bin/java → /etc/alternatives →
/// the JDK's bin/java) finds its libraries through $ORIGIN where the real file lives: the
/// loader's list mode runs on the real path, so the bottle gets them.
@Test func aProgramBehindASymlinkKeepsItsOriginLibraries() throws {
    let rig = try BottleRig("bottle-origin")
    defer { rig.dir.remove() }
    let home = rig.src + "/jdk"
    try FileManager.default.createDirectory(atPath: home + "/bin", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: home + "/lib", withIntermediateDirectories: true)
    try "int jli(void) { return 42; }\n".write(toFile: rig.src + "/jli.c", atomically: true, encoding: .utf8)
    try "#include <stdio.h>\nint jli(void);\nint main(void) { printf(\"jli=%d\\n\", jli()); return 0; }\n"
        .write(toFile: rig.src + "/java.c", atomically: true, encoding: .utf8)
    let built = try run(["sh", "-ec", """
        cc -shared -fPIC -o \(home)/lib/libjli.so \(rig.src)/jli.c
        cc -o \(home)/bin/java \(rig.src)/java.c -L\(home)/lib -ljli -Wl,-rpath,'$ORIGIN/../lib'
        mkdir -p \(rig.src)/alternatives \(rig.src)/usrbin
        ln -s \(home)/bin/java \(rig.src)/alternatives/java
        ln -s ../alternatives/java \(rig.src)/usrbin/java
        """])
    try #require(built.succeeded, "\(built)")
    let root = rig.dir.path + "/bottle"
    let made = try rig.bottle([rig.src + "/usrbin/java", "-o", root])
    #expect(made.succeeded, "\(made)")
    #expect(FileManager.default.fileExists(atPath: root + "/lib/libjli.so"), "\(made)")
    let ran = try rig.inBinfmt("\(root)/bin/java")
    #expect(ran.stdout == "jli=42\n", "\(ran)")

    // The whole lib/ brought in too: libjli.so is both a needed library and an included file,
    // one file, not "two different files for one name".
    let withTree = rig.dir.path + "/bottle-tree"
    let included = try rig.bottle([rig.src + "/usrbin/java", "--include", home + "/lib=lib", "-o", withTree])
    #expect(included.succeeded, "\(included)")
    #expect(try rig.inBinfmt("\(withTree)/bin/java").stdout == "jli=42\n")
}

/// A statically linked program (busybox-static) needs no loader: it is copied as it is, unsealed,
/// and a name it is called by (an applet link) stays a link to it. Found by the program corpus
/// (Tests/SystemTests/Programs/suite), whose busybox is Debian's static one.
@Test func aStaticProgramIsCopiedAsItIs() throws {
    let rig = try BottleRig("bottle-static")
    defer { rig.dir.remove() }
    let program = try rig.compile("static", probeC, flags: ["-static"])
    try FileManager.default.createSymbolicLink(atPath: rig.src + "/applet", withDestinationPath: program)
    let dynamic = try rig.compile("probe", probeC)
    let root = rig.dir.path + "/bottle"
    let made = try rig.bottle([rig.src + "/applet", dynamic, "--dispatch", "binfmt", "-o", root])
    #expect(made.succeeded, "\(made)")
    #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/bin/static")) == Data(contentsOf: URL(fileURLWithPath: program)))
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/bin/applet") == "static")
    // In a chroot holding only the bottle: the static program beside a sealed one.
    let ran = try rig.inChroot(root, "/bin/applet", before: "chroot \(root) /bin/probe")
    #expect(ran.stdout == "hello argv0=/bin/probe\nhello argv0=/bin/applet\n", "\(ran)")
}

/// --include of a symlink copies what it names (cp -H): /lib64/ld-linux-x86-64.so.2, which gcc's
/// links name, is an absolute link that a copy would leave dangling in a chroot of the bottle.
/// Links inside an included tree stay links; a dangling one named by the option is one line.
@Test func anIncludedSymlinkIsFollowed() throws {
    let rig = try BottleRig("bottle-include-link")
    defer { rig.dir.remove() }
    let data = rig.src + "/data"
    try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
    try "payload\n".write(toFile: data + "/file", atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(atPath: data + "/inner", withDestinationPath: "file")
    try FileManager.default.createSymbolicLink(atPath: rig.src + "/to-file", withDestinationPath: data + "/file")
    try FileManager.default.createSymbolicLink(atPath: rig.src + "/to-dir", withDestinationPath: data)
    let program = try rig.compile("probe", probeC)
    let root = rig.dir.path + "/bottle"
    let made = try rig.bottle([program, "--include", rig.src + "/to-file=lib64/file",
                               "--include", rig.src + "/to-dir=data", "-o", root])
    #expect(made.succeeded, "\(made)")
    #expect(try String(contentsOfFile: root + "/lib64/file", encoding: .utf8) == "payload\n")
    #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/lib64/file")) == nil)
    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/data/inner") == "file")
    try FileManager.default.createSymbolicLink(atPath: rig.src + "/dangling", withDestinationPath: rig.src + "/absent")
    let dangling = try rig.bottle([program, "--include", rig.src + "/dangling", "-o", rig.dir.path + "/other"])
    #expect(dangling.status == 1 && dangling.stderr == "binfmt-reg: \(rig.src)/dangling: no such file or directory\n", "\(dangling)")
}

/// A program that runs helpers from its own tree (gcc's cc1, git's exec-path): the helpers an
/// --include tree brings are sealed too, their run path reaching the bottle's lib/ from their
/// place, so that in a chroot holding only the bottle (FROM scratch) the driver's helper runs.
@Test func helpersInAnIncludedTreeRunWithTheBottlesLoader() throws {
    let rig = try BottleRig("bottle-helpers")
    defer { rig.dir.remove() }
    let tool = rig.src + "/tool"
    try FileManager.default.createDirectory(atPath: tool + "/bin", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: tool + "/libexec/tool/12", withIntermediateDirectories: true)
    try Fixture.source("driver.c").write(toFile: rig.src + "/driver.c", atomically: true, encoding: .utf8)
    try "#include <stdio.h>\nint main(void) { puts(\"helper ran\"); return 0; }\n"
        .write(toFile: rig.src + "/helper.c", atomically: true, encoding: .utf8)
    let built = try run(["sh", "-ec", """
        cc -o \(tool)/bin/driver \(rig.src)/driver.c
        cc -o \(tool)/libexec/tool/12/helper \(rig.src)/helper.c
        """])
    try #require(built.succeeded, "\(built)")
    let root = rig.dir.path + "/bottle"
    let made = try rig.bottle([tool + "/bin/driver", "--include", tool + "/libexec=libexec", "--dispatch", "binfmt", "-o", root])
    #expect(made.succeeded, "\(made)")
    let inspected = try run([try BuiltTools.binfmtReg(), "inspect", root + "/libexec/tool/12/helper"])
    #expect(inspected.stdout.contains("loader: ../../../lib/ld-linux-x86-64.so.2"), "\(inspected)")
    let ran = try rig.inChroot(root, "/bin/driver")
    #expect(ran.stdout == "helper ran\n", "\(ran)")
}

/// A tree whose libraries live in subdirectories (a JDK's lib/server/libjvm.so, which
/// lib/libattach.so needs by name once the program has loaded it by path): the tree's
/// directories are searched when listing its objects, and what the tree holds is not copied
/// into lib/ again. In a chroot holding only the bottle, the program loads both.
@Test func aTreesLibrariesInSubdirectoriesAreFoundInTheTree() throws {
    let rig = try BottleRig("bottle-jdk")
    defer { rig.dir.remove() }
    let jdk = rig.src + "/jdk"
    try FileManager.default.createDirectory(atPath: jdk + "/lib/server", withIntermediateDirectories: true)
    try "int jvm(void) { return 7; }\n".write(toFile: rig.src + "/jvm.c", atomically: true, encoding: .utf8)
    try "int jvm(void);\nint attach(void) { return jvm() * 6; }\n".write(toFile: rig.src + "/attach.c", atomically: true, encoding: .utf8)
    try Fixture.source("launcher.c").write(toFile: rig.src + "/launcher.c", atomically: true, encoding: .utf8)
    let built = try run(["sh", "-ec", """
        cc -shared -fPIC -Wl,-soname,libjvm.so -o \(jdk)/lib/server/libjvm.so \(rig.src)/jvm.c
        cc -shared -fPIC -o \(jdk)/lib/libattach.so \(rig.src)/attach.c -L\(jdk)/lib/server -ljvm -Wl,-rpath,'$ORIGIN'
        cc -o \(rig.src)/launcher \(rig.src)/launcher.c -ldl
        """])
    try #require(built.succeeded, "\(built)")
    let root = rig.dir.path + "/bottle"
    let made = try rig.bottle([rig.src + "/launcher", "--include", jdk + "=jdk", "--dispatch", "binfmt", "-o", root])
    #expect(made.succeeded, "\(made)")
    #expect(!FileManager.default.fileExists(atPath: root + "/lib/libjvm.so"), "libjvm.so copied out of its tree")
    let ran = try rig.inChroot(root, "/bin/launcher /jdk")
    #expect(ran.stdout == "attach=42\n", "\(ran)")
}
