// runbottle exec'ing sealed bottles, through a private binfmt_misc instance or started from
// PT_INTERP: the process must look as if the kernel had loaded the program natively.
import ELFEngine
import Foundation
import Testing
import TestSupport

@Test(arguments: [TestBottle.Libc.glibc, .musl], [(true, false), (false, false), (true, true), (false, true)])
func runsASealedBottleNatively(libc: TestBottle.Libc, pieAndInterp: (Bool, Bool)) throws {
    let (pie, interp) = pieAndInterp
    let rig = try RunbottleRig("exec")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe", libc: libc, pie: pie, interp: interp)
    // The host's musl loader is hidden: the bottle's own loader must be the one used.
    let result = try rig.inBinfmt("""
        mount --bind /dev/null /lib/ld-musl-x86_64.so.1
        echo piped | PROBE_ENV=passed ./probe/bin/probe one 'two words' stdin exit=7
        """)
    #expect(result.status == 7, "\(result)")
    let r = ProbeReport(result.stdout)
    r.expectNative(program: b.program, argv: ["./probe/bin/probe", "one", "two words", "stdin", "exit=7"])
    #expect(r["execfn"] == "./probe/bin/probe")
    #expect(r["at_secure"] == "0")
    #expect(r["env"] == "passed")
    #expect(r["stdin"] == "piped")
    #expect(result.stderr.isEmpty, "\(result)")
}

@Test func keepsArgv0OfASymlinkAndARelativePath() throws {
    let rig = try RunbottleRig("argv0")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe")
    let result = try rig.inBinfmt("""
        ln -s probe/bin/probe link
        ./link via-link
        cd probe/lib && ../bin/probe via-relative
        exec -a custom-argv0 ../bin/probe via-exec-a
        """)
    #expect(result.succeeded, "\(result)")
    let runs = result.stdout.components(separatedBy: "argv[0]=").dropFirst().map { ProbeReport("argv[0]=" + $0) }
    try #require(runs.count == 3, "\(result)")
    runs[0].expectNative(program: b.program, argv: ["./link", "via-link"])
    #expect(runs[0]["execfn"] == "./link")
    runs[1].expectNative(program: b.program, argv: ["../bin/probe", "via-relative"])
    runs[2].expectNative(program: b.program, argv: ["custom-argv0", "via-exec-a"])
}

@Test func honoursADDR_NO_RANDOMIZEAndRandomizesOtherwise() throws {
    let rig = try RunbottleRig("aslr")
    defer { rig.dir.remove() }
    _ = try rig.bottle("probe")
    let result = try rig.inBinfmt("""
        setarch -R ./probe/bin/probe | grep first_map
        for i in 1 2 3; do ./probe/bin/probe | grep first_map; done
        """)
    let bases = ProbeReport(result.stdout).all("first_map")
    try #require(bases.count == 4, "\(result)")
    // Where the kernel puts a PIE without randomization: ELF_ET_DYN_BASE.
    #expect(bases[0] == "555555554000", "\(result)")
    #expect(Set(bases.dropFirst()).count == 3, "three runs, three bases: \(result)")
    for base in bases.dropFirst() {
        let value = UInt64(base, radix: 16) ?? 0
        #expect(value >= 0x5555_5555_4000 && value < 0x5555_5555_4000 + (1 << 40), "\(base)")
    }
}

