// man/runbottle.8 is clean under mandoc's lint and documents what runbottle answers to.
import Foundation
import Testing
import TestSupport

private let page = Repository.path("man/runbottle.8")

@Test func runbottleManPageIsLintClean() throws {
    let lint = try run(["mandoc", "-T", "lint", page])
    // The project's own pages are not installed where mandoc looks, and its database may be
    // stale: those two notes are about the machine, not the page.
    let findings = (lint.stdout + lint.stderr).split(separator: "\n").filter {
        !$0.contains("outdated mandoc.db")
            && !$0.contains("referenced manual not found: Xr bottle 5")
            && !$0.contains("referenced manual not found: Xr binfmt-reg 8")
    }
    #expect(findings.isEmpty, "\(lint)")
}

@Test func runbottleManPageDocumentsModesStatusesAndEnvironment() throws {
    let text = try String(contentsOfFile: page, encoding: .utf8)
    for needle in ["RUNBOTTLE_DEBUG", ".It 126", ".It 127", "AT_EXECFD", "AT_SECURE", "--argv0",
                   "cap_checkpoint_restore+ep", "hard-link", ".Sh SECURITY", ".Sh FILES"] {
        #expect(text.contains(needle), "runbottle.8 lacks \(needle)")
    }
}
