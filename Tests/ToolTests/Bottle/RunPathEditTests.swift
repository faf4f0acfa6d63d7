// The DT_RPATH edit on programs the test compiles: each method, checked with readelf, patchelf, eu-elflint and by running.
import ELFEngine
import Foundation
import Testing
import TestSupport

@Suite struct RunPathEditTests {
    static let hello = Fixture.source("hello-bottle.c")

    /// Compiles `source` with `compiler` and `flags` into `dir`/name.
    static func compile(_ compiler: String, _ source: String, _ dir: TemporaryDirectory, name: String = "prog",
                        flags: [String] = []) throws -> String {
        try Bottles.compile(source, to: dir.file(name), sourceIn: dir.path, compiler: compiler, after: flags)
    }

    /// The DT_RPATH / DT_RUNPATH lines of `readelf -dW`.
    static func runPathLines(_ path: String) throws -> [String] {
        let result = try run(["readelf", "-dW", path])
        try #require(result.succeeded, "\(result)")
        return result.stdout.split(separator: "\n").map(String.init).filter { $0.contains("(RPATH)") || $0.contains("(RUNPATH)") }
    }

    /// eu-elflint --gnu-ld's complaints about `path`, with the file name taken out.
    static func elflint(_ path: String) throws -> Set<String> {
        let result = try run(["eu-elflint", "--gnu-ld", path])
        return Set((result.stdout + result.stderr).split(separator: "\n").map { $0.replacingOccurrences(of: path, with: "FILE") })
    }

    /// Edits a copy of `program` with `methods`, and checks everything that must hold after.
    static func checkEdit(_ program: String, _ dir: TemporaryDirectory, runPath: String,
                          methods: Set<RunPathMethod>, expect method: RunPathMethod, output: String) throws {
        let copy = program + ".edited"
        try run(["cp", program, copy])
        let done = try RunPathEditor.apply(to: copy, runPath: runPath, methods: methods)
        #expect(done == method)
        let lines = try runPathLines(copy)
        #expect(lines.count == 1 && lines[0].contains("(RPATH)") && lines[0].hasSuffix("Library rpath: [\(runPath)]"), "\(lines)")
        #expect(try run(["patchelf", "--print-rpath", copy]).stdout == runPath + "\n")
        let added = try elflint(copy).subtracting(elflint(program))
        #expect(added.isEmpty, "eu-elflint on the edited file: \(added.sorted())")
        let ran = try run([copy])
        #expect(ran.succeeded && ran.stdout == output, "\(ran)")
        // The loader reads the new entry: an $ORIGIN path shows up in its search.
        let debug = try run([copy], environment: ["LD_DEBUG": "libs"])
        #expect(debug.stderr.contains("RPATH from file"), "\(debug.stderr.prefix(2000))")
        // Idempotent: a second edit finds nothing to do.
        #expect(try RunPathEditor.apply(to: copy, runPath: runPath) == .unchanged)
    }

    @Test func addsRunPathBelowTheWritableSegment() throws {
        let dir = try TemporaryDirectory("rpath")
        defer { dir.remove() }
        let program = try Self.compile("cc", Self.hello, dir)
        try Self.checkEdit(program, dir, runPath: "$ORIGIN/../lib", methods: [.belowWritableSegment],
                           expect: .belowWritableSegment, output: "hello from a bottle\n")
    }

    @Test func addsRunPathInAnAppendedSegment() throws {
        let dir = try TemporaryDirectory("rpath")
        defer { dir.remove() }
        let program = try Self.compile("cc", Self.hello, dir)
        try Self.checkEdit(program, dir, runPath: "$ORIGIN/../lib", methods: [.appendedSegment],
                           expect: .appendedSegment, output: "hello from a bottle\n")
        let headers = try run(["readelf", "-lW", program + ".edited"]).stdout
        #expect(headers.contains("RW  0x1000"), "\(headers)")
    }

    @Test func rewritesRunPathInPlace() throws {
        let dir = try TemporaryDirectory("rpath")
        defer { dir.remove() }
        let program = try Self.compile("cc", Self.hello, dir, flags: ["-Wl,--enable-new-dtags,-rpath,/opt/some/long/library/directory"])
        #expect(try Self.runPathLines(program).first?.contains("(RUNPATH)") == true)
        try Self.checkEdit(program, dir, runPath: "$ORIGIN/../lib", methods: [.inPlace],
                           expect: .inPlace, output: "hello from a bottle\n")
    }

    @Test func shortRunPathTakesACopy() throws {
        let dir = try TemporaryDirectory("rpath")
        defer { dir.remove() }
        let program = try Self.compile("cc", Self.hello, dir, flags: ["-Wl,--enable-new-dtags,-rpath,/x"])
        try Self.checkEdit(program, dir, runPath: "$ORIGIN/../lib", methods: RunPathMethod.all,
                           expect: .belowWritableSegment, output: "hello from a bottle\n")
    }

    @Test func editsMuslAndCxxPrograms() throws {
        let dir = try TemporaryDirectory("rpath")
        defer { dir.remove() }
        let musl = try Self.compile("musl-gcc", Self.hello, dir, name: "musl")
        try Self.checkEditNoDebug(musl, output: "hello from a bottle\n")
        let cxx = try Self.compile("c++", Self.throwing, dir, name: "cxx")
        try Self.checkEdit(cxx, dir, runPath: "$ORIGIN/../lib", methods: [.appendedSegment],
                           expect: .appendedSegment, output: "caught 42\n")
    }

