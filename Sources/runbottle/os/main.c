/* runbottle's flow: find the binary and its loader, decide what the process may become, map,
 * rewrite the initial stack, then leave through the trampoline. */
#include <elf.h>
#include <errno.h>
#include "runbottle_os.h"

#define PAGE_UP(x) (((x) + RB_PAGE_SIZE - 1) & ~(uint64_t)(RB_PAGE_SIZE - 1))
#define CAP_SYS_ADMIN 21
#define CAP_CHECKPOINT_RESTORE 40
#define CAP_VERSION_3 0x20080522

/* runbottle's own image, from the linker: unmapped before /proc/self/exe can change. */
extern const char __ehdr_start[] RB_HIDDEN;
extern const char _end[] RB_HIDDEN;

struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

struct run {
    struct rb_stack st;
    int binfmt;               /* started by binfmt_misc (AT_EXECFD), else direct mode */
    const char *name;         /* the path as given: execve's, or direct mode's argument */
    char *real;               /* the binary's canonical path, in paths */
    char *loader_path;        /* beside it in paths */
    struct rb_file bin, ld;
    struct rb_note note;
    uint64_t secure_in;       /* AT_SECURE as the kernel set it for runbottle */
    int program_secure;       /* AT_SECURE the program deserves */
    int debug;
    int exe_permitted;
    long tramp_page;          /* the trampoline's executable copy, when exe is to change */
    struct rb_tramp tramp;
    struct rb_mm_map mm;
    uint64_t rnd[2];          /* for the PIE's base and brk */
    char msg[256];
    char *paths;              /* both paths, adjacent: rb_main's buffer */
    size_t paths_size;
};

static int is_err(long r) { return (unsigned long)r > -4096ul; }

static void fail(struct run *r, long err)
{
    rb_die(err == -ENOENT ? RB_EXIT_NOTFOUND : RB_EXIT_NOEXEC, r->name, rb_strerror(err), 0);
}

static void add_call(struct run *r, long nr, long a, long b, long c, long d, int fatal)
{
    if (r->tramp.ncalls == RB_TRAMP_MAX_CALLS)
        __builtin_trap();
    struct rb_tramp_call *c0 = &r->tramp.call[r->tramp.ncalls++];
    c0->nr = (uint64_t)nr;
    c0->a[0] = (uint64_t)a;
    c0->a[1] = (uint64_t)b;
    c0->a[2] = (uint64_t)c;
    c0->a[3] = (uint64_t)d;
    c0->a[4] = c0->a[5] = 0;
    c0->fatal = (uint64_t)fatal;
}

static int env_debug(const struct rb_stack *st)
{
    static const char key[] = "RUNBOTTLE_DEBUG=";
    for (uint64_t i = 0; i < st->envc; i++) {
        const char *e = st->envp[i];
        size_t k = 0;
        while (key[k] && e[k] == key[k])
            k++;
        if (!key[k])
            return e[k] != '\0' && !(e[k] == '0' && e[k + 1] == '\0');
    }
    return 0;
}

/* Every entry has flag C, so the kernel computed this exec's credentials from the binary as a
 * native exec does, and runbottle holds no file capability of its own: whatever runbottle holds
 * is the program's (runbottle(8), SECURITY). What is left to know is whether it may set
 * /proc/self/exe: CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in its user namespace. */
static void decide_privilege(struct run *r)
{
    struct cap_header caph = { CAP_VERSION_3, 0 };
    struct cap_data caps[2];
    if (rb_sys(RB_SYS_capget, (long)&caph, (long)caps, 0) < 0)
        caps[0] = caps[1] = (struct cap_data){ 0, 0, 0 };
    uint64_t eff = (uint64_t)caps[0].effective | (uint64_t)caps[1].effective << 32;
    r->exe_permitted = (eff >> CAP_CHECKPOINT_RESTORE & 1) || (eff >> CAP_SYS_ADMIN & 1);
    r->debug = !r->secure_in && env_debug(&r->st);
}

