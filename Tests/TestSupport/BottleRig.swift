// The bottle command's tests' rig: programs compiled into src/, bottled by the built binfmt-reg
// with runbottle's entries at hand (RunbottleRig), and the probes they run.
import Foundation
import Testing

/// A program that says hello with its argv[0] and, given "maps", prints the file behind every mapping.
public let probeC = Fixture.source("bottle-probe.c")

/// The same in C++, throwing and catching an exception first (libstdc++ and libgcc_s unwinding).
public let probeCxx = Fixture.source("bottle-probe.cc")

/// A scratch area: sources and programs in src/, bottles beside it, runbottle and its entries.
public struct BottleRig: Sendable {
    /// runbottle, outside every bottle: what the programs' PT_INTERP slot names, and the
    /// interpreter of the entries `inBinfmt` registers.
    public let rig: RunbottleRig
    public var dir: TemporaryDirectory { rig.dir }
    public var runbottle: String { rig.runbottle }
    public var src: String { dir.path + "/src" }

    public init(_ label: String) throws {
        rig = try RunbottleRig(label)
        try FileManager.default.createDirectory(atPath: dir.path + "/src", withIntermediateDirectories: true)
    }

    /// How bottle's summary line ends for programs sealed by `bottle`.
    public func dispatched(_ binfmt: Bool = false) -> String {
        binfmt ? " (programs: binfmt_misc dispatch; PT_INTERP \(runbottle) where no entry is registered)\n"
            : " (programs: PT_INTERP dispatch through \(runbottle))\n"
    }

    /// Compiles `source` into src/name.
    public func compile(_ name: String, _ source: String, compiler: String = "cc", flags: [String] = []) throws -> String {
        try Bottles.compile(source, to: src + "/" + name, sourceIn: src, compiler: compiler, flags: ["-O1"], after: flags)
    }

    /// Compiles `source` into src/probe and bottles it into bottle/, which must succeed.
    public func bottleProbe(_ source: String, compiler: String = "cc", binfmt: Bool = false) throws -> (root: String, made: CommandResult) {
        let program = try compile("probe", source, compiler: compiler)
        let root = dir.path + "/bottle"
        let made = try bottle([program, "-o", root] + (binfmt ? ["--dispatch", "binfmt"] : []))
        #expect(made.succeeded, "\(made)")
        return (root, made)
    }

    /// Runs `binfmt-reg bottle ARGS`, the programs' slot naming `runbottle` unless ARGS name
    /// an interpreter.
    public func bottle(_ arguments: [String]) throws -> CommandResult {
        let interpreter = arguments.contains("--interpreter") ? [] : ["--interpreter", runbottle]
        return try binfmtReg(["bottle"] + interpreter + arguments)
    }

    /// Runs `script` in a private binfmt_misc instance with runbottle's entries registered.
    public func inBinfmt(_ script: String) throws -> CommandResult { try rig.inBinfmt(script) }

    /// Runs `command` in a chroot holding only the bottle at `root` and /proc (FROM scratch), with
    /// the entries registered: `before` runs first, outside the chroot.
    public func inChroot(_ root: String, _ command: String, before: String = "") throws -> CommandResult {
        try inBinfmt("""
            mkdir \(root)/proc
            mount --rbind /proc \(root)/proc
            \(before)
            chroot \(root) \(command)
            """)
    }

    /// Every file of the tree at `root`, with its inode, mtime and content hash.
    public func snapshot(_ root: String) throws -> String {
        let result = try shell("cd \(root) && find . -printf '%p %y %i %T@ %l\\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum")
        try #require(result.succeeded, "\(result)")
        return result.stdout
    }

    /// The staging directories a run left beside `dir`'s bottles.
    public func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".staging-") }
    }
}

/// The files `ld.so --list` (the bottle's own loader) resolves for `program`.
public func listedPaths(loader: String, program: String) throws -> [String] {
    let listed = try run([loader, "--list", program])
    try #require(listed.succeeded, "\(listed)")
    return listed.stdout.split(separator: "\n").compactMap { line in
        guard let arrow = line.range(of: " => ") else { return nil }
        return String(line[arrow.upperBound...].split(separator: " ").first ?? "")
    }
}

/// The `map=` paths a probe printed, but runbottle's trampoline page (a memfd, no file).
public func mappedPaths(_ output: String) -> Set<String> {
    Set(output.split(separator: "\n").filter { $0.hasPrefix("map=") }.map { String($0.dropFirst(4)) }
        .filter { !$0.hasPrefix("/memfd:runbottle") })
}
