/* The userland exec's state, shared by its steps: main.c's flow, capabilities.c's decision,
 * and the two exec modes (exec_native.c, exec_explicit.c), which leave through trampoline.c. */
#ifndef RB_RUN_H
#define RB_RUN_H

#include "runbottle_os.h"

/* What the program may be given, decided once (capabilities.c). */
struct run_privilege {
    uint64_t secure_in;       /* AT_SECURE as the kernel set it for runbottle */
    int program_secure;       /* AT_SECURE the program deserves */
    int exe_permitted;        /* may set /proc/self/exe: the native mode */
    int debug;                /* RUNBOTTLE_DEBUG, never under AT_SECURE */
};

/* The binary's canonical path and its loader's, adjacent in one of rb_main's buffers. */
struct run_paths {
    char *buf;
    size_t size;
    char *real;               /* empty when not needed (find_paths) */
    char *loader;
};

/* What the trampoline needs once runbottle's image is gone. */
struct run_exit {
    long tramp_code;          /* the trampoline's executable copy, when exe is to change */
    struct rb_tramp tramp;
    struct rb_mm_map mm;
    char msg[256];
};

struct run {
    struct rb_stack st;
    int binfmt;               /* started by binfmt_misc (AT_EXECFD), else direct mode */
    const char *name;         /* the path as given: execve's, or direct mode's argument */
    struct rb_file bin, ld;
    struct rb_note note;
    struct run_privilege priv;
    struct run_paths paths;
    uint64_t rnd[2];          /* for the PIE's base and brk */
    struct run_exit exit;
};

/* main.c: a failure to open or read the binary, as execve would report it. */
__attribute__((noreturn)) void rb_run_fail(struct run *r, long err);
/* capabilities.c */
void rb_decide_privilege(struct run *r);
/* exec_native.c, exec_explicit.c */
void rb_map_loader(struct run *r);
__attribute__((noreturn)) void rb_exec_native(struct run *r, int randomize);
__attribute__((noreturn)) void rb_exec_explicit(struct run *r);
/* trampoline.c */
long rb_trampoline_page(const struct rb_file *bin);
__attribute__((noreturn)) void rb_leave(struct run *r, uint64_t *sp, uint64_t entry);

#endif
