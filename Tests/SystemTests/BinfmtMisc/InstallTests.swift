// install, uninstall, enable and disable against a private binfmt_misc instance, with the real
// runbottle and a real glibc bottle sealed for the binfmt dispatch (its PT_INTERP slot naming no
// file, so that it only runs when an entry takes it).
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct InstallTests {
    /// Both entries POCF, runbottle without any file capability (getcap prints nothing).
    @Test func installThenASealedBinaryRunsAsIfNative() throws {
        let (directory, bottle) = try Sandbox.bottle("install-exec")
        defer { directory.remove() }
        let result = try Sandbox.run("""
            $B install
            getcap /usr/libexec/runbottle
            echo "getcap done"
            stat -c '%a %u' /usr/libexec/runbottle
            grep -h flags: $D/BOTTLE $D/BOTTLE-privileged
            cmp /etc/binfmt.d/bottle.conf <($B line) && echo persisted
            cd \(bottle.root)/bin && (exec -a my-argv0 ./hello one 'two words')
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.hasPrefix("""
            /usr/libexec/runbottle: installed runbottle
            BOTTLE: registered (POCF)
            BOTTLE-privileged: registered (POCF)
            /etc/binfmt.d/bottle.conf: written (systemd-binfmt registers it at boot)
            getcap done
            755 0
            flags: POCF
            flags: POCF

            """), "\(result)")
        #expect(result.stdout.contains("persisted\n"))
        #expect(result.stdout.contains("exe=\(bottle.program)\n"))
        #expect(result.stdout.contains("argv[0]=my-argv0\nargv[1]=one\nargv[2]=two words\n"))
    }

    @Test func installingTwiceChangesNothingAndSaysSo() throws {
        let result = try Sandbox.run("""
            $B install
            before=$(cat $D/BOTTLE $D/BOTTLE-privileged; stat -c %Y.%i /usr/libexec/runbottle /etc/binfmt.d/bottle.conf)
            echo ---
            $B install
            after=$(cat $D/BOTTLE $D/BOTTLE-privileged; stat -c %Y.%i /usr/libexec/runbottle /etc/binfmt.d/bottle.conf)
            [ "$before" = "$after" ] && echo same
            """)
        #expect(result.succeeded, "\(result)")
        let second = String(result.stdout.split(separator: "---\n").last ?? "")
        #expect(second == """
            /usr/libexec/runbottle: already installed, nothing changed
            BOTTLE: already installed, nothing changed
            BOTTLE-privileged: already installed, nothing changed
            /etc/binfmt.d/bottle.conf: already up to date
            same

            """)
    }

    @Test func aDifferentEntryOfTheSameNameIsReplacedSayingWhatChanged() throws {
        let result = try Sandbox.run("""
            printf ':BOTTLE:M::\\x7fBOT::/bin/true:P' > $D/register
            $B install 2>&1 && exit 9 || echo "status $?"
            $B install --force
            cat $D/BOTTLE
            """)
        #expect(result.succeeded, "\(result)")
        // Another tool's entry of our name is left alone unless --force says to replace it.
        #expect(result.stdout.hasPrefix("binfmt-reg: /proc/sys/fs/binfmt_misc/BOTTLE: install: an entry of this name that binfmt-reg did not register (interpreter /bin/true): --force replaces it\nstatus 1\n"), "\(result)")
        let replaced = result.stdout.lines(startingWith: "BOTTLE: replaced: ")
        #expect(replaced.count == 1)
        let line = String(replaced.first ?? "")
        #expect(line.contains("interpreter /bin/true → /usr/libexec/runbottle"))
        #expect(line.contains("flags P → POCF"))
        #expect(line.contains("magic/mask: not a BOTTLE magic → ELFCLASS64 little-endian x86_64 (e_machine 62), BOTTLE note type 1 (ordinary)"))
        #expect(result.stdout.contains("interpreter /usr/libexec/runbottle\nflags: POCF\n"))
    }

    /// What an earlier version installed: runbottle with cap_checkpoint_restore+ep, BOTTLE
    /// without C (PO) and BOTTLE-privileged POC, and their binfmt.d file. install removes the
    /// capability, re-registers both entries POCF and rewrites the file; again, nothing changes.
    @Test func installRemovesTheEarlierVersionsCapabilityAndRegistersPOCF() throws {
        let result = try Sandbox.run("""
            $B install --no-persist >/dev/null
            echo -1 > $D/BOTTLE; echo -1 > $D/BOTTLE-privileged
            $B line | sed -n '1s/:POCF$/:PO/p' > $D/register
            $B line | sed -n '2s/:POCF$/:POC/p' > $D/register
            $B line | sed -e '1s/:POCF$/:PO/' -e '2s/:POCF$/:POC/' > /etc/binfmt.d/bottle.conf
            setcap cap_checkpoint_restore+ep /usr/libexec/runbottle
            getcap /usr/libexec/runbottle
            grep -h flags: $D/BOTTLE $D/BOTTLE-privileged
            echo ---
            $B install
            getcap /usr/libexec/runbottle
            grep -h flags: $D/BOTTLE $D/BOTTLE-privileged
            cmp /etc/binfmt.d/bottle.conf <($B line) && echo persisted
            echo ---
            $B install
            getcap /usr/libexec/runbottle
            """)
        #expect(result.succeeded, "\(result)")
        let parts = result.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 3, "\(result)")
        #expect(parts[0] == "/usr/libexec/runbottle cap_checkpoint_restore=ep\nflags: PO\nflags: POC\n")
        #expect(parts[1] == """
            /usr/libexec/runbottle: installed runbottle (removed the earlier version's file capability cap_checkpoint_restore=ep)
            BOTTLE: replaced: flags PO → POCF
            BOTTLE-privileged: replaced: flags POC → POCF
            /etc/binfmt.d/bottle.conf: written (systemd-binfmt registers it at boot)
            flags: POCF
            flags: POCF
            persisted

            """)
        #expect(parts[2] == """
            /usr/libexec/runbottle: already installed, nothing changed
            BOTTLE: already installed, nothing changed
            BOTTLE-privileged: already installed, nothing changed
            /etc/binfmt.d/bottle.conf: already up to date

            """)
    }

    @Test func droppingThePrivilegedEntryRemovesIt() throws {
        let result = try Sandbox.run("""
            $B install
            $B install --no-privileged-entry
            ls $D
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("BOTTLE-privileged: removed (not part of this installation)\n"))
        #expect(result.stdout.hasSuffix("BOTTLE\nregister\nstatus\n"))
    }

    @Test func uninstallRemovesEntriesAndFileAndOnRequestTheInterpreter() throws {
        let result = try Sandbox.run("""
            printf ':OTHER:E::other::/bin/true:' > $D/register
            $B install
            $B uninstall
            ls $D; ls /etc/binfmt.d; ls /usr/libexec
            echo ---
            $B uninstall --remove-interpreter
            ls /usr/libexec | wc -l
            echo ---
            $B uninstall
            """)
        #expect(result.succeeded, "\(result)")
        let parts = result.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 3)
        #expect(parts[0].hasSuffix("""
            BOTTLE: removed
            BOTTLE-privileged: removed
            /etc/binfmt.d/bottle.conf: removed
            OTHER
            register
            status
            runbottle

            """))
        #expect(parts[1] == "/usr/libexec/runbottle: removed\n0\n")
        #expect(parts[2] == "nothing installed, nothing changed\n")
    }

    /// In a mount namespace where binfmt_misc is not mounted, the instance and its entries are
    /// still there: uninstall mounts it, as install does, and removes them.
    @Test func uninstallMountsBinfmtMiscWhereItIsNotMounted() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            # Every mount goes: one of the host's instance may lie under the sandbox's, when
            # another test holds it mounted meanwhile.
            unshare --mount --propagation private sh -c "while grep -q ' $D ' /proc/self/mounts; do umount $D; done; $B uninstall --no-persist"
            echo ---
            ls $D
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == """
            binfmt_misc: mounted at /proc/sys/fs/binfmt_misc (this user namespace's own instance)
            BOTTLE: removed
            BOTTLE-privileged: removed
            ---
            register
            status

            """, "\(result)")
    }

    /// install, uninstall, enable and disable hold an exclusive flock on the binfmt_misc
    /// directory: a second run waits for the first instead of racing its check-then-remove.
    @Test(arguments: ["install --no-persist", "uninstall --no-persist", "enable", "disable"])
    func aSecondRunWaitsForTheLock(command: String) throws {
        let result = try Sandbox.run("""
            $B install --no-persist >/dev/null
            log=$(mktemp)
            flock $D -c "touch $log.held; sleep 1; echo holder done >> $log" &
            while [ ! -e $log.held ]; do sleep 0.01; done
            $B \(command) >/dev/null && echo "\(command) done" >> $log
            wait
            cat $log
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "holder done\n\(command) done\n", "\(result)")
    }

    /// Concurrent installs and uninstalls, each of which checks an entry and then changes it:
    /// every one succeeds.
    @Test func concurrentInstallsAndUninstallsAllSucceed() throws {
        let result = try Sandbox.run("""
            for i in $(seq 30); do $B install --no-persist >/dev/null || echo "install failed"; done &
            for i in $(seq 30); do $B uninstall --no-persist >/dev/null || echo "uninstall failed"; done &
            wait
            echo finished
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "finished\n", "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
    }

    /// With binfmt_misc switched off as a whole, the entries register but nothing runs: install
    /// says so.
    @Test func installSaysWhenBinfmtMiscIsGloballyDisabled() throws {
        let result = try Sandbox.run("""
            echo 0 > $D/status
            $B install --no-persist
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.hasSuffix("""
            binfmt_misc: globally disabled: no entry runs until /proc/sys/fs/binfmt_misc/status is enabled (echo 1 > /proc/sys/fs/binfmt_misc/status)

            """), "\(result)")
    }

    /// install --json: what changed, then the status of the chain, in one run (the installer
    /// image's `docker run IMAGE install --json`).
    @Test func installJSONSaysWhatChangedAndTheStatus() throws {
        let result = try Sandbox.run("""
            out=$(mktemp)
            $B install --no-persist --json > $out; echo "exit $?"
            python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["ok"], d["changes"][1], [e["name"] for e in d["status"]["entries"]])' $out
            rm $out
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "exit 0\nTrue BOTTLE: registered (POCF) ['BOTTLE', 'BOTTLE-privileged']\n", "\(result)")
    }

    /// -q on the entry commands: no output, the exit status says how it went.
    @Test func quietEntryCommandsPrintNothing() throws {
        let result = try Sandbox.run("""
            for c in "install" "disable" "enable" "status --no-persist" "uninstall"; do
                out=$($B $c -q 2>&1) && rc=0 || rc=$?; echo "$c: $rc [$out]"
            done
            $B enable -q 2>&1 && rc=0 || rc=$?; echo "enable with nothing registered: $rc"
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == """
            install: 0 []
            disable: 0 []
            enable: 0 []
            status --no-persist: 0 []
            uninstall: 0 []
            binfmt-reg: /proc/sys/fs/binfmt_misc/BOTTLE: enable: not registered (run binfmt-reg install)
            enable with nothing registered: 1

            """, "\(result)")
    }

    /// install records how it registered the entries in /run/binfmt-reg; status follows it, so
    /// an install --no-persist reads as all well without --no-persist repeated to status, and
    /// uninstall removes the record.
    @Test func statusFollowsWhatInstallRecorded() throws {
        let result = try Sandbox.run("""
            $B install --no-persist >/dev/null
            cat /run/binfmt-reg/BOTTLE.state | head -1
            $B status >/dev/null && echo "status all well"
            $B uninstall >/dev/null
            ls /run/binfmt-reg
            $B install >/dev/null
            rm /etc/binfmt.d/bottle.conf
            $B status 2>&1 | grep -c 'bottle.conf is missing' || true
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "persist no\nstatus all well\n1\n", "\(result)")
    }

    /// uninstall leaves another tool's entry of our name alone unless --force; our own entries
    /// (those that run our interpreter) go without it.
    @Test func uninstallRemovesAnotherToolsEntryOnlyWithForce() throws {
        let result = try Sandbox.run("""
            printf ':BOTTLE:M::\\x7fBOT::/bin/true:P' > $D/register
            $B uninstall --no-persist 2>&1 && exit 9 || echo "status $?"
            ls $D | tr '\\n' ' '; echo
            $B uninstall --no-persist --force
            $B install --no-persist >/dev/null && $B uninstall --no-persist
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == """
            binfmt-reg: /proc/sys/fs/binfmt_misc/BOTTLE: uninstall: an entry of this name that binfmt-reg did not register (interpreter /bin/true): --force removes it
            status 1
            BOTTLE register status 
            BOTTLE: removed
            BOTTLE: removed
            BOTTLE-privileged: removed

            """, "\(result)")
    }

    /// Another tool's entry registered after ours takes sealed binaries first: status says so and
    /// advises install --reregister, which puts ours ahead again; status is then all well.
    @Test func reregisterPutsOurEntriesAheadOfAShadowingOne() throws {
        let result = try Sandbox.run("""
            $B install --no-persist >/dev/null
            $B line --name OTHER --interpreter /bin/true --no-privileged-entry > $D/register
            $B status 2>&1 | grep -c 'run binfmt-reg install --reregister to put ours ahead of it' || true
            $B install --no-persist | grep -c 'already installed, nothing changed'
            $B install --no-persist --reregister
            $B status >/dev/null && echo "status all well"
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == """
            1
            3
            /usr/libexec/runbottle: already installed, nothing changed
            BOTTLE: registered again, ahead of every older registration
            BOTTLE-privileged: registered again, ahead of every older registration
            status all well

            """, "\(result)")
    }

    /// uninstall is all or nothing: with /etc/binfmt.d read-only it fails on the file before
    /// removing any entry, and the registration stays as it was.
    @Test func uninstallWithAReadOnlyBinfmtDChangesNothing() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            before=$(cat $D/BOTTLE $D/BOTTLE-privileged /etc/binfmt.d/bottle.conf)
            mount -o remount,ro /etc/binfmt.d
            $B uninstall 2>&1 && exit 9 || echo "status $?"
            [ "$before" = "$(cat $D/BOTTLE $D/BOTTLE-privileged /etc/binfmt.d/bottle.conf)" ] && echo unchanged
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "binfmt-reg: /etc/binfmt.d/bottle.conf: remove: Read-only file system\nstatus 1\nunchanged\n", "\(result)")
    }

    @Test func disableAndEnable() throws {
        let (directory, bottle) = try Sandbox.bottle("disable")
        defer { directory.remove() }
        let result = try Sandbox.run("""
            $B install
            $B disable
            head -1 $D/BOTTLE $D/BOTTLE-privileged
            \(bottle.program) 2>/dev/null && exit 9 || echo "while disabled: $?"
            $B disable
            $B enable
            head -1 $D/BOTTLE
            \(bottle.program) | grep loader=
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("BOTTLE: disabled\nBOTTLE-privileged: disabled\n"))
        #expect(result.stdout.contains("==> /proc/sys/fs/binfmt_misc/BOTTLE <==\ndisabled\n"))
        // Disabled: no entry takes it, so the kernel execs it itself and looks for the program
        // interpreter its PT_INTERP slot names, which does not exist: ENOENT, 127 in bash.
        #expect(result.stdout.contains("while disabled: 127\n"))
        #expect(result.stdout.contains("BOTTLE: already disabled\nBOTTLE-privileged: already disabled\n"))
        // disable masked the binfmt.d file install wrote; enable writes the lines back.
        #expect(result.stdout.contains("BOTTLE-privileged: disabled\n/etc/binfmt.d/bottle.conf: masked (a link to /dev/null): the entries stay disabled after a reboot\n"))
        #expect(result.stdout.contains("BOTTLE: enabled\nBOTTLE-privileged: enabled\n/etc/binfmt.d/bottle.conf: written (systemd-binfmt registers it at boot)\nenabled\n"))
        #expect(result.stdout.hasSuffix("loader=\(bottle.loader)\n"))
    }

    @Test func enableWithNothingRegisteredFails() throws {
        let result = try Sandbox.run("""
            $B enable 2>&1 && exit 9 || echo "status $?"
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "binfmt-reg: /proc/sys/fs/binfmt_misc/BOTTLE: enable: not registered (run binfmt-reg install)\nstatus 1\n")
    }

    /// F (the default): the kernel opens runbottle at registration, so a chroot holding only the
    /// bottle (and /proc) runs it; without F (--flags POC) the same exec fails with ENOENT.
    @Test func fixBinaryRunsInAChrootWithoutTheInterpreter() throws {
        let (directory, bottle) = try Sandbox.bottle("chroot")
        defer { directory.remove() }
        let result = try Sandbox.run("""
            mkdir -p \(bottle.root)/proc
            mount --rbind /proc \(bottle.root)/proc
            [ ! -e \(bottle.root)/usr/libexec/runbottle ]
            $B install --no-persist
            grep flags: $D/BOTTLE
            chroot \(bottle.root) /bin/hello in-chroot
            echo ---
            $B install --flags POC --no-persist
            chroot \(bottle.root) /bin/hello in-chroot 2>&1 && exit 9 || echo "without F: $?"
            """)
        #expect(result.succeeded, "\(result)")
        let parts = result.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 2)
        #expect(parts[0].contains("flags: POCF\n"))
        #expect(parts[0].contains("exe=/bin/hello\nloader=/lib/ld-linux-x86-64.so.2\nargv[0]=/bin/hello\nargv[1]=in-chroot\n"))
        #expect(parts[1].contains("BOTTLE: replaced: flags POCF → POC\n"))
        #expect(parts[1].contains("BOTTLE-privileged: replaced: flags POCF → POC\n"))
        #expect(parts[1].contains("without F: 127"))
    }

    /// --interpreter registers that file as it is: no runbottle is installed.
    @Test func aGivenInterpreterIsRegisteredAsItIs() throws {
        let (directory, bottle) = try Sandbox.bottle("given-interpreter")
        defer { directory.remove() }
        let runbottle = try BuiltTools.writeRunbottle(into: directory.path, name: "my-runbottle")
        let result = try Sandbox.run("""
            $B install --interpreter \(runbottle) --no-persist
            find /usr/libexec /etc/binfmt.d -type f | wc -l
            grep interpreter $D/BOTTLE
            \(bottle.program) | grep loader=
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == """
            BOTTLE: registered (POCF)
            BOTTLE-privileged: registered (POCF)
            0
            interpreter \(runbottle)
            loader=\(bottle.loader)

            """)
    }

    /// The classic container set-up: the host (here the sandbox) registers with F (the default); a container
    /// (its own user, mount and PID namespaces, rooted in a directory holding only the bottle)
    /// runs sealed binaries through the host's entry without runbottle inside.
    @Test func aContainerWithoutRunbottleUsesTheHostsFixedEntry() throws {
        let (directory, bottle) = try Sandbox.bottle("container")
        defer { directory.remove() }
        let result = try Sandbox.run("""
            mkdir -p \(bottle.root)/proc
            $B install --no-persist >/dev/null
            container() {
                unshare --user --map-root-user --mount --pid --fork --mount-proc=/proc \
                    --root=\(bottle.root) /bin/hello in-container
            }
            container
            $B install --flags POC --no-persist >/dev/null
            container 2>/dev/null && exit 9 || echo "without F: $?"
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "exe=/bin/hello\nloader=/lib/ld-linux-x86-64.so.2\nargv[0]=/bin/hello\nargv[1]=in-container\nwithout F: 127\n")
    }
}
