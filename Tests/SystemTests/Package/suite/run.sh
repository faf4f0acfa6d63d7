#!/bin/bash
# The package suite: the .deb (make deb) installed with dpkg into a Debian bookworm root made by
# debootstrap, with no Swift in it, in a private user, mount and PID namespace with a binfmt_misc
# instance of its own. dpkg's postinst registers the entries; status proves the chain; a sealed
# bottle runs through each dispatch; dpkg -r unregisters, and a "reboot" (the entries gone, the
# real systemd-binfmt run over the root's binfmt.d directories) registers nothing. One line per
# check, then "package: N passed, M failed"; exit 0 only when all passed.
# Usage: Tests/SystemTests/Package/suite/run.sh DEB
# Environment: PACKAGE_CACHE (the debootstrap root's tarball, default
# /var/cache/binfmt-bottle-vm), PACKAGE_MIRROR (default http://deb.debian.org/debian).
set -uo pipefail
deb=$(realpath "${1:?usage: Tests/SystemTests/Package/suite/run.sh DEB}")
here=$(cd "$(dirname "$0")" && pwd)
cache=${PACKAGE_CACHE:-/var/cache/binfmt-bottle-vm}
mirror=${PACKAGE_MIRROR:-http://deb.debian.org/debian}

if [ "${PACKAGE_INSIDE:-}" != 1 ]; then
    passed=0 failed=0
    say() { echo "package: $1 $2${3:+ $3}"; if [ "$2" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }
    total() { echo "package: $passed passed, $failed failed"; [ "$failed" = 0 ]; }
    [ -s "$deb" ] || { say deb FAIL "no package at $deb (make deb)"; total; exit; }
    for tool in debootstrap dpkg-deb unshare; do
        command -v $tool >/dev/null || { say tools FAIL "$tool is not installed"; total; exit; }
    done
    # The root, made once and kept as a tarball: debootstrap takes minutes.
    mkdir -p "$cache" || exit 1
    tarball=$cache/bookworm-minbase.tar
    if [ ! -s "$tarball" ]; then
        build=$(mktemp -d /srv/package-root-XXXXXX)
        if debootstrap --variant=minbase bookworm "$build" "$mirror" > "$build.log" 2>&1; then
            tar -C "$build" -cf "$tarball.new" . && mv "$tarball.new" "$tarball"
        else
            say root FAIL "debootstrap failed: $(tail -3 "$build.log" | tr '\n' ' ')"
        fi
        rm -rf "$build" "$build.log"
    fi
    [ -s "$tarball" ] || { total; exit; }
    work=$(mktemp -d /srv/package-test-XXXXXX)
    trap 'rm -rf "$work"' EXIT
    chmod 755 "$work"
    mkdir "$work/root" && tar -C "$work/root" -xf "$tarball" || { say root FAIL "cannot unpack $tarball"; total; exit; }
    say root ok "Debian bookworm, debootstrap minbase, no Swift: $(ls "$work/root"/usr/lib/swift 2>/dev/null | wc -l) Swift files"
    cp "$deb" "$work/root/tmp/package.deb"
    # A bottle for each dispatch, made on the host: the probe of the context suite would do,
    # but a hello that prints /proc/self/exe says what matters.
    b=$work/root/opt/hello
    mkdir -p "$b/bin" "$b/lib"
    printf '#include <stdio.h>\n#include <unistd.h>\nint main(void) { char exe[4096] = {0};\n  readlink("/proc/self/exe", exe, sizeof exe - 1); printf("exe=%%s\\n", exe); return 0; }\n' > "$work/hello.c"
    gcc -O2 -o "$b/bin/hello" "$work/hello.c" -Wl,-rpath,'$ORIGIN/../lib' &&
        cp -L /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6 "$b/lib/" &&
        cp "$b/bin/hello" "$b/bin/hello-binfmt" ||
        { say bottle FAIL "cannot build the hello bottle"; total; exit; }
    # The package's own binfmt-reg seals them, from the .deb.
    dpkg-deb -x "$deb" "$work/unpacked" || { say bottle FAIL "dpkg-deb -x failed"; total; exit; }
    if "$work/unpacked/usr/bin/binfmt-reg" seal "$b/bin/hello" >/dev/null &&
        "$work/unpacked/usr/bin/binfmt-reg" seal --dispatch binfmt --interpreter /nonexistent/runbottle "$b/bin/hello-binfmt" >/dev/null; then
        say bottle ok "sealed for both dispatches by the package's binfmt-reg"
    else
        say bottle FAIL "seal failed"
    fi
    # Inside: root of a new user namespace, its own mounts and PIDs, its own binfmt_misc; before
    # Linux 6.7, which gives a user namespace none, in the VM of instance-vm.sh (a newer kernel
    # with this machine's files).
    runner=()
    if why=$(bash "$here/../../lib/instance-vm.sh" --needed); then
        runner=(bash "$here/../../lib/instance-vm.sh")
        echo "  inside the VM of instance-vm.sh: $why"
    fi
    inside=$(PACKAGE_INSIDE=1 "${runner[@]}" unshare --user --map-root-user --mount --pid --fork --propagation private \
        bash "$0" "$deb" "$work/root" 2>&1)
    while IFS= read -r line; do
        case $line in
        "check "*) set -- $line; say "$2" "$3" "${line#check $2 $3 }" ;;
        *) echo "  $line" ;;
        esac
    done <<< "$inside"
    total
    exit
