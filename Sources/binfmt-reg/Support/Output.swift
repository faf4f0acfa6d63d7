// Writing lines to stderr without stdio's shared FILE state (unbuffered, one write each).
#if canImport(Glibc)
import Glibc
#endif

enum Output {
    /// Writes `text` to stderr as it is.
    static func standardError(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }

    /// Writes one line to stderr.
    static func errorLine(_ line: String) { standardError(line + "\n") }
}
