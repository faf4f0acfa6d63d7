/* Maps an ELF image the way fs/binfmt_elf.c does: reserve the span, map each PT_LOAD over it
 * with its own protections, zero the bss tail of the last file page, anonymous pages beyond. */
#include <errno.h>
#include "runbottle_os.h"

static long mmap6(uint64_t addr, uint64_t len, long prot, long flags, long fd, uint64_t off)
{
    return rb_syscall6(RB_SYS_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
}

/* hint: the load bias wanted (ET_EXEC: 0, ET_DYN main program: the randomized ELF_ET_DYN_BASE
 * bias; loader: ignored, the kernel picks). fixed: fail rather than move (MAP_FIXED_NOREPLACE). */
long rb_map_image(struct rb_file *f, uint64_t hint, int fixed)
{
    struct rb_image *img = &f->img;
    const struct rb_segment *first = &img->load[0];
    uint64_t span = img->max_vaddr - img->min_vaddr;
    uint64_t extra = img->align > RB_PAGE_SIZE && !fixed ? img->align : 0;
    uint64_t want = fixed ? hint + img->min_vaddr : 0;
    long flags = RB_MAP_PRIVATE | (fixed ? RB_MAP_FIXED_NOREPLACE : 0);
    /* Like elf_map() with total_size: the first segment's mapping spans the whole image and
     * reserves it; the others are mapped over it. With an alignment above the page size the
     * span is reserved anonymously first, larger, and trimmed to the alignment. */
    int whole = !extra && first->filesz != 0;
    long r = whole ? mmap6(want, span, first->prot, flags, f->fd, first->offset - (first->vaddr - img->min_vaddr))
                   : mmap6(want, span + extra, 0, flags | RB_MAP_ANONYMOUS, -1, 0);
    if (rb_is_err(r))
        return r;
    uint64_t start = (uint64_t)r;
    if (fixed && start != want) {
        /* Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat it as a hint. */
        rb_sys(RB_SYS_munmap, r, (long)span, 0);
        return -EEXIST;
    }
    if (extra) {
        uint64_t aligned = (start + img->align - 1) & ~(img->align - 1);
        if (aligned > start)
            rb_sys(RB_SYS_munmap, (long)start, (long)(aligned - start), 0);
        rb_sys(RB_SYS_munmap, (long)(aligned + span), (long)(start + extra - aligned), 0);
        start = aligned;
    }
    uint64_t bias = start - img->min_vaddr;
    if (whole) {
        /* elf_map() again: keep the first segment's pages and give the rest of the span back,
         * so that the other segments go into a hole. Mapping them over the reservation instead
         * would split and unmap it once per segment, which costs several times more. */
        uint64_t keep = rb_page_up(bias + first->vaddr + first->filesz);
        if (keep < start + span)
            rb_sys(RB_SYS_munmap, (long)keep, (long)(start + span - keep), 0);
    }
    uint64_t prev_end = start;
    for (uint32_t i = 0; i < img->nload; i++) {
        const struct rb_segment *s = &img->load[i];
        uint64_t va = bias + s->vaddr, pstart = rb_page_down(va);
        uint64_t fend = va + s->filesz, mend = va + s->memsz;
        uint64_t anon = pstart;
        /* The gaps between segments are left unmapped, as the kernel leaves them. */
        if (!whole && pstart > prev_end)
            rb_sys(RB_SYS_munmap, (long)prev_end, (long)(pstart - prev_end), 0);
        if (s->filesz) {
            if (!(whole && i == 0)) {
                r = mmap6(pstart, rb_page_up(fend) - pstart, s->prot, RB_MAP_PRIVATE | RB_MAP_FIXED,
                          f->fd, s->offset - (va - pstart));
                if (rb_is_err(r))
                    return r;
            }
            anon = rb_page_up(fend);
            /* padzero(): only a writable segment gets its last file page's tail cleared. */
            if (s->memsz > s->filesz && (s->prot & RB_PROT_WRITE))
                rb_zero((void *)fend, anon - fend);
        }
        if (rb_page_up(mend) > anon) {
            r = mmap6(anon, rb_page_up(mend) - anon, s->prot,
                      RB_MAP_PRIVATE | RB_MAP_FIXED | RB_MAP_ANONYMOUS, -1, 0);
            if (rb_is_err(r))
                return r;
        }
        prev_end = rb_page_up(mend);
    }
    f->bias = bias;
    return 0;
}
