// install, uninstall, enable and disable against a private binfmt_misc instance, with the real
// runbottle and a real sealed glibc bottle.
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct InstallTests {
    @Test func installThenASealedBinaryRunsAsIfNative() throws {
        let (directory, bottle) = try Sandbox.bottle("install-exec")
        defer { directory.remove() }
        let result = try Sandbox.run("""
            $B install
            getcap /usr/libexec/runbottle
            stat -c '%a %u' /usr/libexec/runbottle
            cmp /etc/binfmt.d/bottle.conf <($B line) && echo persisted
            cd \(bottle.root)/bin && (exec -a my-argv0 ./hello one 'two words')
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("BOTTLE: registered (PO)\n"))
        #expect(result.stdout.contains("BOTTLE-privileged: registered (POC)\n"))
        #expect(result.stdout.contains("/usr/libexec/runbottle cap_checkpoint_restore=ep\n"))
        #expect(result.stdout.contains("755 0\n"))
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
            /usr/libexec/runbottle: already installed (cap_checkpoint_restore=ep), nothing changed
            BOTTLE: already installed, nothing changed
            BOTTLE-privileged: already installed, nothing changed
            /etc/binfmt.d/bottle.conf: already up to date
            same

            """)
    }

    @Test func aDifferentEntryOfTheSameNameIsReplacedSayingWhatChanged() throws {
        let result = try Sandbox.run("""
            printf ':BOTTLE:M::\\x7fBOT::/bin/true:P' > $D/register
            $B install --credentials
            cat $D/BOTTLE
            """)
        #expect(result.succeeded, "\(result)")
        let replaced = result.stdout.lines(startingWith: "BOTTLE: replaced: ")
        #expect(replaced.count == 1)
        let line = String(replaced.first ?? "")
        #expect(line.contains("interpreter /bin/true → /usr/libexec/runbottle"))
        #expect(line.contains("flags P → POC"))
        #expect(line.contains("magic/mask: not a BOTTLE magic → ELFCLASS64 little-endian x86_64 (e_machine 62), BOTTLE note type 1 (ordinary)"))
        #expect(result.stdout.contains("interpreter /usr/libexec/runbottle\nflags: POC\n"))
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

    @Test func disableAndEnable() throws {
        let (directory, bottle) = try Sandbox.bottle("disable")
        defer { directory.remove() }
        let result = try Sandbox.run("""
            $B install
            $B disable
            head -1 $D/BOTTLE $D/BOTTLE-privileged
            \(bottle.program) | grep loader=
            $B disable
            $B enable
            head -1 $D/BOTTLE
            \(bottle.program) | grep loader=
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("BOTTLE: disabled\nBOTTLE-privileged: disabled\n"))
        #expect(result.stdout.contains("==> /proc/sys/fs/binfmt_misc/BOTTLE <==\ndisabled\n"))
        // Disabled: the kernel runs it natively, with the loader named in the PT_INTERP slot.
        #expect(result.stdout.contains("loader=/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"))
        #expect(result.stdout.contains("BOTTLE: already disabled\nBOTTLE-privileged: already disabled\n"))
        #expect(result.stdout.contains("BOTTLE: enabled\nBOTTLE-privileged: enabled\nenabled\n"))
        #expect(result.stdout.hasSuffix("loader=\(bottle.loader)\n"))
    }

    @Test func enableWithNothingRegisteredFails() throws {
        let result = try Sandbox.run("""
            $B enable 2>&1 && exit 9 || echo "status $?"
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "binfmt-reg: /proc/sys/fs/binfmt_misc/BOTTLE: enable: not registered (run binfmt-reg install)\nstatus 1\n")
    }

    /// F: the kernel opens runbottle at registration, so a chroot holding only the bottle (and
    /// /proc) runs it; without F the same exec fails with ENOENT.
    @Test func fixBinaryRunsInAChrootWithoutTheInterpreter() throws {
        let (directory, bottle) = try Sandbox.bottle("chroot")
        defer { directory.remove() }
        let result = try Sandbox.run("""
            mkdir -p \(bottle.root)/proc
            mount --rbind /proc \(bottle.root)/proc
            [ ! -e \(bottle.root)/usr/libexec/runbottle ]
            $B install --fix-binary --no-persist
            grep flags: $D/BOTTLE
            chroot \(bottle.root) /bin/hello in-chroot
            echo ---
            $B install --no-persist
            chroot \(bottle.root) /bin/hello in-chroot 2>&1 && exit 9 || echo "without F: $?"
            """)
        #expect(result.succeeded, "\(result)")
        let parts = result.stdout.components(separatedBy: "---\n")
        try #require(parts.count == 2)
        #expect(parts[0].contains("flags: POF\n"))
        #expect(parts[0].contains("exe=/bin/hello\nloader=/lib/ld-linux-x86-64.so.2\nargv[0]=/bin/hello\nargv[1]=in-chroot\n"))
        #expect(parts[1].contains("BOTTLE: replaced: flags POF → PO"))
        #expect(parts[1].contains("without F: 127"))
    }

    /// --interpreter registers that file as it is: no runbottle is installed, no capability set.
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
            BOTTLE: registered (PO)
            BOTTLE-privileged: registered (POC)
            0
            interpreter \(runbottle)
            loader=\(bottle.loader)

            """)
    }

    /// The classic container set-up: the host (here the sandbox) registers with F; a container
    /// (its own user, mount and PID namespaces, rooted in a directory holding only the bottle)
    /// runs sealed binaries through the host's entry without runbottle inside.
    @Test func aContainerWithoutRunbottleUsesTheHostsFixedEntry() throws {
        let (directory, bottle) = try Sandbox.bottle("container")
        defer { directory.remove() }
        let result = try Sandbox.run("""
            mkdir -p \(bottle.root)/proc
            $B install --fix-binary --no-persist >/dev/null
            container() {
                unshare --user --map-root-user --mount --pid --fork --mount-proc=/proc \
                    --root=\(bottle.root) /bin/hello in-container
            }
            container
            $B install --no-persist >/dev/null
            container 2>/dev/null && exit 9 || echo "without F: $?"
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "exe=/bin/hello\nloader=/lib/ld-linux-x86-64.so.2\nargv[0]=/bin/hello\nargv[1]=in-container\nwithout F: 127\n")
    }
}
