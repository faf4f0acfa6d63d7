/* The VM suite's AT_PHDR check (Tests/SystemTests/VM/suite/run.sh): kernels before 5.18 compute AT_PHDR as the
 * first PT_LOAD's p_vaddr - p_offset + e_phoff, later ones from PT_PHDR; a sealed program's table
 * lives in its appended segment, which bottle(5) places so that both rules agree. Reads this
 * program's headers from its file and checks that the kernel's AT_PHDR is where both rules put
 * them and that the bytes there are the file's table. Prints one line; exit 0 when all hold. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(void)
{
    unsigned long at_phdr = getauxval(AT_PHDR), at_entry = getauxval(AT_ENTRY);
    unsigned long at_phnum = getauxval(AT_PHNUM);
    ElfW(Ehdr) eh;
    static ElfW(Phdr) ph[256];
    int fd = open("/proc/self/exe", O_RDONLY);
    if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh)) {
        printf("cannot read /proc/self/exe\n");
        return 1;
    }
    size_t size = (size_t)eh.e_phnum * sizeof(ElfW(Phdr));
    if (eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum > 256 ||
        pread(fd, ph, size, (off_t)eh.e_phoff) != (ssize_t)size) {
        printf("cannot read the program headers (e_phoff %#lx, e_phnum %u)\n",
               (unsigned long)eh.e_phoff, eh.e_phnum);
        return 1;
    }
    const ElfW(Phdr) *pt_phdr = 0, *first_load = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_PHDR && !pt_phdr)
            pt_phdr = &ph[i];
        if (ph[i].p_type == PT_LOAD && !first_load)
            first_load = &ph[i];
    }
    if (!pt_phdr || !first_load) {
        printf("no PT_PHDR or no PT_LOAD in the file\n");
        return 1;
    }
    unsigned long bias = at_entry - eh.e_entry;
    unsigned long by_phdr = bias + pt_phdr->p_vaddr;
    unsigned long by_load = bias + first_load->p_vaddr - first_load->p_offset + eh.e_phoff;
    int moved = eh.e_phoff != eh.e_ehsize;
    int same = at_phdr == by_phdr && memcmp((const void *)at_phdr, ph, size) == 0;
    printf("e_phoff %#lx (%s), AT_PHDR bias+%#lx, PT_PHDR rule bias+%#lx, first-PT_LOAD rule "
           "bias+%#lx, AT_PHNUM %lu of %u, table bytes %s\n",
           (unsigned long)eh.e_phoff, moved ? "moved by the seal" : "NOT moved: not a sealed file",
           at_phdr - bias, by_phdr - bias, by_load - bias, at_phnum, eh.e_phnum,
           same ? "identical" : "DIFFERENT");
    return moved && same && by_load == by_phdr && at_phnum == eh.e_phnum ? 0 : 1;
}
