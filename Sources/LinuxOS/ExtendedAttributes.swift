// Extended attributes through a descriptor (flistxattr, fgetxattr, fsetxattr), with buffers
// sized by asking first.
import CLinuxIO
import Glibc
import SystemPackage

extension FileDescriptor {
    /// The names of the file's extended attributes; none where the file system has none
    /// (ENOTSUP).
    public func extendedAttributeNames() throws(OSError) -> [String] {
        let size = clinux_flistxattr(rawValue, nil, 0)
        if size < 0 {
            if errno == ENOTSUP { return [] }
            throw .system(Errno(rawValue: errno))
        }
        if size == 0 { return [] }
        var buffer = [CChar](repeating: 0, count: size + 1)
        let got = clinux_flistxattr(rawValue, &buffer, size)
        if got < 0 { throw .system(Errno(rawValue: errno)) }
        return buffer[0..<got].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    /// The value of the extended attribute `name`.
    public func extendedAttribute(_ name: String) throws(OSError) -> [UInt8] {
        let size = clinux_fgetxattr(rawValue, name, nil, 0)
        if size < 0 { throw .system(Errno(rawValue: errno)) }
        var buffer = [UInt8](repeating: 0, count: max(size, 1))
        let got = buffer.withUnsafeMutableBytes { clinux_fgetxattr(rawValue, name, $0.baseAddress, size) }
        if got < 0 { throw .system(Errno(rawValue: errno)) }
        return Array(buffer[0..<got])
    }

    /// True when the file has the extended attribute `name`.
    public func hasExtendedAttribute(_ name: String) -> Bool {
        clinux_fgetxattr(rawValue, name, nil, 0) >= 0
    }

    /// Sets the extended attribute `name` to `value`.
    public func setExtendedAttribute(_ name: String, to value: [UInt8]) throws(OSError) {
        let rc = value.withUnsafeBytes { clinux_fsetxattr(rawValue, name, $0.baseAddress, value.count) }
        if rc != 0 { throw .system(Errno(rawValue: errno)) }
    }
}
