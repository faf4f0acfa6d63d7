perl -MPOSIX -MDigest::MD5=md5_hex -MList::Util=sum -e 'print md5_hex("abc"), " ", sum(1..10), " ", POSIX::floor(2.7), "\n"; printf "%vd\n", $^V'
perl -MStorable=freeze,thaw -e 'print thaw(freeze({a => [1, 2]}))->{a}[1], "\n"; print scalar(gmtime(0)), "\n"'
# $^X: the running perl, from /proc/self/exe.
perl -e 'system($^X, "-e", "print qq(child of perl\n)") == 0 or die "spawn: $?"'
