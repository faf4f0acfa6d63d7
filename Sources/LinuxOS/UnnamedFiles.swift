// Files written before they have a name: O_TMPFILE in the directory they will live in, a name
// given through /proc at the end (linkat), and writeback started early.
import CLinuxIO
import Glibc
import SystemPackage

extension FileDescriptor {
    /// Why a file system cannot make an unnamed file: the caller makes a named temporary instead.
    public static let noUnnamedFiles: Set<Errno> = [.notSupported, .isDirectory, .invalidArgument]

    /// A new unnamed regular file in `directory`, open read-write (O_TMPFILE).
    public static func openUnnamed(in directory: FileDescriptor, permissions: UInt32) throws(OSError) -> FileDescriptor {
        while true {
            let raw = clinux_open_tmpfile(directory.rawValue, permissions)
            if raw >= 0 { return FileDescriptor(rawValue: raw) }
            if errno != EINTR { throw .system(Errno(rawValue: errno)) }
        }
    }

    /// Gives this file (unnamed or not) the name `name` in `directory` (linkat through /proc).
    public func link(as name: String, in directory: FileDescriptor) throws(OSError) {
        guard clinux_link_fd(rawValue, directory.rawValue, name) == 0 else { throw .system(Errno(rawValue: errno)) }
    }

    /// Starts writing the file's dirty pages to disk without waiting: only a hint.
    public func startWriteback() {
        _ = clinux_start_writeback(rawValue)
    }
}
