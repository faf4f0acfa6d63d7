// Bad input gets one clear line and a non-zero exit, and the registration in place stays as it was.
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct BadInputTests {
    /// Each case runs after a good install; the entries and files must be byte-identical after.
    /// Input no entry can have is a usage error (64), found before anything is read; an
    /// interpreter that is missing or sealed is found on disk (1).
    @Test(arguments: [
        ("--flags PX", 64, "binfmt-reg: invalid registration: unknown flag in \"PX\" (known: P, O, C, F)"),
        ("--name a/b", 64, "binfmt-reg: invalid registration: entry name \"a/b\" contains '/' or ':'"),
        ("--name a:b", 64, "binfmt-reg: invalid registration: entry name \"a:b\" contains '/' or ':'"),
        ("--interpreter usr/bin/true", 64, "binfmt-reg: invalid registration: interpreter \"usr/bin/true\" is not an absolute path"),
        ("--flags O", 64, "binfmt-reg: invalid registration: flags O lack P, O or C: runbottle needs the original argv[0] (P), the binary's descriptor, AT_EXECFD (O), and the binary's own credentials (C)"),
        // An earlier version's default: without C an entry would run privileged programs
        // without their privileges.
        ("--flags PO", 64, "binfmt-reg: invalid registration: flags PO lack P, O or C: runbottle needs the original argv[0] (P), the binary's descriptor, AT_EXECFD (O), and the binary's own credentials (C)"),
        ("--flags POF", 64, "binfmt-reg: invalid registration: flags POF lack P, O or C: runbottle needs the original argv[0] (P), the binary's descriptor, AT_EXECFD (O), and the binary's own credentials (C)"),
        ("--interpreter /nonexistent/runbottle", 1, "binfmt-reg: /nonexistent/runbottle: interpreter: No such file or directory"),
        ("--interpreter /usr/libexec/sealed", 1, "binfmt-reg: /usr/libexec/sealed: interpreter: entry BOTTLE would match its own interpreter (a sealed file): every exec it takes would fail with ELOOP"),
    ])
    func refusedAndNothingChanged(options: String, status: Int32, message: String) throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            cp /bin/true /usr/libexec/sealed && $B seal --dispatch binfmt --loader runbottle /usr/libexec/sealed >/dev/null
            snapshot() { cat $D/BOTTLE $D/BOTTLE-privileged /etc/binfmt.d/bottle.conf; ls $D; stat -c %i /usr/libexec/runbottle; }
            before=$(snapshot)
            err=$(mktemp)
            $B install \(options) 2>$err && exit 9 || echo "status $?"
            head -1 $err; rm -f $err
            [ "$before" = "$(snapshot)" ] && echo unchanged
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == "status \(status)\n\(message)\nunchanged\n")
    }

    /// With F the kernel opens the interpreter by path at registration: when install's new
    /// runbottle sits on a noexec mount, the kernel refuses the new entry, and the old one,
    /// registered again from the same path, cannot come back. install says what was lost
    /// instead of claiming the previous state.
    @Test func anEntryThatCannotBePutBackIsNamed() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            mount -t tmpfs -o noexec,mode=0755 tmpfs /usr/libexec
            $B install --no-persist 2>&1 && exit 9 || echo "status $?"
            ls $D | tr '\\n' ' '
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.contains("putting back the previous state failed: register BOTTLE again, it is gone: "), "\(result)")
        #expect(result.stdout.hasSuffix("status 1\nBOTTLE-privileged register status "), "\(result)")
    }

    /// F (the default) with an interpreter on a noexec mount: the kernel refuses the new entry
    /// after the old one was removed, and install puts the old one back.
    @Test func aKernelRefusalRestoresThePreviousEntry() throws {
        let result = try Sandbox.run("""
            $B install >/dev/null
            noexec=$(mktemp -d) && trap 'umount $noexec; rmdir $noexec' EXIT
            mount -t tmpfs -o noexec tmpfs $noexec
            cp /usr/libexec/runbottle $noexec/runbottle
            before=$(cat $D/BOTTLE $D/BOTTLE-privileged)
            cp /etc/binfmt.d/bottle.conf /tmp/bottle.conf.$$
            $B install --interpreter $noexec/runbottle 2>&1 && exit 9 || echo "status $?"
            [ "$before" = "$(cat $D/BOTTLE $D/BOTTLE-privileged)" ] && echo restored
            cmp /etc/binfmt.d/bottle.conf /tmp/bottle.conf.$$ && echo "same file"
            rm /tmp/bottle.conf.$$
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.hasPrefix("binfmt-reg: /proc/sys/fs/binfmt_misc/register: register BOTTLE: the kernel cannot execute the interpreter; with F it opens it at registration"))
        #expect(result.stdout.hasSuffix("status 1\nrestored\nsame file\n"))
    }

    /// The entry put back may be another tool's that only current kernels accept (magic beyond
    /// byte 128): it comes back as it was.
    @Test func aForeignEntryIsRestoredAsItWas() throws {
        let result = try Sandbox.run("""
            printf ':BOTTLE:M:200:\\x7fBOT::/bin/true:P' > $D/register
            $B disable >/dev/null
            noexec=$(mktemp -d) && trap 'umount $noexec; rmdir $noexec' EXIT
            mount -t tmpfs -o noexec tmpfs $noexec
            cp \(try BuiltTools.binfmtReg()) $noexec/interp
            before=$(cat $D/BOTTLE)
            $B install --force --no-privileged-entry --interpreter $noexec/interp 2>&1 && exit 9 || echo "status $?"
            [ "$before" = "$(cat $D/BOTTLE)" ] && echo restored
            head -1 $D/BOTTLE
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.hasSuffix("status 1\nrestored\ndisabled\n"), "\(result)")
    }

    @Test func binfmtMiscNotAvailable() throws {
        // tmpfs over /proc/sys/fs: the binfmt_misc mount point itself is gone, as on a kernel
        // without CONFIG_BINFMT_MISC.
        let result = try Sandbox.run("""
            mount -t tmpfs tmpfs /proc/sys/fs
            $B install --no-persist 2>&1 && exit 9 || echo "status $?"
            [ ! -e /usr/libexec/runbottle ] && echo "nothing written"
            """, mountBinfmtMisc: false)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.hasPrefix("binfmt-reg: /proc/sys/fs/binfmt_misc: binfmt_misc is not available: "))
        #expect(result.stdout.hasSuffix("status 1\nnothing written\n"))
    }

    /// Not root: an ordinary user (65534) of the namespace that owns the instance, asking for a
    /// change (flags POC where POCF is registered).
    @Test func notRoot() throws {
        let result = try Sandbox.runWithUnprivilegedUser("""
            $B install >/dev/null
            before=$(cat $D/BOTTLE $D/BOTTLE-privileged)
            as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
            as_user $B install --interpreter /usr/libexec/runbottle --flags POC 2>&1 && exit 9 || echo "status $?"
            as_user $B uninstall 2>&1 && exit 9 || echo "status $?"
            [ "$before" = "$(cat $D/BOTTLE $D/BOTTLE-privileged)" ] && echo unchanged
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout == """
            binfmt-reg: /etc/binfmt.d/bottle.conf: create temporary file: permission denied (run as root)
            status 1
            binfmt-reg: /etc/binfmt.d/bottle.conf: remove: permission denied (run as root)
            status 1
            unchanged

            """)
    }
}
