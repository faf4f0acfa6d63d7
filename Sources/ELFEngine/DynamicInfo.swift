// The few dynamic section entries sealing and bottling need: DT_NEEDED, run paths, SONAME,
// DT_FLAGS_1.

/// What PT_DYNAMIC says about how a file is meant to be used and where it finds libraries.
public struct DynamicInfo: Sendable, Equatable {
    public var needed: [String] = []
    public var rpath: [String] = []
    public var runpath: [String] = []
    public var soname: String?
    public var flags1: UInt64 = 0

    /// True when the linker marked the file a position-independent executable (DF_1_PIE).
    public var isPIE: Bool { flags1 & ELF.DF_1_PIE != 0 }

    /// Reads PT_DYNAMIC and the strings it names, each read bounded; a file without PT_DYNAMIC
    /// gives an empty result.
    public static func read(_ file: ELFFile, _ image: ELFImage) throws(ELFError) -> DynamicInfo {
        var info = DynamicInfo()
        guard let dynamic = image.first(ELF.PT_DYNAMIC), dynamic.p_filesz > 0 else { return info }
        let entrySize = image.format.elfClass.dynamicEntrySize
        let count = Int(min(dynamic.p_filesz, UInt64(ELFFile.maxRead))) / entrySize
        let bytes = try file.read(at: dynamic.p_offset, count: count * entrySize, .dynamicSegment)
        var strtab: UInt64?, strsz: UInt64 = 0
        var needed: [UInt64] = [], rpath: [UInt64] = [], runpath: [UInt64] = [], soname: UInt64?
        for i in 0..<count {
            let entry = image.format.decodeDynamicEntry(bytes, at: i * entrySize)
            switch entry.d_tag {
            case ELF.DT_NULL: break
            case ELF.DT_STRTAB: strtab = entry.d_val
            case ELF.DT_STRSZ: strsz = entry.d_val
            case ELF.DT_NEEDED: needed.append(entry.d_val)
            case ELF.DT_RPATH: rpath.append(entry.d_val)
            case ELF.DT_RUNPATH: runpath.append(entry.d_val)
            case ELF.DT_SONAME: soname = entry.d_val
            case ELF.DT_FLAGS_1: info.flags1 = entry.d_val
            default: continue
            }
            if entry.d_tag == ELF.DT_NULL { break }
        }
        guard let strtab, !(needed.isEmpty && rpath.isEmpty && runpath.isEmpty && soname == nil) else { return info }
        guard let base = fileOffset(ofAddress: strtab, image) else {
            throw ELFError(file.path, .corrupt(.stringTableUnmapped(address: strtab)))
        }
        func string(_ index: UInt64) throws(ELFError) -> String {
            guard index < strsz, let start = checkedAdd(base, index), start < file.size else {
                throw ELFError(file.path, .corrupt(.stringOutsideTable(index: index)))
            }
            let count = Int(min(strsz - index, file.size - start, 4096))
            let bytes = try file.read(at: start, count: count, .dynamicStringTable)
            guard let end = bytes.firstIndex(of: 0) else {
                throw ELFError(file.path, .corrupt(.stringNotTerminated(index: index)))
            }
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        for index in needed { info.needed.append(try string(index)) }
        for index in rpath { info.rpath += try string(index).split(separator: ":").map(String.init) }
        for index in runpath { info.runpath += try string(index).split(separator: ":").map(String.init) }
        if let soname { info.soname = try string(soname) }
        return info
    }

    /// The file offset holding virtual address `address`, through the PT_LOAD that maps it.
    static func fileOffset(ofAddress address: UInt64, _ image: ELFImage) -> UInt64? {
        for load in image.loads where address >= load.p_vaddr && address - load.p_vaddr < load.p_filesz {
            return load.p_offset + (address - load.p_vaddr)
        }
        return nil
    }
}
