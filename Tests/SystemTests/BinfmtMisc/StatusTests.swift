// binfmt-reg status and status --json on each state: binfmt_misc not visible (with and without
// an entry from outside taking sealed binaries, as in a container), nothing installed, all well,
// disabled, a conflicting entry registered after ours, an entry without C, a runbottle carrying a
// capability; and the PT_INTERP dispatch's section and canary in each.
import BinfmtMisc
import ELFEngine
import Foundation
import RunbottleImage
import TestSupport
import Testing

/// A status --json document, decoded through the library's own types: the report, and the
/// problems the envelope carries beside it.
/// The output of a sandbox script that succeeded, in the sections its `echo ---` lines separate.
private func sections(of result: CommandResult, _ count: Int) throws -> [String] {
    #expect(result.succeeded, "\(result)")
    let parts = result.stdout.components(separatedBy: "---\n")
    try #require(parts.count == count, "\(result)")
    return parts
}

private struct StatusDocument {
    var report: StatusReport
    var problems: [Problem]
    var messages: [String] { problems.map(\.message) }

    private struct Envelope: Decodable {
        var command: String
        var problems: [Problem]
    }

    init(_ text: String) throws {
        let data = Data(text.utf8)
        let envelope = try JSONDecoder().decode(Envelope.self, from: data)
        #expect(envelope.command == "status")
        report = try JSONDecoder().decode(StatusReport.self, from: data)
        problems = envelope.problems
    }
}

