// A binfmt_misc registration line as a value: render, parse and validate, by the kernel's rules
// (fs/binfmt_misc.c create_entry) plus the limits that keep a line working on older kernels.

import ELFEngine

/// The flag letters of a registration line.
public struct RegistrationFlags: OptionSet, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// P: keep the original argv[0]; the interpreter also gets the path as executed.
    public static let preserveArgv0 = RegistrationFlags(rawValue: 1)
    /// O: the kernel opens the binary and passes its descriptor as AT_EXECFD.
    public static let openBinary = RegistrationFlags(rawValue: 2)
    /// C: credentials and file capabilities come from the binary (implies O).
    public static let credentials = RegistrationFlags(rawValue: 4)
    /// F: the kernel opens the interpreter at registration.
    public static let fixBinary = RegistrationFlags(rawValue: 8)

    /// The letters in the order the kernel prints them in an entry's status file.
    static let letters: [(Character, RegistrationFlags)] = [
        ("P", .preserveArgv0), ("O", .openBinary), ("C", .credentials), ("F", .fixBinary),
    ]

    /// Parses flag letters; C implies O as in the kernel. Nil for any other letter.
    public init?(letters text: String) {
        var flags: RegistrationFlags = []
        for character in text {
            guard let flag = Self.letters.first(where: { $0.0 == character })?.1 else { return nil }
            flags.insert(flag)
        }
        if flags.contains(.credentials) { flags.insert(.openBinary) }
        self = flags
    }

    public var description: String {
        String(Self.letters.filter { contains($0.1) }.map(\.0))
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let flags = RegistrationFlags(letters: text) else { throw RegistrationError.unknownFlag(text) }
        self = flags
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// One binfmt_misc entry as the line written to `register`: `:name:M:offset:magic:mask:interpreter:flags`.
public struct Registration: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// M: match magic bytes (under a mask) at an offset.
        case magic(offset: Int, magic: [UInt8], mask: [UInt8])
        /// E: match a file name extension.
        case `extension`(String)
    }

    public var name: String
    public var kind: Kind
    public var interpreter: String
    public var flags: RegistrationFlags

    public init(name: String, kind: Kind, interpreter: String, flags: RegistrationFlags) {
        self.name = name
        self.kind = kind
        self.interpreter = interpreter
        self.flags = flags
    }

    /// The longest line the kernel accepts, trailing newline included (MAX_REGISTER_LENGTH).
    public static let maximumLineLength = 1920
    /// binfmt_misc sees the first BINPRM_BUF_SIZE bytes of a file: 256 since Linux 5.1, 128
    /// before. Our lines stay within 128 so that they work on every kernel.
    public static let portableMagicEnd = 128
    /// A file name in the binfmt_misc directory.
    public static let maximumNameLength = 255
    static let reservedNames: Set<String> = [".", "..", "register", "status"]

    /// The line, magic and mask written as `\xHH` for every byte, with a trailing newline.
    public var line: String {
        let fields: [String]
        switch kind {
        case .magic(let offset, let magic, let mask):
            fields = [name, "M", String(offset), Self.escape(magic), Self.escape(mask)]
        case .extension(let ext):
            fields = [name, "E", "", ext, ""]
        }
        return ":" + (fields + [interpreter, flags.description]).joined(separator: ":") + "\n"
    }

    static func escape(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        for byte in bytes {
            text += "\\x"
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return text
    }

    /// What binfmt_misc sees of a file since Linux 5.1 (BINPRM_BUF_SIZE).
    public static let currentMagicEnd = 256

    /// Checks everything the kernel would refuse, and with `portable` our limit for kernels
    /// before 5.1 (magic within the first 128 bytes).
    public func validate(portable: Bool = true) throws(RegistrationError) {
        if name.isEmpty { throw .emptyName }
        if Self.reservedNames.contains(name) { throw .reservedName(name) }
        if name.contains("/") || name.contains(":") { throw .nameWithSeparator(name) }
        if name.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f }) { throw .nameWithBlank(name) }
        if name.utf8.count > Self.maximumNameLength { throw .nameTooLong(limit: Self.maximumNameLength) }
        if !interpreter.hasPrefix("/") { throw .relativeInterpreter(interpreter) }
        if interpreter.contains(":") || interpreter.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw .interpreterWithSeparator(interpreter)
        }
        if flags.contains(.credentials) && !flags.contains(.openBinary) { throw .credentialsWithoutOpen }
        switch kind {
        case .magic(let offset, let magic, let mask):
            if magic.isEmpty { throw .emptyMagic }
            if !mask.isEmpty && mask.count != magic.count { throw .maskLength(mask: mask.count, magic: magic.count) }
            let end = portable ? Self.portableMagicEnd : Self.currentMagicEnd
            if offset < 0 || offset + magic.count > end {
                throw .magicBeyond(offset: offset, length: magic.count, end: end, portable: portable)
            }
        case .extension(let ext):
            if ext.isEmpty || ext.contains("/") || ext.contains(":") { throw .badExtension(ext) }
        }
        let length = line.utf8.count
        if length > Self.maximumLineLength { throw .lineTooLong(length, limit: Self.maximumLineLength) }
    }

    /// Parses a line as written to `register` (any delimiter, `\xHH` escapes; a trailing
    /// newline optional), then validates it.
    public init(parsing text: String) throws(RegistrationError) {
        var line = Substring(text)
        if line.hasSuffix("\n") { line = line.dropLast() }
        guard let delimiter = line.first else { throw .emptyLine }
        let fields = line.dropFirst().split(separator: delimiter, omittingEmptySubsequences: false)
        guard fields.count == 7 else { throw .fieldCount(delimiter: delimiter, found: fields.count) }
        guard let flags = RegistrationFlags(letters: String(fields[6])) else { throw .unknownFlag(String(fields[6])) }
        let kind: Kind
        switch fields[1] {
        case "M":
            let offset: Int
            if fields[2].isEmpty { offset = 0 } else {
                guard let value = Int(fields[2]), value >= 0 else { throw .badOffset(String(fields[2])) }
                offset = value
            }
            kind = .magic(offset: offset, magic: try Self.unescape(fields[3]),
                          mask: try Self.unescape(fields[4]))
        case "E":
            kind = .extension(String(fields[3]))
        default:
            throw .badType(String(fields[1]))
        }
        self.init(name: String(fields[0]), kind: kind, interpreter: String(fields[5]), flags: flags)
        try validate()
    }

    static func unescape(_ text: Substring) throws(RegistrationError) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = Array(text.utf8)[...]
        while let byte = rest.first {
            if byte == UInt8(ascii: "\\"), rest.dropFirst().first == UInt8(ascii: "x") {
                let hex = rest.dropFirst(2).prefix(2)
                guard hex.count == 2, let value = UInt8(String(decoding: hex, as: UTF8.self), radix: 16)
                else { throw .badEscape(String(text)) }
                bytes.append(value)
                rest = rest.dropFirst(4)
            } else {
                bytes.append(byte)
                rest = rest.dropFirst()
            }
        }
        return bytes
    }
}

