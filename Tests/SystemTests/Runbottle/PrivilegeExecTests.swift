// Privilege through runbottle: an ordinary user's exec gains nothing through either dispatch,
// the explicit-mode fallback, and a setuid bottle whose hard link must not choose its loader.
import Foundation
import Testing
import TestSupport

@Test(arguments: [TestBottle.Libc.glibc, .musl])
func anOrdinaryUserGetsANativeExecThroughPTInterp(libc: TestBottle.Libc) throws {
    let rig = try RunbottleRig("unprivileged")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe", libc: libc, flags: ["-ldl"].filter { _ in libc == .glibc },
                           interp: true)
    let extra = rig.dir.file("extra")
    try FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
    try Bottles.compile(Fixture.source("extra-plugin.c"), to: extra + "/libextra.so", sourceIn: extra,
                        flags: ["-shared", "-fPIC"])
    // No binfmt_misc entry at all: the kernel's own ELF loader starts runbottle from PT_INTERP.
    let result = try run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
         "env", "LD_LIBRARY_PATH=" + extra, "./probe/bin/probe", "dlopen=libextra.so"],
        currentDirectory: rig.dir.path)
    #expect(result.succeeded, "\(result)")
    let r = ProbeReport(result.stdout)
    #expect(r["exe"] == b.program, "\(result)")
    #expect(r.all("status").contains("CapEff:\t0000000000000000"), "\(result)")
    #expect(r.all("status").contains("Uid:\t65534\t65534\t65534\t65534"), "\(result)")
    #expect(r["at_secure"] == "0", "\(result)")
    #expect(r["dumpable"] == "1", "\(result)")
    if libc == .glibc { #expect(r["dlopen"] == "7", "LD_LIBRARY_PATH must count: \(result)") }
    #expect(r.argv == ["./probe/bin/probe", "dlopen=libextra.so"])
    #expect(r["cmdline"] == "./probe/bin/probe dlopen=libextra.so ", "\(result)")
    // runbottle(8) CAVEATS: its image stays mapped, once, as the kernel mapped it.
    #expect(r["leaked_fds"] == "0" && r["runbottle_maps"] == "1", "\(result)")
}

@Test(arguments: [TestBottle.Libc.glibc, .musl])
func withoutTheCapabilityTheLoaderRunsInExplicitMode(libc: TestBottle.Libc) throws {
    let rig = try RunbottleRig("fallback")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe", libc: libc, flags: ["-ldl"].filter { _ in libc == .glibc })
    _ = try Bottles.addLibrary(name: "plugin", source: "int plugin_value(void) { return 42; }\n", to: b)
    let result = try run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
         "env", "RUNBOTTLE_DEBUG=1", rig.runbottle, "probe/bin/probe", "dlopen=libplugin.so", "x y"],
        currentDirectory: rig.dir.path)
    #expect(result.succeeded, "\(result)")
    let r = ProbeReport(result.stdout)
    // $ORIGIN still resolves inside the bottle: the loader got the binary's real path.
    #expect(r["dlopen"] == "42", "\(result)")
    #expect(r.argv == ["probe/bin/probe", "dlopen=libplugin.so", "x y"], "\(result)")
    #expect(r["cmdline"] == "probe/bin/probe dlopen=libplugin.so x y ", "\(result)")
    #expect(r["exe"] == rig.runbottle, "\(result)")
    #expect(r["leaked_fds"] == "0", "\(result)")
    #expect(result.stderr == "runbottle: probe/bin/probe: /proc/self/exe names runbottle: no "
            + "CAP_CHECKPOINT_RESTORE, running the loader in explicit mode: \(b.root)/bin/../lib/"
            + (libc == .glibc ? "ld-linux-x86-64.so.2" : "ld-musl-x86_64.so.1") + "\n")
}

@Test(arguments: [false, true])
func aHardLinkedSetuidBottleCannotChooseItsLoader(interp: Bool) throws {
    let rig = try RunbottleRig("hardlink")
    defer { rig.dir.remove() }
    let b = try Bottles.build(name: "probe", source: probeSource, in: rig.dir.file("probe"), seal: false)
    chmod(b.program, 0o4755)
    let dispatch = interp ? ["--interpreter", rig.runbottle] : ["--dispatch", "binfmt"]
    let sealed = try run([try BuiltTools.binfmtReg(), "seal"] + dispatch + [b.program])
    try #require(sealed.succeeded, "\(sealed)")
    // A full uid map, so that an ordinary user exists inside; /mnt is a root-owned tmpfs (the
    // trusted tree), /mnt/home an ordinary user's directory on the same file system.
    let script = """
        set -euo pipefail
        \(mountPrivateBinfmtMisc)
        \(rig.registration)
        mount -t tmpfs -o mode=0755 tmpfs /mnt
        cp -a \(b.root) /mnt/bottle
        mkdir -p /mnt/home/evil/bin /mnt/home/evil/lib
        cp /mnt/bottle/lib/* /mnt/home/evil/lib/
        chown -R 65534:65534 /mnt/home
        # As if fs.protected_hardlinks were off: the link the attack needs.
        ln /mnt/bottle/bin/probe /mnt/home/evil/bin/probe
        as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
        set +e
        as_user /mnt/bottle/bin/probe; echo "trusted_status=$?"
        as_user /mnt/home/evil/bin/probe; echo "attack_status=$?"
        """
    let result = try inNamespaceWithUsers(script, directory: rig.dir.path)
    let r = ProbeReport(result.stdout)
    // The genuine bottle: a setuid-root program, AT_SECURE kept for its loader.
    #expect(r["trusted_status"] == "0", "\(result)")
    #expect(r.all("status").contains("Uid:\t65534\t0\t0\t0"), "\(result)")
    #expect(r["at_secure"] == "1", "\(result)")
    #expect(r["dumpable"] == "0", "a setuid program stays undumpable: \(result)")
    #expect(r["exe"] == "/mnt/bottle/bin/probe", "\(result)")
    // The hard link: its loader is the user's, so runbottle refuses before running anything.
    #expect(r["attack_status"] == "126", "\(result)")
    #expect(result.stderr.contains("runbottle: /mnt/home/evil/bin/probe: privileged program: "
                                   + "untrusted loader"), "\(result)")
    #expect(!result.stdout.contains("argv[0]=/mnt/home/evil/bin/probe"), "\(result)")
}

/// Runs `script` as root of a new user namespace that maps uids and gids 0-65535 one to one
/// (written from outside, as newuidmap would), with a mount namespace of its own.
private func inNamespaceWithUsers(_ script: String, directory: String) throws -> CommandResult {
    let fifo = directory + "/maps-written"
    guard mkfifo(fifo, 0o600) == 0 else { throw TestSupportError.launchFailed("mkfifo", fifo) }
    return try PrivateInstance.run(["bash", "-c", """
        set -euo pipefail
        unshare --user --mount --propagation private bash -c 'read -r _ < \(fifo); exec bash -c "$0"' '\(script.replacingOccurrences(of: "'", with: "'\\''"))' &
        pid=$!
        until [ "$(readlink /proc/$pid/ns/user)" != "$(readlink /proc/self/ns/user)" ]; do sleep 0.01; done
        echo '0 0 65536' > /proc/$pid/uid_map
        echo '0 0 65536' > /proc/$pid/gid_map
        echo go > \(fifo)
        wait $pid
        """])
}
