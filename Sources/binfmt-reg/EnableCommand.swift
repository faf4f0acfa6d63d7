// binfmt-reg enable: switches our registered entries on (writes 1 to each entry).
import ArgumentParser
import BinfmtMisc

struct EnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable", abstract: "Enable the registered BOTTLE entries.")

    @OptionGroup var entry: NameOption

    func run() throws {
        try reportingFailures {
            for message in try Installer(plan: try entry.plan()).setEnabled(true) { print(message) }
        }
    }
}
