#!/bin/bash
# The program corpus (issue 13): real Debian programs bottled with `binfmt-reg bottle`, each
# bottle moved away from where it was packed, then run three ways: on the host, in a chroot
# holding only the bottle (plus /proc, /dev and a /tmp), and in a Docker container whose image
# is the bottle alone (FROM scratch); and a fourth: the same programs bottled with --rootfs, an
# image of that bottle alone run with no binfmt_misc entry and no added capability (the bottle's
# own runbottle as PT_INTERP). Each run's output must equal the host program's own run.
# One line per check ("programs NAME PLACE: ok (...)" or "... FAILED: why"), then
# "programs: N passed, M failed"; a missing tool or package is a failure.
# Needs root, a Docker daemon (make test-services), the programs (make test-deps).
# Usage: Tests/SystemTests/Programs/suite/run.sh BINFMT_REG [NAME-PATTERN | --arguments NAME]
#
# Bottles are sealed for the binfmt dispatch: the chroot and the image hold no runbottle for a
# PT_INTERP to name. The chroot runs in a private binfmt_misc instance; Docker containers share
# the host's user namespace, so one entry, bottle-programs-PID (F, interpreter runbottle), is
# registered in the host's instance for each container (Tests/SystemTests/lib/host-binfmt.sh: binfmt_misc
# stays unmounted in the host's mount namespace), and removed on every exit path; the host runs
# take the PT_INTERP dispatch, through the runbottle each program's slot names.
# Every docker image and container made here is removed on every exit path.
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BINFMT_REG [NAME-PATTERN]" >&2; exit 64; }
binfmt_reg=$(realpath "$1") || exit 1
only=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
suite=programs
work=$(mktemp -d /tmp/bottle-programs-XXXXXX) || exit 1
chmod 755 "$work"
source "$here/../../lib/host-binfmt.sh"
entry=bottle-programs-$$
image=bottle-programs-$$
registering=0
server=

cleanup() {
    [ $registering = 1 ] && on_instance "if [ -e $entry ]; then echo -1 > $entry; fi" 2>/dev/null
    if [ -n "$holder" ]; then kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; fi
    # SIGKILL: a test runner may start this script with SIGTERM blocked, which python inherits.
    if [ -n "$server" ]; then kill -KILL "$server" 2>/dev/null; wait "$server" 2>/dev/null; fi
    docker ps -aq --filter "name=^$image-" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
    docker images -q "$image-*" 2>/dev/null | sort -u | xargs -r docker rmi -f >/dev/null 2>&1
    if [ -n "${PROGRAMS_KEEP:-}" ]; then echo "programs: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the corpus: what each bottle holds; its run is scripts/NAME.sh ---
# progs: the programs to bottle (bash, which runs the script, is added to every bottle, and as
# sh: system(3), tar's compressor and git's upload-pack run /bin/sh -c);
# incs: --include and --lib arguments, trees a program finds by a compiled-in path at that path;
# paths: PATH inside the bottle, and ref_paths the host program's own (/usr/bin:/bin for /bin).
jdk=/usr/lib/jvm/java-17-openjdk-amd64
define() {
    progs=(); incs=(); paths=/bin; ref_paths=/usr/bin:/bin
    case $1 in
    bash) ;;
    jq | sqlite3 | xz | openssl) progs=(/usr/bin/$1) ;;
    node)
        # Debian's node loads some builtins (acorn, cjs-module-lexer, undici) from the files
        # under /usr/share/nodejs that libnode names; NodeSource's node has them built in.
        progs=(/usr/bin/node)
        local file
        for file in $(strings -n 8 "$(realpath /usr/bin/node)" $(ldd /usr/bin/node | awk '/libnode/ { print $3 }') |
            grep -o '/usr/share/nodejs/[^":]*' | sort -u); do
            if [ -f "$file" ]; then incs+=(--include "$file=${file#/}"); fi
        done ;;
    curl)
        # The default CA bundle is compiled in (the unverified request fails against it).
        progs=(/usr/bin/curl); incs=(--include /etc/ssl/certs/ca-certificates.crt=etc/ssl/certs/ca-certificates.crt) ;;
    tar) progs=(/usr/bin/tar /usr/bin/xz) ;;
    busybox)
        # The applets are symlinks named like the command, as busybox --install makes them.
        progs=(/usr/bin/busybox)
        mkdir -p "$work/applets"
        for applet in seq sort tr uniq sha256sum expr basename wc; do
            ln -sf /usr/bin/busybox "$work/applets/$applet"; progs+=("$work/applets/$applet")
        done
        ref_paths=$work/applets:/usr/bin:/bin ;;
    perl)
        # @INC is compiled in: the trees go to their own paths.
        progs=(/usr/bin/perl)
        for tree in /usr/lib/x86_64-linux-gnu/perl /usr/lib/x86_64-linux-gnu/perl-base /usr/share/perl; do
            incs+=(--include "$tree=${tree#/}")
        done ;;
    ruby)
        progs=(/usr/bin/ruby)
        for tree in /usr/lib/ruby /usr/lib/x86_64-linux-gnu/ruby; do incs+=(--include "$tree=${tree#/}"); done ;;
    git)
        # git's exec path and templates are compiled in.
        progs=(/usr/bin/git)
        incs=(--include /usr/lib/git-core=usr/lib/git-core --include /usr/share/git-core=usr/share/git-core) ;;
    python3)
        # Python looks for lib/python3.11 above its executable but never at /, which the bottle
        # is in the chroot: the stdlib goes to the compiled-in prefix, /usr.
        progs=(/usr/bin/python3.11); incs=(--include /usr/lib/python3.11=usr/lib/python3.11) ;;
    java)
        # The launcher finds the JDK from its own place in the tree, and lib/jvm.cfg links to
        # /etc/java-17-openjdk; the probe's class goes to /app.
        incs=(--include "$jdk=${jdk#/}" --include /etc/java-17-openjdk=etc/java-17-openjdk
              --include "$work/classes=app")
        paths=$jdk/bin:/bin; ref_paths=$jdk/bin:/usr/bin:/bin ;;
    gcc)
        # gcc at DIR/bin finds cc1 and its own files under DIR/lib/gcc, where --include puts
        # /usr/lib/gcc; the C headers at their compiled-in path; the start files and libc.so
        # in a directory it searches, /usr/lib/x86_64-linux-gnu; libc.so, a linker script,
        # names libc.so.6, libc_nonshared.a and the loader absolutely, and the hello runs with
        # /lib64's loader.
        progs=(/usr/bin/gcc /usr/bin/as /usr/bin/ld)
        incs=(--include /usr/lib/gcc/x86_64-linux-gnu/12 --include /usr/include=usr/include
              --include /lib/x86_64-linux-gnu/libc.so.6 --include /lib64/ld-linux-x86-64.so.2)
        local file
        for file in Scrt1.o crti.o crtn.o libc.so libc_nonshared.a libgcc_s.so.1; do
            incs+=(--include "/usr/lib/x86_64-linux-gnu/$file=usr/lib/x86_64-linux-gnu/$file")
        done ;;
    *) return 1 ;;
    esac
}
corpus=(bash jq sqlite3 busybox tar xz openssl curl perl ruby node git python3 java gcc)

