// What bottle found, in words: its errors (the system errors that stopped it among them), and the
// notice for each compiled-in path the bottle does not hold.
import Bottling
import ELFEngine
import LinuxOS

extension CompiledPath {
    /// The --include that puts the path where a chroot or an image of the bottle finds it.
    var include: String { "--include \(path)=\(path)" }

    /// One stderr line; -q drops it.
    var notice: String {
        "binfmt-reg: notice: \(file) names \(path), which the bottle does not hold there: add \(include) if it needs it"
    }
}

extension BottleError {
    /// `<path>: <reason>`; a system call's error after what was being done (strerror's words),
    /// or alone and in lower case when the file itself could not be looked at.
    var message: String { "\(path): \(reason.words)" }

    var problem: Problem { Problem(code, message, path: path) }
}

extension BottleError.Reason {
    var words: String {
        switch self {
        case .engine(let reason): return reason.message
        case .needsSysroot(let reason):
            return "\(reason.message): name the root of its loader and libraries with --sysroot (/usr/aarch64-linux-gnu, an arm64 debootstrap root)"
        case .found(let finding): return finding.words
        case .system(.lookUp, let error): return error.words.lowercased()
        case .system(let operation, let error): return "\(operation.words): \(error.words)"
        }
    }
}

extension BottleError.Finding {
    var words: String {
        switch self {
        case .noProgram: return "no program to bottle"
        case .noSuchFile: return "no such file"
        case .notInPath: return "not found in PATH"
        case .alreadySealed: return "already sealed: bottle the program it was sealed from"
        case .privileged(let privilege):
            let what = switch privilege {
            case .setUser: "setuid"
            case .setGroup: "setgid"
            case .capability: "a file capability"
            }
            return "has \(what): bottle refuses privileged programs (seal the installed program in place with binfmt-reg seal, which keeps it)"
        case .sharedLibrary: return "a shared library, not a program: bring it in with --lib or --include"
        case .interpreterNamesNoFile: return "PT_INTERP names no file"
        case .libraryNameNeedsPath(.sysroot): return "with --sysroot, give --lib as a path"
        case .libraryNameNeedsPath(.musl): return "musl's loader has no preload in list mode: give --lib as a path"
        case .preloadNotFound: return "--lib names a library the loader cannot find"
        case .unknownLoader(let loader):
            return "its loader \(loader) is neither glibc's nor musl's: no list mode to find its libraries"
        case .staticallyLinked: return "statically linked: it has no libraries or loader to bottle"
        case .libraryNotFound(let name): return "needs \(name), which the loader cannot find"
        case .loaderFailed(let said, let status):
            return "the loader cannot resolve its libraries: \(said ?? "exit status \(status)")"
        case .cannotRun(let failure): return "cannot run: \(failure.words)"
        case .notInSysroot(let library, let searched):
            return "needs \(library), which is in none of \(searched.joined(separator: ", "))"
        case .includeOutside:
            return "--include needs a file or directory below /, /usr or /usr/local, and a DEST inside the bottle"
        case .unreadableLink: return "cannot read the link"
        case .unlistableDirectory: return "cannot list the directory"
        case .unsupportedFileType: return "neither a file, a directory nor a symlink: cannot go into a bottle"
        case .cannotOpen: return "cannot open"
        case .notRegularFile: return "not a regular file"
        case .shrankWhileCopied: return "copy: file shrank"
        case .cannotCreateDirectory: return "cannot create the directory"
        case .cannotWriteManifest: return "cannot write"
        case .malformedManifestLine(let line): return "malformed line: \(line)"
        case .outputNotDirectory: return "exists and is not a directory"
        case .outputNotBottle:
            return "exists and is not a bottle (\(Bottler.manifestName) missing): name a new or empty directory"
        case .noRunbottleBytes: return "no runbottle bytes to write (--rootfs without them)"
        case .twoFiles(let first, let second): return "two different files for one name: \(first.words) and \(second.words)"
        case .clashWithBottle(let previous, let source, let purpose):
            return "two different files for one name: \(previous) (already in the bottle) and \(source) (\(purpose.words))"
        }
    }
}

extension BottleError.Claim {
    var words: String {
        let source = self.source ?? "?"
        let what = switch kind {
        case .link(let target): "a link to \(target)"
        case .directory: "a directory"
        case .builtInRunbottle: "the runbottle built into binfmt-reg"
        case .program: "the program \(source)"
        case .library: "the library \(source)"
        case .file: "the file \(source)"
        }
        return "\(what) (\(purpose.words))"
    }
}

extension BottleError.Operation {
    var words: String {
        switch self {
        case .lookUp: return ""
        case .stat: return "stat"
        case .open: return "open"
        case .read: return "read"
        case .create: return "create"
        case .write: return "write"
        case .copy: return "copy"
        case .chmod: return "chmod"
        case .symlink: return "symlink"
        case .rename: return "rename"
        case .renameFrom(let stage): return "rename from \(stage)"
        case .renameIntoBottle: return "rename into the bottle"
        case .makeStage: return "cannot create a staging directory"
        }
    }
}

extension Purpose {
    var words: String {
        switch self {
        case .program(let program): return program
        case .loader(let program): return "loader of \(program)"
        case .needed(let by): return "needed by \(by)"
        case .include(let argument): return "--include \(argument)"
        case .rootfs: return "--rootfs"
        }
    }
}

extension RunPathMethod {
    /// How bottle says the run path was set, in its report and its JSON `runPath`.
    var words: String {
        switch self {
        case .unchanged: return "unchanged"
        case .inPlace: return "in place"
        case .belowWritableSegment: return "below the writable segment"
        case .appendedSegment: return "appended segment"
        case .appendedSegmentBeforeSeal: return "appended segment in PT_PHDR's slot, PT_PHDR re-added by the seal"
        }
    }
}
