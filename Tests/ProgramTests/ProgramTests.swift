// The program corpus (issue 13): real Debian programs (java, gcc, python3, node, git, perl,
// ruby, curl, sqlite3, jq, busybox, bash, tar with xz, xz, openssl) bottled with
// `binfmt-reg bottle`, moved, and run on the host, in a chroot holding only the bottle and in a
// Docker container FROM scratch, each against the host program's own run (Tests/Programs/run.sh).
import Foundation
import Testing
import TestSupport

@Suite struct ProgramTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    /// Every program of the corpus: packed, then run at three places.
    static let corpus = ["bash", "jq", "sqlite3", "busybox", "tar", "xz", "openssl", "curl", "perl",
                         "ruby", "node", "git", "python3", "java", "gcc"]

    @Test func everyProgramRunsFromItsMovedBottleAsOnTheHost() throws {
        let script = Self.repository.appendingPathComponent("Tests/Programs/run.sh").path
        let result = try run(["bash", script, try BuiltTools.binfmtReg()])
        print(result.stdout, terminator: "")
        // One line per check ("programs NAME PLACE: ok (...)" or ": FAILED: why"), then the total.
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("programs ") }
        let failures = lines.filter { !$0.contains(": ok") }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(result.stderr)")
        // No program skipped: the tools, the host's entry, then each program's four checks.
        let expected = ["programs tools:", "programs holder:"] + Self.corpus.flatMap { name in
            ["pack", "host", "chroot", "docker"].map { "programs \(name) \($0):" }
        }
        let ran = lines.map { String($0.prefix { $0 != ":" }) + ":" }
        #expect(ran == expected, "\(result.stdout)")
        #expect(result.stdout.contains("programs: \(expected.count) passed, 0 failed"), "\(result.stdout)")
        #expect(result.succeeded, "\(result)")
    }

}
