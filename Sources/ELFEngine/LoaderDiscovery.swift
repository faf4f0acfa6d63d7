// Finding the bundled loader a sealed binary names: relative to the directory of its real path.
import LinuxOS

public enum LoaderDiscovery {
    /// `path` with "." and empty components removed; ".." is kept (the directories it crosses may
    /// be symlinks, so only the file system can resolve it).
    public static func normalized(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : joined
    }

    /// The absolute path a note's `loader` names for the binary whose real path is `binary`.
    public static func resolve(_ loader: String, forBinaryAt binary: String) -> String {
        normalized(FileSystem.parent(of: binary) + "/" + loader)
    }

    /// True when `path` names a regular file (symlinks followed).
    public static func isRegularFile(_ path: String) -> Bool {
        (try? FileSystem.status(of: path))?.kind == .regular
    }

    /// Checks a loader path given with --loader: relative, storable, and an ELF shared object
    /// (ET_DYN) of the program's class, byte order and machine, as the kernel and runbottle
    /// require; otherwise the sealed program would fail only when run.
    public static func check(_ loader: String, forBinaryAt binary: String, kind: MachineKind) throws(ELFError) -> String {
        if let problem = BottleNote.problem(withLoader: loader) { throw ELFError(binary, .badLoaderPath(problem)) }
        let absolute = resolve(loader, forBinaryAt: binary)
        guard isRegularFile(absolute) else {
            throw ELFError(binary, .unusableLoader(loader: loader, resolved: absolute, .notAFile))
        }
        let image: ELFImage
        do { image = try ELFImage.parse(try ELFFile(path: absolute)) } catch {
            throw ELFError(binary, .unusableLoader(loader: loader, resolved: absolute, .notELF(error.reason)))
        }
        guard image.header.e_type == ELF.ET_DYN else {
            throw ELFError(binary, .unusableLoader(loader: loader, resolved: absolute, .notSharedObject))
        }
        let loaderKind = HostMachine.kind(of: image)
        guard loaderKind == kind else {
            throw ELFError(binary, .unusableLoader(loader: loader, resolved: absolute, .otherKind(loader: loaderKind, program: kind)))
        }
        return loader
    }

    /// The directories searched for the loader, relative to the binary's directory, in order:
    /// the $ORIGIN entries of DT_RPATH and DT_RUNPATH, then ../lib, then ../lib/*/ sorted.
    public static func searchDirectories(_ dynamic: DynamicInfo, forBinaryAt binary: String) -> [String] {
        var seen = Set<String>()
        return (originDirectories(dynamic) + ["../lib"] + libSubdirectories(forBinaryAt: binary))
            .filter { seen.insert($0).inserted }
    }

    /// The $ORIGIN entries of DT_RPATH and DT_RUNPATH, relative to the binary's directory.
    static func originDirectories(_ dynamic: DynamicInfo) -> [String] {
        var result: [String] = []
        for entry in dynamic.rpath + dynamic.runpath {
            for prefix in ["$ORIGIN", "${ORIGIN}"] where entry == prefix || entry.hasPrefix(prefix + "/") {
                result.append(normalized(String(entry.dropFirst(prefix.count + 1))))
            }
        }
        return result
    }

    /// ../lib/*/, sorted: the directories under the bottle's lib.
    static func libSubdirectories(forBinaryAt binary: String) -> [String] {
        let lib = normalized(FileSystem.parent(of: binary) + "/../lib")
        guard let entries = try? FileSystem.entries(of: lib) else { return [] }
        var names: [String] = []
        for entry in entries {
            // d_type saves a stat per entry where the file system fills it in.
            switch entry.kind {
            case .directory: names.append(entry.name)
            case .unknown, .symlink:
                if (try? FileSystem.status(of: lib + "/" + entry.name))?.kind == .directory { names.append(entry.name) }
            case .regular, .other: break
            }
        }
        return names.sorted().map { "../lib/" + $0 }
    }

    /// Finds the loader named by the basename of `interpreter` for the binary at real path
    /// `binary`, as a path relative to the binary's directory.
    public static func find(interpreter: String, dynamic: DynamicInfo, forBinaryAt binary: String) throws(ELFError) -> String {
        let basename = String(interpreter.split(separator: "/").last ?? "")
        guard !basename.isEmpty else { throw ELFError(binary, .corrupt(.interpreterNamesNoFile)) }
        func probe(_ dirs: [String]) -> String? {
            for dir in dirs {
                let candidate = normalized(dir.isEmpty ? basename : dir + "/" + basename)
                if isRegularFile(resolve(candidate, forBinaryAt: binary)) { return candidate }
            }
            return nil
        }
        // ../lib/*/ is listed only when the cheaper places do not have the loader.
        let nearby = originDirectories(dynamic) + ["../lib"]
        if let found = probe(nearby) { return found }
        let directories = searchDirectories(dynamic, forBinaryAt: binary)
        if let found = probe(directories.filter { !nearby.contains($0) }) { return found }
        throw ELFError(binary, .loaderNotFound(basename: basename, searched: directories.map { $0.isEmpty ? "$ORIGIN" : "$ORIGIN/" + $0 }))
    }
}
