#!/bin/bash
# The installer image and the DaemonSet against this host's binfmt_misc: builds the image from
# BINFMT_REG, registers uniquely named entries in the host's instance from a container, runs a
# sealed program on the host through them, reads them back with status --json from a new
# container, removes them, validates deploy/daemonset.yaml and runs its pod spec's installer
# containers under dockerd with the mounts and privileges it gives them.
# One line per check, then "deploy: N passed, M failed"; a missing tool is a failure.
# Needs root, a Docker daemon, gcc, util-linux (unshare) and kubernetes-validate in $K8S_VENV
# (`make image-test-deps`).
# Usage: deploy/test.sh BINFMT_REG
#
# Every entry this script registers is named bottle-deploy-PID (and -privileged) and removed on
# every exit path. binfmt_misc stays unmounted in the host's mount namespace: a process in a
# private mount namespace holds a mount of the host's instance for the length of the run,
# standing in for the node's own mount (systemd's proc-sys-fs-binfmt_misc.automount). Linux 6.7
# and later drop an instance's entries when its last mount goes, and the installer's own mount
# goes with its container.
set -uo pipefail
[ $# = 1 ] || { echo "usage: $0 BINFMT_REG" >&2; exit 64; }
binfmt_reg=$(realpath "$1") || exit 1
here=$(cd "$(dirname "$0")" && pwd)
suite=deploy
work=$(mktemp -d /tmp/bottle-deploy-XXXXXX) || exit 1
source "$here/../Tests/SystemTests/lib/host-binfmt.sh"
manifest=$here/daemonset.yaml
k8s_venv=${K8S_VENV:-/srv/k8s-venv}
# What stands for --privileged here: runc cannot apply every capability where root's bounding
# set lacks one (CAP_SYS_RESOURCE on this CI), so --privileged fails; mounting binfmt_misc needs
# CAP_SYS_ADMIN (which also lifts Docker's default seccomp filter off mount) and, where
# AppArmor confines containers, an unconfined profile.
privileged=(${DEPLOY_PRIVILEGED:---cap-add SYS_ADMIN --security-opt apparmor=unconfined})

entry=bottle-deploy-$$
image=binfmt-bottle/installer-test-$$
containers=bottle-deploy-$$
image_built=0
registering=0

cleanup() {
    # Our two entries go on every exit path, whether or not the holder still runs.
    [ $registering = 1 ] &&
        on_instance "for e in $entry $entry-privileged; do if [ -e \$e ]; then echo -1 > \$e; fi; done" 2>/dev/null
    if [ -n "$holder" ]; then kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; fi
    docker ps -aq --filter "name=^$containers-" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
    [ $image_built = 1 ] && docker rmi -f "$image:$version" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ---
missing=""
for tool in docker gcc unshare readelf ldd python3 strip; do
    command -v $tool >/dev/null || missing="$missing $tool"
done
[ -n "$missing" ] && fatal tools "missing:$missing"
[ "$(id -u)" = 0 ] || fatal tools "needs root (binfmt_misc registration)"
docker info >/dev/null 2>&1 || fatal tools "no Docker daemon answers (make test-services)"
[ -x "$k8s_venv/bin/kubernetes-validate" ] ||
    fatal tools "no kubernetes-validate in $k8s_venv (make image-test-deps)"
pass tools "docker, gcc, unshare, kubernetes-validate; privileges here: ${privileged[*]}"

# --- the image ---
version=$("$binfmt_reg" --version) || fatal image "$binfmt_reg --version failed"
if bash "$here/image/build.sh" "$binfmt_reg" "$image:$version" >"$work/build.out" 2>&1; then
    image_built=1
    pass image-build "$image:$version"
else
    fatal image-build "$(oneline "$work/build.out")"
fi

# The image holds binfmt-reg, runbottle, /tmp and, only while binfmt-reg is dynamically linked,
# the libraries and loader ldd names for it, at their paths; runbottle is the one binfmt-reg
# installs.
docker save "$image:$version" > "$work/image.tar" && mkdir "$work/image" &&
    tar -xf "$work/image.tar" -C "$work/image" || fatal image-content "docker save failed"
layers=$(find "$work/image" -name layer.tar)
listing=$(for l in $layers; do tar -tvf "$l"; done)
files=$(awk '$1 !~ /^d/ { print "/" $6 }' <<<"$listing" | sort)
dynamic=0
expected=$(printf '%s\n' /usr/bin/binfmt-reg /usr/libexec/runbottle
    if readelf -lW "$binfmt_reg" | grep -q 'Requesting program interpreter'; then
        ldd "$binfmt_reg" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
    fi)
expected=$(sort -u <<<"$expected")
[ "$(wc -l <<<"$expected")" -gt 2 ] && dynamic=1
"$binfmt_reg" install --root "$work/expected" --no-persist >/dev/null
mkdir "$work/rootfs" && for l in $layers; do tar -xf "$l" -C "$work/rootfs"; done
if [ "$(wc -w <<<"$layers")" != 1 ]; then
    fail image-content "$(wc -w <<<"$layers") layers, expected 1 (FROM scratch, one COPY)"
elif [ "$files" != "$expected" ]; then
    fail image-content "files differ from the expected ones: $(diff <(echo "$expected") <(echo "$files") | grep '^[<>]' | tr '\n' ' ')"
elif ! grep -qE '^drwxrwxrwt .* tmp/$' <<<"$listing"; then
    fail image-content "/tmp is not mode 1777"
elif ! cmp -s "$work/rootfs/usr/libexec/runbottle" "$work/expected/usr/libexec/runbottle"; then
    fail image-content "usr/libexec/runbottle differs from what binfmt-reg install writes"
else
    pass image-content "$(wc -l <<<"$files") files, one layer$([ $dynamic = 1 ] && echo "; binfmt-reg is dynamically linked: $(($(wc -l <<<"$files") - 3)) libraries and the loader beside it")"
fi

out=$(docker run --rm --name "$containers-version" "$image:$version" --version 2>&1)
[ "$out" = "$version" ] && pass image-version "$out" || fail image-version "the image says '$out', $binfmt_reg says '$version'"
config=$(docker inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$image:$version")
[ "$config" = '["/usr/bin/binfmt-reg"] ["status","--json","--no-persist"]' ] &&
    pass image-entrypoint "$config" || fail image-entrypoint "$config"

# --- a bottle sealed for the binfmt dispatch whose PT_INTERP slot names nothing: only an entry
# runs it ---
b=$work/bottle
mkdir -p "$b/bin" "$b/lib"
cat > "$work/hello.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n < 0 ? 0 : n] = 0;
    printf("argv0=%s argc=%d exe=%s\n", argv[0], argc, exe);
    return 0;
}
EOF
gcc -O1 -o "$b/bin/hello" "$work/hello.c" -Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/../lib' &&
    cp -L /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/libc.so.6 "$b/lib/" &&
    "$binfmt_reg" seal --dispatch binfmt --interpreter /nonexistent/runbottle "$b/bin/hello" >/dev/null ||
    fatal bottle "could not build and seal $b/bin/hello"
expected_hello="argv0=$b/bin/hello argc=2 exe=$b/bin/hello"
run_hello() { "$b/bin/hello" one 2>&1; }

# --- the host's instance, held for the run ---
hold_instance
on_instance "test ! -e $entry && test ! -e $entry-privileged" ||
    fatal holder "entries named $entry already exist"
registering=1
# An entry's state, flattened to one line: "enabled interpreter PATH flags: LETTERS ".
entry_state() { on_instance "cat $1" 2>/dev/null | awk 'NR == 1 || /^interpreter|^flags/' | tr '\n' ' '; }
want_state="enabled interpreter /usr/libexec/runbottle flags: POCF "

# --- the Docker commands: install, status, uninstall ---
docker run --rm --name "$containers-noprivs" "$image:$version" install --no-persist --name "$entry" \
    > "$work/noprivs.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q 'mount binfmt_misc: permission denied, though running as root: this namespace lacks the privilege (a container needs --privileged or --cap-add SYS_ADMIN' "$work/noprivs.out" &&
    on_instance "test ! -e $entry"; then
    pass install-unprivileged-refused "exit 1, nothing registered: $(oneline "$work/noprivs.out")"
else
    fail install-unprivileged-refused "exit $rc: $(oneline "$work/noprivs.out")"
fi

# entries_command COMMAND SAID: binfmt-reg COMMAND --no-persist --name ENTRY in a privileged
# container; the check COMMAND passes when it exits 0 and says "NAME: SAID" of both entries.
entries_command() {
    local command=$1 said=$2 rc
    docker run --rm --name "$containers-$command" "${privileged[@]}" "$image:$version" \
        "$command" --no-persist --name "$entry" > "$work/$command.out" 2>&1
    rc=$?
    if [ $rc = 0 ] && grep -qx "$entry: $said" "$work/$command.out" &&
        grep -qx "$entry-privileged: $said" "$work/$command.out"; then
        pass "$command" "$(oneline "$work/$command.out")"
    else
        fail "$command" "exit $rc: $(oneline "$work/$command.out")"
    fi
}

entries_command install "registered (POCF)"
for e in $entry $entry-privileged; do
    state=$(entry_state $e)
    [ "$state" = "$want_state" ] && pass "host-entry $e" "after the container is gone: $state" ||
        fail "host-entry $e" "'$state', expected '$want_state'"
done
out=$(run_hello)
[ "$out" = "$expected_hello" ] &&
    pass sealed-run-on-host "through the entry (F: runbottle of the removed container): $out" ||
    fail sealed-run-on-host "'$out', expected '$expected_hello'"

docker run --rm --name "$containers-reinstall" "${privileged[@]}" "$image:$version" \
    install --no-persist --name "$entry" > "$work/reinstall.out" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(grep -c 'already installed, nothing changed' "$work/reinstall.out")" = 3 ]; then
    pass install-again "nothing changed"
else
    fail install-again "exit $rc: $(oneline "$work/reinstall.out")"
fi
# The one-run form: install, then the status of the chain, as JSON.
docker run --rm --name "$containers-install-json" "${privileged[@]}" "$image:$version" \
    install --no-persist --json --name "$entry" > "$work/install.json" 2>&1
rc=$?
if [ $rc = 0 ] && python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] and d["changes"] and d["status"]["entries"] else 1)' "$work/install.json"; then
    pass install-json "ok, what changed, the status report"
