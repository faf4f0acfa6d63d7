// Writing lines to stderr without stdio's shared FILE state (unbuffered, one write each), and
// the check that stdout's buffered output really left.
import LinuxOS
import SystemPackage

enum Output {
    /// -q: notices are dropped (stdout is /dev/null then); errors still go out. Set once, by
    /// main, before the command runs.
    nonisolated(unsafe) static var quiet = false

    /// A line that informs without reporting a failure (a file skipped): dropped under -q.
    static func notice(_ line: String) { if !quiet { errorLine(line) } }

    /// Writes `text` to stderr as it is.
    static func standardError(_ text: String) {
        _ = try? FileDescriptor.standardError.writeAll(Array(text.utf8))
    }

    /// Writes one line to stderr.
    static func errorLine(_ line: String) { standardError(line + "\n") }

    /// Run at exit. stdout is buffered, so a full disk or a bad descriptor shows only when it is
    /// flushed, after the command reported success: whatever the command did, output that was
    /// lost makes it fail, with one line (`line > /etc/binfmt.d/bottle.conf` on a full disk).
    static func failIfStandardOutputLost() {
        do { try ProcessExit.flushStandardOutput() } catch {
            errorLine("binfmt-reg: standard output: \(error.words)")
            ProcessExit.immediately(1)
        }
    }
}
