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
            return error.description
        case .entryDisabled(_, let name):
            return "\(name) is disabled (binfmt-reg enable)"
        case .entryWrongMatch(_, let name, let noteType, let matches):
            return "\(name) does not match BOTTLE note type \(noteType): \(matches ?? "not an ELF magic")"
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
        case .canaryFailed(let label, let user, let failed):
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
        failed.map { "\($0.name): \($0.detail ?? "failed")" }.joined(separator: "; ")
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
        }
    }
}

/// The status report as the JSON documents carry it: the report's keys, and its notices worded
/// as `warnings`.
struct WordedStatus: Encodable {
    var report: StatusReport

    private enum Key: String, CodingKey { case warnings }

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(report.notices.map(\.message), forKey: .warnings)
    }
}
