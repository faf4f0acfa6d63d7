// What bottle found, in words: its errors (the system errors that stopped it among them), and the
// notice for each compiled-in path the bottle does not hold.
import Bottling
import ELFEngine

extension CompiledPath {
    /// The --include that puts the path where a chroot or an image of the bottle finds it.
    var include: String { "--include \(path)=\(path)" }

    /// One stderr line; -q drops it.
    var notice: String {
        "binfmt-reg: notice: \(file) names \(path), which the bottle does not hold there: add \(include) if it needs it"
    }
}

extension BottleError {
    /// `<path>: <reason>`; a system call's error after what was being done (strerror's words),
    /// or alone and in lower case when the file itself could not be looked at.
    var message: String {
        let words = reason.words
        guard let system else { return "\(path): \(words)" }
        return words.isEmpty ? "\(path): \(system.description.lowercased())" : "\(path): \(words): \(system)"
    }

    var problem: Problem { Problem(code, message, path: path) }
}

extension BottleError.Reason {
    var words: String {
        switch self {
        case .engine(let reason): return reason.message
        case .needsSysroot(let reason):
            return "\(reason.message): name the root of its loader and libraries with --sysroot (/usr/aarch64-linux-gnu, an arm64 debootstrap root)"
        case .stated(let sentence): return sentence
        }
    }
}
