// runbottle's refusal of a bottle whose loader is missing, run directly and through binfmt_misc
// (a private instance): the same line and 127 either way.
import Foundation
import Testing
import TestSupport

@Test func saysWhereItLookedForAMissingLoader() throws {
    let rig = try RunbottleRig("noloader")
    defer { rig.dir.remove() }
    let b = try rig.bottle("probe")
    try FileManager.default.removeItem(atPath: b.loader)
    let r = try rig.direct(["probe/bin/probe"])
    #expect(r.status == 127, "\(r)")
    #expect(r.stderr == "runbottle: probe/bin/probe: loader not found: \(b.root)/bin/../lib/ld-linux-x86-64.so.2\n")
    // The same through binfmt_misc: the shell sees 127 and the same line.
    let viaKernel = try rig.inBinfmt("set +e\n./probe/bin/probe\necho status=$?")
    #expect(viaKernel.stdout == "status=127\n", "\(viaKernel)")
    #expect(viaKernel.stderr.contains("runbottle: ./probe/bin/probe: loader not found: "), "\(viaKernel)")
    #expect(try rig.direct(["no/such/program"]).status == 127)
}
