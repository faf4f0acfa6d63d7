#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
    (void)argc;
    char name[] = "/tmp/probe-XXXXXX";
    int fd = mkstemp(name);
    printf("hello argv0=%s tmp=%s\n", argv[0], fd >= 0 ? "writable" : "not writable");
    if (fd >= 0) unlink(name);
    return 0;
}
