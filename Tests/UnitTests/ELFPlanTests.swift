// The C core's ELF validation and load plan, called in-process on synthetic images corrupted
// one field at a time.
import RunbottleCore
import Testing
import TestSupport

/// A little-endian ELF64 image built field by field.
struct SyntheticELF {
    struct Phdr {
        var type: UInt32, flags: UInt32, offset: UInt64, vaddr: UInt64
        var filesz: UInt64, memsz: UInt64, align: UInt64
    }

    var type: UInt16 = 3          // ET_DYN
    var machine: UInt16 = 62      // EM_X86_64
    var entry: UInt64 = 0x1040
    var phoff: UInt64 = 64
    var phentsize: UInt16 = 56
    var ehsize: UInt16 = 64
    var phnumOverride: UInt16?
    var ident: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]
    var fileSize: UInt64 = 0x3000
    var phdrs: [Phdr] = [
        Phdr(type: 6, flags: 4, offset: 64, vaddr: 64, filesz: 3 * 56, memsz: 3 * 56, align: 8),
        Phdr(type: 1, flags: 5, offset: 0, vaddr: 0, filesz: 0x1100, memsz: 0x1100, align: 0x1000),
        Phdr(type: 1, flags: 6, offset: 0x2000, vaddr: 0x3000, filesz: 0x100, memsz: 0x900, align: 0x1000),
    ]

    var header: [UInt8] {
        var b = ELFBytes([UInt8](repeating: 0, count: 64))
        for (i, v) in ident.enumerated() { b.bytes[i] = v }
        b.put(type, at: 16); b.put(machine, at: 18); b.put(UInt32(1), at: 20); b.put(entry, at: 24)
        b.put(phoff, at: 32); b.put(ehsize, at: 52); b.put(phentsize, at: 54)
        b.put(phnumOverride ?? UInt16(phdrs.count), at: 56)
        return b.bytes
    }

    var programHeaders: [UInt8] {
        var b = [UInt8]()
        for p in phdrs {
            var e = ELFBytes([UInt8](repeating: 0, count: 56))
            e.put(p.type, at: 0); e.put(p.flags, at: 4); e.put(p.offset, at: 8); e.put(p.vaddr, at: 16)
            e.put(p.vaddr, at: 24); e.put(p.filesz, at: 32); e.put(p.memsz, at: 40); e.put(p.align, at: 48)
            b += e.bytes
        }
        return b
    }

    /// rb_elf_check_header, then rb_elf_plan on the program headers.
    func plan() -> (Int32, rb_image) {
        var image = rb_image()
        var off: UInt64 = 0
        var size: UInt32 = 0
        let h = header, ph = programHeaders
        let rc = rb_elf_check_header(h, h.count, fileSize, 62, &off, &size)
        guard rc == RB_OK.rawValue else { return (rc, image) }
        let planned = rb_elf_plan(h, ph, UInt32(min(Int(size), ph.count)), fileSize, &image)
        return (planned, image)
    }
}

@Test func plansAWellFormedPIE() throws {
    let (rc, img) = SyntheticELF().plan()
    try #require(rc == RB_OK.rawValue)
    #expect(img.type == 3)
    #expect(img.nload == 2)
    #expect(img.phdr_vaddr == 64)
    #expect(img.min_vaddr == 0)
    #expect(img.max_vaddr == 0x4000)
    #expect(img.align == 0x1000)
    // The kernel's mm fields: code from the PF_X segment, data from the last one.
    #expect(img.start_code == 0 && img.end_code == 0x1100)
    #expect(img.start_data == 0x3000 && img.end_data == 0x3100)
    #expect(img.brk == 0x3900)
    #expect(img.load.1.prot == 3)   // PROT_READ | PROT_WRITE
}

@Test func findsTheProgramHeadersThroughAPTLoadWithoutPTPHDR() throws {
    var elf = SyntheticELF()
    elf.phdrs.removeFirst()
    let (rc, img) = elf.plan()
    try #require(rc == RB_OK.rawValue)
    #expect(img.phdr_vaddr == 64)
}

