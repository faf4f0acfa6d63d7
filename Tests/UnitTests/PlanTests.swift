// The seal transformation as a pure function: planned on images built in memory, no I/O.
@testable import ELFEngine
import RunbottleCore
import RunbottleImage
import Testing

/// An ELFCLASS64 executable image: header, `phnum` program headers (PT_PHDR, PT_INTERP, then
/// PT_LOADs), the interpreter string, at the usual places.
func syntheticImage(base: UInt64, phnum: Int = 6, fileSize: UInt64 = 0x5000, bss: UInt64 = 0) -> ELFImage {
    let format = ELFFormat(.elf64, .little)
    let tableSize = UInt64(phnum * 56)
    var headers = [
        ProgramHeader(p_type: ELF.PT_PHDR, p_flags: ELF.PF_R, p_offset: 64, p_vaddr: base + 64, p_paddr: base + 64,
                      p_filesz: tableSize, p_memsz: tableSize, p_align: 8),
        ProgramHeader(p_type: ELF.PT_INTERP, p_flags: ELF.PF_R, p_offset: 64 + tableSize, p_vaddr: base + 64 + tableSize,
                      p_paddr: base + 64 + tableSize, p_filesz: 28, p_memsz: 28, p_align: 1),
    ]
    var offset: UInt64 = 0
    while headers.count < phnum {
        let last = headers.count == phnum - 1
        headers.append(ProgramHeader(
            p_type: ELF.PT_LOAD, p_flags: ELF.PF_R, p_offset: offset, p_vaddr: base + offset, p_paddr: base + offset,
            p_filesz: 0x1000, p_memsz: 0x1000 + (last ? bss : 0), p_align: 0x1000))
        offset += 0x1000
    }
    let header = ELFHeader(
        e_ident: ELF.ELFMAG + [2, 1, 1] + [UInt8](repeating: 0, count: 9), e_type: base == 0 ? ELF.ET_DYN : ELF.ET_EXEC,
        e_machine: ELF.EM_X86_64, e_version: 1, e_entry: base + 0x1000, e_phoff: 64, e_shoff: 0, e_flags: 0,
        e_ehsize: 64, e_phentsize: 56, e_phnum: UInt16(phnum), e_shentsize: 64, e_shnum: 0, e_shstrndx: 0)
    return ELFImage(
        path: "synthetic", format: format, header: header, headerBytes: format.encodeHeader(header),
        programHeaders: headers, tableBytes: format.encodeProgramHeaders(headers), fileSize: fileSize,
        interpBytes: Array("/lib64/ld-linux-x86-64.so.2".utf8) + [0])
}

@Test(arguments: [UInt64(0), 0x400000])
func planKeepsTheFirstLoadsDeltaAndLeavesAGap(base: UInt64) throws {
    let image = syntheticImage(base: base, bss: 0x10_0000)
    let plan = try SealPlan.make(image, note: BottleNote(type: .ordinary, loader: "../lib/ld.so"))
    let segment = plan.segment
    #expect(segment.p_vaddr - segment.p_offset == base)
    #expect(segment.p_offset % 0x1000 == 0)
    #expect(segment.p_offset >= image.fileSize)
    // Highest existing end: base + 0x3000 + 1 MiB of bss; one page of gap above it.
    #expect(segment.p_vaddr >= base + 0x3000 + 0x10_0000 + 0x1000)
    #expect(plan.newFileSize == segment.p_offset + segment.p_filesz)
    let types = plan.newProgramHeaders.map(\.p_type)
    #expect(types == [ELF.PT_PHDR, ELF.PT_INTERP, ELF.PT_LOAD, ELF.PT_LOAD, ELF.PT_LOAD, ELF.PT_LOAD, ELF.PT_LOAD, ELF.PT_NOTE])
    #expect(plan.newProgramHeaders[1].p_filesz == 4096)
    #expect(plan.newProgramHeaders.last?.p_offset == 64)
    #expect(plan.newProgramHeaders.last?.p_vaddr == base + 64)
    #expect(plan.newHeader.e_phoff == segment.p_offset)
    #expect(plan.newHeader.e_phnum == 8)
    // Edits: the header, the note over the old table (zero-padded), the appended segment.
    #expect(plan.edits.map(\.offset) == [0, 64, segment.p_offset])
    #expect(plan.edits[1].bytes.count == 6 * 56)
    #expect(Array(plan.edits[1].bytes.prefix(4)) == [7, 0, 0, 0])
}

