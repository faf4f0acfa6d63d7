// What a bottle holds: every file to produce under DIR and where it comes from, computed before anything is written.
import ELFEngine
import FoundationEssentials
import LinuxOS
import SystemPackage

/// What `binfmt-reg bottle` is asked to do.
public struct BottleRequest: Sendable {
    /// The programs: paths, or names looked up in PATH.
    public var programs: [String]
    /// The bottle directory.
    public var output: String
    /// Extra libraries (names the loader resolves, or paths), for those a program dlopens.
    public var libraries: [String] = []
    /// Files or directories copied in, at their path with /usr/local or /usr taken off.
    public var includes: [String] = []
    /// How the programs are sealed: their dispatch and what their PT_INTERP slot names.
    public var dispatch: SealFormat.Dispatch = .interp
    public var interpreter: String = SealFormat.runbottlePath
    /// The root holding the programs' own architecture's loader and libraries, for programs
    /// this machine cannot run (an aarch64 bottle made on x86-64): their libraries are then
    /// found by reading DT_NEEDED and the run paths instead of running the loader.
    public var sysroot: String?
    /// runbottle's bytes for a bottle that is a whole root file system (--rootfs): written at
    /// the interpreter path inside DIR, so that a chroot or an image FROM scratch of DIR alone
    /// runs the programs with no binfmt_misc entry and nothing from the host.
    public var runbottle: [UInt8]?

    public init(
        programs: [String], output: String, libraries: [String] = [], includes: [String] = [],
        dispatch: SealFormat.Dispatch = .interp, interpreter: String = SealFormat.runbottlePath
    ) {
        self.programs = programs
        self.output = output
        self.libraries = libraries
        self.includes = includes
        self.dispatch = dispatch
        self.interpreter = interpreter
    }
}

/// One file of the bottle, by its path relative to the bottle directory.
struct BottleEntry: Equatable {
    enum Kind: Equatable {
        /// A program: copied, DT_RPATH set to `runPath` ($ORIGIN/../lib in bin/), sealed with
        /// `loader` (relative to the program's directory in the bottle).
        case program(loader: String, runPath: String)
        /// A library: copied; a DT_RPATH/DT_RUNPATH of its own becomes DT_RPATH $ORIGIN.
        case library
        /// A loader, or a file from --include: copied as it is.
        case file
        /// A symbolic link holding `target`.
        case symlink(target: String)
        case directory
        /// A root's /tmp: mode 1777, as every user and mkstemp expect it.
        case temporaryDirectory
        /// runbottle, written from the request's bytes (--rootfs).
        case runbottle
    }

    var path: String
    var kind: Kind
    /// The real path of the file it is made from (nil for links and directories).
    var source: String?
    /// Why it is in the bottle: the program that needs it, or the option.
    var purpose: Purpose
    /// For a file of an --include tree: the tree's path in the bottle.
    var tree: String? = nil

    /// What the entry is and why, for an error naming two of them.
    var claim: BottleError.Claim {
        let kind: BottleError.Claim.Kind = switch self.kind {
        case .symlink(let target): .link(target: target)
        case .directory, .temporaryDirectory: .directory
        case .runbottle: .builtInRunbottle
        case .program: .program
        case .library: .library
        case .file: .file
        }
        return BottleError.Claim(kind: kind, source: source, purpose: purpose)
    }
}

/// The plan for one bottle: its entries, keyed by path, in the order they are produced.
struct BottlePlan {
    private(set) var entries: [BottleEntry] = []
    private var index: [String: Int] = [:]

    /// Adds `entry`; the same path twice must mean the same thing, or the plan fails naming both.
    mutating func add(_ entry: BottleEntry) throws(BottleError) {
        if let at = index[entry.path] {
            let existing = entries[at]
            var same = existing.source == entry.source
            if !same, let a = existing.source, let b = entry.source { same = try sameContents(a, b) }
            if existing.kind == entry.kind && same { return }
            // A root's /tmp that an --include tree also holds stays the root's, mode 1777.
            if [existing.kind, entry.kind] == [.temporaryDirectory, .directory] { return }
            // One file both needed as a library and brought by --include (a JDK's lib/): the
            // library, whose run path is made relative, stands for both.
            if same, [existing.kind, entry.kind].contains(.library), [existing.kind, entry.kind].contains(.file) {
                if entry.kind == .library { entries[at] = entry }
                return
            }
            throw BottleError(entry.path, .twoFiles(existing.claim, entry.claim))
        }
        index[entry.path] = entries.count
        entries.append(entry)
    }

