printf '#include <stdio.h>\nint main(void) { printf("hello %%d\\n", 6 * 7); return 0; }\n' > hello.c
gcc -O2 -o hello hello.c && ./hello
gcc -dumpversion
