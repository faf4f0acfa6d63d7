// Where the checkout is: every test that reads one of the repository's files (man pages,
// scripts, sources) finds it from here, not from its own place in the tree.
import Foundation

public enum Repository {
    /// The checkout's root: this file is Tests/TestSupport/Repository.swift.
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `relative`'s path in the checkout.
    public static func path(_ relative: String) -> String { root + "/" + relative }
}