/* Reads the binary's head and its note. Returns 0, or the size of the whole note when it
 * does not fit in the head: the caller reads it into a buffer that size (open_long_note). */
static size_t open_binary(struct run *r, uint8_t *head)
{
    size_t got;
    int rc = rb_read_image(&r->bin, head, RB_BIN_HEAD, &got);
    if (rc)
        fail(r, rc == -ENOENT ? -EIO : rc);
    const uint8_t *note = head + sizeof(Elf64_Ehdr);
    size_t have = got - sizeof(Elf64_Ehdr);
    uint32_t descsz = (uint32_t)note[4] | (uint32_t)note[5] << 8 | (uint32_t)note[6] << 16
                      | (uint32_t)note[7] << 24;
    if (have >= BOTTLE_NOTE_HEADER_SIZE && descsz <= BOTTLE_NOTE_MAX_SIZE
        && BOTTLE_NOTE_HEADER_SIZE + descsz > have)
        return BOTTLE_NOTE_HEADER_SIZE + descsz;
    rc = rb_note_parse(note, have, 0, &r->note);
    if (rc)
        fail(r, rc);
    return 0;
}

static void open_long_note(struct run *r, uint8_t *buf, size_t size)
{
    long n = rb_pread(r->bin.fd, buf, size, sizeof(Elf64_Ehdr));
    int rc = rb_note_parse(buf, n > 0 ? (size_t)n : 0, 0, &r->note);
    if (rc)
        fail(r, rc);
}

/* The binary's canonical path is needed for the loader's path under AT_SECURE (the trusted
 * walk), in explicit mode and for the dumpable check; otherwise the path as given does.
 * Returns -ENAMETOOLONG when r->paths is too small; the caller retries with RB_PATHS_MAX. */
