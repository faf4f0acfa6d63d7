// An entry's status file as binfmt_misc prints it (fs/binfmt_misc.c entry_status), parsed into a
// value, and what its magic and mask match.
import ELFEngine

/// /proc/sys/fs/binfmt_misc/NAME, parsed.
public struct EntryStatus: Sendable, Hashable {
    public var name: String
    public var enabled: Bool
    public var interpreter: String
    public var flags: RegistrationFlags
    public var kind: Registration.Kind

    /// Parses the text of an entry file. Lines: `enabled|disabled`, `interpreter PATH`,
    /// `flags: LETTERS`, then `offset N` + `magic HEX` [+ `mask HEX`], or `extension .EXT`.
    public init(name: String, parsing text: String) throws(RegistrationError) {
        self.name = name
        var enabled: Bool?
        var interpreter: String?
        var flags: RegistrationFlags?
        var offset: Int?, magic: [UInt8]?, mask: [UInt8] = [], ext: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line == "enabled" { enabled = true }
            else if line == "disabled" { enabled = false }
            else if let value = line.dropPrefix("interpreter ") { interpreter = String(value) }
            else if let value = line.dropPrefix("flags: ") ?? (line == "flags:" ? "" : nil) {
                guard let parsed = RegistrationFlags(letters: String(value)) else {
                    throw .statusFlags(name: name, String(value))
                }
                flags = parsed
            }
            else if let value = line.dropPrefix("offset ") { offset = Int(value) }
            else if let value = line.dropPrefix("magic ") { magic = Self.hex(value) }
            else if let value = line.dropPrefix("mask ") {
                guard let bytes = Self.hex(value) else { throw .statusMask(name: name, String(value)) }
                mask = bytes
            }
            else if let value = line.dropPrefix("extension .") { ext = String(value) }
        }
        guard let enabled, let interpreter, let flags else {
            throw .statusIncomplete(name: name)
        }
        self.enabled = enabled
        self.interpreter = interpreter
        self.flags = flags
        if let ext {
            kind = .extension(ext)
        } else if let offset, let magic {
            kind = .magic(offset: offset, magic: magic, mask: mask)
        } else {
            throw .statusWithoutMatch(name: name)
        }
    }

    /// The registration that produces this entry.
    public var registration: Registration {
        Registration(name: name, kind: kind, interpreter: interpreter, flags: flags)
    }

    /// Whether this entry takes a file starting with `header`.
    public func matches(header: [UInt8]) -> Bool {
        kind.matches(header: header)
    }

    static func hex(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let value = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
            index += 2
        }
        return bytes
    }
}

extension Registration.Kind {
    /// Whether this magic and mask take a file starting with `header` (the kernel's check_file:
    /// every byte under the mask equal). Extension entries never match here.
    public func matches(header: [UInt8]) -> Bool {
        guard case .magic(let offset, let magic, let mask) = self else { return false }
        guard offset + magic.count <= header.count else { return false }
        for i in 0..<magic.count {
            let m = mask.isEmpty ? 0xff : mask[i]
            if (header[offset + i] ^ magic[i]) & m != 0 { return false }
        }
        return true
    }
}

extension Substring {
    fileprivate func dropPrefix(_ prefix: String) -> Substring? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}

/// What a BOTTLE magic and mask match, decoded; nil fields mean "not constrained".
public struct SealMatch: Sendable, Hashable, Codable {
    @NullIfAbsent public var elfClass: Int? = nil          // 32 or 64
    @NullIfAbsent public var bigEndian: Bool? = nil
    @NullIfAbsent public var machine: UInt16? = nil
    @NullIfAbsent public var noteType: UInt32? = nil
    /// True when the bytes at the note offset are kept and spell the BOTTLE note's namesz and
    /// padded name (bottle_format.h).
    public var bottleNote: Bool

    /// Decodes an M entry's magic and mask. Nil unless it matches at offset 0 on an ELF header.
    public init?(_ kind: Registration.Kind) {
        guard case .magic(let offset, let magic, let rawMask) = kind, offset == 0, magic.count >= 20
        else { return nil }
        let mask = rawMask.isEmpty ? [UInt8](repeating: 0xff, count: magic.count) : rawMask
        func kept(_ range: Range<Int>) -> [UInt8]? {
            guard range.upperBound <= magic.count, range.allSatisfy({ mask[$0] == 0xff }) else { return nil }
            return Array(magic[range])
        }
        guard kept(0..<4) == [0x7f, 0x45, 0x4c, 0x46] else { return nil }
        let elfClass = kept(4..<5).flatMap { $0[0] == 1 ? 32 : $0[0] == 2 ? 64 : nil }
        let bigEndian = kept(5..<6).flatMap { $0[0] == 1 ? false : $0[0] == 2 ? true : nil }
        let big = bigEndian ?? false
        func value(_ bytes: [UInt8]) -> UInt32 {
            (big ? bytes : bytes.reversed()).reduce(0) { $0 << 8 | UInt32($1) }
        }
        let noteOffset = SealFormat.noteOffset(is64Bit: elfClass != 32)
        let name = SealFormat.paddedNoteName
        bottleNote = kept(noteOffset..<noteOffset + 4).map(value) == SealFormat.noteNameSize
            && kept(noteOffset + 12..<noteOffset + 12 + name.count) == name
        self.elfClass = elfClass
        self.bigEndian = bigEndian
        machine = kept(18..<20).map { UInt16(truncatingIfNeeded: value($0)) }
        noteType = kept(noteOffset + 8..<noteOffset + 12).map(value)
    }
}
