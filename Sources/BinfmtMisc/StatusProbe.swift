// status's probes: each section of the report gathered by a probe of its own, read-only (it
// never mounts or registers), with what it finds as typed findings and notices.
import ELFEngine
import LinuxOS

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
            findings.notices.append(.canaryRanAsCallerOnly(uid: Identity.effectiveUser))
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
        mutating func judge(_ result: CanaryResult, through route: StatusFinding.CanaryRoute) {
            if !result.ok {
                problems.append(.canaryFailed(route: route, user: result.user, failed: result.checks.filter { !$0.ok }))
            } else if let user = result.user, result.explicitMode {
                notices.append(.explicitModeForOrdinaryUsers(uid: user))
            }
            if result.ok, result.trampolineInMemfd, case .entry(let name) = route {
                notices.append(.trampolineInMemfd(entry: name))
            }
        }
    }

    /// Our two entries' names and roles.
    private var roles: [(name: String, role: String)] {
        [(installer.plan.name, "ordinary"), (installer.plan.name + EntryPlan.privilegedSuffix, "privileged")]
    }

    /// The running kernel: release, machine, and whether it has CAP_CHECKPOINT_RESTORE.
    static func kernel() -> StatusReport.Kernel {
        let kernel = Identity.kernel
        let lastCap = FileCapability.kernelLastCapability() ?? 0
        return .init(release: kernel.release, machine: kernel.machine,
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
                if !status.enabled { findings.problems.append(.entryDisabled(directory: fs.directory, name: name)) }
                let wantedType: UInt32 = role == "ordinary" ? 1 : 2
                if entry.matches?.bottleNote != true || entry.matches?.noteType != wantedType {
                    findings.problems.append(.entryWrongMatch(directory: fs.directory, name: name, noteType: wantedType, matches: entry.matches))
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
            let (present, executable, capability) = Self.interpreterFile(path)
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
            findings.judge(result, through: .hostEntry)
            if let user = ordinaryUser {
                let asUser = canary.run(noteType: .ordinary, expectedEntry: nil, user: user)
                results.append(asUser)
                findings.judge(asUser, through: .hostEntry)
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
                findings.judge(result, through: .entry(status.name))
            }
        }
        return (results, false)
    }

    /// An interpreter file as the kernel would find it here: present, an executable regular
    /// file, and the file capability it carries (which it must not).
    private static func interpreterFile(_ path: String) -> (present: Bool, executable: Bool, capability: String?) {
        let status = try? FileSystem.status(of: path)
        let present = status != nil
        let executable = status?.kind == .regular && FileSystem.isAccessible(path, .executable)
        let capability = present ? (try? FileCapability.get(path)) ?? nil : nil
        return (present, executable, capability)
    }

    /// The PT_INTERP dispatch: runbottle where sealed binaries' slots name it, in this mount
    /// namespace, and a note type 3 canary that no entry may take.
    private func probeInterpDispatch(
        _ interpreters: [StatusReport.Interpreter], ordinaryUser: UInt32?, _ findings: inout Findings
    ) -> StatusReport.InterpDispatch {
        let path = SealFormat.runbottlePath
        let (present, executable, capability) = Self.interpreterFile(path)
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
                findings.judge(result, through: .interpDispatch)
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
        if canary == nil { return .init(dispatch: "interp", outcome: "unchecked", basis: .noCanary) }
        guard interp.executable else {
            return .init(dispatch: "interp", outcome: "failed",
                         basis: .interpreterUnusable(interp.interpreter, present: interp.present))
        }
        return Self.summary("interp", interp.canary, through: .interpreter(interp.interpreter))
    }

    /// The binfmt dispatch's outcome in one line.
    private func binfmtSummary(
        mounted: Bool, _ registered: [EntryStatus], _ canaryResults: [CanaryResult], servedFromOutside: Bool
    ) -> StatusReport.DispatchSummary {
        let enabledEntries = registered.filter(\.enabled).map(\.name)
        if canary == nil { return .init(dispatch: "binfmt", outcome: "unchecked", basis: .noCanary) }
        if !mounted {
            return servedFromOutside
                ? Self.summary("binfmt", canaryResults, through: .hostEntry)
                : .init(dispatch: "binfmt", outcome: "failed", basis: .noEntryTookIt)
        }
        if enabledEntries.isEmpty { return .init(dispatch: "binfmt", outcome: "none", basis: .noEnabledEntry) }
        return Self.summary("binfmt", canaryResults, through: .entries(enabledEntries))
    }

    /// One dispatch's outcome from its canaries: for each user the worst of failed, explicit
    /// mode and native, users with the same outcome named together.
    static func summary(
        _ dispatch: String, _ results: [CanaryResult], through: StatusReport.DispatchSummary.Route
    ) -> StatusReport.DispatchSummary {
        enum Outcome: Int { case native, explicit, failed }
        var users: [UInt32] = []
        var worst: [UInt32: Outcome] = [:]
        for result in results {
            let user = result.user ?? Identity.effectiveUser
            if !users.contains(user) { users.append(user) }
            let outcome: Outcome = !result.ok ? .failed : result.explicitMode ? .explicit : .native
            if outcome.rawValue >= (worst[user] ?? .native).rawValue { worst[user] = outcome }
        }
        guard !users.isEmpty else { return .init(dispatch: dispatch, outcome: "unchecked", basis: .noCanary) }
        func named(_ outcome: Outcome) -> [UInt32] { users.filter { worst[$0] == outcome } }
        let overall = worst.values.max { $0.rawValue < $1.rawValue } ?? .native
        return .init(dispatch: dispatch, outcome: ["native", "explicit", "failed"][overall.rawValue],
                     basis: .canaries(through: through, native: named(.native), explicit: named(.explicit),
                                      failed: named(.failed)))
    }
}
