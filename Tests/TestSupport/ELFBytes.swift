// The tests' one ELF byte editor: a file's bytes with little-endian field access, for reading
// headers the engine is not trusted to read and for damaging files on purpose.
import Foundation

public struct ELFBytes {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init(contentsOf path: String) throws {
        bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    public func write(to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    public func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
    public func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) } }
    public func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * $1) } }

    /// Writes the low `width` bytes of `value` at `at`, little-endian.
    public mutating func put(_ value: UInt64, at: Int, width: Int) {
        for i in 0..<width { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// Writes `value` at `at`, little-endian, in as many bytes as its type has.
    public mutating func put<T: FixedWidthInteger>(_ value: T, at: Int) {
        put(UInt64(truncatingIfNeeded: value), at: at, width: T.bitWidth / 8)
    }

    /// Overwrites bytes of the file at `path` in place, from `offset`.
    public static func patch(_ path: String, at offset: Int, _ bytes: [UInt8]) throws {
        var file = try ELFBytes(contentsOf: path)
        file.bytes.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        try file.write(to: path)
    }
}
