// The two-entry design: a binary sealed as privileged (it carries a file capability) goes to
// BOTTLE-privileged (POC) and keeps its capability as a native exec would; an ordinary one goes
// to BOTTLE (PO) and, run by an ordinary user, still gets /proc/self/exe fixed.
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct PrivilegedEntryTests {
    @Test func eachKindOfProgramGetsWhatANativeExecGives() throws {
        let directory = try TemporaryDirectory("privileged")
        defer { directory.remove() }
        chmod(directory.path, 0o755)
        let source = """
            #include <stdio.h>
            #include <string.h>
            #include <unistd.h>
            int main(void) {
                char exe[4096] = {0}, line[256];
                readlink("/proc/self/exe", exe, sizeof exe - 1);
                FILE *status = fopen("/proc/self/status", "r");
                while (status && fgets(line, sizeof line, status))
                    if (!strncmp(line, "CapEff:", 7)) printf("%s", line);
                printf("exe=%s uid=%d euid=%d\\n", exe, (int)getuid(), (int)geteuid());
                return 0;
            }
            """
        let built = try Bottles.build(name: "caps", source: source, in: directory.path, seal: false)
        // A privileged program's loader must sit in root-owned directories no one else can
        // write (runbottle(8)), so the bottle moves from /tmp to a 0755 tmpfs at /srv.
        let program = "/srv/b/bin/caps", plain = "/srv/b/bin/plain"
        let result = try Sandbox.runWithUnprivilegedUser("""
            mount -t tmpfs -o mode=0755 tmpfs /srv
            cp -a \(built.root) /srv/b && chmod 0755 /srv/b
            cp \(program) \(plain)
            setcap cap_net_raw+ep \(program)
            $B seal \(program) \(plain) >/dev/null
            $B install >/dev/null
            as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }
            echo "privileged:"; as_user \(program)
            echo "ordinary:"; as_user \(plain)
            $B disable >/dev/null
            echo "native privileged:"; as_user \(program)
            """)
        #expect(result.succeeded, "\(result)")
        let out = result.stdout
        // cap_net_raw is bit 13: 0x2000.
        #expect(out.contains("privileged:\nCapEff:\t0000000000002000\nexe=/usr/libexec/runbottle uid=65534 euid=65534\n"),
                "\(out)")
        #expect(out.contains("ordinary:\nCapEff:\t0000000000000000\nexe=\(plain) uid=65534 euid=65534\n"), "\(out)")
        #expect(out.contains("native privileged:\nCapEff:\t0000000000002000\nexe=\(program) uid=65534 euid=65534\n"),
                "\(out)")
    }
}
