// binfmt-reg status and status --json on each state: not mounted, nothing installed, all well,
// disabled, a conflicting entry registered after ours.
import Foundation
import TestSupport
import Testing

/// The JSON report's top-level object.
private func report(_ text: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(object as? [String: Any])
}

private func problems(_ json: [String: Any]) -> [String] {
    json["problems"] as? [String] ?? ["(no problems array)"]
}

@Suite(.serialized) struct StatusTests {
    @Test func notMounted() throws {
        // tmpfs over the binfmt_misc directory: what a system without the mount looks like.
        let result = try Sandbox.run("""
            mount -t tmpfs tmpfs $D
            $B status && exit 9 || echo "status $?"
            $B status --json || true
            """, mountBinfmtMisc: false)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("binfmt_misc: /proc/sys/fs/binfmt_misc: not mounted\n"))
        #expect(result.stdout.contains("status 1\n"))
        let json = try report(String(result.stdout.split(separator: "status 1\n").last ?? ""))
        let binfmt = try #require(json["binfmtMisc"] as? [String: Any])
        #expect(binfmt["mounted"] as? Bool == false)
        #expect(problems(json).contains { $0.contains("not mounted") })
    }

    @Test func nothingInstalled() throws {
        let result = try Sandbox.run("""
            $B status && exit 9 || echo "status $?"
            echo ---
            $B status --json && exit 9 || true
            """)
        #expect(result.succeeded, "\(result)")
        let parts = result.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 2)
        #expect(parts[0].contains("entry BOTTLE (ordinary): not registered\nentry BOTTLE-privileged (privileged): not registered\n"))
        #expect(parts[0].contains("problem: BOTTLE is not registered (binfmt-reg install)\n"))
        #expect(parts[0].hasSuffix("status: 2 problem(s)\nstatus 1\n"))
        let json = try report(parts[1])
        let entries = try #require(json["entries"] as? [[String: Any]])
        #expect(entries.map { $0["registered"] as? Bool } == [false, false])
        #expect(problems(json).contains("BOTTLE is not registered (binfmt-reg install)"))
        #expect(problems(json).contains { $0.contains("/etc/binfmt.d/bottle.conf is missing") })
    }

    @Test func allWellAfterInstall() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            $B status
            echo ---
            $B status --json
            """)
        #expect(result.succeeded, "\(result)")
        let parts = result.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 2)
        #expect(parts[0].contains("canary through BOTTLE: ok"))
        #expect(parts[0].contains("canary through BOTTLE-privileged: ok"))
        #expect(parts[0].contains("interpreter /usr/libexec/runbottle: present, capability cap_checkpoint_restore=ep\n"))
        #expect(parts[0].hasSuffix("status: all well\n"))
        let json = try report(parts[1])
        #expect(problems(json).isEmpty)
        let entries = try #require(json["entries"] as? [[String: Any]])
        #expect(entries.map { $0["flags"] as? String } == ["PO", "POC"])
        let matches = try #require(entries.first?["matches"] as? [String: Any])
        #expect(matches["machine"] as? Int == 62 && matches["noteType"] as? Int == 1)
        let canary = try #require(json["canary"] as? [[String: Any]])
        #expect(canary.count == 2)
        let checks = canary.flatMap { $0["checks"] as? [[String: Any]] ?? [] }
        #expect(checks.count == 18)
        #expect(checks.allSatisfy { $0["ok"] as? Bool == true })
        let persistence = try #require(json["persistence"] as? [String: Any])
        #expect(persistence["matchesRegistered"] as? Bool == true)
    }

    @Test func disabledEntriesFail() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            $B disable >/dev/null
            $B status && exit 9 || echo "status $?"
            echo ---
            $B status --json && exit 9 || true
            """)
        #expect(result.succeeded, "\(result)")
        let parts = result.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 2)
        #expect(parts[0].contains("entry BOTTLE (ordinary): disabled\n"))
        #expect(parts[0].contains("problem: BOTTLE is disabled (binfmt-reg enable)\n"))
        #expect(!parts[0].contains("canary through"))
        #expect(parts[0].hasSuffix("status 1\n"))
        let json = try report(parts[1])
        #expect(problems(json).contains("BOTTLE is disabled (binfmt-reg enable)"))
        #expect(problems(json).contains("BOTTLE-privileged is disabled (binfmt-reg enable)"))
        #expect((json["canary"] as? [Any])?.isEmpty == true)
    }

    /// An entry registered after ours with the same magic takes sealed binaries: the canary shows
    /// it, and status names the entry.
    @Test func aConflictingEntryRegisteredLater() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            $B line --no-privileged-entry --name THIEF --interpreter /bin/echo > $D/register
            $B status && exit 9 || echo "status $?"
            echo ---
            $B status --json || true
            """)
        #expect(result.succeeded, "\(result)")
        let parts = result.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 2)
        #expect(parts[0].contains("conflict: entry THIEF (/bin/echo) matches ordinary sealed binaries and takes them first\n"))
        #expect(parts[0].contains("canary through BOTTLE: FAILED"))
        #expect(parts[0].contains("canary through BOTTLE-privileged: ok"))
        #expect(parts[0].contains("status 1\n"))
        let json = try report(parts[1])
        let conflicts = try #require(json["conflicts"] as? [[String: Any]])
        #expect(conflicts.count == 1)
        #expect(conflicts.first?["name"] as? String == "THIEF")
        #expect(conflicts.first?["winning"] as? Bool == true)
    }

    /// An entry registered before ours that also matches loses (the newest wins): a warning only.
    @Test func aMatchingEntryRegisteredEarlierLoses() throws {
        let result = try Sandbox.run("""
            $B line --no-privileged-entry --name OLDER --interpreter /bin/echo > $D/register
            $B install >/dev/null
            $B status
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("conflict: entry OLDER (/bin/echo) matches ordinary sealed binaries (ours wins now)\n"))
        #expect(result.stdout.hasSuffix("status: all well\n"))
    }

    /// As root with uid 65534 mapped, status also runs the canary as that ordinary user: only
    /// runbottle's capability lets /proc/self/exe be fixed for it.
    @Test func anOrdinaryUserGetsANativeLookingProcess() throws {
        let result = try Sandbox.runWithUnprivilegedUser("""
            $B install >/dev/null
            $B status
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("canary through BOTTLE as uid 65534: ok (argv, /proc/self/exe, loader, auxv as native)\n"))
        #expect(result.stdout.hasSuffix("status: all well\n"))
    }

    /// Without the capability runbottle falls back to the loader's explicit mode: argv stays
    /// right, /proc/self/exe names runbottle; status says so as a warning.
    @Test func withoutTheCapabilityOrdinaryUsersGetExplicitMode() throws {
        let result = try Sandbox.runWithUnprivilegedUser("""
            $B install --capability none
            $B status
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("/usr/libexec/runbottle: installed runbottle (no file capability)\n"))
        #expect(result.stdout.contains("canary through BOTTLE as uid 65534: ok in the loader's explicit mode (argv right, /proc/self/exe names runbottle)\n"))
        #expect(result.stdout.contains("warning: for ordinary users (uid 65534) /proc/self/exe names runbottle"))
    }

    /// The persistence file is whichever bottle.conf systemd-binfmt reads first: a packaged
    /// /usr/lib one counts, and an /etc one overrides it.
    @Test func persistenceFollowsSystemdBinfmtPrecedence() throws {
        let result = try Sandbox.run("""
            mount -t tmpfs tmpfs /usr/lib/binfmt.d
            $B install --no-persist >/dev/null
            $B line > /usr/lib/binfmt.d/bottle.conf
            $B status | grep -E '^persistence|^status'
            $B line --no-privileged-entry > /etc/binfmt.d/bottle.conf
            $B status | grep -E '^persistence|^  overrides|^problem' || true
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == """
            persistence /usr/lib/binfmt.d/bottle.conf: present, equal to the registered entries
            status: all well
            persistence /etc/binfmt.d/bottle.conf: present, differs from the registered entries
              overrides: /usr/lib/binfmt.d/bottle.conf
            problem: /etc/binfmt.d/bottle.conf differs from the registered entries: a reboot would register something else

            """)
    }
}
