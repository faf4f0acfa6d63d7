// bottle's notices: absolute paths compiled into the bottled programs and libraries that exist
// here and that the bottle does not hold at that path, one line each, -q silent, --json listed.
import Bottling
import Foundation
import TestSupport
import Testing

/// The paths binfmt-reg(8) says are not named: layout directories, the loader's cache, libc's
/// databases, locales, debug information. Each exists here.
private let ignoredPaths = [
    "/usr/bin", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/local/share", "/var/tmp", "/etc/ld.so.cache",
    "/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/localtime",
    "/usr/lib/locale", "/usr/share/locale", "/usr/share/i18n", "/usr/lib/x86_64-linux-gnu/gconv",
    "/usr/share/zoneinfo/UTC", "/usr/lib/debug",
]

/// Names paths the way programs do: an outer directory and a file in it, a path the bottle may
/// hold, the ignored ones, a path that does not exist.
private let namingProbe = """
    #include <stdio.h>
    const char *lib_path(void);
    static const char *const names[] = {
        "/usr/lib/git-core", "/usr/lib/git-core/git-upload-pack", "/etc/ssl/certs/", "/opt/binfmt-bottle-absent",
        \(ignoredPaths.map { "\"\($0)\"," }.joined(separator: " "))
    };
    int main(void) {
        for (unsigned i = 0; i < sizeof names / sizeof *names; i++) puts(names[i]);
        puts(lib_path());
        return 0;
    }
    """

@Suite struct CompiledPathTests {
    /// The probe with its library, which names /etc/ssl/certs too.
    private func build(_ rig: BottleRig) throws -> String {
        for path in ["/usr/lib/git-core", "/etc/ssl/certs"] + ignoredPaths {
            try #require(FileManager.default.fileExists(atPath: path), "\(path) missing: the test names it as existing")
        }
        try Bottles.compile("const char *lib_path(void) { return \"/etc/ssl/certs\"; }\n", to: rig.src + "/libnames.so",
                            sourceIn: rig.src, flags: ["-shared", "-fPIC", "-Wl,-soname,libnames.so"])
        return try rig.compile("probe", namingProbe, flags: [rig.src + "/libnames.so", "-Wl,-rpath," + rig.src])
    }

    private let gitCore = "binfmt-reg: notice: bin/probe names /usr/lib/git-core, which the bottle does not hold there: add --include /usr/lib/git-core=/usr/lib/git-core if it needs it\n"
    private let certs = "binfmt-reg: notice: lib/libnames.so names /etc/ssl/certs, which the bottle does not hold there: add --include /etc/ssl/certs=/etc/ssl/certs if it needs it\n"

    /// One line per path, from the first file naming it, the outermost of nested paths; none for
    /// what is ignored, absent or held; every run says it again; -q says nothing.
    @Test func pathsTheBottleDoesNotHoldGetOneNoticeEach() throws {
        let rig = try BottleRig("bottle-notices")
        defer { rig.dir.remove() }
        let program = try build(rig)
        let root = rig.dir.path + "/bottle"
        let made = try rig.bottle([program, "-o", root])
        #expect(made.succeeded && made.stderr == certs + gitCore, "\(made)")
        let again = try rig.bottle([program, "-o", root])
        #expect(again.succeeded && again.stderr == certs + gitCore, "\(again)")
        let quiet = try rig.bottle([program, "-q", "-o", root])
        #expect(quiet.succeeded && quiet.stdout.isEmpty && quiet.stderr.isEmpty, "\(quiet)")

        // Held at its path (a file below it is): no notice; held elsewhere: the notice stays.
        let held = try rig.bottle([program, "--include", "/etc/ssl/certs/ca-certificates.crt=etc/ssl/certs/ca-certificates.crt",
                                   "--include", "/usr/lib/git-core/git-upload-pack=lib/git-upload-pack", "-o", rig.dir.path + "/held"])
        #expect(held.succeeded && held.stderr == gitCore, "\(held)")
    }

    /// binfmt-reg(8)'s notice is git's own: Debian's git names its exec path.
    @Test func theManPagesNoticeIsGits() throws {
        let rig = try BottleRig("bottle-notices-git")
        defer { rig.dir.remove() }
        let page = try String(contentsOfFile: Repository.path("man/binfmt-reg.8"), encoding: .utf8)
        let line = try #require(page.split(separator: "\n").first { $0.hasPrefix("binfmt\\-reg: notice: bin/git ") })
        let made = try rig.bottle(["/usr/bin/git", "-o", rig.dir.path + "/bottle"])
        #expect(made.succeeded && made.stderr.contains(line.replacingOccurrences(of: "\\-", with: "-") + "\n"), "\(made)")
    }

    /// --json: the notices in the document, nothing on stderr.
    @Test func theDocumentListsTheNotices() throws {
        let rig = try BottleRig("bottle-notices-json")
        defer { rig.dir.remove() }
        let program = try build(rig)
        let made = try rig.bottle([program, "--json", "-o", rig.dir.path + "/bottle"])
        #expect(made.succeeded && made.stderr.isEmpty, "\(made)")
        struct Document: Decodable { var notices: [[String: String]] }
        let notices = try JSONDecoder().decode(Document.self, from: Data(made.stdout.utf8)).notices
        #expect(notices == [
            ["file": "lib/libnames.so", "path": "/etc/ssl/certs", "include": "--include /etc/ssl/certs=/etc/ssl/certs"],
            ["file": "bin/probe", "path": "/usr/lib/git-core", "include": "--include /usr/lib/git-core=/usr/lib/git-core"],
        ], "\(made.stdout)")
    }

    /// Files of --include trees are not scanned (a tree may hold thousands): the probe brought in
    /// as data says nothing.
    @Test func includedTreesAreNotScanned() throws {
        let rig = try BottleRig("bottle-notices-tree")
        defer { rig.dir.remove() }
        let program = try rig.compile("tree-probe", "#include <stdio.h>\nint main(void) { puts(\"/usr/lib/git-core\"); return 0; }\n")
        let made = try rig.bottle(["/bin/true", "--include", program + "=tools/probe", "-o", rig.dir.path + "/bottle"])
        #expect(made.succeeded && made.stderr.isEmpty, "\(made)")
    }
}