fi

# --- inside the namespaces ---
root=$2
check() { echo "check $1 $2 ${3:-}"; }
mount -t proc proc "$root/proc" || { check mounts FAIL "mount proc"; exit 0; }
mount -t tmpfs tmpfs "$root/tmp" && cp "$1" "$root/tmp/package.deb"
mount -t binfmt_misc binfmt_misc "$root/proc/sys/fs/binfmt_misc" ||
    { check mounts FAIL "no private binfmt_misc instance (Linux 6.7 or later needed)"; exit 0; }
mount --rbind /dev "$root/dev"
# The instance VM's 9p root (before Linux 6.7) has no security.* extended attributes, where
# runbottle's file capability goes: its directory is a tmpfs there, with what it held.
if [ "$(findmnt -n -o FSTYPE -T "$root/usr/libexec")" = 9p ]; then
    held=$(mktemp -d) && cp -a "$root/usr/libexec/." "$held" &&
        mount -t tmpfs -o mode=0755 tmpfs "$root/usr/libexec" && cp -a "$held/." "$root/usr/libexec/" &&
        rm -rf "$held" || { check mounts FAIL "tmpfs over usr/libexec"; exit 0; }
    check mounts ok "proc, tmpfs /tmp, a private binfmt_misc instance, /dev, tmpfs over 9p's usr/libexec"
else
    check mounts ok "proc, tmpfs /tmp, a private binfmt_misc instance, /dev"
fi
D=$root/proc/sys/fs/binfmt_misc
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

out=$(in_root dpkg -i /tmp/package.deb 2>&1)
if [ $? = 0 ] && [ -e $D/BOTTLE ] && [ -e $D/BOTTLE-privileged ]; then
    check dpkg-install ok "postinst registered $(grep -h flags: $D/BOTTLE | tr -d '\n')"
else
    check dpkg-install FAIL "$(echo "$out" | tail -5 | tr '\n' ' '); entries: $(ls $D | tr '\n' ' ')"
