// The one rewrite transaction: every writer of ELF files (seal, unseal, update, relocate's copy,
// run path edits, bottling) hands it a plan, and it alone copies, edits, keeps the metadata,
// verifies, makes the result durable and renames it in place.
import LinuxOS
import SystemPackage

/// A planned rewrite of one file: a copy of the original's first `copying` bytes with `edits`
/// written over it, sized `size`, checked by `verify` before it may replace the original.
public struct Rewrite {
    /// The path as the caller gave it: what errors name.
    public var path: String
    /// What is replaced: the real path, so that a symlink is never replaced by a file.
    public var target: String
    /// The file as it is now: the bytes copied, the metadata kept, and the status the commit
    /// requires to be unchanged.
    public var original: ELFFile
    public var copying: UInt64
    public var edits: [SealPlan.Edit]
    /// The new size; nil keeps the copied size (edits past it extend the file).
    public var size: UInt64?
    /// Re-reads the written file; throws `.verificationFailed` naming the broken invariant.
    public var verify: (ELFFile) throws(ELFError) -> Void

    public init(
        path: String, target: String, original: ELFFile, copying: UInt64, edits: [SealPlan.Edit],
        size: UInt64? = nil, verify: @escaping (ELFFile) throws(ELFError) -> Void
    ) {
        self.path = path
        self.target = target
        self.original = original
        self.copying = copying
        self.edits = edits
        self.size = size
        self.verify = verify
    }

    /// A transaction of this rewrite alone: in place when this returns, or the file untouched.
    public func commit(durability: RewriteTransaction.Durability = .synced) throws(ELFError) {
        var transaction = RewriteTransaction(durability: durability)
        try transaction.stage(self)
        try transaction.commitAll()
    }
}

/// Rewrites staged beside their files, then put in place together: data made durable (an fsync
/// for one file, one syncfs per file system for several, as durable as an fsync of each),
/// renamed, directories synced. Until `commit` every original is untouched; a rewrite dropped
/// uncommitted is discarded.
public struct RewriteTransaction {
    /// Who makes the new files durable before they are renamed in place.
    public enum Durability: Sendable {
        /// The transaction, as above.
        case synced
        /// The caller, who syncs the whole file system before anything of it is seen (the
        /// bottle's stage): no sync here.
        case byCaller
    }

    /// A rewrite written and verified, not yet in place.
    struct Staged {
        var path: String
        var replacement: AtomicReplacement
    }

    public let durability: Durability
    private var staged: [Staged] = []

    public init(durability: Durability = .synced) { self.durability = durability }

    public var count: Int { staged.count }

    /// Writes `rewrite` beside its file: the copy, the edits, the size, the owner, mode and
    /// xattrs, then the verification. Throws, leaving nothing behind, when a step fails.
    public mutating func stage(_ rewrite: Rewrite) throws(ELFError) {
        staged.append(try Self.write(rewrite))
    }

    /// Adds a file the caller wrote whole through the atomic writer (the installer's files).
    public mutating func stage(written replacement: AtomicReplacement) {
        replacement.startWriteback()
        staged.append(Staged(path: replacement.path, replacement: replacement))
    }

    mutating func add(_ written: Staged) { staged.append(written) }

    /// The staging steps, safe to run on several threads at once for different files.
    static func write(_ rewrite: Rewrite) throws(ELFError) -> Staged {
        let path = rewrite.path, original = rewrite.original
        let replacement: AtomicReplacement
        do { replacement = try AtomicReplacement(replacing: rewrite.target, original: original.status) } catch {
            throw ELFError(path, error.reason)
        }
        replacement.retained = original
        do throws(ELFError) {
            try replacement.copyContents(from: original.fd, count: rewrite.copying)
            for edit in rewrite.edits { try replacement.write(edit.bytes, at: edit.offset) }
            if let size = rewrite.size { try replacement.truncate(to: size) }
            // After the last write, which would clear setuid bits and security.capability.
            try replacement.copyMetadata(from: original.fd)
            try rewrite.verify(try ELFFile(borrowing: replacement.fd, path: path))
        } catch {
            replacement.discard()
            throw ELFError(path, error.reason)
        }
        replacement.startWriteback()
        return Staged(path: path, replacement: replacement)
    }

