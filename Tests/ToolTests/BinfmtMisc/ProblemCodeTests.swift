// The one vocabulary of --json problem codes: the same in Swift, the schema and binfmt-reg(8)'s table.
import ELFEngine
import Foundation
import TestSupport
import Testing

/// The codes are one vocabulary: Swift's enum, the schema's and the man page's table.
@Test func problemCodesAreTheSameInSwiftTheSchemaAndTheManPage() throws {
    let swift = ProblemCode.allCases.map(\.rawValue)
    let schema = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: try Repository.schemaPath())))
        as? [String: Any])
    let defs = try #require(schema["$defs"] as? [String: Any])
    let enumerated = try #require((defs["problemCode"] as? [String: Any])?["enum"] as? [String])
    #expect(enumerated == swift)
    let page = try Repository.binfmtRegManual()
    let table = try #require(page.components(separatedBy: ".SS Problem codes\n").last?.components(separatedBy: ".TE\n").first)
    let listed = table.split(separator: "\n").compactMap { line -> String? in
        let fields = line.split(separator: "\t")
        return fields.count == 2 && fields[1] == "T{" ? String(fields[0]) : nil
    }
    #expect(listed == swift)
    #expect(swift.allSatisfy { $0.allSatisfy { $0.isLowercase || $0 == "-" } })
}
