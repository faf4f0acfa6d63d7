// binfmt_misc's errors and the installer's differences in words: the library names the path,
// the operation and the reason as values; these are the sentences binfmt-reg prints for them.
import BinfmtMisc
import ELFEngine
import LinuxOS

extension BinfmtMiscError {
    var problem: Problem { Problem(code, message, path: path) }

    var message: String {
        switch self {
        case .notAvailable(let path, let reason):
            return "\(path): binfmt_misc is not available: \(reason.words)"
        case .notMounted(let path):
            return "\(path): binfmt_misc is not mounted"
        case .notPermitted(let path, let what):
            // Root refused is root of a namespace that does not own this binfmt_misc: no run as
            // root helps there.
            return Identity.isRoot
                ? "\(path): \(what.words): permission denied, though running as root: this namespace lacks the privilege (a container needs --privileged or --cap-add SYS_ADMIN; a user namespace before Linux 6.7 has no binfmt_misc of its own)"
                : "\(path): \(what.words): permission denied (run as root)"
        case .failed(let path, let what, let reason):
            return "\(path): \(what.words): \(reason.words)"
        case .foreignEntry(let path, let what, let interpreter):
            return "\(path): \(what.words): an entry of this name that binfmt-reg did not register (interpreter \(interpreter)): --force \(what == .install ? "replaces" : "removes") it"
        case .notRegistered(let path, let what):
            return "\(path): \(what.words): not registered (run binfmt-reg install)"
        case .badInterpreter(let path, let reason):
            return "\(path): interpreter: \(reason.words)"
        case .invalid(let error):
            return error.message
        case .notRestored(let error, let lost):
            return "\(error.message); putting back the previous state failed: \(lost.map(\.words).joined(separator: "; "))"
        }
    }
}

extension BinfmtMiscError.Operation {
    var words: String {
        switch self {
        case .read: return "read"
        case .open: return "open"
        case .lock: return "lock"
        case .write: return "write"
        case .remove: return "remove"
        case .createDirectory: return "create directory"
        case .mask: return "mask"
        case .mountBinfmtMisc: return "mount binfmt_misc"
        case .listEntries: return "list entries"
        case .register(let entry): return "register \(entry)"
        case .removeEntry(let entry): return "remove \(entry)"
        case .enableEntry(let entry): return "enable \(entry)"
        case .disableEntry(let entry): return "disable \(entry)"
        case .readCapability: return "read file capability"
        case .removeCapability: return "remove file capability"
        case .setCapability(let text): return "set file capability" + (text.map { " " + $0 } ?? "")
        // The engine names its own step: worded as its errors are (ELFErrorWords).
        case .writer(let step): return step.words
        }
    }
}

extension BinfmtMiscError.Command {
    var words: String {
        switch self {
        case .install: return "install"
        case .uninstall: return "uninstall"
        case .enable: return "enable"
        case .disable: return "disable"
        }
    }
}

extension BinfmtMiscError.Unavailability {
    var words: String {
        switch self {
        case .missing(let error):
            return "the kernel has no binfmt_misc (CONFIG_BINFMT_MISC) or /proc is not mounted (\(error))"
        case .mount(let error): return "mount: \(error)"
        }
    }
}

extension BinfmtMiscError.Failure {
    var words: String {
        switch self {
        case .system(let error): return error.description
        // What binfmt_misc means by each errno a write returns (fs/binfmt_misc.c).
        case .refusedWrite(let error):
            switch error {
            case .fileExists: return "an entry of that name exists (\(error))"
            case .invalidArgument: return "the kernel refused the line (\(error))"
            case .noSuchFileOrDirectory:
                return "the interpreter does not exist; with F the kernel opens it at registration (\(error))"
            case .permissionDenied:
                return "the kernel cannot execute the interpreter; with F it opens it at registration: a noexec mount or a missing execute bit (\(error))"
            case .notPermitted: return "not permitted (\(error)): run as root"
            default: return error.description
            }
        case .shortWrite(let written, let count): return "short write (\(written) of \(count) bytes)"
        case .engine(let reason): return reason.message
        case .capabilityText: return "cap_to_text failed"
        case .capabilityUnparsable(let text): return "libcap cannot parse \"\(text)\""
        }
    }
}

