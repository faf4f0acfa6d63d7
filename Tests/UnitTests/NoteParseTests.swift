// The C core's note parser, called in-process.
import RunbottleCore
import Testing

private func note(loader: String, loaderLen: UInt8? = nil) -> [UInt8] {
    var path = Array(loader.utf8) + [0]
    while path.count % 4 != 0 { path.append(0) }
    let descsz = UInt8(8 + path.count)
    return [7, 0, 0, 0, descsz, 0, 0, 0, 1, 0, 0, 0] + Array("BOTTLE\0\0".utf8)
        + [1, 0, 0, 0, loaderLen ?? UInt8(loader.utf8.count), 0, 0, 0] + path
}

/// The parser's result, and the loader path copied out while the buffer is alive.
private func parse(_ bytes: [UInt8]) -> (Int32, rb_note, String?) {
    var parsed = rb_note()
    return bytes.withUnsafeBufferPointer { buffer in
        let rc = rb_note_parse(buffer.baseAddress, buffer.count, 0, &parsed)
        return (rc, parsed, parsed.loader.map { String(cString: $0) })
    }
}

@Test func parsesAWellFormedNote() {
    let (rc, parsed, loader) = parse(note(loader: "../lib/ld.so"))
    #expect(rc == RB_OK.rawValue)
    #expect(parsed.loader_len == 12)
    #expect(loader == "../lib/ld.so")
}

@Test func rejectsALengthThatDisagreesWithThePath() {
    #expect(parse(note(loader: "ld", loaderLen: 3)).0 == RB_EBADNOTE.rawValue)
}

@Test func rejectsAnAbsoluteLoaderPath() {
    #expect(parse(note(loader: "/lib/ld.so")).0 == RB_EBADNOTE.rawValue)
}
