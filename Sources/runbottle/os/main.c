/* runbottle's flow: find the binary and its loader, decide what the process may become, then
 * exec it in one of two modes (exec_native.c, exec_explicit.c). */
#include <elf.h>
#include <errno.h>
#include "run.h"

/* runbottle's own image, from the linker: how the PT_INTERP dispatch recognizes itself. */
extern const char __ehdr_start[] RB_HIDDEN;

void rb_run_fail(struct run *r, long err)
{
    rb_die(err == -ENOENT ? RB_EXIT_NOTFOUND : RB_EXIT_NOEXEC, r->name, rb_strerror(err), 0);
}

/* Reads the binary's head and its note. Returns 0, or the size of the whole note when it
 * does not fit in the head: the caller reads it into a buffer that size (open_long_note). */
static size_t open_binary(struct run *r, uint8_t *head)
{
    size_t got;
    int rc = rb_read_image(&r->bin, head, RB_BIN_HEAD, &got);
    if (rc)
        rb_run_fail(r, rc == -ENOENT ? -EIO : rc);
    const uint8_t *note = head + sizeof(Elf64_Ehdr);
    size_t have = got - sizeof(Elf64_Ehdr);
    uint32_t descsz = rb_le32(note + 4);
    if (have >= BOTTLE_NOTE_HEADER_SIZE && descsz <= BOTTLE_NOTE_MAX_SIZE
        && BOTTLE_NOTE_HEADER_SIZE + descsz > have)
        return BOTTLE_NOTE_HEADER_SIZE + descsz;
    rc = rb_note_parse(note, have, 0, &r->note);
    if (rc)
        rb_run_fail(r, rc);
    return 0;
}

static void open_long_note(struct run *r, uint8_t *buf, size_t size)
{
    long n = rb_pread(r->bin.fd, buf, size, sizeof(Elf64_Ehdr));
    int rc = rb_note_parse(buf, n > 0 ? (size_t)n : 0, 0, &r->note);
    if (rc)
        rb_run_fail(r, rc);
}

/* The binary's canonical path is needed for the loader's path under AT_SECURE (the trusted
 * walk), in explicit mode and for the dumpable check; otherwise the path as given does.
 * Returns -ENAMETOOLONG when the buffer is too small; the caller retries with RB_PATHS_MAX. */
static long find_paths(struct run *r, int need_real)
{
    struct run_paths *p = &r->paths;
    const char *base = r->name;
    size_t used = 0;
    p->real = p->buf;
    if (need_real) {
        long n = rb_real_path(r->bin.fd, r->name, p->real, p->size);
        if (n == -ENAMETOOLONG && p->size < RB_PATHS_MAX)
            return n;
        if (n < 0)
            rb_die(RB_EXIT_NOEXEC, r->name, "cannot find the binary's real path", rb_strerror(n));
        base = p->real;
        used = (size_t)n + 1;
    } else {
        p->real[0] = '\0';
        used = 1;
    }
    /* Right after the real path: the bytes touched stay on as few stack pages as possible. */
    p->loader = p->buf + used;
    if (rb_path_sibling(base, r->note.loader, p->loader, p->size - used) < 0) {
        if (p->size < RB_PATHS_MAX)
            return -ENAMETOOLONG;
        rb_die(RB_EXIT_NOEXEC, r->name, "loader path too long", 0);
    }
    return 0;
}

/* A loader that cannot be used (opened: it was, and its contents are wrong): the message names
 * it by the binary's canonical directory, which find_paths may have skipped. */
__attribute__((noreturn, noinline)) static void loader_failed(struct run *r, long rc, int opened)
{
    char paths[RB_PATHS_MAX];
    if (r->paths.real[0] == '\0') {
        r->paths.buf = paths;
        r->paths.size = sizeof(paths);
        find_paths(r, 1);
    }
    rb_loader_failed(r->name, r->paths.loader, rc, opened, r->priv.program_secure);
}

static void open_loader(struct run *r)
{
    int opened;
    long rc = rb_open_loader(r->paths.loader, r->priv.program_secure, &r->ld, &opened);
    if (rc)
        loader_failed(r, rc, opened);
}

