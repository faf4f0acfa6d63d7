// Making a bottle: every file produced in a staging directory beside DIR, compared with DIR, and only then moved in.
import ELFEngine
import FoundationEssentials
import LinuxOS
import SystemPackage

/// What happened to one path of the bottle.
public struct BottleChange: Sendable, Equatable {
    public enum Action: String, Sendable { case added, replaced, unchanged }
    public var path: String
    public var action: Action
    /// For programs and libraries: how DT_RPATH was set (nil when the file was not edited).
    public var runPath: RunPathMethod?
    /// For a file of an --include tree: the tree's path in the bottle.
    public var tree: String?
}

/// The outcome of one `Bottler.bottle` call.
public struct BottleReport: Sendable {
    public var directory: String
    public var changes: [BottleChange]
    /// Paths compiled into the programs and libraries that exist here and that the bottle does
    /// not hold: notices, not errors (a program may not need them).
    public var unheldPaths: [CompiledPath] = []

    public func count(_ action: BottleChange.Action) -> Int { changes.filter { $0.action == action }.count }
}

public enum Bottler {
    /// The file in the bottle recording where each copied file came from, so that a later run can
    /// tell a changed file (same source: replaced) from a name clash (another source: an error).
    public static let manifestName = ".bottle-sources"

    /// Makes or updates the bottle `request.output`. Nothing in it changes unless every file was
    /// produced and checked; then new and changed files are renamed in, libraries before programs.
    public static func bottle(_ request: BottleRequest) throws(BottleError) -> BottleReport {
        if let problem = SealFormat.interpreterProblem(request.interpreter) {
            throw BottleError(request.output, .engine(.badInterpreter(problem)))
        }
        let plan = try BottlePlan.make(request)
        let unheld = CompiledPaths.unheld(in: plan)
        let output = LoaderDiscovery.normalized(request.output.hasPrefix("/")
            ? request.output : FileManager.default.currentDirectoryPath + "/" + request.output)
        let parent = FileSystem.parent(of: output)
        let (isDirectory, isBottle) = try checkOutput(output)
        let manifest = isBottle ? try readManifest(output) : [:]
        // Nothing renames between two mounts, and a mount point cannot be renamed over: into a
        // directory that is one (a volume, a bind mount) the files move from a stage inside it.
        // An empty directory that is not one is replaced whole, as a new bottle is made.
        let inside = isDirectory && (try? isMountPoint(output, below: parent)) != false
        let exists = isBottle || inside
        if inside { removeLeftoverStages(in: output) }
        for entry in plan.entries {
            guard let source = recordedSource(entry), let previous = manifest[entry.path], previous != source else { continue }
            // The built-in runbottle is no file to compare: against it, another source is another file.
            let builtIn = [previous, source].contains(builtInRunbottle)
            var differs = builtIn
            if !builtIn && (try? FileSystem.status(of: previous)) != nil { differs = try !sameContents(previous, source) }
            if differs {
                throw BottleError(output + "/" + entry.path,
                                  .clashWithBottle(previous: previous, source: source, purpose: entry.purpose))
            }
        }

        // A new bottle is made beside its place and renamed in whole; into an existing one the
        // files move one by one, from the same stage beside it or from one inside a mount point.
        let name = output.split(separator: "/").last.map(String.init) ?? "bottle"
        let stage = inside ? try makeStage(in: output, named: stagePrefix)
                           : try makeStage(in: parent, named: ".\(name).staging")
        // Once files move in, a stage inside the bottle stays on failure: it marks the fill as
        // unfinished for the next run.
        var committed = false, moving = false
        defer { if !committed && !(inside && moving) { removeTree(stage) } }
        var runPaths: [String: RunPathMethod] = [:]
        let sealing = SealOptions(dispatch: request.dispatch, interpreter: request.interpreter)
        for entry in plan.entries { runPaths[entry.path] = try produce(entry, in: stage, sealing, runbottle: request.runbottle) }

        let changes = try compare(plan, staged: stage, with: exists ? output : nil, runPaths)
        var sources = manifest
        for entry in plan.entries { sources[entry.path] = recordedSource(entry) }
        try writeManifest(sources, to: stage + "/" + manifestName)
        // One syncfs makes every staged file durable before any of them is renamed into place:
        // the staged rewrites leave it to this (durability .byCaller).
        do { try RewriteTransaction.syncFileSystem(of: stage) } catch {
            throw BottleError(stage, .engine(error.reason))
        }

        if !exists {
            do { try FileSystem.rename(stage, to: output) } catch { throw BottleError(output, .renameFrom(stage), system: error) }
            committed = true
            return BottleReport(directory: output, changes: changes, unheldPaths: unheld)
        }
        moving = true
        try moveIn(changes, plan, from: stage, to: output)
        committed = true
        removeTree(stage)
        return BottleReport(directory: output, changes: changes, unheldPaths: unheld)
    }

