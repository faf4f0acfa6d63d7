#!/bin/bash
# The VM suite: Debian's own kernels of other releases and architectures, booted in qemu (software
# emulation) with a busybox initramfs holding runbottle at /usr/libexec/runbottle, the
# registration lines and glibc and musl bottles of the context probe (Tests/SystemTests/Contexts/suite/probe.c):
# each sealed for both dispatches and as its reference, the same bottle relocated. The VM's init
# runs the checks as root and as uid 65534, prints one line each and powers off.
# Output: "vm: KERNEL ARCH CHECK ok|FAIL detail" for every check of every VM, "vm-time: ..." per
# VM, then "vm: N passed, M failed"; exit 0 only when all passed. A check that could not run (a
# missing tool, a failed download or build, a VM that did not finish) is a FAIL with its reason.
# Usage: Tests/SystemTests/VM/suite/run.sh [--kernel NAME]... [--binfmt-reg PATH] [--binfmt-reg-aarch64 PATH]
#        [--binfmt-reg-static PATH]
#   NAME: bullseye-amd64 (5.10), bookworm-amd64 (6.1), trixie-amd64 (6.12), trixie-arm64 (6.12)
#   --binfmt-reg-aarch64: the binfmt-reg that seals the aarch64 bottles (default: --binfmt-reg)
#   --binfmt-reg-static: the fully static x86-64 binfmt-reg (make release-static) that the
#     x86-64 VMs run themselves: install, status with its canaries, uninstall. The arm64 VM has
#     none: this machine has no Swift SDK for aarch64 (`swift sdk list`: none installed).
# Environment: VM_CACHE (downloads, default /var/cache/binfmt-bottle-vm), VM_REFRESH=1 (fetch
# the newest kernels again), VM_WORK (default /srv/vm-work), VM_TIMEOUT (seconds a VM, default
# 120), VM_MIRROR (default http://deb.debian.org/debian), VM_KEEP=1 (keep the work directory).
# Needs root (mknod), qemu-system-x86, qemu-system-arm, gcc, musl-tools, cpio, xz-utils,
# gcc-aarch64-linux-gnu (runbottle and the glibc programs for aarch64) and the Swift
# toolchain's clang (musl programs for aarch64: Debian has no musl cross compiler).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
binfmt_reg=$repo/.build/release/binfmt-reg
binfmt_reg_aarch64=
binfmt_reg_static=$repo/.build-image/release/binfmt-reg
all_kernels=(bullseye-amd64 bookworm-amd64 trixie-amd64 trixie-arm64)
kernels=()
while [ $# -gt 0 ]; do
    case $1 in
    --kernel) kernels+=("${2:?--kernel needs a name}"); shift 2 ;;
    --binfmt-reg) binfmt_reg=${2:?}; shift 2 ;;
    --binfmt-reg-aarch64) binfmt_reg_aarch64=${2:?}; shift 2 ;;
    --binfmt-reg-static) binfmt_reg_static=${2:?}; shift 2 ;;
    -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "Tests/SystemTests/VM/suite/run.sh: unknown argument $1 (--help)" >&2; exit 2 ;;
    esac
