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

    func run() throws {
        try reportingFailures {
            var installer = Installer(plan: try entry.plan())
            installer.persist = !noPersist
            for message in try installer.setEnabled(true) { print(message) }
        }
    }
}
