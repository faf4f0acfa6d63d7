// The ELF engine tests' bottles: programs compiled into bin/ as they are (no run path, nothing
// sealed), the system's loaders copied into lib/, for seal, unseal and relocate to work on.
import ELFEngine
import Foundation
import Testing

public struct FixtureError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// A temporary bottle: DIR/bin for programs, DIR/lib holding copies of the system's loaders.
public struct FixtureBottle: Sendable {
    public let dir: TemporaryDirectory
    public var bin: String { dir.path + "/bin" }
    public var lib: String { dir.path + "/lib" }

    public static let helloSource = Fixture.source("hello-args.c")

    public init(_ label: String) throws {
        dir = try TemporaryDirectory(label)
        try Bottles.makeLayout(dir.path)
        for loader in [Bottles.glibcLoader, "/lib/ld-linux.so.2"] where FileManager.default.fileExists(atPath: loader) {
            try expectSuccess(run(["cp", "-L", loader, lib + "/"]))
        }
    }

    /// Compiles the hello program into bin/NAME with `flags` (e.g. ["-pie"], ["-m32", "-no-pie"]).
    @discardableResult
    public func compile(_ name: String, _ flags: [String], source: String = helloSource) throws -> String {
        try Bottles.compile(source, to: bin + "/" + name, sourceIn: dir.path, flags: ["-O1"], after: flags)
    }

    public func remove() { dir.remove() }
}

@discardableResult
public func expectSuccess(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandResult {
    guard result.succeeded else {
        Issue.record("command failed: \(result)", sourceLocation: sourceLocation)
        throw FixtureError(description: "command failed: \(result)")
    }
    return result
}

/// The bytes of the file at `path`.
public func bytes(_ path: String) throws -> [UInt8] { try ELFBytes(contentsOf: path).bytes }

/// `readelf -lW` program header lines as [type, offset, vaddr, paddr, filesz, memsz, ...].
public func readelfSegments(_ path: String) throws -> [[String]] {
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
public func runWritten(_ argv: [String]) throws -> CommandResult {
    var result = try run(argv)
    for _ in 0..<20 where result.status == 126 && result.stderr.contains("Text file busy") {
        usleep(50_000)
        result = try run(argv)
    }
    return result
}

/// The kinds of executable the toolchain here makes.
public enum Build: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case pie64, nonPIE64, pie32, nonPIE32

    public var flags: [String] {
        switch self {
        case .pie64: return ["-pie", "-fPIE"]
        case .nonPIE64: return ["-no-pie", "-fno-PIE"]
        case .pie32: return ["-m32", "-pie", "-fPIE"]
        case .nonPIE32: return ["-m32", "-no-pie", "-fno-PIE"]
        }
    }
    public var is64: Bool { self == .pie64 || self == .nonPIE64 }
    /// The kinds seal accepts: runbottle is ELFCLASS64 code, so 32-bit programs are refused.
    public static let sealable: [Build] = [.pie64, .nonPIE64]
    public var noteOffset: String { is64 ? "0x000040" : "0x000034" }
    public var loader: String { is64 ? "../lib/ld-linux-x86-64.so.2" : "../lib/ld-linux.so.2" }
    /// The system's loader, the programs' original PT_INTERP.
    public var systemLoader: String { is64 ? "/lib64/ld-linux-x86-64.so.2" : "/lib/ld-linux.so.2" }
    public var testDescription: String { rawValue }
}

/// Reading a file's seal through the engine.
public enum SealedStateProbe {
    public static func status(_ path: String) throws -> SealedState.Status {
        let file = try ELFFile(path: path)
        return try SealedState.read(file, ELFImage.parse(file)).status
    }

    public static func note(_ path: String) throws -> BottleNote? {
        let file = try ELFFile(path: path)
        return try SealedState.read(file, ELFImage.parse(file)).note
    }
}

/// What ends seal's summary line by default.
public let interpDispatch = " (PT_INTERP dispatch through /usr/libexec/runbottle)\n"

/// Every text an error's reason carries, however deeply nested: what binfmt-reg words into
/// one line of its message.
public func texts(in value: Any) -> [String] {
    if let text = value as? String { return [text] }
    return Mirror(reflecting: value).children.flatMap { texts(in: $0.value) }
}
