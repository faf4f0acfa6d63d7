// Which class, byte order and e_machine combinations runbottle has a port for (what seal
// accepts, whatever the host), and which this host runs natively (what bottle needs).

/// One kind of executable: the three fields a binfmt_misc magic matches besides the note.
public struct MachineKind: Sendable, Hashable {
    public var elfClass: ELFClass
    public var byteOrder: ByteOrder
    public var machine: UInt16

    public init(_ elfClass: ELFClass, _ byteOrder: ByteOrder, _ machine: UInt16) {
        self.elfClass = elfClass
        self.byteOrder = byteOrder
        self.machine = machine
    }
}

/// An architecture runbottle is built for (Sources/runbottle/os/<name>), by its `uname -m` name.
public struct RunbottlePort: Sendable, Hashable {
    public var name: String
    public var kind: MachineKind
}

public enum HostMachine {
    /// The one table of architectures: a sealed binary runs only where a runbottle of its kind
    /// exists. 32-bit programs have none (runbottle is ELFCLASS64 code), so sealing them would
    /// make binaries that nothing can start.
    public static let ports: [RunbottlePort] = [
        RunbottlePort(name: "x86_64", kind: MachineKind(.elf64, .little, ELF.EM_X86_64)),
        RunbottlePort(name: "aarch64", kind: MachineKind(.elf64, .little, ELF.EM_AARCH64)),
    ]

    /// The kinds this host's kernel executes natively, its own first.
    public static let nativeKinds: [MachineKind] = {
        #if arch(x86_64)
        return [MachineKind(.elf64, .little, ELF.EM_X86_64), MachineKind(.elf32, .little, ELF.EM_386),
                MachineKind(.elf32, .little, ELF.EM_X86_64)]
        #elseif arch(arm64)
        return [MachineKind(.elf64, .little, ELF.EM_AARCH64), MachineKind(.elf32, .little, ELF.EM_ARM)]
        #else
        return []
        #endif
    }()

    public static func kind(of image: ELFImage) -> MachineKind {
        MachineKind(image.format.elfClass, image.format.byteOrder, image.header.e_machine)
    }

    /// Throws `.noPort` unless runbottle has a port for `image`'s kind. The host does not matter:
    /// seal, unseal, relocate and inspect only rewrite and read bytes, so a packager seals
    /// aarch64 bottles on an x86-64 machine.
    public static func checkPort(_ image: ELFImage) throws(ELFError) {
        let kind = kind(of: image)
        guard ports.contains(where: { $0.kind == kind }) else {
            throw ELFError(image.path, .noPort(kind, supported: ports.map(\.name)))
        }
    }

    /// `checkPort`, and a `.foreign` error when this host cannot run `image`: bottling runs the
    /// bundled loader to list the libraries.
    public static func check(_ image: ELFImage) throws(ELFError) {
        try checkPort(image)
        let kind = kind(of: image)
        guard nativeKinds.contains(kind) else {
            throw ELFError(image.path, .foreign(kind, host: nativeKinds.first))
        }
    }
}
