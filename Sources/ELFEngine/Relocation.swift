// The PT_INTERP fallback: writes the absolute path of a sealed binary's bundled loader into the
// reserved PT_INTERP slot, so the kernel runs the bottle natively where runbottle is not there.
import LinuxOS
import SystemPackage

/// What a sealed binary's PT_INTERP slot holds and what it should hold.
public struct RelocationStatus: Sendable, Equatable {
    /// The path as given.
    public var path: String
    /// The binary's real path (symlinks resolved): the loader is relative to its directory.
    public var realPath: String
    /// The absolute path of the bundled loader, the one the slot should name.
    public var loader: String
    /// The path the slot names now.
    public var current: String
    /// The slot's file offset.
    public var slotOffset: UInt64
    /// The slot's bytes naming `loader` (`SealFormat.slotBytes`).
    public var slot: [UInt8]
    /// True when the slot's bytes are not exactly `slot`.
    public var isStale: Bool
}

/// How a relocation went.
public enum RelocationOutcome: Sendable, Equatable {
    /// The slot already named the loader: nothing was written.
    case current
    /// One pwrite into the slot of the file itself.
    case rewrittenInPlace
    /// The file was busy (running: ETXTBSY) or read-only to its owner: a copy with the new slot
    /// was renamed over it, keeping mode, owner and extended attributes.
    case replaced
}

public enum Relocation {
    /// Reads `path` and tells whether its slot is stale. Throws for an unsealed file, a damaged
    /// seal, or a bundled loader that is missing.
    public static func status(of path: String) throws(ELFError) -> RelocationStatus {
        try status(opened: Sealer.open(path))
    }

    /// Brings the slot of `path` up to date: reads first and writes only when stale.
    public static func relocate(_ path: String) throws(ELFError) -> (RelocationStatus, RelocationOutcome) {
        let opened = try Sealer.open(path)
        let file = opened.file
        let status = try status(opened: opened)
        guard status.isStale else { return (status, .current) }
        let slot = status.slot

        let writable: FileDescriptor
        do { writable = try FileDescriptor.open(status.realPath, .writeOnly, options: .closeOnExec) } catch {
            let error = Errno.of(error)
            // A running binary cannot be opened for writing (ETXTBSY, deny_write_access); a
            // read-only file its owner may still replace through the directory.
            let owned = file.status.owner == Identity.effectiveUser
            guard error == .textFileBusy || (error == .permissionDenied && owned) else {
                throw ELFError(path, .system(.openForWriting, error))
            }
            try replace(file, status: status, slot: slot)
            return (status, .replaced)
        }
        defer { try? writable.close() }
        let now: FileStatus
        do { now = try writable.status() } catch { throw ELFError(path, .system(.fstat, error.errno)) }
        guard now.device == file.status.device, now.inode == file.status.inode, now.size == file.status.size
        else { throw ELFError(path, .changedMeanwhile) }
        // One write of the whole slot: the slot never changes size, so no other byte moves. No
        // fsync: a slot torn by a crash is only stale, and the next relocate rewrites it whole.
        do { try writable.writeExactly(slot, at: status.slotOffset) } catch {
            throw ELFError(path, .system(.writeInterpreterSlot, error.errno))
        }
        return (status, .rewrittenInPlace)
    }

    /// The absolute loader path a slot should hold for a binary at `realPath` whose note names
    /// `relative`: the real directory of the binary, then the relative path, with `.` and `..`
    /// resolved by the file system (realpath of the loader's directory) as the kernel resolves
    /// them; the loader's own name is kept, even when it is a symlink.
    static func loaderPath(binary path: String, realPath: String, relative: String) throws(ELFError) -> String {
        let candidate = FileSystem.parent(of: realPath) + "/" + relative
        // Messages name the loader without the `..` steps (the directory is a real path, so
        // they cancel out lexically); the checks themselves go through the file system.
        let shown = FilePath(candidate).lexicallyNormalized().string
        let st: FileStatus
        do { st = try FileSystem.status(of: candidate) } catch {
            throw ELFError(path, .system(.statBundledLoader(shown), error.errno))
        }
        guard st.kind == .regular else {
            throw ELFError(path, .badLoaderPath(.bundledNotRegularFile(shown)))
        }
        let directory = try Sealer.realPath(FileSystem.parent(of: candidate))
        let name = candidate.split(separator: "/").last.map(String.init) ?? candidate
        let absolute = (directory == "/" ? "" : directory) + "/" + name
        guard absolute.utf8.count <= SealFormat.loaderPathMax else {
            throw ELFError(path, .badLoaderPath(
                .tooLongForSlot(absolute, bytes: absolute.utf8.count, maximum: SealFormat.loaderPathMax)))
        }
        return absolute
    }

    /// `opened` is what `Sealer.open` returns: it tells a seal wrecked by strip from corruption.
    private static func status(
        opened: (file: ELFFile, image: ELFImage, realPath: String)
    ) throws(ELFError) -> RelocationStatus {
        let (file, image, realPath) = opened
        let path = file.path
        let sealed = try SealedState.read(file, image)
        switch sealed.status {
        case .unsealed: throw ELFError(path, .notSealed)
        case .damaged(let why): throw ELFError(path, .damagedSeal(why))
        case .sealed: break
        }
        guard let note = sealed.note, let slotOffset = sealed.slotOffset, let current = image.interpBytes else {
            throw ELFError(path, .damagedSeal(.noSlot))
        }

        let loader = try loaderPath(binary: path, realPath: realPath, relative: note.loader)
        let slot = SealFormat.slotBytes(naming: loader, machine: image.header.e_machine)
        return RelocationStatus(
            path: path, realPath: realPath, loader: loader,
            current: String(decoding: current.prefix { $0 != 0 }, as: UTF8.self),
            slotOffset: slotOffset, slot: slot, isStale: current != slot)
    }

    /// Replaces a busy file with a copy whose slot is rewritten, through the rewrite transaction.
    private static func replace(_ file: ELFFile, status: RelocationStatus, slot: [UInt8]) throws(ELFError) {
        let edit = SealPlan.Edit(offset: status.slotOffset, bytes: slot)
        try Rewrite(path: status.path, target: status.realPath, original: file, copying: file.size, edits: [edit]) {
            written throws(ELFError) in
            // Only the slot differs: the same size, and the bytes around the slot as they were.
            let slotEnd = status.slotOffset + UInt64(slot.count)
            guard written.size == file.size,
                  try written.read(at: status.slotOffset, count: slot.count, .interpreterSlot) == slot,
                  try written.sameBytes(as: file, from: 0, to: status.slotOffset),
                  try written.sameBytes(as: file, from: slotEnd, to: file.size)
            else { throw ELFError(status.path, .verificationFailed(.byteOutsideSlot)) }
        }.commit()
    }
}
