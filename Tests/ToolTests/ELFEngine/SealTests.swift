// Sealing real executables built here: they still run natively, the layout is bottle(5)'s,
// unseal restores them byte for byte, and resealing changes nothing.
import ELFEngine
import Foundation
import Testing
import TestSupport

/// Seals `path` through the engine and commits the rewrite.
@discardableResult
func sealNow(_ path: String, _ options: SealOptions = SealOptions()) throws -> PreparedChange {
    let change = try Sealer.seal(path, options)
    try change.rewrite?.commit()
    return change
}

@Test(arguments: Build.sealable)
func sealedExecutableRunsAndHasTheBottleLayout(_ build: Build) throws {
    let bottle = try FixtureBottle("seal-\(build.rawValue)")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", build.flags)
    let original = try bytes(program)
    let before = try expectSuccess(run([program, "x", "y"]))

    let change = try sealNow(program)
    guard case .sealed(let note, _) = change.outcome else {
        Issue.record("not sealed: \(change.outcome)")
        return
    }
    #expect(note.loader == build.loader)
    // The PT_INTERP dispatch by default: note type 3, the slot naming runbottle.
    #expect(note.type == .interp)

    // readelf's view: PT_PHDR first, the 4096-byte PT_INTERP slot second, the note last at e_ehsize.
    let segments = try readelfSegments(program)
    #expect(segments.first?.first == "PHDR")
    #expect(segments.dropFirst().first?.first == "INTERP")
    #expect(segments.first { $0[0] == "INTERP" }?[4] == (build.is64 ? "0x001000" : "0x01000"))
    #expect(segments.last?[0] == "NOTE")
    #expect(segments.last?[1] == build.noteOffset)
    let loads = segments.filter { $0[0] == "LOAD" }.compactMap { UInt64($0[2].dropFirst(2), radix: 16) }
    #expect(loads == loads.sorted())
    #expect(try run(["readelf", "-lW", program]).stdout.contains("[Requesting program interpreter: /usr/libexec/runbottle]"))

    // The engine's view agrees.
    let file = try ELFFile(path: program)
    let image = try ELFImage.parse(file)
    let state = try SealedState.read(file, image)
    #expect(state.status == .sealed)
    #expect(state.note == note)
    #expect(state.slotContents == "/usr/libexec/runbottle")
    #expect(image.interpBytes == SealFormat.slotBytes(naming: SealFormat.runbottlePath, machine: image.header.e_machine))
    // The original string is still in the body, where the record's table says.
    #expect(state.originalInterpreter(file, image) == build.systemLoader)
    let first = try #require(image.loads.first), appended = try #require(image.loads.last)
    // Congruent with the first PT_LOAD, so kernels before 5.18 compute AT_PHDR right.
    #expect(appended.p_vaddr &- appended.p_offset == first.p_vaddr &- first.p_offset)
    #expect(image.header.e_phoff == appended.p_offset)

    // Resealing changes nothing, not even the modification time.
    let sealedBytes = try bytes(program)
    let mtime = try FileManager.default.attributesOfItem(atPath: program)[.modificationDate] as? Date
    let again = try sealNow(program)
    #expect(again.outcome == .alreadySealed(note))
    #expect(try bytes(program) == sealedBytes)
    #expect(try FileManager.default.attributesOfItem(atPath: program)[.modificationDate] as? Date == mtime)

    // The layout runs natively: with the slot naming the system's loader, the kernel and that
    // loader take the sealed file as any program, with the same output.
    let native = try sealNow(program, SealOptions(interpreter: build.systemLoader))
    #expect(native.outcome == .updated(note, slot: build.systemLoader, previousType: .interp,
                                       previousSlot: SealFormat.runbottlePath))
    let after = try expectSuccess(runWritten([program, "x", "y"]))
    #expect(after.stdout == before.stdout)
    if build.is64 {
        // Through runbottle as the program interpreter, which maps the bundled loader.
        let runbottle = try BuiltTools.writeRunbottle(into: bottle.dir.path)
        try sealNow(program, SealOptions(interpreter: runbottle))
        let viaRunbottle = try expectSuccess(runWritten([program, "x", "y"]))
        #expect(viaRunbottle.stdout == before.stdout)
    }

    // Unseal restores the original byte for byte, after any number of updates.
    let unsealed = try Sealer.unseal(program)
    try unsealed.rewrite?.commit()
    #expect(unsealed.outcome == .unsealed)
    #expect(try bytes(program) == original)
    try expectSuccess(run(["cmp", program, program]))
}

/// Rewrites the PT_PHDR entry of a little-endian executable to PT_NULL: a file without PT_PHDR,
/// as some linkers make for non-PIE programs (glibc needs none when the load bias is 0).
func dropPHDR(_ path: String) throws {
    var file = try ELFBytes(contentsOf: path)
    let is64 = file.bytes[4] == 2
    let phoff = file.u16(is64 ? 32 : 28)
    let phentsize = is64 ? 56 : 32
    let phnum = file.u16(is64 ? 56 : 44)
    for i in 0..<phnum where file.u32(phoff + i * phentsize) == 6 {
        file.put(0, at: phoff + i * phentsize, width: 4)
    }
    try file.write(to: path)
}

