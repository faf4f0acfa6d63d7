// The kernel side: one binfmt_misc mount, read and written through its files. Only our own
// entries are written; `status` is only ever read (writing it disables or wipes every entry).
import ELFEngine
import LinuxOS
import SystemPackage

/// A failure talking to the kernel or the file system, naming the path and the reason
/// (binfmt-reg words it).
public enum BinfmtMiscError: ProblemError, Equatable, Sendable {
    /// binfmt_misc is not mounted at the path and could not be (kernel without it, no /proc).
    case notAvailable(path: String, reason: Unavailability)
    case notMounted(path: String)
    /// EPERM or EACCES: the operation needs root (CAP_SYS_ADMIN, or root of a user namespace).
    case notPermitted(path: String, what: Operation)
    case failed(path: String, what: Operation, reason: Failure)
    /// An entry of our name that binfmt-reg did not register: `what` (install, uninstall)
    /// leaves it alone without --force.
    case foreignEntry(path: String, what: Command, interpreter: String)
    /// None of the entries `what` (enable, disable) acts on is registered.
    case notRegistered(path: String, what: Command)
    /// The interpreter to register is missing or cannot be executed.
    case badInterpreter(path: String, reason: InterpreterFault)
    case invalid(RegistrationError)
    /// A change failed and putting back what was there failed too: `lost` names what is gone.
    indirect case notRestored(BinfmtMiscError, lost: [LostStep])

    /// What was being done to the path when it failed.
    public enum Operation: Sendable, Equatable {
        case read, open, lock, write, remove, createDirectory
        /// Replacing a binfmt.d file with a link to /dev/null.
        case mask
        case mountBinfmtMisc, listEntries
        case register(entry: String)
        case removeEntry(String)
        case enableEntry(String)
        case disableEntry(String)
        case readCapability, removeCapability
        /// Setting a file capability: its text once libcap parsed it, nil before.
        case setCapability(String?)
        /// A step of the engine's atomic file writer.
        case writer(ELFError.Operation)
    }

    /// The command that found an entry in its way.
    public enum Command: Sendable, Equatable { case install, uninstall, enable, disable }

    /// Why binfmt_misc cannot be mounted.
    public enum Unavailability: Sendable, Equatable {
        /// ENOENT or ENODEV: no binfmt_misc in the kernel, or no /proc.
        case missing(Errno)
        /// mount failed otherwise.
        case mount(Errno)
    }

    /// Why an operation on a file failed.
    public enum Failure: Sendable, Equatable {
        case system(Errno)
        /// binfmt_misc refused a write (register, remove, enable, disable) with this errno.
        case refusedWrite(Errno)
        case shortWrite(written: Int, of: Int)
        /// The file writer's reason.
        case engine(ELFError.Reason)
        /// libcap could not render a file's capability as text.
        case capabilityText
        /// libcap cannot parse this capability text.
        case capabilityUnparsable(String)
    }

    /// Why the interpreter cannot be registered.
    public enum InterpreterFault: Sendable, Equatable {
        case missing(Errno)
        case notExecutable
        /// The entry called this would match the interpreter itself (a sealed file).
        case matchesItself(entry: String)
    }

    /// One step of putting back the previous state that failed, with its error.
    public struct LostStep: Sendable, Equatable {
        public enum Step: Sendable, Equatable {
            /// Removing the entry just registered.
            case remove(String)
            /// Disabling the entry just enabled.
            case disable(String)
            /// Disabling an entry again that was disabled before it was replaced.
            case disableAgain(String)
            /// Registering a removed entry again: it is gone.
            case registerAgain(String)
        }
        public var step: Step
        public var error: BinfmtMiscError
    }

    /// The path the error concerns.
    public var path: String? {
        switch self {
        case .notAvailable(let path, _), .notMounted(let path), .notPermitted(let path, _),
             .failed(let path, _, _), .foreignEntry(let path, _, _), .notRegistered(let path, _),
             .badInterpreter(let path, _):
            return path
        case .invalid: return nil
        case .notRestored(let error, _): return error.path
        }
    }

    public var code: ProblemCode {
        switch self {
        case .notAvailable: return .binfmtMiscNotAvailable
        case .notMounted: return .binfmtMiscNotMounted
        case .notPermitted: return .permissionDenied
        case .failed: return .operationFailed
        case .foreignEntry: return .entryNotOurs
        case .notRegistered: return .entryNotRegistered
        case .badInterpreter: return .interpreterMissing
        case .invalid: return .invalidRegistration
        case .notRestored: return .notRestored
        }
    }

    static func from(_ errno: Errno, path: String, what: Operation) -> BinfmtMiscError {
        if errno == .permissionDenied || errno == .notPermitted {
            return .notPermitted(path: path, what: what)
        }
        return .failed(path: path, what: what, reason: .system(errno))
    }
}

public struct BinfmtMiscFS: Sendable {
    public static let defaultDirectory = "/proc/sys/fs/binfmt_misc"
    public let directory: String

    public init(directory: String = defaultDirectory) {
        self.directory = directory
    }

