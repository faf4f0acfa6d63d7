// The atomic writer, the program's only one: a new file beside the original, given its owner,
// mode and xattrs, then renamed over it by a RewriteTransaction, which alone makes it durable
// and commits it; any failure before the rename leaves the original untouched. The ELF rewrites
// use it, and so do the installer's files (BinfmtMisc).
import CLinuxIO
import Glibc
import LinuxOS
import SystemPackage

/// A replacement for one file being written. Write its contents through `fd`, then commit it in
/// a `RewriteTransaction`; dropping it uncommitted discards it.
public final class AtomicReplacement {
    /// The path being replaced (its real path: a symlink is never replaced by a file).
    public let path: String
    /// The new file, open read-write; unnamed until commit when the file system allows.
    public let fd: FileDescriptor
    /// The original's status when the replacement was begun; commit refuses if it changed.
    public let original: stat
    /// There was no file at the path: commit refuses if one appeared meanwhile.
    private let creating: Bool
    private let directory: FileDescriptor
    private let baseName: String
    /// The temporary name when the file system has no O_TMPFILE; nil while unnamed.
    private var temporaryName: String?
    /// Kept alive until the replacement's files are closed: the original's open descriptor, so
    /// the rename does not free the replaced inode's blocks (slow on ext4); closing does, later.
    public var retained: AnyObject?
    private var finished = false
    private var closed = false
    private var writerClosed = false

    /// Begins writing `path` whole, whatever is there now (a file, a symlink, which the file
    /// then replaces, or nothing), as long as it stays so until the commit.
    public convenience init(writing path: String) throws(ELFError) {
        var now = stat()
        if lstat(path, &now) == 0 {
            try self.init(replacing: path, original: now)
        } else if errno == ENOENT {
            try self.init(replacing: path, original: nil)
        } else {
            throw ELFError(path, .system("stat", Errno(rawValue: errno)))
        }
    }

