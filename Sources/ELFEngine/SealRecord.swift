// The seal record: what unseal needs to restore the original file byte for byte.

/// Stored at the end of the appended segment, after the PT_INTERP slot, in the file's byte order:
///
///     0   "BTLSEAL\0"                   magic
///     8   u32 record version (1)
///     12  u32 record size, checksum included
///     16  u64 original file size
///     24  u64 original e_phoff
///     32  u16 e_ehsize, u16 e_phentsize, u16 original e_phnum, u16 flags (bit 0: PT_PHDR added)
///     40  the original ELF header (e_ehsize bytes), then the original program header table
///         (e_phnum * e_phentsize bytes), zero-padded to 8
///     end-8  u64 FNV-1a of every byte before it
public struct SealRecord: Sendable, Equatable {
    public static let magic: [UInt8] = Array("BTLSEAL".utf8) + [0]
    public static let version: UInt32 = 1
    static let fixedSize = 40

    public var originalSize: UInt64
    public var originalPhoff: UInt64
    public var addedPHDR: Bool
    public var originalHeader: [UInt8]
    public var originalTable: [UInt8]

    public init(originalSize: UInt64, originalPhoff: UInt64, addedPHDR: Bool, originalHeader: [UInt8], originalTable: [UInt8]) {
        self.originalSize = originalSize
        self.originalPhoff = originalPhoff
        self.addedPHDR = addedPHDR
        self.originalHeader = originalHeader
        self.originalTable = originalTable
    }

    public func encoded(_ format: ELFFormat) -> [UInt8] {
        var e = FieldEncoder(format.byteOrder)
        e.raw(SealRecord.magic)
        e.u32(SealRecord.version)
        e.u32(UInt32(SealRecord.encodedSize(header: originalHeader.count, table: originalTable.count)))
        e.u64(originalSize)
        e.u64(originalPhoff)
        e.u16(UInt16(originalHeader.count))
        e.u16(UInt16(format.elfClass.programHeaderSize))
        e.u16(UInt16(originalTable.count / format.elfClass.programHeaderSize))
        e.u16(addedPHDR ? 1 : 0)
        e.raw(originalHeader)
        e.raw(originalTable)
        e.align(8)
        e.u64(fnv1a(e.bytes))
        return e.bytes
    }

    static func encodedSize(header: Int, table: Int) -> Int {
        (fixedSize + header + table + 7) / 8 * 8 + 8
    }

    /// The record's total size from its first 16 bytes, or nil when they are not a record header.
    static func declaredSize(_ head: [UInt8], _ order: ByteOrder) -> Int? {
        guard head.count >= 16, Array(head[0..<8]) == magic else { return nil }
        let d = FieldDecoder(bytes: head, order: order)
        guard d.u32(8) == version else { return nil }
        return Int(d.u32(12))
    }

    /// Decodes a whole record; the reason it is unusable otherwise.
    static func decode(_ bytes: [UInt8], _ format: ELFFormat) -> Result<SealRecord, ELFError.SealDamage> {
        guard let size = declaredSize(bytes, format.byteOrder), size == bytes.count, size >= fixedSize + 8 else {
            return .failure(.recordUnreadable)
        }
        let d = FieldDecoder(bytes: bytes, order: format.byteOrder)
        guard d.u64(size - 8) == fnv1a(Array(bytes[0..<(size - 8)])) else {
            return .failure(.recordChecksum)
        }
        let ehsize = Int(d.u16(32)), phentsize = Int(d.u16(34)), phnum = Int(d.u16(36))
        guard ehsize == format.elfClass.headerSize, phentsize == format.elfClass.programHeaderSize,
              encodedSize(header: ehsize, table: phnum * phentsize) == size
        else { return .failure(.recordSizes) }
        let headerStart = fixedSize, tableStart = fixedSize + ehsize
        return .success(SealRecord(
            originalSize: d.u64(16), originalPhoff: d.u64(24), addedPHDR: d.u16(38) & 1 != 0,
            originalHeader: Array(bytes[headerStart..<tableStart]),
            originalTable: Array(bytes[tableStart..<(tableStart + phnum * phentsize)])))
    }
}

/// 64-bit FNV-1a: enough to tell a damaged record from an intact one.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}
