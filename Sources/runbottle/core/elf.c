/* Validates an ELF header and its program headers and turns the PT_LOADs into a load plan. */
#include <elf.h>
#include "runbottle_core.h"

/* The highest user address on x86-64 and aarch64 with 48-bit addressing (TASK_SIZE). */
#define RB_USER_TOP  0x0000800000000000ull

static int add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
    *sum = a + b;
    return *sum >= a;
}

int rb_elf_check_header(const uint8_t *eh, size_t len, uint64_t file_size, uint16_t machine,
                        uint64_t *phoff, uint32_t *phsize)
{
    if (len < sizeof(Elf64_Ehdr) || file_size < sizeof(Elf64_Ehdr))
        return RB_ENOTELF;
    if (eh[EI_MAG0] != ELFMAG0 || eh[EI_MAG1] != ELFMAG1 || eh[EI_MAG2] != ELFMAG2
        || eh[EI_MAG3] != ELFMAG3)
        return RB_ENOTELF;
    if (eh[EI_CLASS] != ELFCLASS64 || eh[EI_DATA] != ELFDATA2LSB || eh[EI_VERSION] != EV_CURRENT)
        return RB_ENOTELF;
    if (rb_le16(eh + offsetof(Elf64_Ehdr, e_machine)) != machine)
        return RB_EARCH;
    uint16_t type = rb_le16(eh + offsetof(Elf64_Ehdr, e_type));
    if (type != ET_EXEC && type != ET_DYN)
        return RB_ETYPE;
    if (rb_le16(eh + offsetof(Elf64_Ehdr, e_ehsize)) != sizeof(Elf64_Ehdr)
        || rb_le16(eh + offsetof(Elf64_Ehdr, e_phentsize)) != sizeof(Elf64_Phdr))
        return RB_ECORRUPT;
    uint32_t phnum = rb_le16(eh + offsetof(Elf64_Ehdr, e_phnum));
    uint32_t size = phnum * (uint32_t)sizeof(Elf64_Phdr);
    if (phnum == 0 || size > RB_PHDR_MAX_BYTES)
        return RB_ECORRUPT;
    uint64_t off = rb_le64(eh + offsetof(Elf64_Ehdr, e_phoff)), end;
    if (off % 8 != 0 || !add_ok(off, size, &end) || end > file_size)
        return RB_ECORRUPT;
    *phoff = off;
    *phsize = size;
    return RB_OK;
}

static uint32_t prot_of(uint32_t flags)
{
    /* PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4, as fs/binfmt_elf.c make_prot() maps p_flags. */
    return (flags & PF_R ? 1u : 0) | (flags & PF_W ? 2u : 0) | (flags & PF_X ? 4u : 0);
}

int rb_elf_plan(const uint8_t *eh, const uint8_t *ph, uint32_t phsize, uint64_t file_size,
                struct rb_image *img)
{
    img->type = rb_le16(eh + offsetof(Elf64_Ehdr, e_type));
    img->phnum = (uint16_t)(phsize / sizeof(Elf64_Phdr));
    img->entry = rb_le64(eh + offsetof(Elf64_Ehdr, e_entry));
    img->phoff = rb_le64(eh + offsetof(Elf64_Ehdr, e_phoff));
    img->phdr_vaddr = 0;
    img->align = RB_PAGE_SIZE;
    img->nload = 0;
    img->exec_stack = 0;
    img->has_interp = 0;
    img->interp_offset = img->interp_size = 0;
    img->start_code = ~(uint64_t)0;
    img->end_code = img->start_data = img->end_data = img->brk = 0;

