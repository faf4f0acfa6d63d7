// install, uninstall, enable and disable as transactions on our own entries: each either
// completes or puts back what was there, and says what it changed.
import LinuxOS
import SystemPackage

/// Where the installer writes its files.
public enum Layout: Sendable, Equatable {
    /// The running system: binfmt.d in /etc, entries registered.
    case system
    /// A package tree under a root directory: binfmt.d in /usr/lib, nothing registered.
    case package(root: String)

    public var root: String {
        switch self {
        case .system: return ""
        case .package(let root): return root.hasSuffix("/") ? String(root.dropLast()) : root
        }
    }

    /// The binfmt.d directory: /etc/binfmt.d on the system (the administrator's, which overrides
    /// a packaged file of the same name), /usr/lib/binfmt.d in a package.
    public var binfmtDDirectory: String {
        switch self {
        case .system: return "/etc/binfmt.d"
        case .package: return root + "/usr/lib/binfmt.d"
        }
    }

    public func path(_ absolute: String) -> String { root + absolute }
}

public struct Installer: Sendable {
    public var plan: EntryPlan
    public var layout: Layout = .system
    public var fs = BinfmtMiscFS()
    /// runbottle's bytes to install at the plan's interpreter path; nil registers the
    /// interpreter as it is (--interpreter).
    public var runbottle: [UInt8]?
    public var persist = true
    /// Replace or remove an entry of our name that binfmt-reg did not register.
    public var force = false
    /// Register our entries anew even when they are as asked: binfmt_misc tries the newest
    /// registration first, so this puts them ahead of another tool's that matches the same files.
    public var reregister = false

    public init(plan: EntryPlan) {
        self.plan = plan
    }

