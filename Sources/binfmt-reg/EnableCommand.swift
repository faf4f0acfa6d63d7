// binfmt-reg enable: switches our registered entries on (writes 1 to each entry).
import ArgumentParser
import BinfmtMisc

struct EnableCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable", abstract: "Enable the registered BOTTLE entries.")

    @OptionGroup var quietOption: QuietOption

    @OptionGroup var entry: NameOption

    @Flag(help: "Leave the binfmt.d file as it is (a mask that disable left stays).")
    var noPersist = false

    @OptionGroup var jsonOption: JSONOption

    func run() throws {
        try CommandEnd(command: "enable", json: jsonOption.json).run(failed: ChangeList(changes: [])) {
            var installer = Installer(plan: try entry.plan())
            installer.persist = !noPersist
            let changes = try installer.setEnabled(true).map(\.message)
            if !jsonOption.json { for message in changes { print(message) } }
            return (ChangeList(changes: changes), [])
        }
    }
}
