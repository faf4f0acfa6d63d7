// Replays every input the fuzzers ever crashed on (Fuzz/crashes/TARGET/) through the same
// checks the fuzz targets run, so a fixed crash stays fixed.
import Foundation
import FuzzChecks
import FuzzHarness
import TestSupport
import Testing

private let crashes = URL(fileURLWithPath: Repository.path("Fuzz/crashes"))

/// The saved inputs of one fuzz target.
private func inputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
    let directory = crashes.appendingPathComponent(target)
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter { !$0.hasPrefix(".") }.sorted()
    return try names.map { ($0, [UInt8](try Data(contentsOf: directory.appendingPathComponent($0)))) }
}

/// The C check a fuzz target runs.
private func cCheck(_ target: String) -> (@convention(c) (UnsafePointer<UInt8>?, Int) -> Int32)? {
    switch target {
    case "fuzz_note": return fuzz_check_note
    case "fuzz_elf": return fuzz_check_elf
    case "fuzz_stack": return fuzz_check_stack
    case "fuzz_path": return fuzz_check_path
    default: return nil
    }
}

@Test(arguments: ["fuzz_note", "fuzz_elf", "fuzz_stack", "fuzz_path"])
func cCoreKeepsItsPropertiesOnEveryCrashInput(target: String) throws {
    let check = try #require(cCheck(target))
    for input in try inputs(target) {
        let broken = input.bytes.withUnsafeBufferPointer { check($0.baseAddress, $0.count) }
        #expect(broken == 0, "\(target)/\(input.name): the property at line \(broken) broke")
    }
}

@Test func elfEngineRejectsEveryCrashInputCleanly() throws {
    let scratch = FuzzHarness.scratchFile()
    defer { try? scratch.close() }
    for input in try inputs("FuzzELF") {
        input.bytes.withUnsafeBufferPointer { FuzzHarness.elf($0, scratch: scratch) }
    }
}

@Test func registrationParsersHandleEveryCrashInput() throws {
    for input in try inputs("FuzzRegistration") {
        input.bytes.withUnsafeBufferPointer { FuzzHarness.registration($0) }
    }
}
