// The program corpus (issue 13): real Debian programs (java, gcc, python3, node, git, perl,
// ruby, curl, sqlite3, jq, busybox, bash, tar with xz, xz, openssl) bottled with
// `binfmt-reg bottle`, moved, and run on the host, in a chroot holding only the bottle and in a
// Docker container FROM scratch, and bottled with --rootfs and run as an image with no
// binfmt_misc entry, each against the host program's own run (Tests/SystemTests/Programs/suite/run.sh).
import Foundation
import Testing
import TestSupport

@Suite struct ProgramTests {
    static let repository = URL(fileURLWithPath: Repository.root)
    /// Every program of the corpus: packed, then run at three places, and packed again with
    /// --rootfs and run as an image with no entry.
    static let corpus = ["bash", "jq", "sqlite3", "busybox", "tar", "xz", "openssl", "curl", "perl",
                         "ruby", "node", "git", "python3", "java", "gcc"]

    @Test func everyProgramRunsFromItsMovedBottleAsOnTheHost() throws {
        let script = Self.repository.appendingPathComponent("Tests/SystemTests/Programs/suite/run.sh").path
        let result = try run(["bash", script, try BuiltTools.binfmtReg()])
        print(result.stdout, terminator: "")
        // One line per check ("programs NAME PLACE: ok (...)" or ": FAILED: why"), then the total.
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("programs ") }
        let failures = lines.filter { !$0.contains(": ok") }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(result.stderr)")
        // No program skipped: the tools, the host's entry, where the chroots register, then each
        // program's five checks.
        let expected = ["programs tools:", "programs holder:", "programs instance:"] + Self.corpus.flatMap { name in
            ["pack", "host", "chroot", "docker", "rootfs"].map { "programs \(name) \($0):" }
        }
        let ran = lines.map { String($0.prefix { $0 != ":" }) + ":" }
        #expect(ran == expected, "\(result.stdout)")
        #expect(result.stdout.contains("programs: \(expected.count) passed, 0 failed"), "\(result.stdout)")
        #expect(result.succeeded, "\(result)")
    }

    /// binfmt-reg(8)'s EXAMPLES for java, python and gcc are the bottles the corpus runs: each
    /// example, run with a binfmt-reg that prints its arguments, gives the corpus's programs and
    /// options (the corpus adds bash to every bottle; java's example names it).
    @Test(arguments: [("java", "Java:"), ("python3", "Python:"), ("gcc", "gcc:")])
    func theManPageExamplesAreTheCorpusBottles(name: String, paragraph: String) throws {
        let script = Self.repository.appendingPathComponent("Tests/SystemTests/Programs/suite/run.sh").path
        let corpus = try run(["bash", script, try BuiltTools.binfmtReg(), "--arguments", name])
        try #require(corpus.succeeded, "\(corpus)")
        let page = try String(contentsOfFile: Self.repository.appendingPathComponent("man/binfmt-reg.8").path, encoding: .utf8)
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix(paragraph) }, "no paragraph \(paragraph) in binfmt-reg(8)")
        let ex = try #require(lines[start...].firstIndex(of: ".EX"))
        let ee = try #require(lines[ex...].firstIndex(of: ".EE"))
        let example = lines[(ex + 1)..<ee].joined(separator: "\n")
            .replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\e", with: "\\")
        let printed = try shell("binfmt-reg() { printf '%s\\n' \"$@\"; }\n" + example)
        try #require(printed.succeeded, "\(printed)")
        var arguments = printed.stdout.split(separator: "\n").map(String.init)
        let prefix = ["bottle", "--dispatch", "binfmt", "-o"]
        #expect(Array(arguments.prefix(4)) == prefix, "\(example)")
        arguments.removeFirst(min(5, arguments.count))
        arguments.removeAll { $0 == "/usr/bin/bash" }
        #expect(arguments == corpus.stdout.split(separator: "\n").map(String.init), "\(example)")
    }
}
