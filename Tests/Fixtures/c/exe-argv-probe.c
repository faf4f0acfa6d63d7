#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    char exe[4096] = {0}, line[4096];
    readlink("/proc/self/exe", exe, sizeof exe - 1);
    printf("exe=%s\n", exe);
    FILE *maps = fopen("/proc/self/maps", "r");
    while (maps && fgets(line, sizeof line, maps)) {
        char *name = strstr(line, "ld-linux");
        if (name) { printf("loader=%s", strchr(line, '/')); break; }
    }
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    return 0;
}
