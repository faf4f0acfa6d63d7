// Builds real test bottles: a program compiled here, the libraries it needs and its loader copied
// into DIR/bin and DIR/lib, the program's DT_RPATH pointing at $ORIGIN/../lib, then sealed.
import Foundation

/// A bottle built for a test.
public struct TestBottle: Sendable {
    public enum Libc: Sendable { case glibc, musl }

    /// The bottle's directory.
    public let root: String
    /// The program, at root/bin/NAME.
    public let program: String
    /// The bundled loader, at root/lib/BASENAME.
    public let loader: String
    public let libc: Libc
}

public enum BottleBuilderError: Error, CustomStringConvertible {
    case failed(String, CommandResult)

    public var description: String {
        switch self {
        case .failed(let what, let result): return "\(what) failed: \(result)"
        }
    }
}

public enum Bottles {
    public static let glibcLoader = "/lib64/ld-linux-x86-64.so.2"
    public static let muslLoader = "/lib/ld-musl-x86_64.so.1"
    public static let muslLibc = "/lib/x86_64-linux-musl/libc.so"

    /// How `build` seals: for the binfmt dispatch (`--dispatch binfmt`), which the tests run in a
    /// private binfmt_misc instance, or binfmt-reg's default, the PT_INTERP dispatch; `interpreter`
    /// is what the PT_INTERP slot names (the tests' own runbottle, or a file that exists nowhere).
    public enum Dispatch: Sendable { case binfmt, interp }

    /// The one way the tests build a fixture bottle: compiles `source` (C, or C++ when `cxx`) into
    /// root/bin/name, run path $ORIGIN/../lib, with its libraries and loader copied into root/lib,
    /// and seals it unless `seal` is false.
    public static func build(
        name: String, source: String, in root: String, libc: TestBottle.Libc = .glibc,
        cxx: Bool = false, pie: Bool = true, flags: [String] = [], seal: Bool = true,
        dispatch: Dispatch = .binfmt, interpreter: String? = nil
    ) throws -> TestBottle {
        let (bin, lib) = try makeLayout(root)
        let compiler: String
        switch (libc, cxx) {
        case (.glibc, false): compiler = "cc"
        case (.glibc, true): compiler = "c++"
        case (.musl, false): compiler = "musl-gcc"
        case (.musl, true):
            throw BottleBuilderError.failed(
                "a C++ musl bottle", CommandResult(status: 1, signaled: false, stdout: "",
                stderr: "musl-tools has no C++ compiler"))
        }
        // DT_RPATH, not DT_RUNPATH: it applies to every object the loader loads, transitively.
        let program = try compile(source, to: bin + "/" + name, sourceIn: root, compiler: compiler,
                                  flags: ["-g", "-O1", pie ? "-pie" : "-no-pie", pie ? "-fPIE" : "-fno-PIE"],
                                  after: ["-Wl,--disable-new-dtags", "-Wl,-rpath,$ORIGIN/../lib"] + flags)

        let loader: String
        switch libc {
        case .glibc:
            loader = lib + "/ld-linux-x86-64.so.2"
            try copyResolved(glibcLoader, to: loader)
            for dependency in try glibcDependencies(of: program) {
                let target = lib + "/" + URL(fileURLWithPath: dependency.name).lastPathComponent
                if !FileManager.default.fileExists(atPath: target) {
                    try copyResolved(dependency.path, to: target)
                }
            }
        case .musl:
            // musl's loader is its libc: one file serves as both.
            loader = lib + "/ld-musl-x86_64.so.1"
            try copyResolved(muslLibc, to: loader)
        }
        if seal {
            let arguments = (dispatch == .binfmt ? ["--dispatch", "binfmt"] : [])
                + (interpreter.map { ["--interpreter", $0] } ?? [])
            let sealed = try run([try BuiltTools.binfmtReg(), "seal"] + arguments + [program])
            guard sealed.succeeded else { throw BottleBuilderError.failed("binfmt-reg seal \(program)", sealed) }
        }
        return TestBottle(root: root, program: program, loader: loader, libc: libc)
    }

    /// Makes root/bin and root/lib.
    @discardableResult
    public static func makeLayout(_ root: String) throws -> (bin: String, lib: String) {
        let bin = root + "/bin", lib = root + "/lib"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
        return (bin, lib)
    }

    /// Compiles `source`, written to `sourceIn`/NAME.c (.cc for c++), NAME being `output`'s, into
    /// `output`: `compiler flags -o output source after`.
    @discardableResult
    public static func compile(
        _ source: String, to output: String, sourceIn directory: String, compiler: String = "cc",
        flags: [String] = [], after: [String] = []
    ) throws -> String {
        let name = URL(fileURLWithPath: output).lastPathComponent
        let sourcePath = directory + "/" + name + (compiler.hasSuffix("++") ? ".cc" : ".c")
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let argv = [compiler] + flags + ["-o", output, sourcePath] + after
        let compiled = try run(argv)
        guard compiled.succeeded else { throw BottleBuilderError.failed(argv.joined(separator: " "), compiled) }
        return output
    }

    /// Adds a shared library built from `source` to the bottle's lib/ as lib<name>.so.
    public static func addLibrary(name: String, source: String, to bottle: TestBottle) throws -> String {
        try compile(source, to: bottle.root + "/lib/lib" + name + ".so", sourceIn: bottle.root,
                    compiler: bottle.libc == .glibc ? "cc" : "musl-gcc", flags: ["-shared", "-fPIC"])
    }

    /// The libraries glibc's loader maps for `program` (its --list mode, as ldd uses).
    static func glibcDependencies(of program: String) throws -> [(name: String, path: String)] {
        let listed = try run([glibcLoader, "--list", program])
        guard listed.succeeded else { throw BottleBuilderError.failed("ld.so --list \(program)", listed) }
        // Lines look like "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)".
        return listed.stdout.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 3, parts[1] == "=>", parts[2].hasPrefix("/") else { return nil }
            return (String(parts[0].trimmingCharacters(in: .whitespaces)), String(parts[2]))
        }
    }

    /// Copies the file `path` resolves to (symlinks followed), keeping it executable.
    static func copyResolved(_ path: String, to destination: String) throws {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        let copied = try run(["cp", "-L", real, destination])
        guard copied.succeeded else { throw BottleBuilderError.failed("cp \(real)", copied) }
        chmod(destination, 0o755)
    }
}
