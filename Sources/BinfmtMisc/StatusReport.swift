// binfmt-reg status as a value: the kernel, binfmt_misc, our entries, the interpreter, the
// persistence file, conflicting entries, the canaries of both dispatches and what each dispatch
// gives here, each with a verdict.
import ELFEngine

public struct StatusReport: Sendable, Codable {
    public struct Kernel: Sendable, Codable {
        public var release: String
        public var machine: String
        /// CAP_CHECKPOINT_RESTORE exists (Linux 5.9+).
        public var checkpointRestore: Bool
    }

    public struct BinfmtMiscState: Sendable, Codable {
        public var directory: String
        public var mounted: Bool
        /// The global switch (its `status` file); nil when not mounted.
        @NullIfAbsent public var enabled: Bool? = nil
        /// Whose instance this is: "host" (the initial user namespace's, which containers
        /// without a user namespace of their own share) or "user-namespace" (Linux 6.7 gives
        /// each user namespace that mounts binfmt_misc its own).
        public var instance: String
    }

    public struct Entry: Sendable, Codable {
        public var name: String
        /// "ordinary" (note type 1) or "privileged" (note type 2).
        public var role: String
        /// Nil when it cannot be known: binfmt_misc is not mounted in this mount namespace.
        @NullIfAbsent public var registered: Bool? = nil
        @NullIfAbsent public var enabled: Bool? = nil
        @NullIfAbsent public var interpreter: String? = nil
        @NullIfAbsent public var flags: RegistrationFlags? = nil
        @NullIfAbsent public var offset: Int? = nil
        @NullIfAbsent public var magic: String? = nil
        @NullIfAbsent public var mask: String? = nil
        /// What the magic and mask match, decoded.
        @NullIfAbsent public var matches: SealMatch? = nil
        /// `matches` in words: binfmt-reg fills it in (the probe leaves it nil).
        @NullIfAbsent public var matchesSummary: String? = nil
        /// The registration line that produces this entry.
        @NullIfAbsent public var line: String? = nil
    }

    public struct Interpreter: Sendable, Codable {
        public var path: String
        public var present: Bool
        public var executable: Bool
        @NullIfAbsent public var capability: String? = nil
    }

    public struct Persistence: Sendable, Codable {
        public var path: String
        public var present: Bool
        /// The file holds exactly the registered entries' lines.
        public var matchesRegistered: Bool
        /// Another binfmt.d file of the same name that systemd-binfmt would read instead or too.
        public var otherFiles: [String]
        /// The file is a link to /dev/null (binfmt.d(5)'s mask): a reboot registers nothing.
        public var masked: Bool
    }

    public struct Conflict: Sendable, Codable {
        public var name: String
        public var interpreter: String
        /// Which of our entries' binaries it also matches ("ordinary", "privileged").
        public var overlaps: [String]
        /// True when the canary shows it takes sealed binaries before ours (registered later).
        public var winning: Bool
    }

    /// The PT_INTERP dispatch (note type 3, seal's default): no entry takes the binary; the
    /// kernel executes it and starts the interpreter its PT_INTERP slot names, runbottle.
    public struct InterpDispatch: Sendable, Codable {
        /// The path sealed binaries' slots name (SealFormat.runbottlePath), in this mount namespace.
        public var interpreter: String
        public var present: Bool
        public var executable: Bool
        @NullIfAbsent public var capability: String? = nil
        /// Note type 3 canaries, as the caller and as an ordinary user.
        public var canary: [CanaryResult]
    }

    /// What one dispatch gives where status runs.
    public struct DispatchSummary: Sendable, Codable {
        /// "interp" or "binfmt".
        public var dispatch: String
        /// "native" (every canary ran as a native exec), "explicit" (it ran, but for some user
        /// runbottle ran the loader in its explicit mode: /proc/self/exe names runbottle),
        /// "failed", "none" (no entry here; binfmt-dispatched binaries use their PT_INTERP
        /// slot), or "unchecked" (no canary ran).
        public var outcome: String
        /// What the outcome rests on; nil in a report decoded from a document.
        public var basis: Basis? = nil
        /// `basis` in one line: binfmt-reg fills it in (the probe leaves it empty).
        public var summary = ""

        public init(dispatch: String, outcome: String, basis: Basis) {
            self.dispatch = dispatch
            self.outcome = outcome
            self.basis = basis
        }

        private enum CodingKeys: String, CodingKey { case dispatch, outcome, summary }

        public enum Basis: Sendable, Equatable {
            /// status ran no canary.
            case noCanary
            /// The interpreter the slots name is missing (`present` false) or not executable.
            case interpreterUnusable(String, present: Bool)
            /// binfmt_misc is not visible here and no entry took the canary.
            case noEntryTookIt
            /// No enabled entry: binfmt-dispatched binaries run through their PT_INTERP slot.
            case noEnabledEntry
            /// The canaries ran `through` these; the users each outcome was the worst for.
            case canaries(through: Route, native: [UInt32], explicit: [UInt32], failed: [UInt32])
        }

        /// What the canaries ran through.
        public enum Route: Sendable, Equatable {
            /// The interpreter the PT_INTERP slots name.
            case interpreter(String)
            /// An entry of the host (binfmt_misc not visible here).
            case hostEntry
            /// These entries.
            case entries([String])
        }
    }

