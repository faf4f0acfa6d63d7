// The end-to-end proof behind `status`: a tiny program sealed with the canary loader is executed
// through the entry, and the loader's report says whether argv, /proc/self/exe, auxv and the
// loader came out as a native exec would have left them.
import ELFEngine
import LinuxOS
import SystemPackage

/// One check the canary makes, with what it saw when it failed.
public struct CanaryCheck: Sendable, Codable, Equatable {
    public var name: String
    public var ok: Bool
    /// What it saw, when it failed; null when it passed.
    @NullIfAbsent public var detail: String? = nil
}

public struct CanaryResult: Sendable, Codable {
    /// The entry expected to take it; nil for the PT_INTERP dispatch (no entry), and for an
    /// entry this mount namespace cannot see (binfmt_misc not mounted here: a host's entry).
    @NullIfAbsent public var entry: String? = nil
    /// The user it ran as, when not the caller (an ordinary uid, to check what ordinary users get).
    @NullIfAbsent public var user: UInt32? = nil
    public var noteType: UInt32
    /// "interp" (note type 3, the kernel starts runbottle from PT_INTERP) or "binfmt" (types 1
    /// and 2, an entry starts it).
    public var dispatch: String
    /// The canary loader ran (some interpreter got as far as our loader).
    public var reachedLoader: Bool
    /// runbottle ran the loader in explicit mode (ld.so --argv0 ARGV0 PROGRAM): it could not set
    /// /proc/self/exe, which then names runbottle.
    public var explicitMode = false
    public var checks: [CanaryCheck]
    /// The first bytes of the sealed canary, for matching other entries against it.
    public var header: [UInt8]

    public var ok: Bool { reachedLoader && checks.allSatisfy(\.ok) }

    enum CodingKeys: String, CodingKey { case entry, user, noteType, dispatch, reachedLoader, explicitMode, checks, ok }

    public init(entry: String?, user: UInt32?, noteType: UInt32, reachedLoader: Bool, checks: [CanaryCheck], header: [UInt8]) {
        self.entry = entry
        self.user = user
        self.noteType = noteType
        dispatch = (SealFormat.NoteType(rawValue: noteType)?.dispatch ?? .binfmt).rawValue
        self.reachedLoader = reachedLoader
        self.checks = checks
        self.header = header
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        entry = try container.decodeIfPresent(String.self, forKey: .entry)
        user = try container.decodeIfPresent(UInt32.self, forKey: .user)
        noteType = try container.decode(UInt32.self, forKey: .noteType)
        dispatch = try container.decode(String.self, forKey: .dispatch)
        reachedLoader = try container.decode(Bool.self, forKey: .reachedLoader)
        explicitMode = try container.decode(Bool.self, forKey: .explicitMode)
        checks = try container.decode([CanaryCheck].self, forKey: .checks)
        header = []
    }

    /// Every key, `ok` included, so that a consumer need not judge the checks itself.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(entry, forKey: .entry)
        try container.encode(user, forKey: .user)
        try container.encode(noteType, forKey: .noteType)
        try container.encode(dispatch, forKey: .dispatch)
        try container.encode(reachedLoader, forKey: .reachedLoader)
        try container.encode(explicitMode, forKey: .explicitMode)
        try container.encode(checks, forKey: .checks)
        try container.encode(ok, forKey: .ok)
    }
}

public struct CanaryRunner: Sendable {
    public var program: [UInt8]
    public var loader: [UInt8]
    /// Where the canary's directory is made (it must allow exec).
    public var temporaryDirectory: String
    public static let programName = "bottle-canary"
    public static let loaderName = "canary-loader"
    /// The argv the canary is run with: an argv[0] unlike the path, and arguments with spaces.
    public static let argv = ["bottle-canary", "first argument", "--second"]

    public init(program: [UInt8], loader: [UInt8], temporaryDirectory: String? = nil) {
        self.program = program
        self.loader = loader
        self.temporaryDirectory = temporaryDirectory ?? Identity.environment("TMPDIR") ?? "/tmp"
    }

