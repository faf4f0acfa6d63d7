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

    @Argument(help: "Sealed binaries, or bottle directories (searched recursively).", completion: .file())
    var paths: [String]

    func run() throws {
        var tally = Tally()
        let (files, missing) = TreeWalk.expand(paths)
        for (path, reason) in missing {
            Output.errorLine("binfmt-reg: \(path): \(reason)")
            tally.failed += 1
        }
        for operand in files { handle(operand.path, inTree: !operand.explicit, &tally) }
        if check {
            print("relocate --check: \(tally.stale) stale, \(tally.current) current, \(tally.failed) failed")
        } else {
            print("relocate: \(tally.relocated) relocated, \(tally.current) already current, \(tally.failed) failed")
        }
        if tally.failed > 0 || (check && tally.stale > 0) { throw ExitCode(1) }
    }

    private struct Tally {
        var relocated = 0, current = 0, stale = 0, failed = 0
    }

    private func handle(_ path: String, inTree: Bool, _ tally: inout Tally) {
        do throws(ELFError) {
            if check {
                let status = try Relocation.status(of: path)
                if status.isStale {
                    tally.stale += 1
                    print("stale: \(path): PT_INTERP names \(status.current), the bundled loader is \(status.loader)")
                } else {
                    tally.current += 1
                }
                return
            }
            let (status, outcome) = try Relocation.relocate(path)
            switch outcome {
            case .current:
                tally.current += 1
            case .rewrittenInPlace:
                tally.relocated += 1
                print("relocated: \(path) -> \(status.loader)")
            case .replaced:
                tally.relocated += 1
                print("relocated: \(path) -> \(status.loader) (busy or read-only: replaced by a copy)")
            }
        } catch {
            // In a bottle directory, libraries, data and unsealed programs are simply not ours.
            if inTree && (error.isSkip || error.reason == .notSealed) { return }
            Output.errorLine("binfmt-reg: \(error)")
            tally.failed += 1
        }
    }
}