/* Whether the kernel randomized this exec's layout (not under ADDR_NO_RANDOMIZE nor with
 * kernel.randomize_va_space = 0): the program's layout follows suit. Both leave runbottle's
 * stack top unrandomized (load_elf_binary sets PF_RANDOMIZE only without either), so the
 * stack tells, with no personality() call on every exec. */
static int layout_randomized(const struct rb_stack *st)
{
    static const uint64_t tops[] = RB_STACK_TOPS;
    const char *execfn = (const char *)rb_auxv_get(st, AT_EXECFN, 0);
    return rb_layout_randomized((uint64_t)execfn, execfn ? rb_strlen(execfn) : 0, tops,
                                sizeof(tops) / sizeof(tops[0]));
}

/* binfmt_misc's interpreter, or direct mode. Its own frame: the PT_INTERP dispatch never
 * touches the stack pages struct run needs. */
__attribute__((noreturn, noinline)) static void exec_userland(struct rb_stack *stack)
{
    struct run run;
    struct run *r = &run;
    uint8_t head[RB_BIN_HEAD] __attribute__((aligned(8)));
    r->st = *stack;
    struct rb_stack *st = &r->st;
    uint64_t execfd = rb_auxv_get(st, AT_EXECFD, ~(uint64_t)0);
    r->priv.secure_in = rb_auxv_get(st, AT_SECURE, 0);
    r->priv.program_secure = (int)r->priv.secure_in;
    r->binfmt = execfd != ~(uint64_t)0;
    if (r->binfmt) {
        /* Flag P: [runbottle, path, argv0, ...]; without it argv0 is lost. */
        if (st->argc < 3)
            rb_die(RB_EXIT_NOEXEC, st->argc > 1 ? st->argv[1] : 0,
                   "binfmt_misc entry without flag P (preserve-argv0)", 0);
        r->name = st->argv[1];
        r->bin.fd = (int)execfd;
    } else {
        if (st->argc < 2)
            rb_die(2, 0, "usage: runbottle PROGRAM [ARGS...]", 0);
        r->name = st->argv[1];
        long fd = rb_syscall6(RB_SYS_openat, RB_AT_FDCWD, (long)r->name,
                              RB_O_RDONLY | RB_O_CLOEXEC | RB_O_NONBLOCK, 0, 0, 0);
        if (fd < 0)
            rb_run_fail(r, fd);
        r->bin.fd = (int)fd;
    }
    size_t long_note = open_binary(r, head);
    uint8_t note[long_note ? long_note : 1] __attribute__((aligned(8)));
    if (long_note)
        open_long_note(r, note, long_note);
    rb_decide_privilege(r);
    if (r->priv.exe_permitted) {
        r->exit.tramp_code = rb_trampoline_page(&r->bin);
        if (rb_is_err(r->exit.tramp_code)) {
            if (r->priv.debug)
                rb_say(r->name, "cannot map the trampoline, running the loader in explicit mode",
                       rb_strerror(r->exit.tramp_code));
            r->priv.exe_permitted = 0;
        }
    }
    int need_real = r->priv.program_secure || !r->priv.exe_permitted
                    || !rb_same_file(&r->bin, r->name);
    char usual[RB_PATHS_USUAL];
    r->paths.buf = usual;
    r->paths.size = sizeof(usual);
    long too_long = find_paths(r, need_real);
    char big[too_long ? RB_PATHS_MAX : 1];
    if (too_long) {
        r->paths.buf = big;
        r->paths.size = sizeof(big);
        find_paths(r, need_real);
    }
    open_loader(r);
    RB_STAGE(2);
    int randomize = layout_randomized(st);
    if (r->priv.exe_permitted)
        rb_exec_native(r, randomize);
    rb_exec_explicit(r);
}

__attribute__((noreturn)) void rb_main(uint64_t *sp)
{
    struct rb_stack st;
    RB_STAGE(1);
    if (rb_stack_parse(sp, sp + (1u << 24), &st) != RB_OK)
        rb_die(RB_EXIT_NOEXEC, 0, "unexpected initial stack", 0);
    /* Started as the program's PT_INTERP: the kernel gave AT_BASE our own address. */
    if (rb_auxv_get(&st, AT_EXECFD, ~(uint64_t)0) == ~(uint64_t)0
        && rb_auxv_get(&st, AT_BASE, 0) == (uint64_t)__ehdr_start)
        rb_exec_interp(&st);
    exec_userland(&st);
}
