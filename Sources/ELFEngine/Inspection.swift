// What inspect reports about one file: its kind, its seal, and the loader the note resolves to.

public struct Inspection: Sendable {
    public var path: String
    public var realPath: String
    public var kind: MachineKind
    public var e_type: UInt16
    /// True when this host runs files of this class, byte order and machine.
    public var isForHost: Bool
    public var state: SealedState
    /// The absolute path the note's loader resolves to, and whether a file is there.
    public var loaderPath: String?
    public var loaderExists: Bool
    /// The file's first bytes (up to 256, binfmt_misc's BINPRM_BUF_SIZE): what an entry's
    /// magic and mask are matched against.
    public var head: [UInt8]
    /// What the PT_INTERP slot of a sealed file names, and the original interpreter it replaced.
    public var slotTarget: SlotTarget?
    public var originalInterpreter: String?
    /// Whether the slot's tail holds the trampoline of the runbottle carried here (bottle(5));
    /// nil when the file is not sealed.
    public var slotHasTrampoline: Bool?

    /// How the kernel reaches runbottle for this file, from its note type.
    public var dispatch: SealFormat.Dispatch? { state.note?.type.dispatch }

    /// What a PT_INTERP slot names.
    public enum SlotTarget: String, Sendable {
        /// runbottle's installed path (BOTTLE_RUNBOTTLE_PATH), as seal writes it.
        case runbottle
        /// The bundled loader's absolute path, as relocate writes it.
        case loader
        /// The original interpreter: a file sealed by format 1's first revision.
        case original
        /// Anything else: another --interpreter, or a loader path relocate wrote before a move.
        case other
    }

    public static let headSize = 256

    /// Reads `path` (following symlinks). Throws for what is not an ELF file or cannot be read.
    public static func inspect(_ path: String) throws(ELFError) -> Inspection {
        let real = try Sealer.realPath(path)
        let file = try ELFFile(path: real, displayPath: path)
        var image: ELFImage, state: SealedState
        do {
            image = try Sealer.parse(file)
            state = try SealedState.read(file, image)
        } catch {
            // A wrecked seal is something to report, not a reason to stop.
            guard case .damagedSeal(let why) = error.reason else { throw error }
            image = try ELFImage.parse(file, lenient: true)
            state = SealedState(status: .damaged(why))
        }
        let kind = MachineKind(image.format.elfClass, image.format.byteOrder, image.header.e_machine)
        var loaderPath: String?
        if let note = state.note { loaderPath = LoaderDiscovery.resolve(note.loader, forBinaryAt: real) }
        let head = try file.read(at: 0, count: Int(min(file.size, UInt64(headSize))), .fileHead)
        var slotTarget: SlotTarget?, original: String?, trampoline: Bool?
        if state.status == .sealed, let note = state.note, let slot = state.slotContents {
            trampoline = image.interpBytes.map { SealFormat.slotCarriesTrampoline($0, machine: image.header.e_machine) }
            original = state.originalInterpreter(file, image)
            let relocated = try? Relocation.loaderPath(binary: path, realPath: real, relative: note.loader)
            if slot == SealFormat.runbottlePath {
                slotTarget = .runbottle
            } else if slot == relocated || slot == loaderPath {
                slotTarget = .loader
            } else if slot == original {
                slotTarget = .original
            } else {
                slotTarget = .other
            }
        }
        return Inspection(
            path: path, realPath: real, kind: kind, e_type: image.header.e_type,
            isForHost: HostMachine.nativeKinds.contains(kind), state: state, loaderPath: loaderPath,
            loaderExists: loaderPath.map(LoaderDiscovery.isRegularFile) ?? false, head: head,
            slotTarget: slotTarget, originalInterpreter: original, slotHasTrampoline: trampoline)
    }
}
