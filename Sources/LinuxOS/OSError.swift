// The OS layer's one error: what a system call said, or that a file ended early. Callers give it
// their own context (the file, what was being done) in their own typed errors; binfmt-reg words
// it (LinuxOSWords).
import SystemPackage

public enum OSError: Error, Equatable, Sendable {
    /// A system call failed with this errno.
    case system(Errno)
    /// The file ended before the bytes asked for: it is shorter than its headers say, or it
    /// shrank meanwhile.
    case endOfFile

    /// The errno to report: EIO for a file that ended early.
    public var errno: Errno {
        if case .system(let code) = self { return code }
        return .ioError
    }

    /// swift-system throws untyped errors; every one of them is an Errno.
    static func of(_ error: any Error) -> OSError {
        .system(Errno.of(error))
    }
}

extension Errno {
    /// The errno a swift-system call threw (it throws Errno, untyped).
    public static func of(_ error: any Error) -> Errno {
        error as? Errno ?? .ioError
    }
}
