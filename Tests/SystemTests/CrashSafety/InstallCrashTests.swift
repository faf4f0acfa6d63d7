// Kills `binfmt-reg install` with SIGKILL at every write-path syscall it makes, in a private
// binfmt_misc instance, installing fresh and replacing a different entry (and, in the second
// test, different files): every entry and file left is then the old one or the new one, whole,
// and running install again finishes the job.
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
        expectNoBadStates(result, kills: 20)
    }

    /// The installer's own files, written by the one atomic writer: killed at every write-path
    /// syscall while it writes runbottle and the binfmt.d file (fresh, and over older ones),
    /// each file is then absent, the old one or the new one, whole; install run again leaves
    /// exactly the new files and nothing beside them.
    @Test func installSurvivesSIGKILLWhileWritingRunbottleAndBinfmtD() throws {
        let tool = try BuiltTools.binfmtReg()
        let result = try inPrivateBinfmt("""
            # The system's directories, private to this namespace.
            mount -t tmpfs -o mode=0755 tmpfs /usr/libexec
            mount -t tmpfs -o mode=0755 tmpfs /etc/binfmt.d
            work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
            bm=/proc/sys/fs/binfmt_misc
            files="/usr/libexec/runbottle /etc/binfmt.d/bottle.conf"
            clear() {
                for e in BOTTLE BOTTLE-privileged; do [ ! -e $bm/$e ] || echo -1 > $bm/$e; done
                rm -rf /usr/libexec/* /usr/libexec/.[!.]* /etc/binfmt.d/* /etc/binfmt.d/.[!.]* /run/binfmt-reg
            }
            '\(tool)' install >/dev/null
            for f in $files; do cp -p $f "$work/new-$(basename $f)"; done
            listing() { ls -A /usr/libexec /etc/binfmt.d; }
            listing > "$work/new-listing"
            old() {
                printf 'an older runbottle' > /usr/libexec/runbottle && chmod 755 /usr/libexec/runbottle
                printf '# an older registration\n' > /etc/binfmt.d/bottle.conf
            }
            clear; old
            for f in $files; do cp -p $f "$work/old-$(basename $f)"; done

            injections=0; killed=0; bad=0
            for start in fresh replace; do
                for sc in openat linkat write fchmod fsync rename renameat; do
                    for n in 1 2 3 4 6 8 12; do
                        clear
                        [ $start = fresh ] || old
                        injections=$((injections + 1))
                        set +e
                        strace -f -qq -o /dev/null -e inject=$sc:signal=KILL:when=$n '\(tool)' install >/dev/null 2>&1
                        [ $? -eq 137 ] && killed=$((killed + 1))
                        set -e
                        for f in $files; do
                            b=$(basename $f)
                            [ -e $f ] || continue
                            cmp -s $f "$work/new-$b" && continue
                            [ $start = replace ] && cmp -s $f "$work/old-$b" && continue
                            echo "BAD $start $sc#$n: $f is neither old nor new"; bad=$((bad + 1))
                        done
                        '\(tool)' install >/dev/null 2>&1 || { echo "BAD $start $sc#$n: the second install failed"; bad=$((bad + 1)); }
                        for f in $files; do
                            cmp -s $f "$work/new-$(basename $f)" || { echo "BAD $start $sc#$n: the second install left $f wrong"; bad=$((bad + 1)); }
                        done
                        [ "$(stat -c %a /usr/libexec/runbottle)" = 755 ] || { echo "BAD $start $sc#$n: runbottle mode $(stat -c %a /usr/libexec/runbottle)"; bad=$((bad + 1)); }
                        listing | cmp -s - "$work/new-listing" || { echo "BAD $start $sc#$n: left beside the files: $(listing | tr '\n' ' ')"; bad=$((bad + 1)); }
                    done
                done
            done
            echo "install files: $injections injections, $killed runs killed, $bad bad states"
            """)
        expectNoBadStates(result, kills: 40)
    }

    /// The script ran, found no bad state, and more than `kills` of its kills landed (its last
    /// line: "WHAT: N injections, K runs killed, B bad states").
    private func expectNoBadStates(_ result: CommandResult, kills: Int) {
        #expect(result.succeeded, "\(result)")
        #expect(!result.stdout.contains("BAD"), "\(result.stdout)")
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        print("crash-safety \(summary)")
        let counts = summary.split(separator: ":").last?.split(separator: " ").compactMap { Int($0) } ?? []
        #expect(counts.count == 3 && counts[1] > kills, "too few kills landed: \(summary)")
    }
}
