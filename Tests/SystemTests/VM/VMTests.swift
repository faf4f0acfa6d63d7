// Debian's own kernels of other releases and architectures, booted under qemu by Tests/SystemTests/VM/suite/run.sh:
// bullseye's 5.10 (before the 5.18 AT_PHDR rule and 6.7's padzero change), bookworm's 6.1,
// trixie's 6.12, and trixie's arm64 6.12. In each, glibc and musl probes and Debian's own
// readlink run sealed for both dispatches, as root and as an ordinary user, against their
// native reference, and the binfmt dispatch's trampoline is mapped from the sealed binary; a user
// namespace mounts its own binfmt_misc instance from 6.7 and is refused before; the x86-64 VMs
// run binfmt-reg install, status and uninstall themselves.
import Foundation
import Testing
import TestSupport

@Suite struct VMTests {
    static var script: String {
        Repository.path("Tests/SystemTests/VM/suite/run.sh")
    }

    /// Each kernel and the checks its VM reports (Tests/SystemTests/VM/suite/run.sh, `checks`):
    /// 22 in every VM, and in the x86-64 ones binfmt-reg's own install, status and uninstall
    /// (make release-static's binfmt-reg; no Swift SDK for aarch64 here).
    static let checksPerVM = ["bullseye-amd64": 25, "bookworm-amd64": 25, "trixie-amd64": 25, "trixie-arm64": 22]

    @Test func everyKernelRunsSealedProgramsAsNatively() throws {
        let result = try run(["bash", Self.script, "--binfmt-reg", try BuiltTools.binfmtReg()])
        // One line per kernel and check, and the total, in the test log.
        print(result.stdout, terminator: "")
        let lines = result.stdout.split(separator: "\n").filter {
            let fields = $0.split(separator: " ")
            return fields.count >= 5 && fields[0] == "vm:" && (fields[4] == "ok" || fields[4] == "FAIL")
        }
        let failures = lines.filter { $0.split(separator: " ")[4] == "FAIL" }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(result.stderr)")
        // Every kernel reported every check: none is skipped silently.
        for (kernel, checks) in Self.checksPerVM {
            #expect(lines.filter { $0.split(separator: " ")[1] == kernel }.count == checks,
                    "\(kernel): \(result.stdout)")
        }
        let total = Self.checksPerVM.values.reduce(0, +)
        #expect(result.stdout.contains("vm: \(total) passed, 0 failed\n"), "\(result.stdout)")
        #expect(result.succeeded, "\(result)")
    }
}
