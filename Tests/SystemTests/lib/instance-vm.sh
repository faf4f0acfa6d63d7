#!/bin/bash
# Runs commands where a user namespace can mount a binfmt_misc instance of its own. Linux gives
# one only from 6.7: on an older host kernel the tests that need one run their commands here, in
# a VM booting Debian trixie's kernel (6.12) whose root is this machine's own file system, shared
# over 9p, so that a command sees the same files at the same paths, as root. One VM serves every
# command of a test run, concurrently; it powers itself off when idle.
# Usage:
#   instance-vm.sh --needed     exit 0 and say why when such commands must run in the VM (this
#                               kernel refuses a user namespace's binfmt_misc mount), 1 when not
#   instance-vm.sh COMMAND...   runs COMMAND in the VM, as root, in this directory, with this
#                               environment and no stdin; relays its stdout, stderr and exit
#                               status (127 and a line on stderr when the VM cannot run it)
#   instance-vm.sh --stop       powers the VM off
# Environment:
#   BINFMT_BOTTLE_USERNS_INSTANCE=refused  --needed answers as if this kernel refused the mount,
#                               to run the paths of older kernels on a newer one
#   INSTANCE_VM_DIR             the spool shared with the VM (default /var/tmp/binfmt-bottle-instance-vm)
#   INSTANCE_VM_IDLE            seconds the VM stays up with no command (default 120)
#   INSTANCE_VM_TIMEOUT         seconds one command may take (default 1800)
#   INSTANCE_VM_BOOT            seconds the VM may take to boot (default 180)
#   INSTANCE_VM_ACCEL           qemu's accelerator (default tcg: nested KVM hangs on some hosts)
#   INSTANCE_VM_MEMORY          the VM's memory in MiB (default 2048)
#   INSTANCE_VM_KERNEL          the VM suite's name of the kernel to boot (default trixie-amd64;
#                               bookworm-amd64 gives a 6.1 machine, to try this very path)
#   VM_CACHE, VM_MIRROR         as the VM suite (../VM/suite/run.sh): the kernel's download cache
# Needs root (the VM's 9p root maps its root to this machine's), qemu-system-x86, cpio, xz-utils.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
self=$here/$(basename "$0")
spool=${INSTANCE_VM_DIR:-/var/tmp/binfmt-bottle-instance-vm}
kernel=${INSTANCE_VM_KERNEL:-trixie-amd64}

fail() { echo "instance-vm: $*" >&2; exit 127; }