    /// True when a binfmt_misc file system is mounted at the directory.
    public var isMounted: Bool {
        // mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPEROPTIONS".
        // A binfmt_misc mount listed at the directory may be hidden by a later mount over it or
        // over a parent, so the directory's own device must be that mount's.
        guard let info = try? FileSystem.status(of: directory), let text = try? readRaw("/proc/self/mountinfo") else {
            return false
        }
        return text.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == directory, let dash = fields.firstIndex(of: "-"),
                  dash + 1 < fields.count, fields[dash + 1] == "binfmt_misc" else { return false }
            let numbers = fields[2].split(separator: ":").compactMap { UInt64($0) }
            guard numbers.count == 2 else { return false }
            return info.device == Self.makeDevice(major: numbers[0], minor: numbers[1])
        }
    }

    /// glibc's makedev: the device number stat reports for MAJ:MIN.
    static func makeDevice(major: UInt64, minor: UInt64) -> UInt64 {
        (minor & 0xff) | (major & 0xfff) << 8 | (minor & ~0xff) << 12 | (major & ~0xfff) << 32
    }

    /// True in the initial user namespace (its uid_map is the identity over every id): there,
    /// binfmt_misc is the host's instance.
    public static var inInitialUserNamespace: Bool {
        guard let map = try? String(decoding: Files.read("/proc/self/uid_map") ?? [], as: UTF8.self) else { return true }
        return map.split(whereSeparator: { $0 == " " || $0 == "\n" }) == ["0", "0", "4294967295"]
    }

    /// Mounts binfmt_misc at the directory unless it is mounted already. Returns true if it mounted.
    @discardableResult
    public func mountIfNeeded() throws(BinfmtMiscError) -> Bool {
        if isMounted { return false }
        let error: Errno
        do {
            try FileSystem.mount("binfmt_misc", at: directory, type: "binfmt_misc", flags: [.noSetUID, .noDevices, .noExec])
            return true
        } catch let failure { error = failure.errno }
        switch error {
        case .noSuchFileOrDirectory, .operationNotSupportedByDevice:
            throw .notAvailable(path: directory, reason: .missing(error))
        case .notPermitted, .permissionDenied:
            throw .notPermitted(path: directory, what: .mountBinfmtMisc)
        default:
            throw .notAvailable(path: directory, reason: .mount(error))
        }
    }

    /// binfmt_misc's global state (its `status` file, read only).
    public func globallyEnabled() throws(BinfmtMiscError) -> Bool {
        try requireMounted()
        return try read(directory + "/status") == "enabled\n"
    }

    /// Every entry's name, sorted.
    public func entryNames() throws(BinfmtMiscError) -> [String] {
        try requireMounted()
        do {
            return try FileSystem.entries(of: directory).map(\.name)
                .filter { $0 != "register" && $0 != "status" }.sorted()
        } catch {
            throw .from(error.errno, path: directory, what: .listEntries)
        }
    }

    /// The entry called `name`, or nil when there is none.
    public func entry(_ name: String) throws(BinfmtMiscError) -> EntryStatus? {
        try requireMounted()
        let path = directory + "/" + name
        let text: String
        do { text = try readRaw(path) } catch {
            if error == .noSuchFileOrDirectory { return nil }
            throw .from(error, path: path, what: .read)
        }
        do { return try EntryStatus(name: name, parsing: text) } catch { throw .invalid(error) }
    }

    /// Every entry, parsed; entries that vanish while listing are left out.
    public func entries() throws(BinfmtMiscError) -> [EntryStatus] {
        var result: [EntryStatus] = []
        for name in try entryNames() {
            if let entry = try entry(name) { result.append(entry) }
        }
        return result
    }

    /// Writes the line to `register` in one write, as the kernel requires. `portable: false`
    /// accepts what current kernels do (putting back another tool's entry).
    public func register(_ registration: Registration, portable: Bool = true) throws(BinfmtMiscError) {
        do { try registration.validate(portable: portable) } catch { throw .invalid(error) }
        try requireMounted()
        try write(registration.line, to: directory + "/register",
                  what: .register(entry: registration.name))
    }

    /// Removes the entry (writes -1 to it).
    public func remove(_ name: String) throws(BinfmtMiscError) {
        try write("-1", to: try entryPath(name), what: .removeEntry(name))
    }

    /// Enables (1) or disables (0) the entry.
    public func setEnabled(_ name: String, _ enabled: Bool) throws(BinfmtMiscError) {
        try write(enabled ? "1" : "0", to: try entryPath(name),
                  what: enabled ? .enableEntry(name) : .disableEntry(name))
    }

    private func entryPath(_ name: String) throws(BinfmtMiscError) -> String {
        try requireMounted()
        if ["register", "status", ".", ".."].contains(name) || name.contains("/") || name.isEmpty {
            throw .invalid(.notAnEntry(name))
        }
        return directory + "/" + name
    }

    private func requireMounted() throws(BinfmtMiscError) {
        if !isMounted { throw .notMounted(path: directory) }
    }

    private func read(_ path: String) throws(BinfmtMiscError) -> String {
        do { return try readRaw(path) } catch { throw .from(error, path: path, what: .read) }
    }

    private func readRaw(_ path: String) throws(Errno) -> String {
        let bytes: [UInt8]?
        do { bytes = try FileSystem.contents(of: path) } catch { throw error.errno }
        guard let bytes else { throw .noSuchFileOrDirectory }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Opens and writes in one go. A failed open is about permission (not root); a failed write
    /// is the kernel refusing the content (`.refusedWrite`, whose errno means something of its own).
    private func write(_ text: String, to path: String, what: BinfmtMiscError.Operation) throws(BinfmtMiscError) {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(path, .writeOnly, options: .closeOnExec) } catch {
            throw .from(Errno.of(error), path: path, what: what)
        }
        defer { try? fd.close() }
        let bytes = Array(text.utf8)
        let written: Int
        do { written = try bytes.withUnsafeBytes { try fd.write($0) } } catch {
            throw .failed(path: path, what: what, reason: .refusedWrite(Errno.of(error)))
        }
        if written != bytes.count {
            throw .failed(path: path, what: what, reason: .shortWrite(written: written, of: bytes.count))
        }
    }
}