@Suite(.serialized) struct StatusTests {
    /// binfmt_misc not visible here (a tmpfs over the mount point hides the private instance,
    /// which stays in effect, empty): status still runs a canary sealed for the binfmt dispatch,
    /// whose PT_INTERP slot names no file, and reports that no entry took it. It does not claim
    /// the entries are not registered: it cannot see them.
    @Test func notVisibleAndNoEntryTakesSealedBinaries() throws {
        let result = try Sandbox.run("""
            mount -t tmpfs tmpfs $D
            $B status && exit 9 || echo "status $?"
            echo ---
            $B status --json || true
            """)
        let parts = try sections(of: result, 2)
        let text = parts[0]
        // The sandbox is a user namespace: the instance it would mount is its own.
        #expect(text.contains("binfmt_misc: /proc/sys/fs/binfmt_misc: not mounted; this user namespace's own instance\n"), "\(text)")
        #expect(text.contains("""
            entry BOTTLE (ordinary): not visible here (binfmt_misc is not mounted in this mount namespace)
            entry BOTTLE-privileged (privileged): not visible here (binfmt_misc is not mounted in this mount namespace)

            """), "\(text)")
        #expect(!text.contains("not registered"), "\(text)")
        #expect(text.contains("binfmt_misc is not visible here; a sealed canary (binfmt dispatch) reached no entry: FAILED\n  exec: execve /"), "\(text)")
        #expect(text.contains("dispatch binfmt (note types 1 and 2, seal --dispatch binfmt): binfmt_misc is not visible here and no entry took the canary\n"), "\(text)")
        #expect(text.contains("problem: binfmt_misc is not mounted at /proc/sys/fs/binfmt_misc, and no entry took a sealed canary (binfmt dispatch): exec: execve "), "\(text)")
        #expect(text.contains(": No such file or directory (no entry took it"), "\(text)")
        #expect(text.hasSuffix("status 1\n"))
        let json = try StatusDocument(parts[1])
        #expect(json.report.binfmtMisc.mounted == false)
        let entries = json.report.entries
        #expect(entries.count == 2 && entries.allSatisfy { $0.registered == nil })
        #expect(parts[1].contains("\"registered\" : null"), "null, not left out")
        let canary = json.report.canary
        #expect(canary.count == 1)
        #expect(canary.first?.reachedLoader == false && canary.first?.ok == false)
        #expect(canary.first?.dispatch == "binfmt" && canary.first?.noteType == 1)
        #expect(canary.first?.entry == nil)
        #expect(canary.first?.checks.allSatisfy { $0.detail.map { !$0.hasSuffix("\n") } ?? false } == true)
        #expect(json.problems.contains { $0.code == .binfmtMiscNotMounted && $0.message.hasPrefix("binfmt_misc is not mounted at /proc/sys/fs/binfmt_misc, and no entry took a sealed canary") })
    }

    /// A container's view: binfmt_misc not mounted in its mount namespace, while the entries
    /// registered outside it (here: in this user namespace's instance, hidden by a tmpfs, as
    /// Docker leaves the host's out of a container) still take sealed binaries. status runs the
    /// canary through them and says so, as the caller and as uid 65534, instead of claiming
    /// nothing is registered; persistence is not its business there. An image without runbottle
    /// still runs binfmt-dispatched binaries (F), but not PT_INTERP-dispatched ones: a problem.
    @Test func aNamespaceWithoutBinfmtMiscUsesTheEntriesOfTheHost() throws {
        let result = try Sandbox.runWithUnprivilegedUser("""
            $B install >/dev/null
            mount -t tmpfs tmpfs $D
            $B status && echo "status 0" || echo "status $?"
            echo ---
            mount -t tmpfs -o mode=0755 tmpfs /usr/libexec
            $B status && exit 9 || echo "status $?"
            echo ---
            $B status --json || true
            """)
        let parts = try sections(of: result, 3)
        let visible = parts[0]
        #expect(visible.contains("entry BOTTLE (ordinary): not visible here (binfmt_misc is not mounted in this mount namespace)\n"))
        #expect(!visible.contains("not registered"), "\(visible)")
        #expect(visible.contains("""
            persistence: not checked (the entries serving this namespace are registered outside it)
            binfmt_misc is not visible here; a sealed canary (binfmt dispatch) ran through an entry of the host: ok (argv, /proc/self/exe, loader, auxv as native)
            binfmt_misc is not visible here; a sealed canary (binfmt dispatch) ran through an entry of the host as uid 65534: ok in the loader's explicit mode (argv right, /proc/self/exe names runbottle)
            PT_INTERP dispatch: /usr/libexec/runbottle: present, capability none
            canary through PT_INTERP: ok (argv, /proc/self/exe, loader, auxv as native)
            canary through PT_INTERP as uid 65534: ok (argv, /proc/self/exe, loader, auxv as native)
            dispatch PT_INTERP (note type 3, seal's default): through /usr/libexec/runbottle: native for uid 0 and uid 65534
            dispatch binfmt (note types 1 and 2, seal --dispatch binfmt): through an entry of the host: native for uid 0; the loader's explicit mode (/proc/self/exe names runbottle) for uid 65534

            """), "\(visible)")
        #expect(visible.contains("warning: binfmt_misc is not visible at /proc/sys/fs/binfmt_misc, but an entry registered outside this mount namespace (the host's) took a sealed canary: binfmt-dispatched binaries run here through it; its flags and interpreter cannot be read from here\n"))
        #expect(!visible.contains("problem:"), "\(visible)")
        #expect(visible.hasSuffix("status: all well\nstatus 0\n"), "\(visible)")

        let withoutRunbottle = parts[1]
        #expect(withoutRunbottle.contains("binfmt_misc is not visible here; a sealed canary (binfmt dispatch) ran through an entry of the host: ok (argv, /proc/self/exe, loader, auxv as native)\n"))
        #expect(withoutRunbottle.contains("PT_INTERP dispatch: /usr/libexec/runbottle: missing (sealed binaries with the PT_INTERP dispatch fail with ENOENT)\n"))
        #expect(withoutRunbottle.contains("dispatch PT_INTERP (note type 3, seal's default): /usr/libexec/runbottle is missing here\n"))
        #expect(withoutRunbottle.hasSuffix("""
            problem: runbottle is missing at /usr/libexec/runbottle: sealed binaries with the PT_INTERP dispatch (seal's default) fail with ENOENT here (binfmt-reg install puts it there)
            status: 1 problem(s)
            status 1

            """), "\(withoutRunbottle)")

        let json = try StatusDocument(parts[2])
        #expect(json.report.binfmtMisc.mounted == false)
        #expect(json.report.persistence == nil)
        let canary = json.report.canary
        #expect(canary.map(\.reachedLoader) == [true, true])
        #expect(canary.map(\.explicitMode) == [false, true])
        #expect(canary.map(\.user) == [nil, 65534])
        #expect(json.report.interpDispatch.present == false && json.report.interpDispatch.canary.isEmpty)
        let dispatches = json.report.dispatches
        #expect(dispatches.map(\.dispatch) == ["interp", "binfmt"])
        #expect(dispatches.map(\.outcome) == ["failed", "explicit"])
        #expect(json.problems.map(\.code) == [.interpreterMissing])
    }

    @Test func nothingInstalled() throws {
        let result = try Sandbox.run("""
            $B status && exit 9 || echo "status $?"
            echo ---
            $B status --json && exit 9 || true
            """)
        let parts = try sections(of: result, 2)
        #expect(parts[0].contains("entry BOTTLE (ordinary): not registered\nentry BOTTLE-privileged (privileged): not registered\n"))
        #expect(parts[0].contains("PT_INTERP dispatch: /usr/libexec/runbottle: missing (sealed binaries with the PT_INTERP dispatch fail with ENOENT)\n"))
        #expect(!parts[0].contains("canary through"))
        #expect(parts[0].contains("dispatch binfmt (note types 1 and 2, seal --dispatch binfmt): no enabled entry: binfmt-dispatched binaries run through their PT_INTERP slot, as with the PT_INTERP dispatch\n"))
        #expect(parts[0].contains("problem: BOTTLE is not registered (binfmt-reg install)\n"))
        #expect(parts[0].contains("problem: runbottle is missing at /usr/libexec/runbottle: sealed binaries with the PT_INTERP dispatch (seal's default) fail with ENOENT here (binfmt-reg install puts it there)\n"))
        #expect(parts[0].hasSuffix("status: 3 problem(s)\nstatus 1\n"))
        let json = try StatusDocument(parts[1])
        #expect(json.report.entries.map(\.registered) == [false, false])
        #expect(json.problems.contains(Problem(.entryNotRegistered, "BOTTLE is not registered (binfmt-reg install)",
                                               path: "/proc/sys/fs/binfmt_misc/BOTTLE")))
        #expect(json.problems.contains { $0.code == .persistenceMissing && $0.message.contains("/etc/binfmt.d/bottle.conf is missing") })
        let interp = json.report.interpDispatch
        #expect(interp.interpreter == "/usr/libexec/runbottle")
        #expect(interp.present == false && interp.executable == false)
        #expect(json.report.dispatches.map(\.outcome) == ["failed", "none"])
    }

    @Test func allWellAfterInstall() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            $B status
            echo ---
            $B status --json
            """)
        let parts = try sections(of: result, 2)
        #expect(parts[0].contains("""
            interpreter /usr/libexec/runbottle: present, capability none
            persistence /etc/binfmt.d/bottle.conf: present, equal to the registered entries
            conflicts: none
            canary through BOTTLE: ok (argv, /proc/self/exe, loader, auxv as native)
            canary through BOTTLE-privileged: ok (argv, /proc/self/exe, loader, auxv as native)
            PT_INTERP dispatch: /usr/libexec/runbottle: present, capability none
            canary through PT_INTERP: ok (argv, /proc/self/exe, loader, auxv as native)
            dispatch PT_INTERP (note type 3, seal's default): through /usr/libexec/runbottle: native for uid 0
            dispatch binfmt (note types 1 and 2, seal --dispatch binfmt): through BOTTLE and BOTTLE-privileged: native for uid 0

            """), "\(parts[0])")
        #expect(parts[0].contains("  flags: POCF\n"))
        #expect(parts[0].hasSuffix("status: all well\n"))
        let json = try StatusDocument(parts[1])
        #expect(json.problems.isEmpty)
        let entries = json.report.entries
        #expect(entries.map { $0.flags?.description } == ["POCF", "POCF"])
        let matches = try #require(entries.first?.matches)
        #expect(matches.machine == 62 && matches.noteType == 1)
        let canary = json.report.canary
        #expect(canary.count == 2)
        #expect(canary.map(\.entry) == ["BOTTLE", "BOTTLE-privileged"])
        #expect(canary.map(\.dispatch) == ["binfmt", "binfmt"])
        let checks = canary.flatMap(\.checks)
        #expect(checks.count == 18)
        // A check that passed says ok and nothing else.
        #expect(checks.allSatisfy { $0.ok && $0.detail == nil })
        let interp = json.report.interpDispatch
        #expect(interp.present && interp.executable)
        #expect(interp.capability == nil)
        #expect(interp.canary.count == 1)
        #expect(interp.canary.first?.noteType == 3 && interp.canary.first?.dispatch == "interp")
        let interpChecks = interp.canary.first?.checks ?? []
        #expect(interpChecks.count == 10 && interpChecks.allSatisfy(\.ok), "\(interpChecks)")
        #expect(json.report.dispatches.map(\.outcome) == ["native", "native"])
        #expect(json.report.persistence?.matchesRegistered == true)
    }

    /// bottle(5): an entry's runbottle of another build does not take the trampoline this
    /// binfmt-reg seals into PT_INTERP slots, so every exec through it copies one into a memfd.
    /// status warns, per entry, and install puts it right. The other build: this runbottle with
    /// its trampoline's last instruction (a ud2 after exit_group, never reached) made two nops.
    @Test func anEntrysRunbottleOfAnotherBuildIsAWarning() throws {
        let image = RunbottleImage.bytes
        let trampoline = try #require(RunbottleTrampoline.byMachine[ELF.EM_X86_64])
        let last = try #require(image.firstRange(of: trampoline)).upperBound - 2
        try #require(Array(image[last..<(last + 2)]) == [0x0f, 0x0b], "the trampoline no longer ends with ud2")
        let result = try Sandbox.run("""
            $B install >/dev/null
            mkdir -p /run/other && cp /usr/libexec/runbottle /run/other/runbottle
            printf '\\220\\220' | dd of=/run/other/runbottle bs=1 seek=\(last) conv=notrunc status=none
            $B install --interpreter /run/other/runbottle --no-persist >/dev/null
            $B status
            echo ---
            $B install >/dev/null
            $B status
            """)
        let parts = try sections(of: result, 2)
        for entry in ["BOTTLE", "BOTTLE-privileged"] {
            #expect(parts[0].contains("canary through \(entry): ok (argv, /proc/self/exe, loader, auxv as native)\n"), "\(parts[0])")
            #expect(parts[0].contains("warning: entry \(entry): its runbottle is another build's and does not take the trampoline this binfmt-reg seals into PT_INTERP slots, so every exec through it copies its own into a memfd (about 20 µs more; bottle(5)): binfmt-reg install writes this build's runbottle and registers the entry again\n"), "\(parts[0])")
        }
        #expect(parts[0].hasSuffix("status: all well\n"), "\(parts[0])")
        #expect(!parts[1].contains("memfd"), "\(parts[1])")
        #expect(parts[1].hasSuffix("status: all well\n"), "\(parts[1])")
    }

    @Test func disabledEntriesFail() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            $B disable >/dev/null
            $B status && exit 9 || echo "status $?"
            echo ---
            $B status --json && exit 9 || true
            """)
        let parts = try sections(of: result, 2)
        #expect(parts[0].contains("entry BOTTLE (ordinary): disabled\n"))
        #expect(parts[0].contains("problem: BOTTLE is disabled (binfmt-reg enable)\n"))
        #expect(!parts[0].contains("canary through BOTTLE"))
        // The PT_INTERP dispatch does not depend on the entries.
        #expect(parts[0].contains("canary through PT_INTERP: ok (argv, /proc/self/exe, loader, auxv as native)\n"))
        #expect(parts[0].contains("dispatch binfmt (note types 1 and 2, seal --dispatch binfmt): no enabled entry: "))
        #expect(parts[0].hasSuffix("status 1\n"))
        let json = try StatusDocument(parts[1])
        #expect(json.messages.contains("BOTTLE is disabled (binfmt-reg enable)"))
        #expect(json.messages.contains("BOTTLE-privileged is disabled (binfmt-reg enable)"))
        #expect(json.problems.filter { $0.code == .entryDisabled }.count == 2)
        #expect(json.report.canary.isEmpty)
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
        let parts = try sections(of: result, 2)
        #expect(parts[0].contains("conflict: entry THIEF (/bin/echo) matches ordinary sealed binaries and takes them first\n"))
        #expect(parts[0].contains("canary through BOTTLE: FAILED"))
        #expect(parts[0].contains("canary through BOTTLE-privileged: ok"))
        #expect(parts[0].contains("status 1\n"))
        let json = try StatusDocument(parts[1])
        let conflicts = json.report.conflicts
        #expect(conflicts.count == 1)
        #expect(conflicts.first?.name == "THIEF" && conflicts.first?.winning == true)
        #expect(json.problems.contains { $0.code == .conflictingEntry })
        // The failed canary's detail is one line, and the check says it failed.
        let failed = json.report.canary.flatMap(\.checks).filter { !$0.ok }
        #expect(!failed.isEmpty && failed.allSatisfy { ($0.detail ?? "").isEmpty == false && $0.detail?.contains("\n") == false }, "\(failed)")
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

    /// As root with uid 65534 mapped, status also runs the canaries as that ordinary user:
    /// through the entries runbottle holds no capability for it, so it runs the loader in its
    /// explicit mode (a warning, once); through the PT_INTERP dispatch the exec is native.
    @Test func anOrdinaryUserGetsExplicitModeThroughTheEntriesAndNativeThroughPTInterp() throws {
        let result = try Sandbox.runWithUnprivilegedUser("""
            $B install >/dev/null
            $B status
            """)
        #expect(result.succeeded, "\(result)")
        let out = result.stdout
        #expect(out.contains("""
            canary through BOTTLE: ok (argv, /proc/self/exe, loader, auxv as native)
            canary through BOTTLE-privileged: ok (argv, /proc/self/exe, loader, auxv as native)
            canary through BOTTLE as uid 65534: ok in the loader's explicit mode (argv right, /proc/self/exe names runbottle)
            canary through BOTTLE-privileged as uid 65534: ok in the loader's explicit mode (argv right, /proc/self/exe names runbottle)
            PT_INTERP dispatch: /usr/libexec/runbottle: present, capability none
            canary through PT_INTERP: ok (argv, /proc/self/exe, loader, auxv as native)
            canary through PT_INTERP as uid 65534: ok (argv, /proc/self/exe, loader, auxv as native)
            dispatch PT_INTERP (note type 3, seal's default): through /usr/libexec/runbottle: native for uid 0 and uid 65534
            dispatch binfmt (note types 1 and 2, seal --dispatch binfmt): through BOTTLE and BOTTLE-privileged: native for uid 0; the loader's explicit mode (/proc/self/exe names runbottle) for uid 65534
            warning: for ordinary users (uid 65534) the binfmt dispatch runs the loader in explicit mode: /proc/self/exe names runbottle (argv and $ORIGIN stay right); the PT_INTERP dispatch, seal's default, is native for them
            status: all well

            """), "\(out)")
        #expect(out.components(separatedBy: "warning: ").count == 2, "one warning: \(out)")
    }

    /// An entry registered without C (an earlier version's BOTTLE, PO) is a problem: through it
    /// setuid and file-capability programs would lose their privileges. install puts C back.
    @Test func anEntryWithoutCIsAProblem() throws {
        let result = try Sandbox.run("""
            $B install --no-persist >/dev/null
            echo -1 > $D/BOTTLE
            $B line | sed -n '1s/:POCF$/:PO/p' > $D/register
            grep flags: $D/BOTTLE
            $B status --no-persist && exit 9 || echo "status $?"
            echo ---
            $B install --no-persist
            $B status --no-persist | tail -1
            """)
        let parts = try sections(of: result, 2)
        #expect(parts[0].hasPrefix("flags: PO\n"))
        #expect(parts[0].contains("canary through BOTTLE: ok"), "the entry works, C or not: \(parts[0])")
        #expect(parts[0].hasSuffix("""
            problem: BOTTLE has flags PO, without C: setuid and file-capability programs lose their privileges through it (binfmt-reg install registers POCF)
            status: 1 problem(s)
            status 1

            """), "\(parts[0])")
        #expect(parts[1] == """
            /usr/libexec/runbottle: already installed, nothing changed
            BOTTLE: replaced: flags PO → POCF
            BOTTLE-privileged: already installed, nothing changed
            status: all well

            """)
    }

    /// runbottle carrying a file capability (an earlier version's install) is a problem, named
    /// once although both the entries and the PT_INTERP dispatch use that file; install removes it.
    @Test func runbottleCarryingACapabilityIsAProblem() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            setcap cap_checkpoint_restore+ep /usr/libexec/runbottle
            $B status && exit 9 || echo "status $?"
            echo ---
            $B install | head -1
            $B status --json | grep -c '"capability" : "' || true
            $B status | tail -1
            """)
        let parts = try sections(of: result, 2)
        #expect(parts[0].contains("interpreter /usr/libexec/runbottle: present, capability cap_checkpoint_restore=ep\n"))
        #expect(parts[0].contains("PT_INTERP dispatch: /usr/libexec/runbottle: present, capability cap_checkpoint_restore=ep\n"))
        #expect(parts[0].hasSuffix("""
            problem: interpreter /usr/libexec/runbottle carries the file capability cap_checkpoint_restore=ep: running it directly is a privilege-gaining exec for ordinary users (binfmt-reg install removes it)
            status: 1 problem(s)
            status 1

            """), "\(parts[0])")
        #expect(parts[1] == """
            /usr/libexec/runbottle: installed runbottle (removed the earlier version's file capability cap_checkpoint_restore=ep)
            0
            status: all well

            """)
    }

    /// The persistence file is whichever bottle.conf systemd-binfmt reads first: a packaged
    /// /usr/lib one counts, and an /etc one overrides it.
    @Test func persistenceFollowsSystemdBinfmtPrecedence() throws {
        let result = try Sandbox.run("""
            mount -t tmpfs tmpfs /usr/lib/binfmt.d
            # Persisting (install's record says so), but by a package's file alone.
            $B install >/dev/null && rm /etc/binfmt.d/bottle.conf
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

/// status names the instance it reads: the host's in the initial user namespace, a namespace's
/// own in a user namespace (Linux 6.7 and later).
@Test func statusNamesTheInstanceItActsOn() throws {
    let host = try run([try BuiltTools.binfmtReg(), "status", "--json"])
    #expect(host.stdout.contains("\"instance\" : \"host\""), "\(host)")
    let own = try inPrivateBinfmt("\(try BuiltTools.binfmtReg()) status --json || true")
    #expect(own.stdout.contains("\"instance\" : \"user-namespace\""), "\(own)")
}
