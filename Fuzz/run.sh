#!/usr/bin/env bash
# Builds every fuzz target (libFuzzer + AddressSanitizer + UBSan) and runs each for SECONDS
# (default 60), seeded from real binaries. Crashes are copied to Fuzz/crashes/TARGET/, which the
# regression tests replay. Prints executions and crashes per target.
#   Fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
seconds=${1:-60}
shift || true
work=$top/Fuzz/corpus-work
mkdir -p "$work"
cc=${FUZZ_CC:-clang}
. "$top/Sources/runbottle/cflags.sh"
# shellcheck disable=SC2206 # RB_CFLAGS is a list of flags
flags=($RB_CFLAGS -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fuse-ld=lld
       -I"$top/Sources/runbottle/include")

c_targets=(fuzz_note fuzz_elf fuzz_stack fuzz_path)
swift_targets=(FuzzELF FuzzRegistration)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${c_targets[@]}" "${swift_targets[@]}")

build_c() {
    "$cc" "${flags[@]}" -I"$here/checks/include" -DFUZZ_CHECK="fuzz_check_${1#fuzz_}" \
        -o "$work/$1" "$here/c/entry.c" "$here/checks/${1#fuzz_}.c" "$top"/Sources/runbottle/core/*.c
}

build_swift() {
    swift build --package-path "$here/swift" --scratch-path "$top/.build-fuzz" -c release \
        -Xswiftc -sanitize=fuzzer,address \
        -Xcc -fsanitize=fuzzer-no-link,address --product "$1" >&2
    cp "$top/.build-fuzz/release/$1" "$work/$1"
}

# Seeds: small real executables whole, their sealed copies, and what each parser reads.
seed() {
    local target=$1 dir=$work/seeds-$1
    [ -d "$dir" ] && { echo "$dir"; return; }
    mkdir -p "$dir"
    local small
    small=$(find /usr/bin -maxdepth 1 -type f -size -64k | head -n 40)
    case $target in
    fuzz_elf|FuzzELF)
        for f in $small; do cp "$f" "$dir/"; done
        local sealed=$work/sealed-seeds
        if [ ! -d "$sealed" ]; then
            mkdir -p "$sealed"
            for f in $small; do cp "$f" "$sealed/"; done
            mkdir -p "$sealed/lib" && cp /lib64/ld-linux-x86-64.so.2 "$sealed/lib/"
            "$top/.build/debug/binfmt-reg" seal --loader lib/ld-linux-x86-64.so.2 "$sealed" >/dev/null 2>&1 || true
        fi
        for f in "$sealed"/*; do [ -f "$f" ] && cp "$f" "$dir/sealed-$(basename "$f")"; done ;;
    fuzz_note)
        for f in "$work"/sealed-seeds/*; do [ -f "$f" ] && dd if="$f" of="$dir/$(basename "$f")" bs=1 skip=64 count=512 status=none; done ;;
    fuzz_stack)
        printf '\003\0\0\0\0\0\0\0\001\0\0\0\0\0\0\0\002\0\0\0\0\0\0\0\003\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\004\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\002\0\0\0\0\0\0\0\003\0\0\0\0\0\0\0\003\0\0\0\0\0\0\0\100\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' > "$dir/p-mode" ;;
    fuzz_path)
        printf 'bin/../lib/./ld.so\0/home/user\0../real\0' > "$dir/relative"
        printf '/a/b/c\0/\0/x/y\0z\0' > "$dir/absolute" ;;
    FuzzRegistration)
        printf ':BOTTLE:M:0:\\x7fELF\\x02\\x01\\x01::/usr/libexec/runbottle:PO\n' > "$dir/line"
        printf 'enabled\ninterpreter /usr/libexec/runbottle\nflags: PO\noffset 0\nmagic 7f454c46\nmask ffffffff\n' > "$dir/status" ;;
    esac
    [ -n "$(ls -A "$dir")" ] || printf 'x' > "$dir/empty"
    echo "$dir"
}

printf '%-18s %12s %8s\n' target executions 'new crashes'
for t in "${targets[@]}"; do
    case " ${c_targets[*]} " in *" $t "*) build_c "$t" ;; *) build_swift "$t" ;; esac
    corpus=$work/corpus-$t
    mkdir -p "$corpus" "$top/Fuzz/crashes/$t"
    seeds=$(seed "$t")
    log=$work/$t.log
    before=$(find "$top/Fuzz/crashes/$t" -type f -name 'crash-*' | wc -l)
    # -fork keeps fuzzing past a crash so one run reports all of them.
    "$work/$t" -max_total_time="$seconds" -max_len=65536 -timeout=5 -rss_limit_mb=2048 \
        -fork=1 -ignore_crashes=1 -artifact_prefix="$top/Fuzz/crashes/$t/" \
        "$corpus" "$seeds" >"$log" 2>&1 || true
    # Fork mode's status lines start with "#EXECUTIONS:"; the last one is the total.
    execs=$(grep -o '^#[0-9]*' "$log" | tail -n1 | tr -d '#')
    crashes=$(( $(find "$top/Fuzz/crashes/$t" -type f -name 'crash-*' | wc -l) - before ))
    printf '%-18s %12s %8s\n' "$t" "$execs" "$crashes"
done