# --arguments NAME: the programs and options NAME's bottle is made with, one a line (the
# scratch directory's own files relative to it), which ProgramTests finds in binfmt-reg(8).
if [ "$only" = --arguments ]; then
    define "${3:-}" || exit 64
    printf '%s\n' "${progs[@]}" "${incs[@]}" | sed "s|$work/||"
    exit 0
fi

# --- tools and programs: each missing one is a failure, named ---
missing=""
for tool in docker unshare chroot openssl /usr/bin/python3.11 java javac gcc as ld node git perl ruby curl \
    sqlite3 jq busybox bash tar xz strings ldd; do
    command -v $tool >/dev/null || missing="$missing $tool"
done
[ -n "$missing" ] && fatal tools "missing:$missing (make test-deps)"
[ "$(id -u)" = 0 ] || fatal tools "needs root (binfmt_misc registration, chroot)"
docker info >/dev/null 2>&1 || fatal tools "no Docker daemon answers (make test-services)"
pass tools "$(docker version --format 'docker {{.Server.Version}}' 2>/dev/null), $(uname -r)"

"$binfmt_reg" install --root "$work/rb" --no-persist >/dev/null || fatal tools "binfmt-reg install --root failed"
runbottle=$work/rb/usr/libexec/runbottle
line=$("$binfmt_reg" line --interpreter "$runbottle" | head -1) || fatal tools "binfmt-reg line failed"

# --- the host's instance, held for the run ---
# The entry exists only while a container or, before Linux 6.7, a chroot runs: the host runs
# take the PT_INTERP dispatch (the kernel starts the runbottle each program's slot names), the
# chroot its private instance's entry (from 6.7), Docker the host's.
hold_instance
on_instance "test ! -e $entry" || fatal holder "an entry named $entry already exists"
host_entry() { # add | remove
    if [ $1 = add ]; then
        registering=1
        on_instance "printf '%s\n' '${line/:BOTTLE:/:$entry:}' > register"
    else
        on_instance "if [ -e $entry ]; then echo -1 > $entry; fi"
    fi
}
host_entry add 2> "$work/register.err" && host_entry remove 2>> "$work/register.err" ||
    fatal holder "registering $entry: $(oneline "$work/register.err")"
