#!/usr/bin/env bash
# Benchmark: `binfmt-reg seal` on copies of every dynamic executable under /usr/bin and /usr/sbin,
# beside `patchelf --set-interpreter` on the same files (batched, and one process per file), and
# the peak memory of both on the largest file. Goal (issue 2): seal >= 2x patchelf batched,
# seal's peak RSS < 32 MB whatever the file size.
#   usage: Benchmarks/seal-vs-patchelf.sh [BINFMT_REG]   (default: a release build of the package)
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in hyperfine patchelf /usr/bin/time readelf; do
    command -v "$tool" >/dev/null || { echo "missing: $tool (make bench installs it)" >&2; exit 1; }
done
if [ $# -ge 1 ]; then
    seal_tool=$(realpath "$1")
else
    swift build -c release --scratch-path .build-bench --product binfmt-reg >&2
    seal_tool=$(realpath .build-bench/release/binfmt-reg)
fi
interp=/lib64/ld-linux-x86-64.so.2
runs=${RUNS:-5}

work=$(mktemp -d "${TMPDIR:-/tmp}/seal-bench-XXXXXX")
trap 'rm -rf --one-file-system "$work"' EXIT

# The corpus: regular files (not symlinks), one name per inode, ELF with a PT_INTERP.
declare -A seen=()
files=()
for f in /usr/bin/* /usr/sbin/*; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    id=$(stat -c '%d:%i' "$f")
    [ -z "${seen[$id]:-}" ] || continue
    seen[$id]=1
    [ "$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || continue
    readelf -lW "$f" 2>/dev/null | grep -q 'Requesting program interpreter' || continue
    files+=("${f#/}")
done
n=${#files[@]}

# A pristine tree to copy from before every timed run (seal is idempotent; a second pass on a
# sealed tree would measure nothing). The bundled loader sits where seal looks: usr/lib.
mkdir -p "$work/pristine/usr/bin" "$work/pristine/usr/sbin" "$work/pristine/usr/lib"
cp -L "$interp" "$work/pristine/usr/lib/"
for f in "${files[@]}"; do cp "/$f" "$work/pristine/$f"; done
bytes=$(du -sb "$work/pristine/usr/bin" "$work/pristine/usr/sbin" | awk '{s += $1} END {print s}')
largest=$(cd "$work/pristine" && stat -c '%s %n' "${files[@]}" | sort -n | tail -1 | cut -d' ' -f2-)
largest_size=$(stat -c %s "$work/pristine/$largest")

# Restoring writes the whole tree again; sync it out so that no run pays for the copy's writeback
# (seal makes its own writes durable with syncfs, which would otherwise flush the copy too).
# NO_SYNC=1 skips that, to show how much the numbers depend on the page cache's state.
sync_tree="sync -f $work/tree"
[ "${NO_SYNC:-0}" = 1 ] && sync_tree=true
cat > "$work/reset.sh" <<EOF
rm -rf "$work/tree" && cp -a "$work/pristine" "$work/tree" && $sync_tree
EOF
printf '%s\n' "${files[@]/#/$work/tree/}" > "$work/list"
cat > "$work/per-file.sh" <<EOF
while IFS= read -r f; do patchelf --set-interpreter $interp "\$f"; done < "$work/list"
EOF
cat > "$work/batched.sh" <<EOF
mapfile -t files < "$work/list"
exec patchelf --set-interpreter $interp "\${files[@]}"
EOF

bash "$work/reset.sh"
"$seal_tool" seal "$work/tree/usr" > "$work/seal.out" 2>&1 || {
    echo "binfmt-reg seal failed on the corpus:" >&2; tail -20 "$work/seal.out" >&2; exit 1; }
sealed=$(for f in "${files[@]}"; do readelf -lW "$work/tree/$f" | grep -c '^  NOTE  *0x000040 ' || true; done \
         | awk '{s += $1} END {print s}')
echo "corpus: $n dynamic executables, $((bytes / 1000000)) MB; sealed with the note at offset 64: $sealed"
[ "$sealed" -eq "$n" ] || { echo "seal did not seal every file: $(tail -1 "$work/seal.out")" >&2; exit 1; }

hyperfine -N --style basic --runs "$runs" --prepare "bash $work/reset.sh" \
    --export-csv "$work/times.csv" \
    -n "binfmt-reg seal (one process)" "$seal_tool seal $work/tree/usr" \
    -n "patchelf --set-interpreter (batched: one process)" "bash $work/batched.sh" \
    -n "patchelf --set-interpreter (one process per file)" "bash $work/per-file.sh" \
    > "$work/hyperfine.out" 2>&1 || { cat "$work/hyperfine.out" >&2; exit 1; }

peak_kb() {  # peak RSS in KB of a command run on a fresh copy of the largest file
    bash "$work/reset.sh"
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}'
}
seal_peak=$(peak_kb "$seal_tool" seal "$work/tree/$largest")
patchelf_peak=$(peak_kb patchelf --set-interpreter "$interp" "$work/tree/$largest")

echo
echo "files/s (median of $runs runs, tree restored$([ "${NO_SYNC:-0}" = 1 ] || echo " and synced") before each run):"
awk -F, -v n="$n" 'NR > 1 {
        gsub(/"/, "", $1); median[NR - 1] = $4; name[NR - 1] = $1
    }
    END {
        printf "  %-55s %9s %9s %14s\n", "command", "median s", "files/s", "seal speed-up"
        for (i = 1; i <= 3; i++)
            printf "  %-55s %9.3f %9.0f %13.2fx\n", name[i], median[i], n / median[i], median[i] / median[1]
    }' "$work/times.csv"
echo
echo "peak memory on the largest file ($largest, $((largest_size / 1000000)) MB):"
printf '  %-55s %9s MB\n' "binfmt-reg seal" "$((seal_peak / 1024))" \
    "patchelf --set-interpreter" "$((patchelf_peak / 1024))"
echo
awk -F, -v s="$seal_peak" 'NR == 2 {s1 = $4} NR == 3 {p = $4} END {
    printf "goals: seal >= 2x patchelf batched: %.2fx (%s); seal peak < 32 MB: %.1f MB (%s)\n",
        p / s1, (p / s1 >= 2 ? "met" : "NOT met"), s / 1024, (s < 32 * 1024 ? "met" : "NOT met") }' \
    "$work/times.csv"
