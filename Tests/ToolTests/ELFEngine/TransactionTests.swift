// The rewrite transaction: nothing changes until the commit, a batch commits together, and a
// rewrite its verifier rejects leaves the file and its directory as they were.
import ELFEngine
import Foundation
import Testing
import TestSupport

/// The names in `directory` a staged or killed rewrite would leave.
private func leftovers(_ directory: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".bottle-") }
}

@Test func aBatchChangesNothingUntilItCommitsThenEveryFile() throws {
    let bottle = try FixtureBottle("transaction")
    defer { bottle.remove() }
    let programs = try ["one", "two", "three"].map { try bottle.compile($0, Build.pie64.flags) }
    let originals = try programs.map(bytes)
    var transaction = RewriteTransaction()
    for program in programs {
        guard let rewrite = try Sealer.seal(program).rewrite else {
            Issue.record("\(program): no rewrite planned")
            return
        }
        try transaction.stage(rewrite)
    }
    #expect(transaction.count == programs.count)
    #expect(try programs.map(bytes) == originals, "a file changed before the commit")
    let failures = transaction.commit()
    #expect(failures.count == programs.count && failures.allSatisfy { $0 == nil }, "\(failures)")
    #expect(transaction.count == 0)
    for (program, original) in zip(programs, originals) {
        #expect(try bytes(program) != original)
        #expect(try Inspection.inspect(program).state.status == .sealed, "\(program) does not read back as sealed")
        try Sealer.unseal(program).rewrite?.commit()
        #expect(try bytes(program) == original, "\(program) did not unseal byte for byte")
    }
    #expect(try leftovers(bottle.bin).isEmpty)
}

@Test func aRewriteItsVerifierRejectsLeavesTheFileAsItWas() throws {
    let bottle = try FixtureBottle("transaction-refused")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", Build.pie64.flags)
    let original = try bytes(program)
    let file = try ELFFile(path: program)
    let rewrite = Rewrite(
        path: program, target: program, original: file, copying: file.size,
        edits: [SealPlan.Edit(offset: 0, bytes: [0])]
    ) { _ throws(ELFError) in throw ELFError(program, .verificationFailed(.contentsDiffer)) }
    var transaction = RewriteTransaction()
    #expect(throws: ELFError(program, .verificationFailed(.contentsDiffer))) { try transaction.stage(rewrite) }
    #expect(transaction.count == 0)
    #expect(throws: ELFError.self) { try rewrite.commit(durability: .byCaller) }
    #expect(try bytes(program) == original)
    #expect(try leftovers(bottle.bin).isEmpty)
}