    static let throwing = Fixture.source("caught-42.cc")

    /// musl's loader has no LD_DEBUG: the edit is checked with readelf and by running.
    static func checkEditNoDebug(_ program: String, output: String) throws {
        let copy = program + ".edited"
        try run(["cp", program, copy])
        let done = try RunPathEditor.apply(to: copy, runPath: "$ORIGIN/../lib")
        #expect(done == .belowWritableSegment)
        #expect(try runPathLines(copy).count == 1)
        #expect(try run(["patchelf", "--print-rpath", copy]).stdout == "$ORIGIN/../lib\n")
        let added = try elflint(copy).subtracting(elflint(program))
        #expect(added.isEmpty, "eu-elflint on the edited file: \(added.sorted())")
        let ran = try run([copy])
        #expect(ran.succeeded && ran.stdout == output, "\(ran)")
    }

    /// With no padding and no spare program header, a file about to be sealed gives PT_PHDR's
    /// slot; the seal puts a PT_PHDR back first, and the sealed file runs (natively, its
    /// PT_INTERP slot naming the system's loader), for glibc and musl PIEs.
    @Test(arguments: ["cc", "musl-gcc"]) func takesThePHDRSlotWhenSealedNext(compiler: String) throws {
        let dir = try TemporaryDirectory("rpath-phdr")
        defer { dir.remove() }
        let program = try Self.compile(compiler, Self.hello, dir)
        let bin = dir.file("bin"), lib = dir.file("lib")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
        let loader = compiler == "cc" ? "ld-linux-x86-64.so.2" : "ld-musl-x86_64.so.1"
        try run(["cp", "-L", (compiler == "cc" ? "/lib64/" : "/lib/") + loader, lib + "/" + loader])
        let copy = bin + "/prog"
        try run(["cp", program, copy])
        if compiler == "musl-gcc" {
            // musl-gcc output has no PT_NOTE at all: nothing but PT_PHDR to spare.
            #expect(throws: ELFError.self) { try RunPathEditor.apply(to: copy, runPath: "$ORIGIN/../lib", methods: [.appendedSegment]) }
        }
        let done = try RunPathEditor.apply(to: copy, runPath: "$ORIGIN/../lib", methods: [.appendedSegmentBeforeSeal])
        #expect(done == .appendedSegmentBeforeSeal)
        #expect(try !run(["readelf", "-lW", copy]).stdout.contains("PHDR"))
        let systemLoader = (compiler == "cc" ? "/lib64/" : "/lib/") + loader
        let sealed = try Sealer.seal(copy, SealOptions(loader: "../lib/" + loader, interpreter: systemLoader))
        try sealed.rewrite?.commit()
        let headers = try run(["readelf", "-lW", copy]).stdout
        let first = headers.split(separator: "\n").first { $0.hasPrefix("  ") && !$0.contains("Type") }
        #expect(first?.hasPrefix("  PHDR") == true, "\(headers)")
        let ran = try run([copy])
        #expect(ran.succeeded && ran.stdout == "hello from a bottle\n", "\(ran)")
        #expect(try run(["patchelf", "--print-rpath", copy]).stdout == "$ORIGIN/../lib\n")
        let added = try Self.elflint(copy).subtracting(Self.elflint(program)).filter { !$0.contains("owner name 'BOTTLE'") }
        #expect(added.isEmpty, "eu-elflint on the sealed file: \(added.sorted())")
    }

    /// Corrupt inputs, one field at a time (every section header's offset, size and link, every
    /// dynamic entry's value, every program header's offset and size, set to extremes): the
    /// planner throws or plans, and a plan it makes is checked before anything is replaced.
    @Test func corruptFieldsAreRefusedNotCrashedOn() throws {
        let dir = try TemporaryDirectory("rpath-corrupt")
        defer { dir.remove() }
        let program = try Self.compile("cc", Self.hello, dir)
        let original = try ELFBytes(contentsOf: program)
        var fields: [(Int, Int)] = []  // (offset, width) of each field to corrupt
        let shoff = Int(original.u64(40)), shnum = original.u16(60), phoff = Int(original.u64(32)), phnum = original.u16(56)
        for i in 0..<shnum { fields += [(shoff + i * 64 + 24, 8), (shoff + i * 64 + 32, 8), (shoff + i * 64 + 40, 4)] }
        for i in 0..<phnum { fields += [(phoff + i * 56 + 8, 8), (phoff + i * 56 + 32, 8)] }
        let (file, image, _) = try Sealer.open(program)
        if let dynamic = image.first(ELF.PT_DYNAMIC) {
            for i in 0..<Int(dynamic.p_filesz / 16) { fields.append((Int(dynamic.p_offset) + i * 16 + 8, 8)) }
        }
        _ = file
        var planned = 0, refused = 0
        for (offset, width) in fields {
            for value: UInt64 in [0, 1, 0x7fff_ffff, UInt64.max, UInt64(original.bytes.count)] {
                var bytes = original
                bytes.put(value, at: offset, width: width)
                let path = dir.file("corrupt")
                try bytes.write(to: path)
                do {
                    let file = try ELFFile(path: path)
                    let image = try ELFImage.parse(file)
                    _ = try RunPathEditor.plan(file, image, runPath: "$ORIGIN/../lib", methods: RunPathMethod.beforeSeal)
                    planned += 1
                } catch {
                    refused += 1
                }
            }
        }
        #expect(planned + refused == fields.count * 5 && planned > 0 && refused > 0, "planned \(planned), refused \(refused)")
    }
}
