// -q/--quiet: nothing but errors; the exit status tells the outcome (as grep -q, cmp -s).
import ArgumentParser

struct QuietOption: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing but errors: no report, no notices, no summary; the exit status tells the outcome.")
    var quiet = false
}

/// A command that takes -q: main silences it before it runs.
protocol QuietCommand {
    var quietOption: QuietOption { get }
}