done
[ ${#kernels[@]} = 0 ] && kernels=("${all_kernels[@]}")
for k in "${kernels[@]}"; do
    [[ " ${all_kernels[*]} " == *" $k "* ]] || { echo "Tests/SystemTests/VM/suite/run.sh: unknown kernel $k (${all_kernels[*]})" >&2; exit 2; }
done
binfmt_reg_aarch64=${binfmt_reg_aarch64:-$binfmt_reg}
cache=${VM_CACHE:-/var/cache/binfmt-bottle-vm}
timeout_s=${VM_TIMEOUT:-120}
mirror=${VM_MIRROR:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
probe_c=$repo/Tests/SystemTests/Contexts/suite/probe.c
at_phdr_c=$here/at-phdr.c
PATH=$PATH:/opt/swift/usr/bin

mkdir -p "${VM_WORK:-/srv/vm-work}" "$cache" || exit 1
# The bottles live at the same absolute path on the host and in the VMs: the reference's
# PT_INTERP names its loader absolutely.
work=$(mktemp -d "${VM_WORK:-/srv/vm-work}/run-XXXXXX") || exit 1
chmod 755 "$work"
qemu_pid=
cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
    if [ "${VM_KEEP:-}" = 1 ]; then echo "vm-kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# One run at a time: they share the download cache.
exec 9> "$cache/.lock"
flock 9
[ "${VM_REFRESH:-}" = 1 ] && rm -rf "$cache/kernels" "$cache/busybox" "$cache/musl"

# The checks every VM reports, in order: the host fills in those it could not run.
libcs=(glibc musl)
checks=(boot module mount register)
# at-phdr: the kernel's AT_PHDR for a sealed file, through the kernel alone (ref) and through
# runbottle as its PT_INTERP (interp).
for libc in "${libcs[@]}"; do checks+=("at-phdr-$libc-ref" "at-phdr-$libc-interp"); done
for libc in "${libcs[@]}"; do
    for dispatch in interp binfmt; do
        for user in root user; do checks+=("$libc-$dispatch-$user"); done
    done
    # LIBC-binfmt-trampoline: under the binfmt dispatch runbottle leaves through the trampoline
    # seal wrote in the PT_INTERP slot's tail, mapped read and execute from the binary, not a
    # memfd copy (bottle(5)).
    checks+=("$libc-binfmt-trampoline")
done
# coreutils: Debian's own readlink and libc6 of the VM's architecture (the host's packages on
# x86_64, bookworm's arm64 packages on aarch64), bottled: readlink /proc/self/exe names the
# program, as natively. Under the binfmt dispatch an ordinary user's program runs in the
# loader's explicit mode (runbottle(8)), where it names runbottle: root only there.
checks+=(coreutils-interp-root coreutils-interp-user coreutils-binfmt-root)
# userns-instance: from 6.7 a user namespace mounts a binfmt_misc instance of its own, and a
# binfmt-dispatched program runs through an entry registered there; before 6.7 the kernel
# refuses the mount (EPERM), as the README says.
checks+=(userns-instance)
common_checks=("${checks[@]}")
# The x86-64 VMs run binfmt-reg itself (--binfmt-reg-static).
binfmt_reg_checks=(install status uninstall)

# --- downloads (debian.sh): kernels, busybox-static, musl, from a private apt configuration ---
. "$here/debian.sh"
# musl for arm64 (no musl-tools cross package): libc and headers from trixie's musl-dev.
fetch_musl() { # DEBARCH
    local dir=$cache/musl/$1
    [ -e "$dir/usr/lib/aarch64-linux-musl/libc.so" ] && return 0
    rm -rf "$dir.new" && fetch_deb trixie "$1" musl "$dir.new" && fetch_deb trixie "$1" musl-dev "$dir.new" &&
        rm -rf "$dir" && mv "$dir.new" "$dir"
}

# --- per architecture: runbottle, the bottles and their variants, staged as the VM's files ---
# compile LIBC ARCH OUTPUT SOURCE [FLAGS...]: the compilers the bottles are built with.
compile() {
    local libc=$1 arch=$2 output=$3 source=$4
    shift 4
    local kh=$work/kernel-headers-$arch
    if [ ! -d "$kh" ]; then
        # musl's headers have no linux/ and asm/: the kernel's UAPI headers, as musl expects.
        mkdir -p "$kh"
        if [ "$arch" = x86_64 ]; then
            ln -s /usr/include/linux /usr/include/asm-generic /usr/include/x86_64-linux-gnu/asm "$kh/"
        else
            ln -s /usr/aarch64-linux-gnu/include/linux /usr/aarch64-linux-gnu/include/asm-generic \
                /usr/aarch64-linux-gnu/include/asm "$kh/"
        fi
    fi
    case $libc-$arch in
    glibc-x86_64) gcc -O2 -Wall -o "$output" "$source" "$@" -Wl,-rpath,'$ORIGIN/../lib' ;;
    musl-x86_64) musl-gcc -O2 -Wall -idirafter "$kh" -o "$output" "$source" "$@" ;;
    glibc-aarch64)
        aarch64-linux-gnu-gcc -O2 -Wall -o "$output" "$source" "$@" -Wl,-rpath,'$ORIGIN/../lib' ;;
    # What musl-gcc's specs do, by hand: musl's headers, start files and libc, gcc's crtbegin.
    musl-aarch64)
        local m=$cache/musl/arm64/usr/lib/aarch64-linux-musl gccdir
        gccdir=$(dirname "$(clang --target=aarch64-linux-gnu -print-file-name=crtbeginS.o)")
        clang --target=aarch64-linux-gnu -fuse-ld=bfd -O2 -Wall -nostdlibinc \
            -isystem "$cache/musl/arm64/usr/include/aarch64-linux-musl" -idirafter "$kh" \
            -nostdlib -pie -fPIE -Wl,-dynamic-linker,/lib/ld-musl-aarch64.so.1 -o "$output" \
            "$m/Scrt1.o" "$m/crti.o" "$gccdir/crtbeginS.o" "$source" "$@" -L"$m" -lc \
            "$gccdir/libgcc.a" "$gccdir/crtendS.o" "$m/crtn.o" ;;
    esac
}
loader_of() { # LIBC ARCH: the file and its name in the bottle's lib/
    case $1-$2 in
    glibc-x86_64) echo /lib64/ld-linux-x86-64.so.2 ld-linux-x86-64.so.2 ;;
    musl-x86_64) echo /usr/lib/x86_64-linux-musl/libc.so ld-musl-x86_64.so.1 ;;
    glibc-aarch64) echo /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ld-linux-aarch64.so.1 ;;
    musl-aarch64) echo "$cache/musl/arm64/usr/lib/aarch64-linux-musl/libc.so" ld-musl-aarch64.so.1 ;;
    esac
}
libc_of() { # LIBC ARCH: libc.so.6 of glibc bottles
    case $1-$2 in
    glibc-x86_64) echo /lib/x86_64-linux-gnu/libc.so.6 ;;
    glibc-aarch64) echo /usr/aarch64-linux-gnu/lib/libc.so.6 ;;
    esac
}

