// Where the checkout is: every test that reads one of the repository's files (man pages,
// scripts, sources) finds it from here, not from its own place in the tree.
import Foundation
import Testing

public enum Repository {
    /// The checkout's root: this file is Tests/TestSupport/Repository.swift.
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `relative`'s path in the checkout.
    public static func path(_ relative: String) -> String { root + "/" + relative }

    /// binfmt-reg(8), its escapes taken out.
    public static func binfmtRegManual() throws -> String {
        try String(contentsOfFile: path("man/binfmt-reg.8"), encoding: .utf8).replacingOccurrences(of: "\\", with: "")
    }

    /// The repository's copy of the --json schema file binfmt-reg(8) names (make install puts it
    /// there), checked to be where the manual and the Makefile say.
    public static func schemaPath() throws -> String {
        let named = "/usr/share/binfmt-bottle/binfmt-reg.schema.json"
        #expect(try binfmtRegManual().contains(".I \(named)\n"), "binfmt-reg(8) does not name \(named)")
        let makefile = try String(contentsOfFile: path("Makefile"), encoding: .utf8)
        #expect(makefile.contains("SCHEMA_DIR := $(PREFIX)/share/binfmt-bottle\n"))
        #expect(makefile.contains("install -m 0644 man/binfmt-reg.schema.json $(DESTDIR)$(SCHEMA_DIR)/binfmt-reg.schema.json"))
        return path("man/" + (named.split(separator: "/").last.map(String.init) ?? ""))
    }
}
