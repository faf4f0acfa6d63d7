/* Reads and rewrites the initial stack the kernel builds: argc, argv, envp and the auxv. */
#include <elf.h>
#include <errno.h>
#include "runbottle_core.h"

int rb_stack_parse(uint64_t *sp, const uint64_t *end, struct rb_stack *st)
{
    /* argc and argv's NULL at the least: end - sp < 2 would make the bound below wrap. */
    if (sp >= end || end - sp < 2)
        return RB_ESTACK;
    uint64_t argc = sp[0];
    if (argc > (uint64_t)(end - sp) - 2)
        return RB_ESTACK;
    uint64_t *p = sp + 1;
    if (p[argc] != 0)
        return RB_ESTACK;
    st->sp = sp;
    st->argc = argc;
    st->argv = (char **)p;
    p += argc + 1;
    st->envp = (char **)p;
    while (p < end && *p != 0)
        p++;
    if (p >= end)
        return RB_ESTACK;
    st->envc = (uint64_t)((char **)p - st->envp);
    p++;
    st->auxv = p;
    while (p + 1 < end && p[0] != AT_NULL)
        p += 2;
    if (p + 1 >= end)
        return RB_ESTACK;
    st->auxc = (uint64_t)(p - st->auxv) / 2 + 1;
    return RB_OK;
}

uint64_t rb_auxv_get(const struct rb_stack *st, uint64_t type, uint64_t dflt)
{
    for (uint64_t i = 0; i + 1 < st->auxc; i++)
        if (st->auxv[2 * i] == type)
            return st->auxv[2 * i + 1];
    return dflt;
}

uint64_t rb_auxv_rewrite(uint64_t *auxv, uint64_t auxc, const struct rb_auxv_fix *fix)
{
    uint64_t w = 0;
    for (uint64_t r = 0; r + 1 < auxc; r++) {
        uint64_t type = auxv[2 * r], val = auxv[2 * r + 1];
        switch (type) {
        case AT_EXECFD:
            continue;
        case AT_PHDR: val = fix->phdr; break;
        case AT_PHENT: val = fix->phent; break;
        case AT_PHNUM: val = fix->phnum; break;
        case AT_ENTRY: val = fix->entry; break;
        case AT_BASE: val = fix->base; break;
        case AT_SECURE: val = fix->secure; break;
        /* binfmt_misc sets AT_FLAGS_PRESERVE_ARGV0 for flag P; a native exec passes 0. */
        case AT_FLAGS: val = 0; break;
        case AT_EXECFN:
            if (fix->execfn)
                val = fix->execfn;
            break;
        }
        auxv[2 * w] = type;
        auxv[2 * w + 1] = val;
        w++;
    }
    /* Slots freed by removed entries become AT_NULL: the vector keeps its size. */
    for (uint64_t i = w; i < auxc; i++)
        auxv[2 * i] = auxv[2 * i + 1] = AT_NULL;
    return w + 1;
}

uint64_t rb_stack_words(const struct rb_stack *st, uint64_t nprefix, uint64_t skip)
{
    uint64_t kept = st->argc > skip ? st->argc - skip : 0;
    return 1 + nprefix + kept + 1 + st->envc + 1 + 2 * st->auxc;
}

/* Copies forward: dst may overlap src when dst <= src, which is how the block moves up. */
static void copy_words(uint64_t *dst, const uint64_t *src, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        dst[i] = src[i];
}

int64_t rb_stack_build(const struct rb_stack *st, char *const *prefix, uint64_t nprefix,
                       uint64_t skip, uint64_t *dst, uint64_t dst_words)
{
    uint64_t need = rb_stack_words(st, nprefix, skip);
    if (need > dst_words)
        return -ENOSPC;
    uint64_t kept = st->argc > skip ? st->argc - skip : 0;
    uint64_t *w = dst;
    /* Read everything that dst could overlap before writing over it: in place, dst[k] only
     * ever overwrites a word that has already been copied (dst <= &argv[skip] - nprefix). */
    *w++ = nprefix + kept;
    for (uint64_t i = 0; i < nprefix; i++)
        *w++ = (uint64_t)prefix[i];
    copy_words(w, (const uint64_t *)(st->argv + skip), kept);
    w += kept;
    *w++ = 0;
    copy_words(w, (const uint64_t *)st->envp, st->envc);
    w += st->envc;
    *w++ = 0;
    copy_words(w, st->auxv, 2 * st->auxc);
    w += 2 * st->auxc;
    return (int64_t)(w - dst);
}

int rb_layout_randomized(uint64_t execfn, uint64_t execfn_len, const uint64_t *tops, size_t ntops)
{
    if (execfn == 0 || execfn_len > ~(uint64_t)0 - execfn - 16)
        return 1;
    uint64_t top = execfn + execfn_len + 1 + sizeof(uint64_t);
    for (size_t i = 0; i < ntops; i++)
        if (top == tops[i])
            return 0;
    return 1;
}