    public var kernel: Kernel
    public var binfmtMisc: BinfmtMiscState
    public var entries: [Entry]
    public var interpreters: [Interpreter]
    @NullIfAbsent public var persistence: Persistence? = nil
    public var conflicts: [Conflict]
    /// The binfmt dispatch's canaries (note types 1 and 2).
    public var canary: [CanaryResult]
    public var interpDispatch: InterpDispatch
    public var dispatches: [DispatchSummary]
    /// What is wrong: each makes the exit status non-zero. binfmt-reg words them; the JSON
    /// document carries them in its envelope, beside the report's keys.
    public var problems: [StatusFinding] = []
    /// Worth knowing, but not wrong. binfmt-reg words them; the JSON document carries them as
    /// its `warnings`.
    public var notices: [StatusNotice] = []
    public var ok: Bool { problems.isEmpty }

    enum CodingKeys: String, CodingKey {
        case kernel, binfmtMisc, entries, interpreters, persistence, conflicts, canary, interpDispatch, dispatches
    }
}

/// One thing status finds worth knowing but not wrong, as a value: binfmt-reg words it.
public enum StatusNotice: Sendable, Equatable {
    /// The privileged entry is missing: privileged binfmt-sealed binaries use their PT_INTERP slot.
    case privilegedEntryNotRegistered(name: String)
    /// The interpreter file is gone, but flag F keeps the one the kernel opened.
    case interpreterMissingButFixed(path: String)
    /// binfmt_misc is not visible, but the host's entry took the canary.
    case servedByHostEntry(directory: String)
    /// An ordinary user gets the binfmt dispatch's explicit mode.
    case explicitModeForOrdinaryUsers(uid: UInt32)
    /// No uid 65534 to run the canary as an ordinary user.
    case canaryRanAsCallerOnly(uid: UInt32)
    /// Another entry also matches sealed binaries but ours is newer.
    case shadowedEntry(name: String, interpreter: String)
    /// The entry's runbottle copied its trampoline into a memfd: it did not recognize the one
    /// this binfmt-reg seals into PT_INTERP slots (another build).
    case trampolineInMemfd(entry: String)
}

/// One thing status finds wrong, as a value: binfmt-reg words it for people.
public enum StatusFinding: Sendable, Equatable {
    /// What a canary ran through.
    public enum CanaryRoute: Sendable, Equatable {
        /// Our entry of this name.
        case entry(String)
        /// Whatever entry of the host took it (binfmt_misc not visible here).
        case hostEntry
        case interpDispatch
    }

    case binfmtMiscDisabled(directory: String)
    case unreadable(BinfmtMiscError)
    case entryDisabled(directory: String, name: String)
    /// `matches`: what the entry's magic matches; nil when it is no ELF magic.
    case entryWrongMatch(directory: String, name: String, noteType: UInt32, matches: SealMatch?)
    /// Without P or O runbottle cannot work at all; without C privileged programs lose privileges.
    case entryWithoutPO(directory: String, name: String, flags: RegistrationFlags)
    case entryWithoutC(directory: String, name: String, flags: RegistrationFlags)
    case entryNotRegistered(directory: String, name: String)
    case interpreterUnusable(path: String)
    case interpreterCapability(path: String, capability: String)
    /// A canary through `route` as `user`.
    case canaryFailed(route: CanaryRoute, user: UInt32?, failed: [CanaryCheck])
    /// Not visible here, and no entry from outside took the canary.
    case notMountedNoEntry(directory: String, failed: [CanaryCheck])
    case notMounted(directory: String)
    case runbottleMissing(path: String)
    case runbottleNotExecutable(path: String)
    case persistenceMasked(path: String)
    case persistenceMissing(path: String)
    case persistenceDiffers(path: String)
    case conflictingEntry(directory: String, name: String, interpreter: String)

    public var code: ProblemCode {
        switch self {
        case .binfmtMiscDisabled: return .binfmtMiscDisabled
        case .unreadable(let error): return error.code
        case .entryDisabled: return .entryDisabled
        case .entryWrongMatch: return .entryWrongMatch
        case .entryWithoutPO, .entryWithoutC: return .entryWrongFlags
        case .entryNotRegistered: return .entryNotRegistered
        case .interpreterUnusable, .runbottleMissing, .runbottleNotExecutable: return .interpreterMissing
        case .interpreterCapability: return .interpreterCapability
        case .canaryFailed: return .canaryFailed
        case .notMountedNoEntry, .notMounted: return .binfmtMiscNotMounted
        case .persistenceMasked: return .persistenceMasked
        case .persistenceMissing: return .persistenceMissing
        case .persistenceDiffers: return .persistenceDiffers
        case .conflictingEntry: return .conflictingEntry
        }
    }

    /// The file or entry it concerns.
    public var path: String? {
        switch self {
        case .binfmtMiscDisabled(let directory): return directory + "/status"
        case .unreadable(let error): return error.path
        case .entryDisabled(let directory, let name), .entryWrongMatch(let directory, let name, _, _),
             .entryWithoutPO(let directory, let name, _), .entryWithoutC(let directory, let name, _),
             .entryNotRegistered(let directory, let name), .conflictingEntry(let directory, let name, _):
            return directory + "/" + name
        case .interpreterUnusable(let path), .interpreterCapability(let path, _), .runbottleMissing(let path),
             .runbottleNotExecutable(let path), .persistenceMasked(let path), .persistenceMissing(let path),
             .persistenceDiffers(let path):
            return path
        case .notMountedNoEntry(let directory, _), .notMounted(let directory): return directory
        case .canaryFailed: return nil
        }
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = [Character]("0123456789abcdef")
        return String(flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }
}
