# Downloads from Debian's archive, cached: a private apt configuration per suite and architecture
# (the host's apt state is never touched), the newest kernel of a release and busybox-static.
# Sourced by the VM suite (run.sh) and the private-instance VM (../../lib/instance-vm.sh). The
# sourcing script sets cache (the download cache), work (a scratch directory for logs), mirror and
# keyring.
apt_opts() { # SUITE DEBARCH
    local d=$cache/apt/$1-$2
    printf '%s\n' -o "Dir::Etc::sourcelist=$d/sources.list" -o Dir::Etc::sourceparts=/dev/null \
        -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts=/dev/null \
        -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o Dir::State::status=/dev/null \
        -o "APT::Architecture=$2" -o "APT::Architectures=$2" -o APT::Sandbox::User=root -q
}
# Refreshes the suite's package lists once per run (only when something is not cached yet).
apt_update() { # SUITE DEBARCH
    local d=$cache/apt/$1-$2
    [ -e "$work/updated-$1-$2" ] && return 0
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial" || return 1
    printf 'deb [signed-by=%s] %s %s main\ndeb [signed-by=%s] %s-security %s-security main\n' \
        "$keyring" "$mirror" "$1" "$keyring" "$mirror" "$1" > "$d/sources.list"
    mapfile -t opts < <(apt_opts "$1" "$2")
    apt-get "${opts[@]}" --error-on=any update > "$work/apt-$1-$2.log" 2>&1 ||
        { echo "apt-get update ($1 $2) failed: $(tail -3 "$work/apt-$1-$2.log" | tr '\n' ' ')"; return 1; }
    touch "$work/updated-$1-$2"
}
# Downloads PACKAGE and unpacks it into DIR.
fetch_deb() { # SUITE DEBARCH PACKAGE DIR
    apt_update "$1" "$2" || return 1
    local dl=$cache/debs/$1-$2 deb
    mkdir -p "$dl" "$4" || return 1
    mapfile -t opts < <(apt_opts "$1" "$2")
    (cd "$dl" && apt-get "${opts[@]}" download "$3" > "$work/download.log" 2>&1) ||
        { echo "apt-get download $3 ($1 $2) failed: $(tail -3 "$work/download.log" | tr '\n' ' ')"; return 1; }
    deb=$(ls -t "$dl/$3"_*.deb | head -1)
    # What is kept is the unpacked result; the package goes.
    dpkg-deb -x "$deb" "$4" && rm -f "$deb" || { echo "dpkg-deb -x $deb failed"; return 1; }
}
# The newest kernel of SUITE for DEBARCH: vmlinuz, binfmt_misc.ko (uncompressed: busybox insmod
# takes plain modules) or a "builtin" marker, and its release.
fetch_kernel() { # NAME
    local suite=${1%-*} debarch=${1#*-} dir=$cache/kernels/$1 pkg tmp rel ko
    [ -s "$dir/vmlinuz" ] && [ -s "$dir/release" ] && [ -d "$dir/9p" ] && return 0
    apt_update "$suite" "$debarch" || return 1
    mapfile -t opts < <(apt_opts "$suite" "$debarch")
    pkg=$(apt-cache "${opts[@]}" depends "linux-image-$debarch" 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
    [ -n "$pkg" ] || { echo "no linux-image-$debarch in $suite"; return 1; }
    tmp=$work/kernel-$1
    rm -rf "$tmp" && fetch_deb "$suite" "$debarch" "$pkg" "$tmp" || return 1
    # /lib/modules before trixie, /usr/lib/modules (merged /usr) from trixie on.
    local mods
    mods=$(ls -d "$tmp"/{usr/lib,lib}/modules/* 2>/dev/null | head -1)
    rel=$(basename "$mods")
    rm -rf "$dir.new" && mkdir -p "$dir.new" && cp "$tmp/boot/vmlinuz-$rel" "$dir.new/vmlinuz" ||
        { echo "$pkg: no vmlinuz"; return 1; }
    ko=$(find "$mods" -name 'binfmt_misc.ko*' | head -1)
    case $ko in
    *.ko) cp "$ko" "$dir.new/binfmt_misc.ko" ;;
    *.ko.xz) xz -dc "$ko" > "$dir.new/binfmt_misc.ko" ;;
    *.ko.zst) zstd -qdc "$ko" > "$dir.new/binfmt_misc.ko" ;;
    "") grep -q binfmt_misc "$mods/modules.builtin" && touch "$dir.new/builtin" ;;
    esac || { echo "$pkg: cannot unpack $ko"; return 1; }
    [ -s "$dir.new/binfmt_misc.ko" ] || [ -e "$dir.new/builtin" ] || { echo "$pkg: no binfmt_misc"; return 1; }
    # The 9p client, in load order, for a VM whose root is the host's file system (instance-vm.sh).
    mkdir "$dir.new/9p" || return 1
    local m n=0
    for m in netfs 9pnet 9pnet_virtio 9p; do
        ko=$(find "$mods" -name "$m.ko*" | head -1)
        n=$((n + 1))
        case $ko in
        *.ko) cp "$ko" "$dir.new/9p/$n-$m.ko" ;;
        *.ko.xz) xz -dc "$ko" > "$dir.new/9p/$n-$m.ko" ;;
        *.ko.zst) zstd -qdc "$ko" > "$dir.new/9p/$n-$m.ko" ;;
        # Built in (or, for netfs, not a module of its own before 6.x): nothing to load.
        "") ;;
        esac || { echo "$pkg: cannot unpack $ko"; return 1; }
    done
    echo "$rel" > "$dir.new/release" && echo "$pkg" > "$dir.new/package" &&
        rm -rf "$dir" && mv "$dir.new" "$dir" && rm -rf "$tmp"
}
# busybox-static of trixie for DEBARCH: the same busybox in every VM of an architecture.
fetch_busybox() { # DEBARCH
    local dir=$cache/busybox/$1
    [ -s "$dir/busybox" ] && return 0
    rm -rf "$work/bb-$1" && fetch_deb trixie "$1" busybox-static "$work/bb-$1" || return 1
    local bb
    bb=$(ls "$work/bb-$1"/{usr/bin,bin}/busybox 2>/dev/null | head -1)
    mkdir -p "$dir" && [ -n "$bb" ] && cp "$bb" "$dir/busybox" || { echo "busybox-static: no busybox in the package"; return 1; }
}
