/* The native mode, the userland exec proper: the program and the loader mapped here, the stack
 * shrunk in place to the program's argv, the auxv describing the program, /proc/self/exe set to
 * the binary. Needs the capability to set /proc/self/exe (capabilities.c). */
#include <elf.h>
#include <errno.h>
#include "run.h"

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

void rb_map_loader(struct run *r)
{
    long rc = rb_map_image(&r->ld, 0, 0);
    if (rc < 0)
        rb_die(RB_EXIT_NOEXEC, r->name, "cannot map the loader", rb_strerror(rc));
}

static void set_mm_or_die(struct run *r)
{
    long rc = rb_set_mm(&r->exit.mm);
    if (rc < 0)
        rb_die(RB_EXIT_NOEXEC, r->name, "prctl(PR_SET_MM_MAP) refused the program's layout",
               rb_strerror(rc));
}

void rb_exec_native(struct run *r, int randomize)
{
    struct rb_stack *st = &r->st;
    if (!randomize || rb_sys(RB_SYS_getrandom, (long)r->rnd, sizeof(r->rnd), 1 /* GRND_NONBLOCK */)
                          != sizeof(r->rnd))
        r->rnd[0] = r->rnd[1] = 0;
    map_program(r, randomize);
    rb_map_loader(r);
    RB_STAGE(3);
    const struct rb_image *bi = &r->bin.img;
    uint64_t bias = r->bin.bias;
    /* setup_arg_pages() makes the stack executable for PT_GNU_STACK PF_X before any MDWE
     * check; from user space memory-deny-write-execute refuses it: say so rather than let the
     * program fault on its stack later. */
    if (bi->exec_stack) {
        long rc = rb_sys(RB_SYS_mprotect, (long)rb_page_down((uint64_t)st->sp), RB_PAGE_SIZE,
                         RB_PROT_READ | RB_PROT_WRITE | RB_PROT_EXEC | RB_PROT_GROWSDOWN);
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
        rb_run_fail(r, RB_ESTACK);
    uint64_t argc = sp[0];
    char **argv = (char **)(sp + 1);
    uint64_t *auxv = sp + 1 + argc + 1 + st->envc + 1;
    struct rb_auxv_fix fix = {
        .phdr = bias + bi->phdr_vaddr, .phent = sizeof(Elf64_Phdr), .phnum = bi->phnum,
        .entry = bias + bi->entry, .base = r->ld.bias, .secure = (uint64_t)r->priv.program_secure,
        .execfn = (uint64_t)execfn,
    };
    uint64_t auxc = rb_auxv_rewrite(auxv, st->auxc, &fix);

    uint64_t brk = rb_page_up(bias + bi->brk);
    if (randomize)
        brk += random_pages(r->rnd[1], RB_BRK_RND_BITS);
    struct rb_mm_map *mm = &r->exit.mm;
    *mm = (struct rb_mm_map){
        .start_code = bias + bi->start_code, .end_code = bias + bi->end_code,
        .start_data = bias + bi->start_data, .end_data = bias + bi->end_data,
        .start_brk = brk, .brk = brk, .start_stack = (uint64_t)sp,
        .auxv = (uint64_t)auxv, .auxv_size = (uint32_t)(auxc * 16), .exe_fd = (uint32_t)-1,
    };
    rb_mm_strings(mm, argv, argc, argv + argc + 1, st->envc);
    /* The same map without exe_fd first: every field is checked now, while an error can still
     * be reported; after the trampoline unmaps us only exe_fd can fail. */
    set_mm_or_die(r);
    rb_debug_state();
    RB_STAGE(4);
    mm->exe_fd = (uint32_t)r->bin.fd;
    rb_leave(r, sp, r->ld.bias + r->ld.img.entry);
}
