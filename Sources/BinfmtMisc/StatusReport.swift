// binfmt-reg status as a value: the kernel, binfmt_misc, our entries, the interpreter, the
// persistence file, conflicting entries and the canary, each with a verdict.
import ELFEngine
#if canImport(Glibc)
import Glibc
#endif

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
        public var enabled: Bool?
    }

    public struct Entry: Sendable, Codable {
        public var name: String
        /// "ordinary" (note type 1) or "privileged" (note type 2).
        public var role: String
        public var registered: Bool
        public var enabled: Bool?
        public var interpreter: String?
        public var flags: RegistrationFlags?
        public var offset: Int?
        public var magic: String?
        public var mask: String?
        /// What the magic and mask match, decoded.
        public var matches: SealMatch?
        public var matchesSummary: String?
        /// The registration line that produces this entry.
        public var line: String?
    }

    public struct Interpreter: Sendable, Codable {
        public var path: String
        public var present: Bool
        public var executable: Bool
        public var capability: String?
    }

    public struct Persistence: Sendable, Codable {
        public var path: String
        public var present: Bool
        /// The file holds exactly the registered entries' lines.
        public var matchesRegistered: Bool
        /// Another binfmt.d file of the same name that systemd-binfmt would read instead or too.
        public var otherFiles: [String]
    }

    public struct Conflict: Sendable, Codable {
        public var name: String
        public var interpreter: String
        /// Which of our entries' binaries it also matches ("ordinary", "privileged").
        public var overlaps: [String]
        /// True when the canary shows it takes sealed binaries before ours (registered later).
        public var winning: Bool
    }

    public var kernel: Kernel
    public var binfmtMisc: BinfmtMiscState
    public var entries: [Entry]
    public var interpreters: [Interpreter]
    public var persistence: Persistence?
    public var conflicts: [Conflict]
    public var canary: [CanaryResult]
    /// What is wrong: each makes the exit status non-zero.
    public var problems: [String]
    /// Worth knowing, but not wrong.
    public var warnings: [String]
    public var ok: Bool { problems.isEmpty }
}

/// Gathers a StatusReport without changing anything (it never mounts or registers).
public struct StatusProbe: Sendable {
    public var installer: Installer
    /// Runs a sealed canary through each registered entry; nil skips it.
    public var canary: CanaryRunner?

    public init(installer: Installer, canary: CanaryRunner?) {
        self.installer = installer
        self.canary = canary
    }

