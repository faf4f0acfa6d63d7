echo "$BASH_VERSION"
a=(x y z); echo "${#a[@]} ${a[*]^^}"
[[ abc123 =~ ([a-z]+)([0-9]+) ]] && echo "${BASH_REMATCH[2]}"
printf '%05.1f|%x\n' 3.14159 255
while read -r l; do echo "<$l>"; done < <(printf 'one\ntwo\n')
echo $((2 ** 40))
f() { local x=$1; echo "f:$x"; }; f z
bash -c 'echo child "$0" $((6 * 7))' kid
