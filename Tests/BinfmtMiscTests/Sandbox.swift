// A private binfmt_misc instance with tmpfs over /usr/libexec and /etc/binfmt.d, so binfmt-reg's
// default paths can be exercised without touching the host's files, and small script helpers.
import Foundation
import TestSupport

enum Sandbox {
    /// Runs `script` as root of a new user and mount namespace with a fresh binfmt_misc, tmpfs
    /// over /usr/libexec and /etc/binfmt.d, and `$B` naming the built binfmt-reg.
    static func run(_ script: String, mountBinfmtMisc: Bool = true) throws -> CommandResult {
        let b = try BuiltTools.binfmtReg()
        let body = """
            mount -t tmpfs tmpfs /usr/libexec
            mount -t tmpfs tmpfs /etc/binfmt.d
            B=\(b)
            D=/proc/sys/fs/binfmt_misc
            \(script)
            """
        if mountBinfmtMisc { return try inPrivateBinfmt(body) }
        return try TestSupport.run(
            ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
             "bash", "-c", "set -euo pipefail\n" + body])
    }

    /// A sealed glibc bottle printing /proc/self/exe, the loader mapped (loader=PATH) and its
    /// argv; `label` names its temporary directory.
    static func bottle(_ label: String) throws -> (TemporaryDirectory, TestBottle) {
        let directory = try TemporaryDirectory(label)
        chmod(directory.path, 0o755)
        let source = """
            #include <stdio.h>
            #include <string.h>
            #include <unistd.h>
            int main(int argc, char **argv) {
                char exe[4096] = {0}, line[4096];
                readlink("/proc/self/exe", exe, sizeof exe - 1);
                printf("exe=%s\\n", exe);
                FILE *maps = fopen("/proc/self/maps", "r");
                while (maps && fgets(line, sizeof line, maps)) {
                    char *name = strstr(line, "ld-linux");
                    if (name) { printf("loader=%s", strchr(line, '/')); break; }
                }
                for (int i = 0; i < argc; i++) printf("argv[%d]=%s\\n", i, argv[i]);
                return 0;
            }
            """
        let bottle = try Bottles.build(name: "hello", source: source, in: directory.path)
        return (directory, bottle)
    }
}

extension String {
    /// The lines of the text that start with `prefix`.
    func lines(startingWith prefix: String) -> [Substring] {
        split(separator: "\n").filter { $0.hasPrefix(prefix) }
    }
}