    /// Begins replacing `path`, whose current status is `original` (nil: there is no file
    /// there yet, and the commit creates it).
    public init(replacing path: String, original: stat?) throws(ELFError) {
        self.path = path
        self.original = original ?? stat()
        creating = original == nil
        let dirPath = FileSystem.parent(of: path)
        baseName = FileSystem.baseName(of: path)
        let dirfd = try Errno.check("open directory", path) {
            open(dirPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        directory = FileDescriptor(rawValue: dirfd)
        var raw = clinux_open_tmpfile(dirfd, 0o600)
        if raw < 0 && [EOPNOTSUPP, EISDIR, EINVAL].contains(errno) {
            // No O_TMPFILE on this file system: a named temporary, removed on failure.
            temporaryName = AtomicReplacement.claimTemporaryName(for: baseName, in: dirfd) { name in
                raw = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                return raw >= 0
            }
        }
        if raw < 0 {
            let error = Errno(rawValue: errno)
            try? directory.close()
            throw ELFError(path, .system("create temporary file", error))
        }
        fd = FileDescriptor(rawValue: raw)
    }

    deinit {
        if !finished { discard() }
        closeFiles()
    }

    /// Removes the temporary file; the original is untouched.
    public func discard() {
        finished = true
        if let name = temporaryName { unlinkat(directory.rawValue, name, 0) }
        closeFiles()
    }

    /// Closes the descriptors once done: an open writable descriptor to the new file would make
    /// executing it fail with ETXTBSY (deny_write_access).
    func closeFiles() {
        guard !closed else { return }
        closed = true
        closeWriter()
        try? directory.close()
        retained = nil
    }

    /// Closes the new file's writable descriptor; from the rename on, an exec of the path
    /// would otherwise fail with ETXTBSY.
    private func closeWriter() {
        guard !writerClosed else { return }
        writerClosed = true
        try? fd.close()
    }

    /// Copies bytes [0, count) of `source` (FileDescriptor.copyContents: in the kernel where
    /// it can, memory bounded whatever the size).
    public func copyContents(from source: FileDescriptor, count: UInt64) throws(ELFError) {
        do { try fd.copyContents(of: source, count: count) } catch {
            switch error {
            case .system(let code): throw ELFError(path, .system("copy", code))
            case .endOfFile: throw ELFError(path, .truncated("file shrank while being copied"))
            }
        }
    }

    /// Writes `bytes` at `offset` of the new file.
    public func write(_ bytes: [UInt8], at offset: UInt64) throws(ELFError) {
        do { try fd.writeExactly(bytes, at: offset) } catch {
            throw ELFError(path, .system("write at offset \(offset)", error.errno))
        }
    }

    /// Sets the new file's size; growing it leaves a hole, not written zeros.
    public func truncate(to size: UInt64) throws(ELFError) {
        guard size <= UInt64(Int64.max) else { throw ELFError(path, .system("ftruncate to \(size)", .fileTooLarge)) }
        _ = try Errno.check("ftruncate", path) { ftruncate(fd.rawValue, off_t(size)) }
    }

    /// Gives the new file the original's owner, mode (setuid and setgid included) and every
    /// extended attribute. Call after the last write: writing or truncating a file clears its
    /// setuid bits and security.capability (file_remove_privs), and chown clears both too, so
    /// the order is chown, chmod, then the xattrs.
    public func copyMetadata(from source: FileDescriptor) throws(ELFError) {
        _ = try Errno.check("keep owner (fchown)", path) { fchown(fd.rawValue, original.st_uid, original.st_gid) }
        _ = try Errno.check("keep mode (fchmod)", path) { fchmod(fd.rawValue, original.st_mode & 0o7777) }
        for name in try ExtendedAttributes.names(source, path) {
            let value = try ExtendedAttributes.value(source, name, path)
            let rc = value.withUnsafeBytes { clinux_fsetxattr(fd.rawValue, name, $0.baseAddress, value.count) }
            if rc != 0 { throw ELFError(path, .system("keep extended attribute \(name)", Errno(rawValue: errno))) }
        }
    }

    /// Gives the new file `mode`, and `owner` when one is given (a file written as root for
    /// the system: root's). After the last write, for the reason copyMetadata gives.
    public func setMode(_ mode: mode_t, owner: (uid: uid_t, gid: gid_t)? = nil) throws(ELFError) {
        if let owner {
            _ = try Errno.check("set owner (fchown)", path) { fchown(fd.rawValue, owner.uid, owner.gid) }
        }
        _ = try Errno.check("set mode (fchmod)", path) { fchmod(fd.rawValue, mode & 0o7777) }
    }

    /// Starts writing the new file's contents to disk without waiting, so that the sync before
    /// the rename (fsync, or a batch's syncfs) finds most of them written. Only a hint.
    public func startWriteback() {
        _ = clinux_start_writeback(fd.rawValue)
    }

    /// Renames the new file over the original, whose data the caller already made durable.
    func rename() throws(ELFError) {
        var now = stat()
        let found = fstatat(directory.rawValue, baseName, &now, AT_SYMLINK_NOFOLLOW) == 0
        let unchanged = creating ? !found && errno == ENOENT
            : found && now.st_dev == original.st_dev && now.st_ino == original.st_ino
                && now.st_size == original.st_size && now.st_mtim.tv_sec == original.st_mtim.tv_sec
                && now.st_mtim.tv_nsec == original.st_mtim.tv_nsec
        guard unchanged else {
            discard()
            throw ELFError(path, .changedMeanwhile)
        }
        if temporaryName == nil {
            // Give the unnamed file a name through /proc, where linkat needs no privilege.
            temporaryName = AtomicReplacement.claimTemporaryName(for: baseName, in: directory.rawValue) { name in
                clinux_link_fd(fd.rawValue, directory.rawValue, name) == 0
            }
            guard temporaryName != nil else {
                let error = Errno(rawValue: errno)
                discard()
                throw ELFError(path, .system("link temporary file", error))
            }
        }
        guard let name = temporaryName else { return }
        closeWriter()
        if renameat(directory.rawValue, name, directory.rawValue, baseName) != 0 {
            let error = Errno(rawValue: errno)
            discard()
            throw ELFError(path, .system("rename", error))
        }
        finished = true
    }

    /// What every temporary name ends with; tree walks pass such files over.
    public static let temporarySuffix = ".bottle-tmp"

    /// The one name a replacement of `baseName` is linked under just before the rename. Fixed,
    /// not random: a run killed between the link and the rename leaves it behind (no syscall
    /// links an unnamed file over an existing name), and the next replacement of the same file
    /// removes it. Long names are shortened and told apart by a hash, within NAME_MAX.
    public static func temporaryName(for baseName: String) -> String {
        let bytes = Array(baseName.utf8)
        let stem = bytes.count <= 200 ? baseName
            : String(decoding: bytes.prefix(180), as: UTF8.self) + "-" + String(fnv1a(bytes), radix: 16)
        return "." + stem + temporarySuffix
    }

    /// Creates the temporary name of `baseName` in `dirfd` with `create` (false and errno on
    /// failure), once more after removing a file already there: the leftover of a run killed
    /// between link and rename. Returns the name, or nil with errno set.
    private static func claimTemporaryName(for baseName: String, in dirfd: Int32,
                                           _ create: (String) -> Bool) -> String? {
        let name = temporaryName(for: baseName)
        for _ in 0..<2 {
            if create(name) { return name }
            if errno != EEXIST { return nil }
            unlinkat(dirfd, name, 0)
        }
        return nil
    }

    var device: UInt64 { UInt64(original.st_dev) }
    var directoryDescriptor: FileDescriptor { directory }
}

/// Listing and reading extended attributes through a descriptor, with bounded buffers.
enum ExtendedAttributes {
    static func names(_ fd: FileDescriptor, _ path: String) throws(ELFError) -> [String] {
        let size = clinux_flistxattr(fd.rawValue, nil, 0)
        if size < 0 {
            if errno == ENOTSUP { return [] }
            throw ELFError(path, .system("list extended attributes", Errno(rawValue: errno)))
        }
        if size == 0 { return [] }
        var buffer = [CChar](repeating: 0, count: size + 1)
        let got = clinux_flistxattr(fd.rawValue, &buffer, size)
        if got < 0 { throw ELFError(path, .system("list extended attributes", Errno(rawValue: errno))) }
        return buffer[0..<got].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    static func value(_ fd: FileDescriptor, _ name: String, _ path: String) throws(ELFError) -> [UInt8] {
        let size = clinux_fgetxattr(fd.rawValue, name, nil, 0)
        if size < 0 { throw ELFError(path, .system("read extended attribute \(name)", Errno(rawValue: errno))) }
        var buffer = [UInt8](repeating: 0, count: max(size, 1))
        let got = buffer.withUnsafeMutableBytes { clinux_fgetxattr(fd.rawValue, name, $0.baseAddress, size) }
        if got < 0 { throw ELFError(path, .system("read extended attribute \(name)", Errno(rawValue: errno))) }
        return Array(buffer[0..<got])
    }

    static func has(_ fd: FileDescriptor, _ name: String) -> Bool {
        clinux_fgetxattr(fd.rawValue, name, nil, 0) >= 0
    }
}
