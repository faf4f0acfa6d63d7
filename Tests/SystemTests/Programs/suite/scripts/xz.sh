for i in {1..200}; do printf 'line %d of a compressible file\n' $i; done > f
xz -9 -k f
xz --robot -l f.xz
xz -t f.xz && echo "f.xz tests ok"
xz -dc f.xz | xz -1 | xz -dc | { n=0; while read -r _; do n=$((n + 1)); done; echo "$n lines through three xz"; }
