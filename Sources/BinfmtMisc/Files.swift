// Small file operations the installer needs: read whole files, and replace one atomically
// through the engine's atomic writer (AtomicReplacement) and its RewriteTransaction.
import ELFEngine
import Glibc
import LinuxOS
import SystemPackage

enum Files {
    /// The file's bytes (at most `limit` of them), or nil when it does not exist.
    static func read(_ path: String, limit: Int = .max) throws(BinfmtMiscError) -> [UInt8]? {
        do { return try FileSystem.contents(of: path, limit: limit) } catch {
            throw .from(error.errno, path: path, what: "read")
        }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates the directory and its parents (mode 0755) where missing.
    static func makeDirectories(_ path: String) throws(BinfmtMiscError) {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw .from(Errno(rawValue: errno), path: current, what: "create directory")
            }
        }
    }

    /// Replaces `path` with `bytes`, or creates it: the new file gets the mode, root ownership
    /// (when we are root) and the capability before its rename, so it never appears without
    /// them, and is durable (file and directory synced) when this returns.
    static func replace(
        _ path: String, with bytes: [UInt8], mode: mode_t, capability: String? = nil
    ) throws(BinfmtMiscError) {
        try makeDirectories(FileSystem.parent(of: path))
        let replacement = try writing { () throws(ELFError) in
            let replacement = try AtomicReplacement(writing: path)
            try replacement.write(bytes, at: 0)
            try replacement.setMode(mode, owner: geteuid() == 0 ? (0, 0) : nil)
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
            if case .system(let what, let code) = error.reason { throw .from(code, path: error.path, what: what) }
            throw .failed(path: error.path, what: "write", reason: error.reason.description)
        }
    }

    /// True when `path` is a link to /dev/null: binfmt.d(5)'s mask, which hides a file of the
    /// same name in a later directory (/usr/lib/binfmt.d) from systemd-binfmt.
    static func isMask(_ path: String) -> Bool {
        var buffer = [CChar](repeating: 0, count: 16)
        let count = readlink(path, &buffer, buffer.count)
        return count == 9 && String(decoding: buffer.prefix(9).map { UInt8(bitPattern: $0) }, as: UTF8.self) == "/dev/null"
    }

    /// Replaces `path` with a link to /dev/null, atomically (a link beside it, renamed over it).
    static func mask(_ path: String) throws(BinfmtMiscError) {
        try makeDirectories(FileSystem.parent(of: path))
        let temporary = path + ".mask-\(getpid())"
        _ = unlink(temporary)
        guard symlink("/dev/null", temporary) == 0 else {
            throw .from(Errno(rawValue: errno), path: path, what: "mask")
        }
        guard rename(temporary, path) == 0 else {
            let error = Errno(rawValue: errno)
            _ = unlink(temporary)
            throw .from(error, path: path, what: "mask")
        }
    }

    /// Removes the file; false when there was none.
    @discardableResult
    static func remove(_ path: String) throws(BinfmtMiscError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw .from(Errno(rawValue: errno), path: path, what: "remove")
    }
}
