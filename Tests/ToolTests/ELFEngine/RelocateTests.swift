// binfmt-reg relocate refusing what it cannot rewrite: a bottle whose loader is gone, a stripped
// sealed program; the file is left as it was.
import Foundation
import Testing
import TestSupport

private let whoami = Fixture.source("whoami.c")

@Suite struct RelocateRefusalTests {
    @Test func aMissingLoaderIsNamedAndTheBinaryLeftUntouched() throws {
        let work = try TemporaryDirectory("relocate")
        defer { work.remove() }
        let bottle = try Bottles.build(name: "whoami", source: whoami, in: work.file("bottle"))
        let tool = try BuiltTools.binfmtReg()
        let original = try Data(contentsOf: URL(fileURLWithPath: bottle.program))
        #expect(unlink(bottle.loader) == 0)
        for arguments in [["relocate"], ["relocate", "--check"]] {
            let result = try run([tool] + arguments + [bottle.root])
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains(
                "binfmt-reg: \(bottle.program): bundled loader \(bottle.root)/lib/ld-linux-x86-64.so.2: "),
                "\(result)")
            #expect(result.stdout.hasSuffix(" 1 failed\n"), "\(result)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: bottle.program)) == original)
    }

    @Test func aStrippedSealedBinaryIsReportedNotRewritten() throws {
        let work = try TemporaryDirectory("relocate")
        defer { work.remove() }
        let bottle = try Bottles.build(name: "whoami", source: whoami, in: work.file("bottle"))
        let tool = try BuiltTools.binfmtReg()
        // strip keeps the sealed program headers but loses the note and the slot (no section covers them).
        let stripped = try run(["strip", bottle.program])
        try #require(stripped.succeeded, "\(stripped)")
        let before = try Data(contentsOf: URL(fileURLWithPath: bottle.program))
        let result = try run([tool, "relocate", bottle.root])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("binfmt-reg: \(bottle.program): sealed layout damaged"), "\(result)")
        #expect(result.stdout == "relocate: 0 relocated, 0 already current, 1 failed\n", "\(result)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: bottle.program)) == before)
    }
}
