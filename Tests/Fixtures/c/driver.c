#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    char self[4096] = {0}, helper[4200];
    readlink("/proc/self/exe", self, sizeof self - 1);
    snprintf(helper, sizeof helper, "%s/../libexec/tool/12/helper", dirname(self));
    execl(helper, "helper", (char *)0);
    perror(helper);
    return 127;
}
