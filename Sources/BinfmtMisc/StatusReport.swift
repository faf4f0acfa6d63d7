// binfmt-reg status as a value: the kernel, binfmt_misc, our entries, the interpreter, the
// persistence file, conflicting entries, the canaries of both dispatches and what each dispatch
// gives here, each with a verdict.
import ELFEngine
import Glibc
import LinuxOS

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
        public var summary: String
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
}

/// One thing status finds wrong, as a value: binfmt-reg words it for people.
public enum StatusFinding: Sendable, Equatable {
    case binfmtMiscDisabled(directory: String)
    case unreadable(BinfmtMiscError)
    case entryDisabled(directory: String, name: String)
    case entryWrongMatch(directory: String, name: String, noteType: UInt32, matches: String?)
    /// Without P or O runbottle cannot work at all; without C privileged programs lose privileges.
    case entryWithoutPO(directory: String, name: String, flags: RegistrationFlags)
    case entryWithoutC(directory: String, name: String, flags: RegistrationFlags)
    case entryNotRegistered(directory: String, name: String)
    case interpreterUnusable(path: String)
    case interpreterCapability(path: String, capability: String)
    /// A canary through `label` (an entry, the PT_INTERP dispatch, a host's entry) as `user`.
    case canaryFailed(label: String, user: UInt32?, failed: [CanaryCheck])
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

/// Gathers a StatusReport without changing anything (it never mounts or registers).
public struct StatusProbe: Sendable {
    public var installer: Installer
    /// Runs sealed canaries through each registered entry and through the PT_INTERP dispatch;
    /// nil skips them.
    public var canary: CanaryRunner?

    public init(installer: Installer, canary: CanaryRunner?) {
        self.installer = installer
        self.canary = canary
    }

    public func report() -> StatusReport {
        let fs = installer.fs
        var findings = Findings()
        let mounted = fs.isMounted
        let globallyEnabled = mounted ? try? fs.globallyEnabled() : nil
        if mounted && globallyEnabled == false {
            findings.problems.append(.binfmtMiscDisabled(directory: fs.directory))
        }
        let (entries, registered) = probeEntries(mounted: mounted, &findings)
        let interpreters = probeInterpreters(registered, &findings)
        let ordinaryUser = CanaryRunner.unprivilegedUser()
        let (canaryResults, servedFromOutside) = runBinfmtCanaries(
            mounted: mounted, registered, ordinaryUser: ordinaryUser, &findings)
        let interp = probeInterpDispatch(interpreters, ordinaryUser: ordinaryUser, &findings)
        if ordinaryUser == nil && !(canaryResults.isEmpty && interp.canary.isEmpty) {
            findings.notices.append(.canaryRanAsCallerOnly(uid: UInt32(geteuid())))
        }
        // Where binfmt_misc is not visible and an entry from outside took the canary (a container
        // served by the host's entries), the entries are not this system's to persist.
        let persistence = installer.persist && !servedFromOutside ? probePersistence(registered, &findings) : nil
        let conflicts = mounted ? probeConflicts(registered, canaryResults, &findings) : []
        let dispatches = [
            interpSummary(interp),
            binfmtSummary(mounted: mounted, registered, canaryResults, servedFromOutside: servedFromOutside),
        ]
        // The same finding through two entries is one line.
        func unique<T: Equatable>(_ items: [T]) -> [T] {
            items.enumerated().filter { index, item in !items[..<index].contains(item) }.map(\.element)
        }
        return StatusReport(
            kernel: Self.kernel(),
            binfmtMisc: .init(directory: fs.directory, mounted: mounted, enabled: globallyEnabled,
                              instance: BinfmtMiscFS.inInitialUserNamespace ? "host" : "user-namespace"),
            entries: entries, interpreters: interpreters, persistence: persistence,
            conflicts: conflicts, canary: canaryResults, interpDispatch: interp, dispatches: dispatches,
            problems: unique(findings.problems), notices: unique(findings.notices))
    }

    /// What the probes found, in the order they found it.
    struct Findings {
        var problems: [StatusFinding] = []
        var notices: [StatusNotice] = []

        /// A canary's verdict: a problem when it failed; for an ordinary user the binfmt
        /// dispatch's explicit mode is a warning (a PT_INTERP canary in explicit mode fails).
        mutating func judge(_ result: CanaryResult, through label: String) {
            if !result.ok {
                problems.append(.canaryFailed(label: label, user: result.user, failed: result.checks.filter { !$0.ok }))
            } else if let user = result.user, result.explicitMode {
                notices.append(.explicitModeForOrdinaryUsers(uid: user))
            }
        }
    }

