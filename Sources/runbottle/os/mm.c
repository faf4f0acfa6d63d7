/* The process's mm fields (/proc/PID/stat, cmdline, environ, auxv), set with PR_SET_MM_MAP. */
#include "runbottle_os.h"

static uint64_t string_end(const char *s) { return (uint64_t)s + rb_strlen(s) + 1; }

/* arg and env bounds for /proc/PID/cmdline and environ, from the program's own vectors: the
 * strings are contiguous, as the kernel copied them (argc >= 1). */
void rb_mm_strings(struct rb_mm_map *mm, char *const *argv, uint64_t argc, char *const *envp,
                   uint64_t envc)
{
    mm->arg_start = (uint64_t)argv[0];
    mm->arg_end = string_end(argv[argc - 1]);
    mm->env_start = envc ? (uint64_t)envp[0] : mm->arg_end;
    mm->env_end = envc ? string_end(envp[envc - 1]) : mm->arg_end;
}

/* Every field is set at once, so every field must hold a value the kernel accepts. */
long rb_set_mm(const struct rb_mm_map *mm)
{
    return rb_syscall6(RB_SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)mm, sizeof(*mm), 0, 0);
}
