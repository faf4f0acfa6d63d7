// binfmt-reg line: prints the registration line(s), for a Dockerfile or another config system.
import ArgumentParser
import BinfmtMisc

struct LineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "line",
        abstract: "Print the registration lines binfmt-reg install writes (the binfmt.d file's content).")

    @OptionGroup var entry: EntryOptions

    func run() throws {
        try reportingFailures {
            var plan = try entry.plan()
            if entry.interpreter == nil { plan.interpreter = EntryPlan.defaultInterpreter }
            print(try plan.binfmtD(), terminator: "")
        }
    }
}
