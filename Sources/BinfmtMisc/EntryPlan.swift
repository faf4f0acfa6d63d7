// The entries binfmt-reg registers for one architecture: names, interpreter, flags and lines.
import ELFEngine

/// The entries binfmt-reg manages, and how they are spelt.
public struct EntryPlan: Sendable, Hashable {
    public static let defaultName = "BOTTLE"
    public static let privilegedSuffix = "-privileged"
    public static let defaultInterpreter = "/usr/libexec/runbottle"

    public var name: String = defaultName
    public var interpreter: String = defaultInterpreter
    public var architecture: HostArchitecture
    /// The entries' flags, POCF by default. C is required: credentials come from the binary, as
    /// a native exec computes them, so no exec through an entry gains or loses privilege.
    /// F makes the kernel open the interpreter at registration, so containers and chroots
    /// need not contain it.
    public var flags: RegistrationFlags = [.preserveArgv0, .openBinary, .credentials, .fixBinary]
    /// The second entry, for binaries sealed with note type 2 (privileged), same flags.
    public var privilegedEntry = true

    public init(architecture: HostArchitecture) {
        self.architecture = architecture
    }

    /// The registrations in the order they are written: the main entry, then the privileged one.
    public func registrations() throws(RegistrationError) -> [Registration] {
        if !flags.isSuperset(of: [.preserveArgv0, .openBinary, .credentials]) {
            throw .flagsLackPOC(flags)
        }
        func entry(_ name: String, _ type: SealFormat.NoteType, _ flags: RegistrationFlags) -> Registration {
            let (magic, mask) = SealFormat.binfmtMagic(
                is64Bit: architecture.is64Bit, bigEndian: architecture.bigEndian,
                machine: architecture.machine, noteType: type)
            return Registration(
                name: name, kind: .magic(offset: 0, magic: magic, mask: mask),
                interpreter: interpreter, flags: flags)
        }
        var result = [entry(name, .ordinary, flags)]
        if privilegedEntry {
            result.append(entry(name + Self.privilegedSuffix, .privileged, flags))
        }
        for registration in result { try registration.validate() }
        return result
    }

    /// The binfmt.d file's text: exactly the lines.
    public func binfmtD() throws(RegistrationError) -> String {
        try registrations().map(\.line).joined()
    }
}
