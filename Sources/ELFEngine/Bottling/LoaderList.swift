// The libraries a program needs, as its own loader resolves them: the loader's --list mode (what ldd runs).
import Foundation

/// An error about one file or name while bottling: `<path>: <reason>`.
public struct BottleError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    init(_ error: ELFError) { self.init(error.path, error.reason.description) }

    public var description: String { "\(path): \(reason)" }
}

/// One library the loader mapped: the name it was asked for and the file it opened.
struct ListedLibrary: Equatable {
    /// The DT_NEEDED (or --preload) name; nil when the loader printed only a path.
    var name: String?
    var path: String
}

enum LoaderList {
    /// The loader flavours whose list mode we know.
    enum Flavour { case glibc, musl }

    static func flavour(of loader: String) -> Flavour? {
        let base = loader.split(separator: "/").last.map(String.init) ?? loader
        if base.hasPrefix("ld-musl-") { return .musl }
        if base.hasPrefix("ld-linux") || base.hasPrefix("ld64.so") || base == "ld.so.1" { return .glibc }
        return nil
    }

    /// Runs `loader --list object` (glibc: with `--preload` for `preload`) and returns the
    /// libraries it mapped, the loader itself left out.
    /// A shared object without DT_NEEDED, which list mode calls "statically linked", has none;
    /// a program (`isProgram`) like that is an error.
    static func libraries(
        of object: String, loader: String, preload: [String] = [], isProgram: Bool = true
    ) throws(BottleError) -> [ListedLibrary] {
        guard let flavour = flavour(of: loader) else {
            throw BottleError(object, "its loader \(loader) is neither glibc's nor musl's: no list mode to find its libraries")
        }
        var argv = [loader]
        if flavour == .glibc && !preload.isEmpty { argv += ["--preload", preload.joined(separator: ":")] }
        argv += ["--list", object]
        var environment = ProcessInfo.processInfo.environment
        for name in ["LD_PRELOAD", "LD_AUDIT", "LD_TRACE_LOADED_OBJECTS", "LD_BIND_NOW"] { environment[name] = nil }
        let (status, stdout, stderr) = try runProcess(argv, environment: environment)
        let errorLines = stderr.split(separator: "\n").map(String.init)
        if let ignored = errorLines.first(where: { $0.contains("cannot be preloaded") }) {
            let name = ignored.components(separatedBy: "'").dropFirst().first ?? ignored
            throw BottleError(name, "--lib names a library the loader cannot find")
        }
        let lines = stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        if lines.contains(where: { $0.hasPrefix("statically linked") || $0.hasPrefix("not a dynamic executable") }) {
            if !isProgram { return [] }
            throw BottleError(object, "statically linked: it has no libraries or loader to bottle")
        }
        var result: [ListedLibrary] = []
        for line in lines {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)", "libfoo.so => not found",
            // "/lib64/ld-linux-x86-64.so.2 (0x...)", "linux-vdso.so.1 (0x...)".
            let withoutAddress = line.range(of: " (0x").map { String(line[..<$0.lowerBound]) } ?? line
            if let arrow = withoutAddress.range(of: " => ") {
                let name = String(withoutAddress[..<arrow.lowerBound])
                let path = String(withoutAddress[arrow.upperBound...]).trimmingCharacters(in: .whitespaces)
                if path == "not found" { throw BottleError(object, "needs \(name), which the loader cannot find") }
                if path.hasPrefix("/") { result.append(ListedLibrary(name: name, path: path)) }
            } else if withoutAddress.hasPrefix("/") {
                result.append(ListedLibrary(name: nil, path: withoutAddress))
            }
        }
        if status != 0 {
            let why = errorLines.first { !$0.isEmpty } ?? "exit status \(status)"
            let short = why.components(separatedBy: "error while loading shared libraries: ").last ?? why
            throw BottleError(object, "the loader cannot resolve its libraries: \(short)")
        }
        let loaderReal = (try? realPath(loader)) ?? loader
        return result.filter { ((try? realPath($0.path)) ?? $0.path) != loaderReal }
    }

    /// Runs `argv` and collects its exit status and output.
    static func runProcess(_ argv: [String], environment: [String: String]) throws(BottleError) -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        process.environment = environment
        // stderr goes to an unnamed temporary file, so neither stream can fill a pipe and stall the loader.
        guard let errorFile = tmpfile() else { throw BottleError(argv[0], "cannot create a temporary file for its errors") }
        defer { fclose(errorFile) }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(fileDescriptor: fileno(errorFile), closeOnDealloc: false)
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw BottleError(argv[0], "cannot run: \(error.localizedDescription)") }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var stderr: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var offset: off_t = 0
        while stderr.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { pread(fileno(errorFile), $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            stderr += chunk[0..<n]
            offset += off_t(n)
        }
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

/// `path` with every symlink resolved.
func realPath(_ path: String) throws(BottleError) -> String {
    guard let resolved = realpath(path, nil) else {
        throw BottleError(path, String(cString: strerror(errno)).lowercased())
    }
    defer { free(resolved) }
    return String(cString: resolved)
}
