// Sealing and unsealing one file: the checks and the plan of its rewrite. Never prints.
import LinuxOS
import SystemPackage

/// What the caller asks of `Sealer.seal`.
public struct SealOptions: Sendable {
    /// The loader path relative to the binary's directory; found by `LoaderDiscovery` when nil.
    public var loader: String?
    public var allowHardLinks = false
    public var sharedLibraries = false
    /// Plan and check only; write nothing.
    public var dryRun = false
    /// How the kernel is to reach runbottle: the note type.
    public var dispatch: SealFormat.Dispatch = .interp
    /// What the PT_INTERP slot names: absolute, at most BOTTLE_LOADER_PATH_MAX bytes.
    public var interpreter: String = SealFormat.runbottlePath

    public init(
        loader: String? = nil, allowHardLinks: Bool = false, sharedLibraries: Bool = false, dryRun: Bool = false,
        dispatch: SealFormat.Dispatch = .interp, interpreter: String = SealFormat.runbottlePath
    ) {
        self.loader = loader
        self.allowHardLinks = allowHardLinks
        self.sharedLibraries = sharedLibraries
        self.dryRun = dryRun
        self.dispatch = dispatch
        self.interpreter = interpreter
    }

    /// The note type a file gets: the PT_INTERP dispatch's, or for binfmt dispatch the entry's
    /// that computes credentials from the binary when it is setuid, setgid or has capabilities.
    public func noteType(privileged: Bool) -> SealFormat.NoteType {
        switch dispatch {
        case .interp: return .interp
        case .binfmt: return privileged ? .privileged : .ordinary
        }
    }
}

/// What sealing or unsealing one file does, and the rewrite that does it, not yet begun.
public struct PreparedChange {
    public enum Outcome: Sendable, Equatable {
        case sealed(BottleNote, growth: UInt64)
        /// A sealed file's note type or PT_INTERP slot rewritten in place (a file of an earlier
        /// revision, another dispatch, or a slot `relocate` set).
        case updated(BottleNote, slot: String, previousType: SealFormat.NoteType, previousSlot: String)
        case unsealed
        /// Nothing to do: the file already is as asked.
        case alreadySealed(BottleNote)
        case notSealed
    }

    /// The path as the caller gave it.
    public var path: String
    public var outcome: Outcome
    /// The rewrite, for a `RewriteTransaction` (or its own `commit()`); nil for a dry run or
    /// when there is nothing to do.
    public var rewrite: Rewrite?
}

public enum Sealer {
    /// The real path of `path` (symlinks resolved): what is replaced, and what the loader path is
    /// relative to.
    public static func realPath(_ path: String) throws(ELFError) -> String {
        do { return try FileSystem.realPath(path) } catch { throw ELFError(path, .system(.resolvePath, error.errno)) }
    }

    /// Opens and parses `path` (following symlinks). A file whose headers no longer parse but
    /// still have the sealed shape gets `.damagedSeal` rather than the parse error.
    public static func open(_ path: String) throws(ELFError) -> (file: ELFFile, image: ELFImage, realPath: String) {
        let real = try realPath(path)
        let file = try ELFFile(path: real, displayPath: path)
        return (file, try parse(file), real)
    }

    /// `ELFImage.parse`, telling a sealed file wrecked by strip or objcopy from plain corruption.
    public static func parse(_ file: ELFFile) throws(ELFError) -> ELFImage {
        do {
            return try ELFImage.parse(file)
        } catch {
            switch error.reason {
            case .corrupt, .truncated:
                if let lenient = try? ELFImage.parse(file, lenient: true), SealedState.hasSealedShape(lenient) {
                    throw ELFError(file.path, .damagedSeal(.invalidProgramHeaders(error.reason)))
                }
            default: break
            }
            throw error
        }
    }

    /// Seals the file at `path`: checks it and plans the seal's rewrite, verified against the
    /// plan when it is staged. A sealed file whose note type or slot differ from `options` is
    /// updated in place instead. Writes nothing.
    public static func seal(_ path: String, _ options: SealOptions = SealOptions()) throws(ELFError) -> PreparedChange {
        let (file, image, real) = try openToSeal(path, options)
        return try seal(path, file, image, real, options)
    }

