// The libraries of a program of another architecture, which no loader here can list: found as
// glibc's loader would find them, from DT_NEEDED and the run paths, inside a sysroot holding
// that architecture's files (/usr/aarch64-linux-gnu, a debootstrap root of arm64).
import ELFEngine
import LinuxOS

enum SysrootResolver {
    /// The loader's default directories, under `sysroot`: the multiarch ones first, as Debian's
    /// ld.so.conf lists them, then the plain ones (where a cross sysroot keeps its libraries).
    static func defaultDirectories(_ sysroot: String, machine: UInt16) -> [String] {
        let triplet = machine == ELF.EM_AARCH64 ? "aarch64-linux-gnu" : "x86_64-linux-gnu"
        return ["/lib/\(triplet)", "/usr/lib/\(triplet)", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]
            .map { sysroot + $0 }
    }

    /// Every library `object` needs, directly or not, breadth-first; one file per name, as the
    /// loader loads a name once. `programRPath`: the program's DT_RPATH, which also serves the
    /// objects without a DT_RUNPATH of their own. `searchFirst`: directories before all others.
    static func libraries(
        of object: String, sysroot: String, programRPath: [String] = [], searchFirst: [String] = []
    ) throws(BottleError) -> [ListedLibrary] {
        var result: [ListedLibrary] = []
        var seen = Set<String>()
        var queue = [object]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            let (image, dynamic) = try read(current)
            let origin = FileSystem.parent(of: try realPath(current))
            var directories = searchFirst
            if dynamic.runpath.isEmpty { directories += expand(dynamic.rpath, origin, sysroot) + programRPath }
            directories += expand(dynamic.runpath, origin, sysroot) + defaultDirectories(sysroot, machine: image.header.e_machine)
            for name in dynamic.needed where seen.insert(name).inserted {
                guard let found = directories.lazy.map({ $0 + "/" + name }).first(where: { compatible($0, with: image) }) else {
                    throw BottleError(current, .notInSysroot(library: name, searched: directories))
                }
                result.append(ListedLibrary(name: name, path: found))
                queue.append(found)
            }
        }
        return result
    }

    /// The program's DT_RPATH, expanded, for `libraries(of:programRPath:)`.
    static func programRPath(of program: String, sysroot: String) throws(BottleError) -> [String] {
        let (_, dynamic) = try read(program)
        guard dynamic.runpath.isEmpty else { return [] }
        return expand(dynamic.rpath, FileSystem.parent(of: try realPath(program)), sysroot)
    }

    /// Run path entries as directories of this machine: $ORIGIN is the file's own directory,
    /// an absolute entry is inside the sysroot.
    private static func expand(_ entries: [String], _ origin: String, _ sysroot: String) -> [String] {
        entries.map { entry in
            for token in ["${ORIGIN}", "$ORIGIN"] where entry.hasPrefix(token) {
                return origin + entry.dropFirst(token.count)
            }
            return entry.hasPrefix("/") ? sysroot + entry : origin + "/" + entry
        }
    }

    private static func read(_ path: String) throws(BottleError) -> (ELFImage, DynamicInfo) {
        do {
            let file = try ELFFile(path: path)
            let image = try ELFImage.parse(file)
            return (image, try DynamicInfo.read(file, image))
        } catch { throw BottleError(error) }
    }

    /// A regular ELF file of the same class, byte order and machine: the loader skips others.
    private static func compatible(_ path: String, with image: ELFImage) -> Bool {
        guard LoaderDiscovery.isRegularFile(path), let file = try? ELFFile(path: path),
              let candidate = try? ELFImage.parse(file) else { return false }
        return HostMachine.kind(of: candidate) == HostMachine.kind(of: image)
    }
}
