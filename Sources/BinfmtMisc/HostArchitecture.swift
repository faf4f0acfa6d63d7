// The architectures a BOTTLE entry can be registered for: `uname -m` names to ELF class, byte
// order and e_machine (EntryPlan.swift: the entries for one of them).
import ELFEngine
import LinuxOS

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
        let machine = Identity.kernel.machine
        guard let arch = named(machine) else {
            throw .unknownMachine(machine, known: known.map(\.name))
        }
        return arch
    }
}
