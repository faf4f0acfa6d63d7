#!/bin/bash
# The context suite (runbottle(8), EXECUTION CONTEXTS): runs the probe sealed and as its
# reference (the same bottle after `binfmt-reg relocate`: PT_INTERP names its loader
# absolutely, the kernel's own exec) in each context, and compares every line the probe prints.
# One line per context, then "contexts: N passed, M failed". Needs root, a Docker daemon, gdb,
# strace, bubblewrap and setpriv; a context whose tool is missing fails with the reason.
# Usage: Tests/SystemTests/Contexts/suite/run.sh BINFMT_REG [CONTEXT-NAME-PATTERN]
set -uo pipefail
binfmt_reg=$1
only=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
user=65534
# Not under /tmp: the private-mounts context puts a tmpfs over /tmp, as PrivateTmp= does.
work=$(mktemp -d /srv/bottle-contexts-XXXXXX) || exit 1
chmod 755 "$work"
entry=bottle-ctx-$$
image=bottle-ctx-$$
podman_user=bottle-ctx-podman
created_user=0
podman_images=0
registered=0
# The host's instance, held for the run and reached from private mount namespaces
# (start_holder, on_instance); its check-line helpers are not used here.
suite=context
source "$here/../../lib/host-binfmt.sh"
cleanup() {
    # The one entry registered in the initial namespace goes on every exit path.
    [ $registered = 1 ] && on_instance "if [ -e $entry ]; then echo -1 > $entry; fi"
    if [ -n "$holder" ]; then kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; fi
    docker rmi -f $image-interp $image-ref $image-binfmt >/dev/null 2>&1
    [ $podman_images = 1 ] && podman rmi -f $image-interp $image-ref >/dev/null 2>&1
    # The rootless user goes with its image store; its podman leaves a pause process behind.
    if [ $created_user = 1 ]; then
        pkill -KILL -u "$podman_user" 2>/dev/null; sleep 0.2
        userdel -r "$podman_user" >/dev/null 2>&1
    fi
    if [ -n "${CONTEXTS_KEEP:-}" ]; then echo "contexts: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
die() { echo "contexts: $*" >&2; exit 1; }

# --- the bottle: the probe with the bottle's own glibc and loader, found through $ORIGIN ---
b=$work/b
mkdir -p "$b/bin" "$b/lib" "$work/variants" "$work/out" "$work/root" || die "mkdir"
chmod 1777 "$work/out"
gcc -O2 -Wall -o "$b/bin/probe" "$here/probe.c" -Wl,-rpath,'$ORIGIN/../lib' || die "probe build"
gcc -O2 -Wall -o "$work/ctx-exec" "$here/ctx-exec.c" || die "ctx-exec build"
cp -L /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6 "$b/lib/" || die "copy glibc"
"$binfmt_reg" install --root "$work/root" --no-persist >/dev/null || die "runbottle install --root"
runbottle=$work/root/usr/libexec/runbottle
[ -x "$runbottle" ] || die "no runbottle at $runbottle"

# Variants, each run in turn from the same path ($b/bin/probe) so that argv, AT_EXECFN and exe
# compare as they are: interp (PT_INTERP names runbottle here), ref (relocated), binfmt (note
# type 1, for the binfmt_misc entry), and for containers the same three with runbottle at
# /usr/libexec/runbottle, where the image installs it.
variant() { cp "$b/bin/probe" "$work/variants/$1"; }
"$binfmt_reg" seal --interpreter "$runbottle" "$b/bin/probe" >/dev/null || die "seal"
variant interp
"$binfmt_reg" relocate "$b/bin/probe" >/dev/null || die "relocate"
variant ref
"$binfmt_reg" seal --dispatch binfmt --interpreter "$runbottle" "$b/bin/probe" >/dev/null || die "seal --dispatch binfmt"
variant binfmt
"$binfmt_reg" seal "$b/bin/probe" >/dev/null || die "seal (container)"
variant container-interp

use() { cp "$work/variants/$1" "$b/bin/probe.new" && mv "$b/bin/probe.new" "$b/bin/probe"; }

# --- running one context: $1 variant, then the command that runs "$probe" (PROBE_OUT set) ---
probe=$b/bin/probe
out=$work/out/probe.txt
args=(one 'two words')
run_variant() {
    local v=$1
    shift
    use "$v" || return 1
    rm -f "$out"
    PROBE_OUT=$out "$@" >"$work/out/stdout" 2>"$work/out/stderr"
    local rc=$?
    if [ ! -s "$out" ] || [ $rc != 0 ]; then
        echo "exit $rc; stderr: $(head -c 400 "$work/out/stderr" | tr '\n' ' ')" > "$work/out/$v.fail"
        return 1
    fi
    cp "$out" "$work/out/$v.txt"
}

value() { awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$2"; }
passed=0
failed=0
# Whether the contexts named NAME... are among those asked for (CONTEXT-NAME-PATTERN).
selected() { local n; for n; do [ -z "$only" ] || [[ $n == *$only* ]] && return 0; done; return 1; }
# check NAME DISPATCH EXPECTED-DIFFERENCES COMMAND...: EXPECTED-DIFFERENCES is a regular
# expression of the keys that differ by design there ("" for none); they must differ, and
# nothing else may. A context run elsewhere than on this kernel says where in $where.
check() {
    local name=$1 dispatch=$2 expected=$3
    shift 3
    selected "$name" || return 0
    local sealed=${sealed_variant:-$dispatch} ok=1 detail="" at=${where:+ ($where)}
    rm -f "$work/out/"*.fail "$work/out/"*.txt
    if ! run_variant ref "$@"; then
        detail="reference failed: $(cat "$work/out/ref.fail")"
        ok=0
    elif ! run_variant "$sealed" "$@"; then
        detail="sealed run failed: $(cat "$work/out/$sealed.fail")"
        ok=0
    else
        local diffs
        diffs=$(diff <(sort "$work/out/ref.txt") <(sort "$work/out/$sealed.txt") | grep '^[<>]' | sed 's/=.*//; s/^. //' | sort -u)
        local unexpected=$diffs missing=""
        if [ -n "$expected" ]; then
            unexpected=$(printf '%s\n' "$diffs" | grep -Ev "^($expected)\$" | grep . || true)
            missing=$(printf '%s\n' "$diffs" | grep -Ec "^($expected)\$" || true)
            [ "$missing" = 0 ] && { ok=0; detail="expected differences ($expected) did not show"; }
        fi
        if [ -n "$unexpected" ]; then
            ok=0
            detail="differs: $(for k in $unexpected; do
                printf '%s sealed=%s reference=%s; ' "$k" "$(value "$k" "$work/out/$sealed.txt")" \
                    "$(value "$k" "$work/out/ref.txt")"
            done)"
        fi
    fi
    local n
    n=$(wc -l 2>/dev/null < "$work/out/ref.txt" || echo 0)
    if [ $ok = 1 ]; then
        passed=$((passed + 1))
        if [ -n "$expected" ]; then
            echo "context $name [$dispatch]: as documented, $n observables, differing only in: $(printf '%s\n' "$diffs" | tr '\n' ' ')$at"
        else
            echo "context $name [$dispatch]: same as the native exec, $n observables$at"
        fi
    else
        failed=$((failed + 1))
        echo "context $name [$dispatch]: FAILED: $detail$at"
    fi
}
need() { command -v "$1" >/dev/null || { failed=$((failed + 1)); echo "context $2: FAILED: $1 is not installed"; return 1; }; }

as_user=(setpriv --reuid=$user --regid=$user --clear-groups)
user_sh() { "${as_user[@]}" sh -c "$1" sh "${@:2}"; }

# --- hosts, PT_INTERP dispatch ---
check root interp "" "$probe" "${args[@]}"
check user interp "" "${as_user[@]}" "$probe" "${args[@]}"
check user-ambient-net-bind-service interp "" \
    setpriv --reuid=$user --regid=$user --clear-groups --inh-caps=+net_bind_service \
        --ambient-caps=+net_bind_service "$probe" "${args[@]}"
check user-stack-unlimited interp "" user_sh 'ulimit -s unlimited; exec "$@"' "$probe" "${args[@]}"
check user-nofile-64 interp "" user_sh 'ulimit -n 64; exec "$@"' "$probe" "${args[@]}"
check user-setarch-R interp "" "${as_user[@]}" setarch "$(uname -m)" -R "$probe" "${args[@]}"
check user-pdeathsig interp "" "${as_user[@]}" --pdeathsig TERM "$probe" "${args[@]}"
check root-bounding-set-without-checkpoint-restore interp "" \
    setpriv --bounding-set=-checkpoint_restore,-sys_admin "$probe" "${args[@]}"
check user-no-new-privs interp "" "${as_user[@]}" --no-new-privs "$probe" "${args[@]}"
# Before 6.3 the kernel has no PR_SET_MDWE (EINVAL): the contexts that set it run, reference and
# sealed alike, in the VM of instance-vm.sh (a newer kernel, this machine's files), as the user
# namespace's own instance does below. BINFMT_BOTTLE_MDWE=refused sends them there on any kernel.
instance_vm=(bash "$here/../../lib/instance-vm.sh")
mdwe_runner=() mdwe_where=
if [ "${BINFMT_BOTTLE_MDWE:-}" = refused ]; then
    mdwe_where="in the instance VM: BINFMT_BOTTLE_MDWE=refused"
elif ! "$work/ctx-exec" --mdwe -- /bin/true 2> "$work/mdwe.err" && grep -q 'Invalid argument' "$work/mdwe.err"; then
    mdwe_where="in the instance VM: Linux $(uname -r) has no PR_SET_MDWE (6.3 and later have)"
fi
[ -n "$mdwe_where" ] && mdwe_runner=("${instance_vm[@]}")
where=$mdwe_where check user-mdwe-prctl interp "" "${mdwe_runner[@]}" "${as_user[@]}" "$work/ctx-exec" --mdwe -- "$probe" "${args[@]}"
check user-mdwe-seccomp interp "" "${as_user[@]}" "$work/ctx-exec" --mdwe-seccomp -- "$probe" "${args[@]}"
check root-mdwe-seccomp interp "" "$work/ctx-exec" --mdwe-seccomp -- "$probe" "${args[@]}"
# PrivateTmp= and ProtectSystem=full as systemd sets them up: a mount namespace of the service's
# own, a tmpfs over /tmp and /var/tmp, /usr /boot and /etc read-only; then the service's user.
check user-private-mounts interp "" unshare --mount --propagation private sh -c '
    mount -t tmpfs tmpfs /tmp && mount -t tmpfs tmpfs /var/tmp &&
    for d in /usr /etc; do mount --bind "$d" "$d" && mount -o remount,bind,ro "$d" || exit 1; done &&
    exec "$@"' sh "${as_user[@]}" "$probe" "${args[@]}"
if need gdb user-under-gdb; then
    check user-under-gdb interp "" "${as_user[@]}" gdb -nx -batch -ex run --args "$probe" "${args[@]}"
fi
if need strace user-under-strace; then
    check user-under-strace interp "" "${as_user[@]}" strace -f -qq -o /dev/null "$probe" "${args[@]}"
fi
if need valgrind user-under-valgrind; then
    # valgrind loads runbottle as the interpreter in its own process: runbottle's PR_SET_MM_MAP
    # then sets the fields of valgrind's mm (stat's ranges and argv/env sizes), and valgrind's
    # emulated /proc/self/auxv keeps the AT_BASE it started runbottle with.
    check user-under-valgrind interp "saved-auxv.AT_BASE|stat.argv-bytes|stat.env-bytes|stat.startcode|stat.endcode|stat.startdata|stat.enddata" \
        "${as_user[@]}" valgrind -q --error-exitcode=99 "$probe" "${args[@]}"
fi
if need ltrace user-under-ltrace; then
    check user-under-ltrace interp "" "${as_user[@]}" ltrace -f -o /dev/null "$probe" "${args[@]}"
fi
if need bwrap user-in-bubblewrap; then
    check user-in-bubblewrap interp "" "${as_user[@]}" bwrap --ro-bind / / --proc /proc --dev /dev \
        --bind "$work/out" "$work/out" --unshare-pid "$probe" "${args[@]}"
fi
check user-namespace interp "" "${as_user[@]}" unshare --user --map-root-user "$probe" "${args[@]}"
# A setuid-root program run by an ordinary user keeps its native privileges (AT_SECURE, euid).
setuid_run() { chmod u+s "$probe" && "${as_user[@]}" "$@"; }
check user-runs-setuid-root interp "" setuid_run "$probe" "${args[@]}"

# --- binfmt dispatch: root and a user namespace's root hold CAP_CHECKPOINT_RESTORE ---
# Where runbottle may not move /proc/self/exe it runs the loader in its explicit mode: exe names
# runbottle, and AT_BASE and the code and data ranges describe the loader (runbottle(8)).
explicit_mode='exe|auxv.AT_BASE|auxv.AT_ENTRY|auxv.AT_PHDR|auxv.AT_PHNUM|saved-auxv.AT_BASE|saved-auxv.AT_ENTRY|saved-auxv.AT_PHDR|saved-auxv.AT_PHNUM|stat.startcode|stat.endcode|stat.startdata|stat.enddata|stat.brk-above-enddata'
# In a user namespace of its own, with a private binfmt_misc instance (Linux 6.7+). The line is
# made here: the user need not reach binfmt-reg where the checkout is (mktemp -d makes it 0700).
"$binfmt_reg" line --name BOTTLE --interpreter "$runbottle" --no-privileged-entry > "$work/user-ns.line" &&
    chmod 644 "$work/user-ns.line" || die "line for the user namespace"
# Before 6.7 a user namespace mounts no instance of its own: this context, reference and sealed
# run alike, runs in the VM of instance-vm.sh, which boots a newer kernel with this machine's files.
instance_runner=() instance_where=
why=$("${instance_vm[@]}" --needed) &&
    instance_runner=("${instance_vm[@]}") instance_where="in the instance VM: $why"
where=$instance_where check user-namespace-private-instance-binfmt binfmt "" "${instance_runner[@]}" "${as_user[@]}" \
    unshare --user --map-root-user --mount --propagation private sh -c '
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc &&
        cat "$0" > /proc/sys/fs/binfmt_misc/register && exec "$@"' \
    "$work/user-ns.line" "$probe" "${args[@]}"
# Entry in the initial namespace: unique name, removed by cleanup on every exit path.
# binfmt_misc stays unmounted in the host's mount namespace, where other suites run meanwhile
# (Tests/SystemTests/lib/host-binfmt.sh).
start_holder || die "cannot hold a mount of the host's binfmt_misc: $(oneline "$work/holder.err")"
"$binfmt_reg" line --name $entry --interpreter "$runbottle" --no-privileged-entry > "$work/host.line" &&
    on_instance "cat '$work/host.line' > register" && registered=1 || die "cannot register $entry"
# runbottle's PR_SET_MM_MAP(exe_fd) is a capability use: the kernel marks the task
# PF_SUPERPRIV (stat.flags), which the native exec of the same program does not.
check root-binfmt binfmt "stat.flags" "$probe" "${args[@]}"
# In the VM the host's entry is not there: the same line is registered in the VM's instance for
# the command, and removed after it.
in_mdwe_kernel() {
    [ ${#mdwe_runner[@]} = 0 ] && { "$@"; return; }
    "${mdwe_runner[@]}" unshare --mount --propagation private sh -c '
        bm=/proc/sys/fs/binfmt_misc
        mount -t binfmt_misc binfmt_misc $bm && cat "$0" > $bm/register || exit 125
        "$@"; rc=$?
        echo -1 > $bm/'"$entry"' && exit $rc' "$work/host.line" "$@"
}
where=$mdwe_where check root-binfmt-mdwe-prctl binfmt "stat.flags" in_mdwe_kernel "$work/ctx-exec" --mdwe -- "$probe" "${args[@]}"
# Installing the filter as root already marked the task PF_SUPERPRIV, and exec keeps the flag.
check root-binfmt-mdwe-seccomp binfmt "" "$work/ctx-exec" --mdwe-seccomp -- "$probe" "${args[@]}"
check root-binfmt-bounding-set-without-checkpoint-restore binfmt "$explicit_mode" \
    setpriv --bounding-set=-checkpoint_restore,-sys_admin "$probe" "${args[@]}"
# For an ordinary user runbottle cannot move /proc/self/exe: the loader's explicit mode.
check user-binfmt binfmt "$explicit_mode" \
    "${as_user[@]}" "$probe" "${args[@]}"

# --- containers: images FROM scratch with the bottle at the same path; real dockerd ---
ctx=$work/image
mkimage() {
    rm -rf "$ctx" && mkdir -p "$ctx$b/bin" "$ctx/usr/libexec" "$ctx$work/out" &&
    cp -a "$b/lib" "$ctx$b/" && cp "$work/variants/$2" "$ctx$b/bin/probe" &&
    chmod 1777 "$ctx$work/out" &&
    if [ "$3" = with-runbottle ]; then cp "$runbottle" "$ctx/usr/libexec/runbottle"; fi &&
    printf 'FROM scratch\nCOPY . /\n' > "$ctx/Dockerfile" &&
    chmod -R a+rX "$ctx" &&
    if [ "${4:-}" = podman-image ]; then return 0; fi &&
    docker build -q -t "$image-$1" "$ctx" >/dev/null 2>&1
}
if ! selected docker-default docker-user docker-no-new-privileges docker-user-no-new-privileges \
    docker-host-f-entry-sys-admin docker-host-f-entry; then :
elif need docker docker && docker info >/dev/null 2>&1; then
    # The container variants: "interp" and "ref" images each hold one variant at $probe.
    mkimage interp container-interp with-runbottle || die "docker build"
    # The reference image is binfmt-reg(8)'s first container recipe: a relocated bottle, FROM
    # scratch, nothing else.
    mkimage ref ref without-runbottle || die "docker build"
    mkimage binfmt binfmt without-runbottle || die "docker build"
    in_docker() {
        local variant=$1
        shift
        docker run --rm "$@" "$image-$variant" "$probe" "${args[@]}" > "$out"
    }
    # check runs "ref" then the sealed variant through the same command; the command picks the
    # image from the variant now in place ($b/bin/probe's bytes): compare by content.
    docker_ctx() {
        local v
        for v in container-interp ref binfmt; do
            if cmp -s "$probe" "$work/variants/$v"; then break; fi
        done
        case $v in container-interp) v=interp ;; esac
        in_docker "$v" "$@"
    }
    sealed_variant=container-interp check docker-default interp "" docker_ctx
    sealed_variant=container-interp check docker-user interp "" docker_ctx --user 1000:1000
    sealed_variant=container-interp check docker-no-new-privileges interp "" docker_ctx --security-opt no-new-privileges
    sealed_variant=container-interp check docker-user-no-new-privileges interp "" docker_ctx --user 1000:1000 --security-opt no-new-privileges
    # Through the host's F entry, with no runbottle in the image: root with CAP_SYS_ADMIN can move
    # /proc/self/exe; Docker's default capability set cannot (explicit mode, exe names runbottle).
    check docker-host-f-entry-sys-admin binfmt "" docker_ctx --cap-add SYS_ADMIN
    check docker-host-f-entry binfmt "$explicit_mode" docker_ctx
else
    failed=$((failed + 1))
    echo "context docker: FAILED: no docker daemon answers (start dockerd)"
fi

# --- rootless Podman: an ordinary user with subordinate ids and an image store of its own ---
if selected podman-rootless podman-rootless-user && need podman podman-rootless; then
    if ! id "$podman_user" >/dev/null 2>&1; then
        useradd -m "$podman_user" || die "useradd $podman_user"
        created_user=1
    fi
    grep -q "^$podman_user:" /etc/subuid || die "$podman_user has no subordinate uids (/etc/subuid)"
    podman_as_user() { runuser -l "$podman_user" -c "$*"; }
    for v in interp ref; do
        mkimage "$v" "$([ $v = interp ] && echo container-interp || echo ref)" \
            "$([ $v = interp ] && echo with-runbottle || echo without-runbottle)" podman-image ||
            die "image for podman"
        podman_as_user "podman build -q -t $image-$v $ctx" >/dev/null 2>&1 || die "podman build (rootless)"
    done
    podman_ctx() {
        local v=interp
        cmp -s "$probe" "$work/variants/ref" && v=ref
        podman_as_user "podman run --rm --network none $* $image-$v $probe one 'two words'" > "$out"
    }
    sealed_variant=container-interp check podman-rootless interp "" podman_ctx
    sealed_variant=container-interp check podman-rootless-user interp "" podman_ctx --user 1000:1000
fi

# --- rootful Podman: root's image store, the host's user namespace ---
if selected podman-rootful podman-rootful-user podman-rootful-no-new-privileges && need podman podman-rootful; then
    for v in interp ref; do
        mkimage "$v" "$([ $v = interp ] && echo container-interp || echo ref)" \
            "$([ $v = interp ] && echo with-runbottle || echo without-runbottle)" podman-image ||
            die "image for podman"
        podman build -q -t "$image-$v" "$ctx" >/dev/null 2>&1 || die "podman build (rootful)"
    done
    podman_images=1
    # Podman's default rlimits (nofile 1048576) exceed the hard limits, and where root's bounding
    # set lacks CAP_SYS_RESOURCE (as on this CI's machines) runc cannot raise them: every
    # container then fails to start, sealed or not. Limits below conmon's own (nproc 32768) fit.
    ulimits=()
    if ! capsh --has-b=cap_sys_resource 2>/dev/null; then
        ulimits=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
    fi
    podman_root_ctx() {
        local v=interp
        cmp -s "$probe" "$work/variants/ref" && v=ref
        podman run --rm --network none "${ulimits[@]}" "$@" "$image-$v" "$probe" "${args[@]}" > "$out"
    }
    sealed_variant=container-interp check podman-rootful interp "" podman_root_ctx
    sealed_variant=container-interp check podman-rootful-user interp "" podman_root_ctx --user 1000:1000
    sealed_variant=container-interp check podman-rootful-no-new-privileges interp "" podman_root_ctx --security-opt no-new-privileges
fi

echo "contexts: $passed passed, $failed failed"
[ $failed = 0 ]