    /// `open`, once the PT_INTERP slot `options` ask for is known to be one the slot can hold.
    private static func openToSeal(
        _ path: String, _ options: SealOptions
    ) throws(ELFError) -> (file: ELFFile, image: ELFImage, realPath: String) {
        if let problem = SealFormat.interpreterProblem(options.interpreter) {
            throw ELFError(path, .badInterpreter(problem))
        }
        return try open(path)
    }

    /// Sets DT_RPATH of the file at `path` to `runPath` (by one of `methods`) and seals it with
    /// `options`, planned as one rewrite: one copy, both edits, both verifications, one commit
    /// (bottling's programs). The seal is planned against the file as the run path edit leaves
    /// it. Returns how the run path is set and the change; writes nothing.
    public static func seal(
        _ path: String, runPath: String, methods: Set<RunPathMethod> = RunPathMethod.beforeSeal,
        _ options: SealOptions
    ) throws(ELFError) -> (runPath: RunPathMethod, change: PreparedChange) {
        let (file, image, real) = try openToSeal(path, options)
        let edit = try RunPathEditor.plan(file, image, runPath: runPath, methods: methods)
        if edit.method == .unchanged { return (.unchanged, try seal(path, file, image, real, options)) }
        let before = try DynamicTable.read(file, image)
        let editedSize = max(edit.newFileSize, image.fileSize)
        let edited = ELFFile(file, copying: image.fileSize, edits: edit.edits, size: editedSize)
        var change = try seal(path, edited, try ELFImage.parse(edited), real, options)
        let sealing = change.rewrite
        change.rewrite = Rewrite(
            path: path, target: real, original: file, copying: image.fileSize,
            edits: edit.edits + (sealing?.edits ?? []), size: max(sealing?.size ?? editedSize, editedSize)
        ) { written throws(ELFError) in
            try sealing?.verify(written)
            try RunPathEditor.verify(written, original: file, before: before, runPath: runPath)
        }
        return (edit.method, change)
    }

    /// `seal` of the opened file: `file` may be one as a rewrite would leave it.
    static func seal(
        _ path: String, _ file: ELFFile, _ image: ELFImage, _ real: String, _ options: SealOptions
    ) throws(ELFError) -> PreparedChange {
        let state = try SealedState.read(file, image)
        switch state.status {
        case .sealed:
            try HostMachine.checkPort(image)
            return try update(path, file, image, state, real, options)
        case .damaged(let why): throw ELFError(path, .damagedSeal(why))
        case .unsealed: break
        }
        let dynamic = try DynamicInfo.read(file, image)
        guard let interpreter = image.interpreter else {
            if image.header.e_type == ELF.ET_DYN && !dynamic.isPIE && image.first(ELF.PT_DYNAMIC) != nil {
                throw ELFError(path, .sharedLibrary(hasInterpreter: false))
            }
            throw ELFError(path, .staticExecutable(dynamic.isPIE ? .staticPIE : .noInterpreter))
        }
        // libc.so.6 and the like have a PT_INTERP but are libraries: a SONAME without DF_1_PIE.
        if image.header.e_type == ELF.ET_DYN && !dynamic.isPIE && dynamic.soname != nil && !options.sharedLibraries {
            throw ELFError(path, .sharedLibrary(hasInterpreter: true))
        }
        // After the skips: in a tree, a 32-bit library is skipped as any library is.
        try HostMachine.checkPort(image)
        if file.status.links > 1 && !options.allowHardLinks {
            throw ELFError(path, .hardLinks(UInt64(file.status.links)))
        }
        let loader: String
        do throws(ELFError) {
            if let given = options.loader {
                loader = try LoaderDiscovery.check(given, forBinaryAt: real, kind: HostMachine.kind(of: image))
            } else {
                loader = try LoaderDiscovery.find(interpreter: interpreter, dynamic: dynamic, forBinaryAt: real)
            }
        } catch { throw ELFError(path, error.reason) }
        let note = BottleNote(type: options.noteType(privileged: isPrivileged(file)), loader: loader)
        let plan = try SealPlan.make(image, note: note, interpreter: options.interpreter)
        let outcome = PreparedChange.Outcome.sealed(note, growth: plan.newFileSize - image.fileSize)
        if options.dryRun { return PreparedChange(path: path, outcome: outcome) }

        let rewrite = Rewrite(
            path: path, target: real, original: file, copying: image.fileSize, edits: plan.edits,
            size: plan.newFileSize
        ) { written throws(ELFError) in
            try SealVerifier.verify(written, plan: plan, original: image, originalFile: file)
        }
        return PreparedChange(path: path, outcome: outcome, rewrite: rewrite)
    }

