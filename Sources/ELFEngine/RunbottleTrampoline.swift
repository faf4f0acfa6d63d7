// The trampoline runbottle leaves through (os/<arch>/start.S), as each port's runbottle built
// with this package has it: seal copies it into each PT_INTERP slot's tail (bottle(5)), from
// where runbottle maps it instead of writing a memfd copy on every exec.
import RunbottleCore
import RunbottleImage

public enum RunbottleTrampoline {
    /// The trampoline's bytes for each machine (e_machine) a runbottle port was built for: the
    /// runbottle carried here and the other ports, cross-built beside it.
    public static let byMachine: [UInt16: [UInt8]] = {
        var table: [UInt16: [UInt8]] = [:]
        for image in [RunbottleImage.bytes] + RunbottleImage.otherPorts {
            if let found = read(image) { table[found.machine] = found.bytes }
        }
        return table
    }()

    /// The machine a runbottle image is built for and its trampoline's bytes, found through the
    /// image's "runbottle" note of type RUNBOTTLE_NT_TRAMPOLINE (the trampoline's offset from the
    /// entry point and its length); nil when any of it is missing or out of bounds.
    public static func read(_ image: [UInt8]) -> (machine: UInt16, bytes: [UInt8])? {
        guard image.count >= 6, Array(image[0..<4]) == ELF.ELFMAG,
              let elfClass = ELFClass(rawValue: image[ELF.EI_CLASS]),
              let byteOrder = ByteOrder(rawValue: image[ELF.EI_DATA]), image.count >= elfClass.headerSize
        else { return nil }
        let format = ELFFormat(elfClass, byteOrder)
        let header = format.decodeHeader(image)
        let entrySize = elfClass.programHeaderSize
        guard Int(header.e_phentsize) == entrySize, header.e_phoff <= UInt64(image.count),
              Int(header.e_phnum) * entrySize <= image.count - Int(header.e_phoff)
        else { return nil }
        let headers = (0..<Int(header.e_phnum)).map {
            format.decodeProgramHeader(image, at: Int(header.e_phoff) + $0 * entrySize)
        }
        guard let note = headers.lazy.filter({ $0.p_type == ELF.PT_NOTE })
                  .compactMap({ trampolineNote(image, format, $0) }).first,
              case let start = header.e_entry &+ note.offset,
              let load = headers.first(where: {
                  $0.p_type == ELF.PT_LOAD && start >= $0.p_vaddr && start - $0.p_vaddr <= $0.p_filesz
              }),
              note.length > 0, note.length <= load.p_filesz - (start - load.p_vaddr),
              let from = checkedAdd(load.p_offset, start - load.p_vaddr),
              let end = checkedAdd(from, note.length), end <= UInt64(image.count)
        else { return nil }
        return (header.e_machine, Array(image[Int(from)..<Int(end)]))
    }

    /// The descriptor of the trampoline note in the PT_NOTE segment `segment`: the offset from
    /// the entry point (signed, two's complement) and the length.
    private static func trampolineNote(
        _ image: [UInt8], _ format: ELFFormat, _ segment: ProgramHeader
    ) -> (offset: UInt64, length: UInt64)? {
        guard segment.p_offset <= UInt64(image.count), segment.p_filesz <= UInt64(image.count) - segment.p_offset
        else { return nil }
        let d = FieldDecoder(bytes: image, order: format.byteOrder)
        let name = Array(RUNBOTTLE_NOTE_NAME.utf8) + [0]
        var at = Int(segment.p_offset)
        let end = at + Int(segment.p_filesz)
        while at + 12 <= end {
            let namesz = Int(d.u32(at)), descsz = Int(d.u32(at + 4)), type = d.u32(at + 8)
            let descAt = at + 12 + (namesz + 3) & ~3
            let next = descAt + (descsz + 3) & ~3
            guard namesz < 256, descsz < 256, next <= end else { return nil }
            if type == RUNBOTTLE_NT_TRAMPOLINE, descsz == 16, Array(image[(at + 12)..<(at + 12 + namesz)]) == name {
                return (d.u64(descAt), d.u64(descAt + 8))
            }
            at = next
        }
        return nil
    }
}
