// binfmt-reg line: prints the registration line(s), for a Dockerfile or another config system.
import ArgumentParser
import BinfmtMisc

struct LineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "line",
        abstract: "Print the registration lines binfmt-reg install writes (the binfmt.d file's content).")

    @OptionGroup var entry: EntryOptions

    @OptionGroup var jsonOption: JSONOption

    /// line --json: the registration lines, without their newlines.
    struct Lines: Encodable {
        var lines: [String]
    }

    func run() throws {
        try CommandEnd(command: "line", json: jsonOption.json).run(failed: Lines(lines: [])) {
            var plan = try entry.plan()
            if entry.interpreter == nil { plan.interpreter = EntryPlan.defaultInterpreter }
            let text = try plan.binfmtD()
            if !jsonOption.json { print(text, terminator: "") }
            return (Lines(lines: text.split(separator: "\n").map(String.init)), [])
        }
    }
}
