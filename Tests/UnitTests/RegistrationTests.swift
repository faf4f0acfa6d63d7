// The registration model without the kernel: lines rendered and parsed, validation, entry status
// files parsed, magic and mask decoded.
import BinfmtMisc
import ELFEngine
import Testing

private let x86 = HostArchitecture.named("x86_64")!

private func plan(_ change: (inout EntryPlan) -> Void = { _ in }) -> EntryPlan {
    var plan = EntryPlan(architecture: x86)
    change(&plan)
    return plan
}

/// Both entries get POCF: C (credentials from the binary, so no exec through an entry gains or
/// loses a privilege) and F (the kernel opens runbottle at registration).
@Test func defaultPlanRendersTwoEntries() throws {
    let lines = try plan().registrations().map(\.line)
    #expect(lines.count == 2)
    #expect(lines[0].hasPrefix(":BOTTLE:M:0:\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00"))
    #expect(lines[0].hasSuffix(":/usr/libexec/runbottle:POCF\n"))
    #expect(lines[1].hasPrefix(":BOTTLE-privileged:M:0:"))
    #expect(lines[1].hasSuffix(":/usr/libexec/runbottle:POCF\n"))
    // 84 bytes of magic and of mask, 4 characters each, within the kernel's 1920.
    #expect(lines[0].utf8.count == 714)
    #expect(plan().flags == [.preserveArgv0, .openBinary, .credentials, .fixBinary])
}

@Test func renderedLinesParseBackToTheSameValue() throws {
    for registration in try plan({ $0.flags = [.preserveArgv0, .openBinary, .credentials] }).registrations() {
        let parsed = try Registration(parsing: registration.line)
        #expect(parsed == registration)
        #expect(parsed.line == registration.line)
    }
    let ext = try Registration(parsing: ":py:E::py::/usr/bin/python3:")
    #expect(ext.kind == .extension("py"))
    #expect(ext.line == ":py:E::py::/usr/bin/python3:\n")
}

@Test func parseAcceptsAnotherDelimiterAndRawMagic() throws {
    let parsed = try Registration(parsing: ",qemu,M,0,\\x7fELF,,/usr/bin/qemu,OCF")
    #expect(parsed.name == "qemu")
    #expect(parsed.kind == .magic(offset: 0, magic: [0x7f, 0x45, 0x4c, 0x46], mask: []))
    #expect(parsed.flags == [.openBinary, .credentials, .fixBinary])
}

@Test func theMagicKeepsExactlyTheSealedFields() throws {
    let (magic, mask) = SealFormat.binfmtMagic(is64Bit: true, bigEndian: false, machine: 62, noteType: .ordinary)
    #expect(magic.count == 84 && mask.count == 84)
    let kept = mask.indices.filter { mask[$0] == 0xff }
    #expect(kept == Array(0..<7) + [18, 19] + Array(64..<68) + Array(72..<84))
    #expect(mask.allSatisfy { $0 == 0 || $0 == 0xff })
    let (magic32, mask32) = SealFormat.binfmtMagic(is64Bit: false, bigEndian: true, machine: 8, noteType: .privileged)
    #expect(magic32.count == 72 && mask32.count == 72)
    #expect(Array(magic32[18..<20]) == [0, 8])
    #expect(Array(magic32[60..<64]) == [0, 0, 0, 2])
}

@Test(arguments: [
    ("a/b", .nameWithSeparator("a/b")), ("a:b", .nameWithSeparator("a:b")), (".", .reservedName(".")),
    ("..", .reservedName("..")), ("register", .reservedName("register")), ("status", .reservedName("status")),
    ("", .emptyName), ("a b", .nameWithBlank("a b")), (String(repeating: "n", count: 300), .nameTooLong(limit: 255)),
] as [(String, RegistrationError)])
func badNamesAreRefused(name: String, reason: RegistrationError) {
    let registration = Registration(name: name, kind: .extension("x"), interpreter: "/bin/x", flags: [])
    #expect(throws: reason) { try registration.validate() }
}

