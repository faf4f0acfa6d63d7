// Sealing real executables built here: they still run natively, and the layout is bottle(5)'s.
import ELFEngine
import Foundation
import Testing
import TestSupport

/// Seals `path` through the engine and commits the replacement.
func sealNow(_ path: String, _ options: SealOptions = SealOptions()) throws -> PreparedChange {
    let change = try Sealer.seal(path, options)
    try change.replacement?.commit()
    return change
}

@Test func sealedPIEStillRunsAndHasTheNoteAtTheHeaderEnd() throws {
    let bottle = try FixtureBottle("pie")
    defer { bottle.remove() }
    let program = try bottle.compile("hello", ["-pie", "-fPIE"])
    let before = try expectSuccess(run([program, "x"]))

    let change = try sealNow(program)
    guard case .sealed(let note, _) = change.outcome else {
        Issue.record("not sealed: \(change.outcome)")
        return
    }
    #expect(note.loader == "../lib/ld-linux-x86-64.so.2")
    #expect(note.type == .ordinary)

    let after = try expectSuccess(run([program, "x"]))
    #expect(after.stdout == before.stdout)

    let segments = try readelfSegments(program)
    #expect(segments.first?.first == "PHDR")
    #expect(segments.dropFirst().first?.first == "INTERP")
    let interp = try #require(segments.first { $0[0] == "INTERP" })
    #expect(interp[4] == "0x001000")
    let note64 = segments.filter { $0[0] == "NOTE" && $0[1] == "0x000040" }
    #expect(note64.count == 1)
    #expect(segments.last?[0] == "NOTE" && segments.last?[1] == "0x000040")
}
