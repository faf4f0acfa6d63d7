// The options of seal and bottle that choose how sealed programs reach runbottle (bottle(5)).
import ArgumentParser
import ELFEngine

extension SealFormat.Dispatch: ExpressibleByArgument {}

struct DispatchOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "interp: no binfmt_misc entry takes the programs, the kernel starts the PT_INTERP slot's interpreter (note type 3); binfmt: the BOTTLE entries take them (note type 1, or 2 for setuid, setgid and file-capability programs).",
        valueName: "interp|binfmt"))
    var dispatch: SealFormat.Dispatch = .interp

    @Option(help: ArgumentHelp(
        "The absolute path the PT_INTERP slot names, for either dispatch.", valueName: "path"),
        completion: .file())
    var interpreter = SealFormat.runbottlePath

    func validate() throws {
        if let problem = SealFormat.interpreterProblem(interpreter) {
            throw ValidationError("--interpreter: \(problem.words)")
        }
    }

    /// For summary lines: which dispatch the files got.
    var summary: String {
        switch dispatch {
        case .interp: return "PT_INTERP dispatch through \(interpreter)"
        case .binfmt: return "binfmt_misc dispatch; PT_INTERP \(interpreter) where no entry is registered"
        }
    }
}
