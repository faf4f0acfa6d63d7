#!/bin/bash
# Builds the installer image from a binfmt-reg binary: the binary (stripped), the runbottle it
# carries at /usr/libexec/runbottle, /tmp for status's canaries, and, while binfmt-reg is
# dynamically linked, the libraries and loader it needs at the paths it names.
# Usage: deploy/image/build.sh BINFMT_REG [TAG]   (TAG: binfmt-bottle/installer:VERSION, VERSION
# from `BINFMT_REG --version`). Prints the tag on success.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
die() { echo "image: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 BINFMT_REG [TAG]"
binfmt_reg=$1
[ -x "$binfmt_reg" ] || die "$binfmt_reg: not an executable file"
version=$("$binfmt_reg" --version) || die "$binfmt_reg --version failed"
[[ $version =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "'$version' (from $binfmt_reg --version) is not a valid image tag"
tag=${2:-binfmt-bottle/installer:$version}
for tool in docker strip readelf; do
    command -v $tool >/dev/null || die "$tool is missing"
done

ctx=$(mktemp -d /tmp/binfmt-bottle-image-XXXXXX)
trap 'rm -rf "$ctx"' EXIT
root=$ctx/rootfs
mkdir -p "$root/usr/bin" "$root/tmp"
chmod 1777 "$root/tmp"
install -m 0755 "$binfmt_reg" "$root/usr/bin/binfmt-reg"
strip "$root/usr/bin/binfmt-reg"
# runbottle exactly as install writes it (root-owned, 0755, no file capability).
"$root/usr/bin/binfmt-reg" install --root "$root" --no-persist >/dev/null || die "binfmt-reg install --root failed"
[ -x "$root/usr/libexec/runbottle" ] || die "no runbottle at $root/usr/libexec/runbottle"

# A dynamically linked binfmt-reg (swift build --static-swift-stdlib still links glibc, libcap
# and libstdc++) gets its libraries and loader, copied from this machine to the same paths.
if readelf -lW "$binfmt_reg" | grep -q 'Requesting program interpreter'; then
    command -v ldd >/dev/null || die "ldd is missing"
    libs=$(ldd "$binfmt_reg") || die "ldd $binfmt_reg failed"
    if grep -q 'not found' <<<"$libs"; then die "$binfmt_reg: libraries not found: $(grep 'not found' <<<"$libs" | tr -s ' \t\n' ' ')"; fi
    while read -r path; do
        mkdir -p "$root$(dirname "$path")"
        cp -L "$path" "$root$path"
    done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs")
fi

cp "$here/Dockerfile" "$ctx/Dockerfile"
chmod -R a+rX "$root"
log=$(docker build --build-arg VERSION="$version" -t "$tag" "$ctx" 2>&1) || { echo "$log" >&2; die "docker build failed"; }
echo "$tag"
