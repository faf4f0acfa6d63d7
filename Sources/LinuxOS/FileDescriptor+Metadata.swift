// An open file's owner, mode, size, durability and lock: the calls the atomic writer and the
// installer make on descriptors.
import CLinuxIO
import Glibc
import SystemPackage

extension FileDescriptor {
    /// Sets the permission bits (fchmod); `mode` may carry setuid, setgid and sticky.
    public func setPermissions(_ mode: UInt32) throws(OSError) {
        try Self.retrying { fchmod(rawValue, mode_t(mode & 0o7777)) }
    }

    /// Sets the owner and group (fchown).
    public func setOwner(_ owner: UInt32, group: UInt32) throws(OSError) {
        try Self.retrying { fchown(rawValue, uid_t(owner), gid_t(group)) }
    }

    /// Sets the size; growing leaves a hole (ftruncate).
    public func setSize(_ size: UInt64) throws(OSError) {
        guard size <= UInt64(Int64.max) else { throw .system(.fileTooLarge) }
        do { try resize(to: Int64(size)) } catch { throw .of(error) }
    }

    /// Makes the file's data and metadata durable (fsync).
    public func synchronize() throws(OSError) {
        try Self.retrying { fsync(rawValue) }
    }

    /// Makes everything written to the file system holding this file durable (syncfs).
    public func synchronizeFileSystem() throws(OSError) {
        try Self.retrying { clinux_syncfs(rawValue) }
    }

    /// Takes an exclusive flock, waiting for it; released when the descriptor closes or the
    /// process ends.
    public func lockExclusively() throws(OSError) {
        try Self.retrying { flock(rawValue, LOCK_EX) }
    }

    /// Runs a call that returns -1 and sets errno until it is not interrupted.
    static func retrying(_ call: () -> Int32) throws(OSError) {
        while call() != 0 {
            if errno != EINTR { throw .system(Errno(rawValue: errno)) }
        }
    }
}
