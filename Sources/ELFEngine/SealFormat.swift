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
