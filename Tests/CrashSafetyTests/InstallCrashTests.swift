// Kills `binfmt-reg install` with SIGKILL at every write-path syscall it makes, in a private
// binfmt_misc instance, installing fresh and replacing a different entry: every entry left is
// then the old one or the new one, whole, and running install again finishes the job.
import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct InstallCrashTests {
    @Test func installSurvivesSIGKILLAtEveryWriteStep() throws {
        let dir = try TemporaryDirectory("crash-install")
        defer { dir.remove() }
        let tool = try BuiltTools.binfmtReg()
        let runbottle = try BuiltTools.writeRunbottle(into: dir.path)
        let result = try inPrivateBinfmt("""
            cd '\(dir.path)'
            bm=/proc/sys/fs/binfmt_misc
            install=('\(tool)' install --interpreter '\(runbottle)' --no-persist)
            entries="BOTTLE BOTTLE-privileged"
            clear() { for e in $entries; do [ ! -e $bm/$e ] || echo -1 > $bm/$e; done; }
            state() { for e in $entries; do echo "== $e"; cat $bm/$e 2>/dev/null || echo absent; done; }
            entry() { sed -n "/^== $1\\$/,/^== /p" | sed '/^== /d'; }

            # The states to compare with: the new entries, and an old, different BOTTLE.
            "${install[@]}" >/dev/null; state > new; clear
            "${install[@]}" --flags POC --no-privileged-entry >/dev/null; state > old; clear

            injections=0; killed=0; bad=0
            for start in fresh replace; do
                for sc in openat write close mount; do
                    for n in 1 2 3 4 5 6 8 10 12 16 20 24; do
                        clear
                        [ $start = fresh ] || "${install[@]}" --flags POC --no-privileged-entry >/dev/null
                        injections=$((injections + 1))
                        set +e
                        strace -f -qq -o /dev/null -e inject=$sc:signal=KILL:when=$n "${install[@]}" >/dev/null 2>&1
                        [ $? -eq 137 ] && killed=$((killed + 1))
                        set -e
                        state > now
                        for e in $entries; do
                            got=$(entry $e < now)
                            [ "$got" = absent ] && continue
                            [ "$got" = "$(entry $e < new)" ] && continue
                            [ $start = replace ] && [ "$got" = "$(entry $e < old)" ] && continue
                            echo "BAD $start $sc#$n: $e is neither old nor new: $got"; bad=$((bad + 1))
                        done
                        "${install[@]}" >/dev/null 2>&1 || { echo "BAD $start $sc#$n: the second install failed"; bad=$((bad + 1)); }
                        state > again
                        cmp -s again new || { echo "BAD $start $sc#$n: the second install left:"; cat again; bad=$((bad + 1)); }
                    done
                done
            done
            echo "install: $injections injections, $killed runs killed, $bad bad states"
            """)
        #expect(result.succeeded, "\(result)")
        #expect(!result.stdout.contains("BAD"), "\(result.stdout)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        print("crash-safety \(summary)")
        let killed = summary.split(separator: " ").dropFirst(3).first.flatMap { Int($0) } ?? 0
        #expect(killed > 20, "too few kills landed: \(summary)")
    }
}