    /// What each entry staged in `stage` does to the bottle `output` (nil: a new bottle).
    private static func compare(
        _ plan: BottlePlan, staged stage: String, with output: String?, _ runPaths: [String: RunPathMethod]
    ) throws(BottleError) -> [BottleChange] {
        var changes: [BottleChange] = []
        for entry in plan.entries {
            let action: BottleChange.Action
            if let output, pathExists(output + "/" + entry.path) {
                action = try same(stage + "/" + entry.path, output + "/" + entry.path, entry.kind) ? .unchanged : .replaced
            } else {
                action = .added
            }
            changes.append(BottleChange(path: entry.path, action: action, runPath: runPaths[entry.path] ?? nil, tree: entry.tree))
        }
        return changes
    }

    /// Moves the changed entries and the manifest from `stage` into the existing bottle `output`.
    private static func moveIn(
        _ changes: [BottleChange], _ plan: BottlePlan, from stage: String, to output: String
    ) throws(BottleError) {
        // Libraries and the loader first, then links, then programs: a program moved in never
        // points at a library that is not there yet.
        let kinds = Dictionary(plan.entries.map { ($0.path, $0.kind) }, uniquingKeysWith: { first, _ in first })
        func order(_ change: BottleChange) -> Int {
            switch kinds[change.path] {
            case .directory, .temporaryDirectory: return 0
            case .library, .file, .runbottle: return 1
            case .symlink: return 2
            default: return 3
            }
        }
        for change in changes.sorted(by: { order($0) < order($1) }) where change.action != .unchanged {
            let target = output + "/" + change.path
            if case .directory = kinds[change.path] {
                try makeDirectory(target)
                continue
            }
            if case .temporaryDirectory = kinds[change.path] {
                try makeTemporaryDirectory(target)
                continue
            }
            try makeDirectory(FileSystem.parent(of: target))
            do { try FileSystem.rename(stage + "/" + change.path, to: target) } catch {
                throw BottleError(target, .renameIntoBottle, system: error)
            }
        }
        let manifestPath = output + "/" + manifestName
        var manifestChanged = !pathExists(manifestPath)
        if !manifestChanged { manifestChanged = try !sameContents(stage + "/" + manifestName, manifestPath) }
        if manifestChanged {
            do { try FileSystem.rename(stage + "/" + manifestName, to: manifestPath) } catch {
                throw BottleError(manifestPath, .rename, system: error)
            }
        }
    }

    /// The staging directory inside an existing bottle directory. Until the manifest is renamed
    /// into place it marks the fill as unfinished; the next run removes it and finishes the fill.
    static let stagePrefix = ".bottle-staging"

    /// The manifest's source for runbottle written from binfmt-reg's own bytes (--rootfs): a
    /// rerun compares the bytes, and a file of another source at its path is a clash.
    public static let builtInRunbottle = "(runbottle built into binfmt-reg)"

    /// What the manifest records for `entry`: its source file, the built-in runbottle's mark, or
    /// nothing (links and directories).
    private static func recordedSource(_ entry: BottleEntry) -> String? {
        if case .runbottle = entry.kind { return builtInRunbottle }
        return entry.source
    }