@Test func planRefusesANoteThatDoesNotFit() {
    let image = syntheticImage(base: 0, phnum: 3)
    // 3 entries free 168 bytes; a 200-byte loader path makes a 232-byte note (20 + 8 + 204).
    let loader = String(repeating: "x", count: 200)
    #expect(throws: ELFError("synthetic", .noteDoesNotFit(need: 232, have: 168))) {
        try SealPlan.make(image, note: BottleNote(type: .ordinary, loader: loader))
    }
}

@Test func planRefusesATableNotAfterTheHeader() {
    var image = syntheticImage(base: 0)
    image.header.e_phoff = 128
    #expect {
        try SealPlan.make(image, note: BottleNote(type: .ordinary, loader: "ld.so"))
    } throws: { error in
        (error as? ELFError)?.reason == .unsupportedLayout(.tableNotAfterHeader(phoff: 128, ehsize: 64))
    }
}

@Test func sealRecordRoundTripsAndDetectsDamage() throws {
    let format = ELFFormat(.elf32, .big)
    let record = SealRecord(originalSize: 12345, originalPhoff: 52, addedPHDR: true,
                            originalHeader: [UInt8](repeating: 1, count: 52), originalTable: [UInt8](repeating: 2, count: 64))
    var bytes = record.encoded(format)
    #expect(try SealRecord.decode(bytes, format).get() == record)
    bytes[50] ^= 1
    #expect((try? SealRecord.decode(bytes, format).get()) == nil)
}

@Test func noteEncodingIsWhatTheCParserReads() {
    for order in [ByteOrder.little, .big] {
        let note = BottleNote(type: .privileged, loader: "../lib/ld-musl-x86_64.so.1")
        let bytes = note.encoded(order)
        #expect(bytes.count == BottleNote.size(loaderLength: note.loader.utf8.count))
        #expect(BottleNote.decode(bytes, order) == .note(note, size: bytes.count))
    }
}

@Test func planRefusesASegmentBeyondWhatAFileOffsetHolds() {
    // Found by the mutation test: a PT_LOAD whose p_memsz reaches 2^63 put the new segment at a
    // file offset off_t cannot hold, and the write trapped.
    let image = syntheticImage(base: 0, bss: 0x7fff_ffff_ffff_f000)
    #expect {
        try SealPlan.make(image, note: BottleNote(type: .ordinary, loader: "ld.so"))
    } throws: { error in
        (error as? ELFError)?.reason == .unsupportedLayout(.noRoomForSegment(.elf64))
    }
}

@Test func noteTypesAndRunbottlesPathAreTheCHeaders() {
    #expect(SealFormat.NoteType.ordinary.rawValue == BOTTLE_NT_SEAL)
    #expect(SealFormat.NoteType.privileged.rawValue == BOTTLE_NT_SEAL_PRIVILEGED)
    #expect(SealFormat.NoteType.interp.rawValue == BOTTLE_NT_SEAL_INTERP)
    #expect(SealFormat.runbottlePath == "/usr/libexec/runbottle")
    #expect(SealFormat.NoteType.interp.dispatch == .interp)
    #expect(SealFormat.NoteType.ordinary.dispatch == .binfmt && SealFormat.NoteType.privileged.dispatch == .binfmt)
    // The C parser runbottle uses takes a type 3 note.
    let note = BottleNote(type: .interp, loader: "../lib/ld.so")
    #expect(BottleNote.decode(note.encoded(.little), .little) == .note(note, size: note.encoded(.little).count))
}

