// The two entries, both POCF: with C the kernel computes credentials from the sealed binary, as a
// native exec does, and runbottle carries no capability of its own. A program with a file
// capability, sealed for the binfmt dispatch (note type 2), goes to BOTTLE-privileged and keeps
// its capability; an ordinary program (note type 1) run by an ordinary user through BOTTLE gains
// nothing and runs in the loader's explicit mode (/proc/self/exe names runbottle), AT_SECURE 0.
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct PrivilegedEntryTests {
    @Test func eachKindOfProgramGetsWhatANativeExecGives() throws {
        let directory = try TemporaryDirectory("privileged")
        defer { directory.remove() }
        chmod(directory.path, 0o755)
        let source = Fixture.source("caps-probe.c")
        let built = try Bottles.build(name: "caps", source: source, in: directory.path, seal: false)
        // A privileged program's loader must sit in root-owned directories no one else can
        // write (runbottle(8)), so the bottle moves from /tmp to a 0755 tmpfs on a new directory
        // of /run, where no checkout of this repository lives (a tmpfs over it would hide $B). The
        // sealed programs' PT_INTERP slot names no file: they run only if an entry takes them.
        // caps-native and plain-native stay unsealed: the kernel's own exec, for reference.
        let top = "/run/bottle-privileged-\(getpid())"
        let bin = top + "/b/bin"
        let result = try Sandbox.runWithUnprivilegedUser("""
            mkdir -m 0755 \(top) && trap 'umount \(top); rmdir \(top)' EXIT
            mount -t tmpfs -o mode=0755 tmpfs \(top)
            cp -a \(built.root) \(top)/b && chmod 0755 \(top)/b
            for copy in plain caps-native plain-native; do cp \(bin)/caps \(bin)/$copy; done
            setcap cap_net_raw+ep \(bin)/caps
            setcap cap_net_raw+ep \(bin)/caps-native
            $B seal --dispatch binfmt --interpreter \(Sandbox.absentInterpreter) \(bin)/caps \(bin)/plain >/dev/null
            $B inspect --json \(bin)/caps \(bin)/plain | grep -E '"(noteType|privileged)"'
            $B install >/dev/null
            grep -h flags: $D/BOTTLE $D/BOTTLE-privileged
            as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
            echo "privileged:"; as_user \(bin)/caps
            echo "ordinary:"; as_user \(bin)/plain
            echo "ordinary as root:"; \(bin)/plain | grep exe=
            echo "native privileged:"; as_user \(bin)/caps-native
            echo "native ordinary:"; as_user \(bin)/plain-native
            $B disable >/dev/null
            as_user \(bin)/caps 2>/dev/null && exit 9 || echo "privileged, entries disabled: $?"
            as_user \(bin)/plain 2>/dev/null && exit 9 || echo "ordinary, entries disabled: $?"
            """)
        #expect(result.succeeded, "\(result)")
        let out = result.stdout
        #expect(out.hasPrefix("""
                  "noteType" : 2,
                  "privileged" : true,
                  "noteType" : 1,
                  "privileged" : false,
            flags: POCF
            flags: POCF

            """), "\(out)")
        // cap_net_raw is bit 13: 0x2000. The sealed program keeps it through BOTTLE-privileged,
        // with AT_SECURE as natively; runbottle, holding no CAP_CHECKPOINT_RESTORE, cannot move
        // /proc/self/exe and runs the loader in its explicit mode.
        #expect(out.contains("privileged:\nCapEff:\t0000000000002000\nexe=/usr/libexec/runbottle uid=65534 euid=65534 secure=1\n"),
                "\(out)")
        #expect(out.contains("native privileged:\nCapEff:\t0000000000002000\nexe=\(bin)/caps-native uid=65534 euid=65534 secure=1\n"),
                "\(out)")
        // An ordinary program by an ordinary user: no capability gained, AT_SECURE 0, explicit
        // mode; the namespace's root (who holds CAP_CHECKPOINT_RESTORE) gets the native exe.
        #expect(out.contains("ordinary:\nCapEff:\t0000000000000000\nexe=/usr/libexec/runbottle uid=65534 euid=65534 secure=0\n"),
                "\(out)")
        #expect(out.contains("ordinary as root:\nexe=\(bin)/plain uid=0 euid=0 secure=0\n"), "\(out)")
        #expect(out.contains("native ordinary:\nCapEff:\t0000000000000000\nexe=\(bin)/plain-native uid=65534 euid=65534 secure=0\n"),
                "\(out)")
        // Disabled, nothing takes them: the kernel's own exec finds no interpreter (ENOENT).
        #expect(out.hasSuffix("privileged, entries disabled: 127\nordinary, entries disabled: 127\n"), "\(out)")
    }
}
