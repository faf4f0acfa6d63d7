// The binfmt.d file: --root writes a package tree, and the real systemd-binfmt registers the file
// so that sealed binaries run.
import Foundation
import TestSupport
import Testing

private let repository = Repository.root

@Test func rootWritesAPackageTreeAndRegistersNothing() throws {
    let root = try TemporaryDirectory("package-root")
    defer { root.remove() }
    let result = try Sandbox.run("""
        $B install --root \(root.path)
        find \(root.path) -type f -printf '%P %m\\n' | sort
        ls $D
        cmp \(root.path)/usr/lib/binfmt.d/bottle.conf <($B line) && echo same
        """)
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout.contains("usr/lib/binfmt.d/bottle.conf 644\nusr/libexec/runbottle 755\n"))
    #expect(result.stdout.contains("register\nstatus\nsame\n"))
    #expect(!result.stdout.contains("registered"))
}

@Test func systemdBinfmtRegistersTheFileAndASealedBinaryRuns() throws {
    let (directory, bottle) = try Sandbox.bottle("systemd-binfmt")
    defer { directory.remove() }
    let result = try Sandbox.run("""
        $B install >/dev/null
        echo -1 > $D/BOTTLE; echo -1 > $D/BOTTLE-privileged
        ls $D
        /usr/lib/systemd/systemd-binfmt /etc/binfmt.d/bottle.conf
        ls $D
        $B status >/dev/null && echo "status ok"
        \(bottle.program) | grep loader=
        """)
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout == """
        register
        status
        BOTTLE
        BOTTLE-privileged
        register
        status
        status ok
        loader=\(bottle.loader)

        """)
}

/// A reboot keeps uninstall's and disable's word (binfmt.d(5)): where a package's
/// /usr/lib/binfmt.d/bottle.conf would register the entries again, /etc/binfmt.d/bottle.conf
/// becomes a link to /dev/null, which the real systemd-binfmt then reads instead. A reboot is
/// the entries removed and systemd-binfmt run over every directory.
@Test func uninstallAndDisableMaskAPackagedFileAcrossAReboot() throws {
    let result = try Sandbox.run("""
        mount -t tmpfs -o mode=0755 tmpfs /usr/lib/binfmt.d
        $B line > /usr/lib/binfmt.d/bottle.conf
        reboot() { for e in BOTTLE BOTTLE-privileged; do [ ! -e $D/$e ] || echo -1 > $D/$e; done; /usr/lib/systemd/systemd-binfmt; ls $D | tr '\\n' ' '; echo; }
        $B install >/dev/null
        $B uninstall
        readlink /etc/binfmt.d/bottle.conf
        reboot
        echo ---
        $B install >/dev/null
        reboot
        $B disable
        readlink /etc/binfmt.d/bottle.conf
        # Disabled entries are a problem for status, but the mask that keeps them so is not.
        echo "mask problems: $($B status 2>&1 | grep -c 'is masked' || true)"
        reboot
        echo ---
        $B install >/dev/null
        $B disable >/dev/null
        $B enable
        [ -e /etc/binfmt.d/bottle.conf ] || echo "no /etc file"
        reboot
        """)
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout == """
        BOTTLE: removed
        BOTTLE-privileged: removed
        /etc/binfmt.d/bottle.conf: masked (a link to /dev/null), uninstalled: /usr/lib/binfmt.d/bottle.conf no longer registers them at boot
        /dev/null
        register status 
        ---
        BOTTLE BOTTLE-privileged register status 
        BOTTLE: disabled
        BOTTLE-privileged: disabled
        /etc/binfmt.d/bottle.conf: masked (a link to /dev/null): the entries stay disabled after a reboot
        /dev/null
        mask problems: 0
        register status 
        ---
        BOTTLE: enabled
        BOTTLE-privileged: enabled
        /etc/binfmt.d/bottle.conf: mask removed: /usr/lib/binfmt.d/bottle.conf registers the entries at boot
        no /etc file
        BOTTLE BOTTLE-privileged register status 

        """, "\(result)")
}

/// Without a package's file: disable masks the /etc file install wrote, enable writes the lines
/// back, and --no-persist leaves the file alone.
@Test func disableAndEnableKeepTheirWordInEtc() throws {
    let result = try Sandbox.run("""
        mount -t tmpfs -o mode=0755 tmpfs /usr/lib/binfmt.d
        $B install >/dev/null
        $B disable --no-persist >/dev/null
        cmp /etc/binfmt.d/bottle.conf <($B line) && echo "unchanged by --no-persist"
        $B disable >/dev/null
        readlink /etc/binfmt.d/bottle.conf
        $B enable
        cmp /etc/binfmt.d/bottle.conf <($B line) && echo "lines written back"
        """)
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout == """
        unchanged by --no-persist
        /dev/null
        BOTTLE: enabled
        BOTTLE-privileged: enabled
        /etc/binfmt.d/bottle.conf: written (systemd-binfmt registers it at boot)
        lines written back

        """, "\(result)")
}
