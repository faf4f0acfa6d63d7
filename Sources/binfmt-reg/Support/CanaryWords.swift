// The canary's failed checks in words: the library reports what each check expected and saw;
// these are the details binfmt-reg prints and puts in status --json's `detail`.
import BinfmtMisc
import ELFEngine

extension CanaryFailure {
    /// One line: the program's output, quoted in it, has its newlines written as " | ".
    var detail: String {
        switch self {
        case .temporaryDirectory, .files, .seal, .exec, .spawn, .timedOut, .programRanItself, .exitStatus, .reportCutShort:
            return words.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: " | ")
        default:
            return words
        }
    }

    private var words: String {
        switch self {
        case .temporaryDirectory(let directory, let errno): return "\(directory): mkdtemp: \(errno)"
        case .files(let error): return error.message
        case .seal(let error): return error.message
        case .exec(let path, let errno, let hint): return "execve \(path): \(errno)" + (hint?.words ?? "")
        case .spawn(let call, let errno): return "\(call): \(errno)"
        case .timedOut(let seconds): return "the canary did not finish within \(seconds) s (killed)"
        case .programRanItself(let output):
            return "the program's own code ran: nothing loaded the canary loader" + Self.quoted(output)
        case .exitStatus(let status, let output):
            return "exit status \(status >> 8), signal \(status & 0x7f)" + Self.quoted(output)
        case .reportCutShort(let output): return "the canary loader's report is missing or cut short: \(output)"
        case .argv(let seen, let expected): return "loader saw \(seen), expected \(expected)"
        case .explicitMode(let exe):
            return "runbottle ran the loader in its explicit mode under the PT_INTERP dispatch: /proc/self/exe names \(exe)"
        case .programPath(let seen, let expected): return "the loader was given \(seen), expected \(expected)"
        case .exe(let seen, let expected): return "names \(seen), expected \(expected)"
        case .loaderBase(let atBase, let loaderAt): return "AT_BASE \(atBase), the canary loader is at \(loaderAt)"
        case .programMapping(let what): return "AT_PHDR/AT_ENTRY/AT_PHNUM against the mapped program: \(what)"
        case .execFD(let value): return "AT_EXECFD is \(value) in the loader's auxv"
        case .descriptorsLeaked(let leaked):
            return "the binary's descriptor leaked into the program: fd \(leaked.joined(separator: ", "))"
        case .secure(let value): return "AT_SECURE is \(value) for an ordinary program"
        case .comm(let value): return "/proc/self/comm is \(value)"
        case .cmdline(let seen, let expected): return "/proc/self/cmdline is \(seen), expected \(expected)"
        }
    }

    private static func quoted(_ output: String) -> String { output.isEmpty ? "" : "; output: \(output)" }
}

extension CanaryFailure.ExecHint {
    /// What follows the failed exec, in parentheses.
    var words: String {
        switch self {
        case .slotMissing(let slot): return " (its PT_INTERP slot names \(slot), which does not exist here)"
        case .noEntry:
            return " (no entry took it, so the kernel looked for the interpreter its PT_INTERP slot names, which does not exist; or the entry's interpreter is missing and the entry has no F)"
        case .interpreterNotExecutable: return " (the interpreter is not an executable the kernel can run)"
        case .noexec(let path): return " (is \(path)'s file system mounted noexec? set TMPDIR)"
        }
    }
}

extension CanaryCheck {
    /// What a failed check saw, or "failed".
    var words: String { failure?.detail ?? detail ?? "failed" }
}
