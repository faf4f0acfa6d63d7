// The ELF engine's errors in words: the engine names the file and the reason as values; these
// are the sentences binfmt-reg prints for them, on stderr and as the JSON problems' messages.
import ELFEngine

extension ELFError {
    /// `<path>: <reason>`.
    var message: String { "\(path): \(reason.message)" }

    var problem: Problem { Problem(reason.code, message, path: path) }
}

extension ELFError.Reason {
    var message: String {
        switch self {
        case .system(let operation, let errno): return "\(operation.words): \(errno)"
        case .notRegularFile: return "not a regular file"
        case .notELF: return "not an ELF file"
        case .truncated(let what): return "truncated: \(what.words)"
        case .corrupt(let what): return "corrupt ELF: \(what.words)"
        case .foreign(let kind, let host):
            return "not for this machine: \(kind.words), this host runs \(host?.words ?? "unknown")"
        case .noPort(let kind, let supported):
            return "\(kind.words): no runbottle runs this kind of program (runbottle is built for "
                + "64-bit \(supported.joined(separator: " and ")) programs only)"
        case .staticExecutable(let kind): return "statically linked (\(kind.words))"
        case .sharedLibrary(let hasInterpreter):
            return hasInterpreter ? "a shared library with a PT_INTERP (seal it with --shared-libraries)" : "a shared library"
        case .notExecutable(let eType):
            let kind = eType == 1 ? "ET_REL, an object file" : eType == 4 ? "ET_CORE, a core dump" : "e_type \(eType)"
            return "not an executable (\(kind))"
        case .unsupportedLayout(let what): return "cannot seal this layout: \(what.words)"
        case .noteDoesNotFit(let need, let have):
            return "cannot seal: the BOTTLE note needs \(need) bytes after the ELF header, "
                + "the old program header table leaves \(have) (use a shorter loader path)"
        case .loaderNotFound(let name, let searched):
            return "no loader \(name) found (searched \(searched.joined(separator: ", "))); "
                + "name it with --loader"
        case .badLoaderPath(let fault): return "bad loader path: \(fault.words)"
        case .unusableLoader(let loader, let resolved, let fault):
            return "bad loader path: \(loader) (\(resolved)) " + fault.words
        case .badInterpreter(let fault): return "bad interpreter path: \(fault.words)"
        case .alreadySealed: return "already sealed"
        case .notSealed: return "not sealed"
        case .damagedSeal(let what):
            return "sealed layout damaged (\(what.words)), as strip or objcopy leave it: "
                + "reseal from the unstripped file"
        case .hardLinks(let count):
            return "has \(count) hard links; replacing it would split them "
                + "(use --allow-hard-links to seal this name only)"
        case .changedMeanwhile: return "changed while being rewritten; left as it is now"
        case .verificationFailed(let what): return "internal error, file left untouched: \(what.words)"
        case .resultDoesNotParse(let reason, let runPathEdit):
            return "internal error, file left untouched: \(runPathEdit ? "run path edit: " : "")"
                + "the result does not parse: \(reason.message)"
        }
    }
}

extension ELFError.LoaderPathFault {
    var words: String {
        switch self {
        case .empty: return "empty"
        case .absolute(let loader): return "\(loader) is absolute; it must be relative to the binary's directory"
        case .containsNUL: return "contains NUL"
        case .tooLong(let maximum): return "longer than \(maximum) bytes"
        case .bundledNotRegularFile(let loader): return "bundled loader \(loader) is not a regular file"
        case .tooLongForSlot(let path, let bytes, let maximum): return "\(path) is \(bytes) bytes, more than the slot's \(maximum)"
        }
    }
}

extension ELFError.InterpreterPathFault {
    var words: String {
        switch self {
        case .empty: return "empty"
        case .relative(let path): return "\(path) is relative; the kernel needs an absolute path"
        case .containsNUL: return "contains NUL"
        case .tooLong(let bytes, let maximum): return "\(bytes) bytes; the PT_INTERP slot holds at most \(maximum)"
        }
    }
}