    /// Our two entries' names and roles.
    private var roles: [(name: String, role: String)] {
        [(installer.plan.name, "ordinary"), (installer.plan.name + EntryPlan.privilegedSuffix, "privileged")]
    }

    /// The running kernel: release, machine, and whether it has CAP_CHECKPOINT_RESTORE.
    static func kernel() -> StatusReport.Kernel {
        var info = utsname()
        uname(&info)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        let lastCap = FileCapability.kernelLastCapability() ?? 0
        return .init(release: field(info.release), machine: field(info.machine),
                     checkpointRestore: lastCap >= FileCapability.checkpointRestoreNumber)
    }

    /// Our entries as binfmt_misc shows them, and each one's fitness: enabled, matching the
    /// right note type, with flags P, O and C.
    private func probeEntries(mounted: Bool, _ findings: inout Findings) -> ([StatusReport.Entry], [EntryStatus]) {
        let fs = installer.fs
        var entries: [StatusReport.Entry] = []
        var registered: [EntryStatus] = []
        for (name, role) in roles {
            var entry = StatusReport.Entry(name: name, role: role, registered: mounted ? false : nil)
            let status: EntryStatus?
            do { status = mounted ? try fs.entry(name) : nil } catch {
                findings.problems.append(.unreadable(error))
                status = nil
            }
            if let status {
                registered.append(status)
                entry.registered = true
                entry.enabled = status.enabled
                entry.interpreter = status.interpreter
                entry.flags = status.flags
                entry.line = status.registration.line
                if case .magic(let offset, let magic, let mask) = status.kind {
                    entry.offset = offset
                    entry.magic = magic.hexString
                    entry.mask = mask.hexString
                }
                entry.matches = SealMatch(status.kind)
                entry.matchesSummary = entry.matches?.summary
                if !status.enabled { findings.problems.append(.entryDisabled(directory: fs.directory, name: name)) }
                let wantedType: UInt32 = role == "ordinary" ? 1 : 2
                if entry.matches?.bottleNote != true || entry.matches?.noteType != wantedType {
                    findings.problems.append(.entryWrongMatch(directory: fs.directory, name: name, noteType: wantedType, matches: entry.matchesSummary))
                }
                if !status.flags.isSuperset(of: [.preserveArgv0, .openBinary]) {
                    findings.problems.append(.entryWithoutPO(directory: fs.directory, name: name, flags: status.flags))
                } else if !status.flags.contains(.credentials) {
                    findings.problems.append(.entryWithoutC(directory: fs.directory, name: name, flags: status.flags))
                }
            } else if mounted {
                if role == "ordinary" {
                    findings.problems.append(.entryNotRegistered(directory: fs.directory, name: name))
                } else {
                    findings.notices.append(.privilegedEntryNotRegistered(name: name))
                }
            }
            entries.append(entry)
        }
        return (entries, registered)
    }

    /// The files our entries name: present, executable, free of file capabilities.
    private func probeInterpreters(_ registered: [EntryStatus], _ findings: inout Findings) -> [StatusReport.Interpreter] {
        var interpreters: [StatusReport.Interpreter] = []
        for path in Set(registered.map(\.interpreter)).sorted() {
            var st = stat()
            let present = stat(path, &st) == 0
            let executable = present && st.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
            let capability = present ? (try? FileCapability.get(path)) ?? nil : nil
            interpreters.append(.init(path: path, present: present, executable: executable,
                                      capability: capability))
            let fixed = registered.filter { $0.interpreter == path }.allSatisfy { $0.flags.contains(.fixBinary) }
            if !executable && !fixed {
                findings.problems.append(.interpreterUnusable(path: path))
            } else if !executable {
                findings.notices.append(.interpreterMissingButFixed(path: path))
            }
            if let capability { findings.problems.append(.interpreterCapability(path: path, capability: capability)) }
        }
        return interpreters
    }