    public func report() -> StatusReport {
        let fs = installer.fs
        var problems: [String] = [], warnings: [String] = []
        var info = utsname()
        uname(&info)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        let lastCap = FileCapability.kernelLastCapability() ?? 0
        let kernel = StatusReport.Kernel(
            release: field(info.release), machine: field(info.machine),
            checkpointRestore: lastCap >= FileCapability.checkpointRestoreNumber)

        let mounted = fs.isMounted
        let globallyEnabled = mounted ? try? fs.globallyEnabled() : nil
        if !mounted {
            problems.append("binfmt_misc is not mounted at \(fs.directory) (binfmt-reg install mounts it)")
        } else if globallyEnabled == false {
            problems.append("binfmt_misc is disabled globally (\(fs.directory)/status says disabled)")
        }

        var entries: [StatusReport.Entry] = []
        var registered: [EntryStatus] = []
        let roles = [(installer.plan.name, "ordinary"),
                     (installer.plan.name + EntryPlan.privilegedSuffix, "privileged")]
        for (name, role) in roles {
            var entry = StatusReport.Entry(name: name, role: role, registered: false)
            let status: EntryStatus?
            do { status = mounted ? try fs.entry(name) : nil } catch {
                problems.append("\(error)")
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
                if !status.enabled { problems.append("\(name) is disabled (binfmt-reg enable)") }
                let wantedType: UInt32 = role == "ordinary" ? 1 : 2
                if entry.matches?.bottleNote != true || entry.matches?.noteType != wantedType {
                    problems.append("\(name) does not match BOTTLE note type \(wantedType): \(entry.matchesSummary ?? "not an ELF magic")")
                }
                if !status.flags.isSuperset(of: [.preserveArgv0, .openBinary]) {
                    problems.append("\(name) has flags \(status.flags); runbottle needs P and O")
                }
            } else if mounted {
                if role == "ordinary" {
                    problems.append("\(name) is not registered (binfmt-reg install)")
                } else {
                    warnings.append("\(name) is not registered: binaries sealed as privileged (setuid, setgid, file capabilities) run natively with the loader named in their PT_INTERP slot")
                }
            }
            entries.append(entry)
        }

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
                problems.append("interpreter \(path) is missing or not executable: sealed binaries fail with ENOENT")
            } else if !executable {
                warnings.append("interpreter \(path) is missing here; the entries use F, so the kernel keeps the file it opened at registration")
            }
            let ordinaryUsesIt = registered.contains {
                $0.interpreter == path && !$0.flags.contains(.credentials)
            }
            if present && capability == nil && ordinaryUsesIt {
                warnings.append("interpreter \(path) has no file capability: /proc/self/exe names it for unprivileged users (binfmt-reg install sets cap_checkpoint_restore)")
            }
        }

        var persistence: StatusReport.Persistence?
        if installer.persist {
            // systemd-binfmt reads the first file of a name in /etc, /run, /usr/local/lib,
            // /usr/lib (binfmt.d(5)): that one is what a reboot registers.
            let name = installer.binfmtDPath.split(separator: "/").last.map(String.init) ?? ""
            let existing = ["/etc/binfmt.d", "/run/binfmt.d", "/usr/local/lib/binfmt.d", "/usr/lib/binfmt.d"]
                .map { $0 + "/" + name }.filter(Files.exists)
            let path = existing.first ?? installer.binfmtDPath
            let content = (try? Files.read(path)) ?? nil
            let expected = registered.map(\.registration.line).joined()
            persistence = .init(path: path, present: content != nil,
                                matchesRegistered: content.map { $0 == Array(expected.utf8) } ?? false,
                                otherFiles: Array(existing.dropFirst()))
            if content == nil {
                problems.append("\(path) is missing: the entries will not come back after a reboot")
            } else if persistence?.matchesRegistered == false && !registered.isEmpty {
                problems.append("\(path) differs from the registered entries: a reboot would register something else")
            }
        }

        var canaryResults: [CanaryResult] = []
        if let canary, mounted {
            for status in registered where status.enabled {
                guard let type = SealMatch(status.kind)?.noteType.flatMap(SealFormat.NoteType.init(rawValue:))
                else { continue }
                let result = canary.run(noteType: type, expectedEntry: status.name)
                canaryResults.append(result)
                if !result.ok {
                    problems.append("canary through \(status.name) failed: \(result.problems.joined(separator: "; "))")
                }
            }
            // As an ordinary user too, through entries without C: only runbottle's capability
            // lets it fix /proc/self/exe for them. With C the kernel ignores that capability.
            if let user = CanaryRunner.unprivilegedUser() {
                for status in registered where status.enabled && !status.flags.contains(.credentials) {
                    guard let type = SealMatch(status.kind)?.noteType.flatMap(SealFormat.NoteType.init(rawValue:))
                    else { continue }
                    let result = canary.run(noteType: type, expectedEntry: status.name, user: user)
                    canaryResults.append(result)
                    let capability = interpreters.first { $0.path == status.interpreter }?.capability
                    if !result.ok {
                        problems.append("canary through \(status.name) as uid \(user) failed: \(result.problems.joined(separator: "; "))")
                    } else if result.explicitMode && capability != nil {
                        problems.append("runbottle holds \(capability ?? "") but could not set /proc/self/exe for uid \(user) (a nosuid mount, or a capability from another user namespace?): it fell back to the loader's explicit mode")
                    } else if result.explicitMode {
                        warnings.append("for ordinary users (uid \(user)) /proc/self/exe names runbottle: it has no file capability, so it runs the loader in explicit mode (argv and $ORIGIN stay right)")
                    }
                }
            } else if !canaryResults.isEmpty {
                warnings.append("the canary ran as uid \(geteuid()) only; run status as root where uid 65534 exists to check runbottle's capability for ordinary users")
            }
        }

        var conflicts: [StatusReport.Conflict] = []
        if mounted, let others = try? fs.entries() {
            let ours = Set(roles.map(\.0))
            for other in others where !ours.contains(other.name) && other.enabled {
                var overlaps: [String] = []
                for entry in registered {
                    guard let role = roles.first(where: { $0.0 == entry.name })?.1 else { continue }
                    let sealed = canaryResults.first { $0.entry == entry.name && !$0.header.isEmpty }?.header
                    if let header = sealed ?? CanaryRunner.header(for: entry), other.matches(header: header) {
                        overlaps.append(role)
                    }
                }
                guard !overlaps.isEmpty else { continue }
                let lost = canaryResults.contains { !$0.reachedLoader }
                conflicts.append(.init(name: other.name, interpreter: other.interpreter,
                                       overlaps: overlaps, winning: lost))
                if lost {
                    problems.append("entry \(other.name) (\(other.interpreter)) also matches sealed binaries and takes them first (the newest registration wins): remove or disable it, or run binfmt-reg install again after it")
                } else {
                    warnings.append("entry \(other.name) (\(other.interpreter)) also matches sealed binaries; ours wins now, but it would take them if it were registered again")
                }
            }
        }

        return StatusReport(
            kernel: kernel,
            binfmtMisc: .init(directory: fs.directory, mounted: mounted, enabled: globallyEnabled),
            entries: entries, interpreters: interpreters, persistence: persistence,
            conflicts: conflicts, canary: canaryResults, problems: problems, warnings: warnings)
    }
}

extension Array where Element == UInt8 {
    var hexString: String {
        let digits = [Character]("0123456789abcdef")
        return String(flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }
}
