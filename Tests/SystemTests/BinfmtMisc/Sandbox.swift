// A private binfmt_misc instance with tmpfs over /usr/libexec, /etc/binfmt.d and /run, so binfmt-reg's
// default paths can be exercised without touching the host's files, and small script helpers.
import Foundation
import TestSupport

enum Sandbox {
    /// The lines every sandbox script starts with: the tmpfs mounts, `$B` and `$D`.
    private static func prologue() throws -> String {
        """
        mount -t tmpfs -o mode=0755 tmpfs /usr/libexec
        mount -t tmpfs -o mode=0755 tmpfs /etc/binfmt.d
        mount -t tmpfs -o mode=0755 tmpfs /run
        B=\(try BuiltTools.binfmtReg())
        D=/proc/sys/fs/binfmt_misc

        """
    }

    /// Runs `script` as root of a new user and mount namespace with a fresh binfmt_misc, tmpfs
    /// over /usr/libexec and /etc/binfmt.d, and `$B` naming the built binfmt-reg.
    static func run(_ script: String, mountBinfmtMisc: Bool = true) throws -> CommandResult {
        let body = try prologue() + script
        if mountBinfmtMisc { return try inPrivateBinfmt(body) }
        return try TestSupport.run(
            ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private",
             "bash", "-c", "set -euo pipefail\n" + body])
    }

    /// Like `run`, with user and group 65534 mapped too, so that `setpriv --reuid=65534` gives an
    /// ordinary user inside the namespace. The maps are written from outside (as root may).
    static func runWithUnprivilegedUser(_ script: String) throws -> CommandResult {
        let inner = """
            set -euo pipefail
            while [ -z "$(cat /proc/self/uid_map)" ]; do sleep 0.01; done
            \(mountPrivateBinfmtMisc)

            """ + (try prologue()) + script
        let outer = """
            set -euo pipefail
            unshare --user --mount --propagation private bash -c "$INNER" &
            child=$!
            while [ "$(readlink /proc/$child/ns/user)" = "$(readlink /proc/self/ns/user)" ]; do sleep 0.01; done
            # One write each (dd): the kernel takes a map in a single write; gid first, as the
            # inner script waits on uid_map.
            printf '0 0 1\\n65534 65534 1\\n' | dd of=/proc/$child/gid_map status=none
            printf '0 0 1\\n65534 65534 1\\n' | dd of=/proc/$child/uid_map status=none
            wait $child
            """
        return try PrivateInstance.run(["bash", "-c", outer], environment: ["INNER": inner, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    }

    /// The PT_INTERP slot of the bottles `bottle` seals for the binfmt dispatch: a file that
    /// exists nowhere, so that a binary only runs when an entry takes it (where none does, the
    /// kernel's own exec fails with ENOENT instead of running runbottle through the slot).
    static let absentInterpreter = "/nonexistent/runbottle"

    /// A glibc bottle printing /proc/self/exe, the loader mapped (loader=PATH) and its argv;
    /// `label` names its temporary directory. Sealed with `seal --dispatch binfmt` (note type 1)
    /// and its PT_INTERP slot naming `absentInterpreter`, for the entries to take.
    static func bottle(_ label: String) throws -> (TemporaryDirectory, TestBottle) {
        let directory = try TemporaryDirectory(label)
        chmod(directory.path, 0o755)
        let source = Fixture.source("exe-argv-probe.c")
        let bottle = try Bottles.build(name: "hello", source: source, in: directory.path,
                                       dispatch: .binfmt, interpreter: absentInterpreter)
        let note = try binfmtReg(["inspect", "--json", bottle.program])
        guard note.stdout.contains("\"noteType\" : 1,") else { throw BottleBuilderError.failed("binfmt-reg inspect", note) }
        return (directory, bottle)
    }
}

extension String {
    /// The lines of the text that start with `prefix`.
    func lines(startingWith prefix: String) -> [Substring] {
        split(separator: "\n").filter { $0.hasPrefix(prefix) }
    }
}