    /// The binfmt dispatch's canaries: through each enabled entry as the caller and as an
    /// ordinary user, or, where binfmt_misc is not visible, through whatever entry of the host
    /// takes one. Returns the results and whether such a host entry served them.
    private func runBinfmtCanaries(
        mounted: Bool, _ registered: [EntryStatus], ordinaryUser: UInt32?, _ findings: inout Findings
    ) -> ([CanaryResult], Bool) {
        let fs = installer.fs
        var results: [CanaryResult] = []
        guard let canary else {
            if !mounted { findings.problems.append(.notMounted(directory: fs.directory)) }
            return ([], false)
        }
        if !mounted {
            // Not visible here, but the entries of the namespace that registered them (a host
            // seen from a container) may still apply: a canary sealed for the ordinary entry
            // tells, its PT_INTERP slot naming no file so that only an entry can run it.
            let result = canary.run(noteType: .ordinary, expectedEntry: nil)
            results.append(result)
            guard result.reachedLoader else {
                findings.problems.append(.notMountedNoEntry(directory: fs.directory, failed: result.checks.filter { !$0.ok }))
                return (results, false)
            }
            findings.notices.append(.servedByHostEntry(directory: fs.directory))
            findings.judge(result, through: "an entry of the host")
            if let user = ordinaryUser {
                let asUser = canary.run(noteType: .ordinary, expectedEntry: nil, user: user)
                results.append(asUser)
                findings.judge(asUser, through: "an entry of the host")
            }
            return (results, true)
        }
        // As the caller, then as an ordinary user too: through the binfmt dispatch runbottle
        // cannot move /proc/self/exe for them, and runs the loader in its explicit mode.
        for user in [nil] + (ordinaryUser.map { [$0] } ?? []) {
            for status in registered where status.enabled {
                guard let type = SealMatch(status.kind)?.noteType.flatMap(SealFormat.NoteType.init(rawValue:))
                else { continue }
                let result = canary.run(noteType: type, expectedEntry: status.name, user: user)
                results.append(result)
                findings.judge(result, through: status.name)
            }
        }
        return (results, false)
    }

    /// The PT_INTERP dispatch: runbottle where sealed binaries' slots name it, in this mount
    /// namespace, and a note type 3 canary that no entry may take.
    private func probeInterpDispatch(
        _ interpreters: [StatusReport.Interpreter], ordinaryUser: UInt32?, _ findings: inout Findings
    ) -> StatusReport.InterpDispatch {
        let path = SealFormat.runbottlePath
        var info = stat()
        let present = stat(path, &info) == 0
        let executable = present && info.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
        let capability = present ? (try? FileCapability.get(path)) ?? nil : nil
        var interp = StatusReport.InterpDispatch(
            interpreter: path, present: present, executable: executable, capability: capability, canary: [])
        if !present {
            findings.problems.append(.runbottleMissing(path: path))
        } else if !executable {
            findings.problems.append(.runbottleNotExecutable(path: path))
        }
        if let capability, !interpreters.contains(where: { $0.path == path }) {
            findings.problems.append(.interpreterCapability(path: path, capability: capability))
        }
        if let canary, executable {
            for user in [nil] + (ordinaryUser.map { [$0] } ?? []) {
                let result = canary.run(noteType: .interp, expectedEntry: nil, user: user)
                interp.canary.append(result)
                findings.judge(result, through: "the PT_INTERP dispatch")
            }
        }
        return interp
    }

    /// The binfmt.d file a reboot registers from: present, holding the registered lines, or
    /// masked (disable masks it: entries that are all disabled are meant to stay so).
    private func probePersistence(_ registered: [EntryStatus], _ findings: inout Findings) -> StatusReport.Persistence {
        // The first existing file of the name is what a reboot registers.
        let name = FileSystem.baseName(of: installer.binfmtDPath)
        let existing = Installer.binfmtDDirectories.map { $0 + "/" + name }.filter(Files.exists)
        let path = existing.first ?? installer.binfmtDPath
        let content = (try? Files.read(path)) ?? nil
        let expected = registered.map(\.registration.line).joined()
        let masked = Files.isMask(path)
        let persistence = StatusReport.Persistence(
            path: path, present: content != nil, matchesRegistered: content.map { $0 == Array(expected.utf8) } ?? false,
            otherFiles: Array(existing.dropFirst()), masked: masked)
        if masked {
            if registered.contains(where: \.enabled) { findings.problems.append(.persistenceMasked(path: path)) }
        } else if content == nil {
            findings.problems.append(.persistenceMissing(path: path))
        } else if !persistence.matchesRegistered && !registered.isEmpty {
            findings.problems.append(.persistenceDiffers(path: path))
        }
        return persistence
    }

