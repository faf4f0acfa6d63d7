// binfmt-reg relocate: points each sealed binary's PT_INTERP slot at its bundled loader, so bottles
// run natively where runbottle is not installed.
import ArgumentParser
import ELFEngine

struct RelocateCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "relocate",
        abstract: "Write the absolute path of each sealed binary's bundled loader into its PT_INTERP slot.",
        discussion: """
            For machines without runbottle: the kernel then runs a sealed binary natively with \
            its own loader, whatever its dispatch. Run it again whenever the bottle moves; seal \
            writes runbottle's path back. Files are rewritten in place \
            with one write, only when their slot is stale; a running binary is replaced by a \
            renamed copy instead. In directories, files that are not sealed binaries are skipped.
            """)

    @OptionGroup var quietOption: QuietOption

    @Flag(help: "Only report stale binaries; exit non-zero if any.")
    var check = false

    @OptionGroup var jsonOption: JSONOption

    @Argument(help: "Sealed binaries, or bottle directories (searched recursively).", completion: .file())
    var paths: [String]

    func run() throws {
        var tally = Tally()
        let (files, missing) = TreeWalk.expand(paths)
        for problem in missing { tally.fail(problem, path: problem.path ?? "", json: jsonOption.json) }
        for operand in files { handle(operand.path, inTree: !operand.explicit, &tally) }
        if !jsonOption.json {
            print(check ? "relocate --check: \(tally.stale) stale, \(tally.current) current, \(tally.failed) failed"
                : "relocate: \(tally.relocated) relocated, \(tally.current) already current, \(tally.failed) failed")
        }
        let document = Document(check: check, files: tally.files, summary: tally.counts)
        try CommandEnd(command: "relocate", json: jsonOption.json).finish(document, problems: tally.problems)
    }

    /// relocate --json: every sealed file and what happened to it, and the counts.
    struct Document: Encodable {
        var check: Bool
        var files: [FileResult]
        var summary: Tally.Counts
    }

    struct Tally {
        var relocated = 0, current = 0, stale = 0, failed = 0
        var files: [FileResult] = []
        /// The failures, and under --check the stale files: each makes the exit status 1.
        var problems: [Problem] = []

        struct Counts: Encodable {
            var relocated, current, stale, failed: Int
        }
        var counts: Counts { Counts(relocated: relocated, current: current, stale: stale, failed: failed) }

        mutating func fail(_ problem: Problem, path: String, json: Bool) {
            if !json { Output.errorLine("binfmt-reg: \(problem.message)") }
            failed += 1
            files.append(FileResult(path: path, outcome: .failed, code: problem.code))
            problems.append(problem)
        }
    }

    private func handle(_ path: String, inTree: Bool, _ tally: inout Tally) {
        func say(_ line: String) { if !jsonOption.json { print(line) } }
        do throws(ELFError) {
            if check {
                let status = try Relocation.status(of: path)
                if status.isStale {
                    tally.stale += 1
                    let message = "\(path): PT_INTERP names \(status.current), the bundled loader is \(status.loader)"
                    tally.files.append(FileResult(path: path, outcome: .stale, code: .staleSlot))
                    tally.problems.append(Problem(.staleSlot, message, path: path))
                    say("stale: " + message)
                } else {
                    tally.current += 1
                    tally.files.append(FileResult(path: path, outcome: .unchanged))
                }
                return
            }
            let (status, outcome) = try Relocation.relocate(path)
            switch outcome {
            case .current:
                tally.current += 1
                tally.files.append(FileResult(path: path, outcome: .unchanged))
            case .rewrittenInPlace:
                tally.relocated += 1
                tally.files.append(FileResult(path: path, outcome: .done))
                say("relocated: \(path) -> \(status.loader)")
            case .replaced:
                tally.relocated += 1
                tally.files.append(FileResult(path: path, outcome: .done))
                say("relocated: \(path) -> \(status.loader) (busy or read-only: replaced by a copy)")
            }
        } catch {
            // In a bottle directory, libraries, data and unsealed programs are simply not ours;
            // named on the command line, any file relocate cannot work on is a failure.
            if inTree && error.isSkip(explicit: false) { return }
            tally.fail(error.problem, path: path, json: jsonOption.json)
        }
    }
}