else
    fail install-json "exit $rc: $(oneline "$work/install.json")"
fi

# status from a new, unprivileged container: binfmt_misc is not mounted there; the canary runs
# through the host's entry.
docker run --rm --name "$containers-status" "$image:$version" status --json --no-persist --name "$entry" \
    > "$work/status.json" 2> "$work/status.err"
rc=$?
verdict=$(python3 - "$work/status.json" "$entry" <<'EOF'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except Exception as error:
    print("not JSON: %s" % error); sys.exit()
name = sys.argv[2]
names = sorted(e.get("name") for e in report.get("entries", []))
binfmt = [c for c in report.get("canary", []) if c.get("dispatch") == "binfmt" and c.get("user") is None]
dispatch = [d for d in report.get("dispatches", []) if d.get("dispatch") == "binfmt"]
if names != sorted([name, name + "-privileged"]):
    print("entries %s" % names)
elif not binfmt or not binfmt[0].get("reachedLoader") or not all(c["ok"] for c in binfmt[0]["checks"]):
    print("the root canary did not run through the host's entry: %s" % binfmt)
elif not dispatch or dispatch[0].get("outcome") not in ("native", "explicit"):
    print("binfmt dispatch: %s" % dispatch)
elif report.get("problems"):
    print("problems: %s" % report["problems"])
else:
    print("ok: entries %s, binfmt dispatch %s (%s)" % (", ".join(names), dispatch[0]["outcome"], dispatch[0]["summary"]))
EOF
)
[ $rc = 0 ] && [[ $verdict == ok:* ]] && pass status-json "${verdict#ok: }" ||
    fail status-json "exit $rc: $verdict $(oneline "$work/status.err")"