# prepare_arch ARCH DEBARCH: stages $work/stage-ARCH; records in $work/fail-ARCH-CHECK the reason
# a check cannot run. Every bottle check needs runbottle, busybox and the registration lines.
prepare_arch() {
    local arch=$1 debarch=$2 stage=$work/stage-$1 why tool reg
    mkdir -p "$stage"/{bin,usr/libexec,vm/variants,etc,dev,lib/modules}
    arch_fail() { # CHECK-PATTERN REASON: every check matching the pattern
        local c
        for c in "${checks[@]}"; do
            # shellcheck disable=SC2053
            [[ $c == $1 ]] && [ ! -e "$work/fail-$arch-$c" ] && echo "$2" | tr '\n' ' ' > "$work/fail-$arch-$c"
        done
    }
    reg=$binfmt_reg
    [ "$arch" = aarch64 ] && reg=$binfmt_reg_aarch64
    for tool in cpio gzip xz "qemu-system-$arch"; do
        command -v "$tool" >/dev/null || { arch_fail '*' "$tool is not installed"; return; }
    done
    [ -x "$reg" ] || { arch_fail '*' "no binfmt-reg at $reg (swift build -c release)"; return; }
    why=$(fetch_busybox "$debarch") || { arch_fail '*' "busybox-static $debarch: $why"; return; }
    cp "$cache/busybox/$debarch/busybox" "$stage/bin/busybox" && chmod 755 "$stage/bin/busybox" &&
        ln -s busybox "$stage/bin/sh"
    mknod -m 600 "$stage/dev/console" c 5 1 || { arch_fail '*' "mknod dev/console failed (needs root)"; return; }
    printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$stage/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$stage/etc/group"

    # runbottle for this architecture, built as the package builds it.
    local rbcc=cc
    [ "$arch" = aarch64 ] && rbcc=aarch64-linux-gnu-gcc
    mkdir -p "$work/runbottle-$arch"
    if ! RUNBOTTLE_ARCH=$arch RUNBOTTLE_CC=$rbcc sh "$repo/Sources/runbottle/build.sh" \
        "$repo/Sources/runbottle" "$work/runbottle-$arch" > "$work/runbottle-$arch.log" 2>&1; then
        arch_fail '*' "runbottle build for $arch failed: $(tail -3 "$work/runbottle-$arch.log" | tr '\n' ' ')"
        return
    fi
    cp "$work/runbottle-$arch/runbottle" "$stage/usr/libexec/runbottle"
    if [ "$arch" = x86_64 ]; then
        if [ -x "$binfmt_reg_static" ] && file -L "$binfmt_reg_static" | grep -q 'statically linked'; then
            cp "$binfmt_reg_static" "$stage/vm/binfmt-reg"
        else
            arch_fail 'install' "no statically linked binfmt-reg at $binfmt_reg_static (make release-static)"
            arch_fail 'status' "no statically linked binfmt-reg at $binfmt_reg_static (make release-static)"
            arch_fail 'uninstall' "no statically linked binfmt-reg at $binfmt_reg_static (make release-static)"
        fi
    fi
    if ! why=$("$reg" line --arch "$arch" 2>&1 > "$stage/vm/lines"); then
        arch_fail 'register' "binfmt-reg line --arch $arch: $why"
        arch_fail '*-binfmt-*' "no registration lines: binfmt-reg line --arch $arch: $why"
    fi

    if [ "$arch" = aarch64 ] && ! why=$(fetch_musl "$debarch"); then
        arch_fail 'musl-*' "musl $debarch: $why"
        arch_fail 'at-phdr-musl-*' "musl $debarch: $why"
    fi
    local libc b loader name
    for libc in "${libcs[@]}"; do
        [ -e "$work/fail-$arch-$libc-interp-root" ] && continue
        b=$work/b/$arch/$libc
        mkdir -p "$b/bin" "$b/lib" "$stage/vm/variants/$libc"
        # bottle_fail REASON: the bottle's checks cannot run.
        bottle_fail() { arch_fail "$libc-*" "$1"; arch_fail "at-phdr-$libc-*" "$1"; }
        why=$(compile "$libc" "$arch" "$b/bin/probe" "$probe_c" 2>&1) || { bottle_fail "probe build: $why"; continue; }
        why=$(compile "$libc" "$arch" "$b/bin/at-phdr" "$at_phdr_c" 2>&1) || { bottle_fail "at-phdr build: $why"; continue; }
        read -r loader name < <(loader_of "$libc" "$arch")
        cp -L "$loader" "$b/lib/$name" || { bottle_fail "no loader $loader"; continue; }
        if [ "$libc" = glibc ]; then cp -L "$(libc_of "$libc" "$arch")" "$b/lib/" || { bottle_fail "no libc.so.6"; continue; }; fi
        # The variants, as Tests/SystemTests/Contexts/suite/run.sh makes them: interp (PT_INTERP names
        # /usr/libexec/runbottle), ref (relocated: PT_INTERP names the loader), binfmt (note type 1).
        why=$("$reg" seal "$b/bin/at-phdr" "$b/bin/probe" 2>&1) || { bottle_fail "seal: $why"; continue; }
        cp "$b/bin/probe" "$stage/vm/variants/$libc/interp"
        cp "$b/bin/at-phdr" "$stage/vm/variants/$libc/at-phdr-interp"
        why=$("$reg" relocate "$b/bin/probe" "$b/bin/at-phdr" 2>&1) || { bottle_fail "relocate: $why"; continue; }
        cp "$b/bin/probe" "$stage/vm/variants/$libc/ref"
        cp "$b/bin/at-phdr" "$stage/vm/variants/$libc/at-phdr-ref"
        if why=$("$reg" seal --dispatch binfmt "$b/bin/probe" 2>&1); then
            cp "$b/bin/probe" "$stage/vm/variants/$libc/binfmt"
            # The file offset of the page holding the slot's tail, as /proc/PID/maps prints it.
            slot=$(readelf -lW "$b/bin/probe" | awk '$1 == "INTERP" { print $2 }')
            printf '%08x\n' $(((slot + 3072) & ~4095)) > "$stage/vm/variants/$libc/slot-page"
        else
            arch_fail "$libc-binfmt-*" "seal --dispatch binfmt: $why"
        fi
        mkdir -p "$stage$(dirname "$b")" && cp -a "$b" "$stage$b"
    done
    prepare_coreutils
    chmod -R a+rX "$stage"
}

