// binfmt-reg disable: switches our registered entries off (writes 0 to each entry).
import ArgumentParser
import BinfmtMisc

struct DisableCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable the registered BOTTLE entries (sealed binaries then run natively, with the loader named in their PT_INTERP slot).")

    @OptionGroup var quietOption: QuietOption

    @OptionGroup var entry: NameOption

    @Flag(help: "Leave the binfmt.d file as it is: the entries come back enabled after a reboot.")
    var noPersist = false

    @OptionGroup var jsonOption: JSONOption

    func run() throws {
        try CommandEnd(command: "disable", json: jsonOption.json).run(failed: ChangeList(changes: [])) {
            var installer = Installer(plan: try entry.plan())
            installer.persist = !noPersist
            let changes = try installer.setEnabled(false).map(\.message)
            if !jsonOption.json { for message in changes { print(message) } }
            return (ChangeList(changes: changes), [])
        }
    }
}
