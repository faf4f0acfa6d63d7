#!/bin/bash
# Exec-to-exit of a hello-world bottle, side by side in one run per libc (exec-loop.c: rounds
# interleave the variants, so a VM's drifting speed falls on all of them alike). Ratios are to
# `kernel`, the kernel's own path:
#   kernel      the program with PT_INTERP naming the bottle's loader absolutely (the reference)
#   interp      the PT_INTERP dispatch: sealed with note type 3 and PT_INTERP naming runbottle
#               (built from the current sources); no binfmt_misc entry is involved, the kernel
#               execs the program natively and starts runbottle as its program interpreter,
#               which maps the bottle's loader and jumps to it
#   runbottle   the binfmt dispatch: sealed with note type 1, taken by the binfmt_misc entry
#               (flags POCF: credentials from the binary) to runbottle, which maps program and
#               loader itself and, holding CAP_SYS_ADMIN here (root of the user namespace),
#               sets /proc/self/exe from the trampoline in the binary's PT_INTERP slot
#   memfd       the same binary with the slot's tail zeroed (format 1's second revision):
#               runbottle copies its trampoline into a memfd page instead
#   explicit    the bottle's loader run explicitly: lib/ld.so bin/hello
#   two-exec    a static stub that checks/rewrites the real binary's PT_INTERP to name the
#               bottle's loader, then execs it (the real binary has note type 3, so no entry
#               takes it: the kernel's path after the stub's exec)
#   relocated   the sealed binary after `binfmt-reg relocate`, its entry disabled (the kernel's path)
# With --stages, where runbottle's cost goes instead: runbottle builds that exit at each stage
# (RB_STAGE in Sources/runbottle/os/runbottle_os.h), each row's step being its cost; the binfmt
# dispatch goes through every stage, the PT_INTERP dispatch only through stage 1 (rb_main's
# entry: the kernel mapped program and runbottle) and stage 6 (start.S: all done but the jump to
# the loader). i-floor: a runbottle built with the loader's path in it that maps the loader and
# jumps, reading no note, finding no path and setting no mm field: what this dispatch cannot go
# below (RB_BENCH_FLOOR_LOADER in Sources/runbottle/os/interp.c).
# Runs inside `unshare --user --map-root-user --mount` with a private binfmt_misc instance.
# Usage: Benchmarks/exec-runbottle.sh [--stages] [RUNS]   (from the package root, after
# `swift build`; BINFMT_REG=path selects the binfmt-reg that seals and prints the entry). RUNS
# execs of each variant, in rounds of 5.
set -euo pipefail
if [ "${RB_BENCH_INSIDE:-}" != 1 ]; then
    exec unshare --user --map-root-user --mount --propagation private \
        env RB_BENCH_INSIDE=1 bash "$0" "$@"
fi
stages=0
if [ "${1:-}" = --stages ]; then stages=1; shift; fi
runs=${1:-2000}
# Rounds of 5 execs per variant: with 20 rounds of 100 the ratio between two identical paths
# (relocated against kernel) swung by ±5% from run to run on a noisy 2-core VM; in rounds of 5
# it stays within about 2%.
rounds=$((runs / 5 > 0 ? runs / 5 : 1))
root=$(cd "$(dirname "$0")/.." && pwd)

mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc

# The newest build (ls fails when one of the patterns matches nothing: pipefail must not stop us).
binfmt_reg=${BINFMT_REG:-$(ls -t "$root"/.build*/debug/binfmt-reg "$root"/.build*/release/binfmt-reg 2>/dev/null | head -1 || true)}
[ -x "$binfmt_reg" ] || { echo "exec-runbottle: build binfmt-reg first (swift build)" >&2; exit 1; }
work=$(mktemp -d /tmp/exec-runbottle-XXXXXX)
trap 'rm -rf "$work"' EXIT
sh "$root/Sources/runbottle/build.sh" "$root/Sources/runbottle" "$work" >/dev/null
# The binfmt entry as binfmt-reg install registers it (flags POCF).
"$binfmt_reg" line --interpreter "$work/runbottle" --no-privileged-entry > /proc/sys/fs/binfmt_misc/register
note_type() { od -An -tu4 -j72 -N4 "$1" | tr -d ' '; }
seal_binfmt() {   # seal_binfmt FILE
    "$binfmt_reg" seal --dispatch binfmt "$1" >/dev/null
    [ "$(note_type "$1")" = 1 ] || { echo "exec-runbottle: $1: not sealed with note type 1" >&2; exit 1; }
}
# Zeroes the PT_INTERP slot's tail, where seal put runbottle's trampoline (bottle(5)).
drop_trampoline() {   # drop_trampoline FILE
    local slot
    slot=$(readelf -lW "$1" | awk '$1 == "INTERP" { print $2 }')
    dd if=/dev/zero of="$1" bs=1 seek=$((slot + 3072)) count=1023 conv=notrunc status=none
}
seal_interp() {   # seal_interp FILE RUNBOTTLE
    "$binfmt_reg" seal --dispatch interp --interpreter "$2" "$1" >/dev/null
    [ "$(note_type "$1")" = 3 ] || { echo "exec-runbottle: $1: not sealed with note type 3" >&2; exit 1; }
}

