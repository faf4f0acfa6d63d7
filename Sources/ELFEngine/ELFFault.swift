// The facts ELFError's reasons carry: which structure, which operation, which invariant, with
// the numbers involved. Values only; binfmt-reg words them (ELFErrorWords.swift).

extension ELFError {
    /// A part of a file the engine reads, named in truncation and read errors.
    public enum Structure: Sendable, Equatable {
        case elfHeader
        case programHeaderTable(phoff: UInt64)
        case interpreter
        case dynamicSegment
        case dynamicStringTable
        case sectionHeaderTable
        case dynamicSymbols
        case versionSection
        case symbolTable
        case fileHead
        case interpreterSlot
        case originalInterpreter
        case oldTableSpace
        case bottleNote
        case sealRecord
        /// The bytes compared or copied as a whole.
        case contents
        /// A read-only PT_LOAD searched for compiled-in paths (Bottling).
        case readOnlySegment
    }

    /// One program header: its p_type and its index in the table.
    public struct Segment: Sendable, Equatable {
        public var type: UInt32
        public var index: Int

        public init(type: UInt32, index: Int) {
            self.type = type
            self.index = index
        }
    }

    /// The system call a `.system` reason failed in.
    public enum Operation: Sendable, Equatable {
        case open
        case openForWriting
        case openDirectory
        case stat
        case fstat
        case resolvePath
        case read(Structure)
        case createTemporaryFile
        case linkTemporaryFile
        case copy
        case write(offset: UInt64)
        case writeInterpreterSlot
        /// ftruncate, to the size when it is known to be out of range.
        case truncate(to: UInt64?)
        case keepOwner
        case keepMode
        case setOwner
        case setMode
        case listExtendedAttributes
        case readExtendedAttribute(String)
        case keepExtendedAttribute(String)
        case rename
        case fsync
        case syncfs
        /// stat of the bundled loader, as shown (without `..` steps).
        case statBundledLoader(String)
    }

    /// What of a file ends before the bytes it needs.
    public enum Truncation: Sendable, Equatable {
        /// Bytes [offset, end) of a `size`-byte file; `end` nil: offset + count overflows.
        case pastEnd(Structure, offset: UInt64, end: UInt64?, size: UInt64)
        /// The file got shorter while `Structure` was being read.
        case shrankWhileReading(Structure)
        case shrankWhileCopying
        /// Fewer than EI_NIDENT bytes.
        case ident(fileSize: UInt64)
        case header(fileSize: UInt64, needed: Int)
        case sectionHeaderTable(shoff: UInt64, fileSize: UInt64)
        case segment(Segment, end: UInt64, fileSize: UInt64)
        case dynamicSymbolTable(bytes: UInt64)
        case symbolTable(bytes: UInt64)
    }

    /// Which rule of the ELF format (or of the kernel's loader) a file breaks.
    public enum Corruption: Sendable, Equatable {
        /// A read of `bytes` bytes, more than `maximum` any one read may ask for.
        case readTooLarge(Structure, bytes: Int, maximum: Int)
        case elfClass(UInt8)
        case byteOrder(UInt8)
        case version(UInt8)
        case headerSize(UInt16, expected: Int, ELFClass)
        case noProgramHeaders
        case programHeaderEntrySize(UInt16, expected: Int)
        case tableTooLarge(entries: UInt16, bytes: Int, limit: Int)
        case segmentOverflows(Segment)
        case fileSizeExceedsMemorySize(Segment)
        case segmentNotCongruent(Segment)
        /// More than one program header of a type that may appear once.
        case repeated(type: UInt32, count: Int)
        case interpreterSize(UInt64, maximum: Int)
        case interpreterNotTerminated
        case interpreterNamesNoFile
        case noDynamicSegment
        case noLoadSegment
        case loadsUnsorted
        case loadEndOverflows
        case noDynamicNull
        case noDynamicStringTable
        /// DT_STRTAB's address, mapped by no PT_LOAD.
        case stringTableUnmapped(address: UInt64)
        case stringTableOutsideLoad(address: UInt64, size: UInt64)
        case stringOutsideTable(index: UInt64)
        case stringOutsideSize(index: UInt64, size: UInt64)
        case stringNotTerminated(index: UInt64)
        case stringNotTerminatedWithin(index: UInt64, bytes: Int)
        case versionSectionSize(UInt64)
        case versionRecordOutside
        case versionAuxiliaryOutside
        case emptyRunPath
    }

    /// Why a statically linked program is one.
    public enum StaticKind: Sendable, Equatable {
        case noDynamicSegment
        case noInterpreter
        case staticPIE
    }

    /// What of a layout sealing or a run path edit cannot handle.
    public enum Layout: Sendable, Equatable {
        case extendedNumbering
        case tableNotAfterHeader(phoff: UInt64, ehsize: UInt16)
        case firstLoadMissesHeaders
        case firstLoadUnaligned(address: UInt64, alignment: UInt64)
        case tooManyProgramHeaders(Int, limit: Int)
        case noRoomForSegment(ELFClass)
        /// A run path needing `bytes`; `phdrSpare`: a PT_PHDR would have done as the spare header.
        case noRoomForRunPath(bytes: UInt64, phdrSpare: Bool)
        case noRoomForRunPathSegment
    }

    /// How a sealed layout was damaged.
    public enum SealDamage: Error, Sendable, Equatable {
        case slotSize(UInt64, expected: Int)
        case emptySlot
        case noSlot
        case noteWithoutLayout
        case noteGone(offset: UInt64)
        case noNote
        case unknownNoteType(UInt32)
        case unknownVersion
        case noteFieldsOutOfRange
        case slotOverlapsNote
        case noRecord
        case recordUnreadable
        case recordChecksum
        case recordSizes
        case recordMismatch
        /// The table breaks the format (a truncation or a corruption) in a sealed shape.
        case invalidProgramHeaders(Reason)
    }

    /// The first difference a re-read finds between a rewrite and what it should have written.
    public enum Verification: Sendable, Equatable {
        case size(UInt64, planned: UInt64)
        case sizeChanged(UInt64, was: UInt64)
        case headerByte(Int)
        case programHeaderCount
        case phdrPlacement
        case slotPlacement(size: Int, interpreter: String)
        case loadsOverlap
        case appendedLoadPlacement
        case noAddressGap
        case notePlacement
        case oldTableSpace
        case originalHeaderMoved
        case notSealed
        case notSealedAs(noteType: SealFormat.NoteType)
        case recordUnreadable
        case contentsDiffer
        case headersChanged
        case slotName(String)
        case byteOutsideTypeAndSlot
        case byteOutsideSlot
        case restoredMismatch
        case runPaths(rpath: [String], runpath: [String])
        case dynamicNotWritable
        case stringsChanged
        case entriesChanged
    }
}
