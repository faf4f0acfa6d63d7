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
    /// What it saw, when it failed; nil when it passed.
    public var failure: CanaryFailure? = nil
    /// `failure` in words, as the JSON documents carry it (null when it passed): binfmt-reg
    /// fills it in.
    @NullIfAbsent public var detail: String? = nil

    public init(name: String, ok: Bool, failure: CanaryFailure? = nil) {
        self.name = name
        self.ok = ok
        self.failure = failure
    }

    private enum CodingKeys: String, CodingKey { case name, ok, detail }
}

/// What a failed check expected and what it saw, or why the canary could not run.
public enum CanaryFailure: Sendable, Equatable {
    /// mkdtemp failed in this directory.
    case temporaryDirectory(String, Errno)
    /// Writing the canary's files failed.
    case files(BinfmtMiscError)
    /// Sealing the canary failed.
    case seal(ELFError)
    /// The exec of `path` failed; `hint`: what that means for this canary.
    case exec(path: String, Errno, hint: ExecHint?)
    /// A pipe, /dev/null or the wait failed (`call`).
    case spawn(call: String, Errno)
    case timedOut(seconds: Int)
    /// The program's own code ran: nothing loaded the canary loader. `output`: its first bytes.
    case programRanItself(output: String)
    /// It ended with this wait status; `output`: its first bytes.
    case exitStatus(Int32, output: String)
    /// The canary loader's report is missing or cut short; `output`: its first bytes.
    case reportCutShort(output: String)
    case argv(seen: [String], expected: [String])
    /// runbottle ran the loader in its explicit mode under the PT_INTERP dispatch; `exe`: what
    /// /proc/self/exe named.
    case explicitMode(exe: String)
    case programPath(seen: String, expected: String)
    case exe(seen: String, expected: String)
    case loaderBase(atBase: String, loaderAt: String)
    /// AT_PHDR/AT_ENTRY/AT_PHNUM against the mapped program: what the loader said.
    case programMapping(String)
    case execFD(String)
    /// The binary's descriptors that leaked into the program.
    case descriptorsLeaked([String])
    case secure(String)
    case comm(String)
    case cmdline(seen: String, expected: String)

