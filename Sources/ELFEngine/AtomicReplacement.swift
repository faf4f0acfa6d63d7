// The atomic writer, the program's only one: a new file beside the original, given its owner,
// mode and xattrs, then renamed over it by a RewriteTransaction, which alone makes it durable
// and commits it; any failure before the rename leaves the original untouched. The ELF rewrites
// use it, and so do the installer's files (BinfmtMisc).
import LinuxOS
import SystemPackage

/// A replacement for one file being written. Write its contents through `fd`, then commit it in
/// a `RewriteTransaction`; dropping it uncommitted discards it.
public final class AtomicReplacement {
    /// The path being replaced (its real path: a symlink is never replaced by a file).
    public let path: String
    /// The new file, open read-write; unnamed until commit when the file system allows.
    public let fd: FileDescriptor
    /// The original's status when the replacement was begun (nil: there was none); commit
    /// refuses if it changed.
    public let original: FileStatus?
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
        let now: FileStatus?
        do { now = try FileSystem.status(of: path, followingLinks: false) } catch {
            guard error == .system(.noSuchFileOrDirectory) else { throw ELFError(path, .system(.stat, error.errno)) }
            now = nil
        }
        try self.init(replacing: path, original: now)
    }

    /// Begins replacing `path`, whose current status is `original` (nil: there is no file
    /// there yet, and the commit creates it).
    public init(replacing path: String, original: FileStatus?) throws(ELFError) {
        self.path = path
        self.original = original
        baseName = FileSystem.baseName(of: path)
        let directory: FileDescriptor
        do {
            directory = try FileDescriptor.open(FileSystem.parent(of: path), .readOnly, options: [.directory, .closeOnExec])
        } catch { throw ELFError(path, .system(.openDirectory, Errno.of(error))) }
        self.directory = directory
        do throws(OSError) {
            do { fd = try FileDescriptor.openUnnamed(in: directory, permissions: 0o600) } catch {
                guard FileDescriptor.noUnnamedFiles.contains(error.errno) else { throw error }
                // No O_TMPFILE on this file system: a named temporary, removed on failure.
                let baseName = baseName
                (temporaryName, fd) = try AtomicReplacement.claimTemporaryName(for: baseName, in: directory) {
                    name throws(OSError) in
                    try FileDescriptor.open(name, in: directory, .readWrite,
                                            options: [.create, .exclusiveCreate, .closeOnExec], permissions: 0o600)
                }
            }
        } catch {
            try? directory.close()
            throw ELFError(path, .system(.createTemporaryFile, error.errno))
        }
    }

    deinit {
        if !finished { discard() }
        closeFiles()
    }

    /// Removes the temporary file; the original is untouched.
    public func discard() {
        finished = true
        if let name = temporaryName { try? FileSystem.remove(name, in: directory) }
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
            case .system(let code): throw ELFError(path, .system(.copy, code))
            case .endOfFile: throw ELFError(path, .truncated(.shrankWhileCopying))
            }
        }
    }

    /// Writes `bytes` at `offset` of the new file.
    public func write(_ bytes: [UInt8], at offset: UInt64) throws(ELFError) {
        do { try fd.writeExactly(bytes, at: offset) } catch {
            throw ELFError(path, .system(.write(offset: offset), error.errno))
        }
    }

    /// Sets the new file's size; growing it leaves a hole, not written zeros.
    public func truncate(to size: UInt64) throws(ELFError) {
        guard size <= UInt64(Int64.max) else { throw ELFError(path, .system(.truncate(to: size), .fileTooLarge)) }
        do { try fd.setSize(size) } catch { throw ELFError(path, .system(.truncate(to: nil), error.errno)) }
    }

    /// Gives the new file the original's owner, mode (setuid and setgid included) and every
    /// extended attribute. Call after the last write: writing or truncating a file clears its
    /// setuid bits and security.capability (file_remove_privs), and chown clears both too, so
    /// the order is chown, chmod, then the xattrs.
    public func copyMetadata(from source: FileDescriptor) throws(ELFError) {
        guard let original else { return }
        do { try fd.setOwner(original.owner, group: original.group) } catch {
            throw ELFError(path, .system(.keepOwner, error.errno))
        }
        do { try fd.setPermissions(original.permissions) } catch {
            throw ELFError(path, .system(.keepMode, error.errno))
        }
        let names: [String]
        do { names = try source.extendedAttributeNames() } catch {
            throw ELFError(path, .system(.listExtendedAttributes, error.errno))
        }
        for name in names {
            let value: [UInt8]
            do { value = try source.extendedAttribute(name) } catch {
                throw ELFError(path, .system(.readExtendedAttribute(name), error.errno))
            }
            do { try fd.setExtendedAttribute(name, to: value) } catch {
                throw ELFError(path, .system(.keepExtendedAttribute(name), error.errno))
            }
        }
    }

    /// Gives the new file `mode`, and `owner` when one is given (a file written as root for
    /// the system: root's). After the last write, for the reason copyMetadata gives.
    public func setMode(_ mode: UInt32, owner: (uid: UInt32, gid: UInt32)? = nil) throws(ELFError) {
        if let owner {
            do { try fd.setOwner(owner.uid, group: owner.gid) } catch {
                throw ELFError(path, .system(.setOwner, error.errno))
            }
        }
        do { try fd.setPermissions(mode) } catch { throw ELFError(path, .system(.setMode, error.errno)) }
    }

    /// Starts writing the new file's contents to disk without waiting, so that the sync before
    /// the rename (fsync, or a batch's syncfs) finds most of them written. Only a hint.
    public func startWriteback() {
        fd.startWriteback()
    }

    /// Renames the new file over the original, whose data the caller already made durable.
    func rename() throws(ELFError) {
        let now = Result { () throws(OSError) in
            try FileSystem.status(of: baseName, in: directory, followingLinks: false)
        }
        let unchanged: Bool
        switch (original, now) {
        case (nil, .failure(.system(.noSuchFileOrDirectory))): unchanged = true
        case (let original?, .success(let now)): unchanged = now.isSameUnchanged(as: original)
        default: unchanged = false
        }
        guard unchanged else {
            discard()
            throw ELFError(path, .changedMeanwhile)
        }
        if temporaryName == nil {
            // Give the unnamed file a name through /proc, where linkat needs no privilege.
            do {
                (temporaryName, _) = try AtomicReplacement.claimTemporaryName(for: baseName, in: directory) {
                    name throws(OSError) in try fd.link(as: name, in: directory)
                }
            } catch {
                discard()
                throw ELFError(path, .system(.linkTemporaryFile, error.errno))
            }
        }
        guard let name = temporaryName else { return }
        closeWriter()
        do { try FileSystem.rename(name, in: directory, to: baseName, in: directory) } catch {
            discard()
            throw ELFError(path, .system(.rename, error.errno))
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

    /// Creates the temporary name of `baseName` in `directory` with `create`, once more after
    /// removing a file already there: the leftover of a run killed between link and rename.
    /// Returns the name and what `create` made.
    private static func claimTemporaryName<T>(
        for baseName: String, in directory: FileDescriptor, _ create: (String) throws(OSError) -> T
    ) throws(OSError) -> (String, T) {
        let name = temporaryName(for: baseName)
        do { return (name, try create(name)) } catch {
            guard error == .system(.fileExists) else { throw error }
        }
        try? FileSystem.remove(name, in: directory)
        return (name, try create(name))
    }

    var device: UInt64 { original?.device ?? 0 }
    var directoryDescriptor: FileDescriptor { directory }
}
