/* The PT_INTERP dispatch: the kernel's own ELF loader exec'd the sealed program natively and
 * started runbottle as its program interpreter. Everything a native exec decides (credentials,
 * capabilities, AT_SECURE, limits, personality, /proc/self/exe, the program's mapping, brk) is
 * already the kernel's; runbottle only maps the bottle's loader and hands over to it. */
#include <elf.h>
#include <errno.h>
#include "runbottle_os.h"

/* The program the kernel mapped: its headers are read in memory, where the kernel put them. */
struct program {
    uint64_t bias;
    struct rb_image img;
    struct rb_note note;
};

/* AT_PHDR and AT_PHNUM describe the sealed table (fs/binfmt_elf.c: PT_PHDR's address since
 * 5.18, the first PT_LOAD's base + e_phoff before; the seal keeps both equal). The first PT_LOAD
 * maps the file from offset 0, so the ELF header and the BOTTLE note after it are in memory. */
static int find_program(const struct rb_stack *st, struct program *p)
{
    uint64_t at_phdr = rb_auxv_get(st, AT_PHDR, 0), phnum = rb_auxv_get(st, AT_PHNUM, 0);
    if (rb_auxv_get(st, AT_PHENT, 0) != sizeof(Elf64_Phdr) || phnum == 0
        || phnum * sizeof(Elf64_Phdr) > RB_PHDR_MAX_BYTES)
        return RB_ECORRUPT;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)at_phdr;
    const Elf64_Phdr *phdr = 0, *first = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        if (ph[i].p_type == PT_PHDR && !phdr)
            phdr = &ph[i];
        if (ph[i].p_type == PT_LOAD && !first)
            first = &ph[i];
    }
    if (!phdr || !first || first->p_offset != 0 || !(first->p_flags & PF_R)
        || first->p_filesz < sizeof(Elf64_Ehdr) + BOTTLE_NOTE_HEADER_SIZE)
        return RB_ENOTSEALED;
    p->bias = at_phdr - phdr->p_vaddr;
    const uint8_t *ehdr = (const uint8_t *)(p->bias + first->p_vaddr);
    uint64_t phoff;
    uint32_t phsize;
    int rc = rb_elf_check_header(ehdr, sizeof(Elf64_Ehdr), ~(uint64_t)0, RB_EM_HOST, &phoff, &phsize);
    if (rc)
        return rc;
    if (phsize != phnum * sizeof(Elf64_Phdr))
        return RB_ECORRUPT;
    rc = rb_elf_plan(ehdr, (const uint8_t *)at_phdr, phsize, ~(uint64_t)0, &p->img);
    if (rc)
        return rc;
    uint64_t room = first->p_filesz - sizeof(Elf64_Ehdr);
    return rb_note_parse(ehdr + sizeof(Elf64_Ehdr),
                         room < BOTTLE_NOTE_MAX_SIZE ? room : BOTTLE_NOTE_MAX_SIZE, 0, &p->note);
}

/* /proc/PID/auxv is the kernel's saved copy, which names runbottle as AT_BASE: PR_SET_MM_MAP
 * (allowed unprivileged without exe_fd) installs the rewritten one. Every field is set, so each
 * gets the value load_elf_binary gave it; /proc/PID/stat then reads as natively. */
static long save_auxv(const struct rb_stack *st, const struct program *p)
{
    if (st->argc == 0)
        return -EINVAL;
    long brk = rb_sys(RB_SYS_brk, 0, 0, 0);
    const struct rb_image *i = &p->img;
    struct rb_mm_map mm = {
        .start_code = p->bias + i->start_code, .end_code = p->bias + i->end_code,
        .start_data = p->bias + i->start_data, .end_data = p->bias + i->end_data,
        .start_brk = (uint64_t)brk, .brk = (uint64_t)brk, .start_stack = (uint64_t)st->sp,
        .auxv = (uint64_t)st->auxv, .auxv_size = (uint32_t)(st->auxc * 16),
        .exe_fd = (uint32_t)-1,
    };
    rb_mm_strings(&mm, st->argv, st->argc, st->envp, st->envc);
    return rb_set_mm(&mm);
}

