// The options of the entry commands: the full set for install and line, the name alone for
// uninstall, enable, disable and status.
import ArgumentParser
import BinfmtMisc

struct EntryOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The entry's name; the privileged entry is NAME-privileged.", valueName: "name"))
    var name = EntryPlan.defaultName

    @Option(help: ArgumentHelp(
        "Register this interpreter file as it is instead of installing runbottle (absolute path).",
        valueName: "path"), completion: .file())
    var interpreter: String?

    @Option(help: ArgumentHelp(
        "The entries' flag letters: P, O and C are required; F (the default's) makes the kernel open the interpreter at registration, so containers and chroots need not contain it.",
        valueName: "letters"), completion: .list(["POCF", "POC"]))
    var flags = "POCF"

    @Flag(help: "Register only the main entry, not NAME-privileged (note type 2).")
    var noPrivilegedEntry = false

    @Option(help: ArgumentHelp(
        "The architecture to register for (uname -m name); the host's by default.", valueName: "arch"),
        completion: .list(HostArchitecture.known.map(\.name)))
    var arch: String?

    /// The architecture --arch names, or the host's.
    func architecture() throws -> HostArchitecture {
        guard let arch else { return try HostArchitecture.host() }
        guard let known = HostArchitecture.named(arch) else {
            throw ValidationError("unknown architecture \(arch) (known: \(HostArchitecture.known.map(\.name).joined(separator: ", ")))")
        }
        return known
    }

    /// A name, flag letters or interpreter path no entry can have is a usage error (64), found
    /// before anything is read or written.
    func validate() throws {
        do { _ = try plan() } catch let error as RegistrationError { throw ValidationError(error.message) }
    }

    /// The plan these options describe.
    func plan() throws -> EntryPlan {
        var plan = EntryPlan(architecture: try architecture())
        plan.name = name
        if let interpreter { plan.interpreter = interpreter }
        guard let letters = RegistrationFlags(letters: flags) else {
            throw RegistrationError.unknownFlag(flags)
        }
        plan.flags = letters
        plan.privilegedEntry = !noPrivilegedEntry
        _ = try plan.registrations()
        return plan
    }
}

/// The options of the commands that act on registered entries by name only (uninstall, enable,
/// disable, status).
struct NameOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The entry's name; the privileged entry is NAME-privileged.", valueName: "name"))
    var name = EntryPlan.defaultName

    func validate() throws {
        do { _ = try plan() } catch let error as RegistrationError { throw ValidationError(error.message) }
    }

    /// The default plan under that name (the entries it names, runbottle's path).
    func plan() throws -> EntryPlan {
        var plan = EntryPlan(architecture: (try? HostArchitecture.host())
            ?? HostArchitecture(name: "unknown", machine: 0, is64Bit: true, bigEndian: false))
        plan.name = name
        _ = try plan.registrations()
        return plan
    }
}

/// --root DIR names a package tree: relative, it would depend on where the command runs.
func validateRoot(_ root: String?) throws {
    if let root, !root.hasPrefix("/") { throw ValidationError("--root \(root) is not an absolute path") }
}