    /// Puts every staged rewrite in place; returns, in staging order, each one's error (naming
    /// the path as given) or nil. A failed one leaves its original as it was.
    public mutating func commit() -> [ELFError?] {
        let pending = staged
        staged.removeAll()
        let unsynced = sync(pending)
        // Renamed on a few threads: dropping the replaced inodes is the slow part.
        let outcomes = Concurrently.map(Array(zip(pending, unsynced))) { item -> ELFError? in
            let (entry, syncError) = item
            if let syncError {
                entry.replacement.discard()
                return ELFError(entry.path, syncError)
            }
            do throws(ELFError) { try entry.replacement.rename() } catch { return ELFError(entry.path, error.reason) }
            return nil
        }
        if durability == .synced {
            var directories = Set<String>()
            for (entry, outcome) in zip(pending, outcomes) where outcome == nil
                && directories.insert(FileSystem.parent(of: entry.replacement.path)).inserted {
                try? entry.replacement.directoryDescriptor.synchronize()
            }
        }
        _ = Concurrently.map(pending) { $0.replacement.closeFiles() }
        return outcomes
    }

    /// Commits, throwing the first failure: for a transaction of one file.
    public mutating func commitAll() throws(ELFError) {
        if let failure = commit().compactMap({ $0 }).first { throw failure }
    }

    /// Makes the staged files durable as `durability` asks; returns, per file, why it could
    /// not be, or nil.
    private func sync(_ pending: [Staged]) -> [ELFError.Reason?] {
        guard durability == .synced else { return pending.map { _ in nil } }
        if pending.count == 1, let only = pending.first {
            // One file: its own fsync is cheaper than a file system's syncfs.
            do { try only.replacement.fd.synchronize() } catch { return [.system(.fsync, error.errno)] }
            return [nil]
        }
        var synced: [UInt64: ELFError.Reason?] = [:]
        for entry in pending where synced[entry.replacement.device] == nil {
            do { try entry.replacement.fd.synchronizeFileSystem() } catch {
                synced[entry.replacement.device] = .some(.system(.syncfs, error.errno))
                continue
            }
            synced[entry.replacement.device] = .some(nil)
        }
        return pending.map { synced[$0.replacement.device] ?? nil }
    }

    /// Drops every staged rewrite; the originals stay as they are.
    public mutating func discard() {
        for entry in staged { entry.replacement.discard() }
        staged.removeAll()
    }

    /// Makes everything written to the file system holding `directory` durable (syncfs): what a
    /// caller of `.byCaller` rewrites does before any of them is seen.
    public static func syncFileSystem(of directory: String) throws(ELFError) {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(directory, .readOnly, options: [.directory, .closeOnExec]) } catch {
            throw ELFError(directory, .system(.open, Errno.of(error)))
        }
        defer { try? fd.close() }
        do { try fd.synchronizeFileSystem() } catch { throw ELFError(directory, .system(.syncfs, error.errno)) }
    }
}

extension RewriteTransaction {
    /// Plans every file of `paths` with `plan`, stages the rewrites a batch of `batchSize` at a
    /// time on a few threads, and commits each batch on a thread of its own while the next is
    /// staged (the two wait on the file system in different places). `report` gets each file's
    /// outcome by index: at once when there is nothing to write or it failed before the commit,
    /// after its batch's commit otherwise. `beginning` gets the first index of each batch.
    public static func run(
        _ paths: [String], batchSize: Int = 128, beginning: (Int) -> Void = { _ in },
        plan: (String) throws(ELFError) -> PreparedChange,
        report: (Int, Result<PreparedChange, ELFError>) -> Void
    ) {
        var committing: (changes: [(Int, PreparedChange)], job: BackgroundJob<[ELFError?]>)?
        func finishCommit() {
            guard let (changes, job) = committing else { return }
            committing = nil
            for ((index, change), failure) in zip(changes, job.join()) {
                report(index, failure.map { .failure($0) } ?? .success(change))
            }
        }
        var start = 0
        while start < paths.count {
            let batchRange = start..<min(start + batchSize, paths.count)
            beginning(start)
            let results = Concurrently.map(Array(batchRange)) { index in
                Result { () throws(ELFError) -> (PreparedChange, Staged?) in
                    var change = try plan(paths[index])
                    guard let rewrite = change.rewrite else { return (change, nil) }
                    change.rewrite = nil
                    return (change, try write(rewrite))
                }
            }
            var batch = RewriteTransaction()
            var batched: [(Int, PreparedChange)] = []
            for (index, result) in zip(batchRange, results) {
                switch result {
                case .success((let change, let staged?)):
                    batch.add(staged)
                    batched.append((index, change))
                case .success((let change, nil)): report(index, .success(change))
                case .failure(let error): report(index, .failure(error))
                }
            }
            finishCommit()
            if batch.count > 0 { committing = (batched, Concurrently.background { batch.commit() }) }
            start = batchRange.upperBound
        }
        finishCommit()
    }
}
