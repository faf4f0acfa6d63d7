// binfmt-reg disable: switches our registered entries off (writes 0 to each entry).
import ArgumentParser
import BinfmtMisc

struct DisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Disable the registered BOTTLE entries (sealed binaries then run natively, with the loader named in their PT_INTERP slot).")

    @OptionGroup var entry: NameOption

    func run() throws {
        try reportingFailures {
            for message in try Installer(plan: try entry.plan()).setEnabled(false) { print(message) }
        }
    }
}
