// binfmt-reg status: the whole chain checked (binfmt_misc, our entries, runbottle, the binfmt.d
// file, conflicting entries) and proven with a sealed canary; exit status 0 only when all is well.
import ArgumentParser
import BinfmtMisc
import ELFEngine
import RunbottleImage

struct StatusCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Check binfmt_misc, the BOTTLE entries, runbottle and the binfmt.d file, and run a sealed canary through each entry and through the PT_INTERP dispatch.",
        discussion: "Exit status 0 when all is well, 1 when anything is wrong (each problem is listed).")

    @OptionGroup var quietOption: QuietOption

    @OptionGroup var entry: NameOption

    @Flag(help: "Do not expect a binfmt.d file. Without it, status follows what install recorded in /run/binfmt-reg (install --no-persist expects none).")
    var noPersist = false

    @OptionGroup var jsonOption: JSONOption

    func run() throws {
        // NameOption.validate has checked the name: a plan error here is a usage error.
        var installer: Installer
        do { installer = Installer(plan: try entry.plan()) } catch { throw ValidationError(Problem(for: error).message) }
        installer.persist = !noPersist && installer.recordedPersistence() != false
        let report = Self.probe(installer)
        if !jsonOption.json { print(Self.render(report), terminator: "") }
        try CommandEnd(command: "status", json: jsonOption.json).finish(WordedStatus(report: report), problems: report.problems.map(\.problem))
    }

    /// The whole chain, checked for `installer`'s entries and files, its text fields worded.
    static func probe(_ installer: Installer) -> StatusReport {
        let canary = CanaryRunner(program: CanaryImage.program, loader: CanaryImage.loader)
        return StatusProbe(installer: installer, canary: canary).report().worded
    }

    static func render(_ report: StatusReport) -> String {
        var text = ""
        func line(_ s: String) { text += s + "\n" }
        func canaryLines(_ canary: CanaryResult) {
            let user = canary.user.map { " as uid \($0)" } ?? ""
            let verdict = !canary.ok ? "FAILED" : canary.explicitMode
                ? "ok in the loader's explicit mode (argv right, /proc/self/exe names runbottle)"
                : "ok (argv, /proc/self/exe, loader, auxv as native)"
            if canary.dispatch == "interp" {
                line("canary through PT_INTERP\(user): \(verdict)")
            } else if let entry = canary.entry {
                line("canary through \(entry)\(user): \(verdict)")
            } else if canary.reachedLoader {
                line("binfmt_misc is not visible here; a sealed canary (binfmt dispatch) ran through an entry of the host\(user): \(verdict)")
            } else {
                line("binfmt_misc is not visible here; a sealed canary (binfmt dispatch) reached no entry\(user): \(verdict)")
            }
            for check in canary.checks where !check.ok { line("  \(check.name): \(check.words)") }
        }
        let k = report.kernel
        line("kernel: Linux \(k.release) \(k.machine); CAP_CHECKPOINT_RESTORE \(k.checkpointRestore ? "available" : "missing (Linux < 5.9)")")
        let b = report.binfmtMisc
        line("binfmt_misc: \(b.directory): " + (b.mounted ? "mounted, \(b.enabled == true ? "enabled" : "disabled")" : "not mounted")
             + (b.instance == "host" ? "; the host's instance" : "; this user namespace's own instance"))
        for entry in report.entries {
            guard let registered = entry.registered else {
                line("entry \(entry.name) (\(entry.role)): not visible here (binfmt_misc is not mounted in this mount namespace)")
                continue
            }
            guard registered else {
                line("entry \(entry.name) (\(entry.role)): not registered")
                continue
            }
            line("entry \(entry.name) (\(entry.role)): \(entry.enabled == true ? "enabled" : "disabled")")
            line("  interpreter: \(entry.interpreter ?? "?")")
            line("  flags: \(entry.flags?.description ?? "?")")
            line("  matches: \(entry.matchesSummary ?? "not an ELF magic") (offset \(entry.offset ?? 0), \(entry.magic.map { $0.count / 2 } ?? 0) bytes)")
        }
        for interpreter in report.interpreters {
            line("interpreter \(interpreter.path): " + (interpreter.present
                ? (interpreter.executable ? "present" : "present, not executable")
                  + ", capability \(interpreter.capability ?? "none")"
                : "missing"))
        }
        if let p = report.persistence {
            line("persistence \(p.path): " + (p.masked ? "masked (a link to /dev/null): a reboot registers nothing"
                : p.present ? (p.matchesRegistered ? "present, equal to the registered entries" : "present, differs from the registered entries")
                : "missing"))
            for other in p.otherFiles { line("  overrides: \(other)") }
        } else if !report.binfmtMisc.mounted && report.canary.first?.reachedLoader == true {
            line("persistence: not checked (the entries serving this namespace are registered outside it)")
        }
        if report.binfmtMisc.mounted {
            if report.conflicts.isEmpty {
                line("conflicts: none")
            }
            for c in report.conflicts {
                line("conflict: entry \(c.name) (\(c.interpreter)) matches \(c.overlaps.joined(separator: " and ")) sealed binaries" + (c.winning ? " and takes them first" : " (ours wins now)"))
            }
        }
        for canary in report.canary { canaryLines(canary) }
        let i = report.interpDispatch
        line("PT_INTERP dispatch: \(i.interpreter): " + (i.present
            ? (i.executable ? "present" : "present, not executable") + ", capability \(i.capability ?? "none")"
            : "missing (sealed binaries with the PT_INTERP dispatch fail with ENOENT)"))
        for canary in i.canary { canaryLines(canary) }
        for d in report.dispatches {
            let name = d.dispatch == "interp"
                ? "PT_INTERP (note type 3, seal's default)" : "binfmt (note types 1 and 2, seal --dispatch binfmt)"
            line("dispatch \(name): \(d.summary)")
        }

        for notice in report.notices { line("warning: \(notice.message)") }
        for finding in report.problems { line("problem: \(finding.message)") }
        line(report.ok ? "status: all well" : "status: \(report.problems.count) problem(s)")
        return text
    }
}
