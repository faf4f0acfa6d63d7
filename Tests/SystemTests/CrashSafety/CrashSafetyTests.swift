// Kills the writing commands with SIGKILL at many points (strace's syscall fault injection) and
// checks that every file is then either the original or the complete result, and that running
// the command again finishes the job.
import Foundation
import TestSupport
import Testing

/// The syscalls a writing command could be killed at, one injection point each.
private let killPoints = [
    "openat", "read", "pread64", "write", "pwrite64", "copy_file_range", "sendfile", "ftruncate",
    "fsync", "fdatasync", "syncfs", "fchmod", "fchown", "fsetxattr", "linkat", "rename",
    "renameat", "renameat2", "unlinkat", "close",
]
/// How many invocations of one syscall are tried: the first few, then evenly spaced ones.
private let samplesPerSyscall = 8

/// A tree of files, relative path to contents.
private typealias Tree = [String: Data]

private func snapshot(_ root: String) throws -> Tree {
    var tree = Tree()
    let walker = FileManager.default.enumerator(atPath: root)
    while let relative = walker?.nextObject() as? String {
        let path = root + "/" + relative
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
        tree[relative] = try Data(contentsOf: URL(fileURLWithPath: path))
    }
    return tree
}

private func copyTree(_ from: String, to: String) throws {
    let copied = try run(["cp", "-a", from, to])
    guard copied.succeeded else { throw BottleBuilderError.failed("cp -a \(from)", copied) }
}

/// Calls per syscall of one complete run of `argv`, from `strace -c`.
private func syscallCounts(_ argv: [String], scratch: String) throws -> [String: Int] {
    let summary = scratch + "/strace-summary"
    let traced = try run(["strace", "-f", "-qq", "-c", "-o", summary] + argv)
    guard traced.succeeded else { throw BottleBuilderError.failed("strace -c", traced) }
    var counts: [String: Int] = [:]
    for line in try String(contentsOfFile: summary, encoding: .utf8).split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // "% time  seconds  usecs/call  calls  [errors]  syscall"
        guard fields.count >= 5, let calls = Int(fields[3]), let name = fields.last,
              killPoints.contains(String(name)) else { continue }
        counts[String(name)] = calls
    }
    return counts
}

private func samples(upTo count: Int) -> [Int] {
    if count <= samplesPerSyscall { return Array(1...max(count, 1)) }
    let head = [1, 2, 3]
    let spaced = (1...(samplesPerSyscall - 3)).map { 3 + $0 * (count - 3) / (samplesPerSyscall - 3) }
    return Array(Set(head + spaced)).sorted()
}

/// The outcome of killing one command at every sampled point.
private struct KillReport: CustomStringConvertible {
    var injections = 0
    var killed = 0
    var filesInBetween = 0
    var description: String {
        "\(injections) injections, \(killed) runs killed, \(filesInBetween) files seen mid-run "
            + "already finished"
    }
}

/// Runs `command` on copies of `original` killed at each sampled syscall; checks each file is
/// in `original` or `finished` (a leftover temporary aside), that a second, unkilled run
/// reaches `finished` exactly, leftovers removed, and that more than `minimumKills` of the
/// injections killed the run. Prints the report under `label`.
private func killAtEveryPoint(
    _ label: String, _ command: [String], original: String, finished: Tree, scratch: String,
    minimumKills: Int, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let before = try snapshot(original)
    let work = workPath(scratch)
    try copyTree(original, to: work)
    let counts = try syscallCounts(command + [work], scratch: scratch)
    _ = try run(["rm", "-rf", work])
    #expect(!counts.isEmpty, "strace saw none of the write-path syscalls")
    var report = KillReport()
    for (syscall, count) in counts.sorted(by: { $0.key < $1.key }) {
        for n in samples(upTo: count) {
            try copyTree(original, to: work)
            let injected = try run(
                ["strace", "-f", "-qq", "-o", "/dev/null",
                 "-e", "inject=\(syscall):signal=KILL:when=\(n)"] + command + [work])
            report.injections += 1
            if injected.status == 137 || injected.signaled { report.killed += 1 }

            let after = try snapshot(work)
            for (path, bytes) in after {
                if before[path] == bytes { continue }
                // The temporary a run killed between link and rename leaves; the next run
                // removes it (checked below).
                if path.hasSuffix(".bottle-tmp") { continue }
                if finished[path] == bytes { report.filesInBetween += 1; continue }
                Issue.record("\(syscall)#\(n): \(path) is neither the original nor the result")
            }
            for path in before.keys where after[path] == nil {
                Issue.record("\(syscall)#\(n): \(path) is gone")
            }

            let again = try run(command + [work])
            #expect(again.succeeded, "\(syscall)#\(n): the second run failed: \(again)")
            let repaired = try snapshot(work)
            #expect(Set(repaired.keys) == Set(finished.keys),
                    "\(syscall)#\(n): files differ: \(Set(repaired.keys).symmetricDifference(finished.keys))")
            for (path, bytes) in finished where repaired[path] != bytes {
                Issue.record("\(syscall)#\(n): \(path) differs from the complete result after a rerun")
            }
            _ = try run(["rm", "-rf", work])
        }
    }
    #expect(report.killed > minimumKills, "too few kills landed: \(report)", sourceLocation: sourceLocation)
    print("crash-safety \(label): \(report)")
}