/* Writes the loader's path, relative to the binary's directory, into buf: 0, or -ENAMETOOLONG
 * when buf is too small, or another negative errno. Under AT_SECURE only the kernel's record of
 * what it executed counts (/proc/self/exe): AT_EXECFN is the caller's string, and what it
 * names may have changed since. */
static long loader_beside(const char *name, int secure, const struct rb_note *note, char *buf,
                          size_t size)
{
    const char *base = name;
    size_t used = 0;
    if (secure || !rb_is_regular(name)) {
        long n = rb_exe_path(name, buf, size);
        if (n < 0)
            return n;
        base = buf;
        used = (size_t)n + 1;
    }
    if (rb_path_sibling(base, note->loader, buf + used, size - used) < 0)
        return -ENAMETOOLONG;
    /* The loader's path goes to the start of buf, over the real path it was made from. */
    if (used) {
        size_t i = 0;
        for (; buf[used + i]; i++)
            buf[i] = buf[used + i];
        buf[i] = '\0';
    }
    return 0;
}

/* Maps the loader at loader_path, gives it its AT_BASE, installs the auxv (prog: the program's
 * layout, for the mm fields; none in the floor build) and jumps to it. */
__attribute__((noreturn)) static void enter_loader(struct rb_stack *st, const char *name,
                                                   const char *loader_path, int secure,
                                                   const struct program *prog)
{
    struct rb_file ld;
    int opened;
    long r = rb_open_loader(loader_path, secure, &ld, &opened);
    if (r)
        rb_loader_failed(name, loader_path, r, opened, secure);
    r = rb_map_image(&ld, 0, 0);
    if (r < 0)
        rb_die(RB_EXIT_NOEXEC, name, "cannot map the loader", rb_strerror(r));
    rb_sys(RB_SYS_close, ld.fd, 0, 0);

    /* The loaders take their own base from AT_BASE (musl's _dlstart_c does). */
    for (uint64_t *a = st->auxv; a[0] != AT_NULL; a += 2)
        if (a[0] == AT_BASE)
            a[1] = ld.bias;
    /* Not fatal: a refusal (RLIMIT_DATA below the data size, a seccomp filter) leaves only
     * /proc/PID/auxv naming runbottle's base. */
    if (prog)
        save_auxv(st, prog);
    rb_debug_state();
    /* runbottle stays mapped: unmapping the code that runs needs a copy elsewhere, which
     * costs more than the whole exec's budget (runbottle(8), CAVEATS). */
    struct rb_tramp t = { .ncalls = 0, .sp = (uint64_t)st->sp, .entry = ld.bias + ld.img.entry };
    ((void (*)(struct rb_tramp *))(uintptr_t)rb_trampoline)(&t);
    __builtin_unreachable();
}

__attribute__((noreturn)) void rb_exec_interp(struct rb_stack *st)
{
#ifdef RB_BENCH_FLOOR_LOADER
    /* Benchmarks/exec-runbottle.sh --stages, i-floor: the loader's path built in, and nothing
     * done but mapping it (no note read, no path found, no mm fields set): the least this
     * dispatch can cost. Nothing in a normal build. */
    enter_loader(st, "", RB_BENCH_FLOOR_LOADER, 0, 0);
#endif
    struct program prog;
    const char *name = (const char *)rb_auxv_get(st, AT_EXECFN, 0);
    if (!name)
        name = st->argc ? st->argv[0] : "";
    int secure = rb_auxv_get(st, AT_SECURE, 0) != 0;
    int rc = find_program(st, &prog);
    if (rc)
        rb_die(RB_EXIT_NOEXEC, name, "started as PT_INTERP", rb_strerror(rc));

    char usual[RB_PATHS_USUAL];
    const char *loader_path = usual;
    long n = loader_beside(name, secure, &prog.note, usual, sizeof(usual));
    char big[n == -ENAMETOOLONG ? RB_PATHS_MAX : 1];
    if (n == -ENAMETOOLONG) {
        loader_path = big;
        n = loader_beside(name, secure, &prog.note, big, sizeof(big));
    }
    if (n == -ENAMETOOLONG)
        rb_die(RB_EXIT_NOEXEC, name, "loader path too long", 0);
    if (n < 0)
        rb_die(RB_EXIT_NOEXEC, name, "cannot find the binary's real path", rb_strerror(n));
    enter_loader(st, name, loader_path, secure, &prog);
}
