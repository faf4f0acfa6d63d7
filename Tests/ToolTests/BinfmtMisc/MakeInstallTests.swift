// The Makefile's install target for packagers: with DESTDIR and PREFIX it puts binfmt-reg,
// runbottle (with no file capability), the binfmt.d file, the man pages and the --json schema, the
// completions and gdb's support script where a Debian package would, and nothing elsewhere.
import Foundation
import TestSupport
import Testing

private let repository = Repository.root

@Test func makeInstallFillsAPackageTree() throws {
    let destination = try TemporaryDirectory("destdir")
    defer { destination.remove() }
    // A stand-in for swift: the build already happened (these tests run from it), so `build`
    // does nothing and --show-bin-path names the tested products.
    let swift = destination.path + "-swift"
    try """
        #!/bin/sh
        case "$*" in *--show-bin-path*) echo '\(BuiltTools.productsDirectory)' ;; esac
        """.write(toFile: swift, atomically: true, encoding: .utf8)
    chmod(swift, 0o755)
    defer { unlink(swift) }
    let made = try run(["make", "-C", repository, "install", "DESTDIR=\(destination.path)",
                        "PREFIX=/usr", "SWIFT=\(swift)"])
    #expect(made.succeeded, "\(made)")
    let listing = try shell("cd \(destination.path) && find . -type f -printf '%P %m\\n' | sort")
    let manPages = try FileManager.default.contentsOfDirectory(atPath: repository + "/man")
        .filter { $0.last?.isNumber == true }.sorted()
    var expected = [
        "etc/gdb/gdbinit.d/runbottle.py 644", "usr/bin/binfmt-reg 755", "usr/lib/binfmt.d/bottle.conf 644", "usr/libexec/runbottle 755",
        "usr/share/bash-completion/completions/binfmt-reg 644",
        "usr/share/binfmt-bottle/binfmt-reg.schema.json 644",
        "usr/share/fish/vendor_completions.d/binfmt-reg.fish 644",
        "usr/share/zsh/vendor-completions/_binfmt-reg 644",
    ]
    for page in manPages {
        expected.append("usr/share/man/man\(page.split(separator: ".").last ?? "?")/\(page) 644")
    }
    #expect(listing.stdout.split(separator: "\n").map(String.init) == expected.sorted())
    let conf = try String(contentsOfFile: destination.file("usr/lib/binfmt.d/bottle.conf"), encoding: .utf8)
    let line = try run([try BuiltTools.binfmtReg(), "line"])
    #expect(conf == line.stdout)
    // runbottle carries no file capability: getcap prints nothing for it.
    let caps = try run(["getcap", destination.file("usr/libexec/runbottle")])
    #expect(caps.succeeded && caps.stdout.isEmpty, "\(caps)")

    // make uninstall takes back every file install put there.
    let unmade = try run(["make", "-C", repository, "uninstall", "DESTDIR=\(destination.path)",
                          "PREFIX=/usr", "SWIFT=\(swift)"])
    #expect(unmade.succeeded, "\(unmade)")
    let left = try shell("cd \(destination.path) && find . -type f")
    #expect(left.stdout.isEmpty, "\(left)")
}
