// The dynamic array, its string table and the section headers that describe them, read whole for editing.

/// A section header (Elf32_Shdr / Elf64_Shdr), addresses widened to 64 bits.
struct SectionHeader: Sendable, Equatable {
    var sh_name: UInt32
    var sh_type: UInt32
    var sh_flags: UInt64
    var sh_addr: UInt64
    var sh_offset: UInt64
    var sh_size: UInt64
    var sh_link: UInt32
    var sh_info: UInt32
    var sh_addralign: UInt64
    var sh_entsize: UInt64

    static let SHT_SYMTAB: UInt32 = 2, SHT_STRTAB: UInt32 = 3, SHT_DYNAMIC: UInt32 = 6, SHT_NOBITS: UInt32 = 8
    static let SHT_DYNSYM: UInt32 = 11
    static let SHT_GNU_verdef: UInt32 = 0x6fff_fffd, SHT_GNU_verneed: UInt32 = 0x6fff_fffe
    static let SHF_ALLOC: UInt64 = 2, SHF_TLS: UInt64 = 0x400

    static func size(_ elfClass: ELFClass) -> Int { elfClass == .elf64 ? 64 : 40 }

    /// The file bytes the section occupies (none for SHT_NOBITS).
    var fileRange: Range<UInt64>? {
        guard sh_type != Self.SHT_NOBITS, sh_size > 0, let end = checkedAdd(sh_offset, sh_size) else { return nil }
        return sh_offset..<end
    }

    /// The addresses an allocated section occupies (none for TLS sections, which only describe an image).
    var memoryRange: Range<UInt64>? {
        guard sh_flags & Self.SHF_ALLOC != 0, sh_flags & Self.SHF_TLS == 0, sh_size > 0,
              let end = checkedAdd(sh_addr, sh_size) else { return nil }
        return sh_addr..<end
    }
}

extension ELFFormat {
    func decodeSectionHeader(_ bytes: [UInt8], at: Int) -> SectionHeader {
        let d = FieldDecoder(bytes: bytes, order: byteOrder)
        if elfClass == .elf64 {
            return SectionHeader(
                sh_name: d.u32(at), sh_type: d.u32(at + 4), sh_flags: d.u64(at + 8), sh_addr: d.u64(at + 16),
                sh_offset: d.u64(at + 24), sh_size: d.u64(at + 32), sh_link: d.u32(at + 40),
                sh_info: d.u32(at + 44), sh_addralign: d.u64(at + 48), sh_entsize: d.u64(at + 56))
        }
        return SectionHeader(
            sh_name: d.u32(at), sh_type: d.u32(at + 4), sh_flags: UInt64(d.u32(at + 8)),
            sh_addr: UInt64(d.u32(at + 12)), sh_offset: UInt64(d.u32(at + 16)), sh_size: UInt64(d.u32(at + 20)),
            sh_link: d.u32(at + 24), sh_info: d.u32(at + 28), sh_addralign: UInt64(d.u32(at + 32)),
            sh_entsize: UInt64(d.u32(at + 36)))
    }

    func encodeSectionHeader(_ s: SectionHeader) -> [UInt8] {
        var e = FieldEncoder(byteOrder)
        e.u32(s.sh_name)
        e.u32(s.sh_type)
        e.word(s.sh_flags, elfClass)
        e.word(s.sh_addr, elfClass)
        e.word(s.sh_offset, elfClass)
        e.word(s.sh_size, elfClass)
        e.u32(s.sh_link)
        e.u32(s.sh_info)
        e.word(s.sh_addralign, elfClass)
        e.word(s.sh_entsize, elfClass)
        return e.bytes
    }

    func encodeDynamicEntries(_ entries: [DynamicEntry]) -> [UInt8] {
        var e = FieldEncoder(byteOrder)
        for entry in entries {
            e.word(UInt64(bitPattern: entry.d_tag), elfClass)
            e.word(entry.d_val, elfClass)
        }
        return e.bytes
    }
}

/// PT_DYNAMIC's entries and the string table DT_STRTAB names, with where each lives in the file.
struct DynamicTable {
    /// The entries up to and including the first DT_NULL.
    var entries: [DynamicEntry]
    /// The entry slots PT_DYNAMIC holds, spare DT_NULLs after the first included.
    var capacity: Int
    var phdr: ProgramHeader
    var strtabAddress: UInt64
    var strtabOffset: UInt64
    var strtabSize: UInt64
    /// The section headers (empty when the file has none), and their table's offset.
    var sections: [SectionHeader]
    var sectionTableOffset: UInt64

    /// Tags whose d_val is an offset into DT_STRTAB.
    static let stringTags: Set<Int64> = [
        1 /* DT_NEEDED */, ELF.DT_SONAME, ELF.DT_RPATH, ELF.DT_RUNPATH,
        0x7fff_fffd /* DT_AUXILIARY */, 0x7fff_ffff /* DT_FILTER */,
        0x6fff_fefa /* DT_CONFIG */, 0x6fff_fefb /* DT_DEPAUDIT */, 0x6fff_fefc /* DT_AUDIT */,
    ]

