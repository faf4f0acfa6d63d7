// bottle(5), the seal format's specification, stays well-formed and agrees with the code.
import ELFEngine
import Foundation
import Testing
import TestSupport

private let page = Repository.path("man/bottle.5")

@Test func bottleManualIsCleanUnderMandocLint() throws {
    let lint = try run(["mandoc", "-T", "lint", "-W", "warning", page])
    #expect(lint.succeeded, "\(lint)")
    #expect(lint.stdout.isEmpty && lint.stderr.isEmpty, "\(lint)")
}

@Test func bottleManualStatesTheConstantsTheCodeUses() throws {
    let text = try String(contentsOfFile: page, encoding: .utf8)
    #expect(text.contains("version\t1 (the format version)") && SealFormat.version == 1)
    #expect(text.contains("Exactly 4096 bytes") && SealFormat.interpSlotSize == 4096)
    #expect(text.contains("1 to 4095") && SealFormat.loaderPathMax == 4095)
    #expect(text.contains("bytes [0, 84)") && SealFormat.binfmtMagic(is64Bit: true, bigEndian: false, machine: ELF.EM_X86_64, noteType: .ordinary).magic.count == 84)
    #expect(text.contains("[0, 72)") && SealFormat.binfmtMagic(is64Bit: false, bigEndian: false, machine: ELF.EM_386, noteType: .ordinary).magic.count == 72)
    #expect(text.contains("\"BTLSEAL\\e0\"") && SealRecord.magic == Array("BTLSEAL".utf8) + [0])
    #expect(text.contains(".B 3 (BOTTLE_NT_SEAL_INTERP)") && SealFormat.NoteType.interp.rawValue == 3)
    #expect(text.contains(".B 1 (BOTTLE_NT_SEAL)") && SealFormat.NoteType.ordinary.rawValue == 1)
    #expect(text.contains(".B 2 (BOTTLE_NT_SEAL_PRIVILEGED)") && SealFormat.NoteType.privileged.rawValue == 2)
    #expect(text.contains("runbottle at\n.I /usr/libexec/runbottle\n.RB ( BOTTLE_RUNBOTTLE_PATH")
        && SealFormat.runbottlePath == "/usr/libexec/runbottle")
}