    /// Setuid, setgid, or carrying file capabilities: what a native exec computes credentials for.
    public static func isPrivileged(_ file: ELFFile) -> Bool {
        file.status.isSetUser || file.status.isSetGroup || file.fd.hasExtendedAttribute("security.capability")
    }

    /// Brings a sealed file's note type and slot to what `options` ask, through a verified
    /// rewrite; nothing to do when they already are.
    private static func update(
        _ path: String, _ file: ELFFile, _ image: ELFImage, _ state: SealedState, _ real: String,
        _ options: SealOptions
    ) throws(ELFError) -> PreparedChange {
        guard let note = state.note else { throw ELFError(path, .damagedSeal(.noNote)) }
        let type = options.noteType(privileged: isPrivileged(file))
        guard let update = try SealUpdate.make(image, state: state, type: type, interpreter: options.interpreter) else {
            return PreparedChange(path: path, outcome: .alreadySealed(note))
        }
        if file.status.links > 1 && !options.allowHardLinks {
            throw ELFError(path, .hardLinks(UInt64(file.status.links)))
        }
        let outcome = PreparedChange.Outcome.updated(
            update.note, slot: update.interpreter, previousType: update.previousType, previousSlot: update.previousSlot)
        if options.dryRun { return PreparedChange(path: path, outcome: outcome) }

        let rewrite = Rewrite(path: path, target: real, original: file, copying: file.size, edits: update.edits) {
            written throws(ELFError) in try update.verify(written, original: image, originalFile: file)
        }
        return PreparedChange(path: path, outcome: outcome, rewrite: rewrite)
    }

    /// Restores the file a seal was made from, byte for byte, from the seal record.
    public static func unseal(_ path: String, dryRun: Bool = false) throws(ELFError) -> PreparedChange {
        let (file, image, real) = try open(path)
        let state = try SealedState.read(file, image)
        switch state.status {
        case .unsealed: return PreparedChange(path: path, outcome: .notSealed)
        case .damaged(let why): throw ELFError(path, .damagedSeal(why))
        case .sealed: break
        }
        let record = try state.record(file, image)
        // The record must describe this file: same header but for the fields sealing changed,
        // and an original end below the appended segment.
        let changed = ELFHeader.sealedFieldRanges(image.format.elfClass)
        guard record.originalHeader.count == image.headerBytes.count,
              (0..<image.headerBytes.count).allSatisfy({ i in
                  record.originalHeader[i] == image.headerBytes[i] || changed.contains { $0.contains(i) } }),
              record.originalSize <= image.header.e_phoff,
              let tableEnd = checkedAdd(record.originalPhoff, UInt64(record.originalTable.count)),
              tableEnd <= record.originalSize
        else { throw ELFError(path, .damagedSeal(.recordMismatch)) }
        if file.status.links > 1 { throw ELFError(path, .hardLinks(UInt64(file.status.links))) }
        if dryRun { return PreparedChange(path: path, outcome: .unsealed) }

        let edits = [SealPlan.Edit(offset: 0, bytes: record.originalHeader),
                     SealPlan.Edit(offset: record.originalPhoff, bytes: record.originalTable)]
        let rewrite = Rewrite(path: path, target: real, original: file, copying: record.originalSize, edits: edits) {
            written throws(ELFError) in try verifyUnsealed(written, record: record, sealed: image, sealedFile: file)
        }
        return PreparedChange(path: path, outcome: .unsealed, rewrite: rewrite)
    }

    /// Checks that `written` is the file `record` describes, byte for byte: its header, table and
    /// size, and every other byte as in the sealed file.
    private static func verifyUnsealed(
        _ written: ELFFile, record: SealRecord, sealed image: ELFImage, sealedFile file: ELFFile
    ) throws(ELFError) {
        let restored = try ELFImage.parse(written)
        let tableEnd = record.originalPhoff + UInt64(record.originalTable.count)
        guard written.size == record.originalSize, restored.headerBytes == record.originalHeader,
              restored.tableBytes == record.originalTable,
              try written.sameBytes(as: file, from: UInt64(image.headerBytes.count), to: record.originalPhoff),
              try written.sameBytes(as: file, from: tableEnd, to: record.originalSize),
              try SealedState.read(written, restored).status == .unsealed
        else { throw ELFError(written.path, .verificationFailed(.restoredMismatch)) }
    }
}
