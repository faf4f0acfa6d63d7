/* runbottle's way out: the table of last system calls and the jump to the loader, run by the
 * trampoline in os/<arch>/start.S, from a copy of its own when runbottle's image must go. */
#include <errno.h>
#include "run.h"

/* runbottle's own image, from the linker: unmapped before /proc/self/exe can change. */
extern const char __ehdr_start[] RB_HIDDEN;
extern const char _end[] RB_HIDDEN;

_Static_assert(BOTTLE_SLOT_TRAMPOLINE_OFFSET + BOTTLE_SLOT_TRAMPOLINE_MAX + 1 == BOTTLE_INTERP_SLOT_SIZE,
               "the trampoline ends before the slot's last byte");

/* The trampoline's bytes in the binary's PT_INTERP slot (bottle(5)), mapped read and execute from
 * the binary itself: no copy is written, so memory-deny-write-execute has nothing to refuse,
 * and the file is not runbottle's (the kernel refuses to change /proc/self/exe while any
 * mapping of the old one remains: replace_mm_exe_file, EBUSY). Used only when the bytes are
 * this runbottle's own trampoline, byte for byte. Returns its address, or 0. */
static long from_slot(const struct rb_file *bin)
{
    uint64_t len = (uint64_t)(rb_trampoline_end - rb_trampoline);
    uint64_t at = bin->img.interp_offset + BOTTLE_SLOT_TRAMPOLINE_OFFSET;
    if (bin->img.interp_size != BOTTLE_INTERP_SLOT_SIZE || len > BOTTLE_SLOT_TRAMPOLINE_MAX
        || at < bin->img.interp_offset || at > bin->size || len > bin->size - at)
        return 0;
    uint64_t start = rb_page_down(at), span = rb_page_up(at + len) - start;
    long page = rb_syscall6(RB_SYS_mmap, 0, (long)span, RB_PROT_READ | RB_PROT_EXEC, RB_MAP_PRIVATE,
                            bin->fd, (long)start);
    if (rb_is_err(page))
        return 0;
    const char *code = (const char *)page + (at - start);
    for (uint64_t i = 0; i < len; i++)
        if (code[i] != rb_trampoline[i]) {
            rb_sys(RB_SYS_munmap, page, (long)span, 0);
            return 0;
        }
    return (long)code;
}

/* The trampoline's executable copy outside runbottle's image, which it unmaps: the binary's
 * own bytes (from_slot), else a memfd mapped read and execute, never anonymous memory made
 * executable after being written, which memory-deny-write-execute refuses (PR_SET_MDWE,
 * systemd's MemoryDenyWriteExecute= seccomp filter). Returns its address, or a negative
 * errno: then /proc/self/exe cannot move. */
long rb_trampoline_page(const struct rb_file *bin)
{
    long code = from_slot(bin);
    if (code)
        return code;
    long fd = rb_sys(RB_SYS_memfd_create, (long)"runbottle", RB_MFD_CLOEXEC | RB_MFD_EXEC, 0);
    if (fd == -EINVAL) /* before Linux 6.3, no MFD_EXEC: every memfd is executable */
        fd = rb_sys(RB_SYS_memfd_create, (long)"runbottle", RB_MFD_CLOEXEC, 0);
    if (fd < 0)
        return fd;
    long len = (long)(rb_trampoline_end - rb_trampoline);
    long n = rb_syscall6(RB_SYS_pwrite64, fd, (long)rb_trampoline, len, 0, 0, 0);
    long page = n != len ? (n < 0 ? n : -EIO)
        : rb_syscall6(RB_SYS_mmap, 0, RB_PAGE_SIZE, RB_PROT_READ | RB_PROT_EXEC,
                      RB_MAP_PRIVATE | RB_MAP_POPULATE, fd, 0);
    rb_sys(RB_SYS_close, fd, 0, 0);
    return page;
}

/* The table is fixed-size: a call past its end is a bug here, never an input's doing. */
static void add_call(struct rb_tramp *t, long nr, long a, long b, long c, long d, int fatal)
{
    if (t->ncalls >= RB_TRAMP_MAX_CALLS)
        __builtin_trap();
    struct rb_tramp_call *call = &t->call[t->ncalls++];
    call->nr = (uint64_t)nr;
    call->a[0] = (uint64_t)a;
    call->a[1] = (uint64_t)b;
    call->a[2] = (uint64_t)c;
    call->a[3] = (uint64_t)d;
    call->a[4] = call->a[5] = 0;
    call->fatal = (uint64_t)fatal;
}

/* Leaves through the trampoline: from its copy when /proc/self/exe changes (runbottle's image
 * must be gone first: PR_SET_MM_MAP's exe_fd is EBUSY while any mapping of the old exe
 * remains), else in place, runbottle staying mapped. */
void rb_leave(struct run *r, uint64_t *sp, uint64_t entry)
{
    uint64_t self = rb_page_down((uint64_t)__ehdr_start);
    struct run_exit *x = &r->exit;
    struct rb_tramp *t = &x->tramp;
    int exe = x->mm.exe_fd != (uint32_t)-1;
    t->ncalls = 0;
    if (exe) {
        add_call(t, RB_SYS_munmap, (long)self, (long)(rb_page_up((uint64_t)_end) - self), 0, 0, 0);
        add_call(t, RB_SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&x->mm, sizeof(x->mm), 1);
    }
    add_call(t, RB_SYS_close, r->bin.fd, 0, 0, 0, 0);
    add_call(t, RB_SYS_close, r->ld.fd, 0, 0, 0, 0);
    const char *parts[] = { "runbottle: ", r->name, ": cannot set /proc/self/exe\n" };
    t->msglen = rb_concat(x->msg, sizeof(x->msg), parts, 3);
    t->msg = (uint64_t)x->msg;
    t->sp = (uint64_t)sp;
    t->entry = entry;
    RB_STAGE(5);
    const char *code = exe ? (const char *)x->tramp_code : rb_trampoline;
    ((void (*)(struct rb_tramp *))(uintptr_t)code)(t);
    __builtin_unreachable();
}
