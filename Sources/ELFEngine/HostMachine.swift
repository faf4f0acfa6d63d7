// Which class, byte order and e_machine combinations this host runs natively.

/// One kind of executable: the three fields a binfmt_misc magic matches besides the note.
public struct MachineKind: Sendable, Hashable, CustomStringConvertible {
    public var elfClass: ELFClass
    public var byteOrder: ByteOrder
    public var machine: UInt16

    public init(_ elfClass: ELFClass, _ byteOrder: ByteOrder, _ machine: UInt16) {
        self.elfClass = elfClass
        self.byteOrder = byteOrder
        self.machine = machine
    }

    public var description: String {
        "\(ELF.machineName(machine)) \(elfClass == .elf64 ? "64" : "32")-bit \(byteOrder.name)"
    }
}

public enum HostMachine {
    /// The kinds this host's kernel executes natively, its own first. Sealing accepts only these:
    /// a sealed binary must also run natively through its original PT_INTERP, and the bundled
    /// loader must be one this kernel can map.
    public static let nativeKinds: [MachineKind] = {
        #if arch(x86_64)
        return [MachineKind(.elf64, .little, ELF.EM_X86_64), MachineKind(.elf32, .little, ELF.EM_386),
                MachineKind(.elf32, .little, ELF.EM_X86_64)]
        #elseif arch(arm64)
        return [MachineKind(.elf64, .little, ELF.EM_AARCH64), MachineKind(.elf32, .little, ELF.EM_ARM)]
        #elseif arch(i386)
        return [MachineKind(.elf32, .little, ELF.EM_386)]
        #elseif arch(arm)
        return [MachineKind(.elf32, .little, ELF.EM_ARM)]
        #else
        return []
        #endif
    }()

    /// Throws a `.foreign` error naming what does not match when `image` is not for this host.
    public static func check(_ image: ELFImage) throws(ELFError) {
        let kind = MachineKind(image.format.elfClass, image.format.byteOrder, image.header.e_machine)
        guard nativeKinds.contains(kind) else {
            let host = nativeKinds.first.map { "\($0)" } ?? "unknown"
            throw ELFError(image.path, .foreign("\(kind), this host runs \(host)"))
        }
    }
}
