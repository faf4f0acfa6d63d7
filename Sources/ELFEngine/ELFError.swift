// The engine's typed errors: every one names the file and says what failed and why.
import SystemPackage

/// An error about one file: the file and what went wrong with it (binfmt-reg words it).
public struct ELFError: Error, Sendable, Equatable {
    public var path: String
    public var reason: Reason

    public init(_ path: String, _ reason: Reason) {
        self.path = path
        self.reason = reason
    }

    /// What went wrong. The cases the CLI treats as "nothing to do" rather than failures are
    /// `notELF`, `notExecutable`, `staticExecutable`, `sharedLibrary` and `notSealed` (see
    /// `isSkip(explicit:)`).
    public indirect enum Reason: Sendable, Equatable {
        /// A system call failed: what was being done, and errno.
        case system(Operation, Errno)
        case notRegularFile
        case notELF
        case truncated(Truncation)
        case corrupt(Corruption)
        /// A kind of program this host cannot run; `host`: the kind it runs natively (nil:
        /// none known).
        case foreign(MachineKind, host: MachineKind?)
        /// A kind of program no runbottle is built for; `supported`: the ports' names.
        case noPort(MachineKind, supported: [String])
        case staticExecutable(StaticKind)
        /// A shared library; `hasInterpreter`: one with a PT_INTERP (libc.so.6), which
        /// --shared-libraries would seal.
        case sharedLibrary(hasInterpreter: Bool)
        /// An ELF file that is not an executable at all (object file, core dump): its e_type.
        case notExecutable(eType: UInt16)
        case unsupportedLayout(Layout)
        case noteDoesNotFit(need: Int, have: Int)
        case loaderNotFound(basename: String, searched: [String])
        case badLoaderPath(LoaderPathFault)
        /// A loader named with --loader (`loader`, found at `resolved`) that cannot load the program.
        case unusableLoader(loader: String, resolved: String, LoaderFault)
        /// A program interpreter (--interpreter) the PT_INTERP slot cannot name.
        case badInterpreter(InterpreterPathFault)
        case alreadySealed
        case notSealed
        /// A sealed layout whose note or PT_INTERP slot was destroyed (by strip or objcopy).
        case damagedSeal(SealDamage)
        case hardLinks(UInt64)
        case changedMeanwhile
        case verificationFailed(Verification)
        /// The rewritten bytes do not parse (an internal error; the file is left untouched);
        /// `runPathEdit`: they were a run path edit's.
        case resultDoesNotParse(Reason, runPathEdit: Bool)
    }

    /// Why a loader path cannot go in a BOTTLE note or a PT_INTERP slot.
    public enum LoaderPathFault: Sendable, Equatable {
        case empty
        /// An absolute path: a note's loader is relative to the binary's directory.
        case absolute(String)
        case containsNUL
        /// Longer than a note's loader path may be.
        case tooLong(maximum: Int)
        /// The bundled loader (as shown) is not a regular file.
        case bundledNotRegularFile(String)
        /// The loader's absolute path is `bytes` long, more than the PT_INTERP slot holds.
        case tooLongForSlot(String, bytes: Int, maximum: Int)
    }

    /// Why a path cannot be the program interpreter a PT_INTERP slot names.
    public enum InterpreterPathFault: Sendable, Equatable {
        case empty
        /// A relative path: the kernel would look it up from the working directory.
        case relative(String)
        case containsNUL
        /// `bytes` long; the slot holds at most `maximum` (and a NUL).
        case tooLong(bytes: Int, maximum: Int)
    }

    /// Why a named loader cannot load the program.
    public enum LoaderFault: Sendable, Equatable {
        case notAFile
        /// The file is no ELF image it can parse, for this reason.
        case notELF(Reason)
        /// An ELF file, not a shared object (ET_DYN).
        case notSharedObject
        /// A loader of another kind than the program.
        case otherKind(loader: MachineKind, program: MachineKind)
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
