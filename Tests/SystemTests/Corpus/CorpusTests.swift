// Seals copies of every dynamically linked executable under /usr/bin and /usr/sbin (real binaries
// nobody here wrote) and checks each sealed copy against its unsealed twin: the BOTTLE note sits
// right after the ELF header, eu-elflint finds nothing new, and it runs with the same `--version`
// output, started by the kernel through runbottle as its PT_INTERP (no binfmt_misc entry).
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct CorpusTests {
    /// How long an original's `--version` run may take before it is killed and not compared.
    static let runLimitSeconds = 5
    /// The sealed copy of an original that finished in time gets longer: on a loaded machine
    /// (the whole test suite runs in parallel) a slow start is not a difference, a hang is.
    static let sealedRunLimitSeconds = 30

    @Test func sealedSystemExecutablesStayValidAndRunTheSame() throws {
        let binfmtReg = try BuiltTools.binfmtReg()
        let corpus = try Corpus.scan(["/usr/bin", "/usr/sbin"])
        // A machine with no dynamic executables under /usr/bin would make this test vacuous.
        try #require(corpus.dynamic.count >= 100, "only \(corpus.dynamic.count) dynamic executables found")

        let work = try TemporaryDirectory("corpus")
        defer { work.remove() }
        // The sandboxed runs use an unprivileged uid: it must be able to reach the copies.
        chmod(work.path, 0o755)

        // Copies keep their directory name (usr/bin, usr/sbin: two programs may share a basename);
        // the loaders they name are bundled at usr/lib, where seal finds them through `../lib/`.
        var items: [Item] = []
        for dir in ["usr/bin", "usr/sbin", "usr/lib"] {
            try FileManager.default.createDirectory(
                atPath: work.file(dir), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
        }
        // Each interpreter the corpus names is bundled under its basename.
        for interpreter in Set(corpus.dynamic.map(\.interpreter)) {
            let name = URL(fileURLWithPath: interpreter).lastPathComponent
            if !FileManager.default.fileExists(atPath: work.file("usr/lib/" + name)) {
                try copy(URL(fileURLWithPath: interpreter).resolvingSymlinksInPath().path, to: work.file("usr/lib/" + name))
            }
        }
        for (original, interpreter) in corpus.dynamic {
            let url = URL(fileURLWithPath: original)
            let relative = url.deletingLastPathComponent().path.dropFirst() + "/" + url.lastPathComponent
            let copyPath = work.file(String(relative))
            try copy(original, to: copyPath)
            items.append(Item(original: original, copy: copyPath, interpreter: interpreter))
        }

        // Before sealing: the oracles' view of each unsealed copy.
        try parallel(&items) { item in
            item.lintBefore = try Lint.messages(item.copy)
        }
        // Programs run one at a time so that none can disturb another's output.
        for index in items.indices {
            items[index].runBefore = try SandboxedRun.version(items[index].copy, limit: Self.runLimitSeconds)
        }

        // The PT_INTERP dispatch, through a runbottle outside the tree sealed.
        let runbottle = try BuiltTools.writeRunbottle(into: work.path)
        let seal = try run([binfmtReg, "seal", "--interpreter", runbottle, work.file("usr")])
        try #require(seal.succeeded, "binfmt-reg seal failed on the corpus:\n\(seal)")

        try parallel(&items) { item in
            item.layoutProblems = try Layout.problems(item.copy, interpreter: runbottle)
            item.lintAfter = try Lint.messages(item.copy)
        }
        for index in items.indices where items[index].runBefore?.exitedZero == true {
            items[index].runAfter = try SandboxedRun.version(
                items[index].copy, limit: Self.sealedRunLimitSeconds)
        }

        var failures: [String] = []
        var layoutOK = 0, lintOK = 0, ranIdentical = 0, comparable = 0
        for item in items {
            var problems = item.layoutProblems
            if problems.isEmpty { layoutOK += 1 }
            let added = Lint.added(before: item.lintBefore, after: item.lintAfter)
            if added.isEmpty { lintOK += 1 } else {
                problems.append("eu-elflint reports new messages: \(added.joined(separator: " | "))")
            }
            if let before = item.runBefore, before.exitedZero {
                comparable += 1
                let name = URL(fileURLWithPath: item.original).lastPathComponent
                if let after = item.runAfter, let difference = before.difference(from: after, program: name) {
                    problems.append("--version differs: \(difference)")
                } else {
                    ranIdentical += 1
                }
            }
            if !problems.isEmpty {
                failures.append("\(item.original): " + problems.joined(separator: "; "))
            }
        }
        let notCompared = items.count - comparable
        print("""
            corpus: \(corpus.scanned) files under /usr/bin and /usr/sbin, \(corpus.elf) ELF, \
            \(corpus.staticCount) static, \(corpus.notELF) not ELF (scripts, data), \
            \(corpus.duplicateLinks) extra hard links; \(items.count) dynamic executables copied and sealed; \
            \(layoutOK) with the BOTTLE note at offset 64; \(lintOK) with no new eu-elflint message; \
            \(ranIdentical) of \(comparable) ran identical (\(notCompared) not compared: the original \
            exited non-zero or ran over \(Self.runLimitSeconds) s as an unprivileged user); \
            \(failures.count) failed
            """)
        #expect(failures.isEmpty, "\(failures.count) sealed copies failed:\n\(failures.joined(separator: "\n"))")
    }

    private func copy(_ source: String, to destination: String) throws {
        try FileManager.default.copyItem(atPath: source, toPath: destination)
        // The copy is an ordinary program: no setuid bit, readable and runnable by the sandbox's uid.
        chmod(destination, 0o755)
    }
}

/// One corpus file and what the checks found.
private struct Item: Sendable {
    var original: String
    var copy: String
    /// The original's PT_INTERP, whose basename the bundled loader has.
    var interpreter: String
    var lintBefore: [String] = []
    var lintAfter: [String] = []
    var layoutProblems: [String] = []
    var runBefore: SandboxedRun?
    var runAfter: SandboxedRun?
}

/// Runs `body` over `items` on two threads (the CI machine has two cores).
private func parallel(_ items: inout [Item], _ body: @Sendable (inout Item) throws -> Void) throws {
    final class Shared: @unchecked Sendable {
        var items: [Item]
        var error: Error?
        let lock = NSLock()
        init(_ items: [Item]) { self.items = items }
    }
    let shared = Shared(items)
    DispatchQueue.concurrentPerform(iterations: 2) { worker in
        for index in stride(from: worker, to: shared.items.count, by: 2) {
            shared.lock.lock()
            var item = shared.items[index]
            shared.lock.unlock()
            do { try body(&item) } catch {
                shared.lock.lock()
                shared.error = error
                shared.lock.unlock()
            }
            shared.lock.lock()
            shared.items[index] = item
            shared.lock.unlock()
        }
    }
    if let error = shared.error { throw error }
    items = shared.items
}

/// The regular files of some directories, sorted into what the corpus takes and what it skips.
private struct Corpus {
    var scanned = 0, elf = 0, staticCount = 0, notELF = 0, duplicateLinks = 0
    var dynamic: [(path: String, interpreter: String)] = []

    static func scan(_ directories: [String]) throws -> Corpus {
        var corpus = Corpus()
        var seen = Set<[UInt64]>()
        for directory in directories {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                let path = directory + "/" + name
                var st = stat()
                // Symlinks are skipped: their targets are either here already or outside the corpus.
                guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                corpus.scanned += 1
                guard seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else {
                    corpus.duplicateLinks += 1
                    continue
                }
                switch try ELFKind.of(path) {
                case .notELF: corpus.notELF += 1
                case .staticELF: corpus.elf += 1; corpus.staticCount += 1
                case .dynamicELF(let interpreter): corpus.elf += 1; corpus.dynamic.append((path, interpreter))
                }
            }
        }
        return corpus
    }
}

