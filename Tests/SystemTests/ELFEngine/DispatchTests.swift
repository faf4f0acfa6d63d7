// The PT_INTERP dispatch with no binfmt_misc entry at all (a private, empty instance): a moved
// bottle run by the kernel through runbottle as its interpreter.
import Foundation
import Testing
import TestSupport

@Suite struct PTInterpDispatchTests {
    /// With no binfmt_misc entry at all, the kernel execs the sealed program and starts runbottle
    /// as its interpreter, which maps the bundled loader the note names: /proc/self/exe is the
    /// program, and the loader the one beside it, wherever the bottle moves.
    @Test(arguments: [TestBottle.Libc.glibc, .musl])
    func aMovedBottleRunsThroughRunbottleAsItsInterpreter(libc: TestBottle.Libc) throws {
        let work = try TemporaryDirectory("interp-dispatch")
        defer { work.remove() }
        let a = work.file("a"), b = work.file("b")
        let built = try Bottles.build(name: "whoami", source: whoami, in: a, libc: libc, seal: false)
        let runbottle = try BuiltTools.writeRunbottle(into: work.path)
        let sealed = try binfmtReg(["seal", "--interpreter", runbottle, built.program])
        #expect(sealed.succeeded && sealed.stdout.hasSuffix("(PT_INTERP dispatch through \(runbottle))\n"), "\(sealed)")
        let loaderName = URL(fileURLWithPath: built.loader).lastPathComponent
        let ran = try inPrivateBinfmt("\(a)/bin/whoami")
        #expect(ran.succeeded, "\(ran)")
        #expect(ran.stdout == "exe=\(a)/bin/whoami\nloader=\(a)/lib/\(loaderName)\n", "\(ran)")

        #expect(rename(a, b) == 0)
        let moved = try inPrivateBinfmt("\(b)/bin/whoami")
        #expect(moved.succeeded, "\(moved)")
        #expect(moved.stdout == "exe=\(b)/bin/whoami\nloader=\(b)/lib/\(loaderName)\n", "\(moved)")
    }
}
