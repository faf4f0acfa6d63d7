// A bounds-checked, read-only view of an ELF file through pread: headers, program headers, PT_INTERP.
import LinuxOS
import SystemPackage

/// An open file read with bounded preads; every offset + size is overflow-checked against its size.
public final class ELFFile {
    public let path: String
    public let fd: FileDescriptor
    public let status: FileStatus
    public var size: UInt64 { overlay?.size ?? UInt64(status.size) }
    /// For a file as a rewrite would leave it: the rewrite's edits over the file's bytes.
    private let overlay: Overlay?

    /// The most any single read may ask for: keeps peak memory bounded whatever the input.
    public static let maxRead = 1 << 20
    private let ownsDescriptor: Bool

    /// Opens `path` read-only (following symlinks) and checks it is a regular file. Errors name
    /// the file `displayPath` (the path as the user gave it) when given.
    public init(path openPath: String, displayPath: String? = nil) throws(ELFError) {
        let path = displayPath ?? openPath
        self.path = path
        let opened: FileDescriptor
        do {
            opened = try FileDescriptor.open(openPath, .readOnly, options: [.closeOnExec], retryOnInterrupt: true)
        } catch {
            throw ELFError(path, .system(.open, error as? Errno ?? .ioError))
        }
        let st: FileStatus
        do { st = try opened.status() } catch {
            try? opened.close()
            throw ELFError(path, .system(.fstat, error.errno))
        }
        fd = opened
        status = st
        ownsDescriptor = true
        overlay = nil
        guard st.kind == .regular else { throw ELFError(path, .notRegularFile) }
    }

    /// Reads through a descriptor the caller keeps owning (a file being written, for example).
    public init(borrowing fd: FileDescriptor, path: String) throws(ELFError) {
        self.path = path
        self.fd = fd
        ownsDescriptor = false
        overlay = nil
        do { status = try fd.status() } catch { throw ELFError(path, .system(.fstat, error.errno)) }
    }

    /// The file `base` as a rewrite copying its first `copying` bytes, writing `edits` over them
    /// and sizing the result `size` would leave it, read without writing anything: what a second
    /// plan is made against when two edits go into one rewrite.
    public init(_ base: ELFFile, copying: UInt64, edits: [SealPlan.Edit], size: UInt64) {
        path = base.path
        fd = base.fd
        status = base.status
        ownsDescriptor = false
        overlay = Overlay(base: base, copying: min(copying, base.size), edits: edits, size: size)
    }

    /// Edits laid over the first `copying` bytes of `base` (kept open by holding it), zeros
    /// after them, `size` bytes in all.
    private struct Overlay {
        var base: ELFFile
        var copying: UInt64
        var edits: [SealPlan.Edit]
        var size: UInt64

        /// Reads [offset, offset + buffer.count) as the rewrite would have written it.
        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(OSError) {
            let end = offset + UInt64(buffer.count)
            let copied = offset < copying ? Int(min(end, copying) - offset) : 0
            if copied > 0 { try base.fd.readExactly(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<copied]), at: offset) }
            if copied < buffer.count { UnsafeMutableRawBufferPointer(rebasing: buffer[copied...]).initializeMemory(as: UInt8.self, repeating: 0) }
            for edit in edits {
                let editEnd = edit.offset + UInt64(edit.bytes.count)
                guard edit.offset < end, editEnd > offset else { continue }
                let from = max(edit.offset, offset), to = min(editEnd, end)
                for position in from..<to {
                    buffer[Int(position - offset)] = edit.bytes[Int(position - edit.offset)]
                }
            }
        }
    }

    deinit { if ownsDescriptor { try? fd.close() } }

    /// Reads exactly `count` bytes at `offset`; `what` names the structure for the error.
    public func read(at offset: UInt64, count: Int, _ what: ELFError.Structure) throws(ELFError) -> [UInt8] {
        guard count >= 0, count <= ELFFile.maxRead else {
            throw ELFError(path, .corrupt(.readTooLarge(what, bytes: count, maximum: ELFFile.maxRead)))
        }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= size else {
            throw ELFError(path, .truncated(.pastEnd(what, offset: offset, end: overflow ? nil : end, size: size)))
        }
        do {
            guard overlay != nil else { return try fd.readExactly(count, at: offset) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
            defer { buffer.deallocate() }
            try fill(buffer, at: offset)
            return Array(buffer)
        } catch {
            throw readError(error, what)
        }
    }

    /// An OS layer read error about `what`, in the engine's terms.
    func readError(_ error: OSError, _ what: ELFError.Structure) -> ELFError {
        switch error {
        case .system(let code): return ELFError(path, .system(.read(what), code))
        case .endOfFile: return ELFError(path, .truncated(.shrankWhileReading(what)))
        }
    }
}

extension ELFFile {
    /// True when bytes [start, end) of this file and of `other` are equal; reads both in
    /// 64 KiB chunks into two reused buffers, so memory stays bounded whatever the size.
    public func sameBytes(as other: ELFFile, from start: UInt64, to end: UInt64) throws(ELFError) -> Bool {
        let chunk = 1 << 16
        let mine = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        let theirs = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer {
            mine.deallocate()
            theirs.deallocate()
        }
        var offset = start
        while offset < end {
            let count = Int(min(end - offset, UInt64(chunk)))
            try readExactly(into: mine, count: count, at: offset)
            try other.readExactly(into: theirs, count: count, at: offset)
            if !Self.equal(mine, theirs, count: count) { return false }
            offset += UInt64(count)
        }
        return true
    }

    /// Whether the first `count` bytes of `a` and `b` are equal: eight at a time (both buffers
    /// are 16-byte aligned), then the tail.
    private static func equal(_ a: UnsafeMutableRawBufferPointer, _ b: UnsafeMutableRawBufferPointer, count: Int) -> Bool {
        var offset = 0
        while offset + 8 <= count {
            if a.load(fromByteOffset: offset, as: UInt64.self) != b.load(fromByteOffset: offset, as: UInt64.self) { return false }
            offset += 8
        }
        return a[offset..<count].elementsEqual(b[offset..<count])
    }

    /// Fills the first `count` bytes of `buffer` from `offset`; a short file is truncation.
    private func readExactly(into buffer: UnsafeMutableRawBufferPointer, count: Int, at offset: UInt64) throws(ELFError) {
        guard let end = checkedAdd(offset, UInt64(count)), end <= size, end <= UInt64(Int64.max) else {
            throw ELFError(path, .truncated(.pastEnd(.contents, offset: offset, end: offset &+ UInt64(count), size: size)))
        }
        do { try fill(UnsafeMutableRawBufferPointer(rebasing: buffer[..<count]), at: offset) } catch {
            throw readError(error, .contents)
        }
    }

    /// Fills `target` with the bytes at `offset`: the file's, or the overlay's when this is a
    /// file as a rewrite would leave it.
    private func fill(_ target: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(OSError) {
        if let overlay { try overlay.read(into: target, at: offset) } else { try fd.readExactly(into: target, at: offset) }
    }
}
