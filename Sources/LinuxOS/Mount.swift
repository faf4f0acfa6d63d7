// Mounting a file system (mount(2)): binfmt_misc where it is not mounted.
import CLinuxIO
import Glibc
import SystemPackage

extension FileSystem {
    public struct MountFlags: OptionSet, Sendable {
        public let rawValue: UInt
        public init(rawValue: UInt) { self.rawValue = rawValue }
        public static let noSetUID = MountFlags(rawValue: UInt(MS_NOSUID))
        public static let noDevices = MountFlags(rawValue: UInt(MS_NODEV))
        public static let noExec = MountFlags(rawValue: UInt(MS_NOEXEC))
    }

    /// Mounts the file system `type` from `source` at `target`.
    public static func mount(_ source: String, at target: String, type: String, flags: MountFlags) throws(OSError) {
        guard Glibc.mount(source, target, type, flags.rawValue, nil) == 0 else { throw .system(Errno(rawValue: errno)) }
    }
}

extension FileSystem {
    /// The id of the mount `path` is on (statx STATX_MNT_ID); nil where the kernel does not
    /// give one (before 5.8) or `path` cannot be looked at.
    public static func mountID(of path: String) -> Int64? {
        let id = clinux_mount_id(path)
        return id >= 0 ? id : nil
    }
}
