// Who and where this process runs: its user, its process id, the kernel, its environment.
import Glibc

public enum Identity {
    /// The effective user id (geteuid).
    public static var effectiveUser: UInt32 { UInt32(geteuid()) }

    /// True when running as root (effective uid 0).
    public static var isRoot: Bool { geteuid() == 0 }

    /// This process's id (getpid).
    public static var processID: Int32 { getpid() }

    /// What uname(2) says of the running kernel.
    public struct Kernel: Sendable, Equatable {
        /// The release (`uname -r`).
        public var release: String
        /// The machine (`uname -m`: x86_64, aarch64).
        public var machine: String
    }

    public static var kernel: Kernel {
        var info = utsname()
        uname(&info)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        return Kernel(release: field(info.release), machine: field(info.machine))
    }

    /// The environment variable `name`, nil when unset (getenv).
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
