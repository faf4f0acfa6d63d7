// binfmt-reg inspect: whether files are sealed, what their note says (the dispatch, the loader it
// resolves to), what their PT_INTERP slot names, and which installed binfmt_misc entry would take them.
import ArgumentParser
import BinfmtMisc
import ELFEngine
import FoundationEssentials

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show whether files are sealed, their BOTTLE note and dispatch, loader, PT_INTERP slot, and matching binfmt_misc entries.",
        discussion: """
            Exits non-zero when a file cannot be read or its seal is damaged (strip and objcopy \
            destroy the note and the PT_INTERP slot: reseal from the unstripped file).
            """)

    @Flag(help: "Print one JSON array with an object per file.")
    var json = false

    @Option(help: ArgumentHelp("The binfmt_misc directory whose entries are matched.", valueName: "dir"),
            completion: .directory)
    var binfmtMisc = BinfmtMiscFS.defaultDirectory

    @Argument(help: "ELF files.", completion: .file())
    var files: [String]

    /// One file's report, as printed in JSON.
    struct Report: Encodable {
        var path: String
        var error: String?
        var elf: String?
        var forThisHost: Bool?
        var status: String?
        var damage: String?
        var noteType: UInt32?
        /// "interp" (PT_INTERP dispatch, note type 3) or "binfmt" (a binfmt_misc entry).
        var dispatch: String?
        var privileged: Bool?
        var formatVersion: UInt32?
        var loader: String?
        var loaderPath: String?
        var loaderExists: Bool?
        var slotOffset: UInt64?
        var slot: String?
        /// What the slot names: "runbottle", "loader" (relocated), "original" (the original
        /// interpreter: format 1's first revision) or "other".
        var slotNames: String?
        var originalInterpreter: String?
        var matchingEntries: [String]?
        var binfmtMisc: String?
    }

    func run() throws {
        let entries = installedEntries()
        var reports: [Report] = []
        for path in files {
            do throws(ELFError) {
                reports.append(report(try Inspection.inspect(path), entries))
            } catch {
                reports.append(Report(path: path, error: error.reason.description))
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
        } else {
            for report in reports { render(report) }
        }
        if reports.contains(where: { $0.error != nil || $0.damage != nil }) { throw ExitCode(1) }
    }

    /// The entries of the binfmt_misc mount, or why there are none to match.
    private func installedEntries() -> Result<[EntryStatus], BinfmtMiscError> {
        let fs = BinfmtMiscFS(directory: binfmtMisc)
        guard fs.isMounted else { return .failure(.notMounted(path: binfmtMisc)) }
        do throws(BinfmtMiscError) { return .success(try fs.entries()) } catch { return .failure(error) }
    }

    private func report(_ inspection: Inspection, _ entries: Result<[EntryStatus], BinfmtMiscError>) -> Report {
        var report = Report(path: inspection.path)
        let type = inspection.e_type == 2 ? "ET_EXEC" : inspection.e_type == 3 ? "ET_DYN" : "e_type \(inspection.e_type)"
        report.elf = "\(inspection.kind), \(type)"
        report.forThisHost = inspection.isForHost
        let state = inspection.state
        switch state.status {
        case .sealed: report.status = "sealed"
        case .unsealed: report.status = "not sealed"
        case .damaged(let why):
            report.status = "damaged"
            report.damage = "\(why): reseal from the unstripped file"
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
        switch entries {
        case .success(let entries):
            report.matchingEntries = entries.filter { $0.enabled && $0.matches(header: inspection.head) }.map(\.name)
        case .failure(let error):
            report.binfmtMisc = error.description
        }
        return report
    }

    private func render(_ report: Report) {
        if let error = report.error {
            Output.errorLine("binfmt-reg: \(report.path): \(error)")
            return
        }
        print("\(report.path): \(report.status ?? "?")")
        if let elf = report.elf { print("  ELF: \(elf)\(report.forThisHost == false ? " (not this host's)" : "")") }
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
        if let matching = report.matchingEntries {
            print("  binfmt_misc: " + (matching.isEmpty ? "no enabled entry matches" : "matched by " + matching.joined(separator: ", ")))
        } else if let why = report.binfmtMisc {
            print("  binfmt_misc: \(why)")
        }
    }
}
