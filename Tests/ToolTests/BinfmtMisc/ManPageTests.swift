// man/binfmt-reg.8 is clean under mandoc's lint and documents every command and every option
// binfmt-reg's own help lists.
import Foundation
import TestSupport
import Testing

private let page = Repository.path("man/binfmt-reg.8")

@Test func manPageIsLintClean() throws {
    let lint = try run(["mandoc", "-T", "lint", page])
    #expect(lint.succeeded && lint.stdout.isEmpty && lint.stderr.isEmpty, "\(lint)")
}

@Test func manPageDocumentsEveryCommandAndOption() throws {
    let text = try String(contentsOfFile: page, encoding: .utf8).replacingOccurrences(of: "\\", with: "")
    let b = try BuiltTools.binfmtReg()
    let help = try run([b, "--help"])
    #expect(help.succeeded, "\(help)")
    let commands = help.stdout.components(separatedBy: "SUBCOMMANDS:").last?
        .split(separator: "\n")
        .compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let first = fields.first,
                  first.allSatisfy({ $0.isLowercase || $0 == "-" }) else { return nil }
            return String(first)
        } ?? []
    #expect(commands.count >= 8, "\(help.stdout)")
    for command in commands {
        #expect(text.contains(".SS \(command)\n") || text.contains(".SS enable, disable") && ["enable", "disable"].contains(command),
                "no .SS section for \(command)")
        let sub = try run([b, command, "--help"])
        #expect(sub.succeeded, "\(sub)")
        let options = sub.stdout.split(whereSeparator: { " \n,[]()".contains($0) })
            .map { String($0.prefix { $0.isLetter || $0 == "-" }) }
            .filter { $0.hasPrefix("--") && !["--help", "--version"].contains($0) }
        for option in Set(options) {
            let documented = [" ", "\n", "\"", ")"].contains { text.contains(" \(option)\($0)") }
            #expect(documented, "binfmt-reg \(command) \(option) is not documented")
        }
    }
}

@Test func manPageRendersWithMan() throws {
    let rendered = try run(["man", "-l", "-P", "cat", page], environment: ["MANWIDTH": "80", "PATH": "/usr/bin:/bin"])
    #expect(rendered.succeeded, "\(rendered)")
    #expect(rendered.stdout.contains("THE TWO ENTRIES"))
}

@Test(arguments: ["bash", "zsh", "fish"])
func completionScriptsNameTheEntryCommands(shell: String) throws {
    let script = try run([try BuiltTools.binfmtReg(), "--generate-completion-script", shell])
    #expect(script.succeeded, "\(script)")
    for word in ["install", "uninstall", "status", "enable", "disable", "line", "flags", "no-privileged-entry"] {
        #expect(script.stdout.contains(word), "\(shell) completion lacks \(word)")
    }
    // The options an earlier version had are gone.
    for word in ["fix-binary", "credentials", "--capability"] {
        #expect(!script.stdout.contains(word), "\(shell) completion still offers \(word)")
    }
}
