// The trampoline runbottle leaves through (os/<arch>/start.S), as each port's runbottle built
// with this package has it: seal copies it into each PT_INTERP slot's tail (bottle(5)), from
// where runbottle maps it instead of writing a memfd copy on every exec.
import FoundationEssentials
import RunbottleCore

public enum RunbottleTrampoline {
    /// The trampoline's bytes for each machine (e_machine) a runbottle port was built for: the
    /// runbottle carried here and the other ports, cross-built beside it. Each is found through
    /// its image's "runbottle" note of type RUNBOTTLE_NT_TRAMPOLINE.
    public static let byMachine: [UInt16: [UInt8]] = {
        let others = runbottleOtherPortsBase64.compactMap { Data(base64Encoded: $0).map { [UInt8]($0) } }
        var table: [UInt16: [UInt8]] = [:]
        for image in [RunbottleImage.bytes] + others {
            if let found = read(image) { table[found.machine] = found.bytes }
        }
        return table
    }()

    /// Reads the note from a little-endian ELFCLASS64 runbottle image, checking every offset.
    public static func read(_ image: [UInt8]) -> (machine: UInt16, bytes: [UInt8])? {
        func u16(_ at: Int) -> UInt16? {
            at >= 0 && at <= image.count - 2 ? UInt16(image[at]) | UInt16(image[at + 1]) << 8 : nil
        }
        func u32(_ at: Int) -> UInt32? {
            guard let lo = u16(at), let hi = u16(at + 2) else { return nil }
            return UInt32(lo) | UInt32(hi) << 16
        }
        func u64(_ at: Int) -> UInt64? {
            guard let lo = u32(at), let hi = u32(at + 4) else { return nil }
            return UInt64(lo) | UInt64(hi) << 32
        }
        // ELFMAG, ELFCLASS64, ELFDATA2LSB.
        guard image.count >= 64, image[0..<6] == [0x7f, 0x45, 0x4c, 0x46, 2, 1],
              let machine = u16(18), let entry = u64(24), let phoff = u64(32),
              let phentsize = u16(54), let phnum = u16(56), phentsize == 56, phoff < UInt64(image.count)
        else { return nil }
        let name = Array(RUNBOTTLE_NOTE_NAME.utf8) + [0]
        var loads: [(vaddr: UInt64, offset: UInt64, size: UInt64)] = []
        var found: (offset: Int64, length: UInt64)?
        for i in 0..<Int(phnum) {
            let ph = Int(phoff) + i * 56
            guard let type = u32(ph), let offset = u64(ph + 8), let vaddr = u64(ph + 16),
                  let filesz = u64(ph + 32), offset <= UInt64(image.count), filesz <= UInt64(image.count) - offset
            else { return nil }
            if type == 1 { loads.append((vaddr, offset, filesz)) }  // PT_LOAD
            guard type == 4 else { continue }  // PT_NOTE
            var at = Int(offset)
            let end = Int(offset + filesz)
            while at + 12 <= end, let namesz = u32(at), let descsz = u32(at + 4), let ntype = u32(at + 8) {
                let descAt = at + 12 + (Int(namesz) + 3) & ~3
                let next = descAt + (Int(descsz) + 3) & ~3
                guard namesz < 256, descsz < 256, next <= end else { return nil }
                if ntype == RUNBOTTLE_NT_TRAMPOLINE, descsz == 16, Array(image[(at + 12)..<(at + 12 + Int(namesz))]) == name,
                   let offset = u64(descAt), let length = u64(descAt + 8) {
                    found = (Int64(bitPattern: offset), length)
                }
                at = next
            }
        }
        // The trampoline's address, then where the PT_LOAD holding it keeps it in the file.
        guard let found, found.length > 0 else { return nil }
        let start = found.offset >= 0 ? entry.addingReportingOverflow(UInt64(found.offset))
                                      : entry.subtractingReportingOverflow(found.offset.magnitude)
        guard !start.overflow,
              let load = loads.first(where: { start.partialValue >= $0.vaddr && start.partialValue - $0.vaddr <= $0.size }),
              found.length <= load.size - (start.partialValue - load.vaddr)
        else { return nil }
        let fileOffset = Int(load.offset + (start.partialValue - load.vaddr))
        return (machine, Array(image[fileOffset..<(fileOffset + Int(found.length))]))
    }
}
