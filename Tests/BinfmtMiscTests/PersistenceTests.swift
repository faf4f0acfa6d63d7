// The binfmt.d file: the repository's copy equals what binfmt-reg generates, --root writes a
// package tree, and the real systemd-binfmt registers the file so that sealed binaries run.
import Foundation
import TestSupport
import Testing

private let repository = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Test func theRepositoryBinfmtDFileIsWhatBinfmtRegGenerates() throws {
    let generated = try run([try BuiltTools.binfmtReg(), "line", "--arch", "x86_64"])
    #expect(generated.succeeded, "\(generated)")
    let file = try String(contentsOfFile: repository + "/binfmt.d/bottle.conf", encoding: .utf8)
    #expect(file == generated.stdout)
    #expect(file.split(separator: "\n").count == 2)
}

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