/// Whether a file is ELF and has PT_INTERP, read straight from its headers (independent of the
/// engine under test).
private enum ELFKind {
    case notELF, staticELF
    case dynamicELF(interpreter: String)

    static func of(_ path: String) throws -> ELFKind {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .notELF }  // unreadable: not something the corpus can copy
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 64)
        guard pread(fd, &header, 64, 0) == 64, header[0..<4] == [0x7f, 0x45, 0x4c, 0x46],
            header[5] == 1  // little-endian, this machine's byte order
        else { return .notELF }
        func u16(_ b: [UInt8], _ at: Int) -> Int { ELFBytes(b).u16(at) }
        func u32(_ b: [UInt8], _ at: Int) -> Int { Int(ELFBytes(b).u32(at)) }
        func u64(_ b: [UInt8], _ at: Int) -> Int { Int(truncatingIfNeeded: ELFBytes(b).u64(at)) }
        let is64 = header[4] == 2
        let phoff = is64 ? u64(header, 32) : u32(header, 28)
        let phentsize = is64 ? u16(header, 54) : u16(header, 42)
        let phnum = is64 ? u16(header, 56) : u16(header, 44)
        guard phentsize >= 4, phnum > 0, phnum < 4096, phoff > 0 else { return .staticELF }
        var table = [UInt8](repeating: 0, count: phentsize * phnum)
        guard pread(fd, &table, table.count, off_t(phoff)) == table.count else { return .staticELF }
        let ptInterp = 3
        for index in 0..<phnum where u32(table, index * phentsize) == ptInterp {
            let at = index * phentsize
            let offset = is64 ? u64(table, at + 8) : u32(table, at + 4)
            let size = is64 ? u64(table, at + 32) : u32(table, at + 16)
            guard size > 1, size <= 4096 else { return .staticELF }
            var bytes = [UInt8](repeating: 0, count: size)
            guard pread(fd, &bytes, size, off_t(offset)) == size else { return .staticELF }
            return .dynamicELF(interpreter: String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))
        }
        return .staticELF
    }
}

