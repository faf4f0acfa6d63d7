// Operations on names in directories: create, link, rename, remove, change mode, look up.
// Each takes a path, or a name relative to an open directory where the caller holds one (the
// *at calls, so that a rename stays in the directory that was checked).
import Glibc
import SystemPackage

extension FileSystem {
    /// rename(2), or renameat(2) relative to the directories given.
    public static func rename(
        _ source: String, in sourceDirectory: FileDescriptor? = nil,
        to target: String, in targetDirectory: FileDescriptor? = nil
    ) throws(OSError) {
        guard renameat(sourceDirectory?.rawValue ?? AT_FDCWD, source,
                       targetDirectory?.rawValue ?? AT_FDCWD, target) == 0 else {
            throw .system(Errno(rawValue: errno))
        }
    }

    /// Removes the file (not a directory) at `path`, relative to `directory` when given.
    public static func remove(_ path: String, in directory: FileDescriptor? = nil) throws(OSError) {
        guard unlinkat(directory?.rawValue ?? AT_FDCWD, path, 0) == 0 else { throw .system(Errno(rawValue: errno)) }
    }

    /// Removes the empty directory `path` (rmdir).
    public static func removeDirectory(_ path: String) throws(OSError) {
        guard rmdir(path) == 0 else { throw .system(Errno(rawValue: errno)) }
    }

    /// Creates the directory `path` with `mode` (less the umask).
    public static func makeDirectory(_ path: String, mode: UInt32 = 0o755) throws(OSError) {
        guard mkdir(path, mode_t(mode)) == 0 else { throw .system(Errno(rawValue: errno)) }
    }

    /// A new directory named `prefix` followed by six random characters (mkdtemp: mode 0700);
    /// returns its path.
    public static func makeUniqueDirectory(prefix: String) throws(OSError) -> String {
        var template = Array((prefix + "XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw .system(Errno(rawValue: errno)) }
        // mkdtemp filled in the Xs of the template itself.
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The process's file mode creation mask (umask), read without changing it for longer
    /// than the two calls take.
    public static func creationMask() -> UInt32 {
        let mask = umask(0)
        umask(mask)
        return UInt32(mask)
    }

    /// A symbolic link at `path` holding `target`.
    public static func makeSymbolicLink(at path: String, to target: String) throws(OSError) {
        guard symlink(target, path) == 0 else { throw .system(Errno(rawValue: errno)) }
    }

    /// What the symbolic link at `path` holds (readlink).
    public static func linkTarget(of path: String) throws(OSError) -> String {
        var size = 256
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let count = readlink(path, &buffer, size)
            guard count >= 0 else { throw .system(Errno(rawValue: errno)) }
            // A full buffer may have cut the target short: once more with a larger one.
            if count < size { return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            size *= 4
        }
    }

    /// Sets the permission bits of `path` (chmod, following links).
    public static func setPermissions(of path: String, to mode: UInt32) throws(OSError) {
        guard chmod(path, mode_t(mode)) == 0 else { throw .system(Errno(rawValue: errno)) }
    }

    /// What access(2) asks of `path`.
    public enum Access: Sendable { case exists, executable }

    /// Whether the real user may use `path` as `access` says (access(2)).
    public static func isAccessible(_ path: String, _ access: Access) -> Bool {
        Glibc.access(path, access == .exists ? F_OK : X_OK) == 0
    }
}

extension FileDescriptor {
    /// Opens `name` relative to the directory `directory` (openat), retried on EINTR.
    public static func open(
        _ name: String, in directory: FileDescriptor, _ mode: AccessMode, options: OpenOptions = [],
        permissions: UInt32 = 0
    ) throws(OSError) -> FileDescriptor {
        while true {
            let raw = openat(directory.rawValue, name, mode.rawValue | options.rawValue, mode_t(permissions))
            if raw >= 0 { return FileDescriptor(rawValue: raw) }
            if errno != EINTR { throw .system(Errno(rawValue: errno)) }
        }
    }
}
