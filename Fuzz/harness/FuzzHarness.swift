// What the Swift fuzz targets run on each input, shared with FuzzRegressionTests so a crash
// found by fuzzing is replayed by the same code. Contract: malformed input is rejected with a
// typed error; a trap or a memory error is a bug.
import BinfmtMisc
import ELFEngine
import Glibc
import SystemPackage

public enum FuzzHarness {
    /// Every ELF engine parser on one file: headers, program headers, the dynamic section, the
    /// sealed state and seal record, and the seal, update and DT_RPATH plans built from them.
    public static func elf(_ bytes: UnsafeBufferPointer<UInt8>, scratch: FileDescriptor) {
        guard ftruncate(scratch.rawValue, 0) == 0,
              pwrite(scratch.rawValue, bytes.baseAddress, bytes.count, 0) == bytes.count
        else { return }
        guard let file = try? ELFFile(borrowing: scratch, path: "fuzz-input"),
              let image = try? ELFImage.parse(file) else { return }
        _ = try? DynamicInfo.read(file, image)
        if let state = try? SealedState.read(file, image) {
            _ = try? state.record(file, image)
            _ = state.originalInterpreter(file, image)
            // What seal would rewrite in a sealed file of another dispatch or revision.
            _ = try? SealUpdate.make(image, state: state, type: .interp, interpreter: SealFormat.runbottlePath)
        }
        _ = try? SealPlan.make(image, note: BottleNote(type: .ordinary, loader: "../lib/ld.so"))
        // bottle's dynamic array, string table and section reader, through its DT_RPATH plan.
        _ = try? RunPathEditor.plan(file, image, runPath: "$ORIGIN/../lib", methods: RunPathMethod.beforeSeal)
    }

    /// The registration line parser and the entry status parser. A line that parses must
    /// render to a line that parses back to the same value.
    public static func registration(_ bytes: UnsafeBufferPointer<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let registration = try? Registration(parsing: text) {
            guard let again = try? Registration(parsing: registration.line), again == registration
            else { fatalError("the round trip changed \(registration)") }
        }
        if let status = try? EntryStatus(name: "fuzz", parsing: text) {
            _ = status.matches(header: Array(bytes.prefix(256)))
        }
    }

    /// An unlinked file in /dev/shm for `elf` to write each input into.
    public static func scratchFile() -> FileDescriptor {
        var template = Array("/dev/shm/binfmt-bottle-fuzz-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        precondition(fd >= 0, "mkstemp in /dev/shm failed")
        unlink(template)
        return FileDescriptor(rawValue: fd)
    }
}