/// A chroot without /proc, the program run through a symlink: under the binfmt dispatch
/// runbottle comes from the F entry; under the PT_INTERP dispatch from the chroot, and it
/// resolves AT_EXECFN itself, component by component, to find the bottle.
@Test(arguments: [false, true])
func findsTheLoaderInAChrootWithoutProc(interp: Bool) throws {
    let rig = try RunbottleRig("chroot")
    defer { rig.dir.remove() }
    _ = try rig.bottle("probe", interp: interp)
    // F (the default): the kernel opens runbottle at registration, so the chroot need not
    // contain it. The PT_INTERP slot names runbottle's path, which the chroot must hold.
    let fixed = try run([try BuiltTools.binfmtReg(), "line", "--interpreter", rig.runbottle,
                         "--no-privileged-entry"])
    try #require(fixed.succeeded, "\(fixed)")
    let result = try inPrivateBinfmt("""
        root=\(rig.dir.path)/root
        \(interp
            ? "mkdir -p $root\(rig.dir.path) && cp \(rig.runbottle) $root\(rig.runbottle)"
            : "printf '%s\\n' '\(fixed.stdout.trimmingCharacters(in: .newlines))' > /proc/sys/fs/binfmt_misc/register")
        mkdir -p $root/opt $root/usr/bin
        cp -a \(rig.dir.path)/probe $root/opt/bottle
        ln -s ../../opt/bottle/bin/probe $root/usr/bin/probe
        test ! -e $root/proc
        # glibc's loader finds $ORIGIN through /proc/self/exe too: without /proc, natively as
        # here, the libraries need LD_LIBRARY_PATH. runbottle itself must manage without /proc.
        LD_LIBRARY_PATH=/opt/bottle/lib chroot $root /usr/bin/probe in-chroot
        """)
    #expect(result.succeeded, "\(result)")
    let r = ProbeReport(result.stdout)
    #expect(r.argv == ["/usr/bin/probe", "in-chroot"], "\(result)")
    // /proc/self/auxv is missing too; what the program reads from its own stack is right.
    #expect(r["at_flags"] == "0" && r["execfn"] == "/usr/bin/probe", "\(result)")
}

@Test func honoursPTGNUStackAsTheKernelDoes() throws {
    let rig = try RunbottleRig("execstack")
    defer { rig.dir.remove() }
    let source = Fixture.source("stack-maps.c")
    _ = try rig.bottle("exec", source: source, flags: ["-z", "execstack"])
    _ = try rig.bottle("noexec", source: source)
    let result = try rig.inBinfmt("./exec/bin/exec; ./noexec/bin/noexec")
    #expect(result.stdout.hasPrefix("rwxp "), "\(result)")
    #expect(result.stdout.split(separator: "\n").last?.hasPrefix("rw-p ") == true, "\(result)")
}

@Test func passesExitCodesAndDeathBySignal() throws {
    let rig = try RunbottleRig("status")
    defer { rig.dir.remove() }
    _ = try rig.bottle("probe")
    let result = try rig.inBinfmt("""
        set +e
        ./probe/bin/probe exit=0 >/dev/null; echo "status=$?"
        ./probe/bin/probe exit=42 >/dev/null; echo "status=$?"
        ./probe/bin/probe kill >/dev/null; echo "status=$?"
        """)
    #expect(result.stdout == "status=0\nstatus=42\nstatus=143\n", "\(result)")
}

@Test func reexecsItselfThroughProcSelfExe() throws {
    let rig = try RunbottleRig("reexec")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe")
    let result = try rig.inBinfmt("./probe/bin/probe reexec")
    #expect(result.succeeded, "\(result)")
    let child = Array(result.stdout.components(separatedBy: "argv[0]=reexec-child").dropFirst())
    try #require(child.count == 1, "\(result)")
    let r = ProbeReport("argv[0]=reexec-child" + child[0])
    r.expectNative(program: b.program, argv: ["reexec-child", "child-arg"])
}

private let plugin = "int plugin_value(void) { return 41 + 1; }\n"

@Test func dlopensABottledLibraryAndHonoursLDLibraryPath() throws {
    let rig = try RunbottleRig("dlopen")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe", flags: ["-ldl"])
    _ = try Bottles.addLibrary(name: "plugin", source: plugin, to: b)
    // A library only LD_LIBRARY_PATH can find: a secure-mode loader would ignore it.
    let extra = rig.dir.file("extra")
    try FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
    try Bottles.compile(Fixture.source("extra-plugin.c"), to: extra + "/libextra.so", sourceIn: extra,
                        flags: ["-shared", "-fPIC"])
    let result = try rig.inBinfmt("""
        ./probe/bin/probe dlopen=libplugin.so
        LD_LIBRARY_PATH=\(extra) ./probe/bin/probe dlopen=libextra.so
        """)
    #expect(result.succeeded, "\(result)")
    #expect(ProbeReport(result.stdout).all("dlopen") == ["42", "7"], "\(result)")
}

