// ELF structures as value types in the kernel's names, and their encoding in either class and byte order.

/// ELF constants used by the engine, named as in <elf.h>.
public enum ELF {
    public static let ELFMAG: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]
    public static let EI_CLASS = 4, EI_DATA = 5, EI_VERSION = 6, EI_OSABI = 7, EI_NIDENT = 16
    public static let EV_CURRENT: UInt8 = 1

    public static let ET_EXEC: UInt16 = 2, ET_DYN: UInt16 = 3

    public static let PT_NULL: UInt32 = 0, PT_LOAD: UInt32 = 1, PT_DYNAMIC: UInt32 = 2
    public static let PT_INTERP: UInt32 = 3, PT_NOTE: UInt32 = 4, PT_PHDR: UInt32 = 6
    public static let PT_TLS: UInt32 = 7
    public static let PF_X: UInt32 = 1, PF_W: UInt32 = 2, PF_R: UInt32 = 4

    public static let DT_NULL: Int64 = 0, DT_NEEDED: Int64 = 1, DT_STRTAB: Int64 = 5, DT_STRSZ: Int64 = 10
    public static let DT_SONAME: Int64 = 14, DT_RPATH: Int64 = 15, DT_RUNPATH: Int64 = 29
    public static let DT_FLAGS_1: Int64 = 0x6fff_fffb
    public static let DF_1_PIE: UInt64 = 0x0800_0000

    public static let EM_386: UInt16 = 3, EM_ARM: UInt16 = 40, EM_X86_64: UInt16 = 62
    public static let EM_AARCH64: UInt16 = 183, EM_RISCV: UInt16 = 243

    /// The program header count that means "look in section 0" (PN_XNUM); never produced here.
    public static let PN_XNUM = 0xffff

    /// A short name for e_machine, for messages.
    public static func machineName(_ machine: UInt16) -> String {
        switch machine {
        case EM_386: return "i386"
        case EM_ARM: return "arm"
        case EM_X86_64: return "x86-64"
        case EM_AARCH64: return "aarch64"
        case EM_RISCV: return "riscv"
        case 2: return "sparc"
        case 8: return "mips"
        case 20: return "ppc"
        case 21: return "ppc64"
        case 22: return "s390"
        case 43: return "sparcv9"
        case 258: return "loongarch"
        default: return "e_machine \(machine)"
        }
    }
}

/// EI_CLASS: the width of addresses and offsets.
public enum ELFClass: UInt8, Sendable, Codable {
    case elf32 = 1
    case elf64 = 2

    /// e_ehsize: where the program header table normally starts, and where the BOTTLE note goes.
    public var headerSize: Int { self == .elf64 ? 64 : 52 }
    /// e_phentsize.
    public var programHeaderSize: Int { self == .elf64 ? 56 : 32 }
    public var dynamicEntrySize: Int { self == .elf64 ? 16 : 8 }
    public var name: String { self == .elf64 ? "ELFCLASS64" : "ELFCLASS32" }
}

/// EI_DATA: the byte order of every multi-byte field.
public enum ByteOrder: UInt8, Sendable, Codable {
    case little = 1
    case big = 2

    public var name: String { self == .little ? "little-endian" : "big-endian" }
}

/// The class and byte order of one file: everything needed to decode and encode its fields.
public struct ELFFormat: Sendable, Hashable {
    public var elfClass: ELFClass
    public var byteOrder: ByteOrder

    public init(_ elfClass: ELFClass, _ byteOrder: ByteOrder) {
        self.elfClass = elfClass
        self.byteOrder = byteOrder
    }
}

/// The ELF header (Elf32_Ehdr / Elf64_Ehdr), addresses widened to 64 bits.
public struct ELFHeader: Sendable, Equatable {
    public var e_ident: [UInt8]
    public var e_type: UInt16
    public var e_machine: UInt16
    public var e_version: UInt32
    public var e_entry: UInt64
    public var e_phoff: UInt64
    public var e_shoff: UInt64
    public var e_flags: UInt32
    public var e_ehsize: UInt16
    public var e_phentsize: UInt16
    public var e_phnum: UInt16
    public var e_shentsize: UInt16
    public var e_shnum: UInt16
    public var e_shstrndx: UInt16

    /// Byte ranges of e_phoff and e_phnum within the header: the only header bytes sealing changes.
    public static func sealedFieldRanges(_ elfClass: ELFClass) -> [Range<Int>] {
        elfClass == .elf64 ? [32..<40, 56..<58] : [28..<32, 44..<46]
    }
}