    /// Plans the bottle for `request`: programs and their loaders and libraries, then includes.
    static func make(_ request: BottleRequest) throws(BottleError) -> BottlePlan {
        var plan = BottlePlan()
        plan.sysroot = request.sysroot
        guard !request.programs.isEmpty else { throw BottleError(request.output, .noProgram) }
        if request.runbottle != nil { try plan.addRootFileSystem(interpreter: request.interpreter) }
        for name in request.programs {
            let program = try locate(name)
            let real = try realPath(program)
            let opened: (file: ELFFile, image: ELFImage, realPath: String)
            do throws(ELFError) {
                opened = try Sealer.open(program)
                try plan.checkKind(opened.image)
            } catch {
                if case .foreign = error.reason {
                    throw BottleError(program, .needsSysroot(error.reason), code: error.reason.code)
                }
                throw BottleError(error)
            }
            let state: SealedState
            do throws(ELFError) { state = try SealedState.read(opened.file, opened.image) } catch { throw BottleError(error) }
            guard state.status == .unsealed else {
                throw BottleError(program, .alreadySealed)
            }
            // A copy would either lose the privilege silently or carry it to wherever the bottle
            // goes, with whoever can write there choosing its libraries: neither is packing.
            let status = opened.file.status
            if Sealer.isPrivileged(opened.file) {
                throw BottleError(program, .privileged(status.isSetUser ? .setUser : status.isSetGroup ? .setGroup : .capability))
            }
            guard let interpreter = opened.image.interpreter else {
                if opened.image.header.e_type == ELF.ET_DYN && opened.image.first(ELF.PT_DYNAMIC) != nil,
                   (try? DynamicInfo.read(opened.file, opened.image))?.isPIE == false {
                    throw BottleError(program, .sharedLibrary)
                }
                // Statically linked (busybox-static, whose applets are links to it): nothing to
                // load or seal, it runs wherever it is copied.
                try plan.addProgram(program, real: real, loaderName: nil)
                continue
            }
            let loaderName = String(interpreter.split(separator: "/").last ?? "")
            guard !loaderName.isEmpty else { throw BottleError(program, .interpreterNamesNoFile) }
            let loaderReal = try realPath((request.sysroot ?? "") + interpreter)
            try plan.add(BottleEntry(path: "lib/" + loaderName, kind: .file, source: loaderReal, purpose: .loader(of: program)))
            if let sysroot = request.sysroot {
                let rpath = try SysrootResolver.programRPath(of: real, sysroot: sysroot)
                var listed = try SysrootResolver.libraries(of: real, sysroot: sysroot)
                for library in request.libraries {
                    guard library.contains("/") else { throw BottleError(library, .libraryNameNeedsPath(.sysroot)) }
                    listed.append(ListedLibrary(name: nil, path: library))
                    listed += try SysrootResolver.libraries(of: library, sysroot: sysroot, programRPath: rpath)
                }
                try plan.addLibraries(listed, purpose: .needed(by: program))
                try plan.addProgram(program, real: real, loaderName: loaderName)
                continue
            }

            let flavour = LoaderList.flavour(of: interpreter)
            // The real file's path: $ORIGIN in its run path is where it lives, not where a symlink
            // to it (/usr/bin/java through /etc/alternatives) does.
            var listed = try LoaderList.libraries(of: real, loader: interpreter,
                                                  preload: flavour == .glibc ? request.libraries : [])
            if flavour == .musl {
                for library in request.libraries {
                    guard library.contains("/") else {
                        throw BottleError(library, .libraryNameNeedsPath(.musl))
                    }
                    listed.append(ListedLibrary(name: nil, path: library))
                    listed += try LoaderList.libraries(of: library, loader: interpreter, isProgram: false)
                }
            }
            try plan.addLibraries(listed, purpose: .needed(by: program))
            if plan.firstLoader == nil { plan.firstLoader = interpreter }
            try plan.addProgram(program, real: real, loaderName: loaderName)
        }
        for include in request.includes { try plan.addTree(include) }
        // Shared objects among the included files (a language's extension modules) are dlopen'd
        // by the programs: their libraries come along, found through the programs' DT_RPATH.
        // A library the tree holds is found where the program loads it from (a JDK's
        // lib/server/libjvm.so, loaded by path before lib/libattach.so needs it by name): the
        // tree's directories are searched first, and what they hold is not copied again.
        let treeDirectories = Array(Set(plan.includedObjects.map { FileSystem.parent(of: $0) })).sorted()
        let inTree = Set(plan.includedObjects.compactMap { try? realPath($0) })
        if request.sysroot != nil || plan.firstLoader != nil {
            for object in plan.includedObjects {
                let listed: [ListedLibrary]
                if let sysroot = request.sysroot {
                    listed = try SysrootResolver.libraries(of: object, sysroot: sysroot, searchFirst: treeDirectories)
                } else {
                    listed = try LoaderList.libraries(of: object, loader: plan.firstLoader ?? "", isProgram: false,
                                                      searchFirst: treeDirectories)
                }
                try plan.addLibraries(listed.filter { !inTree.contains((try? realPath($0.path)) ?? $0.path) },
                                      purpose: .needed(by: object))
            }
        }
        try plan.dedupeLibraries()
        return plan
    }

