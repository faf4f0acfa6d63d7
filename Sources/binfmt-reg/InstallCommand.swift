// binfmt-reg install: installs runbottle (no file capability), registers the entries, and
// writes the binfmt.d file; idempotent, and all-or-nothing.
import ArgumentParser
import BinfmtMisc
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

    @Flag(help: "Print, as JSON, what changed and then the status report of the chain installed (as status --json does); exit 1 unless all is well.")
    var json = false

    /// install --json: the changes, and the status of what they made.
    struct Outcome: Encodable {
        /// Installed, and status finds all well.
        var ok: Bool
        var changes: [String]
        var status: StatusReport
    }

    func run() throws {
        var ok = true
        try reportingFailures {
            var installer = Installer(plan: try entry.plan())
            if let root { installer.layout = .package(root: root) }
            if entry.interpreter == nil { installer.runbottle = RunbottleImage.bytes }
            installer.persist = !noPersist
            installer.force = force
            installer.reregister = reregister
            let changes = try installer.install()
            guard json else {
                for message in changes { print(message) }
                return
            }
            let status = StatusCommand.probe(installer)
            print(try StatusCommand.json(Outcome(ok: status.ok, changes: changes, status: status)))
            ok = status.ok
        }
        if !ok { throw ExitCode(1) }
    }
}
