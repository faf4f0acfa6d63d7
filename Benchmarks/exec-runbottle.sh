#!/bin/bash
# Exec-to-exit of a hello-world bottle, side by side in one run per libc (exec-loop.c: rounds
# interleave the variants, so a VM's drifting speed falls on all of them alike):
#   runbottle   the sealed binary, taken by binfmt_misc to runbottle (userland exec)
#   kernel      the same program with PT_INTERP naming the bottle's loader (the kernel's own path)
#   explicit    the bottle's loader run explicitly: lib/ld.so bin/hello
#   two-exec    a static stub that checks/rewrites the real binary's PT_INTERP, then execs it
#   relocated   the sealed binary after `binfmt-reg relocate`, its entry disabled (the kernel's path)
# With --stages, where runbottle's cost goes instead: runbottle builds that exit at each stage
# (RB_STAGE in Sources/runbottle/os/runbottle_os.h), each row's step being its cost.
# Runs inside `unshare --user --map-root-user --mount` with a private binfmt_misc instance.
# Usage: Benchmarks/exec-runbottle.sh [--stages] [RUNS]   (from the package root, after
# `swift build`). RUNS execs of each variant, in 20 rounds.
set -euo pipefail
if [ "${RB_BENCH_INSIDE:-}" != 1 ]; then
    exec unshare --user --map-root-user --mount --propagation private \
        env RB_BENCH_INSIDE=1 bash "$0" "$@"
fi
stages=0
if [ "${1:-}" = --stages ]; then stages=1; shift; fi
runs=${1:-2000}
rounds=20
root=$(cd "$(dirname "$0")/.." && pwd)

mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc

binfmt_reg=${BINFMT_REG:-$(ls -t "$root"/.build*/debug/binfmt-reg "$root"/.build*/release/binfmt-reg 2>/dev/null | head -1)}
[ -x "$binfmt_reg" ] || { echo "exec-runbottle: build binfmt-reg first (swift build)" >&2; exit 1; }
work=$(mktemp -d /tmp/exec-runbottle-XXXXXX)
trap 'rm -rf "$work"' EXIT
sh "$root/Sources/runbottle/build.sh" "$root/Sources/runbottle" "$work" >/dev/null
"$binfmt_reg" line --interpreter "$work/runbottle" --no-privileged-entry > /proc/sys/fs/binfmt_misc/register

cc -O2 -o "$work/exec-loop" "$root/Benchmarks/exec-loop.c"
if [ $stages = 1 ]; then
    # Highest entries first: each stage build takes the files named *.stageN.
    for n in 1 2 3 4 5 6; do
        mkdir "$work/stage$n"
        RUNBOTTLE_CC="cc -DRB_BENCH_STAGE=$n" \
            sh "$root/Sources/runbottle/build.sh" "$root/Sources/runbottle" "$work/stage$n" >/dev/null
        echo ":STAGE$n:E::stage$n::$work/stage$n/runbottle:PO" > /proc/sys/fs/binfmt_misc/register
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
    "$binfmt_reg" seal "$b/bin/hello" >/dev/null
    cp "$b/bin/hello" "$b/bin/hello-relocated"
    "$binfmt_reg" relocate "$b/bin/hello-relocated" >/dev/null
    cp "$b/bin/hello" "$b/bin/stub.real"
    cc -O2 -static -DLOADER="\"$ldname\"" -o "$b/bin/stub" "$work/stub.c"
}
bottle glibc cc /lib64/ld-linux-x86-64.so.2 ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6
bottle musl musl-gcc /lib/x86_64-linux-musl/libc.so ld-musl-x86_64.so.1

for libc in glibc musl; do
    b="$work/$libc"
    ld=$(ls "$b"/lib/ld-*)
    # Every variant must print hello before it is timed.
    for cmd in "$b/bin/hello" "$b/bin/hello-kernel" "$ld $b/bin/hello-explicit" "$b/bin/stub"; do
        [ "$($cmd)" = hello ] || { echo "exec-runbottle: $cmd does not print hello" >&2; exit 1; }
    done
    echo 0 > /proc/sys/fs/binfmt_misc/BOTTLE
    [ "$("$b/bin/hello-relocated")" = hello ] || { echo "exec-runbottle: relocated does not print hello" >&2; exit 1; }
    echo 1 > /proc/sys/fs/binfmt_misc/BOTTLE
    if [ $stages = 1 ]; then
        for n in 1 2 3 4 5 6; do cp "$b/bin/hello" "$b/bin/hello.stage$n"; done
        echo "== $libc: where runbottle's time goes ($runs runs each, $rounds rounds; step: this row minus the one above)"
        "$work/exec-loop" "$rounds" $((runs / rounds)) kernel \
            "interp=$work/stage1/runbottle" \
            "detour=$b/bin/hello.stage1" \
            "read=$b/bin/hello.stage2" \
            "mapped=$b/bin/hello.stage3" \
            "mm=$b/bin/hello.stage4" \
            "tramp=$b/bin/hello.stage5" \
            "switched=$b/bin/hello.stage6" \
            "full=$b/bin/hello" \
            "kernel=$b/bin/hello-kernel" \
        | awk 'NR == 1 { printf "%-10s %9s %9s %11s %11s\n", "variant", "median µs", "cpu µs", "step median", "step cpu"; next }
               { step = NR > 2 && $1 != "kernel"; printf "%-10s %9.1f %9.1f", $1, $4, $5
                 if (step) printf " %11.1f %11.1f", $4 - m, $5 - c
                 printf "\n"; if ($1 == "full") { fm = $4; fc = $5 }; m = $4; c = $5 }
               END { printf "%-10s %9.1f %9.1f   (full minus kernel)\n", "overhead", fm - m, fc - c }'
        continue
    fi
    echo "== $libc ($runs runs each, $rounds rounds; ratio to the kernel's own path)"
    EXEC_LOOP_OFF=/proc/sys/fs/binfmt_misc/BOTTLE "$work/exec-loop" "$rounds" $((runs / rounds)) kernel \
        "runbottle=$b/bin/hello" \
        "kernel=$b/bin/hello-kernel" \
        "explicit=$ld $b/bin/hello-explicit" \
        "two-exec=$b/bin/stub" \
        "!relocated=$b/bin/hello-relocated"
done