pass holder "$entry registers in the host's instance (F, interpreter $runbottle) and goes"
# Whether a user namespace mounts a binfmt_misc instance of its own here (Linux 6.7 and later).
if why=$(bash "$here/../../lib/instance-vm.sh" --needed); then
    own_instance=0
    pass instance "the chroots use $entry in the host's instance: $why"
else
    own_instance=1
    pass instance "the chroots register in a user namespace's own binfmt_misc instance"
fi

# --- a local HTTPS server for curl: a self-signed certificate for 127.0.0.1 ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" \
    >/dev/null 2>&1 || fatal https "openssl req failed"
mkdir "$work/www" && printf 'served over TLS\n' > "$work/www/hello.txt"
port=$(/usr/bin/python3.11 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work/www" && exec /usr/bin/python3.11 -c '
import http.server, ssl, sys
httpd = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2], sys.argv[3])
httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()' "$port" "$work/cert.pem" "$work/key.pem" 2>/dev/null) &
server=$!
for _ in $(seq 100); do
    curl -s --cacert "$work/cert.pem" -o /dev/null "https://127.0.0.1:$port/hello.txt" && break
    sleep 0.1
done
cert=$(cat "$work/cert.pem")



# The java probe: java.home and a child JVM started from it.
mkdir -p "$work/classes"
cat > "$work/Probe.java" <<'JAVA'
public class Probe {
    public static void main(String[] args) throws Exception {
        String home = System.getProperty("java.home");
        if (args.length > 0) { System.out.println("child " + args[0] + " home=" + home); return; }
        System.out.println("java.home=" + home + " version=" + System.getProperty("java.version"));
        Process child = new ProcessBuilder(home + "/bin/java", "-XX:-UsePerfData", "-cp",
            System.getProperty("java.class.path"), "Probe", "42").redirectErrorStream(true).start();
        System.out.print(new String(child.getInputStream().readAllBytes()));
        System.out.println("child exit=" + child.waitFor());
    }
}
JAVA
javac -d "$work/classes" "$work/Probe.java" 2> "$work/javac.err" || fail javac "$(oneline "$work/javac.err")"

printf 'FROM scratch\nCOPY . /\n' > "$work/Dockerfile"
mkdir -p "$work/links" && ln -sf /usr/bin/bash "$work/links/sh"
mkdir -p "$work/packed" "$work/moved" "$work/out"

# Runs NAME's script at PLACE (ref, host, chroot, docker) from bottle B into out/NAME.PLACE:
# stdout and stderr together, then the exit status.
run_at() {
    local name=$1 place=$2 b=$3 script out=$work/out/$1.$2 dir path classes
    script="cd \"\$HOME\" || exit 1"$'\n'"$(cat "$here/scripts/$name.sh")"
    case $place in
    ref | host)
        dir=$work/w-$name-$place; mkdir -p "$dir"
        if [ $place = ref ]; then path=$ref_paths; classes=$work/classes; shell=/bin/bash
        else path=$(sed "s|\([^:]*\)|$b\1|g" <<<"$paths"); classes=$b/app; shell=$b/bin/bash; fi
        env -i PATH="$path" HOME="$dir" TZ=UTC0 LC_ALL=C PORT="$port" CERT="$cert" CLASSES="$classes" \
            "$shell" -c "$script" > "$out" 2>&1 ;;
    chroot)
        # The entry: in a user namespace's own binfmt_misc instance (Linux 6.7 and later), else
        # in the host's under this run's name, for the chroot's run only.
        local ns=(unshare --user --map-root-user --mount --propagation private) register
        register='mount -t binfmt_misc binfmt_misc '$bm' && printf "%s\n" "$1" > '$bm'/register'
        if [ $own_instance = 0 ]; then
            ns=(unshare --mount --propagation private) register=:
            host_entry add 2> "$out" || return
        fi
        "${ns[@]}" bash -c '
            set -e
            b=$1; shift
            '"$register"'; shift
            mkdir -p $b/proc $b/dev $b/tmp
            mount --rbind /proc $b/proc
            mount --rbind /dev $b/dev
            mount -t tmpfs -o mode=1777 tmpfs $b/tmp
            mkdir $b/tmp/w
            exec env -i "$@"' - "$b" "$line" PATH="$paths" HOME=/tmp/w TZ=UTC0 LC_ALL=C PORT="$port" \
            CERT="$cert" CLASSES=/app "$(command -v chroot)" "$b" /bin/bash -c "$script" > "$out" 2>&1
        [ $own_instance = 1 ] || host_entry remove ;;
    rootfs)
        # The --rootfs bottle's image: its own runbottle at /usr/libexec/runbottle is the
        # programs' PT_INTERP, the kernel's own exec, so no entry and no capability is needed.
        docker run --rm --name "$image-$name-rootfs" --network host -w /tmp/w -e PATH="$paths" \
            -e HOME=/tmp/w -e TZ=UTC0 -e LC_ALL=C -e PORT="$port" -e CERT="$cert" -e CLASSES=/app \
            "$image-$name-rootfs" /bin/bash -c "$script" > "$out" 2>&1 ;;
    docker)
        # SYS_ADMIN lets runbottle move /proc/self/exe to the program (prctl PR_SET_MM_EXE_FILE;
        # this Docker cannot name CAP_CHECKPOINT_RESTORE). Without it the binfmt dispatch runs
        # the loader's explicit mode (runbottle(8), EXECUTION CONTEXTS): /proc/self/exe names
        # runbottle, and node's process.execPath and perl's $^X spawn runbottle.
        docker run --rm --cap-add SYS_ADMIN --name "$image-$name" --network host -w /tmp/w -e PATH="$paths" \
            -e HOME=/tmp/w -e TZ=UTC0 -e LC_ALL=C -e PORT="$port" -e CERT="$cert" -e CLASSES=/app \
            "$image-$name" /bin/bash -c "$script" > "$out" 2>&1 ;;
    esac
    echo "exit=$?" >> "$out"
}