    /// Checks that `output` is new, an empty directory, a bottle (it has a manifest), or one an
    /// interrupted run was filling (its stage is still there): never a directory of other files
    /// such as / or /usr, whose files a bottle would replace. Returns whether it is a directory,
    /// and whether it is a bottle.
    private static func checkOutput(_ output: String) throws(BottleError) -> (isDirectory: Bool, isBottle: Bool) {
        guard let st = try? FileSystem.status(of: output, followingLinks: false) else { return (false, false) }
        guard st.kind == .directory else { throw BottleError(output, .outputNotDirectory) }
        if pathExists(output + "/" + manifestName) { return (true, true) }
        let contents = (try? FileSystem.entries(of: output).map(\.name)) ?? ["?"]
        guard output != "/", contents.isEmpty || contents.contains(where: { $0.hasPrefix(stagePrefix + "-") }) else {
            throw BottleError(output, .outputNotBottle)
        }
        return (true, false)
    }

    /// Whether `path` is the root of a mount other than its parent's: by mount id, or where the
    /// kernel does not give one (before 5.8), by device.
    private static func isMountPoint(_ path: String, below parent: String) throws(BottleError) -> Bool {
        if let a = FileSystem.mountID(of: path), let b = FileSystem.mountID(of: parent) { return a != b }
        do { return try FileSystem.status(of: path).device != FileSystem.status(of: parent).device } catch {
            throw BottleError(path, .stat, system: error)
        }
    }

    /// An interrupted run's stages: what they held is produced again.
    private static func removeLeftoverStages(in output: String) {
        for name in (try? FileSystem.entries(of: output).map(\.name)) ?? []
        where name.hasPrefix(stagePrefix + "-") {
            removeTree(output + "/" + name)
        }
    }

    /// Produces one entry inside `stage`, a program sealed with `sealing` (its loader aside);
    /// returns how a program's or library's run path was set.
    private static func produce(
        _ entry: BottleEntry, in stage: String, _ sealing: SealOptions, runbottle: [UInt8]?
    ) throws(BottleError) -> RunPathMethod? {
        let target = stage + "/" + entry.path
        try makeDirectory(FileSystem.parent(of: target))
        switch entry.kind {
        case .directory:
            try makeDirectory(target)
            return nil
        case .temporaryDirectory:
            try makeTemporaryDirectory(target)
            return nil
        case .runbottle:
            guard let runbottle else { throw BottleError(target, .noRunbottleBytes) }
            try writeFile(runbottle, to: target, mode: 0o755)
            return nil
        case .symlink(let destination):
            do { try FileSystem.makeSymbolicLink(at: target, to: destination) } catch {
                throw BottleError(target, .symlink, system: error)
            }
            return nil
        case .file:
            try copyFile(entry.source ?? "", to: target)
            return nil
        case .library:
            try copyFile(entry.source ?? "", to: target)
            do throws(ELFError) {
                let file = try ELFFile(path: target)
                let info = try DynamicInfo.read(file, try ELFImage.parse(file))
                guard !(info.rpath.isEmpty && info.runpath.isEmpty) else { return nil }
                return try RunPathEditor.apply(to: target, runPath: "$ORIGIN", durability: .byCaller)
            } catch { throw BottleError(error, at: entry.source ?? target) }
        case .program(let loader, let runPath):
            try copyFile(entry.source ?? "", to: target)
            // The run path edit and the seal: one rewrite of the staged copy.
            do throws(ELFError) {
                var options = sealing
                options.loader = loader
                let (method, change) = try Sealer.seal(target, runPath: runPath, options)
                try change.rewrite?.commit(durability: .byCaller)
                return method
            } catch { throw BottleError(error, at: entry.source ?? target) }
        }
    }

    /// A fresh directory `NAME-XXXXXX` in `parent`, on the file system its files rename into.
    private static func makeStage(in parent: String, named name: String) throws(BottleError) -> String {
        try makeDirectory(parent)
        let made: String
        do { made = try FileSystem.makeUniqueDirectory(prefix: "\(parent)/\(name)-") } catch {
            throw BottleError(parent, .makeStage, system: error)
        }
        // mkdtemp makes it 0700; the bottle it becomes gets the mode any new directory would.
        try? FileSystem.setPermissions(of: made, to: 0o777 & ~FileSystem.creationMask())
        return made
    }

