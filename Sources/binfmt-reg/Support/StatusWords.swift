// status's findings and notices in words: the library reports what it found as values; these
// are the sentences binfmt-reg prints for them, in the text report, as the JSON problems'
// messages and as the JSON warnings.
import BinfmtMisc
import ELFEngine

extension StatusFinding {
    var problem: Problem { Problem(code, message, path: path) }

    var message: String {
        switch self {
        case .binfmtMiscDisabled(let directory):
            return "binfmt_misc is disabled globally (\(directory)/status says disabled)"
        case .unreadable(let error):
            return error.message
        case .entryDisabled(_, let name):
            return "\(name) is disabled (binfmt-reg enable)"
        case .entryWrongMatch(_, let name, let noteType, let matches):
            return "\(name) does not match BOTTLE note type \(noteType): \(matches?.words ?? "not an ELF magic")"
        case .entryWithoutPO(_, let name, let flags):
            return "\(name) has flags \(flags); runbottle needs P and O"
        case .entryWithoutC(_, let name, let flags):
            return "\(name) has flags \(flags), without C: setuid and file-capability programs lose their privileges through it (binfmt-reg install registers POCF)"
        case .entryNotRegistered(_, let name):
            return "\(name) is not registered (binfmt-reg install)"
        case .interpreterUnusable(let path):
            return "interpreter \(path) is missing or not executable: sealed binaries fail with ENOENT"
        case .interpreterCapability(let path, let capability):
            return "interpreter \(path) carries the file capability \(capability): running it directly is a privilege-gaining exec for ordinary users (binfmt-reg install removes it)"
        case .canaryFailed(let route, let user, let failed):
            let label = switch route {
            case .entry(let name): name
            case .hostEntry: "an entry of the host"
            case .interpDispatch: "the PT_INTERP dispatch"
            }
            return "canary through \(label)\(user.map { " as uid \($0)" } ?? "") failed: \(Self.words(failed))"
        case .notMountedNoEntry(let directory, let failed):
            return "binfmt_misc is not mounted at \(directory), and no entry took a sealed canary (binfmt dispatch): \(Self.words(failed)) (binfmt-reg install mounts it and registers the entries; a container uses its host's entries, registered there with F)"
        case .notMounted(let directory):
            return "binfmt_misc is not mounted at \(directory) (binfmt-reg install mounts it)"
        case .runbottleMissing(let path):
            return "runbottle is missing at \(path): sealed binaries with the PT_INTERP dispatch (seal's default) fail with ENOENT here (binfmt-reg install puts it there)"
        case .runbottleNotExecutable(let path):
            return "\(path) is not an executable regular file: sealed binaries with the PT_INTERP dispatch (seal's default) fail here"
        case .persistenceMasked(let path):
            return "\(path) is masked (a link to /dev/null): the enabled entries will not come back after a reboot (binfmt-reg enable writes it)"
        case .persistenceMissing(let path):
            return "\(path) is missing: the entries will not come back after a reboot"
        case .persistenceDiffers(let path):
            return "\(path) differs from the registered entries: a reboot would register something else"
        case .conflictingEntry(_, let name, let interpreter):
            return "entry \(name) (\(interpreter)) also matches sealed binaries and takes them first (the newest registration wins): remove or disable it, or run binfmt-reg install --reregister to put ours ahead of it"
        }
    }

    /// The canary's failed checks, as "name: what it saw", one after another.
    private static func words(_ failed: [CanaryCheck]) -> String {
        failed.map { "\($0.name): \($0.words)" }.joined(separator: "; ")
    }
}

extension StatusNotice {
    var message: String {
        switch self {
        case .privilegedEntryNotRegistered(let name):
            return "\(name) is not registered: binfmt-dispatched binaries sealed as privileged (setuid, setgid, file capabilities) run through their PT_INTERP slot"
        case .interpreterMissingButFixed(let path):
            return "interpreter \(path) is missing here; the entries use F, so the kernel keeps the file it opened at registration"
        case .servedByHostEntry(let directory):
            return "binfmt_misc is not visible at \(directory), but an entry registered outside this mount namespace (the host's) took a sealed canary: binfmt-dispatched binaries run here through it; its flags and interpreter cannot be read from here"
        case .explicitModeForOrdinaryUsers(let uid):
            return "for ordinary users (uid \(uid)) the binfmt dispatch runs the loader in explicit mode: /proc/self/exe names runbottle (argv and $ORIGIN stay right); the PT_INTERP dispatch, seal's default, is native for them"
        case .canaryRanAsCallerOnly(let uid):
            return "the canary ran as uid \(uid) only; run status as root where uid 65534 exists to check what ordinary users get"
        case .shadowedEntry(let name, let interpreter):
            return "entry \(name) (\(interpreter)) also matches sealed binaries; ours wins now, but it would take them if it were registered again"
        case .trampolineInMemfd(let entry):
            return "entry \(entry): its runbottle is another build's and does not take the trampoline this binfmt-reg seals into PT_INTERP slots, so every exec through it copies its own into a memfd (about 20 µs more; bottle(5)): binfmt-reg install writes this build's runbottle and registers the entry again"
        }
    }
}

