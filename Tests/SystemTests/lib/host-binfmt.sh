# Sourced by the suites that register entries in the host's binfmt_misc (deploy/test.sh,
# Tests/SystemTests/Programs/suite/run.sh, Tests/SystemTests/Contexts/suite/run.sh): one line per check, and the host's instance held for the run by a
# process in a private mount namespace, so that binfmt_misc is never mounted in the host's own
# (Linux 6.7 and later drop an instance's entries when its last mount goes).
# The sourcing script sets suite (the prefix of every line) and work (its scratch directory).

bm=/proc/sys/fs/binfmt_misc
holder=
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "$suite $1: ok${2:+ ($2)}"; }
fail() { failed=$((failed + 1)); echo "$suite $1: FAILED: $2"; }
finish() { echo "$suite: $passed passed, $failed failed"; [ $failed = 0 ]; exit; }
# A failure the rest cannot run without: count it and stop.
fatal() { fail "$1" "$2"; finish; }
oneline() { head -c 600 "$1" | tr '\n' ' '; }

# Reads or writes the host's instance from a new mount namespace: the mount attaches to the
# instance the holder keeps, and goes when the command ends.
# The new namespace may already hold a mount of it, copied from the host's (systemd's automount,
# an operator's mount): the instance is the same, so that one serves.
mount_instance="grep -q ' $bm binfmt_misc ' /proc/self/mounts || mount -t binfmt_misc binfmt_misc $bm"
on_instance() { unshare --mount --propagation private sh -c "{ $mount_instance; } && cd $bm && $1"; }

# Starts the holder (its pid in holder; the cleanup kills it) and waits for its mount; false
# when it has none, the reason in $work/holder.err.
start_holder() {
    unshare --mount --propagation private sh -c "{ $mount_instance; } && exec sleep infinity" \
        2> "$work/holder.err" &
    holder=$!
    # Up to 30 s: the machine may be busy with the other suites (qemu, dockerd).
    for _ in $(seq 300); do
        grep -q " $bm binfmt_misc " /proc/$holder/mounts 2>/dev/null && break
        kill -0 $holder 2>/dev/null || break
        sleep 0.1
    done
    grep -q " $bm binfmt_misc " /proc/$holder/mounts 2>/dev/null
}

# start_holder, or a fatal check line saying why not.
hold_instance() {
    start_holder ||
        fatal holder "could not hold a mount of the host's binfmt_misc: $(oneline "$work/holder.err")"
}
