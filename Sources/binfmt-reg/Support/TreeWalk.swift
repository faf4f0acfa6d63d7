// Expands command-line operands into the files a command works on: files as named, directories
// walked recursively without following symlinks.
import ELFEngine
import LinuxOS
import SystemPackage

/// One file to work on.
struct Operand: Sendable, Equatable {
    var path: String
    /// True when named on the command line, false when found by walking a directory.
    var explicit: Bool
}

enum TreeWalk {
    /// The files `paths` name, in order; each directory's regular files sorted by path. A path
    /// that does not exist, or a directory under it that cannot be read, becomes an entry in
    /// `missing` with its problem: a failure, as find(1) counts it, never a silent gap.
    static func expand(_ paths: [String]) -> (files: [Operand], missing: [Problem]) {
        var files: [Operand] = [], missing: [Problem] = []
        for path in paths {
            let st: FileStatus
            do { st = try FileSystem.status(of: path) } catch {
                missing.append(unreadable(path, error.errno))
                continue
            }
            if st.kind == .directory {
                let found = regularFiles(under: path)
                files += found.files.map { Operand(path: $0, explicit: false) }
                missing += found.unreadable
            } else {
                files.append(Operand(path: path, explicit: true))
            }
        }
        return (files, missing)
    }

    /// Regular files under `directory`, sorted; symlinks and special files are passed over, so a
    /// file linked from elsewhere in the tree is visited once, under its own name.
    static func regularFiles(under directory: String) -> (files: [String], unreadable: [Problem]) {
        var result: [String] = [], unreadable: [Problem] = []
        var pending = [directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory]
        while let dir = pending.popLast() {
            let entries: [FileSystem.Entry]
            do { entries = try FileSystem.entries(of: dir) } catch {
                unreadable.append(Self.unreadable(dir, error.errno))
                continue
            }
            for entry in entries {
                let name = entry.name
                let child = dir == "/" ? "/" + name : dir + "/" + name
                let st: FileStatus
                do { st = try FileSystem.status(of: child, followingLinks: false) } catch {
                    unreadable.append(Self.unreadable(child, error.errno))
                    continue
                }
                switch st.kind {
                case .directory: pending.append(child)
                case .regular:
                    // A replacement left by a run killed between link and rename: not a program.
                    if !(name.hasPrefix(".") && name.hasSuffix(AtomicReplacement.temporarySuffix)) { result.append(child) }
                default: continue
                }
            }
        }
        return (result.sorted(), unreadable.sorted { ($0.path ?? "") < ($1.path ?? "") })
    }

    /// `path` could not be read, with this errno.
    private static func unreadable(_ path: String, _ code: Errno) -> Problem {
        Problem(ProblemCode(errno: code), "\(path): \(code)", path: path)
    }
}

extension [Operand] {
    /// The operands with each file kept once, at its first appearance (a file named twice,
    /// inside two operands, or reached through a symlink, by its real path).
    func uniqueFiles() -> [Operand] {
        var seen = Set<String>()
        return filter { operand in
            guard let real = try? FileSystem.realPath(operand.path) else { return true }
            return seen.insert(real).inserted
        }
    }
}
