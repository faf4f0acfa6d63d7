// binfmt-reg: seal bottle binaries and manage the binfmt_misc entry that runs them.
import ArgumentParser
import ELFEngine
import LinuxOS
import SystemPackage

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
        ProcessExit.atExit { Output.failIfStandardOutputLost() }
        let arguments = Array(Identity.arguments.dropFirst())
        do {
            // ArgumentParser answers `help NAME` for an unknown NAME with the root's help and 0.
            if arguments.count >= 2, arguments[0] == "help",
               !configuration.subcommands.contains(where: { $0.configuration.commandName == arguments[1] }) {
                throw ValidationError("no subcommand \(arguments[1])")
            }
            var command = try parseAsRoot(arguments)
            if let quiet = command as? QuietCommand, quiet.quietOption.quiet { Self.silence() }
            try command.run()
        } catch let error as ProblemError {
            // The libraries' errors carry no words of their own: ArgumentParser would print
            // their structure.
            Output.errorLine("binfmt-reg: " + Problem(for: error).message)
            ProcessExit.normally(1)
        } catch {
            let code = exitCode(for: error)
            // Help and version go to stdout as ArgumentParser prints them.
            if code == .success { exit(withError: error) }
            // One prefix for every failure: usage errors (64) read as the commands' own (1).
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message = "binfmt-reg: " + message.dropFirst(7) }
            if !message.isEmpty { Output.errorLine(message) }
            ProcessExit.normally(code.rawValue)
        }
    }

    /// -q: stdout goes to /dev/null, so every report and summary goes with it; Output drops
    /// notices. Errors still reach stderr.
    static func silence() {
        if let null = try? FileDescriptor.open("/dev/null", .writeOnly, options: .closeOnExec) {
            _ = try? null.duplicate(as: .standardOutput)
            try? null.close()
        }
        Output.quiet = true
    }

    /// No subcommand is a usage error (64), not a request for help.
    func run() throws {
        throw ValidationError("a subcommand is needed")
    }
}
