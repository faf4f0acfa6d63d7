/* The explicit mode: without the capability to set /proc/self/exe, $ORIGIN would resolve next
 * to runbottle, so the loader runs as a program of its own (ld.so --argv0 ARGV0 /real/path
 * ARGS...), which both glibc's and musl's (1.2.3 and later) loaders accept, and uses the path
 * for $ORIGIN. */
#include <elf.h>
#include "run.h"

/* noinline: the new block lives in this frame, above every frame still to come. */
__attribute__((noinline)) void rb_exec_explicit(struct run *r)
{
    struct rb_stack *st = &r->st;
    rb_map_loader(r);
    static const char argv0_opt[] = "--argv0";
    const char *loader = r->paths.loader, *real = r->paths.real;
    size_t llen = rb_strlen(loader) + 1, rlen = rb_strlen(real) + 1;
    uint64_t skip = r->binfmt ? 3 : 2;
    uint64_t words = rb_stack_words(st, 4, skip);
    uint64_t strwords = (llen + rlen + sizeof(argv0_opt) + 7) / 8;
    uint64_t area[words + strwords + 2] __attribute__((aligned(16)));
    char *s = (char *)(area + words + 2);
    char *lp = s, *opt = lp + llen, *rp = opt + sizeof(argv0_opt);
    for (size_t i = 0; i < llen; i++)
        lp[i] = loader[i];
    for (size_t i = 0; i < sizeof(argv0_opt); i++)
        opt[i] = argv0_opt[i];
    for (size_t i = 0; i < rlen; i++)
        rp[i] = real[i];
    char *prefix[4] = { lp, opt, st->argv[skip - 1], rp };
    uint64_t *sp = area;
    if (rb_stack_build(st, prefix, 4, skip, sp, words) < 0)
        rb_run_fail(r, RB_ESTACK);
    uint64_t argc = sp[0];
    uint64_t *auxv = sp + 1 + argc + 1 + st->envc + 1;
    const struct rb_image *li = &r->ld.img;
    struct rb_auxv_fix fix = {
        .phdr = r->ld.bias + li->phdr_vaddr, .phent = sizeof(Elf64_Phdr), .phnum = li->phnum,
        .entry = r->ld.bias + li->entry, .base = 0, .secure = (uint64_t)r->priv.program_secure,
    };
    uint64_t auxc = rb_auxv_rewrite(auxv, st->auxc, &fix);
    long cur = rb_sys(RB_SYS_brk, 0, 0, 0);
    struct rb_mm_map *mm = &r->exit.mm;
    *mm = (struct rb_mm_map){
        .start_code = r->ld.bias + li->start_code, .end_code = r->ld.bias + li->end_code,
        .start_data = r->ld.bias + li->start_data, .end_data = r->ld.bias + li->end_data,
        .start_brk = (uint64_t)cur, .brk = (uint64_t)cur, .start_stack = (uint64_t)sp,
        .auxv = (uint64_t)auxv, .auxv_size = (uint32_t)(auxc * 16), .exe_fd = (uint32_t)-1,
    };
    /* ps and /proc/PID/cmdline show the program's argv, not the loader's options. */
    rb_mm_strings(mm, st->argv + skip - 1, st->argc - skip + 1, (char **)(sp + 1 + argc + 1),
                  st->envc);
    /* Not fatal: a refusal leaves cmdline showing the loader's options, nothing worse. */
    rb_set_mm(mm);
    rb_debug_state();
    if (r->priv.debug)
        rb_say(r->name, "/proc/self/exe names runbottle: no CAP_CHECKPOINT_RESTORE, running "
               "the loader in explicit mode", loader);
    rb_leave(r, sp, r->ld.bias + li->entry);
}
