// Bottling sets a program's run path and seals it in one rewrite: the seal is planned against
// the file as the run path edit would leave it, read without writing it.
import ELFEngine
import Foundation
import Testing
import TestSupport

/// One rewrite writes the bytes that the run path edit and then the seal, each its own rewrite,
/// write: for a program without a run path (a segment is appended for it) and with one.
@Test(arguments: [
    ("pie", Build.pie64.flags), ("nonpie", Build.nonPIE64.flags),
    ("rpath", Build.pie64.flags + ["-Wl,-rpath,/opt/nowhere/lib"]),
    ("runpath", Build.pie64.flags + ["-Wl,--enable-new-dtags,-rpath,/opt/a/much/longer/run/path/than/ours"]),
])
func runPathAndSealInOneRewriteWriteWhatTwoRewritesWrite(name: String, flags: [String]) throws {
    let bottle = try FixtureBottle("one-rewrite-\(name)")
    defer { bottle.remove() }
    let once = try bottle.compile("once", flags)
    let twice = bottle.bin + "/twice"
    try expectSuccess(run(["cp", once, twice]))
    let options = SealOptions(loader: "../lib/ld-linux-x86-64.so.2")
    let runPath = "$ORIGIN/../lib"

    let method = try RunPathEditor.apply(to: twice, runPath: runPath, methods: RunPathMethod.beforeSeal)
    try #require(try Sealer.seal(twice, options).rewrite).commit()

    let (combined, change) = try Sealer.seal(once, runPath: runPath, options)
    #expect(combined == method)
    guard case .sealed = change.outcome else { Issue.record("not sealed: \(change.outcome)"); return }
    try #require(change.rewrite).commit()
    #expect(try bytes(once) == bytes(twice))
}

/// A file read through its overlay: the copied bytes, zeros after them, the edits over both.
@Test func anOverlaidFileReadsAsTheRewriteWouldWriteIt() throws {
    let directory = try TemporaryDirectory("overlay")
    defer { directory.remove() }
    let path = directory.file("base")
    try Data([1, 2, 3, 4, 5, 6, 7, 8]).write(to: URL(fileURLWithPath: path))
    let base = try ELFFile(path: path)
    let edits = [SealPlan.Edit(offset: 2, bytes: [20, 30]), SealPlan.Edit(offset: 9, bytes: [90]),
                 SealPlan.Edit(offset: 3, bytes: [33])]
    let overlaid = ELFFile(base, copying: 6, edits: edits, size: 12)
    #expect(overlaid.size == 12)
    #expect(try overlaid.read(at: 0, count: 12, .contents) == [1, 2, 20, 33, 5, 6, 0, 0, 0, 90, 0, 0])
    #expect(try overlaid.read(at: 3, count: 4, .contents) == [33, 5, 6, 0])
    #expect(throws: ELFError(path, .truncated(.pastEnd(.contents, offset: 10, end: 14, size: 12)))) {
        try overlaid.read(at: 10, count: 4, .contents)
    }
    try Data([1, 2, 20, 33, 5, 6, 0, 0, 0, 90, 0, 0]).write(to: URL(fileURLWithPath: directory.file("same")))
    #expect(try overlaid.sameBytes(as: ELFFile(path: directory.file("same")), from: 0, to: 12))
}