extension StatusReport {
    /// The report with its text fields filled in: what each entry's magic matches, what each
    /// dispatch gives, what each failed canary check saw.
    var worded: StatusReport {
        var report = self
        for index in report.entries.indices {
            report.entries[index].matchesSummary = report.entries[index].matches?.words
        }
        for index in report.dispatches.indices {
            report.dispatches[index].summary = report.dispatches[index].basis?.words ?? report.dispatches[index].summary
        }
        report.canary = report.canary.map(\.worded)
        report.interpDispatch.canary = report.interpDispatch.canary.map(\.worded)
        return report
    }
}

extension CanaryResult {
    /// Each failed check's `detail` filled in.
    var worded: CanaryResult {
        var result = self
        for index in result.checks.indices where result.checks[index].failure != nil {
            result.checks[index].detail = result.checks[index].failure?.detail
        }
        return result
    }
}

extension SealMatch {
    /// One line: "ELFCLASS64 little-endian x86_64 (e_machine 62), BOTTLE note type 1 (ordinary)".
    var words: String {
        var parts: [String] = []
        parts.append(elfClass.map { "ELFCLASS\($0)" } ?? "any ELF class")
        parts.append(bigEndian.map { $0 ? "big-endian" : "little-endian" } ?? "any byte order")
        if let machine {
            let name = HostArchitecture.known.first { $0.machine == machine }?.name
            parts.append(name.map { "\($0) (e_machine \(machine))" } ?? "e_machine \(machine)")
        } else {
            parts.append("any e_machine")
        }
        var text = parts.joined(separator: " ")
        if bottleNote {
            switch noteType.flatMap(SealFormat.NoteType.init(rawValue:)) {
            case .ordinary?: text += ", BOTTLE note type 1 (ordinary)"
            case .privileged?: text += ", BOTTLE note type 2 (privileged)"
            case .interp?: text += ", BOTTLE note type 3 (PT_INTERP dispatch: no entry should match it)"
            case nil: text += noteType.map { ", BOTTLE note type \($0) (unknown)" } ?? ", any BOTTLE note"
            }
        } else {
            text += ", not a BOTTLE note"
        }
        return text
    }
}

extension StatusReport.DispatchSummary.Basis {
    /// What a dispatch gives, in one line.
    var words: String {
        switch self {
        case .noCanary: return "no canary ran"
        case .interpreterUnusable(let path, let present): return "\(path) is \(present ? "not executable" : "missing") here"
        case .noEntryTookIt: return "binfmt_misc is not visible here and no entry took the canary"
        case .noEnabledEntry:
            return "no enabled entry: binfmt-dispatched binaries run through their PT_INTERP slot, as with the PT_INTERP dispatch"
        case .canaries(let through, let native, let explicit, let failed):
            let route = switch through {
            case .interpreter(let path): path
            case .hostEntry: "an entry of the host"
            case .entries(let names): names.joined(separator: " and ")
            }
            var parts: [String] = []
            for (text, users) in [("native", native),
                                  ("the loader's explicit mode (/proc/self/exe names runbottle)", explicit),
                                  ("failed", failed)] where !users.isEmpty {
                parts.append("\(text) for \(users.map { "uid \($0)" }.joined(separator: " and "))")
            }
            return "through \(route): " + parts.joined(separator: "; ")
        }
    }
}

/// The status report as the JSON documents carry it: the report's keys (`StatusCommand.probe`
/// worded its text fields), and its notices worded as `warnings`.
struct WordedStatus: Encodable {
    var report: StatusReport

    private enum Key: String, CodingKey { case warnings }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(report.notices.map(\.message), forKey: .warnings)
    }
}
