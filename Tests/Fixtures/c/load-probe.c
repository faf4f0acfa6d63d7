    #include <dirent.h>
    #include <stdio.h>
    #include <string.h>
    #include <unistd.h>

    int main(int argc, char **argv) {
        int fds = 0;
        DIR *d = opendir("/proc/self/fd");
        for (struct dirent *e; d && (e = readdir(d)); )
            if (e->d_name[0] != '.') fds++;
        if (d) closedir(d);
        fds--;   /* the directory's own descriptor */
        int runbottle_mapped = 0;
        char line[4096];
        FILE *maps = fopen("/proc/self/maps", "r");
        while (maps && fgets(line, sizeof line, maps))
            /* runbottle's image; its trampoline's memfd page stays, as runbottle(8) says */
            if (strstr(line, "runbottle") && !strstr(line, "/memfd:runbottle")) runbottle_mapped = 1;
        if (maps) fclose(maps);
        char exe[4096] = "";
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) exe[n] = 0;
        printf("ok %s fds=%d runbottle=%d exe=%s\n", argc > 1 ? argv[1] : "-", fds, runbottle_mapped, exe);
        return 0;
    }