    /// What an exec failure means for this canary.
    public enum ExecHint: Sendable, Equatable {
        /// Its PT_INTERP slot names this file, which does not exist (the PT_INTERP dispatch).
        case slotMissing(String)
        /// No entry took it (or the entry's interpreter is missing and the entry has no F).
        case noEntry
        case interpreterNotExecutable
        /// The canary's file system may be mounted noexec.
        case noexec(path: String)
    }
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
    /// runbottle left its trampoline in a memfd copy: the canary's PT_INTERP slot carried none
    /// it recognized (bottle(5)). Said among status's warnings, not in the JSON canary.
    public var trampolineInMemfd = false
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
        func fail(_ name: String, _ failure: CanaryFailure) -> CanaryResult {
            result.checks.append(.init(name: name, ok: false, failure: failure))
            return result
        }
        let directory: String
        do { directory = try FileSystem.makeUniqueDirectory(prefix: temporaryDirectory + "/binfmt-reg-canary-") } catch {
            return fail("setup", .temporaryDirectory(temporaryDirectory, error.errno))
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
        let sealed: [UInt8]
        do throws(BinfmtMiscError) {
            try Files.replace(loaderPath, with: loader, mode: 0o755)
            try Files.replace(programPath, with: program, mode: 0o755)
        } catch { return fail("setup", .files(error)) }
        do { sealed = try Self.seal(program, at: programPath, type: noteType, interpreter: slot) } catch {
            return fail("setup", .seal(error))
        }
        do throws(BinfmtMiscError) { try Files.replace(programPath, with: sealed, mode: 0o755) } catch {
            return fail("setup", .files(error))
        }
        result.header = Array(sealed.prefix(256))

        let output: String
        switch Self.spawn(programPath, argv: Self.argv, user: user) {
        case .failure(.exec(let errno)):
            return fail("exec", .exec(path: programPath, errno,
                                      hint: Self.hint(errno, noteType: noteType, slot: slot, path: programPath)))
        case .failure(.timedOut(let seconds)):
            return fail("exec", .timedOut(seconds: seconds))
        case .failure(.setup(let call, let errno)):
            return fail("exec", .spawn(call: call, errno))
        case .success(let (status, text)):
            output = text
            if status != 0 {
                result.reachedLoader = text.hasPrefix("canary loader\n")
                let shown = String(text.prefix(200))
                return fail("exec", status == 97 << 8 ? .programRanItself(output: shown) : .exitStatus(status, output: shown))
            }
        }
        result.reachedLoader = output.hasPrefix("canary loader\n") && output.hasSuffix("end ok\n")
        guard result.reachedLoader else { return fail("loader", .reportCutShort(output: String(output.prefix(200)))) }
        var values: [String: [String]] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            values[String(parts[0]), default: []].append(parts.count > 1 ? String(parts[1]) : "")
        }
        func value(_ key: String) -> String { values[key]?.first ?? "(missing)" }
        func check(_ name: String, _ ok: Bool, _ failure: @autoclosure () -> CanaryFailure) {
            result.checks.append(.init(name: name, ok: ok, failure: ok ? nil : failure()))
        }
        let argv = values["argv"] ?? []
        let realProgram = (try? FileSystem.realPath(programPath)) ?? programPath
        result.explicitMode = value("mode") == "explicit"
        result.trampolineInMemfd = value("trampoline") == "memfd"
        check("argv", argv == Self.argv, .argv(seen: argv, expected: Self.argv))
        if noteType == .interp {
            // The kernel executed the program itself: nothing may differ from a native exec.
            check("native", !result.explicitMode, .explicitMode(exe: value("exe")))
        }
        if result.explicitMode && noteType != .interp {
            // runbottle could not set /proc/self/exe, so it ran the loader as a program with
            // the binary's path: exe names runbottle, and the loader is not AT_BASE.
            check("program path", value("program") == realProgram,
                  .programPath(seen: value("program"), expected: realProgram))
        } else {
            check("/proc/self/exe", value("exe") == realProgram, .exe(seen: value("exe"), expected: realProgram))
            check("loader", value("at_base") == value("self_base") && value("at_base") != "0x0",
                  .loaderBase(atBase: value("at_base"), loaderAt: value("self_base")))
            check("program mapping", value("program_mapping") == "ok", .programMapping(value("program_mapping")))
        }
        check("AT_EXECFD", value("at_execfd") == "absent", .execFD(value("at_execfd")))
        let leaked = (values["fd"] ?? []).filter { $0.hasSuffix(" " + realProgram) }
        check("descriptors", leaked.isEmpty, .descriptorsLeaked(leaked))
        check("AT_SECURE", value("at_secure") == "0", .secure(value("at_secure")))
        check("comm", value("comm") == Self.programName, .comm(value("comm")))
        let cmdline = Self.argv.joined(separator: "|") + "|"
        check("cmdline", value("cmdline") == cmdline, .cmdline(seen: value("cmdline"), expected: cmdline))
        return result
    }

    /// The name, in the canary's directory, of the file a binfmt canary's PT_INTERP slot names
    /// and that is never created.
    public static let absentInterpreterName = "no-such-interpreter"

    /// What an exec failure means for this canary.
    static func hint(_ error: Errno, noteType: SealFormat.NoteType, slot: String, path: String) -> CanaryFailure.ExecHint? {
        switch (error, noteType) {
        case (.noSuchFileOrDirectory, .interp): return .slotMissing(slot)
        case (.noSuchFileOrDirectory, _): return .noEntry
        case (.execFormatError, _): return .interpreterNotExecutable
        case (.permissionDenied, _): return .noexec(path: path)
        default: return nil
        }
    }

    /// The program's bytes (written at `path`) sealed with the canary loader and its PT_INTERP
    /// slot naming `interpreter`: the ELF engine's plan applied in memory.
    static func seal(
        _ program: [UInt8], at path: String, type: SealFormat.NoteType, interpreter: String = SealFormat.runbottlePath
    ) throws(ELFError) -> [UInt8] {
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
    static func spawn(_ path: String, argv: [String], user: UInt32? = nil) -> Result<(Int32, String), Subprocess.Failure> {
        let child = Subprocess(path: path, argv: argv, environment: ["LC_ALL=C"], user: user, timeLimit: 10)
        do throws(Subprocess.Failure) {
            let outcome = try child.run()
            return .success((outcome.status, String(decoding: outcome.standardOutput, as: UTF8.self)))
        } catch {
            return .failure(error)
        }
    }
}
