// runbottle under load: a thousand concurrent execs of sealed programs from several bottles in
// a private binfmt_misc instance, none failing and none leaking a descriptor or a mapping of
// runbottle; then the same while the programs are being unsealed and resealed underneath.
import Foundation
import TestSupport
import Testing

/// Reports what a leak would show: descriptors beyond 0-2, a runbottle mapping, the wrong exe.
private let probeSource = Fixture.source("load-probe.c")

private let execs = 1000
private let parallel = 64

@Suite(.serialized) struct LoadTests {
    /// Builds three bottles (glibc PIE, glibc non-PIE, musl), an unsealed copy of the probe that
    /// runs natively (the descriptors a native exec inherits here), and a list of `execs` commands.
    private func setUp(_ dir: TemporaryDirectory) throws -> (runbottle: String, programs: [String]) {
        _ = try Bottles.build(name: "native", source: probeSource, in: dir.file("native"), seal: false)
        let runbottle = try BuiltTools.writeRunbottle(into: dir.path)
        let programs = try [
            Bottles.build(name: "pie", source: probeSource, in: dir.file("glibc-pie")),
            Bottles.build(name: "nopie", source: probeSource, in: dir.file("glibc-nopie"), pie: false),
            Bottles.build(name: "musl", source: probeSource, in: dir.file("musl"), libc: .musl),
        ].map(\.program)
        let commands = (0..<execs).map { "\(programs[$0 % programs.count]) \($0)" }
        try (commands.joined(separator: "\n") + "\n").write(toFile: dir.file("commands"), atomically: true, encoding: .utf8)
        return (runbottle, programs)
    }

    /// The line a native exec of the probe printed first, then one line per exec.
    private func nativeFirst(_ dir: TemporaryDirectory) -> String {
        "'\(dir.file("native/bin/native"))' native\n"
    }

    /// Checks the output of every exec: one "ok" line each, the descriptors of a native exec
    /// in the same environment, no runbottle mapping, /proc/self/exe naming the program.
    private func check(_ result: CommandResult, programs: [String]) {
        #expect(result.succeeded, "\(result.status) \(result.stderr.prefix(2000))")
        var lines = result.stdout.split(separator: "\n")
        let native = lines.isEmpty ? [] : lines.removeFirst().split(separator: " ")
        guard native.count == 5, native[1] == "native" else {
            Issue.record("no native baseline: \(native)")
            return
        }
        let nativeFDs = native[2]
        #expect(lines.count == execs, "\(lines.count) of \(execs) execs reported")
        var seen = Set<Int>()
        for line in lines {
            // A program whose file was replaced while it ran sees "(deleted)", as natively.
            let fields = line.replacingOccurrences(of: " (deleted)", with: "").split(separator: " ")
            guard fields.count == 5, fields[0] == "ok", let index = Int(fields[1]) else {
                Issue.record("unexpected output: \(line)")
                continue
            }
            seen.insert(index)
            #expect(fields[2] == nativeFDs, "exec \(index) has other descriptors than a native exec (\(nativeFDs)): \(line)")
            #expect(fields[3] == "runbottle=0", "exec \(index) kept runbottle mapped: \(line)")
            #expect(fields[4] == "exe=" + programs[index % programs.count], "exec \(index): \(line)")
        }
        #expect(seen.count == execs, "\(execs - seen.count) execs missing")
        #expect(result.stderr.isEmpty, "\(result.stderr.prefix(2000))")
    }

    @Test func aThousandConcurrentExecsThroughRunbottle() throws {
        let dir = try TemporaryDirectory("load")
        defer { dir.remove() }
        let (runbottle, programs) = try setUp(dir)
        let tool = try BuiltTools.binfmtReg()
        let result = try inPrivateBinfmt("""
            '\(tool)' install --interpreter '\(runbottle)' --no-persist --no-privileged-entry >/dev/null
            \(nativeFirst(dir))
            xargs -P \(parallel) -L 1 env < '\(dir.file("commands"))'
            """)
        check(result, programs: programs)
    }

    @Test func execsSeeAWholeFileWhileTheProgramsAreResealed() throws {
        let dir = try TemporaryDirectory("load-reseal")
        defer { dir.remove() }
        let (runbottle, programs) = try setUp(dir)
        let tool = try BuiltTools.binfmtReg()
        // Unsealed, a program runs natively through its original PT_INTERP; sealed, through
        // runbottle. Either way it must run: a torn file would fail or crash.
        let list = programs.map { "'\($0)'" }.joined(separator: " ")
        let rounds = try TemporaryDirectory("load-reseal-rounds")
        defer { rounds.remove() }
        // The bottles on a tmpfs of the namespace, at the same paths: a file system whose inode
        // cache is the kernel's own, as the host's is. Over the 9p root of the instance VM
        // (before Linux 6.7) the guest may take a replaced file's recycled inode number for
        // the old file and read stale pages, which is 9p's doing, not the exec's.
        let result = try inPrivateBinfmt("""
            '\(tool)' install --interpreter '\(runbottle)' --no-persist --no-privileged-entry >/dev/null
            mount -t tmpfs -o mode=0755 tmpfs /mnt
            cp -a '\(dir.path)'/. /mnt/
            mount --bind /mnt '\(dir.path)'
            stop='\(dir.file("stop"))'
            trap 'touch "$stop"; wait' EXIT
            ( rounds=0
              while [ ! -e "$stop" ]; do
                  '\(tool)' unseal \(list) >/dev/null && '\(tool)' seal --dispatch binfmt \(list) >/dev/null || exit 1
                  rounds=$((rounds + 1))
              done
              echo "$rounds" > '\(rounds.file("rounds"))' ) &
            resealer=$!
            \(nativeFirst(dir))
            status=0
            xargs -P \(parallel) -L 1 env < '\(dir.file("commands"))' || status=$?
            touch "$stop"
            wait $resealer || status=$?
            exit $status
            """)
        check(result, programs: programs)
        let resealed = Int((try? String(contentsOfFile: rounds.file("rounds"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(resealed >= 3, "the programs were resealed only \(resealed) times during the execs")
        print("load: \(execs) execs, \(parallel) at a time, while the programs were unsealed and resealed \(resealed) times")
    }
}
