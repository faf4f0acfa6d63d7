// The Debian package (make deb, which make check runs first) as a user installs it: dpkg into a
// debootstrap'd bookworm root with no Swift, in namespaces with a binfmt_misc of their own
// (Tests/SystemTests/Package/suite/run.sh). lintian has already passed on it in make deb.
import Foundation
import Testing
import TestSupport

struct NoPackage: Error, CustomStringConvertible {
    var description: String
}

@Suite struct PackageTests {
    static let repository = URL(fileURLWithPath: Repository.root)

    /// dist/binfmt-bottle_VERSION_ARCH.deb, the one package make deb wrote.
    static func package() throws -> String {
        let dist = repository.appendingPathComponent("dist").path
        let debs = (try? FileManager.default.contentsOfDirectory(atPath: dist))?
            .filter { $0.hasPrefix("binfmt-bottle_") && $0.hasSuffix(".deb") } ?? []
        guard debs.count == 1 else { throw NoPackage(description: "\(debs.count) packages in \(dist): run make deb") }
        return dist + "/" + debs[0]
    }

    @Test func thePackageInstallsRegistersRunsAndRemovesCleanly() throws {
        let result = try run(["bash", Self.repository.appendingPathComponent("Tests/SystemTests/Package/suite/run.sh").path,
                              try Self.package()])
        print(result.stdout, terminator: "")
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("package: ") && !$0.contains(" passed, ") }
        let failures = lines.filter { $0.split(separator: " ").dropFirst(2).first == "FAIL" }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(result.stderr)")
        // Every check ran: none is skipped silently.
        let checks = ["root", "bottle", "mounts", "dpkg-install", "dpkg-verify", "runs-without-swift", "status",
                      "interp-dispatch", "binfmt-dispatch", "boot-registers", "uninstall-holds", "dpkg-purge",
                      "nothing-comes-back"]
        let ran = lines.compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
        #expect(ran == checks, "\(result.stdout)")
        #expect(result.stdout.hasSuffix("package: \(checks.count) passed, 0 failed\n"), "\(result.stdout)")
        #expect(result.succeeded, "\(result)")
    }
}