# The coreutils bottle of prepare_arch's architecture, made by binfmt-reg bottle from the
# package's readlink: on x86_64 the host's own, on aarch64 bookworm's arm64 coreutils and libc6
# unpacked into a root that --sysroot names (the bottle is made on this x86-64 host).
prepare_coreutils() {
    local b=$work/b/$arch/coreutils pkgroot=/ why f readlink sysroot=()
    coreutils_fail() { arch_fail 'coreutils-*' "$1"; }
    if [ "$arch" = aarch64 ]; then
        pkgroot=$work/coreutils-$debarch
        rm -rf "$pkgroot"
        for f in coreutils libc6; do
            why=$(fetch_deb bookworm "$debarch" "$f" "$pkgroot") || { coreutils_fail "$f $debarch: $why"; return; }
        done
        sysroot=(--sysroot "$pkgroot")
    fi
    # bookworm's packages keep /bin; the merged /usr of the host has both paths.
    readlink=$(ls "$pkgroot"/{usr/,}bin/readlink 2>/dev/null | head -1)
    [ -n "$readlink" ] || { coreutils_fail "no readlink in the packages"; return; }
    mkdir -p "$stage/vm/variants/coreutils" "$(dirname "$b")"
    why=$("$reg" bottle "${sysroot[@]}" "$readlink" -o "$b" 2>&1) || { coreutils_fail "bottle: $why"; return; }
    cp "$b/bin/readlink" "$stage/vm/variants/coreutils/interp"
    why=$("$reg" relocate "$b/bin/readlink" 2>&1) || { coreutils_fail "relocate: $why"; return; }
    cp "$b/bin/readlink" "$stage/vm/variants/coreutils/ref"
    why=$("$reg" seal --dispatch binfmt "$b/bin/readlink" 2>&1) || { arch_fail 'coreutils-binfmt-*' "seal --dispatch binfmt: $why"; return; }
    cp "$b/bin/readlink" "$stage/vm/variants/coreutils/binfmt"
    mkdir -p "$stage$(dirname "$b")" && cp -a "$b" "$stage$b"
}