fi
out=$(in_root dpkg --verify binfmt-bottle 2>&1)
if [ -z "$out" ]; then check dpkg-verify ok "no file changed since dpkg wrote it"
else check dpkg-verify FAIL "$out"; fi
out=$(in_root binfmt-reg --version 2>&1)
if [ $? = 0 ]; then check runs-without-swift ok "binfmt-reg --version: $out; $(in_root ldd /usr/bin/binfmt-reg 2>&1 | grep -c swift) Swift libraries linked"
else check runs-without-swift FAIL "$out"; fi
out=$(in_root binfmt-reg status 2>&1)
if [ $? = 0 ]; then check status ok "$(echo "$out" | tail -1)"
else check status FAIL "$(echo "$out" | grep -iE 'problem|fail|missing' | head -3 | tr '\n' ' ')"; fi
out=$(in_root /opt/hello/bin/hello 2>&1)
if [ "$out" = "exe=/opt/hello/bin/hello" ]; then check interp-dispatch ok "$out"
else check interp-dispatch FAIL "$out"; fi
out=$(in_root /opt/hello/bin/hello-binfmt 2>&1)
if [ "$out" = "exe=/opt/hello/bin/hello-binfmt" ]; then check binfmt-dispatch ok "$out"
else check binfmt-dispatch FAIL "$out"; fi

# A reboot: the entries gone, then the real systemd-binfmt reads the root's binfmt.d directories,
# bound over the host's in this mount namespace only, with the root's /usr/libexec, where flag F
# makes the kernel open runbottle at registration. "boot-registers" is the control: the same
# reboot with the package installed registers both entries.
reboot() {
    for e in BOTTLE BOTTLE-privileged; do [ ! -e $D/$e ] || echo -1 > $D/$e; done
    # Nothing is created on the host: a directory the host lacks is one the root lacks too.
    for d in etc/binfmt.d usr/lib/binfmt.d run/binfmt.d usr/local/lib/binfmt.d usr/libexec; do
        if [ -d "/$d" ] && [ -d "$root/$d" ]; then mount --bind "$root/$d" "/$d"
        elif [ -d "$root/$d" ]; then echo "check reboot FAIL the root has /$d, the host does not"; fi
    done
    mount --bind $D /proc/sys/fs/binfmt_misc 2>/dev/null || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    /usr/lib/systemd/systemd-binfmt
    ls $D | grep -c BOTTLE
    umount /proc/sys/fs/binfmt_misc
    # Lazily: with flag F the entries hold runbottle open.
    for d in etc/binfmt.d usr/lib/binfmt.d run/binfmt.d usr/local/lib/binfmt.d usr/libexec; do
        if [ -d "/$d" ] && [ -d "$root/$d" ]; then umount -l "/$d"; fi
    done
}
n=$(reboot)
if [ "$n" = 2 ]; then check boot-registers ok "systemd-binfmt registered both entries from /usr/lib/binfmt.d/bottle.conf"
else check boot-registers FAIL "$n entries after the reboot"; fi
in_root binfmt-reg uninstall > /dev/null
n=$(reboot)
if [ "$n" = 0 ] && [ "$(readlink "$root/etc/binfmt.d/bottle.conf")" = /dev/null ]; then
    check uninstall-holds ok "uninstall masked the packaged file: nothing registered after the reboot"
else check uninstall-holds FAIL "$n entries after the reboot; /etc/binfmt.d/bottle.conf: $(ls -l "$root/etc/binfmt.d/bottle.conf" 2>&1)"; fi
in_root binfmt-reg install --no-persist > /dev/null
out=$(in_root dpkg --purge binfmt-bottle 2>&1)
left=$(ls $D | grep BOTTLE; ls "$root"/etc/binfmt.d "$root"/usr/lib/binfmt.d 2>/dev/null | grep bottle; ls "$root/usr/libexec/runbottle" 2>/dev/null)
if [ $? -ge 0 ] && [ -z "$left" ]; then check dpkg-purge ok "prerm unregistered; no entry, no binfmt.d file, no runbottle left"
else check dpkg-purge FAIL "left: $(echo $left); $(echo "$out" | tail -3 | tr '\n' ' ')"; fi
n=$(reboot)
if [ "$n" = 0 ]; then check nothing-comes-back ok "nothing registered after the reboot"
else check nothing-comes-back FAIL "$n entries after the reboot"; fi