/// Where every run works: relocate's result names this path, so the complete result and each
/// killed run must be made at the same one.
private func workPath(_ scratch: String) -> String { scratch + "/work" }

/// The tree one complete, unkilled run of `command` makes from a copy of `original`.
private func completeRun(_ command: [String], on original: String, scratch: String) throws -> Tree {
    let work = workPath(scratch)
    try copyTree(original, to: work)
    defer { _ = try? run(["rm", "-rf", work]) }
    let result = try run(command + [work])
    #expect(result.succeeded, "\(command.joined(separator: " ")): \(result)")
    return try snapshot(work)
}

/// A bottle with several sealable programs and the libraries seal must skip.
private func makeTree(in directory: String) throws -> String {
    let root = directory + "/bottle"
    let hello = Fixture.source("hello-bottle.c")
    _ = try Bottles.build(name: "pie", source: hello, in: root, seal: false)
    _ = try Bottles.build(name: "nopie", source: hello, in: root, pie: false, seal: false)
    for copy in ["pie2", "pie3"] {
        try FileManager.default.copyItem(atPath: root + "/bin/pie", toPath: root + "/bin/" + copy)
    }
    return root
}

@Suite(.serialized) struct CrashSafetyTests {
    @Test func sealSurvivesSIGKILLAtEveryWriteStep() throws {
        let scratch = try TemporaryDirectory("crash-seal")
        defer { scratch.remove() }
        let tool = try BuiltTools.binfmtReg()
        let original = try makeTree(in: scratch.path)

        let finished = try completeRun([tool, "seal"], on: original, scratch: scratch.path)
        #expect(finished != (try snapshot(original)), "sealing changed nothing")

        try killAtEveryPoint("seal", [tool, "seal"], original: original, finished: finished,
                             scratch: scratch.path, minimumKills: 20)
    }

    @Test func relocateSurvivesSIGKILLAtEveryWriteStep() throws {
        let scratch = try TemporaryDirectory("crash-relocate")
        defer { scratch.remove() }
        let tool = try BuiltTools.binfmtReg()
        // A sealed bottle built elsewhere: every slot is stale at the work path.
        let built = try makeTree(in: scratch.path)
        let sealing = try run([tool, "seal", built])
        #expect(sealing.succeeded, "\(sealing)")
        let original = scratch.path + "/moved"
        try copyTree(built, to: original)

        let finished = try completeRun([tool, "relocate"], on: original, scratch: scratch.path)
        #expect(finished != (try snapshot(original)), "relocating changed nothing")

        try killAtEveryPoint("relocate", [tool, "relocate"], original: original, finished: finished,
                             scratch: scratch.path, minimumKills: 10)
    }

    /// With --rootfs, runbottle (written from binfmt-reg's own bytes) and /tmp are made in the
    /// same stage: a killed run leaves the directory as it was or the whole root.
    @Test(arguments: [[], ["--rootfs"]])
    func bottleSurvivesSIGKILLAtEveryWriteStep(options: [String]) throws {
        let scratch = try TemporaryDirectory("crash-bottle")
        defer { scratch.remove() }
        let tool = try BuiltTools.binfmtReg()
        let program = try Bottles.build(
            name: "hello", source: Fixture.source("hello-bottle.c"),
            in: scratch.path + "/source", seal: false).program
        let original = scratch.path + "/empty"
        try FileManager.default.createDirectory(atPath: original, withIntermediateDirectories: false)
        let command = [tool, "bottle"] + options + [program, "-o"]

        let finished = try completeRun(command, on: original, scratch: scratch.path)
        #expect(!finished.isEmpty)
        #expect((finished["usr/libexec/runbottle"] != nil) == options.contains("--rootfs"), "\(finished.keys.sorted())")

        try killAtEveryPoint((["bottle"] + options).joined(separator: " "), command, original: original,
                             finished: finished, scratch: scratch.path, minimumKills: 10)
    }

    @Test func unsealSurvivesSIGKILLAtEveryWriteStep() throws {
        let scratch = try TemporaryDirectory("crash-unseal")
        defer { scratch.remove() }
        let tool = try BuiltTools.binfmtReg()
        let unsealedTree = try makeTree(in: scratch.path)
        let finished = try snapshot(unsealedTree)
        let sealed = scratch.path + "/sealed"
        try copyTree(unsealedTree, to: sealed)
        let sealing = try run([tool, "seal", sealed])
        #expect(sealing.succeeded, "\(sealing)")

        try killAtEveryPoint("unseal", [tool, "unseal"], original: sealed, finished: finished,
                             scratch: scratch.path, minimumKills: 20)
    }
}
