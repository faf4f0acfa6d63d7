/* Exec-to-exit timing of several commands, interleaved: every round runs each command RUNS
 * times in turn, so drift in the machine's speed (a VM's neighbours) falls on all of them
 * alike instead of on whichever ran last. Prints mean, min and median wall time per exec,
 * CPU time per exec, and each one's ratio to the command named REF.
 *
 * Usage: exec-loop ROUNDS RUNS REF NAME=COMMAND...
 *   COMMAND is split on spaces. A NAME starting with '!' has "0" written to $EXEC_LOOP_OFF
 *   before its runs and "1" after (a binfmt_misc entry switched off around them).
 * Children's stdout goes to /dev/null; a child that fails stops the run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { MAX_CMDS = 16, MAX_ARGS = 16 };

struct cmd {
    const char *name;
    int off;
    char *argv[MAX_ARGS + 1];
    double *wall;       /* µs per exec */
    double cpu;         /* µs, all runs */
};

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double children_cpu_us(void)
{
    struct rusage r;
    getrusage(RUSAGE_CHILDREN, &r);
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

static void toggle(const char *value)
{
    const char *path = getenv("EXEC_LOOP_OFF");
    int fd = path ? open(path, O_WRONLY) : -1;
    if (fd < 0 || write(fd, value, 1) != 1) {
        perror("exec-loop: EXEC_LOOP_OFF");
        exit(1);
    }
    close(fd);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void run(struct cmd *c, int runs, const posix_spawn_file_actions_t *fa, double *out)
{
    if (c->off)
        toggle("0");
    for (int i = 0; i < runs; i++) {
        pid_t pid;
        int status;
        double t0 = now_us();
        if (posix_spawn(&pid, c->argv[0], fa, NULL, c->argv, environ) != 0
            || waitpid(pid, &status, 0) != pid || status != 0) {
            fprintf(stderr, "exec-loop: %s failed (status %d)\n", c->name, status);
            exit(1);
        }
        if (out)
            out[i] = now_us() - t0;
    }
    if (c->off)
        toggle("1");
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: exec-loop ROUNDS RUNS REF NAME=COMMAND...\n");
        return 2;
    }
    int rounds = atoi(argv[1]), runs = atoi(argv[2]), n = argc - 4, ref = -1;
    if (rounds < 1 || runs < 1 || n > MAX_CMDS)
        return 2;
    struct cmd cmds[MAX_CMDS];
    for (int i = 0; i < n; i++) {
        struct cmd *c = &cmds[i];
        char *spec = strdup(argv[4 + i]), *eq = strchr(spec, '=');
        if (!eq)
            return 2;
        *eq = '\0';
        c->off = spec[0] == '!';
        c->name = spec + c->off;
        int k = 0;
        for (char *w = strtok(eq + 1, " "); w && k < MAX_ARGS; w = strtok(NULL, " "))
            c->argv[k++] = w;
        c->argv[k] = NULL;
        c->wall = calloc((size_t)rounds * runs, sizeof(double));
        c->cpu = 0;
        if (strcmp(c->name, argv[3]) == 0)
            ref = i;
    }
    if (ref < 0) {
        fprintf(stderr, "exec-loop: no command named %s\n", argv[3]);
        return 2;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);

    for (int i = 0; i < n; i++)     /* warm-up: page cache, dentries */
        run(&cmds[i], runs, &fa, NULL);
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            double c0 = children_cpu_us();
            run(&cmds[i], runs, &fa, cmds[i].wall + (size_t)r * runs);
            cmds[i].cpu += children_cpu_us() - c0;
        }

    size_t total = (size_t)rounds * runs;
    double mean[MAX_CMDS], min[MAX_CMDS], median[MAX_CMDS], cpu[MAX_CMDS];
    for (int i = 0; i < n; i++) {
        double sum = 0;
        for (size_t k = 0; k < total; k++)
            sum += cmds[i].wall[k];
        qsort(cmds[i].wall, total, sizeof(double), by_value);
        mean[i] = sum / total;
        min[i] = cmds[i].wall[0];
        median[i] = cmds[i].wall[total / 2];
        cpu[i] = cmds[i].cpu / total;
    }
    printf("%-10s %9s %9s %9s %9s %8s %8s %8s %8s\n", "variant", "mean µs", "min µs", "median",
           "cpu µs", "×mean", "×min", "×median", "×cpu");
    for (int i = 0; i < n; i++)
        printf("%-10s %9.1f %9.1f %9.1f %9.1f %8.3f %8.3f %8.3f %8.3f\n", cmds[i].name, mean[i],
               min[i], median[i], cpu[i], mean[i] / mean[ref], min[i] / min[ref],
               median[i] / median[ref], cpu[i] / cpu[ref]);
    return 0;
}