extension ELFError.LoaderFault {
    /// What follows "LOADER (RESOLVED)".
    var words: String {
        switch self {
        case .notAFile: return "is not a file"
        case .notELF(let reason): return "is not an ELF loader: \(reason.message)"
        case .notSharedObject: return "is not a loader: not a shared object (ET_DYN)"
        case .otherKind(let loader, let program): return "is for \(loader.words), the program is \(program.words)"
        }
    }
}

extension MachineKind {
    /// "x86-64 64-bit little-endian".
    var words: String {
        "\(ELF.machineName(machine)) \(elfClass == .elf64 ? "64" : "32")-bit \(byteOrder.name)"
    }
}

extension ELFError.Structure {
    var words: String {
        switch self {
        case .elfHeader: return "ELF header"
        case .programHeaderTable(let phoff): return "program header table at e_phoff \(phoff)"
        case .interpreter: return "PT_INTERP"
        case .dynamicSegment: return "PT_DYNAMIC"
        case .dynamicStringTable: return "dynamic string table"
        case .sectionHeaderTable: return "section header table"
        case .dynamicSymbols: return "dynamic symbols"
        case .versionSection: return "version section"
        case .symbolTable: return "symbol table"
        case .fileHead: return "file head"
        case .interpreterSlot: return "PT_INTERP slot"
        case .originalInterpreter: return "original PT_INTERP"
        case .oldTableSpace: return "old table space"
        case .bottleNote: return "BOTTLE note"
        case .sealRecord: return "seal record"
        case .contents: return "contents"
        case .readOnlySegment: return "read-only segment"
        }
    }
}

extension ELFError.Segment {
    /// "PT_LOAD #2".
    var words: String { "\(ProgramHeader.typeName(type)) #\(index)" }
}

extension ELFError.Operation {
    var words: String {
        switch self {
        case .open: return "open"
        case .openForWriting: return "open for writing"
        case .openDirectory: return "open directory"
        case .stat: return "stat"
        case .fstat: return "fstat"
        case .resolvePath: return "resolve path"
        case .read(let structure): return "read \(structure.words)"
        case .createTemporaryFile: return "create temporary file"
        case .linkTemporaryFile: return "link temporary file"
        case .copy: return "copy"
        case .write(let offset): return "write at offset \(offset)"
        case .writeInterpreterSlot: return "write PT_INTERP slot"
        case .truncate(let size): return size.map { "ftruncate to \($0)" } ?? "ftruncate"
        case .keepOwner: return "keep owner (fchown)"
        case .keepMode: return "keep mode (fchmod)"
        case .setOwner: return "set owner (fchown)"
        case .setMode: return "set mode (fchmod)"
        case .listExtendedAttributes: return "list extended attributes"
        case .readExtendedAttribute(let name): return "read extended attribute \(name)"
        case .keepExtendedAttribute(let name): return "keep extended attribute \(name)"
        case .rename: return "rename"
        case .fsync: return "fsync"
        case .syncfs: return "syncfs"
        case .statBundledLoader(let shown): return "bundled loader \(shown)"
        }
    }
}

extension ELFError.Truncation {
    var words: String {
        switch self {
        case .pastEnd(let structure, let offset, let end, let size):
            return "\(structure.words) (bytes \(offset)..<\(end.map(String.init) ?? "overflow") of \(size))"
        case .shrankWhileReading(let structure): return "\(structure.words) (file shrank while reading)"
        case .shrankWhileCopying: return "file shrank while being copied"
        case .ident(let fileSize): return "e_ident (\(fileSize) bytes)"
        case .header(let fileSize, let needed): return "ELF header (\(fileSize) of \(needed) bytes)"
        case .sectionHeaderTable(let shoff, let fileSize):
            return "section header table at e_shoff \(shoff) ends past the end of the file (\(fileSize))"
        case .segment(let segment, let end, let fileSize):
            return "\(segment.words) ends at \(end), past the end of the file (\(fileSize))"
        case .dynamicSymbolTable(let bytes): return "dynamic symbol table of \(bytes) bytes"
        case .symbolTable(let bytes): return "symbol table of \(bytes) bytes"
        }
    }
}

