// The architectures a BOTTLE entry can be registered for: `uname -m` names to ELF class, byte
// order and e_machine, and the entries binfmt-reg registers for one of them.
import ELFEngine
#if canImport(Glibc)
import Glibc
#endif

public struct HostArchitecture: Sendable, Hashable {
    /// The `uname -m` name.
    public var name: String
    public var machine: UInt16
    public var is64Bit: Bool
    public var bigEndian: Bool

    public init(name: String, machine: UInt16, is64Bit: Bool, bigEndian: Bool) {
        self.name = name
        self.machine = machine
        self.is64Bit = is64Bit
        self.bigEndian = bigEndian
    }

    /// The architectures runbottle is built for (HostMachine.ports, the one table): an entry
    /// for any other would hand binaries to an interpreter that cannot exist.
    public static let known: [HostArchitecture] = HostMachine.ports.map {
        HostArchitecture(name: $0.name, machine: $0.kind.machine, is64Bit: $0.kind.elfClass == .elf64,
                         bigEndian: $0.kind.byteOrder == .big)
    }

    /// The architecture named `name` (`uname -m` spelling; Debian's amd64 and arm64 too).
    public static func named(_ name: String) -> HostArchitecture? {
        let canonical = ["amd64": "x86_64", "arm64": "aarch64"][name] ?? name
        return known.first { $0.name == canonical }
    }

    /// The running kernel's architecture.
    public static func host() throws(RegistrationError) -> HostArchitecture {
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: &info.machine) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        guard let arch = named(machine) else {
            throw .invalid("machine \(machine): no BOTTLE entry is defined for it (known: \(known.map(\.name).joined(separator: ", ")))")
        }
        return arch
    }
}

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
            throw .invalid("flags \(flags) lack P, O or C: runbottle needs the original argv[0] (P), the binary's descriptor, AT_EXECFD (O), and the binary's own credentials (C)")
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