    int have_phdr = 0;
    uint64_t prev_end = 0;
    for (uint32_t i = 0; i < img->phnum; i++) {
        const uint8_t *p = ph + i * sizeof(Elf64_Phdr);
        uint32_t type = rb_le32(p + offsetof(Elf64_Phdr, p_type));
        uint32_t flags = rb_le32(p + offsetof(Elf64_Phdr, p_flags));
        uint64_t off = rb_le64(p + offsetof(Elf64_Phdr, p_offset));
        uint64_t vaddr = rb_le64(p + offsetof(Elf64_Phdr, p_vaddr));
        uint64_t filesz = rb_le64(p + offsetof(Elf64_Phdr, p_filesz));
        uint64_t memsz = rb_le64(p + offsetof(Elf64_Phdr, p_memsz));
        uint64_t align = rb_le64(p + offsetof(Elf64_Phdr, p_align));
        uint64_t fend, mend;

        if (type == PT_GNU_STACK) {
            img->exec_stack = (flags & PF_X) != 0;
        } else if (type == PT_INTERP) {
            img->has_interp = 1;
            img->interp_offset = off;
            img->interp_size = filesz;
        } else if (type == PT_PHDR) {
            have_phdr = 1;
            img->phdr_vaddr = vaddr;
        }
        if (type != PT_LOAD)
            continue;
        if (!add_ok(off, filesz, &fend) || fend > file_size || memsz < filesz
            || !add_ok(vaddr, memsz, &mend) || mend > RB_USER_TOP)
            return RB_ECORRUPT;
        /* The mapping offset is p_offset - ELF_PAGEOFFSET(p_vaddr): both must agree mod page. */
        if ((off ^ vaddr) & (RB_PAGE_SIZE - 1))
            return RB_ECORRUPT;
        if (align > 1 && (align & (align - 1)) == 0 && align > img->align)
            img->align = align;
        if (img->nload == RB_MAX_LOADS || (img->nload > 0 && vaddr < prev_end))
            return RB_ECORRUPT;
        if (memsz == 0)
            continue;
        prev_end = mend;
        struct rb_segment *s = &img->load[img->nload++];
        s->vaddr = vaddr;
        s->offset = off;
        s->filesz = filesz;
        s->memsz = memsz;
        s->prot = prot_of(flags);

        /* The mm fields as load_elf_binary computes them (/proc/PID/stat, prctl). */
        if ((flags & PF_X) && vaddr < img->start_code)
            img->start_code = vaddr;
        if (vaddr > img->start_data)
            img->start_data = vaddr;
        if ((flags & PF_X) && vaddr + filesz > img->end_code)
            img->end_code = vaddr + filesz;
        if (vaddr + filesz > img->end_data)
            img->end_data = vaddr + filesz;
        if (mend > img->brk)
            img->brk = mend;
    }
    if (img->nload == 0)
        return RB_ECORRUPT;
    img->min_vaddr = rb_page_down(img->load[0].vaddr);
    img->max_vaddr = rb_page_down(img->brk + RB_PAGE_SIZE - 1);
    if (img->start_code >= img->end_code) {
        img->start_code = img->load[0].vaddr;
        img->end_code = img->load[0].vaddr + 1;
    }
    if (img->entry < img->min_vaddr || img->entry >= img->max_vaddr)
        return RB_ECORRUPT;

    /* Without PT_PHDR the loaders find the table through the PT_LOAD whose file bytes hold it
     * (fs/binfmt_elf.c since 5.18 does the same for AT_PHDR). */
    uint64_t phend = img->phoff + phsize;
    int covered = 0;
    for (uint32_t i = 0; i < img->nload; i++) {
        const struct rb_segment *s = &img->load[i];
        if (img->phoff >= s->offset && phend <= s->offset + s->filesz) {
            uint64_t at = img->phoff - s->offset + s->vaddr;
            if (!have_phdr)
                img->phdr_vaddr = at;
            else if (img->phdr_vaddr != at)
                return RB_ECORRUPT;
            covered = 1;
        }
    }
    return covered ? RB_OK : RB_ECORRUPT;
}

uint64_t rb_dyn_bias(const struct rb_image *img, uint64_t et_dyn_base, uint64_t rnd)
{
    uint64_t base = (et_dyn_base + rnd) & ~(img->align - 1);
    return rb_page_down(base - img->min_vaddr);
}