/// A program header (Elf32_Phdr / Elf64_Phdr), addresses widened to 64 bits.
public struct ProgramHeader: Sendable, Equatable {
    public var p_type: UInt32
    public var p_flags: UInt32
    public var p_offset: UInt64
    public var p_vaddr: UInt64
    public var p_paddr: UInt64
    public var p_filesz: UInt64
    public var p_memsz: UInt64
    public var p_align: UInt64

    public init(
        p_type: UInt32, p_flags: UInt32, p_offset: UInt64, p_vaddr: UInt64, p_paddr: UInt64,
        p_filesz: UInt64, p_memsz: UInt64, p_align: UInt64
    ) {
        self.p_type = p_type
        self.p_flags = p_flags
        self.p_offset = p_offset
        self.p_vaddr = p_vaddr
        self.p_paddr = p_paddr
        self.p_filesz = p_filesz
        self.p_memsz = p_memsz
        self.p_align = p_align
    }

    /// End of the file bytes, or nil when offset + size overflows.
    public var fileEnd: UInt64? { p_offset.addingReportingOverflow(p_filesz).overflow ? nil : p_offset + p_filesz }
    /// End of the memory image, or nil when vaddr + size overflows.
    public var memoryEnd: UInt64? { p_vaddr.addingReportingOverflow(p_memsz).overflow ? nil : p_vaddr + p_memsz }

    public static func typeName(_ type: UInt32) -> String {
        switch type {
        case ELF.PT_NULL: return "PT_NULL"
        case ELF.PT_LOAD: return "PT_LOAD"
        case ELF.PT_DYNAMIC: return "PT_DYNAMIC"
        case ELF.PT_INTERP: return "PT_INTERP"
        case ELF.PT_NOTE: return "PT_NOTE"
        case ELF.PT_PHDR: return "PT_PHDR"
        case ELF.PT_TLS: return "PT_TLS"
        default: return "0x" + String(type, radix: 16)
        }
    }
}

/// A dynamic section entry (Elf32_Dyn / Elf64_Dyn).
public struct DynamicEntry: Sendable, Equatable {
    public var d_tag: Int64
    public var d_val: UInt64
}

/// Reads fixed-width fields from a byte array in one file's byte order. Callers check bounds first.
struct FieldDecoder {
    let bytes: [UInt8]
    let order: ByteOrder

    func u8(_ at: Int) -> UInt8 { bytes[at] }

    func u16(_ at: Int) -> UInt16 { UInt16(truncatingIfNeeded: uint(at, 2)) }
    func u32(_ at: Int) -> UInt32 { UInt32(truncatingIfNeeded: uint(at, 4)) }
    func u64(_ at: Int) -> UInt64 { uint(at, 8) }

    /// A word of the file's class: 4 bytes for ELFCLASS32, 8 for ELFCLASS64.
    func word(_ at: Int, _ elfClass: ELFClass) -> UInt64 { elfClass == .elf64 ? u64(at) : UInt64(u32(at)) }

    private func uint(_ at: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<width {
            let byte = UInt64(bytes[at + (order == .little ? width - 1 - i : i)])
            value = value << 8 | byte
        }
        return value
    }
}

/// Appends fixed-width fields to a byte array in one file's byte order.
struct FieldEncoder {
    var bytes: [UInt8] = []
    let order: ByteOrder

    init(_ order: ByteOrder) { self.order = order }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { uint(UInt64(value), 2) }
    mutating func u32(_ value: UInt32) { uint(UInt64(value), 4) }
    mutating func u64(_ value: UInt64) { uint(value, 8) }
    mutating func word(_ value: UInt64, _ elfClass: ELFClass) {
        if elfClass == .elf64 { u64(value) } else { u32(UInt32(truncatingIfNeeded: value)) }
    }
    mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }
    mutating func zeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
    mutating func align(_ alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    private mutating func uint(_ value: UInt64, _ width: Int) {
        for i in 0..<width {
            let shift = UInt64(8 * (order == .little ? i : width - 1 - i))
            bytes.append(UInt8(truncatingIfNeeded: value >> shift))
        }
    }
}

