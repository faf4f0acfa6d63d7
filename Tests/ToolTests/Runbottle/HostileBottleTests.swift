// Hostile bottles: sealed binaries and loaders damaged one way at a time. runbottle must answer
// each with its documented one-line error and exit status, within a time limit: never a crash,
// never a hang, never a program that runs on a wrong plan.
import Foundation
import TestSupport
import Testing

private typealias Image = ELFBytes

extension ELFBytes {
    /// File offsets of the ELF64 PT_LOAD program headers, in table order.
    var loadHeaders: [Int] {
        let phoff = Int(u64(32)), phnum = u16(56)
        return (0..<phnum).map { phoff + $0 * 56 }.filter { u32($0) == 1 }
    }
}

/// A way to damage a sealed bottle, and what runbottle must then say.
private struct Damage: CustomStringConvertible, Sendable {
    var name: String
    var status: Int32
    /// What stderr must contain after "runbottle: PROGRAM: ".
    var reason: String
    var apply: @Sendable (TestBottle) throws -> Void
    var description: String { name }
}

private let noteDesc = 64 + 20   // the note's descriptor: version, loader_len, path

/// Rewrites the bottle's program with `edit` applied to its bytes.
private func editProgram(_ b: TestBottle, _ edit: (inout Image) -> Void) throws {
    var image = try Image(contentsOf: b.program)
    edit(&image)
    try image.write(to: b.program)
}

private let damages: [Damage] = [
    Damage(name: "an empty loader path", status: 126, reason: "corrupt BOTTLE note") { b in
        try editProgram(b) { image in
            image.put(0, at: noteDesc + 4, width: 4)
        }
    },
    Damage(name: "an absolute loader path", status: 126, reason: "corrupt BOTTLE note") { b in
        try editProgram(b) { image in
            image.bytes[noteDesc + 8] = UInt8(ascii: "/")
        }
    },
    Damage(name: "a loader path longer than PATH_MAX", status: 126, reason: "corrupt BOTTLE note") { b in
        try editProgram(b) { image in
            image.put(5000, at: noteDesc + 4, width: 4)
        }
    },
    Damage(name: "an enormous descriptor", status: 126, reason: "corrupt BOTTLE note") { b in
        try editProgram(b) { image in
            image.put(0xffff_fff0, at: 64 + 4, width: 4)
        }
    },
    Damage(name: "a program header table outside the file", status: 126, reason: "corrupt ELF") { b in
        try editProgram(b) { image in
            image.put(UInt64(image.bytes.count + 4096), at: 32, width: 8)
        }
    },
    Damage(name: "overlapping PT_LOAD segments", status: 126, reason: "corrupt ELF") { b in
        try editProgram(b) { image in
            let loads = image.loadHeaders
            image.put(image.u64(loads[0] + 16), at: loads[1] + 16, width: 8)           // p_vaddr of the second = the first's
            image.put(image.u64(loads[0] + 8), at: loads[1] + 8, width: 8)             // and its p_offset, so it stays congruent
        }
    },
    Damage(name: "a zero-length program", status: 126, reason: "not an ELF file") { b in
        try Data().write(to: URL(fileURLWithPath: b.program))
    },
    Damage(name: "a loader that is not an ELF", status: 126, reason: "loader") { b in
        try "#!/bin/sh\necho hijacked\n".write(toFile: b.loader, atomically: false, encoding: .utf8)
    },
    Damage(name: "a loader for another architecture", status: 126, reason: "loader") { b in
        try FileManager.default.removeItem(atPath: b.loader)
        try FileManager.default.copyItem(atPath: "/lib/ld-linux.so.2", toPath: b.loader)
    },
    Damage(name: "a loop of symlinks as the loader", status: 126, reason: "Too many levels of symbolic links") { b in
        try FileManager.default.removeItem(atPath: b.loader)
        try FileManager.default.createSymbolicLink(atPath: b.loader, withDestinationPath: "loop-b")
        try FileManager.default.createSymbolicLink(atPath: b.root + "/lib/loop-b", withDestinationPath: URL(fileURLWithPath: b.loader).lastPathComponent)
    },
    Damage(name: "a 4 GiB p_memsz on a PT_LOAD", status: 126, reason: "corrupt ELF") { b in
        try editProgram(b) { image in
            let last = image.loadHeaders.filter { image.u32($0 + 4) & 2 != 0 }.last ?? image.loadHeaders[0]
            image.put(image.u64(last + 40) + (1 << 32) * 1024, at: last + 40, width: 8)   // 4 TiB beyond: past TASK_SIZE for a PIE base
        }
    },
]

@Suite(.serialized) struct HostileBottleTests {
    @Test(arguments: damages)
    fileprivate func runbottleRefusesWithItsDocumentedError(_ damage: Damage) throws {
        let dir = try TemporaryDirectory("hostile")
        defer { dir.remove() }
        let runbottle = try BuiltTools.writeRunbottle(into: dir.path)
        let bottle = try Bottles.build(
            name: "victim", source: Fixture.source("hello-bottle.c"),
            in: dir.file("bottle"))
        let healthy = try run(["timeout", "10", runbottle, bottle.program])
        #expect(healthy.succeeded && healthy.stdout == "hello from a bottle\n", "the undamaged bottle must run: \(healthy)")

        try damage.apply(bottle)
        let result = try run(["timeout", "10", runbottle, bottle.program])
        #expect(!result.signaled && result.status != 124, "\(damage): crashed or hung: \(result)")
        #expect(result.status == damage.status, "\(damage): \(result)")
        #expect(result.stdout.isEmpty, "\(damage): the program must not run: \(result)")
        let prefix = "runbottle: \(bottle.program): "
        #expect(result.stderr.hasPrefix(prefix + damage.reason) && result.stderr.filter { $0 == "\n" }.count == 1,
                "\(damage): expected one line starting \"\(prefix + damage.reason)\", got: \(result.stderr)")
    }
}
