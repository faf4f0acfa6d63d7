// inspect --json as the tests read it: the envelope checked, then the per-file reports decoded.
import Foundation
import Testing

/// The keys of one file's report that the tests read (binfmt-reg(8), inspect).
struct InspectedFile: Decodable {
    var status: String?
    var noteType: UInt32?
    var dispatch: String?
    var privileged: Bool?
    var loader: String?
    var loaderExists: Bool?
    var slot: String?
    var slotNames: String?
    var originalInterpreter: String?
    var slotTrampoline: Bool?
}

/// The `files` of an inspect --json document.
func inspectReports(_ text: String) throws -> [InspectedFile] {
    struct Document: Decodable {
        var schemaVersion: Int
        var command: String
        var files: [InspectedFile]
    }
    let document = try JSONDecoder().decode(Document.self, from: Data(text.utf8))
    #expect(document.command == "inspect" && document.schemaVersion == 1)
    return document.files
}
