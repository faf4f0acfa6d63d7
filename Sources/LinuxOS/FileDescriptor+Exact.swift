// Exact reads and writes at an offset, and whole-range copies: the loops every reader and writer
// of files needs, written once on swift-system's calls (which retry on EINTR).
import CLinuxIO
import Glibc
import SystemPackage

extension FileDescriptor {
    /// Fills `buffer` from `offset`; `.endOfFile` when the file ends first.
    public func readExactly(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(OSError) {
        var done = 0
        while done < buffer.count {
            let count: Int
            do {
                count = try read(fromAbsoluteOffset: Int64(offset) + Int64(done),
                                 into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            } catch { throw .of(error) }
            if count == 0 { throw .endOfFile }
            done += count
        }
    }

    /// Exactly `count` bytes from `offset`.
    public func readExactly(_ count: Int, at offset: UInt64) throws(OSError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        // withUnsafeMutableBytes rethrows untyped: the typed error is carried out by hand.
        var failure: OSError?
        bytes.withUnsafeMutableBytes { buffer in
            do throws(OSError) { try readExactly(into: buffer, at: offset) } catch { failure = error }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Everything from the current offset to the end, at most `limit` bytes: for files whose
    /// size stat cannot tell (/proc, binfmt_misc).
    public func readToEnd(limit: Int = .max) throws(OSError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let count: Int
            do { count = try buffer.withUnsafeMutableBytes { try read(into: $0) } } catch { throw .of(error) }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        return Array(bytes.prefix(limit))
    }

    /// Writes all of `bytes` at `offset`.
    public func writeExactly(_ bytes: [UInt8], at offset: UInt64) throws(OSError) {
        guard offset <= UInt64(Int64.max) - UInt64(bytes.count) else { throw .system(.fileTooLarge) }
        do { _ = try writeAll(toAbsoluteOffset: Int64(offset), bytes) } catch { throw .of(error) }
    }

    /// Copies bytes [0, count) of `source` to the same offsets here: in the kernel
    /// (copy_file_range), else through a 1 MiB buffer where the file systems cannot (another
    /// file system before Linux 5.19, or one without support), so memory stays bounded.
    public func copyContents(of source: FileDescriptor, count: UInt64) throws(OSError) {
        var inOffset: Int64 = 0, outOffset: Int64 = 0
        while UInt64(inOffset) < count {
            let chunk = Int(min(count - UInt64(inOffset), 1 << 30))
            let copied = clinux_copy_file_range(source.rawValue, &inOffset, rawValue, &outOffset, chunk)
            if copied > 0 { continue }
            if copied == 0 { throw .endOfFile }
            if errno == EINTR { continue }
            guard [EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, EBADF].contains(errno) else {
                throw .system(Errno(rawValue: errno))
            }
            try copyByReading(source, from: UInt64(inOffset), to: count)
            return
        }
    }

    private func copyByReading(_ source: FileDescriptor, from start: UInt64, to end: UInt64) throws(OSError) {
        var offset = start
        while offset < end {
            let count = Int(min(end - offset, 1 << 20))
            try writeExactly(try source.readExactly(count, at: offset), at: offset)
            offset += UInt64(count)
        }
    }
}
