// The parsed head of an ELF file, checked against the kernel's own rules for what it will load.

/// The parsed head of an ELF file: header, program headers and interpreter, with their raw bytes.
public struct ELFImage: Sendable {
    public var path: String
    public var format: ELFFormat
    public var header: ELFHeader
    /// The header's bytes as in the file (e_ehsize of them).
    public var headerBytes: [UInt8]
    public var programHeaders: [ProgramHeader]
    /// The program header table's bytes as in the file.
    public var tableBytes: [UInt8]
    public var fileSize: UInt64
    /// PT_INTERP's bytes (p_filesz of them, NUL last), if the file has one.
    public var interpBytes: [UInt8]?

    /// The interpreter path without its NUL padding.
    public var interpreter: String? {
        interpBytes.map { bytes in String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) }
    }

    public var loads: [ProgramHeader] { programHeaders.filter { $0.p_type == ELF.PT_LOAD } }

    public func first(_ type: UInt32) -> ProgramHeader? { programHeaders.first { $0.p_type == type } }

    /// The largest program header table the kernel reads (load_elf_phdrs: at most a page).
    public static let maxTableSize = 4096

    /// Reads and checks the ELF header, the program header table and PT_INTERP of `file`.
    /// `lenient` skips the checks of each program header and the reading of PT_INTERP, so a
    /// damaged file's table can still be looked at (see `Sealer.parse`).
    public static func parse(_ file: ELFFile, lenient: Bool = false) throws(ELFError) -> ELFImage {
        let path = file.path
        func corrupt(_ what: ELFError.Corruption) -> ELFError { ELFError(path, .corrupt(what)) }
        let headCount = Int(min(file.size, 64))
        let head = try file.read(at: 0, count: headCount, .elfHeader)
        guard head.count >= 4, Array(head[0..<4]) == ELF.ELFMAG else {
            throw ELFError(path, .notELF)
        }
        guard head.count >= ELF.EI_NIDENT else { throw ELFError(path, .truncated(.ident(fileSize: file.size))) }
        guard let elfClass = ELFClass(rawValue: head[ELF.EI_CLASS]) else {
            throw corrupt(.elfClass(head[ELF.EI_CLASS]))
        }
        guard let byteOrder = ByteOrder(rawValue: head[ELF.EI_DATA]) else {
            throw corrupt(.byteOrder(head[ELF.EI_DATA]))
        }
        guard head[ELF.EI_VERSION] == ELF.EV_CURRENT else {
            throw corrupt(.version(head[ELF.EI_VERSION]))
        }
        let format = ELFFormat(elfClass, byteOrder)
        guard head.count >= elfClass.headerSize else {
            throw ELFError(path, .truncated(.header(fileSize: file.size, needed: elfClass.headerSize)))
        }
        let headerBytes = Array(head[0..<elfClass.headerSize])
        let header = format.decodeHeader(headerBytes)
        guard Int(header.e_ehsize) == elfClass.headerSize else {
            throw corrupt(.headerSize(header.e_ehsize, expected: elfClass.headerSize, elfClass))
        }
        guard header.e_type == ELF.ET_EXEC || header.e_type == ELF.ET_DYN else {
            throw ELFError(path, .notExecutable(eType: header.e_type))
        }
        guard header.e_phnum > 0 else { throw corrupt(.noProgramHeaders) }
        guard Int(header.e_phnum) != ELF.PN_XNUM else { throw ELFError(path, .unsupportedLayout(.extendedNumbering)) }
        guard Int(header.e_phentsize) == elfClass.programHeaderSize else {
            throw corrupt(.programHeaderEntrySize(header.e_phentsize, expected: elfClass.programHeaderSize))
        }
        // Sections are left alone, but a table past the end of the file means a truncated file.
        if header.e_shoff != 0 && header.e_shnum != 0 && !lenient {
            let (size, overflow) = UInt64(header.e_shnum).multipliedReportingOverflow(by: UInt64(header.e_shentsize))
            guard !overflow, let end = checkedAdd(header.e_shoff, size), end <= file.size else {
                throw ELFError(path, .truncated(.sectionHeaderTable(shoff: header.e_shoff, fileSize: file.size)))
            }
        }
        let tableSize = Int(header.e_phnum) * elfClass.programHeaderSize
        guard tableSize <= maxTableSize else {
            throw corrupt(.tableTooLarge(entries: header.e_phnum, bytes: tableSize, limit: maxTableSize))
        }
        let tableBytes = try file.read(at: header.e_phoff, count: tableSize, .programHeaderTable(phoff: header.e_phoff))
        var programHeaders: [ProgramHeader] = []
        for i in 0..<Int(header.e_phnum) {
            let p = format.decodeProgramHeader(tableBytes, at: i * elfClass.programHeaderSize)
            if lenient {
                programHeaders.append(p)
                continue
            }
            let segment = ELFError.Segment(type: p.p_type, index: i)
            guard let fileEnd = p.fileEnd, fileEnd <= format.maxWord, p.memoryEnd != nil else {
                throw corrupt(.segmentOverflows(segment))
            }
            if p.p_type == ELF.PT_LOAD || p.p_type == ELF.PT_INTERP || p.p_type == ELF.PT_DYNAMIC {
                guard fileEnd <= file.size else {
                    throw ELFError(path, .truncated(.segment(segment, end: fileEnd, fileSize: file.size)))
                }
            }
            if p.p_type == ELF.PT_LOAD {
                guard p.p_filesz <= p.p_memsz else { throw corrupt(.fileSizeExceedsMemorySize(segment)) }
                guard p.p_align <= 1 || (p.p_align & (p.p_align - 1) == 0 && p.p_vaddr % p.p_align == p.p_offset % p.p_align) else {
                    throw corrupt(.segmentNotCongruent(segment))
                }
            }
            programHeaders.append(p)
        }
        let interps = programHeaders.filter { $0.p_type == ELF.PT_INTERP }
        guard interps.count <= 1 else { throw corrupt(.repeated(type: ELF.PT_INTERP, count: interps.count)) }
        var interpBytes: [UInt8]?
        if let interp = interps.first, !lenient {
            // The kernel (load_elf_binary) refuses a PT_INTERP over PATH_MAX or under 2 bytes,
            // and one whose last byte is not NUL.
            guard interp.p_filesz >= 2, interp.p_filesz <= UInt64(SealFormat.interpSlotSize) else {
                throw corrupt(.interpreterSize(interp.p_filesz, maximum: SealFormat.interpSlotSize))
            }
            let bytes = try file.read(at: interp.p_offset, count: Int(interp.p_filesz), .interpreter)
            guard bytes.last == 0 else { throw corrupt(.interpreterNotTerminated) }
            interpBytes = bytes
        }
        return ELFImage(
            path: path, format: format, header: header, headerBytes: headerBytes,
            programHeaders: programHeaders, tableBytes: tableBytes, fileSize: file.size,
            interpBytes: interpBytes)
    }
}