private let threads = Fixture.source("threads.c")

private let exceptions = Fixture.source("exceptions.cc")

@Test(arguments: [TestBottle.Libc.glibc, .musl])
func runsThreadsWithThreadLocalStorage(libc: TestBottle.Libc) throws {
    let rig = try RunbottleRig("threads")
    defer { rig.dir.remove() }
    _ = try rig.bottle("threads", libc: libc, source: threads, flags: ["-pthread"])
    let result = try rig.inBinfmt("mount --bind /dev/null /lib/ld-musl-x86_64.so.1\n./threads/bin/threads")
    #expect(result.stdout == "threads=26 main_tls=5\n", "\(result)")
}

@Test func catchesCPlusPlusExceptions() throws {
    let rig = try RunbottleRig("cxx")
    defer { rig.dir.remove() }
    _ = try rig.bottle("cxx", source: exceptions, cxx: true)
    let result = try rig.inBinfmt("./cxx/bin/cxx")
    #expect(result.stdout == "caught=deep 3\n", "\(result)")
}

/// A bottle whose program calls into a bottled library that crashes (or waits) there.
private func debuggee(_ rig: RunbottleRig, libc: TestBottle.Libc = .glibc, interp: Bool = false) throws -> TestBottle {
    let name = libc == .glibc ? "dbg" : "dbgmusl"
    let lib = rig.dir.file(name + "/lib")
    try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
    let cc = libc == .glibc ? "cc" : "musl-gcc"
    let built = try run([cc, "-g", "-shared", "-fPIC", "-o", lib + "/libdbglib.so", Fixture.path("libdbglib.c")])
    guard built.succeeded else { throw TestSupportError.launchFailed("\(cc) libdbglib.so", built.description) }
    return try rig.bottle(name, libc: libc, source: Fixture.source("dbg-main.c"), flags: ["-O0", "-L" + lib, "-ldbglib"], interp: interp)
}

private func expectBacktrace(_ out: String, _ b: TestBottle, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(out.contains("in_library ("), "\(out)", sourceLocation: sourceLocation)
    #expect(out.contains("main (argc="), "\(out)", sourceLocation: sourceLocation)
    #expect(out.contains(b.root + "/bin/../lib/libdbglib.so") || out.contains("libdbglib.c"),
            "\(out)", sourceLocation: sourceLocation)
}

@Test func gdbAttachesWithTheProgramsLibrariesAndStraceFollows() throws {
    let rig = try RunbottleRig("debuggers")
    defer { rig.dir.remove() }
    let b = try debuggee(rig)
    // Attaching reads /proc/PID/exe and /proc/PID/auxv after runbottle fixed both.
    let result = try rig.inBinfmt("""
        \(b.program) wait & pid=$!
        sleep 0.5
        gdb -nx -batch -p $pid -ex 'info sharedlibrary' -ex bt 2>&1
        kill $pid
        set +e
        strace -f -o strace.out \(b.program) 2>/dev/null; echo "strace_status=$?"
        grep -q 'prctl(PR_SET_MM, PR_SET_MM_MAP' strace.out && echo strace_saw_prctl=1
        """)
    expectBacktrace(result.stdout, b)
    #expect(result.stdout.contains("strace_status=134"), "\(result)")
    #expect(result.stdout.contains("strace_saw_prctl=1"), "\(result)")
}

private let repository = Repository.root