cc -O2 -o "$work/exec-loop" "$root/Benchmarks/exec-loop.c"
if [ $stages = 1 ]; then
    # Highest entries first: each stage build takes the files named *.stageN.
    for n in 1 2 3 4 5 6; do
        mkdir "$work/stage$n"
        RUNBOTTLE_CC="cc -DRB_BENCH_STAGE=$n" \
            sh "$root/Sources/runbottle/build.sh" "$root/Sources/runbottle" "$work/stage$n" >/dev/null
        echo ":STAGE$n:E::stage$n::$work/stage$n/runbottle:POC" > /proc/sys/fs/binfmt_misc/register
    done
fi
cat > "$work/hello.c" <<'C'
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
C
# The two-exec stub: finds the real binary beside itself, makes its PT_INTERP name the bottle's
# loader (rewriting the slot only when the bottle moved), then execs it.
cat > "$work/stub.c" <<'C'
#include <elf.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv)
{
    (void)argc;
    char self[4096], dir[4096], real[4200], loader[4200], slot[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) return 127;
    self[n] = 0;
    strcpy(dir, self);
    snprintf(real, sizeof real, "%s.real", self);
    snprintf(loader, sizeof loader, "%s/../lib/" LOADER, dirname(dir));
    int fd = open(real, O_RDWR | O_CLOEXEC);
    if (fd < 0) return 127;
    Elf64_Ehdr eh;
    Elf64_Phdr ph[64];
    if (pread(fd, &eh, sizeof eh, 0) != sizeof eh || eh.e_phnum > 64) return 126;
    pread(fd, ph, eh.e_phnum * sizeof *ph, eh.e_phoff);
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type != PT_INTERP || ph[i].p_filesz > sizeof slot) continue;
        pread(fd, slot, ph[i].p_filesz, ph[i].p_offset);
        if (strncmp(slot, loader, ph[i].p_filesz) != 0 && strlen(loader) < ph[i].p_filesz) {
            memset(slot, 0, ph[i].p_filesz);
            strcpy(slot, loader);
            pwrite(fd, slot, ph[i].p_filesz, ph[i].p_offset);
        }
    }
    close(fd);
    execv(real, argv);
    return 127;
}
C

bottle() {   # bottle LIBC CC LOADER_SOURCE LOADER_NAME LIBS...
    local libc=$1 cc=$2 ldsrc=$3 ldname=$4
    shift 4
    local b="$work/$libc"
    mkdir -p "$b/bin" "$b/lib"
    $cc -O2 -o "$b/bin/hello" "$work/hello.c" -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../lib'
    cp -L "$ldsrc" "$b/lib/$ldname"
    for lib in "$@"; do cp -L "$lib" "$b/lib/"; done
    cp "$b/bin/hello" "$b/bin/hello-kernel"
    patchelf --set-interpreter "$b/lib/$ldname" "$b/bin/hello-kernel"
    cp "$b/bin/hello" "$b/bin/hello-explicit"
    cp "$b/bin/hello" "$b/bin/hello-interp"
    seal_interp "$b/bin/hello-interp" "$work/runbottle"
    if [ $stages = 1 ]; then
        for n in 1 6; do
            cp "$b/bin/hello" "$b/bin/hello-interp.stage$n"
            seal_interp "$b/bin/hello-interp.stage$n" "$work/stage$n/runbottle"
        done
        mkdir "$work/floor-$libc"
        RUNBOTTLE_CC="cc -DRB_BENCH_FLOOR_LOADER=\"$b/lib/$ldname\"" \
            sh "$root/Sources/runbottle/build.sh" "$root/Sources/runbottle" "$work/floor-$libc" >/dev/null
        cp "$b/bin/hello" "$b/bin/hello-interp.floor"
        seal_interp "$b/bin/hello-interp.floor" "$work/floor-$libc/runbottle"
    fi
    seal_binfmt "$b/bin/hello"
    cp "$b/bin/hello" "$b/bin/hello-memfd"
    drop_trampoline "$b/bin/hello-memfd"
    cp "$b/bin/hello" "$b/bin/hello-relocated"
    "$binfmt_reg" relocate "$b/bin/hello-relocated" >/dev/null
    # Sealed for the PT_INTERP dispatch: no binfmt_misc entry takes it (a note type 1 copy
    # would go to runbottle whatever its slot says), so the kernel starts the slot's loader.
    cp "$b/bin/hello-interp" "$b/bin/stub.real"
    cc -O2 -static -DLOADER="\"$ldname\"" -o "$b/bin/stub" "$work/stub.c"
}
bottle glibc cc /lib64/ld-linux-x86-64.so.2 ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6
bottle musl musl-gcc /lib/x86_64-linux-musl/libc.so ld-musl-x86_64.so.1