needed() {
    if [ "${BINFMT_BOTTLE_USERNS_INSTANCE:-}" = refused ]; then
        echo "as if this kernel refused a user namespace's binfmt_misc (BINFMT_BOTTLE_USERNS_INSTANCE=refused)"
        return 0
    fi
    local err
    err=$(unshare --user --map-root-user --mount --propagation private \
        sh -c 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc' 2>&1) && return 1
    # One line: it ends up in test lines (the context suite's).
    echo "a user namespace cannot mount binfmt_misc on Linux $(uname -r) (6.7 and later can): $(printf %s "$err" | tr -s "\n" " ")"
}

# --- in the VM: the agent, started by the initramfs's init once the 9p root is mounted ---
# A request is a directory in req/: argv and env (NUL-separated), cwd, then "submitted"; the
# agent renames that to "taken", and writes out, err, and rc last.
serve() { # REQUEST
    local d=$1 cwd argv envv
    mapfile -d '' -t argv < "$d/argv"
    mapfile -d '' -t envv < "$d/env"
    cwd=$(cat "$d/cwd")
    # Pipes, as a runner's own stdout and stderr usually are: concurrent writers of a file on 9p
    # may overwrite each other's lines, where a pipe keeps each write of up to PIPE_BUF whole.
    { { (cd "$cwd" && exec env -i "${envv[@]}" "${argv[@]}") < /dev/null | cat > "$d/out"
        echo "${PIPESTATUS[0]}" > "$d/rc.tmp"; } 2>&1 | cat > "$d/err"; }
    mv "$d/rc.tmp" "$d/rc"
}

agent() {
    local idle=$1 last=$SECONDS r d busy
    mkdir -p "$spool/req"
    echo "$(uname -r)" > "$spool/ready.tmp" && mv "$spool/ready.tmp" "$spool/ready"
    while :; do
        busy=0
        for r in "$spool"/req/*/submitted; do
            [ -e "$r" ] || continue
            d=${r%/submitted}
            mv "$r" "$d/taken" 2>/dev/null || continue
            serve "$d" &
            busy=1
        done
        [ $busy = 1 ] || [ -n "$(jobs -rp)" ] && last=$SECONDS
        if [ $((SECONDS - last)) -ge "$idle" ]; then
            # Gone from "ready" first: a runner that submits now restarts the VM (run_command).
            rm -f "$spool/ready"
            compgen -G "$spool/req/*/submitted" >/dev/null || break
            echo "$(uname -r)" > "$spool/ready"
        fi
        sleep 0.1
    done
    sync
    echo o > /proc/sysrq-trigger
}

# --- on the host ---
qemu_alive() { [ -s "$spool/qemu.pid" ] && kill -0 "$(cat "$spool/qemu.pid")" 2>/dev/null; }

# What the initramfs is made of: rebuilt when the kernel or its modules change.
initrd_stamp() { cat "$VM_CACHE/kernels/$kernel/release"; ls -l "$VM_CACHE/kernels/$kernel/9p" "$self"; }

# The initramfs: busybox, the 9p client and binfmt_misc modules of the kernel, and an init that
# mounts this machine's root over 9p and switches to it to run the agent.
build_initrd() {
    local k=$VM_CACHE/kernels/$kernel ir=$spool/initrd
    rm -rf "$ir" && mkdir -p "$ir"/{bin,proc,dev,newroot,mods} || return 1
    cp "$VM_CACHE/busybox/amd64/busybox" "$ir/bin/busybox" && cp "$k"/9p/*.ko "$ir/mods/" || return 1
    [ -e "$k/binfmt_misc.ko" ] && { cp "$k/binfmt_misc.ko" "$ir/mods/z-binfmt_misc.ko" || return 1; }
    cat > "$ir/init" <<'INIT'
#!/bin/busybox sh
b=/bin/busybox
$b mount -t proc proc /proc && $b mount -t devtmpfs dev /dev || exec $b echo "instance-vm: no /proc" > /dev/console
for m in /mods/*.ko; do $b insmod "$m" || $b echo "instance-vm: insmod $m failed" > /dev/console; done
# cache=mmap: what the guest writes reaches the host at once, and programs can be mapped.
$b mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=mmap hostroot /newroot ||
    { $b echo "instance-vm: cannot mount the host's root over 9p" > /dev/console; $b poweroff -f; }
cd /newroot
# The mounts and the /dev links udev would add (bash's <(...) opens /dev/fd/N).
$b mount -t proc proc proc && $b mount -t devtmpfs dev dev && $b mkdir -p dev/pts dev/shm &&
    $b mount -t sysfs sys sys &&
    $b mount -t devpts devpts dev/pts && $b mount -t tmpfs -o mode=0755 tmpfs run &&
    $b mount -t tmpfs tmpfs dev/shm &&
    $b ln -s /proc/self/fd dev/fd && $b ln -s /proc/self/fd/0 dev/stdin &&
    $b ln -s /proc/self/fd/1 dev/stdout && $b ln -s /proc/self/fd/2 dev/stderr
agent=$($b sed -n 's/.* agent=\([^ ]*\).*/\1/p' /proc/cmdline)
spool=$($b sed -n 's/.* spool=\([^ ]*\).*/\1/p' /proc/cmdline)
idle=$($b sed -n 's/.* idle=\([0-9]*\).*/\1/p' /proc/cmdline)
$b umount /proc /dev
# switch_root, not chroot: a chrooted process may not create a user namespace (EPERM).
exec $b switch_root /newroot /bin/bash -c "bash $agent --agent $spool $idle; echo o > /proc/sysrq-trigger"
INIT
    chmod 755 "$ir/init" &&
        (cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$spool/initrd.gz.tmp" &&
        mv "$spool/initrd.gz.tmp" "$spool/initrd.gz" && initrd_stamp > "$spool/initrd.stamp"
}

start_vm() {
    local work why cpus
    for tool in qemu-system-x86_64 cpio xz gzip; do
        command -v $tool >/dev/null || { echo "$tool is not installed"; return 1; }
    done
    [ "$(uname -m)" = x86_64 ] || { echo "this VM is built for x86_64 hosts only (this one: $(uname -m))"; return 1; }
    [ "$(id -u)" = 0 ] || { echo "needs root: the VM's root is this machine's file system, its root ours"; return 1; }
    work=$(mktemp -d) || return 1
    mirror=${VM_MIRROR:-http://deb.debian.org/debian}
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    cache=$VM_CACHE
    # shellcheck source=../VM/suite/debian.sh
    . "$here/../VM/suite/debian.sh"
    # The VM suite's lock: one run at a time fills the cache.
    mkdir -p "$VM_CACHE" && exec 9> "$VM_CACHE/.lock" && flock 9 || { echo "cannot lock $VM_CACHE"; return 1; }
    why=$(fetch_kernel $kernel && fetch_busybox amd64) || { rm -rf "$work"; echo "$why"; return 1; }
    exec 9>&-
    rm -rf "$work"
    if [ ! -s "$spool/initrd.gz" ] || [ "$(initrd_stamp)" != "$(cat "$spool/initrd.stamp" 2>/dev/null)" ]; then
        build_initrd || { echo "cannot build the initramfs in $spool"; return 1; }
    fi
    # Requests already submitted stay: their runners wait for this VM.
    rm -f "$spool/ready" && mkdir -p "$spool/req"
    cpus=$(nproc)
    [ "$cpus" -gt 4 ] && cpus=4
    # A session of its own, and no descriptor but the three: the VM outlives the runner that
    # started it and serves the next, and must not hold open a pipe the runner inherited (a
    # test harness would wait for its end until the VM powered off).
    # -cpu max: the toolchain's binaries use instructions qemu64 lacks (SIGILL); without
    # 5-level paging, with which a guest nested under software emulation double-faulted.
    setsid bash -c 'for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@"' qemu \
        qemu-system-x86_64 -accel "${INSTANCE_VM_ACCEL:-tcg}" -cpu max,la57=off -m "${INSTANCE_VM_MEMORY:-2048}" -smp "$cpus" \
        -display none -monitor none -nic none -no-reboot -serial "file:$spool/console.log" \
        -kernel "$VM_CACHE/kernels/$kernel/vmlinuz" -initrd "$spool/initrd.gz" \
        -append "console=ttyS0 quiet panic=-1 agent=$self spool=$spool idle=${INSTANCE_VM_IDLE:-120}" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=passthrough,multidevs=remap,id=hostroot \
        < /dev/null > "$spool/qemu.log" 2>&1 &
    echo $! > "$spool/qemu.pid"
    # A deadline in seconds, as run_command's: counting sleeps would stretch it on a slow host.
    local t0=$SECONDS boot=${INSTANCE_VM_BOOT:-180}
    until [ -e "$spool/ready" ]; do
        qemu_alive || { echo "qemu stopped: $(tail -c 300 "$spool/qemu.log" | tr '\n' ' ') console: $(tail -c 400 "$spool/console.log" | tr -d '\r' | tr '\n' ' ')"; return 1; }
        [ $((SECONDS - t0)) -ge "$boot" ] && { echo "the VM was not ready within $boot s: console: $(tail -c 400 "$spool/console.log" | tr -d '\r' | tr '\n' ' ')"; return 1; }
        sleep 0.1
    done
}

# A VM that is up and ready, started if need be; one runner starts it while the others wait.
ensure_vm() {
    local why
    mkdir -p "$spool" || fail "cannot create $spool"
    exec 8> "$spool/lock"
    flock 8
    if ! { qemu_alive && [ -e "$spool/ready" ]; }; then
        # Alive but not ready: powering off after its idle time; the next one starts after it.
        for _ in $(seq 100); do qemu_alive || break; sleep 0.1; done
        qemu_alive && kill "$(cat "$spool/qemu.pid")"
        why=$(start_vm) || { exec 8>&-; fail "cannot start the VM: $why"; }
    fi
    exec 8>&-
}

run_command() {
    local d t0=$SECONDS limit=${INSTANCE_VM_TIMEOUT:-1800} rc
    ensure_vm
    d=$(mktemp -d "$spool/req/XXXXXX") || fail "cannot create a request in $spool/req"
    # A runner that is stopped takes its request along, so that no later VM runs it.
    trap 'rm -rf "$d"' EXIT
    trap 'exit 130' INT TERM
    printf '%s\0' "$@" > "$d/argv" && env -0 > "$d/env" && pwd > "$d/cwd" && : > "$d/submitted" ||
        fail "cannot write the request $d"
    while [ ! -e "$d/rc" ]; do
        if ! qemu_alive; then
            [ -e "$d/submitted" ] || { fail "the VM stopped while running $1: console: $(tail -c 400 "$spool/console.log" | tr -d '\r' | tr '\n' ' ')"; }
            ensure_vm
        fi
        [ $((SECONDS - t0)) -ge "$limit" ] && { fail "$1 did not end within $limit s"; }
        sleep 0.05
    done
    cat "$d/out"
    cat "$d/err" >&2
    rc=$(cat "$d/rc")
    exit "$rc"
}

VM_CACHE=${VM_CACHE:-/var/cache/binfmt-bottle-vm}
case ${1:-} in
--needed) needed ;;
--agent) spool=${2:?--agent needs the spool}; agent "${3:?--agent needs the idle time}" ;;
--stop)
    # Not ready first, so that no runner submits to a VM that is going.
    rm -f "$spool/ready"
    qemu_alive || exit 0
    kill "$(cat "$spool/qemu.pid")"
    for _ in $(seq 100); do qemu_alive || exit 0; sleep 0.1; done
    fail "qemu $(cat "$spool/qemu.pid") did not stop" ;;
"" | -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) run_command "$@" ;;
esac
