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
        guard let flags = RegistrationFlags(letters: text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown flag in \(text)"))
        }
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
        if name.isEmpty { throw .invalid("the entry name is empty") }
        if Self.reservedNames.contains(name) {
            throw .invalid("entry name \"\(name)\" is reserved by binfmt_misc")
        }
        if name.contains("/") || name.contains(":") {
            throw .invalid("entry name \"\(name)\" contains '/' or ':'")
        }
        if name.utf8.contains(where: { $0 < 0x21 || $0 == 0x7f }) {
            throw .invalid("entry name \"\(name)\" contains a space or a control character")
        }
        if name.utf8.count > Self.maximumNameLength {
            throw .invalid("entry name is longer than \(Self.maximumNameLength) bytes")
        }
        if !interpreter.hasPrefix("/") {
            throw .invalid("interpreter \"\(interpreter)\" is not an absolute path")
        }
        if interpreter.contains(":") || interpreter.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) {
            throw .invalid("interpreter \"\(interpreter)\" contains ':' or a control character")
        }
        if flags.contains(.credentials) && !flags.contains(.openBinary) {
            throw .invalid("flag C requires O (the kernel sets both)")
        }
        switch kind {
        case .magic(let offset, let magic, let mask):
            if magic.isEmpty { throw .invalid("the magic is empty") }
            if !mask.isEmpty && mask.count != magic.count {
                throw .invalid("the mask has \(mask.count) bytes, the magic \(magic.count)")
            }
            let end = portable ? Self.portableMagicEnd : Self.currentMagicEnd
            if offset < 0 || offset + magic.count > end {
                throw .invalid(
                    "offset \(offset) + magic \(magic.count) bytes exceeds \(end) (the first bytes binfmt_misc sees\(portable ? " before Linux 5.1" : ""))")
            }
        case .extension(let ext):
            if ext.isEmpty || ext.contains("/") || ext.contains(":") {
                throw .invalid("extension \"\(ext)\" is empty or contains '/' or ':'")
            }
        }
        let length = line.utf8.count
        if length > Self.maximumLineLength {
            throw .invalid("the line is \(length) bytes; binfmt_misc accepts at most \(Self.maximumLineLength)")
        }
    }

    /// Parses a line as written to `register` (any delimiter, `\xHH` escapes; a trailing
    /// newline optional), then validates it.
    public init(parsing text: String) throws(RegistrationError) {
        var line = Substring(text)
        if line.hasSuffix("\n") { line = line.dropLast() }
        guard let delimiter = line.first else { throw .invalid("empty line") }
        let fields = line.dropFirst().split(separator: delimiter, omittingEmptySubsequences: false)
        guard fields.count == 7 else {
            throw .invalid("expected 7 fields separated by '\(delimiter)', found \(fields.count)")
        }
        guard let flags = RegistrationFlags(letters: String(fields[6])) else {
            throw .invalid("unknown flag in \"\(fields[6])\" (known: P, O, C, F)")
        }
        let kind: Kind
        switch fields[1] {
        case "M":
            let offset: Int
            if fields[2].isEmpty { offset = 0 } else {
                guard let value = Int(fields[2]), value >= 0 else {
                    throw .invalid("offset \"\(fields[2])\" is not a non-negative number")
                }
                offset = value
            }
            kind = .magic(offset: offset, magic: try Self.unescape(fields[3]),
                          mask: try Self.unescape(fields[4]))
        case "E":
            kind = .extension(String(fields[3]))
        default:
            throw .invalid("type \"\(fields[1])\" is neither M nor E")
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
                else { throw .invalid("bad \\x escape in \"\(text)\"") }
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

public enum RegistrationError: ProblemError, Equatable {
    case invalid(String)

    public var problem: Problem { Problem(.invalidRegistration, description) }

    public var description: String {
        switch self {
        case .invalid(let reason): return "invalid registration: \(reason)"
        }
    }
}
