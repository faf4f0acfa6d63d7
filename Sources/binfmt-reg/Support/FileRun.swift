// Runs one file operation (seal, unseal, ...) over files and directory trees: notices, batched
// atomic commits, a progress line and the summary. Shared by the commands that rewrite files.
import ELFEngine
import Glibc

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
    /// Replacements committed together: one syncfs for the lot instead of an fsync each.
    var batchSize = 128

    /// Applies `prepare` to every file `paths` name and commits the replacements it writes.
    /// A file the engine's skip rule passes over (`ELFError.isSkip(explicit:)`) is skipped with
    /// a notice.
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
        // While one batch is being synced and renamed on a thread of its own, the next is
        // prepared: the two wait on the file system in different places.
        var committing: (changes: [PreparedChange], job: BackgroundJob<[String: ELFError]>)?

        func finishCommit() {
            guard let (changes, job) = committing else { return }
            let failures = job.join()
            committing = nil
            for change in changes {
                if let error = failures[change.replacement?.path ?? ""] {
                    progress.clear()
                    let problem = Problem(error.reason.code, "\(change.path): \(error.reason)", path: change.path)
                    report("binfmt-reg: \(problem.message)")
                    summary.fail(problem, path: change.path)
                } else {
                    count(change, in: &summary)
                    if verbose { progress.clear(); say(describe(change)) }
                }
            }
        }

        // Files are prepared a batch at a time on a few threads; messages keep the files' order.
        var index = 0
        while index < files.count {
            let chunk = Array(files[index..<min(index + batchSize, files.count)])
            progress.update(done: index, label: chunk[0].path)
            let results = Concurrently.map(chunk) { operand in
                Result { () throws(ELFError) in try prepare(operand.path) }
            }
            index += chunk.count
            var batch = ReplacementBatch()
            var batched: [PreparedChange] = []
            for (operand, result) in zip(chunk, results) {
                switch result {
                case .success(let change):
                    switch change.outcome {
                    case .sealed, .updated, .unsealed:
                        if let replacement = change.replacement {
                            batch.add(replacement)
                            batched.append(change)
                        } else {
                            count(change, in: &summary)
                            if dryRun || verbose { progress.clear(); say(describe(change)) }
                        }
                    case .alreadySealed, .notSealed:
                        summary.unchanged += 1
                        summary.files.append(FileResult(path: change.path, outcome: .unchanged))
                        if operand.explicit || verbose { progress.clear(); say("\(change.path): \(words.unchanged), unchanged") }
                    }
                case .failure(let error):
                    progress.clear()
                    if error.isSkip(explicit: operand.explicit) {
                        summary.skipped += 1
                        summary.files.append(FileResult(path: operand.path, outcome: .skipped, code: error.reason.code))
                        if !json { Output.notice("binfmt-reg: \(operand.path): skipped: \(error.reason)") }
                    } else {
                        let problem = Problem(error.reason.code, "\(operand.path): \(error.reason)", path: operand.path)
                        report("binfmt-reg: \(problem.message)")
                        summary.fail(problem, path: operand.path)
                    }
                }
            }
            finishCommit()
            if batch.count > 0 {
                committing = (batched, Concurrently.background { batch.commit() })
            }
        }
        finishCommit()
        progress.clear()
        return summary
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
            return "\(updateVerb) \(change.path): " + what.joined(separator: ", ")
        default:
            return "\(verb) \(change.path)"
        }
    }

    private func say(_ line: String) { if !json { print(line) } }

    private func report(_ line: String) { if !json { Output.errorLine(line) } }
}
