// runbottle outside any bottle, with the lines that register its entries, and the probe the exec
// tests run through it: what the runbottle and bottle tests share.
import Foundation
import Testing

/// A C program that prints one `key=value` line per fact a native exec would get right.
public let probeSource = Fixture.source("exec-probe.c")

/// The facts the probe printed, by key (the last value wins; argv keys are kept in order).
public struct ProbeReport: Sendable {
    public let lines: [String]

    public init(_ output: String) { lines = output.split(separator: "\n").map(String.init) }

    public subscript(_ key: String) -> String? {
        lines.last { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    public func all(_ key: String) -> [String] {
        lines.filter { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    public var argv: [String] {
        lines.filter { $0.hasPrefix("argv[") }.compactMap { line in
            line.firstIndex(of: "=").map { String(line[line.index(after: $0)...]) }
        }
    }
}

extension ProbeReport {
    /// runbottle's mappings that stay in the program: its image or trampoline memfd, and the
    /// binary's slot page it mapped for the trampoline.
    public var leftoverMaps: Int? {
        guard let image = self["runbottle_maps"].flatMap(Int.init),
              let slot = self["slot_trampoline_maps"].flatMap(Int.init) else { return nil }
        return image + slot
    }

    /// The checks every native-looking run must pass.
    public func expectNative(program: String, argv: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(self.argv == argv, sourceLocation: sourceLocation)
        #expect(self["exe"] == program, sourceLocation: sourceLocation)
        #expect(self["cmdline"] == argv.joined(separator: " ") + " ", sourceLocation: sourceLocation)
        #expect(self["auxv_execfd"] == "0", sourceLocation: sourceLocation)
        #expect(self["auxv_entry_ok"] == "1", sourceLocation: sourceLocation)
        #expect(self["auxv_phdr_ok"] == "1", sourceLocation: sourceLocation)
        #expect(self["at_flags"] == "0", sourceLocation: sourceLocation)
        #expect(self["leaked_fds"] == "0", sourceLocation: sourceLocation)
        // One mapping stays, runbottle(8) CAVEATS: under the binfmt dispatch the trampoline's
        // page (the slot's tail of the binary, or a memfd for a slot without it), under the
        // PT_INTERP dispatch runbottle's image. No anonymous memory is executable.
        #expect(self.leftoverMaps == 1, sourceLocation: sourceLocation)
        #expect(self["anon_exec_maps"] == "0", sourceLocation: sourceLocation)
        #expect(self["heap_after_program"] == "1", sourceLocation: sourceLocation)
    }
}

/// A temporary directory with runbottle written into it and its registration lines.
public struct RunbottleRig: Sendable {
    public let dir: TemporaryDirectory
    /// runbottle, outside every bottle: the interpreter of the entries `inBinfmt` registers, and
    /// what the PT_INTERP slot of the rig's interp bottles names.
    public let runbottle: String
    public let lines: [String]

    public init(_ label: String) throws {
        dir = try TemporaryDirectory(label)
        // Readable by everyone: some tests run the bottle as an ordinary user.
        chmod(dir.path, 0o755)
        runbottle = try BuiltTools.writeRunbottle(into: dir.path)
        let printed = try binfmtReg(["line", "--interpreter", runbottle])
        guard printed.succeeded else { throw TestSupportError.launchFailed("binfmt-reg line", printed.description) }
        lines = printed.stdout.split(separator: "\n").map(String.init)
    }

    /// The bash lines that register runbottle's entries (with F, the default, so a chroot without
    /// runbottle still runs sealed programs) in the current binfmt_misc instance.
    public var registration: String {
        lines.map { "printf '%s\\n' '\($0)' > /proc/sys/fs/binfmt_misc/register" }.joined(separator: "\n")
    }

    /// Runs `script` in a private binfmt_misc instance with runbottle registered, in `dir`.
    public func inBinfmt(_ script: String, environment: [String: String]? = nil) throws -> CommandResult {
        try inPrivateBinfmt(registration + "\ncd \(dir.path)\n" + script, environment: environment)
    }

    /// Runs the rig's runbottle on `args` in `dir`, no binfmt_misc entry involved; a timeout,
    /// for a FIFO planted as the loader must not hang runbottle.
    public func direct(_ args: [String]) throws -> CommandResult {
        try run(["timeout", "10", runbottle] + args, currentDirectory: dir.path)
    }

    /// A bottle in dir/NAME sealed for the binfmt dispatch, or with `interp` for the PT_INTERP
    /// dispatch through this rig's runbottle.
    public func bottle(_ name: String, libc: TestBottle.Libc = .glibc, pie: Bool = true,
                       source: String = probeSource, cxx: Bool = false, flags: [String] = [],
                       interp: Bool = false) throws -> TestBottle {
        try Bottles.build(name: name, source: source, in: dir.path + "/" + name, libc: libc,
                          cxx: cxx, pie: pie, flags: flags, dispatch: interp ? .interp : .binfmt,
                          interpreter: interp ? runbottle : nil)
    }
}