/// The seal layout as readelf (binutils, not our engine) and the raw bytes show it.
private enum Layout {
    static func problems(_ path: String, interpreter: String) throws -> [String] {
        var problems: [String] = []
        let readelf = try run(["readelf", "-lW", path])
        guard readelf.succeeded, readelf.stderr.isEmpty else {
            return ["readelf -lW failed: \(readelf.stdout)\(readelf.stderr)"]
        }
        // "  NOTE  0x000040 0x...": the PT_NOTE covering the BOTTLE note right after the header.
        let noteAt64 = readelf.stdout.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count >= 2 && fields[0] == "NOTE" && fields[1] == "0x000040"
        }
        if !noteAt64 { problems.append("readelf -lW shows no PT_NOTE at offset 0x40") }
        // The kernel starts runbottle, which the slot names, as the program interpreter.
        if !readelf.stdout.contains("[Requesting program interpreter: \(interpreter)]") {
            problems.append("PT_INTERP does not name \(interpreter)")
        }
        // namesz 7, type 3 (PT_INTERP dispatch), name "BOTTLE\0\0" at offset 64 (bottle_format.h).
        guard let handle = FileHandle(forReadingAtPath: path) else { return problems + ["cannot open"] }
        defer { try? handle.close() }
        try handle.seek(toOffset: 64)
        let note = [UInt8](handle.readData(ofLength: 20))
        // Bytes 4..<8 (descsz) depend on the loader path's length and are not checked here.
        let namesz: [UInt8] = [7, 0, 0, 0]
        let typeAndName: [UInt8] = [3, 0, 0, 0] + Array("BOTTLE\0\0".utf8)
        if note.count != 20 || Array(note[0..<4]) != namesz || Array(note[8..<20]) != typeAndName {
            problems.append("bytes at offset 64 are not a BOTTLE note header: \(note)")
        }
        return problems
    }
}

/// eu-elflint's messages, compared as multisets of lines.
private enum Lint {
    static func messages(_ path: String) throws -> [String] {
        let result = try run(["eu-elflint", "--gnu-ld", path])
        // elflint exits 1 when it has messages; anything else means it could not check at all.
        guard !result.signaled, result.status <= 1, result.stderr.isEmpty else {
            return ["eu-elflint did not finish: \(result)"]
        }
        return result.stdout.split(separator: "\n").map(String.init).filter { $0 != "No errors" }
    }

