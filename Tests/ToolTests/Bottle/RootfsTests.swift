// What bottle --rootfs refuses, on files alone: another file at runbottle's path, and --sysroot.
import Bottling
import ELFEngine
import Foundation
import TestSupport
import Testing

private let rootProbe = Fixture.source("rootfs-probe.c")

@Suite struct RootfsRefusalTests {
    /// What --rootfs refuses: another file at runbottle's path, in this run or in the bottle
    /// already (one line naming both, nothing written), and --sysroot, whose programs this machine's runbottle cannot start.
    @Test func rootfsRefusals() throws {
        let rig = try BottleRig("bottle-rootfs-refusals")
        defer { rig.dir.remove() }
        let program = try rig.compile("probe", rootProbe)
        let root = rig.dir.path + "/root"
        let clash = try rig.bottle([program, "--rootfs", "--interpreter", SealFormat.runbottlePath,
                                    "--include", "/bin/true=usr/libexec/runbottle", "-o", root])
        #expect(clash.status == 1 && clash.stderr == "binfmt-reg: usr/libexec/runbottle: two different files for one name: the runbottle built into binfmt-reg (--rootfs) and the program /bin/true (--include /bin/true=usr/libexec/runbottle)\n", "\(clash)")
        #expect(!FileManager.default.fileExists(atPath: root))
        // The same across two runs: the file the bottle has stays, and the run says why.
        #expect(try rig.bottle([program, "--include", "/bin/true=usr/libexec/runbottle", "-o", root]).succeeded)
        let before = try rig.snapshot(root)
        let later = try rig.bottle([program, "--rootfs", "--interpreter", SealFormat.runbottlePath, "-o", root])
        #expect(later.status == 1 && later.stderr == "binfmt-reg: \(root)/usr/libexec/runbottle: two different files for one name: /bin/true (already in the bottle) and \(Bottler.builtInRunbottle) (--rootfs)\n", "\(later)")
        #expect(try rig.snapshot(root) == before)
        let cross = try rig.bottle([program, "--rootfs", "--sysroot", "/usr/aarch64-linux-gnu", "-o", root])
        #expect(cross.status == 64 && cross.stderr.contains("--rootfs writes runbottle for this machine: with --sysroot, bring the target's runbottle with --include PATH="), "\(cross)")
    }
}
