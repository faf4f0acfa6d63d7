/* Fuzz check: ELF header and program header validation, and the load plan built from
 * them, on arbitrary files (the input is the whole file). */
#include <elf.h>
#include "fuzz_checks.h"
#include "runbottle_core.h"

int fuzz_check_elf(const uint8_t *data, size_t size)
{
    uint64_t phoff;
    uint32_t phsize;
    if (rb_elf_check_header(data, size, size, EM_X86_64, &phoff, &phsize) != RB_OK)
        return 0;
    if (phoff > size || phsize > size - phoff)
        return __LINE__;   /* check_header promised the table is inside the file */
    struct rb_image image;
    if (rb_elf_plan(data, data + phoff, phsize, size, &image) != RB_OK)
        return 0;
    if (image.nload == 0 || image.nload > RB_MAX_LOADS || image.min_vaddr > image.max_vaddr)
        return __LINE__;
    for (uint32_t i = 0; i < image.nload; i++) {
        const struct rb_segment *s = &image.load[i];
        if (s->filesz > s->memsz || s->offset > size || s->filesz > size - s->offset)
            return __LINE__;
        if (i > 0 && s->vaddr < image.load[i - 1].vaddr + image.load[i - 1].memsz)
            return __LINE__;   /* sorted and not overlapping */
    }
    rb_dyn_bias(&image, 0x555555554000ull, 0);
    return 0;
}
