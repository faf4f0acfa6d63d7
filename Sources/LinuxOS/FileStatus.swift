// What stat(2) says about a file, as a value: callers compare kinds, modes and identities
// without Glibc's struct or its S_IF* masks. One wrapper for a path (fstatat, which is stat and
// lstat too) and one for a descriptor (fstat).
import Glibc
import SystemPackage

public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case regular, directory, symlink, characterDevice, blockDevice, fifo, socket }

    public var device: UInt64
    public var inode: UInt64
    /// st_mode whole: the type bits and the permission bits.
    public var mode: UInt32
    public var links: UInt64
    public var owner: UInt32
    public var group: UInt32
    public var size: Int64
    /// The modification time, seconds and nanoseconds.
    public var modified: Timestamp

    public struct Timestamp: Sendable, Equatable {
        public var seconds: Int
        public var nanoseconds: Int
    }

    init(_ raw: Glibc.stat) {
        device = UInt64(raw.st_dev)
        inode = UInt64(raw.st_ino)
        mode = UInt32(raw.st_mode)
        links = UInt64(raw.st_nlink)
        owner = UInt32(raw.st_uid)
        group = UInt32(raw.st_gid)
        size = Int64(raw.st_size)
        modified = Timestamp(seconds: Int(raw.st_mtim.tv_sec), nanoseconds: Int(raw.st_mtim.tv_nsec))
    }

    public var kind: Kind {
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFREG): return .regular
        case UInt32(S_IFDIR): return .directory
        case UInt32(S_IFLNK): return .symlink
        case UInt32(S_IFCHR): return .characterDevice
        case UInt32(S_IFBLK): return .blockDevice
        case UInt32(S_IFIFO): return .fifo
        default: return .socket
        }
    }

    /// The permission bits with setuid, setgid and sticky (mode & 07777).
    public var permissions: UInt32 { mode & 0o7777 }
    public var isSetUser: Bool { mode & UInt32(S_ISUID) != 0 }
    public var isSetGroup: Bool { mode & UInt32(S_ISGID) != 0 }

    /// The same file, unchanged as far as its size and modification time tell.
    public func isSameUnchanged(as other: FileStatus) -> Bool {
        device == other.device && inode == other.inode && size == other.size && modified == other.modified
    }
}

extension FileSystem {
    /// The status of `path` (relative to `directory` when given), of the link itself unless
    /// `followingLinks` (stat, lstat and fstatat in one).
    public static func status(
        of path: String, in directory: FileDescriptor? = nil, followingLinks: Bool = true
    ) throws(OSError) -> FileStatus {
        var raw = Glibc.stat()
        let flags = followingLinks ? 0 : AT_SYMLINK_NOFOLLOW
        guard fstatat(directory?.rawValue ?? AT_FDCWD, path, &raw, flags) == 0 else {
            throw .system(Errno(rawValue: errno))
        }
        return FileStatus(raw)
    }
}

extension FileDescriptor {
    /// The status of the open file (fstat).
    public func status() throws(OSError) -> FileStatus {
        var raw = Glibc.stat()
        guard fstat(rawValue, &raw) == 0 else { throw .system(Errno(rawValue: errno)) }
        return FileStatus(raw)
    }
}
