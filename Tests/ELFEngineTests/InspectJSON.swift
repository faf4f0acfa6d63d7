// inspect --json as the tests read it: the envelope checked, then the per-file reports.
import Foundation
import Testing

/// The `files` of an inspect --json document.
func inspectReports(_ text: String) throws -> [[String: Any]] {
    let document = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(document["command"] as? String == "inspect" && document["schemaVersion"] as? Int == 1)
    return try #require(document["files"] as? [[String: Any]])
}