    /// Other enabled entries that match what ours match: a problem when one took a canary.
    private func probeConflicts(
        _ registered: [EntryStatus], _ canaryResults: [CanaryResult], _ findings: inout Findings
    ) -> [StatusReport.Conflict] {
        let fs = installer.fs
        guard let others = try? fs.entries() else { return [] }
        let ours = Set(roles.map(\.name))
        var conflicts: [StatusReport.Conflict] = []
        for other in others where !ours.contains(other.name) && other.enabled {
            var overlaps: [String] = []
            for entry in registered {
                guard let role = roles.first(where: { $0.name == entry.name })?.role else { continue }
                let sealed = canaryResults.first { $0.entry == entry.name && !$0.header.isEmpty }?.header
                if let header = sealed ?? CanaryRunner.header(for: entry), other.matches(header: header) {
                    overlaps.append(role)
                }
            }
            guard !overlaps.isEmpty else { continue }
            let lost = canaryResults.contains { !$0.reachedLoader }
            conflicts.append(.init(name: other.name, interpreter: other.interpreter, overlaps: overlaps, winning: lost))
            if lost {
                findings.problems.append(.conflictingEntry(directory: fs.directory, name: other.name, interpreter: other.interpreter))
            } else {
                findings.notices.append(.shadowedEntry(name: other.name, interpreter: other.interpreter))
            }
        }
        return conflicts
    }

    /// The PT_INTERP dispatch's outcome in one line.
    private func interpSummary(_ interp: StatusReport.InterpDispatch) -> StatusReport.DispatchSummary {
        if canary == nil { return .init(dispatch: "interp", outcome: "unchecked", summary: "no canary ran") }
        guard interp.executable else {
            return .init(dispatch: "interp", outcome: "failed",
                         summary: "\(interp.interpreter) is \(interp.present ? "not executable" : "missing") here")
        }
        return Self.summary("interp", interp.canary, through: interp.interpreter)
    }

    /// The binfmt dispatch's outcome in one line.
    private func binfmtSummary(
        mounted: Bool, _ registered: [EntryStatus], _ canaryResults: [CanaryResult], servedFromOutside: Bool
    ) -> StatusReport.DispatchSummary {
        let enabledEntries = registered.filter(\.enabled).map(\.name)
        if canary == nil { return .init(dispatch: "binfmt", outcome: "unchecked", summary: "no canary ran") }
        if !mounted {
            return servedFromOutside
                ? Self.summary("binfmt", canaryResults, through: "an entry of the host")
                : .init(dispatch: "binfmt", outcome: "failed",
                        summary: "binfmt_misc is not visible here and no entry took the canary")
        }
        if enabledEntries.isEmpty {
            return .init(dispatch: "binfmt", outcome: "none",
                         summary: "no enabled entry: binfmt-dispatched binaries run through their PT_INTERP slot, as with the PT_INTERP dispatch")
        }
        return Self.summary("binfmt", canaryResults, through: enabledEntries.joined(separator: " and "))
    }

    /// One dispatch's outcome from its canaries: for each user the worst of failed, explicit
    /// mode and native, users with the same outcome named together.
    static func summary(_ dispatch: String, _ results: [CanaryResult], through: String) -> StatusReport.DispatchSummary {
        enum Outcome: Int { case native, explicit, failed }
        var users: [UInt32] = []
        var worst: [UInt32: Outcome] = [:]
        for result in results {
            let user = result.user ?? UInt32(geteuid())
            if !users.contains(user) { users.append(user) }
            let outcome: Outcome = !result.ok ? .failed : result.explicitMode ? .explicit : .native
            if outcome.rawValue >= (worst[user] ?? .native).rawValue { worst[user] = outcome }
        }
        guard !users.isEmpty else {
            return .init(dispatch: dispatch, outcome: "unchecked", summary: "no canary ran")
        }
        var parts: [String] = []
        for (outcome, text) in [(Outcome.native, "native"),
                                (.explicit, "the loader's explicit mode (/proc/self/exe names runbottle)"),
                                (.failed, "failed")] {
            let named = users.filter { worst[$0] == outcome }.map { "uid \($0)" }
            if !named.isEmpty { parts.append("\(text) for \(named.joined(separator: " and "))") }
        }
        let overall = worst.values.max { $0.rawValue < $1.rawValue } ?? .native
        return .init(dispatch: dispatch, outcome: ["native", "explicit", "failed"][overall.rawValue],
                     summary: "through \(through): " + parts.joined(separator: "; "))
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = [Character]("0123456789abcdef")
        return String(flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }
}