    static func read(_ file: ELFFile, _ image: ELFImage) throws(ELFError) -> DynamicTable {
        let path = file.path
        func corrupt(_ what: ELFError.Corruption) -> ELFError { ELFError(path, .corrupt(what)) }
        let dynamics = image.programHeaders.filter { $0.p_type == ELF.PT_DYNAMIC }
        guard let phdr = dynamics.first else { throw ELFError(path, .staticExecutable(.noDynamicSegment)) }
        guard dynamics.count == 1 else { throw corrupt(.repeated(type: ELF.PT_DYNAMIC, count: dynamics.count)) }
        let entrySize = image.format.elfClass.dynamicEntrySize
        let capacity = Int(min(phdr.p_filesz, UInt64(ELFFile.maxRead))) / entrySize
        let bytes = try file.read(at: phdr.p_offset, count: capacity * entrySize, .dynamicSegment)
        var entries: [DynamicEntry] = []
        for i in 0..<capacity {
            let entry = image.format.decodeDynamicEntry(bytes, at: i * entrySize)
            entries.append(entry)
            if entry.d_tag == ELF.DT_NULL { break }
        }
        guard entries.last?.d_tag == ELF.DT_NULL else { throw corrupt(.noDynamicNull) }
        guard let strtab = entries.first(where: { $0.d_tag == ELF.DT_STRTAB })?.d_val,
              let strsz = entries.first(where: { $0.d_tag == ELF.DT_STRSZ })?.d_val
        else { throw corrupt(.noDynamicStringTable) }
        guard let offset = DynamicInfo.fileOffset(ofAddress: strtab, image),
              let end = checkedAdd(offset, strsz), end <= file.size,
              image.loads.contains(where: { $0.p_vaddr <= strtab && strtab - $0.p_vaddr + strsz <= $0.p_filesz })
        else { throw corrupt(.stringTableOutsideLoad(address: strtab, size: strsz)) }

        var sections: [SectionHeader] = []
        let header = image.header
        let shsize = SectionHeader.size(image.format.elfClass)
        if header.e_shoff != 0, header.e_shnum > 0, Int(header.e_shentsize) == shsize {
            let table = try file.read(at: header.e_shoff, count: Int(header.e_shnum) * shsize, .sectionHeaderTable)
            sections = (0..<Int(header.e_shnum)).map { image.format.decodeSectionHeader(table, at: $0 * shsize) }
        }
        return DynamicTable(
            entries: entries, capacity: capacity, phdr: phdr, strtabAddress: strtab, strtabOffset: offset,
            strtabSize: strsz, sections: sections, sectionTableOffset: header.e_shoff)
    }

    /// The string at `index` of DT_STRTAB, bounded by DT_STRSZ.
    func string(_ file: ELFFile, at index: UInt64) throws(ELFError) -> [UInt8] {
        guard index < strtabSize else {
            throw ELFError(file.path, .corrupt(.stringOutsideSize(index: index, size: strtabSize)))
        }
        let count = Int(min(strtabSize - index, 4096))
        let bytes = try file.read(at: strtabOffset + index, count: count, .dynamicStringTable)
        guard let end = bytes.firstIndex(of: 0) else {
            throw ELFError(file.path, .corrupt(.stringNotTerminatedWithin(index: index, bytes: 4096)))
        }
        return Array(bytes[..<end])
    }

    /// The whole string table, read in bounded pieces.
    func stringTable(_ file: ELFFile) throws(ELFError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(Int(strtabSize))
        var done: UInt64 = 0
        while done < strtabSize {
            let count = Int(min(strtabSize - done, UInt64(ELFFile.maxRead)))
            result += try file.read(at: strtabOffset + done, count: count, .dynamicStringTable)
            done += UInt64(count)
        }
        return result
    }

    /// The index of the section header describing the dynamic array, if the file has one.
    var dynamicSectionIndex: Int? {
        sections.firstIndex { $0.sh_type == SectionHeader.SHT_DYNAMIC && $0.sh_offset == phdr.p_offset }
    }

    /// The index of the section header describing DT_STRTAB, if the file has one.
    var stringSectionIndex: Int? {
        sections.firstIndex { $0.sh_type == SectionHeader.SHT_STRTAB && $0.sh_addr == strtabAddress && $0.sh_flags & SectionHeader.SHF_ALLOC != 0 }
    }