# What legitimately differs between runs: the bottle's location (gone from every path, so that
# $B/usr/lib/jvm/... reads as /usr/lib/jvm/...) and the work directory.
normalise() { sed -e "s|$2||g" -e "s|$3|<work>|g" "$1"; }

for name in "${corpus[@]}"; do
    [ -n "$only" ] && [[ $name != $only ]] && continue
    define $name || fatal "$name" "no definition"
    packed=$work/packed/$name b=$work/moved/$name
    start=$(date +%s.%N)
    if ! "$binfmt_reg" bottle --dispatch binfmt --interpreter "$runbottle" -o "$packed" \
        "${progs[@]}" /usr/bin/bash "$work/links/sh" "${incs[@]}" > "$work/out/$name.pack" 2>&1; then
        fail "$name pack" "$(tail -c 600 "$work/out/$name.pack" | tr '\n' ' ')"; continue
    fi
    took=$(echo "$(date +%s.%N) - $start" | bc)
    mv "$packed" "$b" || { fail "$name move" "mv $packed $b"; continue; }
    pass "$name pack" "$(du -sm "$b" | cut -f1) MB, $(find "$b" -type f | wc -l) files, $(printf '%.1f' "$took") s"
    run_at $name ref /
    for place in host chroot docker rootfs; do
        if [ $place = docker ]; then
            mkdir -p "$b/tmp" && chmod 1777 "$b/tmp"
            if ! docker build -q -f "$work/Dockerfile" -t "$image-$name" "$b" > "$work/out/$name.build" 2>&1; then
                fail "$name docker" "docker build: $(oneline "$work/out/$name.build")"; continue
            fi
        fi
        if [ $place = rootfs ]; then
            # Packed again as a whole root (runbottle inside, /tmp 1777), and nothing else.
            r=$work/rootfs/$name
            if ! "$binfmt_reg" bottle --rootfs -o "$r" "${progs[@]}" /usr/bin/bash "$work/links/sh" "${incs[@]}" \
                > "$work/out/$name.rootfs-pack" 2>&1; then
                fail "$name rootfs" "pack: $(tail -c 600 "$work/out/$name.rootfs-pack" | tr '\n' ' ')"; continue
            fi
            if ! docker build -q -f "$work/Dockerfile" -t "$image-$name-rootfs" "$r" > "$work/out/$name.build" 2>&1; then
                fail "$name rootfs" "docker build: $(oneline "$work/out/$name.build")"; continue
            fi
        fi
        if [ $place = docker ]; then
            host_entry add 2> "$work/register.err" || { fail "$name docker" "registering $entry: $(oneline "$work/register.err")"; continue; }
            run_at $name $place "$b"
            host_entry remove
        else
            run_at $name $place "$b"
        fi
        if [ $place = host ]; then bottle=$b work_dir=$work/w-$name-host; else bottle='^$' work_dir=/tmp/w; fi
        if diff <(normalise "$work/out/$name.ref" '^$' "$work/w-$name-ref") \
                <(normalise "$work/out/$name.$place" "$bottle" "$work_dir") > "$work/out/$name.$place.diff"; then
            pass "$name $place" "$(wc -l < "$work/out/$name.ref") lines as the host program's"
        else
            fail "$name $place" "differs from the host program's run: $(oneline "$work/out/$name.$place.diff")"
        fi
    done
    docker rmi -f "$image-$name" "$image-$name-rootfs" >/dev/null 2>&1
    rm -rf "$work/rootfs/$name"
done
finish
