// The seal format's constants, read from the C header runbottle is built with (bottle(5)).
import RunbottleCore

public enum SealFormat {
    public static let noteName = "BOTTLE"
    public static let version = UInt32(BOTTLE_FORMAT_VERSION)
    public static let interpSlotSize = Int(BOTTLE_INTERP_SLOT_SIZE)
    public static let loaderPathMax = Int(BOTTLE_LOADER_PATH_MAX)
    public static let noteHeaderSize = Int(BOTTLE_NOTE_HEADER_SIZE)
    public static let descHeaderSize = Int(BOTTLE_DESC_HEADER_SIZE)

    /// The note type: which binfmt_misc entry takes the binary.
    public enum NoteType: UInt32, Sendable {
        /// An ordinary program, taken by the entry with flags PO.
        case ordinary = 1
        /// A setuid, setgid or file-capability program, taken by the entry with flags POC.
        case privileged = 2
    }
}

extension SealFormat {
    /// The binfmt_misc magic and mask that match files sealed for one ELF class, byte order and
    /// machine with one note type: bytes [0, e_ehsize + note header) of the file, keeping
    /// e_ident[EI_MAG0..EI_VERSION], e_machine, and the note's namesz, type and padded name;
    /// everything else (OS ABI, e_type, descsz, ...) masked out and zero in the magic.
    public static func binfmtMagic(
        is64Bit: Bool, bigEndian: Bool, machine: UInt16, noteType: NoteType
    ) -> (magic: [UInt8], mask: [UInt8]) {
        let noteOffset = Int(is64Bit ? BOTTLE_NOTE_OFFSET_64 : BOTTLE_NOTE_OFFSET_32)
        let length = noteOffset + noteHeaderSize
        var magic = [UInt8](repeating: 0, count: length)
        var mask = [UInt8](repeating: 0, count: length)
        func keep(_ offset: Int, _ bytes: [UInt8]) {
            for (i, byte) in bytes.enumerated() {
                magic[offset + i] = byte
                mask[offset + i] = 0xff
            }
        }
        func word(_ value: UInt32) -> [UInt8] {
            let le = (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
            return bigEndian ? le.reversed() : le
        }
        let half = [UInt8(truncatingIfNeeded: machine), UInt8(truncatingIfNeeded: machine >> 8)]
        // e_ident: ELFMAG, EI_CLASS, EI_DATA, EI_VERSION (EV_CURRENT).
        keep(0, [0x7f, 0x45, 0x4c, 0x46, is64Bit ? 2 : 1, bigEndian ? 2 : 1, 1])
        keep(18, bigEndian ? half.reversed() : half)  // e_machine, in both classes
        keep(noteOffset, word(BOTTLE_NOTE_NAMESZ))
        keep(noteOffset + 8, word(noteType.rawValue))
        keep(noteOffset + 12, Array(noteName.utf8) + [0, 0])
        return (magic, mask)
    }
}
