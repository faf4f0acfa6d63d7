/* The context suite's probe: prints, one "key=value" a line, what a process can observe of
 * its own exec (runbottle(8), EXECUTION CONTEXTS). Addresses are printed as the mapping they fall in, so
 * a sealed run and its reference compare line by line. Output goes to $PROBE_OUT when set (gdb
 * and strace write to the terminal too), else stdout. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static FILE *out;
static char maps[65536];

/* The file (or [name]) of the mapping holding addr, from /proc/self/maps. */
static const char *mapping_of(unsigned long addr)
{
    static char name[4][512];
    static int slot;
    char *n = name[slot++ % 4];
    strcpy(n, "unmapped");
    if (!addr)
        return "0";
    for (char *line = maps; line && *line;) {
        char *next = strchr(line, '\n');
        unsigned long lo, hi;
        int pos = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &pos) >= 2 && addr >= lo && addr < hi) {
            size_t len = next ? (size_t)(next - line - pos) : strlen(line + pos);
            snprintf(n, 512, "%.*s", (int)len, line + pos);
            if (!*n)
                strcpy(n, "anonymous");
            return n;
        }
        line = next ? next + 1 : 0;
    }
    return n;
}

static void read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
    size_t got = 0;
    while (n > 0) {
        got += (size_t)n;
        n = read(fd, buf + got, size - 1 - got);
    }
    buf[got] = '\0';
    if (fd >= 0)
        close(fd);
}

static const unsigned long address_keys[] = { AT_PHDR, AT_ENTRY, AT_BASE, AT_SYSINFO_EHDR };
static const char *const address_names[] = { "AT_PHDR", "AT_ENTRY", "AT_BASE", "AT_SYSINFO_EHDR" };
static const unsigned long value_keys[] = { AT_SECURE, AT_UID, AT_EUID, AT_GID, AT_EGID, AT_FLAGS,
                                            AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_CLKTCK, AT_HWCAP,
                                            AT_HWCAP2, AT_EXECFD };
static const char *const value_names[] = { "AT_SECURE", "AT_UID", "AT_EUID", "AT_GID", "AT_EGID",
                                           "AT_FLAGS", "AT_PHENT", "AT_PHNUM", "AT_PAGESZ",
                                           "AT_CLKTCK", "AT_HWCAP", "AT_HWCAP2", "AT_EXECFD" };

static void print_auxv(const char *prefix, const unsigned long *av)
{
    for (size_t k = 0; k < sizeof(address_keys) / sizeof(address_keys[0]); k++) {
        const unsigned long *a = av;
        while (a[0] && a[0] != address_keys[k])
            a += 2;
        fprintf(out, "%s.%s=%s\n", prefix, address_names[k], a[0] ? mapping_of(a[1]) : "absent");
    }
    for (size_t k = 0; k < sizeof(value_keys) / sizeof(value_keys[0]); k++) {
        const unsigned long *a = av;
        while (a[0] && a[0] != value_keys[k])
            a += 2;
        if (a[0])
            fprintf(out, "%s.%s=%#lx\n", prefix, value_names[k], a[1]);
        else
            fprintf(out, "%s.%s=absent\n", prefix, value_names[k]);
    }
    const unsigned long *a = av;
    while (a[0] && a[0] != AT_EXECFN)
        a += 2;
    fprintf(out, "%s.AT_EXECFN=%s\n", prefix, a[0] ? (const char *)a[1] : "absent");
}