# The image's default command (status --json) needs no privilege.
docker run --rm --name "$containers-default" "$image:$version" > "$work/default.json" 2>&1
rc=$?
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$work/default.json" 2>/dev/null && [ $rc = 0 ] &&
    pass default-command "status --json, exit 0" || fail default-command "exit $rc: $(oneline "$work/default.json")"

entries_command uninstall removed
on_instance "test ! -e $entry && test ! -e $entry-privileged" &&
    pass host-entries-gone || fail host-entries-gone "$(on_instance 'ls' | tr '\n' ' ')"

# --- the DaemonSet ---
"$k8s_venv/bin/kubernetes-validate" --strict "$manifest" > "$work/validate.out" 2>&1
rc=$?
[ $rc = 0 ] && pass daemonset-valid "$(oneline "$work/validate.out")" ||
    fail daemonset-valid "exit $rc: $(oneline "$work/validate.out")"

# The pod spec as data: one line per container of the installer image, tab-separated "NAME
# PRIVILEGED ARGS-JSON MOUNTS-JSON", mounts as [kind, source, mountPath, readOnly].
"$k8s_venv/bin/python" - "$manifest" "binfmt-bottle/installer:$version" > "$work/pod.txt" 2> "$work/pod.err" <<'EOF'
import json, sys, yaml
manifest, wanted = sys.argv[1], sys.argv[2]
spec = yaml.safe_load(open(manifest))["spec"]["template"]["spec"]
volumes = {v["name"]: v for v in spec.get("volumes", [])}
containers = spec.get("initContainers", []) + spec.get("containers", [])
for c in containers:
    if not c["image"].startswith("binfmt-bottle/installer:"):
        continue
    if c["image"] != wanted:
        sys.exit("container %s runs %s, expected %s" % (c["name"], c["image"], wanted))
    mounts = []
    for m in c.get("volumeMounts", []):
        v = volumes[m["name"]]
        if "hostPath" in v:
            mounts.append(["hostPath", v["hostPath"]["path"], m["mountPath"], bool(m.get("readOnly"))])
        elif "emptyDir" in v:
            mounts.append(["emptyDir", m["name"], m["mountPath"], bool(m.get("readOnly"))])
        else:
            sys.exit("volume %s: only hostPath and emptyDir are mapped" % m["name"])
    privileged = bool((c.get("securityContext") or {}).get("privileged"))
    print(c["name"], int(privileged), json.dumps(c.get("args", [])), json.dumps(mounts), sep="\t")
