#!/bin/bash
# binfmt-reg's start-up and size, the shipped build against the development build, side by side
# in one run: the development build (swift build -c release) loads the Swift runtime from the
# toolchain, the shipped one (make release) carries it. Runs `--version` and `inspect` of one
# sealed file with hyperfine, interleaved, and prints each one's ratio to the shipped build.
# Usage: Benchmarks/startup.sh [RUNS]   (from the package root, after both builds)
set -euo pipefail
runs=${1:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
dev=$root/.build/release/binfmt-reg
shipped=$(ls "$root"/.build-release/*/release/binfmt-reg 2>/dev/null | head -1 || true)
[ -x "$dev" ] || { echo "startup: build the development binary first (swift build -c release)" >&2; exit 1; }
[ -x "$shipped" ] || { echo "startup: build the shipped binary first (make release)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "startup: hyperfine is not installed (make bench-deps)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n' > "$work/hello.c"
mkdir -p "$work/b/bin" "$work/b/lib"
cc -O2 -o "$work/b/bin/hello" "$work/hello.c" -Wl,-rpath,'$ORIGIN/../lib'
cp -L /lib64/ld-linux-x86-64.so.2 "$work/b/lib/"
"$shipped" seal "$work/b/bin/hello" >/dev/null
echo "== size (stripped bytes) and the shared libraries each needs"
for b in "$shipped" "$dev"; do
    printf '%-12s %10d  %s\n' "$([ "$b" = "$shipped" ] && echo shipped || echo development)" \
        "$(strip -o "$work/stripped" "$b" && stat -c %s "$work/stripped")" "$(readelf -d "$b" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
done
echo "   (development: plus the toolchain's runtime, $(du -sh "$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux" 2>/dev/null | cut -f1) in $(readelf -d "$dev" | sed -n 's/.*RUNPATH.*\[\(.*\)\]/\1/p'))"
echo "== start-up, $runs runs each (hyperfine; ratio to the shipped build)"
for command in "--version" "inspect $work/b/bin/hello"; do
    hyperfine -N -w 20 -r "$runs" --export-json "$work/h.json" "$shipped $command" "$dev $command" >/dev/null 2>&1
    python3 - "$work/h.json" "$command" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"]
for name, x in zip(["shipped", "development"], r):
    print(f"{sys.argv[2].split()[0]:10} {name:12} median {x['median']*1e3:6.2f} ms  mean {x['mean']*1e3:6.2f} ms  x{x['median']/base:5.2f}")
PY
done