static long find_paths(struct run *r, int need_real)
{
    const char *base = r->name;
    size_t used = 0;
    r->real = r->paths;
    if (need_real) {
        long n = rb_real_path(r->bin.fd, r->name, r->real, r->paths_size);
        if (n == -ENAMETOOLONG && r->paths_size < RB_PATHS_MAX)
            return n;
        if (n < 0)
            rb_die(RB_EXIT_NOEXEC, r->name, "cannot find the binary's real path", rb_strerror(n));
        base = r->real;
        used = (size_t)n + 1;
    } else {
        r->real[0] = '\0';
        used = 1;
    }
    /* Right after the real path: the bytes touched stay on as few stack pages as possible. */
    r->loader_path = r->paths + used;
    if (rb_path_sibling(base, r->note.loader, r->loader_path, r->paths_size - used) < 0) {
        if (r->paths_size < RB_PATHS_MAX)
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
    if (r->real[0] == '\0') {
        r->paths = paths;
        r->paths_size = sizeof(paths);
        find_paths(r, 1);
    }
    rb_loader_failed(r->name, r->loader_path, rc, opened, r->program_secure);
}

static void open_loader(struct run *r)
{
    int opened;
    long rc = rb_open_loader(r->loader_path, r->program_secure, &r->ld, &opened);
    if (rc)
        loader_failed(r, rc, opened);
}

static uint64_t random_pages(uint64_t v, int bits)
{
    return (v & ((1ull << bits) - 1)) * RB_PAGE_SIZE;
}

/* The PIE goes where load_elf_binary puts it: ELF_ET_DYN_BASE plus random pages, so that brk
 * has room after it. A collision (runbottle sits in the mmap area, far above) is retried. */
static void map_program(struct run *r, int randomize)
{
    struct rb_file *b = &r->bin;
    long rc = -EEXIST;
    if (b->img.type == ET_EXEC) {
        rc = rb_map_image(b, 0, 1);
    } else {
        for (int tries = 0; tries < 4 && rc == -EEXIST; tries++) {
            /* A retry after a collision moves the base by a fixed odd number of pages. */
            uint64_t rnd = randomize ? random_pages(r->rnd[0] + tries * 0x9e37ull, RB_MMAP_RND_BITS) : 0;
            rc = rb_map_image(b, rb_dyn_bias(&b->img, RB_ELF_ET_DYN_BASE, rnd), 1);
        }
    }
    if (rc < 0)
        rb_die(RB_EXIT_NOEXEC, r->name, "cannot map the program", rb_strerror(rc));
}

static void map_loader(struct run *r)
{
    long rc = rb_map_image(&r->ld, 0, 0);
    if (rc < 0)
        rb_die(RB_EXIT_NOEXEC, r->name, "cannot map the loader", rb_strerror(rc));
}

/* The trampoline's executable copy outside runbottle's image, which it unmaps: a memfd mapped
 * read and execute, never anonymous memory made executable after being written, which
 * memory-deny-write-execute refuses (PR_SET_MDWE, systemd's MemoryDenyWriteExecute= seccomp
 * filter). Returns the page, or a negative errno: then /proc/self/exe cannot move. */
static long trampoline_page(void)
{
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

/* Leaves through the trampoline: from its copy when /proc/self/exe changes (runbottle's image
 * must be gone first: PR_SET_MM_MAP's exe_fd is EBUSY while any mapping of the old exe
 * remains), else in place, runbottle staying mapped. */
__attribute__((noreturn)) static void leave(struct run *r, uint64_t *sp, uint64_t entry)
{
    uint64_t self = (uint64_t)__ehdr_start & ~(uint64_t)(RB_PAGE_SIZE - 1);
    struct rb_tramp *t = &r->tramp;
    int exe = r->mm.exe_fd != (uint32_t)-1;
    t->ncalls = 0;
    if (exe) {
        add_call(r, RB_SYS_munmap, (long)self, (long)(PAGE_UP((uint64_t)_end) - self), 0, 0, 0);
        add_call(r, RB_SYS_prctl, PR_SET_MM, PR_SET_MM_MAP, (long)&r->mm, sizeof(r->mm), 1);
    }
    add_call(r, RB_SYS_close, r->bin.fd, 0, 0, 0, 0);
    add_call(r, RB_SYS_close, r->ld.fd, 0, 0, 0, 0);
    const char *parts[] = { "runbottle: ", r->name, ": cannot set /proc/self/exe\n" };
    t->msglen = rb_concat(r->msg, sizeof(r->msg), parts, 3);
    t->msg = (uint64_t)r->msg;
    t->sp = (uint64_t)sp;
    t->entry = entry;
    RB_STAGE(5);
    const char *code = exe ? (const char *)r->tramp_page : rb_trampoline;
    ((void (*)(struct rb_tramp *))(uintptr_t)code)(t);
    __builtin_unreachable();
}

static void set_mm_or_die(struct run *r)
{
    long rc = rb_set_mm(&r->mm);
    if (rc < 0)
        rb_die(RB_EXIT_NOEXEC, r->name, "prctl(PR_SET_MM_MAP) refused the program's layout",
               rb_strerror(rc));
}

/* The userland exec proper: the program and the loader mapped here, the stack shrunk in place
 * to the program's argv, the auxv describing the program, /proc/self/exe set to the binary. */
__attribute__((noreturn)) static void exec_native(struct run *r, int randomize)
{
    struct rb_stack *st = &r->st;
    if (!randomize || rb_sys(RB_SYS_getrandom, (long)r->rnd, sizeof(r->rnd), 1 /* GRND_NONBLOCK */)
                          != sizeof(r->rnd))
        r->rnd[0] = r->rnd[1] = 0;
    map_program(r, randomize);
    map_loader(r);
    RB_STAGE(3);
    const struct rb_image *bi = &r->bin.img;
    uint64_t bias = r->bin.bias;
    /* setup_arg_pages() makes the stack executable for PT_GNU_STACK PF_X before any MDWE
     * check; from user space memory-deny-write-execute refuses it: say so rather than let the
     * program fault on its stack later. */
    if (bi->exec_stack) {
        long rc = rb_sys(RB_SYS_mprotect, (long)((uint64_t)st->sp & ~(uint64_t)(RB_PAGE_SIZE - 1)),
                         RB_PAGE_SIZE, RB_PROT_READ | RB_PROT_WRITE | RB_PROT_EXEC | RB_PROT_GROWSDOWN);
        if (rc < 0)
            rb_die(RB_EXIT_NOEXEC, r->name, "cannot make the stack executable (PT_GNU_STACK)",
                   rb_strerror(rc));
    }

    /* binfmt_misc with P: [runbottle, path, argv0, ...]; direct: [runbottle, path, ...]. Moving
     * the block up by two words (P) keeps sp 16-aligned; direct mode drops one word and
     * rebuilds the block where it starts. */
    uint64_t skip = r->binfmt ? 2 : 1;
    uint64_t *sp = r->binfmt ? st->sp + 2 : st->sp;
    char *execfn = r->binfmt ? 0 : st->argv[1];
    uint64_t words = rb_stack_words(st, 0, skip);
    if (rb_stack_build(st, 0, 0, skip, sp, words) < 0)
        fail(r, RB_ESTACK);
    uint64_t argc = sp[0];
    char **argv = (char **)(sp + 1);
    uint64_t *auxv = sp + 1 + argc + 1 + st->envc + 1;
    struct rb_auxv_fix fix = {
        .phdr = bias + bi->phdr_vaddr, .phent = sizeof(Elf64_Phdr), .phnum = bi->phnum,
        .entry = bias + bi->entry, .base = r->ld.bias, .secure = (uint64_t)r->program_secure,
        .execfn = (uint64_t)execfn,
    };
    uint64_t auxc = rb_auxv_rewrite(auxv, st->auxc, &fix);

    uint64_t brk = PAGE_UP(bias + bi->brk);
    if (randomize)
        brk += random_pages(r->rnd[1], RB_BRK_RND_BITS);
    r->mm = (struct rb_mm_map){
        .start_code = bias + bi->start_code, .end_code = bias + bi->end_code,
        .start_data = bias + bi->start_data, .end_data = bias + bi->end_data,
        .start_brk = brk, .brk = brk, .start_stack = (uint64_t)sp,
        .auxv = (uint64_t)auxv, .auxv_size = (uint32_t)(auxc * 16), .exe_fd = (uint32_t)-1,
    };
    rb_mm_strings(&r->mm, argv, argc, argv + argc + 1, st->envc);
    /* The same map without exe_fd first: every field is checked now, while an error can still
     * be reported; after the trampoline unmaps us only exe_fd can fail. */
    set_mm_or_die(r);
    rb_debug_state();
    RB_STAGE(4);
    r->mm.exe_fd = (uint32_t)r->bin.fd;
    leave(r, sp, r->ld.bias + r->ld.img.entry);
}

/* Without the capability to set /proc/self/exe, $ORIGIN would resolve next to runbottle: the
 * loader runs in its explicit mode instead (ld.so --argv0 ARGV0 /real/path ARGS...), which
 * both glibc's and musl's (1.2.3 and later) loaders accept, and uses the path for $ORIGIN. */
__attribute__((noreturn, noinline)) static void exec_explicit(struct run *r)
{
    struct rb_stack *st = &r->st;
    map_loader(r);
    static const char argv0_opt[] = "--argv0";
    size_t llen = rb_strlen(r->loader_path) + 1, rlen = rb_strlen(r->real) + 1;
    uint64_t skip = r->binfmt ? 3 : 2;
    uint64_t words = rb_stack_words(st, 4, skip);
    uint64_t strwords = (llen + rlen + sizeof(argv0_opt) + 7) / 8;
    /* The new block lives in this frame, above every frame still to come. */
    uint64_t area[words + strwords + 2] __attribute__((aligned(16)));
    char *s = (char *)(area + words + 2);
    char *lp = s, *opt = lp + llen, *rp = opt + sizeof(argv0_opt);
    for (size_t i = 0; i < llen; i++)
        lp[i] = r->loader_path[i];
    for (size_t i = 0; i < sizeof(argv0_opt); i++)
        opt[i] = argv0_opt[i];
    for (size_t i = 0; i < rlen; i++)
        rp[i] = r->real[i];
    char *prefix[4] = { lp, opt, st->argv[skip - 1], rp };
    uint64_t *sp = area;
    rb_stack_build(st, prefix, 4, skip, sp, words);
    uint64_t argc = sp[0];
    uint64_t *auxv = sp + 1 + argc + 1 + st->envc + 1;
    const struct rb_image *li = &r->ld.img;
    struct rb_auxv_fix fix = {
        .phdr = r->ld.bias + li->phdr_vaddr, .phent = sizeof(Elf64_Phdr), .phnum = li->phnum,
        .entry = r->ld.bias + li->entry, .base = 0, .secure = (uint64_t)r->program_secure,
    };
    uint64_t auxc = rb_auxv_rewrite(auxv, st->auxc, &fix);
    long cur = rb_sys(RB_SYS_brk, 0, 0, 0);
    r->mm = (struct rb_mm_map){
        .start_code = r->ld.bias + li->start_code, .end_code = r->ld.bias + li->end_code,
        .start_data = r->ld.bias + li->start_data, .end_data = r->ld.bias + li->end_data,
        .start_brk = (uint64_t)cur, .brk = (uint64_t)cur, .start_stack = (uint64_t)sp,
        .auxv = (uint64_t)auxv, .auxv_size = (uint32_t)(auxc * 16), .exe_fd = (uint32_t)-1,
    };
    /* ps and /proc/PID/cmdline show the program's argv, not the loader's options. */
    rb_mm_strings(&r->mm, st->argv + skip - 1, st->argc - skip + 1, (char **)(sp + 1 + argc + 1),
                  st->envc);
    /* Not fatal: a refusal leaves cmdline showing the loader's options, nothing worse. */
    rb_set_mm(&r->mm);
    rb_debug_state();
    if (r->debug)
        rb_say(r->name, "/proc/self/exe names runbottle: no CAP_CHECKPOINT_RESTORE, running "
               "the loader in explicit mode", r->loader_path);
    leave(r, sp, r->ld.bias + li->entry);
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
    r->secure_in = rb_auxv_get(st, AT_SECURE, 0);
    r->program_secure = (int)r->secure_in;
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
            fail(r, fd);
        r->bin.fd = (int)fd;
    }
    size_t long_note = open_binary(r, head);
    uint8_t note[long_note ? long_note : 1] __attribute__((aligned(8)));
    if (long_note)
        open_long_note(r, note, long_note);
    decide_privilege(r);
    if (r->exe_permitted) {
        r->tramp_page = trampoline_page();
        if (is_err(r->tramp_page)) {
            if (r->debug)
                rb_say(r->name, "cannot map the trampoline, running the loader in explicit mode",
                       rb_strerror(r->tramp_page));
            r->exe_permitted = 0;
        }
    }
    int need_real = r->program_secure || !r->exe_permitted
                    || !rb_same_file(&r->bin, r->name);
    char usual[RB_PATHS_USUAL];
    r->paths = usual;
    r->paths_size = sizeof(usual);
    long too_long = find_paths(r, need_real);
    char big[too_long ? RB_PATHS_MAX : 1];
    if (too_long) {
        r->paths = big;
        r->paths_size = sizeof(big);
        find_paths(r, need_real);
    }
    open_loader(r);
    RB_STAGE(2);
    int randomize = layout_randomized(st);
    if (r->exe_permitted)
        exec_native(r, randomize);
    exec_explicit(r);
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