@Test(arguments: [Build.nonPIE64])
func executableWithoutPHDRGetsOne(_ build: Build) throws {
    let bottle = try FixtureBottle("nophdr")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", build.flags)
    try dropPHDR(program)
    #expect(try readelfSegments(program).contains { $0[0] == "PHDR" } == false)
    let before = try expectSuccess(run([program]))
    let original = try bytes(program)

    try sealNow(program, SealOptions(interpreter: build.systemLoader))
    let segments = try readelfSegments(program)
    #expect(segments.first?.first == "PHDR")
    #expect(segments.filter { $0[0] == "PHDR" }.count == 1)
    #expect(try expectSuccess(runWritten([program])).stdout == before.stdout)

    try Sealer.unseal(program).rewrite?.commit()
    #expect(try bytes(program) == original)
}

@Test func sealedProgramRunsThroughItsNoteWithTheLoaderInvokedExplicitly() throws {
    // The loader the note names, run explicitly on the sealed file, as runbottle's fallback does.
    let bottle = try FixtureBottle("explicit")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    try sealNow(program)
    let ran = try expectSuccess(runWritten([bottle.lib + "/ld-linux-x86-64.so.2", program, "z"]))
    #expect(ran.stdout.contains("with 2 arguments"))
}

/// No runbottle runs a 32-bit program: sealing one would make a binary nothing can start, so
/// seal refuses it, names the kinds it takes, and leaves the file as it was.
@Test(arguments: [Build.pie32, Build.nonPIE32])
func aThirtyTwoBitProgramIsRefused(_ build: Build) throws {
    let bottle = try FixtureBottle("seal-\(build.rawValue)")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", build.flags)
    let original = try bytes(program)
    #expect {
        try Sealer.seal(program)
    } throws: { error in
        guard let error = error as? ELFError, case .noPort(let kind, let supported) = error.reason else { return false }
        return kind == MachineKind(.elf32, .little, ELF.EM_386) && supported == ["x86_64", "aarch64"]
    }
    #expect(try bytes(program) == original)
    let cli = try run([try BuiltTools.binfmtReg(), "seal", program])
    #expect(cli.status == 1)
    #expect(cli.stderr.contains("\(program): ") && cli.stderr.contains("no runbottle runs this kind of program"),
            "\(cli)")
    #expect(try bytes(program) == original)
}

/// Cross-sealing: an aarch64 program, built with Debian's cross compiler, is sealed, relocated
/// and unsealed on this x86-64 host, as a packager's CI does it.
@Test func anAArch64ProgramIsSealedRelocatedAndUnsealedOnThisHost() throws {
    let bottle = try FixtureBottle("seal-aarch64")
    defer { bottle.remove() }
    try expectSuccess(run(["cp", "-L", "/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1", bottle.lib + "/"]))
    let source = bottle.dir.path + "/hello.c"
    try FixtureBottle.helloSource.write(toFile: source, atomically: true, encoding: .utf8)
    let program = bottle.bin + "/hello"
    try expectSuccess(run(["aarch64-linux-gnu-gcc", "-O1", "-o", program, source]))
    let original = try bytes(program)

    let change = try sealNow(program)
    guard case .sealed(let note, _) = change.outcome else {
        Issue.record("not sealed: \(change.outcome)")
        return
    }
    #expect(note.loader == "../lib/ld-linux-aarch64.so.1")
    #expect(note.type == .interp)
    let segments = try readelfSegments(program)
    #expect(segments.first?.first == "PHDR")
    #expect(segments.dropFirst().first?.first == "INTERP")
    #expect(segments.last?[0] == "NOTE" && segments.last?[1] == "0x000040")
    let file = try ELFFile(path: program)
    let image = try ELFImage.parse(file)
    #expect(image.header.e_machine == ELF.EM_AARCH64)
    let state = try SealedState.read(file, image)
    #expect(state.slotContents == SealFormat.runbottlePath)
    #expect(state.originalInterpreter(file, image) == "/lib/ld-linux-aarch64.so.1")
    let first = try #require(image.loads.first), appended = try #require(image.loads.last)
    #expect(appended.p_vaddr &- appended.p_offset == first.p_vaddr &- first.p_offset)
    // Aligned for the file's machine, not this host's: arm64 kernels may use 64 KiB pages.
    #expect(appended.p_offset % 0x10000 == 0 && appended.p_vaddr % 0x10000 == 0)

    // The fallback without runbottle: the slot names the bundled loader absolutely.
    let (status, _) = try Relocation.relocate(program)
    #expect(status.loader == bottle.lib + "/ld-linux-aarch64.so.1")
    #expect(try Relocation.status(of: program).isStale == false)

    let unsealed = try Sealer.unseal(program)
    try unsealed.rewrite?.commit()
    #expect(try bytes(program) == original)
}
