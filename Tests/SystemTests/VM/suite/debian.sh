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
# A kernel module's plain bytes on stdout, however the package compressed it.
module_bytes() { # FILE
    case $1 in
    *.ko) cat "$1" ;;
    *.ko.xz) xz -dc "$1" ;;
    *.ko.zst) zstd -qdc "$1" ;;
    *) return 1 ;;
    esac
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
    if [ -n "$ko" ]; then
        module_bytes "$ko" > "$dir.new/binfmt_misc.ko" || { echo "$pkg: cannot unpack $ko"; return 1; }
    else
        grep -q binfmt_misc "$mods/modules.builtin" && touch "$dir.new/builtin"
    fi
    [ -s "$dir.new/binfmt_misc.ko" ] || [ -e "$dir.new/builtin" ] || { echo "$pkg: no binfmt_misc"; return 1; }
    # The 9p client and what it needs, in load order, for a VM whose root is the host's file
    # system (instance-vm.sh). What the kernel builds in has no file: nothing to load.
    mkdir "$dir.new/9p" || return 1
    local order=() seen=" " f n=0
    needs() { # MODULE: its dependencies first (the .deb has no modules.dep), then it
        local f d deps
        case $seen in *" $1 "*) return 0 ;; esac
        seen="$seen$1 "
        f=$(find "$mods" \( -name "$1.ko*" -o -name "${1//_/-}.ko*" \) | head -1)
        [ -n "$f" ] || return 0
        # The module's "depends=" string, read as modinfo would (kmod need not be installed).
        deps=$(module_bytes "$f" | tr '\0' '\n') || return 1
        deps=$(grep -a -m1 '^depends=' <<< "$deps")
        deps=${deps#depends=}
        for d in ${deps//,/ }; do needs "$d" || return 1; done
        order+=("$f")
    }
    needs virtio_pci && needs 9pnet_virtio && needs 9p || { echo "$pkg: cannot read the 9p modules"; return 1; }
    for f in "${order[@]}"; do
        n=$((n + 1))
        module_bytes "$f" > "$dir.new/9p/$(printf %02d $n)-$(basename "${f%%.ko*}").ko" ||
            { echo "$pkg: cannot unpack $f"; return 1; }
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
