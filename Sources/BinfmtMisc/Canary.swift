// The end-to-end proof behind `status`: a tiny program sealed with the canary loader is executed
// through the entry, and the loader's report says whether argv, /proc/self/exe, auxv and the
// loader came out as a native exec would have left them.
import ELFEngine
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// One check the canary makes, with what it saw when it failed.
public struct CanaryCheck: Sendable, Codable {
    public var name: String
    public var ok: Bool
    public var detail: String
}

public struct CanaryResult: Sendable, Codable {
    /// The entry expected to take it.
    public var entry: String
    public var noteType: UInt32
    /// The canary loader ran (some interpreter got as far as our loader).
    public var reachedLoader: Bool
    public var checks: [CanaryCheck]
    /// The first bytes of the sealed canary, for matching other entries against it.
    public var header: [UInt8]

    public var ok: Bool { reachedLoader && checks.allSatisfy(\.ok) }
    public var problems: [String] { checks.filter { !$0.ok }.map { "\($0.name): \($0.detail)" } }

    enum CodingKeys: String, CodingKey { case entry, noteType, reachedLoader, checks }

    public init(entry: String, noteType: UInt32, reachedLoader: Bool, checks: [CanaryCheck], header: [UInt8]) {
        self.entry = entry
        self.noteType = noteType
        self.reachedLoader = reachedLoader
        self.checks = checks
        self.header = header
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        entry = try container.decode(String.self, forKey: .entry)
        noteType = try container.decode(UInt32.self, forKey: .noteType)
        reachedLoader = try container.decode(Bool.self, forKey: .reachedLoader)
        checks = try container.decode([CanaryCheck].self, forKey: .checks)
        header = []
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
        let environment = getenv("TMPDIR").map { String(cString: $0) }
        self.temporaryDirectory = temporaryDirectory ?? environment ?? "/tmp"
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
    public func run(noteType: SealFormat.NoteType, expectedEntry: String) -> CanaryResult {
        var result = CanaryResult(entry: expectedEntry, noteType: noteType.rawValue,
                                  reachedLoader: false, checks: [], header: [])
        func fail(_ name: String, _ detail: String) -> CanaryResult {
            result.checks.append(.init(name: name, ok: false, detail: detail))
            return result
        }
        var template = Array((temporaryDirectory + "/binfmt-reg-canary-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) } != nil
        }
        guard made else { return fail("setup", "\(temporaryDirectory): mkdtemp: \(Errno(rawValue: errno))") }
        let directory = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let programPath = directory + "/" + Self.programName
        let loaderPath = directory + "/" + Self.loaderName
        defer {
            unlink(programPath)
            unlink(loaderPath)
            rmdir(directory)
        }
        do {
            try Files.replace(loaderPath, with: loader, mode: 0o755)
            let sealed = try Self.seal(program, at: programPath, type: noteType)
            try Files.replace(programPath, with: sealed, mode: 0o755)
            result.header = Array(sealed.prefix(256))
        } catch {
            return fail("setup", "\(error)")
        }

        let output: String
        switch Self.spawn(programPath, argv: Self.argv) {
        case .failure(let failure):
            return fail("exec", failure.reason)
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
        func check(_ name: String, _ ok: Bool, _ detail: String) {
            result.checks.append(.init(name: name, ok: ok, detail: detail))
        }
        let argv = values["argv"] ?? []
        check("argv", argv == Self.argv, "loader saw \(argv), expected \(Self.argv)")
        let realProgram = Self.realPath(programPath) ?? programPath
        check("/proc/self/exe", value("exe") == realProgram,
              "names \(value("exe")), expected \(realProgram)")
        check("loader", value("at_base") == value("self_base") && value("at_base") != "0x0",
              "AT_BASE \(value("at_base")), the canary loader is at \(value("self_base"))")
        check("program mapping", value("program_mapping") == "ok",
              "AT_PHDR/AT_ENTRY/AT_PHNUM against the mapped program: \(value("program_mapping"))")
        check("AT_EXECFD", value("at_execfd") == "absent", "AT_EXECFD is \(value("at_execfd")) in the loader's auxv")
        let leaked = (values["fd"] ?? []).filter { $0.hasSuffix(" " + realProgram) }
        check("descriptors", leaked.isEmpty, "the binary's descriptor leaked into the program: fd \(leaked.joined(separator: ", "))")
        check("AT_SECURE", value("at_secure") == "0", "AT_SECURE is \(value("at_secure")) for an ordinary program")
        check("comm", value("comm") == Self.programName, "/proc/self/comm is \(value("comm"))")
        let cmdline = Self.argv.joined(separator: "|") + "|"
        check("cmdline", value("cmdline") == cmdline, "/proc/self/cmdline is \(value("cmdline")), expected \(cmdline)")
        return result
    }

    /// The program's bytes sealed with the canary loader: the ELF engine's plan applied in memory.
    static func seal(_ program: [UInt8], at path: String, type: SealFormat.NoteType) throws -> [UInt8] {
        try Files.replace(path, with: program, mode: 0o755)
        let file = try ELFFile(path: path)
        let image = try ELFImage.parse(file)
        let plan = try SealPlan.make(image, note: BottleNote(type: type, loader: loaderName))
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

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Runs `path` with `argv` (argv[0] included), stdout captured, stdin /dev/null, killed after
    /// ten seconds. Returns the wait status and the output.
    static func spawn(_ path: String, argv: [String]) -> Result<(Int32, String), SpawnFailure> {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { return .failure(SpawnFailure("pipe: \(Errno(rawValue: errno))")) }
        _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
        defer { close(pipeEnds[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        let cEnv: [UnsafeMutablePointer<CChar>?] = [strdup("LC_ALL=C"), nil]
        defer { cEnv.forEach { free($0) } }
        let rc = posix_spawn(&pid, path, &actions, nil, cArgs, cEnv)
        close(pipeEnds[1])
        if rc != 0 {
            let error = Errno(rawValue: rc)
            var hint = ""
            if error == .execFormatError { hint = " (no enabled entry matched the sealed canary)" }
            if error == .noSuchFileOrDirectory { hint = " (the entry's interpreter is missing, or no entry matched and the PT_INTERP slot names no file)" }
            if error == .permissionDenied { hint = " (is \(path)'s file system mounted noexec? set TMPDIR)" }
            return .failure(SpawnFailure("execve \(path): \(error)\(hint)"))
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var status: Int32 = 0
        var start = timespec(), now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var open = true
        while waitpid(pid, &status, WNOHANG) != pid {
            var poller = pollfd(fd: pipeEnds[0], events: Int16(POLLIN), revents: 0)
            if open && poll(&poller, 1, 10) > 0 {
                let count = read(pipeEnds[0], &buffer, buffer.count)
                if count > 0 { output += buffer[0..<count] } else { open = false }
            } else if !open {
                usleep(1000)
            }
            clock_gettime(CLOCK_MONOTONIC, &now)
            if now.tv_sec - start.tv_sec > 10 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return .failure(SpawnFailure("the canary did not finish within 10 s (killed)"))
            }
        }
        while true {
            let count = read(pipeEnds[0], &buffer, buffer.count)
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        return .success((status, String(decoding: output, as: UTF8.self)))
    }

    struct SpawnFailure: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
