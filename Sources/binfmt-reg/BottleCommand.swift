// binfmt-reg bottle: packs installed programs, their libraries and loader into a sealed, movable bottle.
import ArgumentParser
import Bottling
import ELFEngine
import RunbottleImage

struct BottleCommand: ParsableCommand, QuietCommand {
    static let configuration = CommandConfiguration(
        commandName: "bottle",
        abstract: "Pack installed programs with their libraries and loader into a sealed, movable bottle.",
        discussion: """
            Programs go to DIR/bin (a program named through a symlink keeps that name as a link \
            to the real file), the libraries the loader's list mode resolves for them and the \
            loader itself to DIR/lib under their DT_NEEDED names. Each program gets \
            DT_RPATH=$ORIGIN/../lib and is sealed (--dispatch, --interpreter: as for seal); each \
            library with a run path of its own gets DT_RPATH=$ORIGIN. A statically linked \
            program is copied as it is. --include copies a file or \
            tree to its path with /usr/local or /usr taken off (/usr/lib/python3.11 → \
            DIR/lib/python3.11), or at DEST for PATH=DEST; a symlink it names is followed. Shared objects in included trees bring \
            their libraries, and their programs are sealed with the bottle's loader. Running it again adds what is missing and replaces what changed; \
            DIR/.bottle-sources records where each file came from, and a name from two different \
            sources is an error. Nothing in DIR changes unless every file was produced: they are \
            made in a staging directory beside DIR (inside it where DIR is a mount point). \
            An absolute path under /usr, /etc, /var or /opt compiled into a program or library \
            that exists here and that DIR does not hold at that path gets a notice naming the \
            --include that would add it (binfmt-reg(8) lists the paths never named).
            """)

    @OptionGroup var quietOption: QuietOption

    @Option(name: .shortAndLong, help: ArgumentHelp("The bottle directory.", valueName: "dir"),
            completion: .directory)
    var output: String

    @Option(name: .customLong("lib"), help: ArgumentHelp(
        "A library a program loads with dlopen: a name the loader resolves, or a path (repeatable).",
        valueName: "name-or-path"), completion: .file())
    var libraries: [String] = []

    @Option(name: .customLong("include"), help: ArgumentHelp(
        "A file or directory to copy in, such as a program's data directory; PATH=DEST puts it at DEST in the bottle (repeatable).",
        valueName: "path[=dest]"), completion: .file())
    var includes: [String] = []

    @OptionGroup var dispatch: DispatchOptions

    @Option(help: ArgumentHelp(
        "The root holding the loader and libraries of programs of another architecture (an aarch64 bottle made on x86-64): /usr/aarch64-linux-gnu, an arm64 debootstrap root. Their libraries are found from DT_NEEDED and the run paths, as the loader would.",
        valueName: "dir"), completion: .directory)
    var sysroot: String?

    @Flag(help: ArgumentHelp(
        "Make DIR a root file system that needs nothing from the host: runbottle at the interpreter path inside it (/usr/libexec/runbottle) and /tmp with mode 1777, for a chroot or an image FROM scratch with no binfmt_misc entry."))
    var rootfs = false

    @Flag(name: .shortAndLong, help: "List every file, unchanged ones included.")
    var verbose = false

    @Argument(help: "The programs: paths, or names looked up in PATH.", completion: .file())
    var programs: [String]

    @OptionGroup var jsonOption: JSONOption

    /// bottle --json: every file of the bottle and what happened to it (none when it failed).
    struct Outcome: Encodable {
        struct Change: Encodable {
            var path: String
            var action: String
            /// How the file's DT_RPATH was set, for programs and libraries; null for others.
            @NullIfAbsent var runPath: String?
        }
        /// A path compiled into a program or library that exists here and that the bottle does
        /// not hold at that path.
        struct Notice: Encodable {
            var file: String
            var path: String
            var include: String
        }
        @NullIfAbsent var directory: String?
        var changes: [Change]
        var summary: Counts
        var notices: [Notice]
    }

    struct Counts: Encodable {
        var added = 0, replaced = 0, unchanged = 0
    }

    func validate() throws {
        // The runbottle binfmt-reg carries is built for this machine; a cross bottle's root
        // needs the target's, which --include can put at the interpreter path.
        if rootfs && sysroot != nil {
            throw ValidationError("--rootfs writes runbottle for this machine: with --sysroot, bring the target's runbottle with --include PATH=\(dispatch.interpreter)")
        }
    }

    func run() throws {
        let failed = Outcome(directory: nil, changes: [], summary: Counts(), notices: [])
        try CommandEnd(command: "bottle", json: jsonOption.json).run(failed: failed) {
            var request = BottleRequest(
                programs: programs, output: output, libraries: libraries, includes: includes,
                dispatch: dispatch.dispatch, interpreter: dispatch.interpreter)
            request.sysroot = sysroot.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            if rootfs { request.runbottle = RunbottleImage.bytes }
            let report = try Bottler.bottle(request)
            let outcome = Outcome(
                directory: report.directory,
                changes: report.changes.map { .init(path: $0.path, action: $0.action.rawValue, runPath: $0.runPath?.words) },
                summary: Counts(added: report.count(.added), replaced: report.count(.replaced), unchanged: report.count(.unchanged)),
                notices: report.unheldPaths.map { .init(file: $0.file, path: $0.path, include: $0.include) })
            if jsonOption.json { return (outcome, []) }
            // An --include tree is one line per action unless --verbose: "added lib/python3.11/ (1508 files)".
            var trees: [String: [BottleChange.Action: Int]] = [:], treeOrder: [String] = []
            for change in report.changes where verbose || change.action != .unchanged {
                if let tree = change.tree, !verbose {
                    if trees[tree] == nil { treeOrder.append(tree) }
                    trees[tree, default: [:]][change.action, default: 0] += 1
                    continue
                }
                let how = change.runPath.map { $0 == .unchanged ? "" : "  (DT_RPATH: \($0.words))" } ?? ""
                print(Self.column(change.action) + change.path + how)
            }
            for tree in treeOrder {
                for action in [BottleChange.Action.added, .replaced] {
                    guard let count = trees[tree]?[action] else { continue }
                    print(Self.column(action) + tree + "/ (\(count) \(count == 1 ? "entry" : "entries"))")
                }
            }
            print("bottle \(report.directory): \(report.count(.added)) added, \(report.count(.replaced)) replaced, "
                  + "\(report.count(.unchanged)) unchanged (programs: \(dispatch.summary))")
            // After the summary, where a long list does not scroll them away.
            for unheld in report.unheldPaths { Output.notice(unheld.notice) }
            return (outcome, [])
        }
    }

    private static func column(_ action: BottleChange.Action) -> String {
        let name = action.rawValue.prefix(9)
        return name + String(repeating: " ", count: 9 - name.count) + " "
    }
}