/// gdb as a user runs it (no -nx), with gdb/runbottle.py where `make install` puts it: gdb's
/// system gdbinit directory, bound over the host's in the test's mount namespace.
private func plainGDB(_ rig: RunbottleRig, _ commands: String, _ program: String, prelude: String = "",
                      wrapper: String = "") throws -> CommandResult {
    try rig.inBinfmt("""
        mount --bind \(repository)/gdb /etc/gdb/gdbinit.d
        \(prelude)
        HOME=\(rig.dir.path) \(wrapper) gdb -batch \(commands) \(program) 2>&1
        """)
}

@Test(arguments: [false, true])
func gdbRunFindsTheBottlesLibraries(interp: Bool) throws {
    let rig = try RunbottleRig("gdbrun")
    defer { rig.dir.remove() }
    let b = try debuggee(rig, interp: interp)
    // The command line of the issue, and the libraries gdb then knows.
    let result = try plainGDB(rig, "-ex run -ex bt -ex 'info sharedlibrary'", b.program)
    expectBacktrace(result.stdout, b)
    #expect(result.stdout.contains("__GI_abort ()") || result.stdout.contains(" abort ()"), "\(result)")
    // A breakpoint set before run, in the bottled library, is hit; the program is its own exe.
    let stopped = try plainGDB(rig, "-ex 'break in_library' -ex run -ex 'info sharedlibrary' -ex 'info proc'", b.program)
    #expect(stopped.stdout.contains("Breakpoint 1, in_library (wait=0)"), "\(stopped)")
    #expect(stopped.stdout.contains(b.root + "/bin/../lib/libc.so.6"), "\(stopped)")
    #expect(stopped.stdout.contains("exe = '\(b.program)'"), "\(stopped)")
}

@Test func gdbRunWithoutTheCapabilitySaysWhyInsteadOfAWrongBacktrace() throws {
    let rig = try RunbottleRig("gdbexplicit")
    defer { rig.dir.remove() }
    let b = try debuggee(rig)
    // What an ordinary user's gdb gets (the kernel grants no file capability under its
    // ptrace): runbottle without CAP_CHECKPOINT_RESTORE, so explicit mode.
    let result = try plainGDB(rig, "-ex run -ex bt", b.program,
                              wrapper: "setpriv --bounding-set -checkpoint_restore,-sys_admin --")
    let hint = "runbottle: \(b.program) runs through its loader's explicit mode, which gdb cannot follow"
    #expect(result.stdout.components(separatedBy: hint).count == 2, "\(result)")
    #expect(result.stdout.contains("gdb -p PID"), "\(result)")
    #expect(result.stdout.contains("Program received signal SIGABRT"), "\(result)")
}

/// Under the PT_INTERP dispatch the kernel's own exec runs under an ordinary user's gdb too.
@Test func anOrdinaryUsersGdbRunFindsTheLibrariesUnderPTInterp() throws {
    let rig = try RunbottleRig("gdbuser")
    defer { rig.dir.remove() }
    let b = try debuggee(rig, interp: true)
    // A mount namespace of its own (for the script's bind mount) but the host's users.
    let result = try shell("""
        unshare --mount --propagation private bash -c '
            mount --bind \(repository)/gdb /etc/gdb/gdbinit.d &&
            HOME=\(rig.dir.path) setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \\
                gdb -batch -ex "break in_library" -ex run -ex "info sharedlibrary" -ex bt \(b.program) 2>&1'
        """)
    #expect(result.stdout.contains("Breakpoint 1, in_library (wait=0)"), "\(result)")
    #expect(result.stdout.contains(b.root + "/lib/ld-linux-x86-64.so.2"), "\(result)")
    #expect(result.stdout.contains(b.root + "/bin/../lib/libc.so.6"), "\(result)")
    #expect(!result.stdout.contains("explicit mode"), "\(result)")
    expectBacktrace(result.stdout, b)
}

