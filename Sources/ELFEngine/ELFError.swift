// The engine's typed errors: every one names the file and says what failed and why.
import SystemPackage

/// An error about one file: `<path>: <reason>`.
public struct ELFError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var reason: Reason

    public init(_ path: String, _ reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }

    /// What went wrong. The cases the CLI treats as "nothing to do" rather than failures are
    /// `notELF`, `notExecutable`, `staticExecutable`, `sharedLibrary` and `notSealed` (see
    /// `isSkip(explicit:)`).
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// A system call failed: what was being done, and errno.
        case system(String, Errno)
        case notRegularFile
        case notELF
        case truncated(String)
        case corrupt(String)
        /// Class, byte order or machine this host cannot run.
        case foreign(String)
        /// Class, byte order or machine no runbottle is built for.
        case noPort(String, supported: [String])
        case staticExecutable(String)
        /// A shared library; `hasInterpreter`: one with a PT_INTERP (libc.so.6), which
        /// --shared-libraries would seal.
        case sharedLibrary(hasInterpreter: Bool)
        /// An ELF file that is not an executable at all (object file, core dump).
        case notExecutable(String)
        case unsupportedLayout(String)
        case noteDoesNotFit(need: Int, have: Int)
        case loaderNotFound(basename: String, searched: [String])
        case badLoaderPath(String)
        /// A program interpreter (--interpreter) the PT_INTERP slot cannot name.
        case badInterpreter(String)
        case alreadySealed
        case notSealed
        /// A sealed layout whose note or PT_INTERP slot was destroyed (by strip or objcopy).
        case damagedSeal(String)
        case hardLinks(UInt64)
        case changedMeanwhile
        case verificationFailed(String)

        public var description: String {
            switch self {
            case .system(let what, let errno): return "\(what): \(errno)"
            case .notRegularFile: return "not a regular file"
            case .notELF: return "not an ELF file"
            case .truncated(let what): return "truncated: \(what)"
            case .corrupt(let what): return "corrupt ELF: \(what)"
            case .foreign(let what): return "not for this machine: \(what)"
            case .noPort(let what, let supported):
                return "\(what): no runbottle runs this kind of program (runbottle is built for "
                    + "64-bit \(supported.joined(separator: " and ")) programs only)"
            case .staticExecutable(let what): return "statically linked (\(what))"
            case .sharedLibrary(let hasInterpreter):
                return hasInterpreter ? "a shared library with a PT_INTERP (seal it with --shared-libraries)" : "a shared library"
            case .notExecutable(let what): return "not an executable (\(what))"
            case .unsupportedLayout(let what): return "cannot seal this layout: \(what)"
            case .noteDoesNotFit(let need, let have):
                return "cannot seal: the BOTTLE note needs \(need) bytes after the ELF header, "
                    + "the old program header table leaves \(have) (use a shorter loader path)"
            case .loaderNotFound(let name, let searched):
                return "no loader \(name) found (searched \(searched.joined(separator: ", "))); "
                    + "name it with --loader"
            case .badLoaderPath(let what): return "bad loader path: \(what)"
            case .badInterpreter(let what): return "bad interpreter path: \(what)"
            case .alreadySealed: return "already sealed"
            case .notSealed: return "not sealed"
            case .damagedSeal(let what):
                return "sealed layout damaged (\(what)), as strip or objcopy leave it: "
                    + "reseal from the unstripped file"
            case .hardLinks(let count):
                return "has \(count) hard links; replacing it would split them "
                    + "(use --allow-hard-links to seal this name only)"
            case .changedMeanwhile: return "changed while being rewritten; left as it is now"
            case .verificationFailed(let what): return "internal error, file left untouched: \(what)"
            }
        }
    }

    /// The one rule for what a command passes over rather than counts as a failure: a file that
    /// is not a program it works on (not ELF, static, a library, an object file; for relocate,
    /// not sealed). Found in a directory, every such file is skipped; named on the command line,
    /// one that is not ELF at all or not sealed is a failure: the user meant that very file.
    public func isSkip(explicit: Bool) -> Bool {
        switch reason {
        case .staticExecutable, .sharedLibrary, .notExecutable: return true
        case .notELF, .notSealed: return !explicit
        default: return false
        }
    }
}