extension ELFFormat {
    /// Decodes an ELF header from at least `elfClass.headerSize` bytes.
    func decodeHeader(_ bytes: [UInt8]) -> ELFHeader {
        let d = FieldDecoder(bytes: bytes, order: byteOrder)
        let wide = elfClass == .elf64
        return ELFHeader(
            e_ident: Array(bytes[0..<ELF.EI_NIDENT]),
            e_type: d.u16(16), e_machine: d.u16(18), e_version: d.u32(20),
            e_entry: d.word(24, elfClass),
            e_phoff: d.word(wide ? 32 : 28, elfClass),
            e_shoff: d.word(wide ? 40 : 32, elfClass),
            e_flags: d.u32(wide ? 48 : 36),
            e_ehsize: d.u16(wide ? 52 : 40), e_phentsize: d.u16(wide ? 54 : 42),
            e_phnum: d.u16(wide ? 56 : 44), e_shentsize: d.u16(wide ? 58 : 46),
            e_shnum: d.u16(wide ? 60 : 48), e_shstrndx: d.u16(wide ? 62 : 50))
    }

    func encodeHeader(_ h: ELFHeader) -> [UInt8] {
        var e = FieldEncoder(byteOrder)
        e.raw(h.e_ident)
        e.u16(h.e_type)
        e.u16(h.e_machine)
        e.u32(h.e_version)
        e.word(h.e_entry, elfClass)
        e.word(h.e_phoff, elfClass)
        e.word(h.e_shoff, elfClass)
        e.u32(h.e_flags)
        e.u16(h.e_ehsize)
        e.u16(h.e_phentsize)
        e.u16(h.e_phnum)
        e.u16(h.e_shentsize)
        e.u16(h.e_shnum)
        e.u16(h.e_shstrndx)
        return e.bytes
    }

    /// Decodes the program header at `at` (the caller checked `at + programHeaderSize` fits).
    func decodeProgramHeader(_ bytes: [UInt8], at: Int) -> ProgramHeader {
        let d = FieldDecoder(bytes: bytes, order: byteOrder)
        if elfClass == .elf64 {
            return ProgramHeader(
                p_type: d.u32(at), p_flags: d.u32(at + 4), p_offset: d.u64(at + 8),
                p_vaddr: d.u64(at + 16), p_paddr: d.u64(at + 24), p_filesz: d.u64(at + 32),
                p_memsz: d.u64(at + 40), p_align: d.u64(at + 48))
        }
        return ProgramHeader(
            p_type: d.u32(at), p_flags: d.u32(at + 24), p_offset: UInt64(d.u32(at + 4)),
            p_vaddr: UInt64(d.u32(at + 8)), p_paddr: UInt64(d.u32(at + 12)),
            p_filesz: UInt64(d.u32(at + 16)), p_memsz: UInt64(d.u32(at + 20)),
            p_align: UInt64(d.u32(at + 28)))
    }

    func encodeProgramHeader(_ p: ProgramHeader, into e: inout FieldEncoder) {
        if elfClass == .elf64 {
            e.u32(p.p_type)
            e.u32(p.p_flags)
            e.u64(p.p_offset)
            e.u64(p.p_vaddr)
            e.u64(p.p_paddr)
            e.u64(p.p_filesz)
            e.u64(p.p_memsz)
            e.u64(p.p_align)
        } else {
            e.u32(p.p_type)
            e.word(p.p_offset, .elf32)
            e.word(p.p_vaddr, .elf32)
            e.word(p.p_paddr, .elf32)
            e.word(p.p_filesz, .elf32)
            e.word(p.p_memsz, .elf32)
            e.u32(p.p_flags)
            e.word(p.p_align, .elf32)
        }
    }

    func encodeProgramHeaders(_ headers: [ProgramHeader]) -> [UInt8] {
        var e = FieldEncoder(byteOrder)
        for p in headers { encodeProgramHeader(p, into: &e) }
        return e.bytes
    }

    func decodeDynamicEntry(_ bytes: [UInt8], at: Int) -> DynamicEntry {
        let d = FieldDecoder(bytes: bytes, order: byteOrder)
        if elfClass == .elf64 {
            return DynamicEntry(d_tag: Int64(bitPattern: d.u64(at)), d_val: d.u64(at + 8))
        }
        return DynamicEntry(d_tag: Int64(Int32(bitPattern: d.u32(at))), d_val: UInt64(d.u32(at + 4)))
    }

    /// The largest address or offset a field of this class can hold.
    var maxWord: UInt64 { elfClass == .elf64 ? UInt64.max : UInt64(UInt32.max) }
}