extension BinfmtMiscError.InterpreterFault {
    var words: String {
        switch self {
        case .missing(let error): return error.description
        case .notExecutable: return "not an executable regular file"
        case .matchesItself(let entry):
            return "entry \(entry) would match its own interpreter (a sealed file): every exec it takes would fail with ELOOP"
        }
    }
}

extension BinfmtMiscError.LostStep {
    /// "what could not be put back: why".
    var words: String {
        let what = switch step {
        case .remove(let name): "remove \(name)"
        case .disable(let name): "disable \(name)"
        case .disableAgain(let name): "disable \(name) again"
        case .registerAgain(let name): "register \(name) again, it is gone"
        }
        return "\(what): \(error.message)"
    }
}

extension RegistrationError {
    var problem: Problem { Problem(code, message) }

    /// "invalid registration: <what>".
    var message: String { "invalid registration: \(words)" }

    private var words: String {
        switch self {
        case .emptyName: return "the entry name is empty"
        case .reservedName(let name): return "entry name \"\(name)\" is reserved by binfmt_misc"
        case .nameWithSeparator(let name): return "entry name \"\(name)\" contains '/' or ':'"
        case .nameWithBlank(let name): return "entry name \"\(name)\" contains a space or a control character"
        case .nameTooLong(let limit): return "entry name is longer than \(limit) bytes"
        case .notAnEntry(let name): return "entry name \"\(name)\" is not an entry"
        case .relativeInterpreter(let path): return "interpreter \"\(path)\" is not an absolute path"
        case .interpreterWithSeparator(let path): return "interpreter \"\(path)\" contains ':' or a control character"
        case .credentialsWithoutOpen: return "flag C requires O (the kernel sets both)"
        case .emptyMagic: return "the magic is empty"
        case .maskLength(let mask, let magic): return "the mask has \(mask) bytes, the magic \(magic)"
        case .magicBeyond(let offset, let length, let end, let portable):
            return "offset \(offset) + magic \(length) bytes exceeds \(end) (the first bytes binfmt_misc sees\(portable ? " before Linux 5.1" : ""))"
        case .badExtension(let ext): return "extension \"\(ext)\" is empty or contains '/' or ':'"
        case .lineTooLong(let length, let limit): return "the line is \(length) bytes; binfmt_misc accepts at most \(limit)"
        case .emptyLine: return "empty line"
        case .fieldCount(let delimiter, let found): return "expected 7 fields separated by '\(delimiter)', found \(found)"
        case .unknownFlag(let letters): return "unknown flag in \"\(letters)\" (known: P, O, C, F)"
        case .badOffset(let text): return "offset \"\(text)\" is not a non-negative number"
        case .badType(let text): return "type \"\(text)\" is neither M nor E"
        case .badEscape(let text): return "bad \\x escape in \"\(text)\""
        case .flagsLackPOC(let flags):
            return "flags \(flags) lack P, O or C: runbottle needs the original argv[0] (P), the binary's descriptor, AT_EXECFD (O), and the binary's own credentials (C)"
        case .unknownMachine(let machine, let known):
            return "machine \(machine): no BOTTLE entry is defined for it (known: \(known.joined(separator: ", ")))"
        case .statusFlags(let name, let value): return "\(name): unknown flags \"\(value)\""
        case .statusMask(let name, let value): return "\(name): bad mask \"\(value)\""
        case .statusIncomplete(let name):
            return "\(name): not a binfmt_misc entry status (missing state, interpreter or flags)"
        case .statusWithoutMatch(let name): return "\(name): neither a magic with its offset nor an extension"
        }
    }
}

extension RegistrationDifference {
    /// "field old → new".
    var words: String {
        switch self {
        case .interpreter(let old, let new): return "interpreter \(old) → \(new)"
        case .flags(let old, let new):
            return "flags \(old.description.isEmpty ? "(none)" : old.description) → \(new)"
        case .offset(let old, let new): return "offset \(old) → \(new)"
        case .magic(let old, let new):
            return "magic/mask: \(old?.words ?? "not a BOTTLE magic") → \(new?.words ?? "not a BOTTLE magic")"
        case .type(let old, let new): return "type \(old) → \(new)"
        }
    }
}