    /// Messages of `after` that `before` did not have. Program header indices are not
    /// compared: sealing moves the entries after the new PT_LOAD one place down, so a message
    /// about the same note (Go's build id note, say) names phdr[9] where it named phdr[8].
    static func added(before: [String], after: [String]) -> [String] {
        func unindexed(_ message: String) -> String {
            message.replacingOccurrences(of: #"^phdr\[[0-9]+\]"#, with: "phdr[N]", options: .regularExpression)
        }
        var remaining: [String: Int] = [:]
        for message in before { remaining[unindexed(message), default: 0] += 1 }
        var added: [String] = []
        for message in after {
            // The one message every sealed file gets: elflint knows no note owner called BOTTLE.
            if message.contains("unknown object file note type 3 with owner name 'BOTTLE'") { continue }
            if let count = remaining[unindexed(message)], count > 0 {
                remaining[unindexed(message)] = count - 1
            } else {
                added.append(message)
            }
        }
        return added
    }
}

/// One `PROGRAM --version` run in a sandbox: an unprivileged uid (as root, setpriv to nobody),
/// its own PID and network namespaces (a program that misreads `--version` can neither signal
/// nor reach anything outside), a clean environment, stdin from /dev/null, and a time limit.
private struct SandboxedRun: Sendable {
    var status: Int32
    var signaled: Bool
    var stdout: String
    var stderr: String

    var exitedZero: Bool { !signaled && status == 0 }

    static func version(_ path: String, limit: Int) throws -> SandboxedRun {
        let url = URL(fileURLWithPath: path)
        let sandbox: [String] =
            geteuid() == 0
            ? ["unshare", "--pid", "--net", "--fork", "--kill-child",
               "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--"]
            : ["unshare", "--user", "--map-root-user", "--pid", "--net", "--fork", "--kill-child"]
        // Run as ./NAME from the file's directory, so argv[0] is the same before and after sealing.
        let command = sandbox + [
            "env", "-i", "PATH=/usr/bin:/usr/sbin", "HOME=/nonexistent", "LANG=C",
            "timeout", "-s", "KILL", String(limit),
            "sh", "-c", "exec \"./$0\" --version </dev/null", url.lastPathComponent,
        ]
        let result = try run(command, currentDirectory: url.deletingLastPathComponent().path)
        return SandboxedRun(
            status: result.status, signaled: result.signaled, stdout: result.stdout,
            stderr: result.stderr)
    }

    /// Programs whose `--version` prints the output of several processes running at once, so
    /// that their lines come in whichever order the processes finish. groff runs
    /// `troff --version | grops --version` as a pipeline (both print at once; seen in both
    /// orders under load): its lines are compared as a multiset.
    static let concurrentOutput: Set<String> = ["groff"]

    /// Why `other` does not count as the same run of `program`, or nil when it does.
    func difference(from other: SandboxedRun, program: String) -> String? {
        if status != other.status || signaled != other.signaled {
            return "exit status \(status) became \(other.status)\(other.signaled ? " (signal)" : "")"
        }
        let unordered = Self.concurrentOutput.contains(program)
        func lines(_ text: String) -> [Substring] { text.split(separator: "\n").sorted() }
        if unordered ? lines(stdout) != lines(other.stdout) : stdout != other.stdout {
            return "stdout \(stdout.debugDescription) became \(other.stdout.debugDescription)"
        }
        let before = Self.normalized(stderr), after = Self.normalized(other.stderr)
        if before != after { return "stderr \(before.debugDescription) became \(after.debugDescription)" }
        return nil
    }

    /// GLib's default log handler stamps every message with the wall-clock time
    /// ("** (prog:2): WARNING **: 07:16:58.489: ..."; seen from gdk-pixbuf-thumbnailer and
    /// pkmon): that time, and only it, is masked. PIDs need no masking: each run has its own PID
    /// namespace, so the program is always PID 2.
    static func normalized(_ text: String) -> String {
        text.replacingOccurrences(
            of: #"\*\*: [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}: "#, with: "**: TIME: ",
            options: .regularExpression)
    }
}