@Test func badFieldsAreRefused() throws {
    func refused(_ line: String, _ reason: RegistrationError, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: reason, sourceLocation: sourceLocation) { _ = try Registration(parsing: line) }
    }
    refused(":N:M::\\x7f::/bin/x:PX", .unknownFlag("PX"))
    refused(":N:M::\\x7f::bin/x:P", .relativeInterpreter("bin/x"))
    refused(":N:M::\\x7f:\\xff\\xff:/bin/x:", .maskLength(mask: 2, magic: 1))
    let magic = String(repeating: "\\x7f", count: 29)
    refused(":N:M:100:\(magic)::/bin/x:", .magicBeyond(offset: 100, length: 29, end: 128, portable: true))
    refused(":N:Q::\\x7f::/bin/x:", .badType("Q"))
    refused(":N:M::\\x7g::/bin/x:", .badEscape("\\x7g"))
    refused(":N:M::\\x7f::/bin/x", .fieldCount(delimiter: ":", found: 6))
    let long = ":N:E::x::/" + String(repeating: "d", count: 1950) + ":"
    refused(long, .lineTooLong(long.utf8.count + 1, limit: 1920))
    #expect(RegistrationFlags(letters: "C") == [.openBinary, .credentials])
    #expect(throws: RegistrationError.self) { try plan({ $0.flags = [.preserveArgv0] }).registrations() }
}

/// C is required: without it an entry would run setuid and file-capability programs without
/// their privileges (the kernel computes credentials for runbottle instead).
@Test(arguments: ["PO", "POF", "OC", "O"])
func flagsWithoutPOrOOrCAreRefused(letters: String) throws {
    let flags = try #require(RegistrationFlags(letters: letters))
    #expect(throws: RegistrationError.flagsLackPOC(flags)) { try plan({ $0.flags = flags }).registrations() }
    #expect(throws: RegistrationError.self) { try plan({ $0.flags = flags }).binfmtD() }
}

@Test func entryStatusFilesParse() throws {
    let text = """
        enabled
        interpreter /usr/libexec/runbottle
        flags: POC
        offset 0
        magic 7f454c46
        mask ffffff00

        """
    let entry = try EntryStatus(name: "X", parsing: text)
    #expect(entry.enabled)
    #expect(entry.flags == [.preserveArgv0, .openBinary, .credentials])
    #expect(entry.kind == .magic(offset: 0, magic: [0x7f, 0x45, 0x4c, 0x46], mask: [0xff, 0xff, 0xff, 0]))
    #expect(entry.matches(header: [0x7f, 0x45, 0x4c, 0x99, 0]))
    #expect(!entry.matches(header: [0x7f, 0x45, 0x4d, 0x46]))
    let ext = try EntryStatus(name: "E", parsing: "disabled\ninterpreter /bin/x\nflags: \nextension .py\n")
    #expect(!ext.enabled && ext.flags.isEmpty && ext.kind == .extension("py"))
    #expect(throws: RegistrationError.self) { try EntryStatus(name: "Y", parsing: "enabled\n") }
}

@Test func sealMatchDecodesOurMagicAndNotOthers() throws {
    let registrations = try plan().registrations()
    let ordinary = try #require(SealMatch(registrations[0].kind))
    #expect(ordinary.elfClass == 64 && ordinary.bigEndian == false && ordinary.machine == 62)
    #expect(ordinary.bottleNote && ordinary.noteType == 1)
    // Its words ("ELFCLASS64 little-endian x86_64 (e_machine 62), BOTTLE note type 1 (ordinary)") are
    // binfmt-reg's: InstallTests and StatusTests assert them.
    #expect(SealMatch(registrations[1].kind)?.noteType == 2)
    // The PT_INTERP dispatch's note type 3 is matched by neither entry; 1 and 2 each by its own.
    for (type, taken) in [(SealFormat.NoteType.interp, [false, false]), (.ordinary, [true, false]), (.privileged, [false, true])] {
        let (header, _) = SealFormat.binfmtMagic(is64Bit: true, bigEndian: false, machine: 62, noteType: type)
        #expect(registrations.map { $0.kind.matches(header: header) } == taken, "note type \(type)")
    }
    let qemu = try #require(SealMatch(.magic(offset: 0, magic: [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 10) + [0xb7, 0], mask: [])))
    #expect(!qemu.bottleNote && qemu.machine == 183)
    #expect(SealMatch(.extension("py")) == nil)
}

@Test func differencesNameEachChangedField() throws {
    let old = try plan().registrations()[0]
    var new = old
    new.flags.remove(.fixBinary)
    new.interpreter = "/opt/runbottle"
    #expect(Installer.differences(old, new) == [
        .interpreter(old: "/usr/libexec/runbottle", new: "/opt/runbottle"),
        .flags(old: [.preserveArgv0, .openBinary, .credentials, .fixBinary], new: [.preserveArgv0, .openBinary, .credentials]),
    ])
    #expect(Installer.differences(old, old).isEmpty)
}