    /// Copies the regular file `source` to `target` (new), keeping its permission bits but no
    /// setuid, setgid or sticky bit: a bottle's files belong to whoever made it.
    static func copyFile(_ source: String, to target: String) throws(BottleError) {
        let input: FileDescriptor
        do { input = try FileDescriptor.open(source, .readOnly, options: .closeOnExec) } catch {
            throw BottleError(source, .open, system: .system(Errno.of(error)))
        }
        defer { try? input.close() }
        guard let st = try? input.status(), st.kind == .regular else { throw BottleError(source, .notRegularFile) }
        let mode = st.permissions & 0o777
        let output = try create(target, mode: mode)
        defer { try? output.close() }
        do { try output.copyContents(of: input, count: UInt64(st.size)) } catch {
            if error == .endOfFile { throw BottleError(source, .shrankWhileCopied) }
            throw BottleError(source, .copy, system: error)
        }
        do { try output.setPermissions(mode) } catch { throw BottleError(target, .chmod, system: error) }
    }

    /// Writes `bytes` to the new file `target` with `mode`.
    private static func writeFile(_ bytes: [UInt8], to target: String, mode: UInt32) throws(BottleError) {
        let fd = try create(target, mode: mode)
        defer { try? fd.close() }
        do { try fd.writeExactly(bytes, at: 0) } catch { throw BottleError(target, .write, system: error) }
        // The mode given to open is masked by the umask: runbottle must be executable by all.
        do { try fd.setPermissions(mode) } catch { throw BottleError(target, .chmod, system: error) }
    }

    /// Creates the new file `target` with `mode` (less the umask), open for writing.
    private static func create(_ target: String, mode: UInt32) throws(BottleError) -> FileDescriptor {
        do {
            return try FileDescriptor.open(target, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec],
                                           permissions: FilePermissions(rawValue: mode))
        } catch { throw BottleError(target, .create, system: .system(Errno.of(error))) }
    }

    /// A root's /tmp: sticky and writable by all, whatever the umask.
    private static func makeTemporaryDirectory(_ path: String) throws(BottleError) {
        try makeDirectory(path)
        do { try FileSystem.setPermissions(of: path, to: 0o1777) } catch { throw BottleError(path, .chmod, system: error) }
    }

    /// True when the staged entry at `a` is what the bottle already has at `b`.
    private static func same(_ a: String, _ b: String, _ kind: BottleEntry.Kind) throws(BottleError) -> Bool {
        guard let sa = try? FileSystem.status(of: a, followingLinks: false),
              let sb = try? FileSystem.status(of: b, followingLinks: false), sa.kind == sb.kind else { return false }
        switch sa.kind {
        case .directory:
            if case .temporaryDirectory = kind { return sa.permissions == sb.permissions }
            return true
        case .symlink:
            return (try? FileSystem.linkTarget(of: a)) == (try? FileSystem.linkTarget(of: b))
        default:
            guard sa.permissions == sb.permissions, sa.size == sb.size else { return false }
            return try sameContents(a, b)
        }
    }

    private static func pathExists(_ path: String) -> Bool {
        (try? FileSystem.status(of: path, followingLinks: false)) != nil
    }

    static func makeDirectory(_ path: String) throws(BottleError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw BottleError(path, .cannotCreateDirectory)
        }
    }

    private static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The manifest: one line per copied file, `PATH<TAB>SOURCE`.
    static func readManifest(_ bottle: String) throws(BottleError) -> [String: String] {
        let path = bottle + "/" + manifestName
        guard let data = (try? FileSystem.contents(of: path)) ?? nil else { return [:] }
        var result: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 1)
            guard fields.count == 2 else { throw BottleError(path, .malformedManifestLine(String(line))) }
            result[String(fields[0])] = String(fields[1])
        }
        return result
    }

    private static func writeManifest(_ sources: [String: String], to path: String) throws(BottleError) {
        let text = sources.sorted { $0.key < $1.key }.map { "\($0.key)\t\($0.value)\n" }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw BottleError(path, .cannotWriteManifest)
        }
    }
}
