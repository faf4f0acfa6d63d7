// Who and where this process runs: its user, its process id, its arguments, the kernel, its
// environment.
import CLinuxIO
import Glibc

public enum Identity {
    /// The effective user id (geteuid).
    public static var effectiveUser: UInt32 { UInt32(geteuid()) }

    /// True when running as root (effective uid 0).
    public static var isRoot: Bool { geteuid() == 0 }

    /// This process's id (getpid).
    public static var processID: Int32 { getpid() }

    /// argv as glibc handed it to constructors, argv[0] included: Swift's CommandLine reads
    /// /proc, which a chroot may not have mounted. Swift's where glibc gave none.
    public static var arguments: [String] {
        var argc: Int32 = 0
        guard let argv = clinux_argv(&argc) else { return CommandLine.arguments }
        return (0..<Int(argc)).compactMap { argv[$0].map { String(cString: $0) } }
    }

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
