// What a descriptor says of the terminal behind it, for output drawn only on one.
import Glibc
import SystemPackage

extension FileDescriptor {
    /// True when the descriptor is a terminal (isatty).
    public var isTerminal: Bool { isatty(rawValue) == 1 }

    /// The terminal's width in columns (TIOCGWINSZ); nil when it is no terminal or does not say.
    public var terminalColumns: Int? {
        var size = winsize()
        guard ioctl(rawValue, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
