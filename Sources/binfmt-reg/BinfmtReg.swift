// binfmt-reg: seal bottle binaries and manage the binfmt_misc entry that runs them.
import ArgumentParser

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
}