extension ELFError.Corruption {
    var words: String {
        switch self {
        case .readTooLarge(let structure, let bytes, let maximum): return "\(structure.words) is \(bytes) bytes, more than \(maximum)"
        case .elfClass(let value): return "EI_CLASS \(value) is neither ELFCLASS32 nor ELFCLASS64"
        case .byteOrder(let value): return "EI_DATA \(value) is neither little- nor big-endian"
        case .version(let value): return "EI_VERSION \(value), not EV_CURRENT"
        case .headerSize(let size, let expected, let elfClass): return "e_ehsize \(size), expected \(expected) for \(elfClass.name)"
        case .noProgramHeaders: return "no program headers (e_phnum 0)"
        case .programHeaderEntrySize(let size, let expected): return "e_phentsize \(size), expected \(expected)"
        case .tableTooLarge(let entries, let bytes, let limit):
            return "program header table of \(entries) entries (\(bytes) bytes) exceeds the kernel's limit of \(limit)"
        case .segmentOverflows(let segment): return "\(segment.words): offset or address plus size overflows"
        case .fileSizeExceedsMemorySize(let segment): return "\(segment.words): p_filesz > p_memsz"
        case .segmentNotCongruent(let segment): return "\(segment.words): p_vaddr and p_offset are not congruent modulo p_align"
        case .repeated(let type, let count): return "\(count) \(ProgramHeader.typeName(type)) entries"
        case .interpreterSize(let size, let maximum): return "PT_INTERP of \(size) bytes (the kernel takes 2 to \(maximum))"
        case .interpreterNotTerminated: return "PT_INTERP does not end in NUL"
        case .interpreterNamesNoFile: return "PT_INTERP names no file"
        case .noDynamicSegment: return "no PT_DYNAMIC"
        case .noLoadSegment: return "no PT_LOAD"
        case .loadsUnsorted: return "PT_LOAD entries not sorted by p_vaddr"
        case .loadEndOverflows: return "PT_LOAD end overflows"
        case .noDynamicNull: return "PT_DYNAMIC has no DT_NULL"
        case .noDynamicStringTable: return "PT_DYNAMIC has no DT_STRTAB or DT_STRSZ"
        case .stringTableUnmapped(let address): return "DT_STRTAB 0x\(String(address, radix: 16)) is in no PT_LOAD"
        case .stringTableOutsideLoad(let address, let size):
            return "DT_STRTAB 0x\(String(address, radix: 16)) (\(size) bytes) is not inside one PT_LOAD"
        case .stringOutsideTable(let index): return "dynamic string \(index) outside DT_STRTAB"
        case .stringOutsideSize(let index, let size): return "dynamic string \(index) outside DT_STRSZ \(size)"
        case .stringNotTerminated(let index): return "dynamic string \(index) is not NUL-terminated"
        case .stringNotTerminatedWithin(let index, let bytes): return "dynamic string \(index) is not NUL-terminated within \(bytes) bytes"
        case .versionSectionSize(let bytes): return "version section of \(bytes) bytes"
        case .versionRecordOutside: return "version record outside its section"
        case .versionAuxiliaryOutside: return "version auxiliary outside its section"
        case .emptyRunPath: return "empty run path"
        }
    }
}

extension ELFError.StaticKind {
    var words: String {
        switch self {
        case .noDynamicSegment: return "no PT_DYNAMIC"
        case .noInterpreter: return "no PT_INTERP"
        case .staticPIE: return "static-pie"
        }
    }
}

extension ELFError.Layout {
    var words: String {
        switch self {
        case .extendedNumbering: return "extended program header numbering (PN_XNUM)"
        case .tableNotAfterHeader(let phoff, let ehsize):
            return "the program header table is at e_phoff \(phoff), not right after the ELF header (\(ehsize))"
        case .firstLoadMissesHeaders: return "the first PT_LOAD does not map the ELF header and program header table"
        case .firstLoadUnaligned(let address, let alignment):
            return "the first PT_LOAD's address 0x\(String(address, radix: 16)) is not aligned to 0x\(String(alignment, radix: 16))"
        case .tooManyProgramHeaders(let count, let limit):
            return "\(count) program headers would exceed the kernel's \(limit)-byte table limit"
        case .noRoomForSegment(let elfClass): return "no room for a new segment in the \(elfClass.name) address space"
        case .noRoomForRunPath(let bytes, let phdrSpare):
            return "adding DT_RPATH needs \(bytes) bytes of padding below the writable PT_LOAD, or a spare program header "
                + "(a PT_NULL, or a PT_NOTE repeating PT_GNU_PROPERTY\(phdrSpare ? ", or PT_PHDR" : "")); this file has neither"
        case .noRoomForRunPathSegment: return "no room in the address space for a new segment"
        }
    }
}

