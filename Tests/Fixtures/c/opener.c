#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    void *z = dlopen("libz.so.1", RTLD_NOW);
    const char *(*version)(void) = z ? (const char *(*)(void))dlsym(z, "zlibVersion") : 0;
    printf("zlib %s\n", version ? version() : "missing");
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) { char *p = strchr(line, '/'); if (p && strstr(p, "libz")) printf("map=%s", p); }
    return version == 0;
}
