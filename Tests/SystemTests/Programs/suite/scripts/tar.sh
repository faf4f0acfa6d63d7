# tar runs xz itself (-J) through PATH.
printf 'alpha\n' > a.txt; printf 'beta\n' > b.txt
tar --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -cJf t.tar.xz a.txt b.txt
tar --numeric-owner -tvJf t.tar.xz
printf 'changed\n' > a.txt
tar -xJf t.tar.xz; echo "$(< a.txt) $(< b.txt)"
xz -t t.tar.xz && echo xz-test-ok
