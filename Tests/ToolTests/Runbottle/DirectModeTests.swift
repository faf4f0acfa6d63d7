// runbottle run by hand on a sealed bottle, no binfmt_misc entry at all: direct mode opens the
// program itself, and the process looks as a native exec's does.
import Foundation
import Testing
import TestSupport

@Test func runsInDirectMode() throws {
    let rig = try RunbottleRig("direct")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe")
    // No binfmt_misc entry at all: runbottle opens the program itself.
    let result = try run([rig.runbottle, "probe/bin/probe", "arg"], currentDirectory: rig.dir.path)
    #expect(result.succeeded, "\(result)")
    let r = ProbeReport(result.stdout)
    r.expectNative(program: b.program, argv: ["probe/bin/probe", "arg"])
    #expect(r["execfn"] == "probe/bin/probe")
}
