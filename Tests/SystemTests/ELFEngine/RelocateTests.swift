// binfmt-reg relocate on real glibc and musl bottles, run by the kernel alone: every run happens in
// a private binfmt_misc instance with no entry registered, so only PT_INTERP can find the loader.
import Foundation
import TestSupport
import Testing

/// Prints its /proc/self/exe and the loader mapped into it, both read at start; with "wait", says
/// "started" and waits for its stdin to close before printing, so a test can act while it runs.
let whoami = Fixture.source("whoami.c")

/// A whoami bottle built at work/a, sealed for `dispatch`, and relocated there; b is where
/// a test may move it.
private func relocatedBottle(
    in work: TemporaryDirectory, dispatch: Bottles.Dispatch = .interp
) throws -> (a: String, b: String, tool: String) {
    let a = work.file("a"), b = work.file("b")
    _ = try Bottles.build(name: "whoami", source: whoami, in: a, dispatch: dispatch)
    let tool = try BuiltTools.binfmtReg()
    let relocated = try run([tool, "relocate", a])
    #expect(relocated.succeeded, "\(relocated)")
    return (a, b, tool)
}

@Suite struct RelocateTests {
    @Test(arguments: [TestBottle.Libc.glibc, .musl])
    func movedBottleFailsThenRunsAgainAfterRelocate(libc: TestBottle.Libc) throws {
        let work = try TemporaryDirectory("relocate")
        defer { work.remove() }
        let bottle = try Bottles.build(name: "whoami", source: whoami, in: work.file("a"), libc: libc)
        let tool = try BuiltTools.binfmtReg()
        let loaderName = URL(fileURLWithPath: bottle.loader).lastPathComponent
        let a = work.file("a"), b = work.file("b")

        // Freshly sealed, the slot names runbottle: --check calls that stale.
        let fresh = try run([tool, "relocate", "--check", a])
        #expect(fresh.status == 1, "\(fresh)")
        #expect(fresh.stdout.contains(
            "stale: \(a)/bin/whoami: PT_INTERP names /usr/libexec/runbottle, the bundled loader is \(a)/lib/\(loaderName)\n"),
            "\(fresh)")
        #expect(fresh.stdout.contains("1 stale, 0 current, 0 failed"), "\(fresh)")

        let relocated = try run([tool, "relocate", a])
        #expect(relocated.succeeded, "\(relocated)")
        #expect(relocated.stdout.contains("relocated: \(a)/bin/whoami -> \(a)/lib/\(loaderName)"), "\(relocated)")
        #expect(relocated.stdout.contains("1 relocated, 0 already current, 0 failed"), "\(relocated)")
        // The bottle's libraries and loader are passed over without a word.
        #expect(relocated.stderr.isEmpty, "\(relocated)")
        let interp = try run(["readelf", "-lW", bottle.program])
        #expect(interp.stdout.contains("[Requesting program interpreter: \(a)/lib/\(loaderName)]"), "\(interp)")
        let current = try run([tool, "relocate", "--check", a])
        #expect(current.status == 0 && current.stdout.contains("0 stale, 1 current, 0 failed"), "\(current)")

        // The kernel alone runs it, with the bundled loader and the real binary as /proc/self/exe.
        let ran = try inPrivateBinfmt("\(a)/bin/whoami")
        #expect(ran.succeeded, "\(ran)")
        #expect(ran.stdout == "exe=\(a)/bin/whoami\nloader=\(a)/lib/\(loaderName)\n", "\(ran)")

        // Moved: the slot names a loader that is gone, and the kernel says so (ENOENT).
        #expect(rename(a, b) == 0)
        let moved = try inPrivateBinfmt("\(b)/bin/whoami")
        #expect(!moved.succeeded && moved.stderr.contains("required file not found"), "\(moved)")
        let stale = try run([tool, "relocate", "--check", b])
        #expect(stale.status == 1, "\(stale)")
        #expect(stale.stdout.contains(
            "stale: \(b)/bin/whoami: PT_INTERP names \(a)/lib/\(loaderName), the bundled loader is \(b)/lib/\(loaderName)"),
            "\(stale)")

        let again = try run([tool, "relocate", b])
        #expect(again.succeeded && again.stdout.contains("1 relocated"), "\(again)")
        let movedRan = try inPrivateBinfmt("\(b)/bin/whoami")
        #expect(movedRan.succeeded, "\(movedRan)")
        #expect(movedRan.stdout == "exe=\(b)/bin/whoami\nloader=\(b)/lib/\(loaderName)\n", "\(movedRan)")
    }

    /// relocate works whatever the dispatch and keeps the note type; seal counts a relocated slot
    /// as out of date and writes runbottle's path back.
    @Test(arguments: [[], ["--dispatch", "binfmt"]])
    func sealUndoesRelocate(sealArguments: [String]) throws {
        let work = try TemporaryDirectory("relocate")
        defer { work.remove() }
        let bottle = try Bottles.build(name: "whoami", source: whoami, in: work.file("bottle"),
                                       dispatch: sealArguments.isEmpty ? .interp : .binfmt)
        let tool = try BuiltTools.binfmtReg()
        let type = try #require(try noteType(bottle.program))
        #expect(type == (sealArguments.isEmpty ? 3 : 1))
        let relocated = try run([tool, "relocate", bottle.root])
        #expect(relocated.succeeded && relocated.stdout.contains("1 relocated"), "\(relocated)")
        #expect(try noteType(bottle.program) == type)
        let ran = try inPrivateBinfmt(bottle.program)
        #expect(ran.stdout == "exe=\(bottle.program)\nloader=\(bottle.loader)\n", "\(ran)")

        let resealed = try run([tool, "seal", "-v"] + sealArguments + [bottle.program])
        #expect(resealed.succeeded, "\(resealed)")
        #expect(resealed.stdout.hasPrefix(
            "updated \(bottle.program): PT_INTERP slot \(bottle.loader) -> /usr/libexec/runbottle\nseal: 0 sealed, 1 updated, "),
            "\(resealed)")
        #expect(try noteType(bottle.program) == type)
        let check = try run([tool, "relocate", "--check", bottle.root])
        #expect(check.status == 1 && check.stdout.contains("stale: \(bottle.program): PT_INTERP names /usr/libexec/runbottle"), "\(check)")
    }

    /// The n_type word of the BOTTLE note at offset 64 (little-endian).
    private func noteType(_ path: String) throws -> UInt32? {
        let file = try ELFBytes(contentsOf: path)
        guard file.bytes.count >= 76 else { return nil }
        return file.u32(72)
    }

    @Test func relocatingTwiceWritesNothingTheSecondTime() throws {
        let work = try TemporaryDirectory("relocate")
        defer { work.remove() }
        let bottle = try Bottles.build(name: "whoami", source: whoami, in: work.file("bottle"))
        let tool = try BuiltTools.binfmtReg()
        // strace records every open for writing and every write: the first run makes exactly
        // one, a 4096-byte pwrite at the slot's offset.
        let traced = "strace -f -qq -e trace=pwrite64,write,openat -e signal=none -o"
        // readelf -lW: "  INTERP  0x006348 ...", the slot's file offset.
        let slot = try run(["readelf", "-lW", bottle.program]).stdout.split(separator: "\n")
            .first { $0.contains("INTERP") }?.split(separator: " ").dropFirst().first
            .flatMap { Int($0.dropFirst(2), radix: 16) }
        let first = try shell("\(traced) \(work.file("first.trace")) \(tool) relocate \(bottle.root)")
        #expect(first.succeeded && first.stdout.contains("1 relocated"), "\(first)")
        let firstWrites = try writes(in: work.file("first.trace"))
        #expect(firstWrites.count == 2, "\(firstWrites)")
        #expect(firstWrites.first?.contains("O_WRONLY") == true, "\(firstWrites)")
        let slotWrite = try #require(slot.map { ", 4096, \($0)) = 4096" })
        #expect(firstWrites.last.map { $0.hasPrefix("pwrite64(") && $0.hasSuffix(slotWrite) } == true, "\(firstWrites)")

        // Inode, mtime and ctime (nanoseconds) of every file in the bottle: any write changes them.
        let stamps = "find \(bottle.root) -type f -print0 | sort -z | xargs -0 stat -c '%n %i %y %z'"
        let before = try shell(stamps)
        let second = try shell("\(traced) \(work.file("second.trace")) \(tool) relocate \(bottle.root) \(bottle.program)")
        #expect(second.succeeded, "\(second)")
        #expect(second.stdout == "relocate: 0 relocated, 2 already current, 0 failed\n", "\(second)")
        #expect(try writes(in: work.file("second.trace")).isEmpty)
        let after = try shell(stamps)
        #expect(before.succeeded && before.stdout.contains(bottle.program))
        #expect(after.stdout == before.stdout)
    }

    /// The opens for writing and the writes to files in an strace log (not those to stdout).
    private func writes(in log: String) throws -> [String] {
        try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap { line in
            // "PID call(args) = result": drop the PID and the blanks after it (strace pads it
            // to five columns: "2884  openat(...").
            guard let space = line.firstIndex(of: " ") else { return nil }
            let call = String(line[space...].drop { $0 == " " })
            if call.hasPrefix("openat("), call.contains("O_WRONLY") || call.contains("O_RDWR") { return call }
            if call.hasPrefix("pwrite64(") { return call }
            if call.hasPrefix("write("), !call.hasPrefix("write(1,"), !call.hasPrefix("write(2,") { return call }
            return nil
        }
    }

    @Test func aRunningBinaryIsReplacedNotCorrupted() throws {
        let work = try TemporaryDirectory("relocate")
        defer { work.remove() }
        let (a, b, tool) = try relocatedBottle(in: work)
        // Started at a/, moved to b/ while it runs, relocated there: its file is busy (ETXTBSY).
        // The FIFO on a tmpfs: the instance VM's 9p root (before Linux 6.7) makes none.
        let result = try inPrivateBinfmt("""
            mount -t tmpfs tmpfs /mnt
            mkfifo /mnt/in
            \(a)/bin/whoami wait < /mnt/in > \(work.file("out")) &
            pid=$!
            exec 3> /mnt/in
            until grep -q started \(work.file("out")); do sleep 0.01; done
            mv \(a) \(b)
            inode=$(stat -c %i \(b)/bin/whoami)
            ( exec 4>> \(b)/bin/whoami ) 2>/dev/null && { echo "the running file was writable"; exit 1; }
            \(tool) relocate \(b)
            [ "$(stat -c %i \(b)/bin/whoami)" != "$inode" ] || { echo "not replaced"; exit 1; }
            exec 3>&-
            wait $pid
            cat \(work.file("out"))
            \(b)/bin/whoami
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        #expect(result.stdout == """
            relocated: \(b)/bin/whoami -> \(b)/lib/ld-linux-x86-64.so.2 (busy or read-only: replaced by a copy)
            relocate: 1 relocated, 0 already current, 0 failed
            started
            exe=\(a)/bin/whoami
            loader=\(a)/lib/ld-linux-x86-64.so.2
            exe=\(b)/bin/whoami
            loader=\(b)/lib/ld-linux-x86-64.so.2

            """, "\(result)")
    }

    @Test func anUnprivilegedOwnerRelocatesTheirBottle() throws {
        let work = try TemporaryDirectory("relocate")
        defer { work.remove() }
        let bottle = try Bottles.build(name: "whoami", source: whoami, in: work.file("bottle"))
        let tool = try BuiltTools.binfmtReg()
        // As root, the bottle is handed to nobody and relocated as nobody; otherwise the test
        // already runs as an unprivileged owner.
        let asOwner: String
        if geteuid() == 0 {
            chmod(work.path, 0o755)
            #expect(try run(["chown", "-R", "65534:65534", bottle.root]).succeeded)
            asOwner = "setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
        } else {
            asOwner = ""
        }
        let result = try shell("\(asOwner) \(tool) relocate \(bottle.root)")
        #expect(result.succeeded && result.stdout.contains("1 relocated"), "\(result)")
        #expect(try shell("stat -c %u \(bottle.program)").stdout == "\(geteuid() == 0 ? 65534 : geteuid())\n")
        let ran = try inPrivateBinfmt(bottle.program)
        #expect(ran.stdout.hasPrefix("exe=\(bottle.program)\n"), "\(ran)")

        // Moved, with the program read-only (0555) to its owner: it cannot be opened for writing,
        // so it is replaced through its directory, keeping owner and mode.
        let moved = work.file("moved")
        #expect(rename(bottle.root, moved) == 0)
        chmod(moved + "/bin/whoami", 0o555)
        let readOnly = try shell("\(asOwner) \(tool) relocate \(moved)")
        #expect(readOnly.succeeded, "\(readOnly)")
        #expect(readOnly.stdout.hasPrefix(
            "relocated: \(moved)/bin/whoami -> \(moved)/lib/ld-linux-x86-64.so.2 (busy or read-only: replaced by a copy)\n"),
            "\(readOnly)")
        #expect(try shell("stat -c '%u %a' \(moved)/bin/whoami").stdout == "\(geteuid() == 0 ? 65534 : geteuid()) 555\n")
        let movedRan = try inPrivateBinfmt(moved + "/bin/whoami")
        #expect(movedRan.stdout.hasPrefix("exe=\(moved)/bin/whoami\n"), "\(movedRan)")
    }
}

@Suite struct RelocatedUnderRunbottleTests {
    /// The same relocated file, sealed for the binfmt dispatch, runs through runbottle where the
    /// entry is registered: after a move the slot is stale, so only runbottle (which reads the
    /// note) can find the loader.
    @Test func runbottleStillTakesARelocatedBinary() throws {
        let work = try TemporaryDirectory("relocate")
        defer { work.remove() }
        let (a, b, tool) = try relocatedBottle(in: work, dispatch: .binfmt)
        let runbottle = try BuiltTools.writeRunbottle(into: work.path)
        let line = try run([tool, "line", "--interpreter", runbottle])
        try #require(line.succeeded, "\(line)")
        let register = line.stdout.split(separator: "\n")
            .map { "printf '%s\\n' '\($0)' > /proc/sys/fs/binfmt_misc/register" }.joined(separator: "\n")
        #expect(rename(a, b) == 0)
        let result = try inPrivateBinfmt("""
            \(b)/bin/whoami 2>&1 || echo "kernel path failed as expected"
            \(register)
            \(b)/bin/whoami
            """)
        #expect(result.succeeded, "\(result)")
        #expect(result.stdout.hasSuffix("exe=\(b)/bin/whoami\nloader=\(b)/lib/ld-linux-x86-64.so.2\n"), "\(result)")
        #expect(result.stdout.contains("required file not found"), "\(result)")
    }
}
