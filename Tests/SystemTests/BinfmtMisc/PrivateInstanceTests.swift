// The test harness's private binfmt_misc instance really is private and empty.
import Foundation
import TestSupport
import Testing

@Test func privateInstanceStartsEmptyAndEnabled() throws {
    let result = try inPrivateBinfmt("cat /proc/sys/fs/binfmt_misc/status; ls /proc/sys/fs/binfmt_misc")
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout == "enabled\nregister\nstatus\n")
}

/// Before Linux 6.7 a user namespace mounts no binfmt_misc of its own, and the commands that
/// need one run in the VM of instance-vm.sh (PrivateInstance). Run here through it, whatever
/// this kernel: a newer kernel, this machine's files at the same paths, a sealed program run
/// through an entry of the namespace's own instance, and the command's stdout, stderr and exit
/// status relayed.
@Test func theInstanceVMRunsWhatNeedsAnInstanceOfItsOwn() throws {
    let (dir, bottle) = try Sandbox.bottle("instance-vm")
    defer { dir.remove() }
    let runbottle = try BuiltTools.writeRunbottle(into: dir.path)
    let line = try binfmtReg(["line", "--interpreter", runbottle, "--no-privileged-entry"])
    try #require(line.succeeded, "\(line)")
    let script = """
        set -euo pipefail
        \(mountPrivateBinfmtMisc)
        printf '%s' "$LINE" > /proc/sys/fs/binfmt_misc/register
        echo "release=$(uname -r)"
        cd \(dir.path) && "$PROGRAM" one
        echo "to stderr" >&2
        exit 3
        """
    let result = try run(
        ["bash", Repository.path("Tests/SystemTests/lib/instance-vm.sh"),
         "unshare", "--user", "--map-root-user", "--mount", "--propagation", "private", "bash", "-c", script],
        environment: ProcessInfo.processInfo.environment.merging(
            ["LINE": line.stdout, "PROGRAM": bottle.program]) { $1 })
    #expect(result.status == 3, "\(result)")
    #expect(result.stderr == "to stderr\n", "\(result)")
    let r = ProbeReport(result.stdout)
    let release = (r["release"] ?? "").split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
    #expect(release.count >= 2 && (release[0], release[1]) >= (6, 7), "\(result)")
    #expect(r["exe"] == bottle.program, "\(result)")
    #expect(r["argv[1]"] == "one", "\(result)")
}

/// instance-vm.sh --needed says the VM is needed exactly where this kernel refuses a user
/// namespace's mount of binfmt_misc, and always with BINFMT_BOTTLE_USERNS_INSTANCE=refused.
@Test func theInstanceVMIsNeededWhereTheKernelRefusesAnInstance() throws {
    let vm = Repository.path("Tests/SystemTests/lib/instance-vm.sh")
    let mount = try run(["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
                         "sh", "-c", "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc"])
    var environment = ProcessInfo.processInfo.environment
    environment["BINFMT_BOTTLE_USERNS_INSTANCE"] = nil
    let needed = try run(["bash", vm, "--needed"], environment: environment)
    #expect(needed.succeeded == !mount.succeeded, "mount: \(mount); --needed: \(needed)")
    let forced = try run(["bash", vm, "--needed"], environment: ["BINFMT_BOTTLE_USERNS_INSTANCE": "refused", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    #expect(forced.succeeded && forced.stdout.contains("BINFMT_BOTTLE_USERNS_INSTANCE=refused"), "\(forced)")
}