@Test func gdbRunFindsAMuslBottlesLoaderWhereTheHostHasNone() throws {
    let rig = try RunbottleRig("gdbmusl")
    defer { rig.dir.remove() }
    let b = try debuggee(rig, libc: .musl)
    // No musl on the host: the program's PT_INTERP path does not exist; gdb must find the
    // loader (musl's libc) in the bottle.
    let result = try plainGDB(rig, "-ex 'break in_library' -ex run -ex 'info sharedlibrary' -ex bt", b.program,
                              prelude: "mount -t tmpfs tmpfs /usr/lib/x86_64-linux-musl")
    #expect(result.stdout.contains("Breakpoint 1, in_library (wait=0)"), "\(result)")
    // gdb/runbottle.py names the loader in link_map by the file mapped at AT_BASE.
    #expect(result.stdout.contains(b.root + "/lib/ld-musl-x86_64.so.1"), "\(result)")
    #expect(result.stdout.contains(b.root + "/bin/../lib/libdbglib.so"), "\(result)")
    #expect(result.stdout.contains("main (argc="), "\(result)")
}

/// bottle(5), runbottle(8): under the binfmt dispatch runbottle leaves through the trampoline in
/// the binary's PT_INTERP slot, mapped from the binary. A slot without it (format 1's second
/// revision) or with bytes that are not runbottle's own trampoline still runs natively, through a
/// memfd copy, and `seal` brings it up to date in place. Neither is memory written then executed.
@Test(arguments: [TestBottle.Libc.glibc, .musl])
func theTrampolineComesFromTheSlotAndElseFromAMemfd(libc: TestBottle.Libc) throws {
    let rig = try RunbottleRig("slot-trampoline")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe", libc: libc)
    let file = try ELFFile(path: b.program)
    let interp = try #require(try ELFImage.parse(file).first(ELF.PT_INTERP))
    let tail = Int(interp.p_offset) + SealFormat.slotTrampolineOffset
    let trampoline = try file.read(at: UInt64(tail), count: SealFormat.slotTrampolineMax, .interpreter)
    try #require(trampoline.contains { $0 != 0 }, "seal wrote no trampoline")
    // Format 1's second revision: NULs. Tampered: one byte of the trampoline changed.
    var tampered = trampoline
    tampered[0] ^= 0xff
    for (name, bytes) in [("second-revision", [UInt8](repeating: 0, count: trampoline.count)), ("tampered", tampered)] {
        try #require(try run(["cp", "-a", b.program, b.root + "/bin/" + name]).succeeded)
        try ELFBytes.patch(b.root + "/bin/" + name, at: tail, bytes)
    }

    let result = try rig.inBinfmt("""
        ./probe/bin/probe new && ./probe/bin/second-revision old && ./probe/bin/tampered tampered
        """)
    #expect(result.succeeded && result.stderr.isEmpty, "\(result)")
    let runs = result.stdout.components(separatedBy: "argv[0]=").dropFirst().map { ProbeReport("argv[0]=" + $0) }
    try #require(runs.count == 3, "\(result)")
    runs[0].expectNative(program: b.program, argv: ["./probe/bin/probe", "new"])
    #expect(runs[0]["slot_trampoline_maps"] == "1" && runs[0]["runbottle_maps"] == "0", "\(result)")
    runs[1].expectNative(program: b.root + "/bin/second-revision", argv: ["./probe/bin/second-revision", "old"])
    runs[2].expectNative(program: b.root + "/bin/tampered", argv: ["./probe/bin/tampered", "tampered"])
    for run in runs.dropFirst() {
        #expect(run["slot_trampoline_maps"] == "0" && run["runbottle_maps"] == "1", "\(result)")
    }

    // seal writes the trampoline back, changing nothing else.
    let old = b.root + "/bin/second-revision"
    let resealed = try binfmtReg(["seal", "-v", "--dispatch", "binfmt", old])
    #expect(resealed.status == 0, "\(resealed)")
    #expect(resealed.stdout.hasPrefix("updated \(old): PT_INTERP slot's tail -> runbottle's trampoline\n"), "\(resealed)")
    #expect(try bytes(old) == bytes(b.program))
}
