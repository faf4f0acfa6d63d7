// binfmt-reg install: installs runbottle (no file capability), registers the entries, and
// writes the binfmt.d file; idempotent, and all-or-nothing.
import ArgumentParser
import BinfmtMisc
import ELFEngine
import RunbottleImage

struct InstallCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install runbottle, register the BOTTLE entries and make them persistent.",
        discussion: """
            Installing what is installed changes nothing and says so; an entry of the same name \
            that differs is replaced, with a line saying what changed. On failure the previous \
            entries and interpreter are put back.
            """)

    @OptionGroup var quietOption: QuietOption

    @OptionGroup var entry: EntryOptions

    @Flag(help: "Write no binfmt.d file.")
    var noPersist = false

    @Option(help: ArgumentHelp(
        "Write files under DIR for a package (runbottle, DIR/usr/lib/binfmt.d/bottle.conf) and register nothing.",
        valueName: "dir"), completion: .directory)
    var root: String?

    func validate() throws {
        try validateRoot(root)
        if let arch = entry.arch, entry.interpreter == nil,
           try entry.architecture() != (try? HostArchitecture.host()) {
            throw ValidationError("the runbottle binfmt-reg carries is built for this machine; --arch \(arch) needs --interpreter")
        }
    }

    @Flag(help: "Replace an entry of the same name that binfmt-reg did not register (another tool's).")
    var force = false

    @Flag(help: "Register our entries anew even when they are as asked, ahead of another tool's entry that matches the same files (binfmt_misc tries the newest first).")
    var reregister = false

    /// Under --json the status report of the chain installed follows the changes (as status
    /// --json reports it); its problems are the document's, so it exits 1 unless all is well.
    @OptionGroup var jsonOption: JSONOption

    /// install --json: the changes, and the status of what they made (null when install failed).
    struct Outcome: Encodable {
        var changes: [String]
        var status: WordedStatus?

        private enum Key: String, CodingKey { case changes, status }

        /// status stays in the document as null when install failed.
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(changes, forKey: .changes)
            try container.encode(status, forKey: .status)
        }
    }

    func run() throws {
        let end = CommandEnd(command: "install", json: jsonOption.json)
        try end.run(failed: Outcome(changes: [], status: nil)) {
            var installer = Installer(plan: try entry.plan())
            if let root { installer.layout = .package(root: root) }
            if entry.interpreter == nil { installer.runbottle = RunbottleImage.bytes }
            installer.persist = !noPersist
            installer.force = force
            installer.reregister = reregister
            let changes = try installer.install().map(\.message)
            guard jsonOption.json else {
                for message in changes { print(message) }
                return (Outcome(changes: changes, status: nil), [])
            }
            let status = StatusCommand.probe(installer)
            return (Outcome(changes: changes, status: WordedStatus(report: status)), status.problems.map(\.problem))
        }
    }
}
