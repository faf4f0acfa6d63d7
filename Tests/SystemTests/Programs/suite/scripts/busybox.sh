# Every command but busybox itself is an applet reached through its symlink (argv[0]).
seq 5 | sort -r | tr '\n' ' '; echo
printf 'b\na\nb\n' | sort | uniq -c
echo hello | sha256sum
expr 6 \* 7
basename /a/b/c.txt .txt
printf 'x\ny\n' > f; wc -l f
busybox echo direct
