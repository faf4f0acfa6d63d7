// What bottle found and why it failed, in words: the notice for each compiled-in path the bottle
// does not hold, and the system errors that stopped it.
import Bottling
import ELFEngine

extension CompiledPath {
    /// The --include that puts the path where a chroot or an image of the bottle finds it.
    var include: String { "--include \(path)=\(path)" }

    /// One stderr line; -q drops it.
    var notice: String {
        "binfmt-reg: notice: \(file) names \(path), which the bottle does not hold there: add \(include) if it needs it"
    }
}

extension BottleError {
    /// The error as binfmt-reg reports it: a system call's error after what was being done
    /// (strerror's words), or alone and in lower case when the file itself could not be looked at.
    var worded: WordedProblem {
        guard let system else { return WordedProblem(problem: problem) }
        let why = reason.isEmpty ? system.description.lowercased() : "\(reason): \(system)"
        return WordedProblem(problem: Problem(code, "\(path): \(why)", path: path))
    }
}

/// A problem whose message the CLI worded, thrown on to the command's end.
struct WordedProblem: ProblemError {
    var problem: Problem
    var description: String { problem.message }
}
