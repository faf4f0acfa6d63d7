#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    (void)argc;
    char path[4096];
    snprintf(path, sizeof path, "%s/lib/server/libjvm.so", argv[1]);
    if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL)) { puts(dlerror()); return 1; }
    snprintf(path, sizeof path, "%s/lib/libattach.so", argv[1]);
    void *attach = dlopen(path, RTLD_NOW);
    if (!attach) { puts(dlerror()); return 1; }
    printf("attach=%d\n", ((int (*)(void))dlsym(attach, "attach"))());
    return 0;
}
