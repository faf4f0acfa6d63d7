// What bottle found, in words: the notice for each compiled-in path the bottle does not hold.
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
