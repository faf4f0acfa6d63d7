// The seal format's constants, read from the C header runbottle is built with (bottle(5)).
import RunbottleCore

public enum SealFormat {
    public static let noteName: String = BOTTLE_NOTE_NAME
    public static let noteNameSize = UInt32(BOTTLE_NOTE_NAMESZ)
    /// The note's name as the file holds it: NUL-terminated, padded to 4 bytes.
    public static let paddedNoteName: [UInt8] =
        Array(noteName.utf8) + [UInt8](repeating: 0, count: Int(BOTTLE_NOTE_NAME_PADDED) - noteName.utf8.count)
    public static let version = UInt32(BOTTLE_FORMAT_VERSION)
    public static let interpSlotSize = Int(BOTTLE_INTERP_SLOT_SIZE)
    public static let loaderPathMax = Int(BOTTLE_LOADER_PATH_MAX)
    public static let noteHeaderSize = Int(BOTTLE_NOTE_HEADER_SIZE)
    public static let descHeaderSize = Int(BOTTLE_DESC_HEADER_SIZE)
    /// Where the note starts: right after the ELF header, e_ehsize of the class.
    public static func noteOffset(is64Bit: Bool) -> Int {
        Int(is64Bit ? BOTTLE_NOTE_OFFSET_64 : BOTTLE_NOTE_OFFSET_32)
    }
    /// Where runbottle is installed: what a PT_INTERP slot names by default.
    public static let runbottlePath: String = BOTTLE_RUNBOTTLE_PATH

    /// The note type: whether a binfmt_misc entry takes the binary, and which. The raw values
    /// are BOTTLE_NT_SEAL, BOTTLE_NT_SEAL_PRIVILEGED and BOTTLE_NT_SEAL_INTERP (a test checks).
    public enum NoteType: UInt32, Sendable {
        /// An ordinary program, taken by the BOTTLE entry.
        case ordinary = 1
        /// A setuid, setgid or file-capability program, taken by the BOTTLE-privileged entry.
        case privileged = 2
        /// Matched by no entry: the kernel execs the program natively and starts the program
        /// interpreter its PT_INTERP slot names (runbottle).
        case interp = 3

        /// How the kernel reaches runbottle for a binary with this note.
        public var dispatch: Dispatch { self == .interp ? .interp : .binfmt }
    }

    /// How a sealed binary gets to runbottle.
    public enum Dispatch: String, Sendable, CaseIterable {
        /// The kernel's ELF loader starts the program interpreter the PT_INTERP slot names.
        case interp
        /// A binfmt_misc entry matches the note and runs runbottle; where none is registered,
        /// the PT_INTERP slot still names runbottle.
        case binfmt
    }

    /// Where in the slot runbottle's trampoline goes (the slot's tail), and its most bytes: the
    /// slot's last byte stays NUL.
    public static let slotTrampolineOffset = Int(BOTTLE_SLOT_TRAMPOLINE_OFFSET)
    public static let slotTrampolineMax = Int(BOTTLE_SLOT_TRAMPOLINE_MAX)

    /// The PT_INTERP slot's bytes naming `path` in a binary for `machine`: the path, then NULs
    /// to BOTTLE_INTERP_SLOT_SIZE, but for the trampoline of runbottle's port to `machine` at the
    /// slot's tail when the path ends before it (bottle(5)). The same on every host.
    /// `path` must fit with its NUL (see `interpreterProblem`).
    public static func slotBytes(naming path: String, machine: UInt16) -> [UInt8] {
        let bytes = Array(path.utf8)
        var slot = bytes + [UInt8](repeating: 0, count: max(0, interpSlotSize - bytes.count))
        if let trampoline = RunbottleTrampoline.byMachine[machine], bytes.count < slotTrampolineOffset,
           trampoline.count <= slotTrampolineMax {
            slot.replaceSubrange(slotTrampolineOffset..<(slotTrampolineOffset + trampoline.count), with: trampoline)
        }
        return slot
    }

    /// Whether the slot `slot` holds the trampoline of runbottle's port to `machine` in its tail:
    /// what runbottle compares before it maps the tail (os/trampoline.c).
    public static func slotCarriesTrampoline(_ slot: [UInt8], machine: UInt16) -> Bool {
        guard let trampoline = RunbottleTrampoline.byMachine[machine], slot.count == interpSlotSize,
              trampoline.count <= slotTrampolineMax else { return false }
        return Array(slot[slotTrampolineOffset..<(slotTrampolineOffset + trampoline.count)]) == trampoline
    }

    /// Why `path` cannot be the program interpreter a slot names, or nil when it can: the kernel
    /// needs an absolute path (a relative one would be looked up from whatever the working
    /// directory is) that fits the slot with a NUL after it.
    public static func interpreterProblem(_ path: String) -> ELFError.InterpreterPathFault? {
        let bytes = Array(path.utf8)
        if bytes.isEmpty { return .empty }
        if bytes.first != UInt8(ascii: "/") { return .relative(path) }
        if bytes.contains(0) { return .containsNUL }
        if bytes.count >= interpSlotSize { return .tooLong(bytes: bytes.count, maximum: interpSlotSize - 1) }
        return nil
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
        let noteOffset = noteOffset(is64Bit: is64Bit)
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
        keep(noteOffset, word(noteNameSize))
        keep(noteOffset + 8, word(noteType.rawValue))
        keep(noteOffset + 12, paddedNoteName)
        return (magic, mask)
    }
}
