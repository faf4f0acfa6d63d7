// The --json contract of binfmt-reg(8), JSON OUTPUT: every command's document in each state
// (success, nothing to do, failure) validated by python3-jsonschema against the schema file the
// man page names, with ok, the exit status, stderr and the problem codes each state must give.
import BinfmtMisc
import ELFEngine
import Foundation
import TestSupport
import Testing

/// The envelope every document has, decoded as a consumer would.
private struct Envelope: Decodable {
    var schemaVersion: Int
    var command: String
    var ok: Bool
    var problems: [Problem]
}

/// One run of a command under --json: its name in the script, and what it must give.
private struct Case {
    var name: String
    var ok: Bool
    /// Codes that must be among the problems.
    var codes: [ProblemCode] = []
}

private let cases: [Case] = [
    Case(name: "line-success", ok: true),
    Case(name: "status-failure", ok: false, codes: [.entryNotRegistered, .interpreterMissing]),
    Case(name: "status-unmounted", ok: false, codes: [.binfmtMiscNotMounted]),
    Case(name: "install-failure", ok: false, codes: [.interpreterMissing]),
    Case(name: "install-success", ok: true),
    Case(name: "install-noop", ok: true),
    Case(name: "status-success", ok: true),
    Case(name: "disable-success", ok: true),
    Case(name: "disable-noop", ok: true),
    Case(name: "status-disabled", ok: false, codes: [.entryDisabled]),
    Case(name: "enable-success", ok: true),
    Case(name: "enable-noop", ok: true),
    Case(name: "uninstall-success", ok: true),
    Case(name: "uninstall-noop", ok: true),
    Case(name: "enable-failure", ok: false, codes: [.entryNotRegistered]),
    Case(name: "disable-failure", ok: false, codes: [.entryNotRegistered]),
    Case(name: "install-foreign", ok: false, codes: [.entryNotOurs]),
    Case(name: "uninstall-failure", ok: false, codes: [.entryNotOurs]),
    Case(name: "bottle-success", ok: true),
    Case(name: "bottle-noop", ok: true),
    Case(name: "bottle-failure", ok: false, codes: [.notFound]),
    Case(name: "bottle-notices", ok: true),
    Case(name: "inspect-success", ok: true),
    Case(name: "inspect-unmounted", ok: true),
    Case(name: "inspect-failure", ok: false, codes: [.notFound]),
    Case(name: "inspect-damaged", ok: false, codes: [.damagedSeal]),
    Case(name: "seal-noop", ok: true),
    Case(name: "unseal-success", ok: true),
    Case(name: "unseal-noop", ok: true),
    Case(name: "seal-success", ok: true),
    Case(name: "seal-failure", ok: false, codes: [.notFound, .notELF]),
    Case(name: "unseal-failure", ok: false, codes: [.notFound]),
    Case(name: "relocate-success", ok: true),
    Case(name: "relocate-noop", ok: true),
    Case(name: "relocate-failure", ok: false, codes: [.staleSlot]),
]

/// Every command's --json document in each state, in a private binfmt_misc instance; then each
/// validated against the schema, and checked against its case.
@Test func everyDocumentMatchesTheSchemaInEveryState() throws {
    let work = try TemporaryDirectory("json-schema")
    defer { work.remove() }
    chmod(work.path, 0o755)
    let W = work.path
    let result = try Sandbox.run("""
        W=\(W)
        j() { name=$1; shift; rc=0; "$B" "$@" --json > $W/$name.json 2> $W/$name.err || rc=$?; echo $rc > $W/$name.rc; }
        j line-success line
        j status-failure status
        mount -t tmpfs tmpfs $D; j status-unmounted status; umount $D
        j install-failure install --interpreter /nonexistent/runbottle
        j install-success install
        j install-noop install
        j status-success status
        j disable-success disable
        j disable-noop disable
        j status-disabled status
        j enable-success enable
        j enable-noop enable
        j uninstall-success uninstall --remove-interpreter
        j uninstall-noop uninstall
        j enable-failure enable
        j disable-failure disable
        echo ':BOTTLE:E::foreign::/bin/true:' > $D/register
        j install-foreign install
        j uninstall-failure uninstall
        echo -1 > $D/BOTTLE
        j bottle-success bottle -o $W/b /bin/true
        j bottle-noop bottle -o $W/b /bin/true
        j bottle-failure bottle -o $W/c /nonexistent/program
        j bottle-notices bottle -o $W/n /bin/bash
        j inspect-success inspect $W/b/bin/true
        j inspect-unmounted inspect --binfmt-misc $W $W/b/bin/true
        j inspect-failure inspect $W/missing
        cp $W/b/bin/true $W/stripped && strip $W/stripped
        j inspect-damaged inspect $W/stripped
        j seal-noop seal $W/b
        j unseal-success unseal $W/b/bin/true
        j unseal-noop unseal $W/b/bin/true
        j seal-success seal $W/b/bin/true
        echo text > $W/text
        j seal-failure seal $W/missing $W/text
        j unseal-failure unseal $W/missing
        j relocate-success relocate $W/b
        j relocate-noop relocate $W/b
        $B seal $W/b/bin/true > /dev/null
        j relocate-failure relocate --check $W/b
        # A usage error stays plain text on stderr, exit 64, with no document.
        rc=0; $B seal --json --dispatch nowhere $W/b/bin/true > $W/usage.out 2> $W/usage.err || rc=$?
        echo "usage $rc $(wc -c < $W/usage.out) $(wc -l < $W/usage.err)"
        """)
    #expect(result.succeeded, "\(result)")
    #expect(result.stdout.hasPrefix("usage 64 0 "), "\(result)")

    let validator = """
        import json, sys, jsonschema
        schema = json.load(open(sys.argv[1]))
        validator = jsonschema.Draft202012Validator(schema)
        for path in sys.argv[2:]:
            errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.absolute_path))
            print(path.rsplit("/", 1)[-1], "valid" if not errors else
                  "; ".join("%s: %s" % ("/".join(map(str, e.absolute_path)), e.message[:300]) for e in errors[:3]))
        """
    let documents = cases.map { work.file($0.name + ".json") }
    let validated = try run(["python3", "-c", validator, try Repository.schemaPath()] + documents)
    #expect(validated.succeeded, "\(validated)")
    let verdicts = validated.stdout.split(separator: "\n")
    #expect(verdicts.count == cases.count, "\(validated)")
    for verdict in verdicts {
        #expect(verdict.hasSuffix(" valid"), "\(verdict)")
    }

    for item in cases {
        let text = try String(contentsOfFile: work.file(item.name + ".json"), encoding: .utf8)
        let status = try String(contentsOfFile: work.file(item.name + ".rc"), encoding: .utf8)
        let stderr = try String(contentsOfFile: work.file(item.name + ".err"), encoding: .utf8)
        let envelope = try JSONDecoder().decode(Envelope.self, from: Data(text.utf8))
        let command = String(item.name.prefix { $0 != "-" })
        #expect(envelope.schemaVersion == 1 && envelope.command == command, "\(item.name): \(text)")
        #expect(envelope.ok == item.ok, "\(item.name): \(text)")
        #expect(status == (item.ok ? "0\n" : "1\n"), "\(item.name): exit \(status)")
        #expect(stderr.isEmpty, "\(item.name): stderr \(stderr)")
        let codes = Set(envelope.problems.map(\.code))
        #expect(codes.isSuperset(of: item.codes), "\(item.name): \(envelope.problems)")
        if command == "status" {
            // The report decodes through the library's own type.
            _ = try JSONDecoder().decode(StatusReport.self, from: Data(text.utf8))
        }
    }
    try expectCommandKeys(work)
}