    /// The program itself, in bin/ under its real name; and the name it was called by, as a
    /// link: programs that dispatch on argv[0] (clang-21 → clang) keep it. Without a loader (a
    /// statically linked program) it is copied as it is.
    private mutating func addProgram(_ program: String, real: String, loaderName: String?) throws(BottleError) {
        let realName = String(real.split(separator: "/").last ?? "")
        let kind = loaderName.map { BottleEntry.Kind.program(loader: "../lib/" + $0, runPath: "$ORIGIN/../lib") } ?? .file
        try add(BottleEntry(path: "bin/" + realName, kind: kind, source: real, purpose: .program(program)))
        let givenName = String(program.split(separator: "/").last ?? "")
        if givenName != realName {
            try add(BottleEntry(path: "bin/" + givenName, kind: .symlink(target: realName), source: nil, purpose: .program(program)))
        }
    }

    /// --rootfs: DIR is the root of a chroot or of an image FROM scratch, with nothing from the
    /// host. runbottle goes where the programs' PT_INTERP slot names it; and /tmp, mode 1777,
    /// which Docker does not make (it mounts /proc, /dev, /sys and /etc/hosts itself) and which
    /// mkstemp's users need (gcc, sort, python's tempfile). Added first, so that a tmp/ from
    /// --include gets the mode too.
    private mutating func addRootFileSystem(interpreter: String) throws(BottleError) {
        let path = String(LoaderDiscovery.normalized(interpreter).drop { $0 == "/" })
        try add(BottleEntry(path: path, kind: .runbottle, source: nil, purpose: .rootfs))
        try add(BottleEntry(path: "tmp", kind: .temporaryDirectory, source: nil, purpose: .rootfs))
    }

    /// Where the loaders and libraries of programs of another architecture are (--sysroot).
    private var sysroot: String?
    /// The loader of the first program, which lists the libraries of included shared objects.
    private var firstLoader: String?
    /// The included files that are dynamically linked ELF objects.
    private var includedObjects: [String] = []

    private mutating func addLibraries(_ listed: [ListedLibrary], purpose: Purpose) throws(BottleError) {
        for library in listed {
            let source = try realPath(library.path)
            var fileName = try Self.soname(of: source)
            if let name = library.name, !name.contains("/") { fileName = name }
            try add(BottleEntry(path: "lib/" + fileName, kind: .library, source: source, purpose: purpose))
        }
    }

