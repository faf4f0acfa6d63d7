// binfmt-reg seal: marks bottle binaries with the BOTTLE note and points their PT_INTERP at runbottle.
import ArgumentParser
import ELFEngine

struct SealCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Seal dynamically linked ELF executables so runbottle runs them with their bundled loader.",
        discussion: """
            Each file is rewritten atomically (a new file beside it, synced, renamed over it), \
            keeping its mode, owner and extended attributes. A sealed file whose note type or \
            PT_INTERP slot differ from what --dispatch and --interpreter ask (a file of an \
            earlier revision, another dispatch, a slot set by relocate) is updated in place: the \
            note type and the slot only; otherwise sealing a sealed file changes nothing. In \
            directories, files that are not ELF, statically linked or shared libraries are \
            skipped with a notice; a file named on the command line that is not ELF is an \
            error. Format: bottle(5).
            """)

    @OptionGroup var quietOption: QuietOption

    @Option(help: ArgumentHelp(
        "The bundled loader, relative to each binary's directory (default: the basename of PT_INTERP, searched in $ORIGIN run paths, ../lib and ../lib/*/).",
        valueName: "rel-path"), completion: .file())
    var loader: String?

    @OptionGroup var dispatch: DispatchOptions

    @Flag(help: "Check and plan only; change nothing.")
    var dryRun = false

    @Flag(help: "Seal or update files with several hard links (this name gets the new copy; the other links keep the file as it was).")
    var allowHardLinks = false

    @Flag(help: "Also seal shared libraries that have a PT_INTERP (such as libc.so.6).")
    var sharedLibraries = false

    @Flag(name: .shortAndLong, help: "List every file sealed or updated.")
    var verbose = false

    @OptionGroup var jsonOption: JSONOption

    @Argument(help: "Executables, or directories searched recursively.", completion: .file())
    var paths: [String]

    func run() throws {
        let options = SealOptions(
            loader: loader, allowHardLinks: allowHardLinks, sharedLibraries: sharedLibraries, dryRun: dryRun,
            dispatch: dispatch.dispatch, interpreter: dispatch.interpreter)
        let words = FileRunWords(done: "sealed", wouldDo: "would seal", unchanged: "already sealed",
                                 updated: "updated", wouldUpdate: "would update")
        let run = FileRun(words: words, dryRun: dryRun, verbose: verbose, json: jsonOption.json)
        let summary = run.run(paths) { path throws(ELFError) in try Sealer.seal(path, options) }
        if !jsonOption.json { print("seal: " + summary.line(words, dryRun: dryRun) + " (\(dispatch.summary))") }
        try CommandEnd(command: "seal", json: jsonOption.json)
            .finish(FileRunDocument(summary, dryRun: dryRun), problems: summary.problems)
    }
}