extension ELFError.SealDamage {
    var words: String {
        switch self {
        case .slotSize(let size, let expected): return "PT_INTERP slot is \(size) bytes, not \(expected)"
        case .emptySlot: return "empty PT_INTERP slot"
        case .noSlot: return "no PT_INTERP slot"
        case .noteWithoutLayout: return "BOTTLE note present but the program headers are not in the sealed layout"
        case .noteGone(let offset): return "BOTTLE note at offset \(offset) is gone"
        case .noNote: return "no BOTTLE note"
        case .unknownNoteType(let type): return "unknown note type \(type)"
        case .unknownVersion: return "unknown seal format version"
        case .noteFieldsOutOfRange: return "BOTTLE note fields out of range"
        case .slotOverlapsNote: return "the PT_INTERP slot overlaps the BOTTLE note"
        case .noRecord: return "no seal record after the PT_INTERP slot"
        case .recordUnreadable: return "seal record header unreadable"
        case .recordChecksum: return "seal record checksum mismatch"
        case .recordSizes: return "seal record sizes inconsistent"
        case .recordMismatch: return "the seal record does not match the file"
        case .invalidProgramHeaders(let reason): return "program headers invalid: \(reason.detail)"
        }
    }
}

extension ELFError.Reason {
    /// A truncation's or corruption's own words, without the "truncated: " or "corrupt ELF: "
    /// that introduces them alone.
    var detail: String {
        switch self {
        case .truncated(let what): return what.words
        case .corrupt(let what): return what.words
        default: return message
        }
    }
}

extension ELFError.Verification {
    var words: String {
        switch self {
        case .size(let size, let planned): return "size \(size), planned \(planned)"
        case .sizeChanged(let size, let was): return "size \(size), was \(was)"
        case .headerByte(let index): return "ELF header byte \(index) changed"
        case .programHeaderCount: return "program header count"
        case .phdrPlacement: return "PT_PHDR is not first or does not cover the table"
        case .slotPlacement(let size, let interpreter):
            return "PT_INTERP slot is not second, not \(size) bytes, or does not name \(interpreter)"
        case .loadsOverlap: return "PT_LOAD entries unsorted or overlapping"
        case .appendedLoadPlacement: return "the appended PT_LOAD is not last, congruent with the first, or at the end of the file"
        case .noAddressGap: return "no page of address gap below the appended PT_LOAD"
        case .notePlacement: return "PT_NOTE is not last or does not cover the note at e_ehsize"
        case .oldTableSpace: return "the note or the zeroed rest of the old table differs"
        case .originalHeaderMoved: return "an original program header changed or moved"
        case .notSealed: return "the result does not read back as sealed"
        case .notSealedAs(let noteType): return "the result does not read back as sealed with note type \(noteType.rawValue)"
        case .recordUnreadable: return "the seal record does not read back"
        case .contentsDiffer: return "the copied contents differ from the original"
        case .headersChanged: return "the ELF header or program header table changed"
        case .slotName(let interpreter): return "the PT_INTERP slot does not name \(interpreter)"
        case .byteOutsideTypeAndSlot: return "a byte outside the note type and the PT_INTERP slot changed"
        case .byteOutsideSlot: return "a byte outside the PT_INTERP slot changed"
        case .restoredMismatch: return "the restored file does not match the seal record"
        case .runPaths(let rpath, let runpath): return "run path edit: DT_RPATH \(rpath), DT_RUNPATH \(runpath)"
        case .dynamicNotWritable: return "run path edit: PT_DYNAMIC is not inside a writable PT_LOAD"
        case .stringsChanged: return "run path edit: DT_NEEDED or DT_SONAME strings changed"
        case .entriesChanged: return "run path edit: other dynamic entries changed"
        }
    }
}
