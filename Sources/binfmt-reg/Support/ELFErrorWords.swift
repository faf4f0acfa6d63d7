// The ELF engine's errors in words: the engine names the file and the reason as values; these
// are the sentences binfmt-reg prints for them, on stderr and as the JSON problems' messages.
import ELFEngine

extension ELFError {
    /// `<path>: <reason>`.
    var message: String { "\(path): \(reason.message)" }

    var problem: Problem { Problem(reason.code, message, path: path) }
}

extension ELFError.Reason {
    var message: String {
        switch self {
        case .system(let what, let errno): return "\(what): \(errno)"
        case .notRegularFile: return "not a regular file"
        case .notELF: return "not an ELF file"
        case .truncated(let what): return "truncated: \(what)"
        case .corrupt(let what): return "corrupt ELF: \(what)"
        case .foreign(let kind, let host):
            return "not for this machine: \(kind.words), this host runs \(host?.words ?? "unknown")"
        case .noPort(let kind, let supported):
            return "\(kind.words): no runbottle runs this kind of program (runbottle is built for "
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
        case .badLoaderPath(let fault): return "bad loader path: \(fault.words)"
        case .unusableLoader(let loader, let resolved, let fault):
            return "bad loader path: \(loader) (\(resolved)) " + fault.words
        case .badInterpreter(let fault): return "bad interpreter path: \(fault.words)"
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
        case .resultDoesNotParse(let reason, let runPathEdit):
            return "internal error, file left untouched: \(runPathEdit ? "run path edit: " : "")"
                + "the result does not parse: \(reason.message)"
        }
    }
}

extension ELFError.LoaderPathFault {
    var words: String {
        switch self {
        case .empty: return "empty"
        case .absolute(let loader): return "\(loader) is absolute; it must be relative to the binary's directory"
        case .containsNUL: return "contains NUL"
        case .tooLong(let maximum): return "longer than \(maximum) bytes"
        case .bundledNotRegularFile(let loader): return "bundled loader \(loader) is not a regular file"
        case .tooLongForSlot(let path, let bytes, let maximum): return "\(path) is \(bytes) bytes, more than the slot's \(maximum)"
        }
    }
}

extension ELFError.InterpreterPathFault {
    var words: String {
        switch self {
        case .empty: return "empty"
        case .relative(let path): return "\(path) is relative; the kernel needs an absolute path"
        case .containsNUL: return "contains NUL"
        case .tooLong(let bytes, let maximum): return "\(bytes) bytes; the PT_INTERP slot holds at most \(maximum)"
        }
    }
}

extension ELFError.LoaderFault {
    /// What follows "LOADER (RESOLVED)".
    var words: String {
        switch self {
        case .notAFile: return "is not a file"
        case .notELF(let reason): return "is not an ELF loader: \(reason.message)"
        case .notSharedObject: return "is not a loader: not a shared object (ET_DYN)"
        case .otherKind(let loader, let program): return "is for \(loader.words), the program is \(program.words)"
        }
    }
}

extension MachineKind {
    /// "x86-64 64-bit little-endian".
    var words: String {
        "\(ELF.machineName(machine)) \(elfClass == .elf64 ? "64" : "32")-bit \(byteOrder.name)"
    }
}
