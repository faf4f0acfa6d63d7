// The OS layer's errors in words. An errno is worded as the C library words it (strerror, through
// swift-system's Errno): that text is the system's, not ours.
import LinuxOS

extension OSError {
    var words: String {
        switch self {
        case .system(let errno): return errno.description
        case .endOfFile: return "unexpected end of file"
        }
    }
}

extension Subprocess.Failure {
    var words: String {
        switch self {
        case .setup(let call, let error): return "\(call): \(error)"
        case .exec(let error): return "\(error)"
        case .timedOut(let seconds): return "did not finish within \(seconds) s (killed)"
        }
    }
}