/// A registration the kernel (or our portability limit) would refuse, an entry status that does
/// not parse, or entry options that describe no registration: what is wrong, as values.
public enum RegistrationError: ProblemError, Equatable, Sendable {
    case emptyName
    /// ".", "..", "register" or "status".
    case reservedName(String)
    /// A name with '/' or ':'.
    case nameWithSeparator(String)
    /// A name with a space or a control character.
    case nameWithBlank(String)
    case nameTooLong(limit: Int)
    /// A name that names no entry (register, status, a path).
    case notAnEntry(String)
    case relativeInterpreter(String)
    /// An interpreter with ':' or a control character.
    case interpreterWithSeparator(String)
    /// Flag C without O.
    case credentialsWithoutOpen
    case emptyMagic
    case maskLength(mask: Int, magic: Int)
    /// The magic ends after `end`, the bytes binfmt_misc sees (`portable`: before Linux 5.1).
    case magicBeyond(offset: Int, length: Int, end: Int, portable: Bool)
    /// An extension that is empty or contains '/' or ':'.
    case badExtension(String)
    case lineTooLong(Int, limit: Int)
    case emptyLine
    /// Not 7 fields separated by `delimiter`.
    case fieldCount(delimiter: Character, found: Int)
    /// Flag letters with one that is none of P, O, C, F.
    case unknownFlag(String)
    /// An offset that is not a non-negative number.
    case badOffset(String)
    /// A type that is neither M nor E.
    case badType(String)
    /// A field with a bad \\x escape.
    case badEscape(String)
    /// Flags without P, O or C, which runbottle needs.
    case flagsLackPOC(RegistrationFlags)
    /// A machine (uname -m) no BOTTLE entry is defined for; `known`: those that have one.
    case unknownMachine(String, known: [String])
    /// The entry `name`'s status file: flags it cannot parse.
    case statusFlags(name: String, String)
    /// The entry `name`'s status file: a mask it cannot parse.
    case statusMask(name: String, String)
    /// The entry `name`'s status file lacks the state, interpreter or flags.
    case statusIncomplete(name: String)
    /// The entry `name`'s status file has neither a magic with its offset nor an extension.
    case statusWithoutMatch(name: String)

    public var code: ProblemCode { .invalidRegistration }
}
