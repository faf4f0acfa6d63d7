// The libraries a program needs, as its own loader resolves them: the loader's --list mode (what ldd runs).
import ELFEngine
import FoundationEssentials
import LinuxOS

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

    /// Runs `loader --list object` (glibc: with `--preload` for `preload`; `searchFirst` as
    /// LD_LIBRARY_PATH, before the user's) and returns the libraries it mapped, the loader
    /// itself left out.
    /// A shared object without DT_NEEDED, which list mode calls "statically linked", has none;
    /// a program (`isProgram`) like that is an error.
    static func libraries(
        of object: String, loader: String, preload: [String] = [], isProgram: Bool = true,
        searchFirst: [String] = []
    ) throws(BottleError) -> [ListedLibrary] {
        guard let flavour = flavour(of: loader) else {
            throw BottleError(object, .unknownLoader(loader))
        }
        var argv = [loader]
        if flavour == .glibc && !preload.isEmpty { argv += ["--preload", preload.joined(separator: ":")] }
        argv += ["--list", object]
        let removed: Set<String> = ["LD_PRELOAD", "LD_AUDIT", "LD_TRACE_LOADED_OBJECTS", "LD_BIND_NOW"]
        var variables = ProcessInfo.processInfo.environment.filter { !removed.contains($0.key) }
        if !searchFirst.isEmpty {
            variables["LD_LIBRARY_PATH"] = (searchFirst + [variables["LD_LIBRARY_PATH"]].compactMap { $0 })
                .joined(separator: ":")
        }
        let environment = variables.map { "\($0.key)=\($0.value)" }
        let (status, stdout, stderr) = try runProcess(argv, environment: environment)
        let errorLines = stderr.split(separator: "\n").map(String.init)
        if let ignored = errorLines.first(where: { $0.contains("cannot be preloaded") }) {
            let name = ignored.components(separatedBy: "'").dropFirst().first ?? ignored
            throw BottleError(name, .preloadNotFound)
        }
        let lines = stdout.split(separator: "\n").map(trimmed)
        if lines.contains(where: { $0.hasPrefix("statically linked") || $0.hasPrefix("not a dynamic executable") }) {
            if !isProgram { return [] }
            throw BottleError(object, .staticallyLinked)
        }
        var result: [ListedLibrary] = []
        for line in lines {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)", "libfoo.so => not found",
            // "/lib64/ld-linux-x86-64.so.2 (0x...)", "linux-vdso.so.1 (0x...)".
            let withoutAddress = line.firstRange(of: " (0x").map { String(line[..<$0.lowerBound]) } ?? line
            if let arrow = withoutAddress.firstRange(of: " => ") {
                let name = String(withoutAddress[..<arrow.lowerBound])
                let path = trimmed(withoutAddress[arrow.upperBound...])
                if path == "not found" { throw BottleError(object, .libraryNotFound(name)) }
                if path.hasPrefix("/") { result.append(ListedLibrary(name: name, path: path)) }
            } else if withoutAddress.hasPrefix("/") {
                result.append(ListedLibrary(name: nil, path: withoutAddress))
            }
        }
        if status != 0 {
            // The loader's own words after its program name and this prefix (ld.so's text: data).
            let said = errorLines.first { !$0.isEmpty }
                .map { $0.components(separatedBy: "error while loading shared libraries: ").last ?? $0 }
            throw BottleError(object, .loaderFailed(said: said, status: status))
        }
        let loaderReal = (try? realPath(loader)) ?? loader
        return result.filter { ((try? realPath($0.path)) ?? $0.path) != loaderReal }
    }

    /// `text` without the blanks around it (ld.so indents with a tab).
    private static func trimmed(_ text: Substring) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return String(text[first...last])
    }

    /// Runs `argv` and collects its exit status (or ending signal) and output.
    static func runProcess(_ argv: [String], environment: [String]) throws(BottleError) -> (Int32, String, String) {
        let path = argv.first ?? ""
        let outcome: Subprocess.Outcome
        do throws(Subprocess.Failure) {
            outcome = try Subprocess(path: path, argv: argv, environment: environment, capturesStandardError: true).run()
        } catch { throw BottleError(path, .cannotRun(error)) }
        return (outcome.exitCode, String(decoding: outcome.standardOutput, as: UTF8.self),
                String(decoding: outcome.standardError, as: UTF8.self))
    }
}

/// `path` with every symlink resolved.
func realPath(_ path: String) throws(BottleError) -> String {
    do { return try FileSystem.realPath(path) } catch {
        throw BottleError(path, .lookUp, system: error)
    }
}
