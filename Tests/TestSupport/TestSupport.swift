// Helpers shared by the test targets: running commands, temporary trees, the built tools, and
// private binfmt_misc instances (a user + mount namespace with binfmt_misc mounted).
import Foundation
import RunbottleImage

/// What a finished command left behind.
public struct CommandResult: Sendable, CustomStringConvertible {
    public var status: Int32
    /// True when the process was killed by a signal; `status` is then the signal number.
    public var signaled: Bool
    public var stdout: String
    public var stderr: String

    public var succeeded: Bool { !signaled && status == 0 }
    public var description: String {
        "status \(status)\(signaled ? " (signal)" : "")\nstdout:\n\(stdout)\nstderr:\n\(stderr)"
    }
}

public enum TestSupportError: Error, CustomStringConvertible {
    case launchFailed(String, String)
    case toolMissing(String)

    public var description: String {
        switch self {
        case .launchFailed(let what, let why): return "\(what): could not start: \(why)"
        case .toolMissing(let path): return "\(path): not built (run swift build first)"
        }
    }
}

/// Runs `argv` (argv[0] looked up in PATH) and waits for it.
@discardableResult
public func run(
    _ argv: [String], environment: [String: String]? = nil, stdin: String? = nil,
    currentDirectory: String? = nil
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    do { try process.run() } catch {
        throw TestSupportError.launchFailed(argv.joined(separator: " "), "\(error)")
    }
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Read stderr on another thread so neither pipe fills up and blocks the child.
    let errData = PipeDrain(err.fileHandleForReading)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus,
        signaled: process.terminationReason == .uncaughtSignal,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData.wait(), as: UTF8.self))
}

/// Reads a pipe to its end on a thread of its own.
private final class PipeDrain: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }.start()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}

/// Runs the built binfmt-reg with `arguments`.
@discardableResult
public func binfmtReg(_ arguments: [String]) throws -> CommandResult {
    try run([try BuiltTools.binfmtReg()] + arguments)
}

/// Runs a bash script with `set -euo pipefail`.
@discardableResult
public func shell(_ script: String, environment: [String: String]? = nil) throws -> CommandResult {
    try run(["bash", "-c", "set -euo pipefail\n" + script], environment: environment)
}

/// The shell line that mounts, in a user namespace, a binfmt_misc instance of its own, or stops
/// the script saying why: Linux gives a user namespace one only from 6.7 (before, the kernel
/// refuses the mount with EPERM), so a test needing one fails there with that reason.
public let mountPrivateBinfmtMisc = """
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || { echo "this test needs a binfmt_misc instance of its own, which a user namespace gets from Linux 6.7 on (this kernel: $(uname -r))" >&2; exit 1; }
    """

/// Where the commands that need a binfmt_misc instance of their own run: here, when a user
/// namespace can mount one (Linux 6.7 and later), else in the VM of
/// Tests/SystemTests/lib/instance-vm.sh, which boots a newer kernel with this machine's files.
/// BINFMT_BOTTLE_USERNS_INSTANCE=refused sends them there on any kernel.
public enum PrivateInstance {
    private static let vmRunner = Repository.path("Tests/SystemTests/lib/instance-vm.sh")

    /// The prefix of such a command: nothing here, the VM's runner there. Decided once a run.
    public static let runner: [String] = {
        let needed = try? TestSupport.run(["bash", vmRunner, "--needed"])
        return needed?.succeeded == true ? ["bash", vmRunner] : []
    }()

    /// Runs `arguments` where a user namespace gets a binfmt_misc instance of its own.
    @discardableResult
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws
        -> CommandResult
    {
        try TestSupport.run(runner + arguments, environment: environment)
    }
}

/// Runs a bash script as root of a new user namespace with its own mount namespace and its own,
/// empty binfmt_misc instance mounted at /proc/sys/fs/binfmt_misc (Linux 6.7 and later). Whatever
/// the script registers there vanishes with the namespace.
@discardableResult
public func inPrivateBinfmt(_ script: String, environment: [String: String]? = nil) throws
    -> CommandResult
{
    let prologue = """
        set -euo pipefail
        \(mountPrivateBinfmtMisc)
        # install records its registration in /run/binfmt-reg: the namespace's own /run.
        mount -t tmpfs -o mode=0755 tmpfs /run

        """
    return try PrivateInstance.run(
        ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
         "bash", "-c", prologue + script],
        environment: environment)
}

/// A fresh directory under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "test") throws {
        let template = NSTemporaryDirectory() + "binfmt-bottle-\(label)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else {
            throw TestSupportError.launchFailed("mkdtemp \(template)", String(cString: strerror(errno)))
        }
        path = String(cString: made)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() {
        _ = try? run(["rm", "-rf", "--one-file-system", path])
    }
}

/// The package's build products (the directory holding the test bundle).
public enum BuiltTools {
    public static var productsDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // Swift Testing may run from inside an .xctest bundle directory.
        while dir.path.contains(".xctest") { dir.deleteLastPathComponent() }
        return dir.path
    }

    /// The built binfmt-reg executable.
    public static func binfmtReg() throws -> String {
        let path = productsDirectory + "/binfmt-reg"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError.toolMissing(path)
        }
        return path
    }

    /// Writes the embedded runbottle image into `directory` as an executable file.
    public static func writeRunbottle(into directory: String, name: String = "runbottle") throws
        -> String
    {
        let path = directory + "/" + name
        try Data(RunbottleImage.bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }
}
