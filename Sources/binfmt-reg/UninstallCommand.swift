// binfmt-reg uninstall: removes our entries, the binfmt.d file and, when asked, runbottle.
import ArgumentParser
import BinfmtMisc

struct UninstallCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Remove the BOTTLE entries and the binfmt.d file (and runbottle with --remove-interpreter).")

    @OptionGroup var quietOption: QuietOption

    @OptionGroup var entry: NameOption

    @Flag(help: "Also remove the interpreter file (/usr/libexec/runbottle).")
    var removeInterpreter = false

    @Flag(help: "Remove an entry of our name that binfmt-reg did not register (another tool's).")
    var force = false

    @Flag(help: "Leave the binfmt.d file in place.")
    var noPersist = false

    @Option(help: ArgumentHelp("Remove the files under DIR (a package tree); touch no entry.", valueName: "dir"),
            completion: .directory)
    var root: String?

    func validate() throws { try validateRoot(root) }

    @OptionGroup var jsonOption: JSONOption

    func run() throws {
        try CommandEnd(command: "uninstall", json: jsonOption.json).run(failed: ChangeList(changes: [])) {
            var installer = Installer(plan: try entry.plan())
            if let root { installer.layout = .package(root: root) }
            installer.persist = !noPersist
            installer.force = force
            let changes = try installer.uninstall(removeInterpreter: removeInterpreter).map(\.message)
            if !jsonOption.json { for message in changes { print(message) } }
            return (ChangeList(changes: changes), [])
        }
    }
}