# --- the VM's init: busybox sh ---
write_init() { # FILE
    cat > "$1" <<'EOF'
#!/bin/sh
# The VM's init (Tests/SystemTests/VM/suite/run.sh): one "vm: KERNEL ARCH CHECK ok|FAIL detail" line a check, then
# "vm-end: KERNEL" and power off.
/bin/busybox mkdir -p /proc /sys /dev /tmp/out /usr/bin /sbin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
chmod 1777 /tmp /tmp/out
dmesg -c > /dev/null
. /vm/env
say() { echo "vm: $KERNEL $ARCH $*"; }
wanted() { grep -qx "$1" /vm/checks; }
# An exit status, with the signal's name, and the kernel's last word on a crash
# (show_unhandled_signals; none when execve itself failed past its point of no return).
status() { # STATUS
    local f=""
    [ "$1" -gt 128 ] && f=" (SIG$(kill -l $(($1 - 128))))"
    f="exit $1$f; kernel: $(dmesg -c 2>/dev/null | grep -E 'segfault|trap|nhandled' | tail -2 | tr '\n' ' ')"
    echo "${f%; kernel: }"
}
result() { # CHECK STATUS DETAIL
    wanted "$1" && say "$1 $2 $3"
}

if [ "$(uname -r)" = "$RELEASE" ] && [ "$(uname -m)" = "$ARCH" ]; then
    result boot ok "$(uname -r) $(uname -m) $(uname -v)"
else
    result boot FAIL "expected $RELEASE $ARCH, booted $(uname -r) $(uname -m)"
fi

if grep -qw binfmt_misc /proc/filesystems; then
    result module ok "built in"
elif err=$(insmod /lib/modules/binfmt_misc.ko 2>&1); then
    result module ok "insmod binfmt_misc.ko"
else
    result module FAIL "insmod binfmt_misc.ko: $err"
fi
bm=/proc/sys/fs/binfmt_misc
if err=$(mount -t binfmt_misc binfmt_misc $bm 2>&1) && [ -w $bm/register ]; then
    result mount ok "$(grep binfmt_misc /proc/mounts)"
else
    result mount FAIL "mount -t binfmt_misc: $err"
fi

# Registers each line (:name:type:offset:magic:mask:interpreter:flags), then reads the entry
# back from the kernel.
reg_ok=1 detail=""
while IFS= read -r line; do
    name=$(echo "$line" | cut -d: -f2)
    interp=$(echo "$line" | cut -d: -f7)
    flags=$(echo "$line" | cut -d: -f8)
    if ! err=$(printf '%s\n' "$line" 2>&1 > $bm/register); then
        reg_ok=0 detail="$detail $name: write failed: $err;"
    elif ! grep -qx enabled $bm/$name || ! grep -qx "interpreter $interp" $bm/$name ||
        ! grep -qx "flags: $flags" $bm/$name; then
        reg_ok=0 detail="$detail $name: $(tr '\n' ' ' < $bm/$name | cut -c1-120);"
    else
        detail="$detail $name (enabled, $interp, $flags)"
    fi
done < /vm/lines
detail=${detail# }
[ -s /vm/lines ] || reg_ok=0 detail="no registration lines"
if [ $reg_ok = 1 ]; then result register ok "$detail"; else result register FAIL "$detail"; fi

for libc in glibc musl; do
    for v in ref interp; do
        b=$BOTTLES/$libc
        wanted at-phdr-$libc-$v || continue
        cp /vm/variants/$libc/at-phdr-$v $b/bin/at-phdr
        if out=$($b/bin/at-phdr 2>&1); then result at-phdr-$libc-$v ok "$out"
        else rc=$?; result at-phdr-$libc-$v FAIL "$(status $rc)${out:+: $out}"; fi
    done
done

# run_variant LIBC VARIANT USER: runs the probe from the same path as each variant in turn, as
# Tests/SystemTests/Contexts/suite/run.sh does, so that argv, AT_EXECFN and exe compare as they are.
out=/tmp/out/probe.txt
run_variant() {
    local b=$BOTTLES/$1
    cp /vm/variants/$1/$2 $b/bin/probe.new && mv -f $b/bin/probe.new $b/bin/probe || return 1
    rm -f $out
    if [ $3 = root ]; then
        PROBE_OUT=$out $b/bin/probe one 'two words' > /tmp/stdout 2> /tmp/stderr
    else
        PROBE_OUT=$out su -p -s /bin/sh nobody -c 'exec "$0" "$@"' $b/bin/probe one 'two words' \
            > /tmp/stdout 2> /tmp/stderr
    fi
    rc=$?
    if [ $rc != 0 ] || [ ! -s $out ]; then
        echo "$(status $rc); stderr: $(head -c 300 /tmp/stderr | tr '\n' ' ')" > /tmp/$2.fail
        return 1
    fi
    cp $out /tmp/$2.txt
}
# The keys whose values differ, or that one side lacks.
differing() {
    awk 'NR == FNR { k = substr($0, 1, index($0, "=") - 1); a[k] = $0; next }
         { k = substr($0, 1, index($0, "=") - 1); b[k] = $0 }
         END { for (k in a) if (!(k in b) || a[k] != b[k]) print k
               for (k in b) if (!(k in a)) print k }' "$1" "$2" | sort -u
}
value() { awk -v k="$1" 'index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$2"; }
# runbottle(8): under the binfmt dispatch runbottle's PR_SET_MM_MAP(exe_fd) marks root's task
# PF_SUPERPRIV; an ordinary user's program runs in the loader's explicit mode.
explicit_mode='exe|auxv.AT_BASE|auxv.AT_ENTRY|auxv.AT_PHDR|auxv.AT_PHNUM|saved-auxv.AT_BASE|saved-auxv.AT_ENTRY|saved-auxv.AT_PHDR|saved-auxv.AT_PHNUM|stat.startcode|stat.endcode|stat.startdata|stat.enddata|stat.brk-above-enddata'
for libc in glibc musl; do
    for dispatch in interp binfmt; do
        for user in root user; do
            check=$libc-$dispatch-$user
            wanted $check || continue
            expected=""
            [ $dispatch-$user = binfmt-root ] && expected="stat.flags"
            [ $dispatch-$user = binfmt-user ] && expected=$explicit_mode
            rm -f /tmp/*.txt /tmp/*.fail
            if ! run_variant $libc ref $user; then
                result $check FAIL "reference failed: $(cat /tmp/ref.fail)"; continue
            fi
            if ! run_variant $libc $dispatch $user; then
                result $check FAIL "sealed run failed: $(cat /tmp/$dispatch.fail)"; continue
            fi
            diffs=$(differing /tmp/ref.txt /tmp/$dispatch.txt)
            unexpected=$diffs
            n=$(wc -l < /tmp/ref.txt)
            if [ -n "$expected" ]; then
                unexpected=$(echo "$diffs" | grep -Ev "^($expected)\$" | grep .)
                if ! echo "$diffs" | grep -Eq "^($expected)\$"; then
                    result $check FAIL "expected differences ($expected) did not show"; continue
                fi
            fi
            if [ -n "$unexpected" ]; then
                detail=""
                for k in $unexpected; do
                    detail="$detail$k sealed=$(value $k /tmp/$dispatch.txt) reference=$(value $k /tmp/ref.txt); "
                done
                result $check FAIL "differs: $detail"
            elif [ -n "$diffs" ]; then
                result $check ok "as documented, $n observables, differing only in: $(echo $diffs)"
            else
                result $check ok "same as the native exec, $n observables"
            fi
        done
    done
done
# The binfmt dispatch's trampoline (root: an ordinary user's program runs in explicit mode): a
# read-and-execute mapping of the probe at its slot's page, and no memfd copy.
for libc in glibc musl; do
    check=$libc-binfmt-trampoline
    wanted $check || continue
    b=$BOTTLES/$libc
    page=$(cat /vm/variants/$libc/slot-page)
    rm -f /tmp/maps.txt /tmp/binfmt.fail
    export PROBE_MAPS=/tmp/maps.txt
    run_variant $libc binfmt root
    unset PROBE_MAPS
    if [ -e /tmp/binfmt.fail ] || [ ! -s /tmp/maps.txt ]; then
        result $check FAIL "sealed run failed: $(cat /tmp/binfmt.fail 2>/dev/null)"
    elif grep -q "memfd:runbottle" /tmp/maps.txt; then
        result $check FAIL "the trampoline came from a memfd: $(grep memfd /tmp/maps.txt)"
    elif grep -q " r-xp $page [^ ]* [^ ]* *$b/bin/probe\$" /tmp/maps.txt; then
        result $check ok "mapped read and execute from the binary at file offset 0x$page"
    else
        result $check FAIL "no read-and-execute mapping of $b/bin/probe at 0x$page: $(grep probe /tmp/maps.txt | tr '\n' ' ')"
    fi
done

# coreutils: readlink /proc/self/exe and a relative argv[0], sealed and as its reference.
as_user() { # USER COMMAND...
    local u=$1
    shift
    if [ $u = root ]; then "$@"; else su -p -s /bin/sh nobody -c 'exec "$0" "$@"' "$@"; fi
}
for check in coreutils-interp-root coreutils-interp-user coreutils-binfmt-root; do
    wanted $check || continue
    b=$BOTTLES/coreutils
    dispatch=${check#coreutils-}
    user=${dispatch#*-}
    dispatch=${dispatch%-*}
    for v in ref $dispatch; do
        cp /vm/variants/coreutils/$v $b/bin/readlink.new && mv -f $b/bin/readlink.new $b/bin/readlink
        as_user $user $b/bin/readlink /proc/self/exe > /tmp/$v.txt 2> /tmp/$v.err
        echo "status $?" >> /tmp/$v.txt
    done
    if [ "$(cat /tmp/ref.txt)" != "$b/bin/readlink
status 0" ]; then
        result $check FAIL "reference: $(tr '\n' ' ' < /tmp/ref.txt) $(head -c 200 /tmp/ref.err)"
    elif cmp -s /tmp/ref.txt /tmp/$dispatch.txt; then
        result $check ok "same as the native exec: $(head -1 /tmp/ref.txt)"
    else
        result $check FAIL "sealed: $(tr '\n' ' ' < /tmp/$dispatch.txt) $(head -c 200 /tmp/$dispatch.err); reference: $(head -1 /tmp/ref.txt)"
    fi
done

# Removes the entries the registration lines made (the checks below want none of them).
remove_registered() {
    for n in $(cut -d: -f2 /vm/lines); do [ -e $bm/$n ] && echo -1 > $bm/$n; done
}

# binfmt-reg itself (x86-64): the lines registered above go, then install (runbottle, the
# entries, /etc/binfmt.d), status with its canaries as root and as uid 65534, uninstall.
if [ -x /vm/binfmt-reg ]; then
    remove_registered
    mkdir -p /etc/binfmt.d /run
    if wanted install; then
        if out=$(/vm/binfmt-reg install 2>&1) && grep -qx enabled $bm/BOTTLE && grep -qx enabled $bm/BOTTLE-privileged &&
            [ -s /etc/binfmt.d/bottle.conf ]; then
            result install ok "$(echo "$out" | tr '\n' ' ' | cut -c1-200)"
        else
            result install FAIL "$(echo "$out" | tr '\n' ' ' | cut -c1-300); entries: $(ls $bm | tr '\n' ' ')"
        fi
    fi
    if wanted status; then
        out=$(/vm/binfmt-reg status 2>&1)
        rc=$?
        canaries=$(echo "$out" | grep -c '^canary through .*: ok')
        if [ $rc = 0 ] && echo "$out" | grep -qx 'status: all well' && [ "$canaries" -ge 3 ]; then
            result status ok "all well, $canaries canaries ok ($(echo "$out" | grep '^dispatch binfmt' | cut -c1-120))"
        else
            result status FAIL "exit $rc: $(echo "$out" | grep -E '^(problem|canary|warning|status)' | tr '\n' ' ' | cut -c1-500)"
        fi
    fi
    if wanted uninstall; then
        if out=$(/vm/binfmt-reg uninstall 2>&1) && ! ls $bm | grep -q '^BOTTLE' && [ ! -e /etc/binfmt.d/bottle.conf ]; then
            result uninstall ok "$(echo "$out" | tr '\n' ' ' | cut -c1-200)"
        else
            result uninstall FAIL "$(echo "$out" | tr '\n' ' ' | cut -c1-300); entries: $(ls $bm | tr '\n' ' ')"
        fi
    fi
fi

# A user namespace's own instance: after the entries above are gone, a binfmt-dispatched
# program can only run through the entry the namespace registers.
if wanted userns-instance; then
    major=$(uname -r | cut -d. -f1) minor=$(uname -r | cut -d. -f2)
    remove_registered
    b=$BOTTLES/glibc
    cp /vm/variants/glibc/binfmt $b/bin/probe.new && mv -f $b/bin/probe.new $b/bin/probe
    out=$(unshare -r -m sh -c "mount -t binfmt_misc binfmt_misc $bm && head -1 /vm/lines > $bm/register &&
        PROBE_OUT=/tmp/out/userns.txt $b/bin/probe one" 2>&1)
    rc=$?
    if [ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 7 ]; }; then
        if [ $rc = 0 ] && grep -qx "exe=$b/bin/probe" /tmp/out/userns.txt; then
            result userns-instance ok "the namespace's own instance ran the binfmt-dispatched probe ($(grep -c . /tmp/out/userns.txt) observables, exe=$b/bin/probe)"
        else
            result userns-instance FAIL "$(status $rc): $(echo "$out" | tr '\n' ' ' | cut -c1-300) $(grep '^exe=' /tmp/out/userns.txt 2>/dev/null)"
        fi
    elif [ $rc != 0 ] && echo "$out" | grep -qiE 'not permitted|permission denied'; then
        result userns-instance ok "refused before 6.7, as documented: $(echo "$out" | head -1)"
    else
        result userns-instance FAIL "expected the kernel to refuse a user namespace's mount before 6.7: exit $rc: $(echo "$out" | tr '\n' ' ' | cut -c1-300)"
    fi
fi

echo "vm-end: $KERNEL"
sync
poweroff -f
EOF
    chmod 755 "$1"
}

# --- one VM: initramfs, qemu, the console parsed ---
run_vm() { # NAME
    local name=$1 debarch=${1#*-} arch rel t0 t1 t2 why root c stage qemu consolearg line log
    arch=x86_64
    [ "$debarch" = arm64 ] && arch=aarch64
    checks=("${common_checks[@]}")
    [ "$arch" = x86_64 ] && checks+=("${binfmt_reg_checks[@]}")
    t0=$SECONDS
    rm -f "$work"/fail-vm-*
    vm_fail() { local c; for c in "${checks[@]}"; do [ -e "$work/fail-vm-$c" ] || echo "$1" | tr '\n' ' ' > "$work/fail-vm-$c"; done; }
    if [ ! -d "$work/stage-$arch" ]; then prepare_arch "$arch" "$debarch"; fi
    for c in "${checks[@]}"; do [ -e "$work/fail-$arch-$c" ] && cp "$work/fail-$arch-$c" "$work/fail-vm-$c"; done
    if ! why=$(fetch_kernel "$name"); then
        vm_fail "kernel $name: $why"
    elif [ ! -e "$work/fail-vm-boot" ]; then
        rel=$(cat "$cache/kernels/$name/release")
        root=$work/root-$name
        stage=$work/stage-$arch
        rm -rf "$root" && cp -a "$stage" "$root"
        [ -e "$cache/kernels/$name/binfmt_misc.ko" ] && cp "$cache/kernels/$name/binfmt_misc.ko" "$root/lib/modules/"
        write_init "$root/init"
        printf 'KERNEL=%s\nARCH=%s\nRELEASE=%s\nBOTTLES=%s\n' "$name" "$arch" "$rel" "$work/b/$arch" > "$root/vm/env"
        for c in "${checks[@]}"; do [ -e "$work/fail-vm-$c" ] || echo "$c"; done > "$root/vm/checks"
        (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd-$name.gz" || vm_fail "cpio of the initramfs failed"
    fi
    t1=$SECONDS
    log=$work/console-$name.log
    : > "$log"
    if [ ! -e "$work/fail-vm-boot" ]; then
        if [ "$arch" = x86_64 ]; then
            qemu=(qemu-system-x86_64 -m 1024)
            consolearg=console=ttyS0
        else
            qemu=(qemu-system-aarch64 -M virt -cpu cortex-a57 -m 1024)
            consolearg=console=ttyAMA0
        fi
        # Software emulation only: nested KVM hangs here.
        "${qemu[@]}" -smp 1 -display none -monitor none -nic none -no-reboot -serial "file:$log" \
            -kernel "$cache/kernels/$name/vmlinuz" -initrd "$work/initrd-$name.gz" \
            -append "$consolearg quiet loglevel=1 panic=-1 rdinit=/init" </dev/null > "$work/qemu-$name.log" 2>&1 &
        qemu_pid=$!
        local ended="qemu exited before the end marker"
        while kill -0 "$qemu_pid" 2>/dev/null; do
            grep -q "^vm-end: $name" "$log" && break
            [ $((SECONDS - t1)) -ge "$timeout_s" ] && { ended="no end marker within $timeout_s s"; break; }
            sleep 0.5
        done
        # poweroff -f ends qemu; a guest that hangs after its last line is stopped.
        if grep -q "^vm-end: $name" "$log"; then
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.5; done
        fi
        kill "$qemu_pid" 2>/dev/null
        wait "$qemu_pid" 2>/dev/null
        qemu_pid=
        if ! grep -q "^vm-end: $name" "$log"; then
            vm_fail "$ended; qemu: $(tail -c 300 "$work/qemu-$name.log" | tr '\n' ' ') console: $(tr -d '\r' < "$log" | grep -v '^vm: ' | tail -5 | tr '\n' ' ' | tail -c 400)"
        fi
    fi
    t2=$SECONDS
    for c in "${checks[@]}"; do
        line=$(tr -d '\r' < "$log" | grep -m1 "^vm: $name $arch $c \(ok\|FAIL\)\( \|$\)")
        if [ -z "$line" ]; then
            line="vm: $name $arch $c FAIL $(cat "$work/fail-vm-$c" 2>/dev/null || echo "no result from the VM")"
        fi
        echo "$line"
        case $line in "vm: $name $arch $c ok"*) passed=$((passed + 1)) ;; *) failed=$((failed + 1)) ;; esac
    done
    echo "vm-time: $name $arch prepare $((t1 - t0)) s, VM $((t2 - t1)) s"
}

passed=0
failed=0
for name in "${kernels[@]}"; do run_vm "$name"; done
echo "vm: $passed passed, $failed failed"
[ "$failed" = 0 ]