    /// A library reached under two names (a DT_NEEDED naming a dev symlink, say) is stored once;
    /// the other names become links to it.
    private mutating func dedupeLibraries() throws(BottleError) {
        var firstBySource: [String: String] = [:]
        for i in entries.indices where entries[i].kind == .library {
            guard let source = entries[i].source else { continue }
            if let first = firstBySource[source] {
                entries[i].kind = .symlink(target: String(first.dropFirst("lib/".count)))
                entries[i].source = nil
            } else {
                firstBySource[source] = entries[i].path
            }
        }
    }

    /// Adds the file or tree at `include`, at its absolute path with /usr/local or /usr taken off
    /// (/usr/lib/python3.11 → lib/python3.11, /etc/ssl → etc/ssl), or at DEST for `PATH=DEST`
    /// (a program with an absolute data path compiled in, run in a chroot of the bottle, wants
    /// usr/ kept). Symlinks inside a tree are kept as they are; a symlink named by the option
    /// itself is followed (as cp -H does): /lib64/ld-linux-x86-64.so.2 links to a path outside
    /// the bottle, and a copy of the link would name nothing in a chroot of it.
    private mutating func addTree(_ include: String) throws(BottleError) {
        var source = include
        var destination: String?
        if let equals = include.firstIndex(of: "=") {
            source = String(include[..<equals])
            destination = String(include[include.index(after: equals)...])
        }
        let absolute = source.hasPrefix("/") ? source : FileManager.default.currentDirectoryPath + "/" + source
        let normalized = LoaderDiscovery.normalized(absolute)
        var relative = String(normalized.dropFirst())
        for prefix in ["usr/local/", "usr/"] where relative.hasPrefix(prefix) {
            relative = String(relative.dropFirst(prefix.count))
            break
        }
        if let destination { relative = String(LoaderDiscovery.normalized(destination).drop { $0 == "/" }) }
        guard !relative.isEmpty, !relative.split(separator: "/").contains("..") else {
            throw BottleError(include, .includeOutside)
        }
        let isLink = (try? FileSystem.status(of: normalized, followingLinks: false))?.kind == .symlink
        let followed = isLink ? try realPath(normalized) : normalized
        try addNode(followed, as: relative, tree: relative, purpose: .include(include))
    }

    private mutating func addNode(_ path: String, as relative: String, tree: String, purpose: Purpose) throws(BottleError) {
        let st: FileStatus
        do { st = try FileSystem.status(of: path, followingLinks: false) } catch { throw BottleError(path, .lookUp, system: error) }
        switch st.kind {
        case .symlink:
            let target: String
            do { target = try FileSystem.linkTarget(of: path) } catch {
                throw BottleError(path, .unreadableLink)
            }
            try add(BottleEntry(path: relative, kind: .symlink(target: target), source: nil, purpose: purpose, tree: tree))
        case .directory:
            try add(BottleEntry(path: relative, kind: .directory, source: nil, purpose: purpose, tree: tree))
            let names: [String]
            do { names = try FileSystem.entries(of: path).map(\.name).sorted() } catch {
                throw BottleError(path, .unlistableDirectory)
            }
            for name in names { try addNode(path + "/" + name, as: relative + "/" + name, tree: tree, purpose: purpose) }
        case .regular:
            // Parsed once: whether it is a program to seal, and whether it is a dynamic object
            // whose libraries come along (a tree may hold thousands of files).
            let elf = (try? ELFFile(path: path)).flatMap { file in (try? ELFImage.parse(file)).map { (file, $0) } }
            let kind = try elf.flatMap { (file, image) throws(BottleError) in
                try includedProgramKind(path, file, image, at: relative)
            }
            try add(BottleEntry(path: relative, kind: kind ?? .file, source: path, purpose: purpose, tree: tree))
            if elf?.1.first(ELF.PT_DYNAMIC) != nil { includedObjects.append(path) }
        default:
            throw BottleError(path, .unsupportedFileType)
        }
    }

