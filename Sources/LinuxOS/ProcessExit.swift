// Ending this process: the two ways the CLI ends, named for what they skip, and the flush of
// stdio's stdout that must come before.
import CLinuxIO
import Glibc
import SystemPackage

public enum ProcessExit {
    /// Runs `handler` when the process ends normally (atexit).
    public static func atExit(_ handler: @escaping @convention(c) () -> Void) {
        atexit(handler)
    }

    /// Flushes stdio's stdout; throws what made any of its output fail (EIO when stdio kept
    /// no errno).
    public static func flushStandardOutput() throws(OSError) {
        let error = clinux_flush_stdout()
        if error != 0 { throw .system(Errno(rawValue: error)) }
    }

    /// Ends the process with `status` after the atexit handlers and stdio's flush (exit).
    public static func normally(_ status: Int32) -> Never { exit(status) }

    /// Ends the process with `status` at once: no atexit handler, no flush (_exit); for a
    /// failure found inside an atexit handler.
    public static func immediately(_ status: Int32) -> Never { _exit(status) }
}
