// The BOTTLE note a sealed binary carries at e_ehsize: encoded here, decoded by the C core's parser.
import RunbottleCore

/// The contents of a BOTTLE note (bottle(5)).
public struct BottleNote: Sendable, Equatable {
    public var type: SealFormat.NoteType
    public var version: UInt32
    /// The bundled loader, relative to the directory holding the binary's real path.
    public var loader: String

    public init(type: SealFormat.NoteType, loader: String, version: UInt32 = SealFormat.version) {
        self.type = type
        self.loader = loader
        self.version = version
    }

    /// The note's bytes in `order`: header, padded name, version, length, NUL-padded path.
    public func encoded(_ order: ByteOrder) -> [UInt8] {
        let path = Array(loader.utf8)
        var desc = FieldEncoder(order)
        desc.u32(version)
        desc.u32(UInt32(path.count))
        desc.raw(path)
        desc.u8(0)
        desc.align(4)
        var e = FieldEncoder(order)
        e.u32(SealFormat.noteNameSize)
        e.u32(UInt32(desc.bytes.count))
        e.u32(type.rawValue)
        e.raw(SealFormat.paddedNoteName)
        e.raw(desc.bytes)
        return e.bytes
    }

    /// The largest note there can be (BOTTLE_NOTE_MAX_SIZE): what a reader fetches from e_ehsize.
    public static let maxSize = SealFormat.noteHeaderSize + SealFormat.descHeaderSize + SealFormat.loaderPathMax + 1

    /// The size of the note for a loader path of `loaderLength` bytes.
    public static func size(loaderLength: Int) -> Int {
        SealFormat.noteHeaderSize + SealFormat.descHeaderSize + (loaderLength + 1 + 3) / 4 * 4
    }

    /// Why a loader path cannot go in a note, or nil when it can.
    public static func problem(withLoader loader: String) -> ELFError.LoaderPathFault? {
        let bytes = Array(loader.utf8)
        if bytes.isEmpty { return .empty }
        if bytes.first == UInt8(ascii: "/") { return .absolute(loader) }
        if bytes.contains(0) { return .containsNUL }
        if bytes.count > SealFormat.loaderPathMax { return .tooLong(maximum: SealFormat.loaderPathMax) }
        return nil
    }

    /// The parse result of the bytes at e_ehsize.
    public enum Decoded: Sendable, Equatable {
        case note(BottleNote, size: Int)
        /// No BOTTLE note here: this file is not sealed.
        case absent
        /// A BOTTLE note header with fields out of range, or of an unknown version.
        case malformed(ELFError.SealDamage)
    }

    /// Decodes the bytes found at e_ehsize, using the same parser runbottle uses.
    public static func decode(_ bytes: [UInt8], _ order: ByteOrder) -> Decoded {
        var parsed = rb_note()
        return bytes.withUnsafeBufferPointer { buffer -> Decoded in
            let rc = rb_note_parse(buffer.baseAddress, buffer.count, order == .big ? 1 : 0, &parsed)
            switch rc {
            case RB_OK.rawValue:
                guard let loader = parsed.loader, let type = SealFormat.NoteType(rawValue: parsed.type) else {
                    return .malformed(.unknownNoteType(parsed.type))
                }
                return .note(
                    BottleNote(type: type, loader: String(cString: loader), version: parsed.version),
                    size: Int(parsed.size))
            case RB_ENOTSEALED.rawValue: return .absent
            case RB_EVERSION.rawValue: return .malformed(.unknownVersion)
            default: return .malformed(.noteFieldsOutOfRange)
            }
        }
    }
}
