// Paths and directories: real paths, parents and base names, directory listings, whole small
// files. One definition each, for the ELF engine, the registration model and the CLI.
import Glibc
import SystemPackage

public enum FileSystem {
    /// The directory part of `path`: "." when it has none, "/" for a top-level name.
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of `path` (all of it when it has no slash).
    public static func baseName(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    /// `path` with every symlink, "." and ".." resolved (realpath(3)).
    public static func realPath(_ path: String) throws(OSError) -> String {
        guard let resolved = realpath(path, nil) else { throw .system(Errno(rawValue: errno)) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// A directory entry: its name, and its type where the file system says (d_type).
    public struct Entry: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case directory, regular, symlink, other, unknown }
        public var name: String
        public var kind: Kind
    }

    /// The entries of `directory`, "." and ".." left out, in the order the file system gives.
    public static func entries(of directory: String) throws(OSError) -> [Entry] {
        guard let handle = opendir(directory) else { throw .system(Errno(rawValue: errno)) }
        defer { closedir(handle) }
        var entries: [Entry] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let kind: Entry.Kind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): kind = .directory
            case Int32(DT_REG): kind = .regular
            case Int32(DT_LNK): kind = .symlink
            case Int32(DT_UNKNOWN): kind = .unknown
            default: kind = .other
            }
            entries.append(Entry(name: name, kind: kind))
        }
        return entries
    }

    /// The whole file at `path` (at most `limit` bytes), or nil when there is none.
    public static func contents(of path: String, limit: Int = .max) throws(OSError) -> [UInt8]? {
        let fd: FileDescriptor
        do { fd = try FileDescriptor.open(path, .readOnly, options: .closeOnExec) } catch {
            if error as? Errno == .noSuchFileOrDirectory { return nil }
            throw .of(error)
        }
        defer { try? fd.close() }
        return try fd.readToEnd(limit: limit)
    }
}