EOF
[ $? = 0 ] && [ -s "$work/pod.txt" ] &&
    pass daemonset-image "the installer containers run binfmt-bottle/installer:$version: $(cut -f1 "$work/pod.txt" | tr '\n' ' ')" ||
    fatal daemonset-image "$(oneline "$work/pod.err")"

runs=0
# run_pod_container NAME [ARGS...]: the container of that name as the pod spec gives it (its
# privileges, volumes and arguments, or ARGS instead), with --name $entry added.
run_pod_container() {
    local name=$1 line privileged_flag args mounts
    shift
    line=$(awk -F '\t' -v n="$name" '$1 == n' "$work/pod.txt")
    [ -n "$line" ] || { echo "no container $name in the pod spec"; return 1; }
    IFS=$'\t' read -r _ privileged_flag args mounts <<<"$line"
    runs=$((runs + 1))
    local docker_args=()
    [ "$privileged_flag" = 1 ] && docker_args+=("${privileged[@]}")
    while IFS=$'\t' read -r kind source target ro; do
        [ -n "$kind" ] || continue
        # An emptyDir is a directory of the pod's, shared by its containers.
        [ "$kind" = emptyDir ] && { source=$work/emptydir/$source; mkdir -p "$source"; }
        docker_args+=(-v "$source:$target$([ "$ro" = True ] && echo :ro)")
    done < <(python3 -c 'import json, sys
for k, s, t, ro in json.loads(sys.argv[1]): print(k, s, t, ro, sep="\t")' "$mounts")
    local argv=()
    if [ $# -gt 0 ]; then argv=("$@"); else
        mapfile -t argv < <(python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])))' "$args")
    fi
    docker run --rm --name "$containers-pod-$name-$runs" "${docker_args[@]}" "$image:$version" \
        "${argv[@]}" --name "$entry"
}
run_pod_container install > "$work/pod-install.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "runbottle: installed runbottle" "$work/pod-install.out" &&
    grep -qx "$entry: registered (POCF)" "$work/pod-install.out"; then
    pass pod-install "$(oneline "$work/pod-install.out")"
else
    fail pod-install "exit $rc: $(oneline "$work/pod-install.out")"
fi
for e in $entry $entry-privileged; do
    state=$(entry_state $e)
    [ "$state" = "$want_state" ] && pass "pod-host-entry $e" "$state" ||
        fail "pod-host-entry $e" "'$state', expected '$want_state'"
done
out=$(run_hello)
[ "$out" = "$expected_hello" ] && pass pod-sealed-run-on-host "$out" ||
    fail pod-sealed-run-on-host "'$out', expected '$expected_hello'"
run_pod_container status > "$work/pod-status.out" 2>&1
rc=$?
[ $rc = 0 ] && pass pod-status "$(tail -n 1 "$work/pod-status.out")" ||
    fail pod-status "exit $rc: $(grep -E '^problem' "$work/pod-status.out" | head -3 | tr '\n' ' ')"
run_pod_container install uninstall --no-persist > "$work/pod-uninstall.out" 2>&1
rc=$?
if [ $rc = 0 ] && on_instance "test ! -e $entry && test ! -e $entry-privileged"; then
    pass pod-uninstall "$(oneline "$work/pod-uninstall.out")"
else
    fail pod-uninstall "exit $rc: $(oneline "$work/pod-uninstall.out")"
fi

left=$(docker ps -aq --filter "name=^$containers-" | wc -l)
[ "$left" = 0 ] && pass no-containers-left || fail no-containers-left "$left containers"
finish