@Test func rejectsEachCorruptHeaderField() {
    func code(_ change: (inout SyntheticELF) -> Void) -> Int32 {
        var elf = SyntheticELF()
        change(&elf)
        return elf.plan().0
    }
    #expect(code { $0.ident[1] = 0x46 } == RB_ENOTELF.rawValue)
    #expect(code { $0.ident[4] = 1 } == RB_ENOTELF.rawValue)          // ELFCLASS32
    #expect(code { $0.ident[5] = 2 } == RB_ENOTELF.rawValue)          // big endian
    #expect(code { $0.machine = 183 } == RB_EARCH.rawValue)           // EM_AARCH64
    #expect(code { $0.type = 1 } == RB_ETYPE.rawValue)                // ET_REL
    #expect(code { $0.type = 4 } == RB_ETYPE.rawValue)                // ET_CORE
    #expect(code { $0.phentsize = 32 } == RB_ECORRUPT.rawValue)
    #expect(code { $0.ehsize = 52 } == RB_ECORRUPT.rawValue)
    #expect(code { $0.phnumOverride = 0 } == RB_ECORRUPT.rawValue)
    #expect(code { $0.phnumOverride = 74 } == RB_ECORRUPT.rawValue)   // > 4096 bytes
    #expect(code { $0.phoff = 0x2f00 } == RB_ECORRUPT.rawValue)       // past the file end
    #expect(code { $0.phoff = UInt64.max - 8 } == RB_ECORRUPT.rawValue)  // overflow
    #expect(code { $0.fileSize = 40 } == RB_ENOTELF.rawValue)
}

@Test func rejectsEachCorruptSegment() {
    func code(_ change: (inout SyntheticELF) -> Void) -> Int32 {
        var elf = SyntheticELF()
        change(&elf)
        return elf.plan().0
    }
    #expect(code { $0.phdrs[2].offset = 0x2f80 } == RB_ECORRUPT.rawValue)     // file bytes past EOF
    #expect(code { $0.phdrs[2].memsz = 0x10 } == RB_ECORRUPT.rawValue)        // memsz < filesz
    #expect(code { $0.phdrs[2].vaddr = 0x3010 } == RB_ECORRUPT.rawValue)      // offset/vaddr not congruent
    #expect(code { $0.phdrs[2].vaddr = 0x1000 } == RB_ECORRUPT.rawValue)      // overlaps the first
    #expect(code { $0.phdrs.swapAt(1, 2) } == RB_ECORRUPT.rawValue)           // not sorted
    #expect(code { $0.phdrs[2].vaddr = UInt64.max - 0xfff; $0.phdrs[2].offset = 0x2000 }
            == RB_ECORRUPT.rawValue)                                           // address overflow
    #expect(code { $0.phdrs[2].vaddr = 0x0000_8000_0000_0000 } == RB_ECORRUPT.rawValue)  // kernel half
    #expect(code { $0.entry = 0x9000 } == RB_ECORRUPT.rawValue)               // entry outside
    #expect(code { $0.phdrs.removeAll { $0.type == 1 } } == RB_ECORRUPT.rawValue)  // no PT_LOAD
    #expect(code { $0.phdrs[0].vaddr = 0x2000 } == RB_ECORRUPT.rawValue)      // PT_PHDR disagrees
    #expect(code { $0.phoff = 0x2f00; $0.fileSize = 0x3100; $0.phdrs.removeFirst() }
            == RB_ECORRUPT.rawValue)                                           // table not loaded
}

@Test func recordsGNUStackAndInterpAndAlignment() throws {
    var elf = SyntheticELF()
    elf.phdrs.append(.init(type: 0x6474e551, flags: 7, offset: 0, vaddr: 0, filesz: 0, memsz: 0, align: 16))
    elf.phdrs.insert(.init(type: 3, flags: 4, offset: 0x200, vaddr: 0x200, filesz: 28, memsz: 28, align: 1), at: 1)
    elf.phdrs[1 + 1].align = 0x200000
    for i in elf.phdrs.indices where elf.phdrs[i].type == 6 {
        elf.phdrs[i].filesz = UInt64(elf.phdrs.count * 56); elf.phdrs[i].memsz = elf.phdrs[i].filesz
    }
    let (rc, img) = elf.plan()
    try #require(rc == RB_OK.rawValue)
    #expect(img.exec_stack == 1)
    #expect(img.has_interp == 1)
    #expect(img.align == 0x200000)
}

@Test func biasesAPIEWhereTheKernelWould() throws {
    var (_, img) = SyntheticELF().plan()
    // Without randomization: ELF_ET_DYN_BASE page-aligned, as the kernel's 0x555555554000.
    #expect(rb_dyn_bias(&img, 0x5555_5555_4aaa, 0) == 0x5555_5555_4000)
    #expect(rb_dyn_bias(&img, 0x5555_5555_4aaa, 0x7000) == 0x5555_5555_b000)
    img.align = 0x200000
    #expect(rb_dyn_bias(&img, 0x5555_5555_4aaa, 0) == 0x5555_5540_0000)
}
