#include <stdio.h>
#include <string.h>
int main(void)
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    while (fgets(line, sizeof line, f))
        if (strstr(line, "[stack]")) fputs(strchr(line, ' ') + 1, stdout);
    return 0;
}
