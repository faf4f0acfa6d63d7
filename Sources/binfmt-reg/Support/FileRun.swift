// Runs one file operation (seal, unseal, ...) over files and directory trees: walks, calls the
// engine's rewrite transaction, reports (notices, a progress line, the summary). Shared by the
// commands that rewrite files.
import ELFEngine

/// How one command names its outcomes in messages and in the summary line.
struct FileRunWords {
    /// "sealed", "unsealed"
    var done: String
    /// "would seal", "would unseal"
    var wouldDo: String
    /// "already sealed", "not sealed"
    var unchanged: String
    /// "updated" and "would update", for a command that also brings files up to date in place
    /// (seal); nil for one that does not.
    var updated: String? = nil
    var wouldUpdate: String? = nil
}

/// What happened to one file, as the JSON document lists it.
struct FileResult: Encodable, Equatable {
    enum Outcome: String, Encodable { case done, updated, unchanged, stale, skipped, failed }
    var path: String
    var outcome: Outcome
    /// Why it was skipped or failed.
    @NullIfAbsent var code: ProblemCode?
}

/// What happened to the files of one run: the counts, each file, and the failures.
struct RunSummary: Equatable {
    var done = 0, updated = 0, unchanged = 0, skipped = 0, failed = 0
    var files: [FileResult] = []
    var problems: [Problem] = []

    /// The counts, as the JSON document's `summary`.
    struct Counts: Encodable {
        var done, updated, unchanged, skipped, failed: Int
    }
    var counts: Counts { Counts(done: done, updated: updated, unchanged: unchanged, skipped: skipped, failed: failed) }

    mutating func fail(_ problem: Problem, path: String) {
        failed += 1
        files.append(FileResult(path: path, outcome: .failed, code: problem.code))
        problems.append(problem)
    }

    func line(_ words: FileRunWords, dryRun: Bool) -> String {
        var parts = ["\(done) \(dryRun ? words.wouldDo : words.done)"]
        if let word = dryRun ? words.wouldUpdate : words.updated { parts.append("\(updated) \(word)") }
        parts += ["\(unchanged) \(words.unchanged)", "\(skipped) skipped", "\(failed) failed"]
        return parts.joined(separator: ", ")
    }
}

/// seal --json and unseal --json: every file and the counts.
struct FileRunDocument: Encodable {
    var dryRun: Bool
    var files: [FileResult]
    var summary: RunSummary.Counts

    init(_ summary: RunSummary, dryRun: Bool) {
        self.dryRun = dryRun
        files = summary.files
        self.summary = summary.counts
    }
}

struct FileRun {
    var words: FileRunWords
    var dryRun: Bool
    var verbose: Bool
    /// --json: nothing printed; the summary holds every file and problem.
    var json = false

    /// Applies `prepare` to every file `paths` name, has the engine's rewrite transaction commit
    /// the rewrites it plans, and reports each outcome. A file the engine's skip rule passes
    /// over (`ELFError.isSkip(explicit:)`) is skipped with a notice.
    func run(_ paths: [String], _ prepare: (String) throws(ELFError) -> PreparedChange) -> RunSummary {
        var summary = RunSummary()
        // A file rewritten twice at once would make the second rewrite find it changed.
        let (operands, missing) = TreeWalk.expand(paths)
        let files = operands.uniqueFiles()
        for problem in missing {
            report("binfmt-reg: \(problem.message)")
            summary.fail(problem, path: problem.path ?? "")
        }
        var progress = ProgressLine(total: json ? 0 : files.count)
        RewriteTransaction.run(
            files.map(\.path), beginning: { progress.update(done: $0, label: files[$0].path) }, plan: prepare
        ) { index, result in record(files[index], result, in: &summary, &progress) }
        progress.clear()
        return summary
    }

    /// Counts and reports one file's outcome.
    private func record(
        _ operand: Operand, _ result: Result<PreparedChange, ELFError>, in summary: inout RunSummary,
        _ progress: inout ProgressLine
    ) {
        switch result {
        case .success(let change):
            switch change.outcome {
            case .sealed, .updated, .unsealed:
                count(change, in: &summary)
                if dryRun || verbose { progress.clear(); say(describe(change)) }
            case .alreadySealed, .notSealed:
                summary.unchanged += 1
                summary.files.append(FileResult(path: change.path, outcome: .unchanged))
                if operand.explicit || verbose { progress.clear(); say("\(change.path): \(words.unchanged), unchanged") }
            }
        case .failure(let error) where error.isSkip(explicit: operand.explicit):
            progress.clear()
            summary.skipped += 1
            summary.files.append(FileResult(path: operand.path, outcome: .skipped, code: error.reason.code))
            if !json { Output.notice("binfmt-reg: \(operand.path): skipped: \(error.reason.message)") }
        case .failure(let error):
            progress.clear()
            let problem = Problem(error.reason.code, "\(operand.path): \(error.reason.message)", path: operand.path)
            report("binfmt-reg: \(problem.message)")
            summary.fail(problem, path: operand.path)
        }
    }

    private func count(_ change: PreparedChange, in summary: inout RunSummary) {
        if case .updated = change.outcome {
            summary.updated += 1
            summary.files.append(FileResult(path: change.path, outcome: .updated))
        } else {
            summary.done += 1
            summary.files.append(FileResult(path: change.path, outcome: .done))
        }
    }

    private func describe(_ change: PreparedChange) -> String {
        let verb = dryRun ? words.wouldDo : words.done
        switch change.outcome {
        case .sealed(let note, let growth):
            return "\(verb) \(change.path): loader \(note.loader), note type \(note.type.rawValue), +\(growth) bytes"
        case .updated(let note, let slot, let previousType, let previousSlot):
            let updateVerb = (dryRun ? words.wouldUpdate : words.updated) ?? verb
            var what: [String] = []
            if previousType != note.type { what.append("note type \(previousType.rawValue) -> \(note.type.rawValue)") }
            if previousSlot != slot { what.append("PT_INTERP slot \(previousSlot.isEmpty ? "(empty)" : previousSlot) -> \(slot)") }
            // The same path: only the slot's tail changed (bottle(5): runbottle's trampoline).
            if what.isEmpty { what.append("PT_INTERP slot's tail -> runbottle's trampoline") }
            return "\(updateVerb) \(change.path): " + what.joined(separator: ", ")
        default:
            return "\(verb) \(change.path)"
        }
    }

    private func say(_ line: String) { if !json { print(line) } }

    private func report(_ line: String) { if !json { Output.errorLine(line) } }
}
