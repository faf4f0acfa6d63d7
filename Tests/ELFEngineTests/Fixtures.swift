// Builds the ELF files the engine tests work on, with the system's compilers, in a temporary
// bottle layout (bin/ and lib/ with the loader copied in).
import Foundation
import Testing
import TestSupport

struct FixtureError: Error, CustomStringConvertible {
    var description: String
}

/// A temporary bottle: DIR/bin for programs, DIR/lib holding copies of the system's loaders.
struct FixtureBottle {
    let dir: TemporaryDirectory
    var bin: String { dir.path + "/bin" }
    var lib: String { dir.path + "/lib" }

    static let helloSource = Fixture.source("hello-args.c")

    init(_ label: String) throws {
        dir = try TemporaryDirectory(label)
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
        for loader in ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux.so.2"] where FileManager.default.fileExists(atPath: loader) {
            try expectSuccess(run(["cp", "-L", loader, lib + "/"]))
        }
    }

    /// Compiles the hello program into bin/NAME with `flags` (e.g. ["-pie"], ["-m32", "-no-pie"]).
    @discardableResult
    func compile(_ name: String, _ flags: [String], source: String = helloSource) throws -> String {
        let sourcePath = dir.path + "/" + name + ".c"
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let output = bin + "/" + name
        try expectSuccess(run(["cc", "-O1", "-o", output, sourcePath] + flags))
        return output
    }

    func remove() { dir.remove() }
}

@discardableResult
func expectSuccess(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandResult {
    guard result.succeeded else {
        Issue.record("command failed: \(result)", sourceLocation: sourceLocation)
        throw FixtureError(description: "command failed: \(result)")
    }
    return result
}

func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

/// `readelf -lW` program header lines as [type, offset, vaddr, paddr, filesz, memsz, ...].
func readelfSegments(_ path: String) throws -> [[String]] {
    let result = try expectSuccess(run(["readelf", "-lW", path]))
    var rows: [[String]] = []
    var inTable = false
    for line in result.stdout.split(separator: "\n") {
        if line.contains("Type") && line.contains("Offset") { inTable = true; continue }
        if inTable {
            let fields = line.split(separator: " ").map(String.init)
            if fields.isEmpty || line.contains("Section to Segment") { break }
            if fields[0].hasPrefix("[") { continue }
            rows.append(fields)
        }
    }
    return rows
}

/// Runs a program this process has just written. Tests run in parallel threads that spawn
/// processes: a child forked while the new file's descriptor was open holds a copy of it until
/// its own exec, and executing the file meanwhile fails with ETXTBSY. Retried a few times.
func runWritten(_ argv: [String]) throws -> CommandResult {
    var result = try run(argv)
    for _ in 0..<20 where result.status == 126 && result.stderr.contains("Text file busy") {
        usleep(50_000)
        result = try run(argv)
    }
    return result
}