int main(int argc, char **argv, char **envp)
{
    const char *path = getenv("PROBE_OUT");
    out = path ? fopen(path, "w") : stdout;
    if (!out)
        return 2;
    read_file("/proc/self/maps", maps, sizeof(maps));
    /* PROBE_MAPS=FILE: the mappings as read, for a check that looks at one (VM suite). */
    const char *maps_copy = getenv("PROBE_MAPS");
    FILE *copy = maps_copy ? fopen(maps_copy, "w") : 0;
    if (copy) {
        fputs(maps, copy);
        fclose(copy);
    }
    char buf[8192];

    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = '\0';
    fprintf(out, "exe=%s\n", buf);
    fprintf(out, "argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        fprintf(out, "argv[%d]=%s\n", i, argv[i]);
    int fd = open("/proc/self/cmdline", O_RDONLY);
    n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    close(fd);
    for (ssize_t i = 0; i < n; i++)
        if (!buf[i])
            buf[i] = '|';
    buf[n > 0 ? n : 0] = '\0';
    fprintf(out, "cmdline=%s\n", buf);
    read_file("/proc/self/comm", buf, sizeof(buf));
    fprintf(out, "comm=%s", buf);

    /* The live auxv, after the environment on the initial stack, and the kernel's saved copy. */
    char **e = envp;
    while (*e)
        e++;
    print_auxv("auxv", (const unsigned long *)(e + 1));
    unsigned long saved[512] = { 0 };
    read_file("/proc/self/auxv", (char *)saved, sizeof(saved) - 16);
    print_auxv("saved-auxv", saved);

    read_file("/proc/self/status", buf, sizeof(buf));
    static const char *const fields[] = { "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
                                          "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:",
                                          "Seccomp_filters:" };
    for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
        char *line = strstr(buf, fields[k]);
        char value[256] = "absent";
        if (line) {
            line += strlen(fields[k]);
            while (*line == '\t' || *line == ' ')
                line++;
            sscanf(line, "%255[^\n]", value);
        }
        fprintf(out, "status.%.*s=%s\n", (int)strlen(fields[k]) - 1, fields[k], value);
    }
    fprintf(out, "securebits=%#x\n", prctl(PR_GET_SECUREBITS));
    fprintf(out, "dumpable=%d\n", prctl(PR_GET_DUMPABLE));
    int sig = 0;
    prctl(PR_GET_PDEATHSIG, &sig);
    fprintf(out, "pdeathsig=%d\n", sig);
    fprintf(out, "personality=%#x\n", personality(0xffffffff));
    for (int r = 0; r < RLIM_NLIMITS; r++) {
        struct rlimit l;
        getrlimit(r, &l);
        fprintf(out, "rlimit[%d]=%llu/%llu\n", r, (unsigned long long)l.rlim_cur,
                (unsigned long long)l.rlim_max);
    }

    /* /proc/PID/stat: flags (PF_SUPERPRIV among them), and the mm fields as mappings. */
    read_file("/proc/self/stat", buf, sizeof(buf));
    char *p = strrchr(buf, ')');
    unsigned long f[60] = { 0 };
    int nf = 0;
    for (char *tok = p ? strtok(p + 2, " ") : 0; tok && nf < 60; tok = strtok(0, " "))
        f[nf++] = strtoul(tok, 0, 10);
    /* f[0] is field 3 (state): field N is f[N - 3]. */
    fprintf(out, "stat.flags=%#lx\n", f[9 - 3]);
    fprintf(out, "stat.startcode=%s\n", mapping_of(f[26 - 3]));
    fprintf(out, "stat.endcode=%s\n", mapping_of(f[27 - 3] - 1));
    fprintf(out, "stat.startdata=%s\n", mapping_of(f[45 - 3]));
    fprintf(out, "stat.enddata=%s\n", mapping_of(f[46 - 3] - 1));
    fprintf(out, "stat.brk-above-enddata=%d\n", f[47 - 3] > f[46 - 3]);
    fprintf(out, "stat.argv-bytes=%lu\n", f[49 - 3] - f[48 - 3]);
    fprintf(out, "stat.env-bytes=%lu\n", f[51 - 3] - f[50 - 3]);
    fprintf(out, "libc=%s\n", mapping_of((unsigned long)&printf));

    struct stat st;
    stat("/proc/self", &st);
    fprintf(out, "proc-owner=%u\n", st.st_uid);

    /* What a process of the same credentials, unprivileged, may do to this one: attach with
     * ptrace, and open a perf counter on it. */
    fflush(out);
    int pipefd[2];
    if (pipe(pipefd) == 0) {
        pid_t parent = getpid();
        prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);
        pid_t child = fork();
        if (child == 0) {
            struct perf_event_attr attr = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
                                            .config = PERF_COUNT_SW_TASK_CLOCK, .disabled = 1,
                                            .exclude_kernel = 1 };
            long pfd = syscall(SYS_perf_event_open, &attr, parent, -1, -1, 0);
            int perf = pfd >= 0 ? 0 : errno;
            int tr = ptrace(PTRACE_ATTACH, parent, 0, 0) == 0 ? 0 : errno;
            if (tr == 0) {
                waitpid(parent, 0, 0);
                ptrace(PTRACE_DETACH, parent, 0, 0);
            }
            int r[2] = { perf, tr };
            if (write(pipefd[1], r, sizeof(r)) < 0)
                _exit(1);
            _exit(0);
        }
        int r[2] = { -1, -1 };
        close(pipefd[1]);
        if (read(pipefd[0], r, sizeof(r)) != sizeof(r))
            r[0] = r[1] = -1;
        waitpid(child, 0, 0);
        fprintf(out, "perf-open-by-peer=%s\n", r[0] == 0 ? "ok" : strerror(r[0]));
        fprintf(out, "ptrace-by-peer=%s\n", r[1] == 0 ? "ok" : strerror(r[1]));
    }
    fclose(out);
    return 0;
}
