// binfmt-reg unseal: restores sealed binaries byte for byte from their seal record.
import ArgumentParser
import ELFEngine

struct UnsealCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "unseal",
        abstract: "Restore sealed binaries to the exact bytes they had before sealing.",
        discussion: """
            The seal record stored after the PT_INTERP slot holds the original ELF header, \
            program header table and size; each file is rewritten atomically, keeping its mode, \
            owner and extended attributes. In directories, files that are not sealed are skipped.
            """)

    @OptionGroup var quietOption: QuietOption

    @Flag(help: "Check only; change nothing.")
    var dryRun = false

    @Flag(name: .shortAndLong, help: "List every file unsealed.")
    var verbose = false

    @OptionGroup var jsonOption: JSONOption

    @Argument(help: "Sealed executables, or directories searched recursively.", completion: .file())
    var paths: [String]

    func run() throws {
        let words = FileRunWords(done: "unsealed", wouldDo: "would unseal", unchanged: "not sealed")
        let run = FileRun(words: words, dryRun: dryRun, verbose: verbose, json: jsonOption.json)
        let summary = run.run(paths) { path throws(ELFError) in try Sealer.unseal(path, dryRun: dryRun) }
        if !jsonOption.json { print("unseal: " + summary.line(words, dryRun: dryRun)) }
        try CommandEnd(command: "unseal", json: jsonOption.json)
            .finish(FileRunDocument(summary, dryRun: dryRun), problems: summary.problems)
    }
}
