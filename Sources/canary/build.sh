#!/bin/sh
# Builds the status canary (a loader and a program, both freestanding) and prints their bytes as
# Swift constants for the RunbottleImage module. Called from Sources/runbottle/build.sh:
# build.sh SOURCE_DIR OUTPUT_DIR > swift-source.
set -eu
src=$1
out=$2
cc=${RUNBOTTLE_CC:-cc}
arch=${RUNBOTTLE_ARCH:-$(uname -m)}
. "$src/../runbottle/cflags.sh"
# runbottle's system call layer for the target (os/<arch>/arch.h), stripped.
common="$RB_CFLAGS $RB_FREESTANDING -I$src/../runbottle/os/$arch -s"

# The loader: static-pie without self-relocation, like runbottle, so no relocations allowed.
$cc $common -static-pie -Wl,--no-dynamic-linker -o "$out/canary-loader" "$src/loader.c"
if readelf -rW "$out/canary-loader" | grep -q 'R_'; then
    echo "canary-loader: the freestanding build has relocations" >&2
    exit 1
fi
# The program: a PIE with a PT_INTERP (any path: sealing keeps it in the slot) and nothing else.
$cc $common -pie -Wl,--dynamic-linker=/nonexistent/canary-loader -o "$out/canary-program" \
    "$src/program.c"

printf 'let canaryLoaderBase64 = "'
base64 -w0 "$out/canary-loader"
printf '"\nlet canaryProgramBase64 = "'
base64 -w0 "$out/canary-program"
printf '"\n'