    /// Every offset into DT_STRTAB that something other than the dynamic entries `except` refers to:
    /// the other dynamic entries, the dynamic symbols' names, and the version records' names.
    /// Nil when the file has no section headers to find the symbols and versions by.
    func stringReferences(_ file: ELFFile, format: ELFFormat, except: Set<Int>) throws(ELFError) -> [UInt64]? {
        guard let strIndex = stringSectionIndex else { return nil }
        var refs: [UInt64] = []
        for (i, entry) in entries.enumerated() where !except.contains(i) && Self.stringTags.contains(entry.d_tag) {
            refs.append(entry.d_val)
        }
        let wide = format.elfClass == .elf64
        for section in sections where Int(section.sh_link) == strIndex {
            switch section.sh_type {
            case SectionHeader.SHT_DYNSYM:
                let entsize = wide ? 24 : 16
                guard section.sh_size <= file.size else { throw ELFError(file.path, .truncated(.dynamicSymbolTable(bytes: section.sh_size))) }
                let total = Int(section.sh_size) / entsize
                var first = 0
                let perRead = ELFFile.maxRead / entsize
                while first < total {
                    let count = min(perRead, total - first)
                    let bytes = try file.read(at: section.sh_offset + UInt64(first * entsize), count: count * entsize, .dynamicSymbols)
                    let d = FieldDecoder(bytes: bytes, order: format.byteOrder)
                    for i in 0..<count { refs.append(UInt64(d.u32(i * entsize))) }
                    first += count
                }
            case SectionHeader.SHT_GNU_verneed, SectionHeader.SHT_GNU_verdef:
                refs += try versionNames(file, section, format: format)
            default:
                continue
            }
        }
        return refs
    }

    /// The names a verneed or verdef section refers to (vn_file and vna_name; vda_name).
    private func versionNames(_ file: ELFFile, _ section: SectionHeader, format: ELFFormat) throws(ELFError) -> [UInt64] {
        guard section.sh_size <= UInt64(ELFFile.maxRead) else {
            throw ELFError(file.path, .corrupt(.versionSectionSize(section.sh_size)))
        }
        let bytes = try file.read(at: section.sh_offset, count: Int(section.sh_size), .versionSection)
        let d = FieldDecoder(bytes: bytes, order: format.byteOrder)
        func fits(_ at: Int, _ size: Int) -> Bool { at >= 0 && at <= bytes.count - size }
        var refs: [UInt64] = []
        let isNeed = section.sh_type == SectionHeader.SHT_GNU_verneed
        var at = 0
        // Elf_Verneed: version, cnt, file, aux, next. Elf_Verdef: version, flags, ndx, cnt, hash, aux, next.
        for _ in 0..<max(Int(section.sh_info), 1) {
            guard fits(at, isNeed ? 16 : 20) else { throw ELFError(file.path, .corrupt(.versionRecordOutside)) }
            let count = Int(isNeed ? d.u16(at + 2) : d.u16(at + 6))
            if isNeed { refs.append(UInt64(d.u32(at + 4))) }
            var aux = at + Int(isNeed ? d.u32(at + 8) : d.u32(at + 12))
            for _ in 0..<count {
                // Elf_Vernaux: hash, flags, other, name, next. Elf_Verdaux: name, next.
                guard fits(aux, isNeed ? 16 : 8) else { throw ELFError(file.path, .corrupt(.versionAuxiliaryOutside)) }
                refs.append(UInt64(isNeed ? d.u32(aux + 8) : d.u32(aux)))
                let next = Int(isNeed ? d.u32(aux + 12) : d.u32(aux + 4))
                if next == 0 { break }
                aux += next
            }
            let next = Int(isNeed ? d.u32(at + 12) : d.u32(at + 16))
            if next == 0 { break }
            at += next
        }
        return refs
    }

    /// Edits that move the symbols defined in section `section` (_DYNAMIC in the dynamic array,
    /// section symbols) by as much as the section moved to `address`, in .symtab and .dynsym, so
    /// that symbol values keep naming the copy the program headers point at.
    func symbolEdits(_ file: ELFFile, format: ELFFormat, section: Int, movedTo address: UInt64) throws(ELFError) -> [SealPlan.Edit] {
        let old = sections[section]
        let wide = format.elfClass == .elf64
        let entsize = wide ? 24 : 16
        var edits: [SealPlan.Edit] = []
        for table in sections where table.sh_type == SectionHeader.SHT_SYMTAB || table.sh_type == SectionHeader.SHT_DYNSYM {
            guard table.sh_size <= file.size else { throw ELFError(file.path, .truncated(.symbolTable(bytes: table.sh_size))) }
            let total = Int(table.sh_size) / entsize
            let perRead = ELFFile.maxRead / entsize
            var first = 0
            while first < total {
                let count = min(perRead, total - first)
                let base = table.sh_offset + UInt64(first * entsize)
                let bytes = try file.read(at: base, count: count * entsize, .symbolTable)
                let d = FieldDecoder(bytes: bytes, order: format.byteOrder)
                for i in 0..<count {
                    let at = i * entsize
                    let shndx = Int(d.u16(at + (wide ? 6 : 14)))
                    let valueAt = at + (wide ? 8 : 4)
                    let value = d.word(valueAt, format.elfClass)
                    guard shndx == section, value >= old.sh_addr, value - old.sh_addr <= old.sh_size else { continue }
                    var e = FieldEncoder(format.byteOrder)
                    e.word(address + (value - old.sh_addr), format.elfClass)
                    edits.append(.init(offset: base + UInt64(valueAt), bytes: e.bytes))
                }
                first += count
            }
        }
        return edits
    }
}