@Test func planWritesTheInterpreterIntoTheSlot() throws {
    let image = syntheticImage(base: 0)
    let note = BottleNote(type: .interp, loader: "../lib/ld.so")
    for (plan, named) in [(try SealPlan.make(image, note: note), SealFormat.runbottlePath),
                          (try SealPlan.make(image, note: note, interpreter: "/opt/rb/runbottle"), "/opt/rb/runbottle")] {
        #expect(plan.interpreter == named)
        let segment = try #require(plan.edits.last)
        let start = Int(plan.slotOffset - segment.offset)
        let slot = Array(segment.bytes[start..<(start + SealFormat.interpSlotSize)])
        #expect(slot == SealFormat.slotBytes(naming: named, machine: image.header.e_machine))
        #expect(Array(slot.prefix(named.utf8.count + 1)) == Array(named.utf8) + [0])
        // Not the original string: that stays in the body.
        #expect(!slot.starts(with: Array("/lib64".utf8)))
    }
    for bad in ["relative/runbottle", "", "/" + String(repeating: "x", count: 4095)] {
        #expect {
            try SealPlan.make(image, note: note, interpreter: bad)
        } throws: { error in
            guard let error = error as? ELFError, case .badInterpreter = error.reason else { return false }
            return error.path == "synthetic"
        }
    }
    #expect(SealFormat.interpreterProblem("/" + String(repeating: "x", count: 4094)) == nil)
}

/// bottle(5): the slot's tail carries the trampoline of runbottle's port to the binary's machine,
/// read through each port's own note, when the slot's path ends before it.
@Test func theSlotsTailCarriesRunbottlesTrampoline() throws {
    // Every port's, whichever this host is: what seals here is what seals there.
    #expect(Set(RunbottleTrampoline.byMachine.keys) == Set(HostMachine.ports.map(\.kind.machine)))
    let host = try #require(HostMachine.nativeKinds.first?.machine)
    for (machine, trampoline) in RunbottleTrampoline.byMachine {
        #expect(!trampoline.isEmpty && trampoline.count <= SealFormat.slotTrampolineMax)
        if machine == host {
            // The note points into the runbottle carried here: its bytes occur there, once.
            #expect(RunbottleImage.bytes.ranges(of: trampoline).count == 1)
        }
        let tail = SealFormat.slotTrampolineOffset
        let path = Array(SealFormat.runbottlePath.utf8)
        let slot = SealFormat.slotBytes(naming: SealFormat.runbottlePath, machine: machine)
        #expect(slot.count == SealFormat.interpSlotSize && slot.last == 0)
        #expect(Array(slot[0..<path.count]) == path)
        #expect(Array(slot[tail..<(tail + trampoline.count)]) == trampoline)
        #expect(SealFormat.slotCarriesTrampoline(slot, machine: machine))
        #expect(slot[path.count..<tail].allSatisfy { $0 == 0 } && slot[(tail + trampoline.count)...].allSatisfy { $0 == 0 })
        // A path reaching the tail keeps its bytes: no trampoline.
        let long = "/" + String(repeating: "x", count: tail)
        let longSlot = SealFormat.slotBytes(naming: long, machine: machine)
        #expect(longSlot == Array(long.utf8) + [UInt8](repeating: 0, count: SealFormat.interpSlotSize - long.utf8.count))
        #expect(!SealFormat.slotCarriesTrampoline(longSlot, machine: machine))
    }
    #expect(SealFormat.slotTrampolineOffset == 3072 && SealFormat.slotTrampolineMax == 1023)
    // A machine runbottle has no port to: the path and NULs.
    let path = Array(SealFormat.runbottlePath.utf8)
    #expect(SealFormat.slotBytes(naming: SealFormat.runbottlePath, machine: ELF.EM_386)
            == path + [UInt8](repeating: 0, count: SealFormat.interpSlotSize - path.count))
}
