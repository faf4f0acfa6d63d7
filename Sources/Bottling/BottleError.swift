// What stopped a bottle, as values: the file, what bottling found or was doing, and the values
// involved. binfmt-reg words them (BottleWords).
import ELFEngine
import LinuxOS

/// An error about one file or name while bottling: the file and why.
public struct BottleError: ProblemError, Sendable, Equatable {
    public var path: String
    public var reason: Reason
    /// The ELF engine's code when a file's error stopped the bottle; the finding's otherwise.
    public var code: ProblemCode

    public enum Reason: Sendable, Equatable {
        /// The ELF engine's reason about the file.
        case engine(ELFError.Reason)
        /// A program of a kind this host cannot run (the engine's reason), given without --sysroot.
        case needsSysroot(ELFError.Reason)
        /// What bottling found about the file.
        case found(Finding)
        /// A system call failed on the file while doing the operation.
        case system(Operation, OSError)
    }

    /// What bottling found wrong with a file, a name or the request.
    public enum Finding: Sendable, Equatable {
        case noProgram
        /// A path that names nothing.
        case noSuchFile
        case notInPath
        case alreadySealed
        case privileged(Privilege)
        case sharedLibrary
        /// PT_INTERP ends in a slash.
        case interpreterNamesNoFile
        /// --lib by name, where no loader's preload can resolve it.
        case libraryNameNeedsPath(NameLookup)
        /// A --lib name glibc's loader did not preload.
        case preloadNotFound
        /// The loader is neither glibc's nor musl's.
        case unknownLoader(String)
        /// A program with no DT_NEEDED, as the loader's list mode says.
        case staticallyLinked
        /// A DT_NEEDED name the loader's list mode did not find.
        case libraryNotFound(String)
        /// The loader's list mode failed: its first line of error output (its own words,
        /// shortened to the part after "error while loading shared libraries: "), or its status.
        case loaderFailed(said: String?, status: Int32)
        /// The loader could not be started.
        case cannotRun(Subprocess.Failure)
        /// A DT_NEEDED name in none of the directories searched under --sysroot.
        case notInSysroot(library: String, searched: [String])
        /// An --include outside /, /usr or /usr/local, or a DEST outside the bottle.
        case includeOutside
        case unreadableLink
        case unlistableDirectory
        /// Neither a file, a directory nor a symlink.
        case unsupportedFileType
        case cannotOpen
        case notRegularFile
        /// The file got shorter while it was copied.
        case shrankWhileCopied
        case cannotCreateDirectory
        case cannotWriteManifest
        case malformedManifestLine(String)
        /// DIR is a file.
        case outputNotDirectory
        /// DIR holds files and no manifest.
        case outputNotBottle
        /// --rootfs planned runbottle, and the request held none of its bytes.
        case noRunbottleBytes
        /// One name in the bottle, two different files for it.
        case twoFiles(Claim, Claim)
        /// A name the bottle already holds from another file.
        case clashWithBottle(previous: String, source: String, purpose: Purpose)

        /// The problem code of a bottle this finding stopped.
        public var code: ProblemCode {
            switch self {
            case .noSuchFile, .notInPath: return .notFound
            case .alreadySealed: return .alreadySealed
            case .sharedLibrary: return .sharedLibrary
            default: return .bottleFailed
            }
        }
    }

    /// The privilege bottle refuses to copy.
    public enum Privilege: Sendable, Equatable { case setUser, setGroup, capability }

    /// Where --lib by name cannot be resolved.
    public enum NameLookup: Sendable, Equatable { case sysroot, musl }

    /// What bottling was doing when a system call failed.
    public enum Operation: Sendable, Equatable {
        /// Looking at the file itself (resolving or stat'ing it).
        case lookUp
        case stat, open, read, create, write, copy, chmod, symlink, rename
        case renameFrom(String)
        case renameIntoBottle
        case makeStage
    }

    /// One of two claims on a name of the bottle: what the file is, and why it is there.
    public struct Claim: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case link(target: String), directory, builtInRunbottle, program, library, file
        }
        public var kind: Kind
        /// The file it is made from, for programs, libraries and files.
        public var source: String?
        public var purpose: Purpose
    }

    public init(_ path: String, _ reason: Reason, code: ProblemCode = .bottleFailed) {
        self.path = path
        self.reason = reason
        self.code = code
    }

    init(_ path: String, _ finding: Finding) { self.init(path, .found(finding), code: finding.code) }

    /// A system call failed on `path` while doing `operation`.
    init(_ path: String, _ operation: Operation, system: OSError) { self.init(path, .system(operation, system)) }

    init(_ error: ELFError) { self.init(error, at: error.path) }

    /// The engine's error about a staged copy, named by `path` (the file it was copied from).
    init(_ error: ELFError, at path: String) { self.init(path, .engine(error.reason), code: error.reason.code) }
}

/// Why a file is in the bottle: the program that needs it, or the option.
public enum Purpose: Sendable, Equatable {
    /// The program given on the command line, as it was given.
    case program(String)
    case loader(of: String)
    case needed(by: String)
    /// The --include argument, as it was given.
    case include(String)
    case rootfs
}
