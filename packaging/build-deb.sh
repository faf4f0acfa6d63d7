#!/bin/sh
# Builds the Debian package from a staged install tree (make install DESTDIR=STAGE PREFIX=/usr):
# compresses the man pages, adds the documentation Debian policy asks for and the maintainer
# scripts, computes Depends with dpkg-shlibdeps, and writes OUTDIR/binfmt-bottle_VERSION_ARCH.deb.
# Usage: packaging/build-deb.sh STAGE OUTDIR VERSION
set -eu
stage=$1
out=$2
version=$3
here=$(cd "$(dirname "$0")" && pwd)
arch=$(dpkg --print-architecture)
package=binfmt-bottle
maintainer="binfmt-bottle authors <binfmt-bottle@lists.example.org>"
# Reproducible: the date of the last commit where there is one.
date=$(git -C "$here" log -1 --format=%cD 2>/dev/null || date -R)

find "$stage/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9nf {} +
doc=$stage/usr/share/doc/$package
install -d "$doc" "$stage/usr/share/lintian/overrides"
install -m 0644 "$here/debian/copyright" "$doc/copyright"
printf '%s (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
    "$package" "$version" "$version" "$maintainer" "$date" | gzip -9n > "$doc/changelog.gz"
install -m 0644 "$here/debian/lintian-overrides" "$stage/usr/share/lintian/overrides/$package"

install -d "$stage/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "$here/debian/$script" "$stage/DEBIAN/$script"; done
install -m 0644 "$here/debian/conffiles" "$stage/DEBIAN/conffiles"
# dpkg-shlibdeps reads debian/control of a source tree: a minimal one, in a scratch directory.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$package" "$package" > "$scratch/debian/control"
depends=$(cd "$scratch" && dpkg-shlibdeps -O "$stage/usr/bin/binfmt-reg" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: $package
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $size
Depends: $depends
Section: admin
Priority: optional
Homepage: https://github.com/binfmt-bottle/binfmt-bottle
Description: run relocatable program bottles as if the kernel loaded them
 A bottle is a program with its own libraries, libc and dynamic loader in one
 directory that can move anywhere. binfmt-reg seals bottle binaries and
 registers the binfmt_misc entries that run them; runbottle, the program
 interpreter sealed binaries name, maps the bottle's own loader, so that
 /proc/self/exe, argv, auxv and credentials are those of a native exec.
CONTROL
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
    xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/control"
mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/${package}_${version}_$arch.deb" >/dev/null
echo "$out/${package}_${version}_$arch.deb"
