#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    printf("hello argv0=%s\n", argv[0]);
    if (argc > 1 && strcmp(argv[1], "maps") == 0) {
        FILE *f = fopen("/proc/self/maps", "r");
        char line[4096];
        while (f && fgets(line, sizeof line, f)) {
            char *path = strchr(line, '/');
            if (path) printf("map=%s", path);
        }
    }
    return 0;
}
