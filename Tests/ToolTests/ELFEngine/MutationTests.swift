// Damaged inputs made by flipping bytes of real executables' headers: every one is either
// refused with a reason or sealed into a file that passes the verifier; nothing crashes.
import ELFEngine
import Foundation
import Testing
import TestSupport

/// A small deterministic generator, so a failing mutation can be replayed from its seed.
private struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Test(arguments: [Build.pie64, Build.nonPIE64])
func mutatedHeadersAreRefusedOrSealedNeverCrash(_ build: Build) throws {
    let bottle = try FixtureBottle("mutate")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", build.flags)
    let good = try bytes(program)
    let target = bottle.bin + "/mutant"
    var random = SplitMix(state: build == .pie64 ? 64 : 32)
    var refused = 0, sealed = 0
    for round in 0..<300 {
        var data = good
        // 1 to 4 bytes of the ELF header and program header table, sometimes a cut as well.
        for _ in 0...random.below(4) {
            data[random.below(min(data.count, 1024))] = UInt8(truncatingIfNeeded: random.next())
        }
        if random.below(8) == 0 { data = Array(data.prefix(random.below(data.count))) }
        try ELFBytes(data).write(to: target)
        do {
            let change = try Sealer.seal(target)
            // Staging runs the verifier: the written file re-reads as sealed. Then dropped.
            var transaction = RewriteTransaction()
            if let rewrite = change.rewrite { try transaction.stage(rewrite) }
            #expect(transaction.count == 1, "round \(round): nothing staged")
            transaction.discard()
            sealed += 1
        } catch {
            refused += 1
            #expect(error.path == target, "round \(round)")
            #expect(!texts(in: error.reason).contains { $0.contains("\n") }, "round \(round)")
        }
        _ = try? Inspection.inspect(target)
        #expect(try bytes(target) == data, "round \(round): the input changed")
    }
    #expect(refused > 0 && sealed > 0, "refused \(refused), sealed \(sealed)")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: bottle.bin).filter { $0.contains(".bottle-") }
    #expect(leftovers.isEmpty)
}
