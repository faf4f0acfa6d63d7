// Small file operations the installer needs: read whole files, and replace one atomically
// through the engine's atomic writer (AtomicReplacement) and its RewriteTransaction.
import ELFEngine
import LinuxOS
import SystemPackage

enum Files {
    /// The file's bytes (at most `limit` of them), or nil when it does not exist.
    static func read(_ path: String, limit: Int = .max) throws(BinfmtMiscError) -> [UInt8]? {
        do { return try FileSystem.contents(of: path, limit: limit) } catch {
            throw .from(error.errno, path: path, what: .read)
        }
    }

    static func exists(_ path: String) -> Bool {
        FileSystem.isAccessible(path, .exists)
    }

    /// Creates the directory and its parents (mode 0755) where missing.
    static func makeDirectories(_ path: String) throws(BinfmtMiscError) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            do { try FileSystem.makeDirectory(current, mode: 0o755) } catch {
                if error != .system(.fileExists) { throw .from(error.errno, path: current, what: .createDirectory) }
            }
        }
    }

    /// Replaces `path` with `bytes`, or creates it: the new file gets the mode, root ownership
    /// (when we are root) and the capability before its rename, so it never appears without
    /// them, and is durable (file and directory synced) when this returns.
    static func replace(
        _ path: String, with bytes: [UInt8], mode: UInt32, capability: String? = nil
    ) throws(BinfmtMiscError) {
        try makeDirectories(FileSystem.parent(of: path))
        let replacement = try writing { () throws(ELFError) in
            let replacement = try AtomicReplacement(writing: path)
            try replacement.write(bytes, at: 0)
            try replacement.setMode(mode, owner: Identity.isRoot ? (0, 0) : nil)
            return replacement
        }
        if let capability { try FileCapability.set(replacement.fd, path, capability) }
        try writing { () throws(ELFError) in
            var transaction = RewriteTransaction()
            transaction.stage(written: replacement)
            try transaction.commitAll()
        }
    }

    /// The writer's errors in the installer's terms.
    private static func writing<T>(_ body: () throws(ELFError) -> T) throws(BinfmtMiscError) -> T {
        do { return try body() } catch {
            if case .system(let step, let code) = error.reason { throw .from(code, path: error.path, what: .writer(step)) }
            throw .failed(path: error.path, what: .write, reason: .engine(error.reason))
        }
    }

    /// True when `path` is a link to /dev/null: binfmt.d(5)'s mask, which hides a file of the
    /// same name in a later directory (/usr/lib/binfmt.d) from systemd-binfmt.
    static func isMask(_ path: String) -> Bool {
        (try? FileSystem.linkTarget(of: path)) == "/dev/null"
    }

    /// Replaces `path` with a link to /dev/null, atomically (a link beside it, renamed over it).
    static func mask(_ path: String) throws(BinfmtMiscError) {
        try makeDirectories(FileSystem.parent(of: path))
        let temporary = path + ".mask-\(Identity.processID)"
        try? FileSystem.remove(temporary)
        do { try FileSystem.makeSymbolicLink(at: temporary, to: "/dev/null") } catch {
            throw .from(error.errno, path: path, what: .mask)
        }
        do { try FileSystem.rename(temporary, to: path) } catch {
            try? FileSystem.remove(temporary)
            throw .from(error.errno, path: path, what: .mask)
        }
    }

    /// Removes the file; false when there was none.
    @discardableResult
    static func remove(_ path: String) throws(BinfmtMiscError) -> Bool {
        do { try FileSystem.remove(path) } catch {
            if error == .system(.noSuchFileOrDirectory) { return false }
            throw .from(error.errno, path: path, what: .remove)
        }
        return true
    }
}
