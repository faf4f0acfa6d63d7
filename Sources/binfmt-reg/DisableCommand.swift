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

    func run() throws {
        try reportingFailures {
            var installer = Installer(plan: try entry.plan())
            installer.persist = !noPersist
            for message in try installer.setEnabled(false) { print(message) }
        }
    }
}