    /// A dynamically linked program inside an --include tree (gcc's cc1, git's helpers) is sealed
    /// like the bottle's own programs, so that it runs where the host's loader is not: its loader
    /// is the bottle's, reached from its place in the tree, and its run path keeps its own
    /// $ORIGIN entries (the tree keeps its shape) and adds the bottle's lib/. nil for any other
    /// file, and for programs no runbottle here can run, which are copied as they are.
    private mutating func includedProgramKind(
        _ path: String, _ file: ELFFile, _ image: ELFImage, at relative: String
    ) throws(BottleError) -> BottleEntry.Kind? {
        guard let interpreter = image.interpreter, (try? checkKind(image)) != nil,
              let dynamic = try? DynamicInfo.read(file, image),
              image.header.e_type == ELF.ET_EXEC || dynamic.isPIE
        else { return nil }
        let loaderName = String(interpreter.split(separator: "/").last ?? "")
        guard !loaderName.isEmpty else { return nil }
        try add(BottleEntry(path: "lib/" + loaderName, kind: .file, source: try realPath((sysroot ?? "") + interpreter),
                            purpose: .loader(of: path)))
        if firstLoader == nil && sysroot == nil { firstLoader = interpreter }
        let up = String(repeating: "../", count: relative.split(separator: "/").count - 1)
        let own = (dynamic.rpath + dynamic.runpath).filter { $0.hasPrefix("$ORIGIN") || $0.hasPrefix("${ORIGIN}") }
        let runPath = (own + ["$ORIGIN/" + up + "lib"]).joined(separator: ":")
        return .program(loader: up + "lib/" + loaderName, runPath: runPath)
    }

    /// A program this plan can bottle: one this host runs (its loader lists the libraries), or
    /// with --sysroot any kind runbottle is built for.
    private func checkKind(_ image: ELFImage) throws(ELFError) {
        if sysroot == nil { try HostMachine.check(image) } else { try HostMachine.checkPort(image) }
    }

    /// Finds a program given by name in PATH, as a shell would.
    static func locate(_ name: String) throws(BottleError) -> String {
        if name.contains("/") {
            guard FileSystem.isAccessible(name, .exists) else { throw BottleError(name, .noSuchFile) }
            return name
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where FileSystem.isAccessible("\(dir)/\(name)", .executable) {
            return "\(dir)/\(name)"
        }
        throw BottleError(name, .notInPath)
    }

    /// The DT_SONAME of the library at `path`, or its file name when it has none.
    static func soname(of path: String) throws(BottleError) -> String {
        do throws(ELFError) {
            let file = try ELFFile(path: path)
            let image = try ELFImage.parse(file)
            if let name = try DynamicInfo.read(file, image).soname, !name.isEmpty, !name.contains("/") { return name }
        } catch { throw BottleError(error) }
        return String(path.split(separator: "/").last ?? "")
    }
}

/// True when the files at `a` and `b` hold the same bytes.
func sameContents(_ a: String, _ b: String) throws(BottleError) -> Bool {
    let x: FileDescriptor, y: FileDescriptor
    do { x = try FileDescriptor.open(a, .readOnly, options: .closeOnExec) } catch { throw BottleError(a, .cannotOpen) }
    defer { try? x.close() }
    do { y = try FileDescriptor.open(b, .readOnly, options: .closeOnExec) } catch { throw BottleError(b, .cannotOpen) }
    defer { try? y.close() }
    var chunkA = [UInt8](repeating: 0, count: 1 << 20), chunkB = chunkA
    while true {
        let countA = try readChunk(x, into: &chunkA, a), countB = try readChunk(y, into: &chunkB, b)
        if countA != countB || chunkA[..<countA] != chunkB[..<countB] { return false }
        if countA == 0 { return true }
    }
}

/// Fills `buffer` from `fd` unless the file ends first; returns the bytes read.
private func readChunk(_ fd: FileDescriptor, into buffer: inout [UInt8], _ path: String) throws(BottleError) -> Int {
    var filled = 0
    while filled < buffer.count {
        let n: Int
        do {
            n = try buffer.withUnsafeMutableBytes { try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
        } catch { throw BottleError(path, .read, system: .system(Errno.of(error))) }
        if n == 0 { break }
        filled += n
    }
    return filled
}