    /// Mounts binfmt_misc where it is not, and runs `body` holding an exclusive flock on its
    /// directory (released when the process ends, however it ends). Without it one run's
    /// check-then-remove races another's ("remove BOTTLE: No such file or directory"). The lock
    /// belongs to the instance being changed: runs on one system wait for each other, private
    /// instances (user namespaces, containers) do not. `body` learns whether this run mounted.
    /// A package tree touches no system state: no mount, no lock.
    private func onInstance<T>(_ body: (_ mounted: Bool) throws(BinfmtMiscError) -> T) throws(BinfmtMiscError) -> T {
        guard layout == .system else { return try body(false) }
        let mounted = try fs.mountIfNeeded()
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(fs.directory, .readOnly, options: [.directory, .closeOnExec]) } catch {
            throw .from(Errno.of(error), path: fs.directory, what: .open)
        }
        defer { try? fd.close() }
        do { try fd.lockExclusively() } catch { throw .from(error.errno, path: fs.directory, what: .lock) }
        return try body(mounted)
    }

    /// What install, uninstall, enable and disable report when they mounted binfmt_misc.
    private var mountedChange: InstallerChange {
        .mounted(directory: fs.directory, hostInstance: BinfmtMiscFS.inInitialUserNamespace)
    }

    /// The directories systemd-binfmt reads, in its order (binfmt.d(5)): the first file of a
    /// name is the one a reboot registers.
    public static let binfmtDDirectories = ["/etc/binfmt.d", "/run/binfmt.d", "/usr/local/lib/binfmt.d", "/usr/lib/binfmt.d"]

    /// The binfmt.d file name: bottle.conf for the default entry, NAME.conf otherwise.
    public var binfmtDPath: String {
        let file = plan.name == EntryPlan.defaultName ? "bottle.conf" : plan.name + ".conf"
        return layout.binfmtDDirectory + "/" + file
    }

    /// The other binfmt.d files of our name systemd-binfmt would read (binfmt.d(5): /etc first,
    /// then /run, /usr/local/lib, /usr/lib): a package's, which only a mask in /etc overrides.
    public var packagedBinfmtDFiles: [String] {
        guard layout == .system, let name = binfmtDPath.split(separator: "/").last else { return [] }
        return Self.binfmtDDirectories.dropFirst().map { $0 + "/" + name }.filter(Files.exists)
    }

    /// Makes a reboot register nothing of ours: the /etc file removed, or where a package's file
    /// would still register the entries, replaced by a mask. Returns what it did and how to undo
    /// it; nil when nothing was there to hide.
    private func unpersist() throws(BinfmtMiscError) -> (change: InstallerChange, restore: () -> Void)? {
        let path = binfmtDPath
        let (_, restore) = try binfmtDRestorer()
        if let packaged = packagedBinfmtDFiles.first {
            if Files.isMask(path) { return nil }
            try Files.mask(path)
            return (.persistenceMaskedForPackage(path: path, packaged: packaged), restore)
        }
        return try Files.remove(path) ? (.persistenceRemoved(path: path), restore) : nil
    }

    /// Where install records how it registered the entries now in the kernel: /run, because
    /// the record describes the running system and goes with it at shutdown, as the entries do.
    public var recordPath: String { "/run/binfmt-reg/" + plan.name + ".state" }

    /// The record's lines: "persist yes|no", then the registration lines; nil without one.
    private func recordLines() -> [Substring]? {
        guard layout == .system, let bytes = try? Files.read(recordPath) else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n")
    }

    /// The record install left: whether the entries were meant to persist (nil: no record, as
    /// after a reboot or an install by an earlier version).
    public func recordedPersistence() -> Bool? {
        guard let first = recordLines()?.first, first.hasPrefix("persist ") else { return nil }
        return first == "persist yes"
    }

    /// Refuses to touch an entry of our name that another tool registered, unless `force`. An
    /// entry is ours when it runs the interpreter of this plan (this version's or an earlier
    /// one's, or systemd-binfmt's from our binfmt.d file at boot) or when install's record
    /// holds its line.
    private func refuseForeign(_ entries: [EntryStatus], _ what: BinfmtMiscError.Command) throws(BinfmtMiscError) {
        let recorded = Set((recordLines() ?? []).map { String($0) + "\n" })
        guard !force, let foreign = entries.first(where: {
            $0.registration.interpreter != plan.interpreter && !recorded.contains($0.registration.line)
        }) else { return }
        throw .foreignEntry(path: fs.directory + "/" + foreign.registration.name, what: what,
                            interpreter: foreign.registration.interpreter)
    }

    private func writeRecord(_ registrations: [Registration]) throws(BinfmtMiscError) {
        let text = "persist \(persist ? "yes" : "no")\n" + registrations.map(\.line).joined()
        try Files.replace(recordPath, with: Array(text.utf8), mode: 0o644)
    }

    /// The names of the entries this plan manages (whether or not they are registered).
    public var entryNames: [String] {
        [plan.name, plan.name + EntryPlan.privilegedSuffix]
    }

    // MARK: install

    /// Checks everything first, then changes runbottle, the binfmt.d file and the entries in
    /// that order; a failure puts back each part already changed.
    public func install() throws(BinfmtMiscError) -> [InstallerChange] {
        let registrations: [Registration]
        do { registrations = try plan.registrations() } catch { throw .invalid(error) }
        try refuseSelfMatch(registrations, interpreter: runbottle)
        if runbottle == nil && layout == .system { try checkInterpreter() }
        return try onInstance { mounted throws(BinfmtMiscError) in
            try install(registrations, mounted: mounted)
        }
    }

    private func install(_ registrations: [Registration], mounted: Bool) throws(BinfmtMiscError) -> [InstallerChange] {
        let registering = layout == .system
        var messages: [InstallerChange] = []
        if mounted { messages.append(mountedChange) }
        // Everything we may have to put back, read before anything changes.
        let previous: [String: EntryStatus] = registering ? try currentEntries(registrations) : [:]
        try refuseForeign(Array(previous.values), .install)

        var undo: [() -> Void] = []
        do {
            var interpreterChanged = false
            if let runbottle {
                let result = try installInterpreter(runbottle)
                messages.append(result.change)
                interpreterChanged = result.changed
                if let restore = result.restore { undo.append(restore) }
            }
            var persistence: InstallerChange?
            if persist {
                let (change, restore) = try writePersistence(registrations)
                persistence = change
                if let restore { undo.append(restore) }
            }
            if registering {
                messages += try apply(registrations, previous: previous,
                                      interpreterChanged: interpreterChanged)
            }
            if let persistence { messages.append(persistence) }
        } catch {
            for step in undo.reversed() { step() }
            throw error
        }
        // Best effort: without the record, status expects what its options say.
        if registering { try? writeRecord(registrations) }
        if registering, try !fs.globallyEnabled() {
            messages.append(.globallyDisabled(directory: fs.directory))
        }
        return messages
    }

    private func currentEntries(_ registrations: [Registration]) throws(BinfmtMiscError)
        -> [String: EntryStatus]
    {
        var result: [String: EntryStatus] = [:]
        for name in Set(entryNames + registrations.map(\.name)) {
            if let entry = try fs.entry(name) { result[name] = entry }
        }
        return result
    }

    private func checkInterpreter() throws(BinfmtMiscError) {
        let path = layout.path(plan.interpreter)
        let info: FileStatus
        do { info = try FileSystem.status(of: path) } catch {
            throw .badInterpreter(path: path, reason: .missing(error.errno))
        }
        if info.kind != .regular || info.mode & 0o111 == 0 {
            throw .badInterpreter(path: path, reason: .notExecutable)
        }
    }

    /// An entry that matches its own interpreter makes every exec it takes fail with ELOOP (the
    /// kernel hands the interpreter to the same entry again): refuse it before registering.
    private func refuseSelfMatch(_ registrations: [Registration], interpreter bytes: [UInt8]?)
        throws(BinfmtMiscError)
    {
        let path = layout.path(plan.interpreter)
        let head = Registration.currentMagicEnd
        guard let header = bytes.map({ Array($0.prefix(head)) }) ?? (try? Files.read(path, limit: head)) ?? nil
        else { return }
        for registration in registrations where registration.kind.matches(header: header) {
            throw .badInterpreter(path: path, reason: .matchesItself(entry: registration.name))
        }
    }

    private struct InterpreterResult {
        var change: InstallerChange
        var changed: Bool
        var restore: (() -> Void)?
    }

    /// Writes runbottle unless it is already right. It carries no file capability: every entry
    /// has C, which makes the kernel ignore one, and in direct mode (`runbottle PROGRAM`) one
    /// would make an ordinary user's exec a privilege-gaining, secure exec. A capability left by
    /// an earlier version is removed.
    private func installInterpreter(_ bytes: [UInt8]) throws(BinfmtMiscError) -> InterpreterResult {
        let path = layout.path(plan.interpreter)
        let oldBytes = try Files.read(path)
        let oldCapability = oldBytes == nil ? nil : try FileCapability.get(path)
        let info = try? FileSystem.status(of: path)
        let modeRight = info.map { $0.permissions == 0o755 && (!Identity.isRoot || $0.owner == 0) } ?? false
        if oldBytes == bytes && oldCapability == nil && modeRight {
            return InterpreterResult(change: .interpreterUnchanged(path: path), changed: false)
        }
        try Files.replace(path, with: bytes, mode: 0o755)
        let restore: () -> Void = {
            if let oldBytes {
                try? Files.replace(path, with: oldBytes, mode: info?.permissions ?? 0, capability: oldCapability)
            } else {
                _ = try? Files.remove(path)
            }
        }
        return InterpreterResult(change: .interpreterInstalled(path: path, removedCapability: oldCapability),
                                 changed: oldBytes != bytes, restore: restore)
    }

    /// Registers each entry that is missing or differs; puts every entry back on failure.
    private func apply(
        _ registrations: [Registration], previous: [String: EntryStatus], interpreterChanged: Bool
    ) throws(BinfmtMiscError) -> [InstallerChange] {
        var messages: [InstallerChange] = []
        // Each step puts back one change and says what it could not put back. With F the kernel
        // opens the interpreter by path at registration: an old entry whose file is gone or now
        // unusable (a noexec mount) cannot come back as it was.
        var undo: [() -> BinfmtMiscError.LostStep?] = []
        do {
            for registration in registrations {
                let name = registration.name
                guard let old = previous[name] else {
                    try fs.register(registration)
                    undo.append { Self.failure(.remove(name)) { () throws(BinfmtMiscError) in try fs.remove(name) } }
                    messages.append(.registered(name: name, flags: registration.flags))
                    continue
                }
                let changes = Self.differences(old.registration, registration)
                // F keeps the interpreter file the kernel opened: a new runbottle needs a new entry.
                let reopen = changes.isEmpty && ((interpreterChanged && registration.flags.contains(.fixBinary)) || reregister)
                if changes.isEmpty && !reopen {
                    if old.enabled {
                        messages.append(.entryUnchanged(name: name))
                    } else {
                        try fs.setEnabled(name, true)
                        undo.append { Self.failure(.disable(name)) { () throws(BinfmtMiscError) in try fs.setEnabled(name, false) } }
                        messages.append(.entryReenabled(name: name))
                    }
                    continue
                }
                try fs.remove(name)
                undo.append { Self.restore(old, fs) }
                try fs.register(registration)
                undo.append { Self.failure(.remove(name)) { () throws(BinfmtMiscError) in try fs.remove(name) } }
                messages.append(!reopen ? .entryReplaced(name: name, differences: changes)
                    : reregister ? .entryReregistered(name: name) : .entryReopened(name: name))
            }
            // An entry of ours the plan no longer has (--no-privileged-entry after a full install).
            for name in entryNames where !registrations.contains(where: { $0.name == name }) {
                guard let old = previous[name] else { continue }
                try fs.remove(name)
                undo.append { Self.restore(old, fs) }
                messages.append(.entryDropped(name: name))
            }
        } catch {
            let lost = undo.reversed().compactMap { $0() }
            throw lost.isEmpty ? error : .notRestored(error, lost: lost)
        }
        return messages
    }

    /// Registers `old` again as it was (disabled if it was); what failed, or nil.
    private static func restore(_ old: EntryStatus, _ fs: BinfmtMiscFS) -> BinfmtMiscError.LostStep? {
        let name = old.registration.name
        if let lost = failure(.registerAgain(name), { () throws(BinfmtMiscError) in
            try fs.register(old.registration, portable: false)
        }) { return lost }
        return old.enabled ? nil : failure(.disableAgain(name)) { () throws(BinfmtMiscError) in try fs.setEnabled(name, false) }
    }

    private static func failure(
        _ what: BinfmtMiscError.LostStep.Step, _ step: () throws(BinfmtMiscError) -> Void
    ) -> BinfmtMiscError.LostStep? {
        do { try step(); return nil } catch { return .init(step: what, error: error) }
    }

    /// What differs between two registrations, field by field.
    public static func differences(_ old: Registration, _ new: Registration) -> [RegistrationDifference] {
        var changes: [RegistrationDifference] = []
        if old.interpreter != new.interpreter {
            changes.append(.interpreter(old: old.interpreter, new: new.interpreter))
        }
        if old.flags != new.flags { changes.append(.flags(old: old.flags, new: new.flags)) }
        if old.kind != new.kind {
            switch (old.kind, new.kind) {
            case (.magic(let o1, let m1, let k1), .magic(let o2, let m2, let k2)):
                if o1 != o2 { changes.append(.offset(old: o1, new: o2)) }
                if m1 != m2 || k1 != k2 { changes.append(.magic(old: SealMatch(old.kind), new: SealMatch(new.kind))) }
            default:
                changes.append(.type(old: old.kind.letter, new: new.kind.letter))
            }
        }
        return changes
    }

    /// Writes the binfmt.d file unless it is right; returns what it did and how to undo it.
    /// A reboot keeps enable's and disable's choice where a binfmt.d file of ours would register
    /// the entries: disable masks it; enable removes the mask a package's file then shows
    /// through, or writes the registered entries' lines, as install does.
    private func persistEnabled(_ enabled: Bool, _ registered: [Registration]) throws(BinfmtMiscError) -> InstallerChange? {
        let path = binfmtDPath, masked = Files.isMask(path), packaged = packagedBinfmtDFiles.first
        guard Files.exists(path) || masked || packaged != nil else { return nil }
        if !enabled {
            if masked { return nil }
            try Files.mask(path)
            return .persistenceMasked(path: path)
        }
        if masked, let packaged, try Files.read(packaged) == Array(registered.map(\.line).joined().utf8) {
            _ = try Files.remove(path)
            return .maskRemoved(path: path, packaged: packaged)
        }
        return masked || Files.exists(path) ? try writePersistence(registered).0 : nil
    }

    private func writePersistence(_ registrations: [Registration]) throws(BinfmtMiscError)
        -> (InstallerChange, (() -> Void)?)
    {
        let text = Array(registrations.map(\.line).joined().utf8)
        let path = binfmtDPath
        let (old, restore) = try binfmtDRestorer()
        if old == text { return (.persistenceUnchanged(path: path), nil) }
        try Files.replace(path, with: text, mode: 0o644)
        return (.persistenceWritten(path: path), restore)
    }

    /// The binfmt.d file's bytes now (nil when absent or a mask), and how to put it back as it
    /// is: its bytes, its mask, or no file.
    private func binfmtDRestorer() throws(BinfmtMiscError) -> (old: [UInt8]?, restore: () -> Void) {
        let path = binfmtDPath, masked = Files.isMask(path)
        let old = masked ? nil : try Files.read(path)
        return (old, {
            if masked { try? Files.mask(path) }
            else if let old { try? Files.replace(path, with: old, mode: 0o644) }
            else { _ = try? Files.remove(path) }
        })
    }

    // MARK: uninstall, enable, disable

    /// Removes our entries, the binfmt.d file, and with `removeInterpreter` the interpreter.
    /// Mounts binfmt_misc first, as install does: in a fresh mount namespace the entries are
    /// there, only unseen.
    public func uninstall(removeInterpreter: Bool) throws(BinfmtMiscError) -> [InstallerChange] {
        try onInstance { mounted throws(BinfmtMiscError) in
            try uninstall(removeInterpreter: removeInterpreter, mounted: mounted)
        }
    }

    private func uninstall(removeInterpreter: Bool, mounted: Bool) throws(BinfmtMiscError) -> [InstallerChange] {
        var messages: [InstallerChange] = []
        if mounted { messages.append(mountedChange) }
        var present: [EntryStatus] = []
        if layout == .system {
            for name in entryNames { if let entry = try fs.entry(name) { present.append(entry) } }
            try refuseForeign(present, .uninstall)
        }
        // The binfmt.d file first, the part most likely to fail (a read-only /etc): then a
        // failure has changed nothing, and one removing an entry puts the file back.
        let unpersisted = persist ? try unpersist() : nil
        var removed: [EntryStatus] = []
        do {
            for entry in present {
                try fs.remove(entry.registration.name)
                removed.append(entry)
                messages.append(.entryRemoved(name: entry.registration.name))
            }
        } catch {
            let lost = removed.reversed().compactMap { Self.restore($0, fs) }
            unpersisted?.restore()
            throw lost.isEmpty ? error : .notRestored(error, lost: lost)
        }
        if let unpersisted { messages.append(unpersisted.change) }
        if layout == .system { _ = try? Files.remove(recordPath) }
        if removeInterpreter {
            let path = layout.path(plan.interpreter)
            if try Files.remove(path) { messages.append(.interpreterRemoved(path: path)) }
        }
        if !messages.contains(where: \.removes) { messages.append(.nothingInstalled) }
        return messages
    }

    /// Enables or disables every entry of ours that is registered.
    public func setEnabled(_ enabled: Bool) throws(BinfmtMiscError) -> [InstallerChange] {
        try onInstance { mounted throws(BinfmtMiscError) in try setEnabled(enabled, mounted: mounted) }
    }

    private func setEnabled(_ enabled: Bool, mounted: Bool) throws(BinfmtMiscError) -> [InstallerChange] {
        var messages: [InstallerChange] = []
        if mounted { messages.append(mountedChange) }
        var registered: [Registration] = []
        for name in entryNames {
            guard let entry = try fs.entry(name) else { continue }
            registered.append(entry.registration)
            if entry.enabled == enabled {
                messages.append(enabled ? .alreadyEnabled(name: name) : .alreadyDisabled(name: name))
            } else {
                try fs.setEnabled(name, enabled)
                messages.append(enabled ? .enabled(name: name) : .disabled(name: name))
            }
        }
        if registered.isEmpty {
            throw .notRegistered(path: fs.directory + "/" + plan.name, what: enabled ? .enable : .disable)
        }
        if persist && layout == .system {
            if let change = try persistEnabled(enabled, registered) { messages.append(change) }
        }
        return messages
    }
}

extension Registration.Kind {
    var letter: String {
        if case .magic = self { return "M" }
        return "E"
    }
}