    /// An unprivileged user to run the canary as: 65534 (nobody) when we are root and it is
    /// mapped in our user namespace (/proc/self/uid_map and gid_map), otherwise nil.
    public static func unprivilegedUser() -> UInt32? {
        guard Identity.isRoot else { return nil }
        let nobody: UInt64 = 65534
        func mapped(_ file: String) -> Bool {
            guard let bytes = try? Files.read(file) else { return false }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n").contains { line in
                let fields = line.split(separator: " ").compactMap { UInt64($0) }
                return fields.count == 3 && fields[0] <= nobody && nobody < fields[0] + fields[2]
            }
        }
        return mapped("/proc/self/uid_map") && mapped("/proc/self/gid_map") ? UInt32(nobody) : nil
    }

    /// The first bytes a file sealed for `entry` carries, when no canary was made: its magic,
    /// masked bytes zero.
    static func header(for entry: EntryStatus) -> [UInt8]? {
        guard case .magic(let offset, let magic, let mask) = entry.kind else { return nil }
        var header = [UInt8](repeating: 0, count: offset + magic.count)
        for i in 0..<magic.count { header[offset + i] = magic[i] & (mask.isEmpty ? 0xff : mask[i]) }
        return header
    }

    /// Seals a fresh canary with `noteType`, runs it, and judges the loader's report.
    ///
    /// The PT_INTERP slot names `interpreter`. By default a type 3 canary (PT_INTERP dispatch)
    /// names runbottle's installed path, as `seal` does; a type 1 or 2 canary names a file that
    /// does not exist (in the canary's own directory), so that it can only reach the canary
    /// loader through an entry: where none takes it, the exec fails with ENOENT instead of
    /// running through the slot.
    public func run(
        noteType: SealFormat.NoteType, expectedEntry: String?, user: UInt32? = nil, interpreter: String? = nil
    ) -> CanaryResult {
        var result = CanaryResult(entry: expectedEntry, user: user, noteType: noteType.rawValue,
                                  reachedLoader: false, checks: [], header: [])
        // The program's output is quoted as one line: a detail never ends in a newline.
        func fail(_ name: String, _ detail: String) -> CanaryResult {
            let line = detail.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: " | ")
            result.checks.append(.init(name: name, ok: false, detail: line))
            return result
        }
        let directory: String
        do { directory = try FileSystem.makeUniqueDirectory(prefix: temporaryDirectory + "/binfmt-reg-canary-") } catch {
            return fail("setup", "\(temporaryDirectory): mkdtemp: \(error.errno)")
        }
        if user != nil { try? FileSystem.setPermissions(of: directory, to: 0o755) }
        let programPath = directory + "/" + Self.programName
        let loaderPath = directory + "/" + Self.loaderName
        let slot = interpreter
            ?? (noteType == .interp ? SealFormat.runbottlePath : directory + "/" + Self.absentInterpreterName)
        defer {
            try? FileSystem.remove(programPath)
            try? FileSystem.remove(loaderPath)
            try? FileSystem.removeDirectory(directory)
        }
        do {
            try Files.replace(loaderPath, with: loader, mode: 0o755)
            let sealed = try Self.seal(program, at: programPath, type: noteType, interpreter: slot)
            try Files.replace(programPath, with: sealed, mode: 0o755)
            result.header = Array(sealed.prefix(256))
        } catch {
            return fail("setup", "\(error)")
        }

        let output: String
        switch Self.spawn(programPath, argv: Self.argv, user: user) {
        case .failure(let failure):
            return fail("exec", failure.reason + Self.hint(failure.errno, noteType: noteType, slot: slot, path: programPath))
        case .success(let (status, text)):
            output = text
            if status != 0 {
                let why = status == 97 << 8
                    ? "the program's own code ran: nothing loaded the canary loader"
                    : "exit status \(status >> 8), signal \(status & 0x7f)"
                result.reachedLoader = text.hasPrefix("canary loader\n")
                return fail("exec", why + (text.isEmpty ? "" : "; output: \(text.prefix(200))"))
            }
        }
        result.reachedLoader = output.hasPrefix("canary loader\n") && output.hasSuffix("end ok\n")
        guard result.reachedLoader else {
            return fail("loader", "the canary loader's report is missing or cut short: \(output.prefix(200))")
        }
        var values: [String: [String]] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            values[String(parts[0]), default: []].append(parts.count > 1 ? String(parts[1]) : "")
        }
        func value(_ key: String) -> String { values[key]?.first ?? "(missing)" }
        func check(_ name: String, _ ok: Bool, _ detail: @autoclosure () -> String) {
            result.checks.append(.init(name: name, ok: ok, detail: ok ? nil : detail()))
        }
        let argv = values["argv"] ?? []
        let realProgram = (try? FileSystem.realPath(programPath)) ?? programPath
        result.explicitMode = value("mode") == "explicit"
        check("argv", argv == Self.argv, "loader saw \(argv), expected \(Self.argv)")
        if noteType == .interp {
            // The kernel executed the program itself: nothing may differ from a native exec.
            check("native", !result.explicitMode,
                  "runbottle ran the loader in its explicit mode under the PT_INTERP dispatch: /proc/self/exe names \(value("exe"))")
        }
        if result.explicitMode && noteType != .interp {
            // runbottle could not set /proc/self/exe, so it ran the loader as a program with
            // the binary's path: exe names runbottle, and the loader is not AT_BASE.
            check("program path", value("program") == realProgram,
                  "the loader was given \(value("program")), expected \(realProgram)")
        } else {
            check("/proc/self/exe", value("exe") == realProgram,
                  "names \(value("exe")), expected \(realProgram)")
            check("loader", value("at_base") == value("self_base") && value("at_base") != "0x0",
                  "AT_BASE \(value("at_base")), the canary loader is at \(value("self_base"))")
            check("program mapping", value("program_mapping") == "ok",
                  "AT_PHDR/AT_ENTRY/AT_PHNUM against the mapped program: \(value("program_mapping"))")
        }
        check("AT_EXECFD", value("at_execfd") == "absent", "AT_EXECFD is \(value("at_execfd")) in the loader's auxv")
        let leaked = (values["fd"] ?? []).filter { $0.hasSuffix(" " + realProgram) }
        check("descriptors", leaked.isEmpty, "the binary's descriptor leaked into the program: fd \(leaked.joined(separator: ", "))")
        check("AT_SECURE", value("at_secure") == "0", "AT_SECURE is \(value("at_secure")) for an ordinary program")
        check("comm", value("comm") == Self.programName, "/proc/self/comm is \(value("comm"))")
        let cmdline = Self.argv.joined(separator: "|") + "|"
        check("cmdline", value("cmdline") == cmdline, "/proc/self/cmdline is \(value("cmdline")), expected \(cmdline)")
        return result
    }

    /// The name, in the canary's directory, of the file a binfmt canary's PT_INTERP slot names
    /// and that is never created.
    public static let absentInterpreterName = "no-such-interpreter"

    /// What an exec failure means for this canary.
    static func hint(_ error: Errno?, noteType: SealFormat.NoteType, slot: String, path: String) -> String {
        switch (error, noteType) {
        case (.noSuchFileOrDirectory?, .interp):
            return " (its PT_INTERP slot names \(slot), which does not exist here)"
        case (.noSuchFileOrDirectory?, _):
            return " (no entry took it, so the kernel looked for the interpreter its PT_INTERP slot names, which does not exist; or the entry's interpreter is missing and the entry has no F)"
        case (.execFormatError?, _):
            return " (the interpreter is not an executable the kernel can run)"
        case (.permissionDenied?, _):
            return " (is \(path)'s file system mounted noexec? set TMPDIR)"
        default:
            return ""
        }
    }

    /// The program's bytes sealed with the canary loader and its PT_INTERP slot naming
    /// `interpreter`: the ELF engine's plan applied in memory.
    static func seal(
        _ program: [UInt8], at path: String, type: SealFormat.NoteType, interpreter: String = SealFormat.runbottlePath
    ) throws -> [UInt8] {
        try Files.replace(path, with: program, mode: 0o755)
        let file = try ELFFile(path: path)
        let image = try ELFImage.parse(file)
        let plan = try SealPlan.make(image, note: BottleNote(type: type, loader: loaderName), interpreter: interpreter)
        var bytes = program
        for edit in plan.edits {
            let end = Int(edit.offset) + edit.bytes.count
            if bytes.count < end { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
            bytes.replaceSubrange(Int(edit.offset)..<end, with: edit.bytes)
        }
        if bytes.count < Int(plan.newFileSize) {
            bytes += [UInt8](repeating: 0, count: Int(plan.newFileSize) - bytes.count)
        }
        return bytes
    }

    /// Runs `path` with `argv` (argv[0] included), stdout captured, stdin /dev/null, killed after
    /// ten seconds, as `user` (uid and gid, no supplementary groups) when given. Returns the wait
    /// status and the output.
    static func spawn(_ path: String, argv: [String], user: UInt32? = nil) -> Result<(Int32, String), SpawnFailure> {
        let child = Subprocess(path: path, argv: argv, environment: ["LC_ALL=C"], user: user, timeLimit: 10)
        do throws(Subprocess.Failure) {
            let outcome = try child.run()
            return .success((outcome.status, String(decoding: outcome.standardOutput, as: UTF8.self)))
        } catch {
            switch error {
            case .exec(let errno): return .failure(SpawnFailure("execve \(path): \(errno)", errno: errno))
            case .timedOut(let seconds): return .failure(SpawnFailure("the canary did not finish within \(seconds) s (killed)"))
            case .setup: return .failure(SpawnFailure("\(error)"))
            }
        }
    }

    struct SpawnFailure: Error {
        var reason: String
        /// The exec's errno, when the exec itself failed.
        var errno: Errno?
        init(_ reason: String, errno: Errno? = nil) {
            self.reason = reason
            self.errno = errno
        }
    }
}
