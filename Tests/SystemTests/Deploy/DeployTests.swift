// The installer image and the Kubernetes DaemonSet (deploy/): deploy/test.sh builds the image
// from the fully static binfmt-reg (make release-static), registers uniquely
// named entries in this host's binfmt_misc from a container, runs a sealed program through them,
// removes them, validates deploy/daemonset.yaml and runs its pod spec under dockerd.
import Foundation
import Testing
import TestSupport

@Suite struct DeployTests {
    static let repository = URL(fileURLWithPath: Repository.root)

    @Test func theInstallerImageAndTheDaemonSetRegisterAndRemoveTheEntries() throws {
        // The image's binfmt-reg: make release-static, which make check runs first.
        let shipped = Self.repository.appendingPathComponent(".build-image/release/binfmt-reg").path
        let result = try run(["bash", Self.repository.appendingPathComponent("deploy/test.sh").path, shipped])
        print(result.stdout, terminator: "")
        // One line per check ("deploy NAME: ok" or "deploy NAME: FAILED: why"), then the total.
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("deploy ") }
        let failures = lines.filter { !$0.contains(": ok") }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(result.stderr)")
        #expect(lines.count >= 20, "\(result.stdout)")
        #expect(result.stdout.contains("deploy: \(lines.count) passed, 0 failed"), "\(result.stdout)")
        #expect(result.succeeded, "\(result)")
    }
}