for libc in glibc musl; do
    b="$work/$libc"
    ld=$(ls "$b"/lib/ld-*)
    # Every variant must print hello before it is timed.
    for cmd in "$b/bin/hello" "$b/bin/hello-memfd" "$b/bin/hello-interp" "$b/bin/hello-kernel" "$ld $b/bin/hello-explicit" \
               "$b/bin/stub"; do
        [ "$($cmd)" = hello ] || { echo "exec-runbottle: $cmd does not print hello" >&2; exit 1; }
    done
    echo 0 > /proc/sys/fs/binfmt_misc/BOTTLE
    [ "$("$b/bin/hello-relocated")" = hello ] || { echo "exec-runbottle: relocated does not print hello" >&2; exit 1; }
    # The PT_INTERP dispatch needs no entry.
    [ "$("$b/bin/hello-interp")" = hello ] || { echo "exec-runbottle: interp does not print hello without the entry" >&2; exit 1; }
    echo 1 > /proc/sys/fs/binfmt_misc/BOTTLE
    if [ $stages = 1 ]; then
        for n in 1 2 3 4 5 6; do cp "$b/bin/hello" "$b/bin/hello.stage$n"; done
        echo "== $libc: where runbottle's time goes ($runs runs each, $rounds rounds; step: this row minus the one above)"
        # bare: runbottle exec'd alone, exiting at once. detour..full: the binfmt dispatch.
        # i-entry..interp: the PT_INTERP dispatch (i-entry: the kernel mapped the program and
        # runbottle; i-done: runbottle mapped the loader and set the mm fields).
        "$work/exec-loop" "$rounds" $((runs / rounds)) kernel \
            "bare=$work/stage1/runbottle" \
            "detour=$b/bin/hello.stage1" \
            "read=$b/bin/hello.stage2" \
            "mapped=$b/bin/hello.stage3" \
            "mm=$b/bin/hello.stage4" \
            "tramp=$b/bin/hello.stage5" \
            "switched=$b/bin/hello.stage6" \
            "full=$b/bin/hello" \
            "i-entry=$b/bin/hello-interp.stage1" \
            "i-done=$b/bin/hello-interp.stage6" \
            "interp=$b/bin/hello-interp" \
            "i-floor=$b/bin/hello-interp.floor" \
            "kernel=$b/bin/hello-kernel" \
        | awk 'NR == 1 { printf "%-10s %9s %9s %11s %11s\n", "variant", "median µs", "cpu µs", "step median", "step cpu"; next }
               { step = NR > 2 && $1 != "kernel" && $1 != "i-entry" && $1 != "i-floor"; printf "%-10s %9.1f %9.1f", $1, $4, $5
                 if (step) printf " %11.1f %11.1f", $4 - m, $5 - c
                 printf "\n"; v[$1] = $4; u[$1] = $5; m = $4; c = $5 }
               END { printf "%-10s %9.1f %9.1f   (full minus kernel)\n", "overhead", v["full"] - m, u["full"] - c
                     printf "%-10s %9.1f %9.1f   (interp minus kernel)\n", "overhead", v["interp"] - m, u["interp"] - c
                     printf "%-10s %9.1f %9.1f   (i-floor minus kernel)\n", "floor", v["i-floor"] - m, u["i-floor"] - c }'
        continue
    fi
    echo "== $libc ($runs runs each, $rounds rounds; ratio to the kernel's own path)"
    EXEC_LOOP_OFF=/proc/sys/fs/binfmt_misc/BOTTLE "$work/exec-loop" "$rounds" $((runs / rounds)) kernel \
        "kernel=$b/bin/hello-kernel" \
        "interp=$b/bin/hello-interp" \
        "runbottle=$b/bin/hello" \
        "memfd=$b/bin/hello-memfd" \
        "explicit=$ld $b/bin/hello-explicit" \
        "two-exec=$b/bin/stub" \
        "!relocated=$b/bin/hello-relocated"
done
