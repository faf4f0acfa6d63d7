// runbottle's build (Sources/runbottle/build.sh): the image every sealed exec pays for, and the
// aarch64 sources, which this x86-64 machine can compile and link but not run.
import ELFEngine
import Foundation
import Testing
import TestSupport

private let sources = Repository.path("Sources/runbottle")

private func readelf(_ path: String) throws -> String {
    let result = try run(["readelf", "-hlrW", path])
    #expect(result.succeeded, "\(result)")
    return result.stdout
}

private func loadLines(_ readelf: String) -> [String] {
    readelf.split(separator: "\n").map(String.init)
        .filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("LOAD ") }
}

@Test func theInstalledImageIsOneReadOnlyExecutableSegmentWithNoRelocations() throws {
    let dir = try TemporaryDirectory("image")
    defer { dir.remove() }
    let out = try readelf(try BuiltTools.writeRunbottle(into: dir.path))
    let loads = loadLines(out)
    #expect(loads.count == 1 && loads[0].contains(" R E "), "\(out)")
    // Its file bytes end on a page boundary: before Linux 6.7 the kernel zeroes the rest of an
    // interpreter's last file page, which faults on this read-only one (runbottle.ld).
    let fileSize = loads.first.flatMap { UInt64($0.split(separator: " ")[4].dropFirst(2), radix: 16) }
    #expect(fileSize.map { $0 % 4096 == 0 } == true, "\(out)")
    #expect(out.contains("There are no relocations in this file."), "\(out)")
    #expect(out.contains("Position-Independent Executable"), "\(out)")
}

// clang and ld.lld come with the Swift toolchain, aarch64-linux-gnu-gcc with Debian's
// gcc-aarch64-linux-gnu (make test-deps). build.sh's own checks (no relocations, one R+X PT_LOAD,
// no writable data) apply to both builds.
@Test(arguments: ["clang --target=aarch64-linux-gnu -fuse-ld=lld", "aarch64-linux-gnu-gcc"])
func theAArch64SourcesBuildFreestanding(compiler: String) throws {
    let dir = try TemporaryDirectory("aarch64")
    defer { dir.remove() }
    var environment = ProcessInfo.processInfo.environment
    environment["RUNBOTTLE_ARCH"] = "aarch64"
    environment["RUNBOTTLE_CC"] = compiler
    let built = try run(["sh", sources + "/build.sh", sources, dir.path], environment: environment)
    #expect(built.succeeded, "\(built)")
    let out = try readelf(dir.file("runbottle"))
    #expect(out.contains("AArch64"), "\(out)")
    let loads = loadLines(out)
    #expect(loads.count == 1 && loads[0].contains(" R E "), "\(out)")
    #expect(out.contains("There are no relocations in this file."), "\(out)")
    #expect(try readelf(dir.file("canary-loader")).contains("AArch64"))
    // Its trampoline is the one binfmt-reg writes into aarch64 binaries' slots, whichever
    // compiler built it (bottle(5)).
    let trampoline = RunbottleTrampoline.read(try bytes(dir.file("runbottle")))
    #expect(trampoline?.machine == 183 && trampoline?.bytes == RunbottleTrampoline.byMachine[183])
}

/// The x86-64 trampoline binfmt-reg carries (built by the system's gcc) is also clang's: a
/// binary's slot does not depend on the compiler that built the sealing binfmt-reg.
@Test func theX86TrampolineIsTheSameFromClang() throws {
    let dir = try TemporaryDirectory("x86-clang")
    defer { dir.remove() }
    var environment = ProcessInfo.processInfo.environment
    environment["RUNBOTTLE_ARCH"] = "x86_64"
    environment["RUNBOTTLE_CC"] = "clang --target=x86_64-linux-gnu -fuse-ld=lld"
    let built = try run(["sh", sources + "/build.sh", sources, dir.path], environment: environment)
    #expect(built.succeeded, "\(built)")
    let trampoline = RunbottleTrampoline.read(try bytes(dir.file("runbottle")))
    #expect(trampoline?.machine == 62 && trampoline?.bytes == RunbottleTrampoline.byMachine[62])
}
