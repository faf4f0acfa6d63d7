// binfmt-reg: seal bottle binaries and manage the binfmt_misc entry that runs them.
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

@main
struct BinfmtReg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "binfmt-reg",
        abstract: "Seal bottle binaries and register the binfmt_misc entry that runs them.",
        version: "0.1.0",
        subcommands: [
            SealCommand.self, UnsealCommand.self, InspectCommand.self,
            InstallCommand.self, UninstallCommand.self, StatusCommand.self, EnableCommand.self,
            DisableCommand.self, LineCommand.self,
            RelocateCommand.self,
            BottleCommand.self,
        ])

    static func main() {
        atexit { Output.failIfStandardOutputLost() }
        let arguments = Array(CommandLine.arguments.dropFirst())
        // ArgumentParser answers `help NAME` for an unknown NAME with the root's help and 0.
        if arguments.count >= 2, arguments[0] == "help",
           !configuration.subcommands.contains(where: { $0.configuration.commandName == arguments[1] }) {
            exit(withError: ValidationError("no subcommand \(arguments[1])"))
        }
        main(arguments)
    }

    /// No subcommand is a usage error (64), not a request for help.
    func run() throws {
        throw ValidationError("a subcommand is needed")
    }
}