/// Keys the man page promises for particular states, beyond what the schema requires.
private func expectCommandKeys(_ work: TemporaryDirectory) throws {
    func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(contentsOf: URL(fileURLWithPath: work.file(name + ".json"))))
    }
    struct Files: Decodable {
        struct File: Decodable { var path: String; var outcome: String; var code: ProblemCode? }
        var files: [File]
    }
    // In a tree, files that are not programs are skipped with their code; stale files listed.
    let skipped = try decode(Files.self, "seal-noop").files
    #expect(skipped.contains { $0.outcome == "skipped" && $0.code == .sharedLibrary }, "\(skipped)")
    #expect(skipped.contains { $0.path.hasSuffix("/bin/true") && $0.outcome == "unchanged" && $0.code == nil }, "\(skipped)")
    #expect(try decode(Files.self, "relocate-failure").files.map(\.outcome) == ["stale"])
    #expect(try decode(Files.self, "unseal-success").files.map(\.outcome) == ["done"])

    struct Inspected: Decodable {
        struct File: Decodable { var matchingEntries: [String]?; var entriesUnknown: Problem?; var status: String? }
        var files: [File]
    }
    let unmounted = try decode(Inspected.self, "inspect-unmounted").files
    #expect(unmounted.count == 1 && unmounted[0].matchingEntries == nil
            && unmounted[0].entriesUnknown?.code == .binfmtMiscNotMounted, "binfmt_misc not mounted: null with the reason")
    let mounted = try decode(Inspected.self, "inspect-success").files
    #expect(mounted.count == 1 && mounted[0].matchingEntries == [] && mounted[0].entriesUnknown == nil)
    #expect(try decode(Inspected.self, "inspect-damaged").files.first?.status == "damaged")

    struct Installed: Decodable { var changes: [String]; var status: StatusReport? }
    let failed = try decode(Installed.self, "install-failure")
    #expect(failed.changes.isEmpty && failed.status == nil)
    #expect(try decode(Installed.self, "install-success").status?.entries.count == 2)
    struct Changes: Decodable { var changes: [String] }
    #expect(try decode(Changes.self, "enable-failure").changes.isEmpty)
    #expect(try decode(Changes.self, "uninstall-noop").changes == ["nothing installed, nothing changed"])
    struct Bottled: Decodable { var directory: String?; var changes: [[String: String?]] }
    #expect(try decode(Bottled.self, "bottle-failure").directory == nil)
    #expect(try decode(Bottled.self, "bottle-noop").changes.allSatisfy { $0["action"] == "unchanged" })
    // bash's compiled-in /etc/profile, which the bottle does not hold: a notice in the document
    // (and none on stderr, which every case checks).
    struct Noticed: Decodable { var notices: [[String: String]] }
    let notices = try decode(Noticed.self, "bottle-notices").notices
    #expect(notices.contains(["file": "bin/bash", "path": "/etc/profile", "include": "--include /etc/profile=/etc/profile"]), "\(notices)")
    #expect(try decode(Noticed.self, "bottle-success").notices.isEmpty)
    struct Lines: Decodable { var lines: [String] }
    let lines = try decode(Lines.self, "line-success").lines
    #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix(":BOTTLE") && !$0.contains("\n") })
}
