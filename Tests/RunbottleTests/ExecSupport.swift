// What the exec tests share: a probe program that reports what a process sees of itself, and
// a rig that registers runbottle in a private binfmt_misc instance.
import Foundation
import TestSupport

/// A C program that prints one `key=value` line per fact a native exec would get right.
let probeSource = Fixture.source("exec-probe.c")

/// The facts the probe printed, by key (the last value wins; argv keys are kept in order).
struct ProbeReport {
    let lines: [String]

    init(_ output: String) { lines = output.split(separator: "\n").map(String.init) }

    subscript(_ key: String) -> String? {
        lines.last { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    func all(_ key: String) -> [String] {
        lines.filter { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    var argv: [String] {
        lines.filter { $0.hasPrefix("argv[") }.map { String($0[$0.index(after: $0.firstIndex(of: "=")!)...]) }
    }
}

/// A temporary directory with runbottle written into it and its registration lines.
struct ExecRig {
    let dir: TemporaryDirectory
    let runbottle: String
    let lines: [String]

    init(_ label: String) throws {
        dir = try TemporaryDirectory(label)
        // Readable by everyone: some tests run the bottle as an ordinary user.
        chmod(dir.path, 0o755)
        runbottle = try BuiltTools.writeRunbottle(into: dir.path)
        let printed = try run([try BuiltTools.binfmtReg(), "line", "--interpreter", runbottle])
        guard printed.succeeded else { throw TestSupportError.launchFailed("binfmt-reg line", printed.description) }
        lines = printed.stdout.split(separator: "\n").map(String.init)
    }

    /// The bash lines that register runbottle's entries in the current binfmt_misc instance.
    var registration: String {
        lines.map { "printf '%s\\n' '\($0)' > /proc/sys/fs/binfmt_misc/register" }.joined(separator: "\n")
    }

    /// Runs `script` in a private binfmt_misc instance with runbottle registered, in `dir`.
    func inBinfmt(_ script: String, environment: [String: String]? = nil) throws -> CommandResult {
        try inPrivateBinfmt(registration + "\ncd \(dir.path)\n" + script, environment: environment)
    }

    /// A bottle sealed for the binfmt dispatch, or with `interp` for the PT_INTERP dispatch
    /// through this rig's runbottle.
    func bottle(_ name: String, libc: TestBottle.Libc = .glibc, pie: Bool = true,
                source: String = probeSource, cxx: Bool = false, flags: [String] = [],
                interp: Bool = false) throws -> TestBottle {
        try Bottles.build(name: name, source: source, in: dir.path + "/" + name, libc: libc,
                          cxx: cxx, pie: pie, flags: flags,
                          sealArguments: interp ? ["--interpreter", runbottle] : ["--dispatch", "binfmt"])
    }
}
