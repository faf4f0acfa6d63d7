// binfmt-reg inspect: whether files are sealed, what their note says (the dispatch, the loader it
// resolves to), what their PT_INTERP slot names, and which installed binfmt_misc entry would take them.
import ArgumentParser
import BinfmtMisc
import ELFEngine

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show whether files are sealed, their BOTTLE note and dispatch, loader, PT_INTERP slot, and matching binfmt_misc entries.",
        discussion: """
            Exits non-zero when a file cannot be read or its seal is damaged (strip and objcopy \
            destroy the note and the PT_INTERP slot: reseal from the unstripped file).
            """)

    @OptionGroup var jsonOption: JSONOption

    @Option(help: ArgumentHelp("The binfmt_misc directory whose entries are matched.", valueName: "dir"),
            completion: .directory)
    var binfmtMisc = BinfmtMiscFS.defaultDirectory

    @Argument(help: "ELF files.", completion: .file())
    var files: [String]

    /// inspect --json: the binfmt_misc directory matched against, and a report per file.
    struct Document: Encodable {
        var binfmtMisc: String
        var files: [Report]
    }

    /// What the ELF header says.
    struct ELFKind: Codable {
        /// 32 or 64.
        var elfClass: Int
        /// "little" or "big".
        var byteOrder: String
        var machine: UInt16
        var machineName: String
        /// e_type, and its name where it has one (ET_EXEC, ET_DYN).
        var type: UInt16
        @NullIfAbsent var typeName: String?
        var forThisHost: Bool
    }

    /// One file's report; every key is present, null where it does not apply.
    struct Report: Encodable {
        var path: String
        /// Why the file could not be inspected.
        @NullIfAbsent var problem: Problem?
        @NullIfAbsent var elf: ELFKind?
        /// "sealed", "not sealed" or "damaged".
        @NullIfAbsent var status: String?
        @NullIfAbsent var damage: String?
        @NullIfAbsent var noteType: UInt32?
        /// "interp" (PT_INTERP dispatch, note type 3) or "binfmt" (a binfmt_misc entry).
        @NullIfAbsent var dispatch: String?
        @NullIfAbsent var privileged: Bool?
        @NullIfAbsent var formatVersion: UInt32?
        @NullIfAbsent var loader: String?
        @NullIfAbsent var loaderPath: String?
        @NullIfAbsent var loaderExists: Bool?
        @NullIfAbsent var slotOffset: UInt64?
        @NullIfAbsent var slot: String?
        /// What the slot names: "runbottle", "loader" (relocated), "original" (the original
        /// interpreter: format 1's first revision) or "other".
        @NullIfAbsent var slotNames: String?
        @NullIfAbsent var originalInterpreter: String?
        /// Whether the slot's tail holds runbottle's trampoline (bottle(5)).
        @NullIfAbsent var slotTrampoline: Bool?
        /// The enabled entries that take the file; null when they cannot be read (`entriesUnknown` says why).
        @NullIfAbsent var matchingEntries: [String]?
        @NullIfAbsent var entriesUnknown: Problem?

        /// A problem of the file's that makes the exit status 1: unreadable, or a damaged seal.
        var failure: Problem? {
            problem ?? damage.map { Problem(.damagedSeal, "\(path): \($0)", path: path) }
        }
    }

    func run() throws {
        let entries = installedEntries()
        var reports: [Report] = []
        for path in files {
            do throws(ELFError) {
                reports.append(report(try Inspection.inspect(path), entries))
            } catch {
                reports.append(Report(path: path, problem: error.problem))
            }
        }
        if !jsonOption.json { for report in reports { render(report) } }
        try CommandEnd(command: "inspect", json: jsonOption.json)
            .finish(Document(binfmtMisc: binfmtMisc, files: reports), problems: reports.compactMap(\.failure))
    }

    /// The entries of the binfmt_misc mount, or why there are none to match.
    private func installedEntries() -> Result<[EntryStatus], BinfmtMiscError> {
        let fs = BinfmtMiscFS(directory: binfmtMisc)
        guard fs.isMounted else { return .failure(.notMounted(path: binfmtMisc)) }
        do throws(BinfmtMiscError) { return .success(try fs.entries()) } catch { return .failure(error) }
    }

    private func report(_ inspection: Inspection, _ entries: Result<[EntryStatus], BinfmtMiscError>) -> Report {
        var report = Report(path: inspection.path)
        let kind = inspection.kind
        report.elf = ELFKind(
            elfClass: kind.elfClass == .elf64 ? 64 : 32, byteOrder: kind.byteOrder == .little ? "little" : "big",
            machine: kind.machine, machineName: ELF.machineName(kind.machine), type: inspection.e_type,
            typeName: inspection.e_type == 2 ? "ET_EXEC" : inspection.e_type == 3 ? "ET_DYN" : nil,
            forThisHost: inspection.isForHost)
        let state = inspection.state
        switch state.status {
        case .sealed: report.status = "sealed"
        case .unsealed: report.status = "not sealed"
        case .damaged(let why):
            report.status = "damaged"
            report.damage = "\(why.words): reseal from the unstripped file"
        }
        if let note = state.note {
            report.noteType = note.type.rawValue
            report.dispatch = note.type.dispatch.rawValue
            report.privileged = note.type == .privileged
            report.formatVersion = note.version
            report.loader = note.loader
            report.loaderPath = inspection.loaderPath
            report.loaderExists = inspection.loaderExists
        }
        report.slotOffset = state.slotOffset
        report.slot = state.slotOffset == nil ? nil : state.slotContents
        report.slotNames = inspection.slotTarget?.rawValue
        report.originalInterpreter = inspection.originalInterpreter
        report.slotTrampoline = inspection.slotHasTrampoline
        switch entries {
        case .success(let entries):
            report.matchingEntries = entries.filter { $0.enabled && $0.matches(header: inspection.head) }.map(\.name)
        case .failure(let error):
            report.entriesUnknown = error.problem
        }
        return report
    }

    private func render(_ report: Report) {
        if let problem = report.problem {
            Output.errorLine("binfmt-reg: \(problem.message)")
            return
        }
        print("\(report.path): \(report.status ?? "?")")
        if let elf = report.elf {
            let type = elf.typeName ?? "e_type \(elf.type)"
            print("  ELF: \(elf.machineName) \(elf.elfClass)-bit \(elf.byteOrder)-endian, \(type)\(elf.forThisHost ? "" : " (not this host's)")")
        }
        if let damage = report.damage { print("  damage: \(damage)") }
        if let type = report.noteType, let version = report.formatVersion {
            let kind = switch SealFormat.NoteType(rawValue: type) {
            case .interp?: "PT_INTERP dispatch"
            case .privileged?: "privileged: the BOTTLE-privileged entry"
            default: "ordinary: the BOTTLE entry"
            }
            print("  note: type \(type) (\(kind)), format version \(version)")
        }
        if let dispatch = report.dispatch {
            let slot = report.slot.map { $0.isEmpty ? "(empty)" : $0 } ?? "?"
            if dispatch == SealFormat.Dispatch.interp.rawValue {
                print("  dispatch: PT_INTERP: \(slot)")
            } else {
                let entry = report.privileged == true ? "BOTTLE-privileged" : "BOTTLE"
                print("  dispatch: binfmt_misc \(entry) entry (PT_INTERP \(slot) where none is registered)")
            }
        }
        if let loader = report.loader, let path = report.loaderPath {
            print("  loader: \(loader) -> \(path) (\(report.loaderExists == true ? "present" : "MISSING"))")
        }
        if let offset = report.slotOffset, let slot = report.slot {
            let names = switch report.slotNames.flatMap(Inspection.SlotTarget.init(rawValue:)) {
            case .runbottle?: " (runbottle)"
            case .loader?: " (the bundled loader, written by relocate: runbottle is not involved)"
            case .original?: " (the original interpreter, as sealed by an earlier revision: seal brings it up to date)"
            case .other?, nil: ""
            }
            print("  PT_INTERP slot at 0x\(String(offset, radix: 16)): \(slot.isEmpty ? "(empty)" : slot)\(names)")
        }
        if let trampoline = report.slotTrampoline {
            print(trampoline ? "  trampoline: in the slot's tail (the binfmt dispatch maps it from the file)"
                             : "  trampoline: none in the slot's tail (the binfmt dispatch copies runbottle's into a memfd, about 20 µs per exec: seal adds it)")
        }
        if let matching = report.matchingEntries {
            print("  binfmt_misc: " + (matching.isEmpty ? "no enabled entry matches" : "matched by " + matching.joined(separator: ", ")))
        } else if let why = report.entriesUnknown {
            print("  binfmt_misc: \(why.message)")
        }
    }
}
