/* The pure half of runbottle: parsing and planning with no syscalls, callable from Swift tests. */
#ifndef RUNBOTTLE_CORE_H
#define RUNBOTTLE_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "bottle_format.h"
#include "rb_bytes.h"

/* Error codes shared by the pure functions; runbottle maps each to one message. */
enum rb_error {
    RB_OK = 0,
    RB_ENOTSEALED = -1000,   /* no BOTTLE note at e_ehsize */
    RB_EBADNOTE = -1001,     /* a BOTTLE note whose fields are out of range */
    RB_EVERSION = -1002,     /* a seal format version this runbottle does not know */
    RB_ENOTELF = -1003,      /* no ELF magic, or not the class/data/version of this host */
    RB_EARCH = -1004,        /* e_machine is not the host's */
    RB_ETYPE = -1005,        /* neither ET_EXEC nor ET_DYN (or the loader is not ET_DYN) */
    RB_ECORRUPT = -1006,     /* headers out of bounds, overlapping or misaligned segments */
    RB_ESTACK = -1007,       /* the initial stack is not what the kernel builds */
    RB_EUNTRUSTED = -1008,   /* under AT_SECURE, the loader or a directory above it is unsafe */
    RB_ENOTREG = -1009,      /* a directory, FIFO or device where a file was expected */
};

/* A parsed BOTTLE note. loader points into the caller's buffer. */
struct rb_note {
    uint32_t type;           /* BOTTLE_NT_SEAL, _PRIVILEGED or _INTERP */
    uint32_t version;
    uint32_t loader_len;
    const char *loader;      /* NUL-terminated, relative */
    uint32_t size;           /* bytes the whole note occupies */
};

/* Parses the note at the start of buf (the bytes at file offset e_ehsize). big_endian selects
 * the byte order of the file. Returns RB_OK or a negative rb_error. */
int rb_note_parse(const uint8_t *buf, size_t len, int big_endian, struct rb_note *out);

/* ---- ELF validation and the load plan (ELFCLASS64, host byte order) ---- */

/* fs/binfmt_elf.c refuses a program header table larger than this (load_elf_phdrs). */
#define RB_PHDR_MAX_BYTES   4096u
#define RB_MAX_LOADS        16u

/* One PT_LOAD as it will be mapped, relative to the image's load bias. */
struct rb_segment {
    uint64_t vaddr;          /* p_vaddr */
    uint64_t offset;         /* p_offset */
    uint64_t filesz;
    uint64_t memsz;
    uint32_t prot;           /* PROT_READ/WRITE/EXEC bits from p_flags */
};

/* A validated image: what the mapper and the auxv fix-up need. */
struct rb_image {
    uint16_t type;           /* ET_EXEC or ET_DYN */
    uint16_t phnum;
    uint64_t entry;          /* e_entry, unbiased */
    uint64_t phoff;          /* e_phoff */
    uint64_t phdr_vaddr;     /* where the program headers are in memory, unbiased */
    uint64_t min_vaddr;      /* page-aligned start of the lowest PT_LOAD */
    uint64_t max_vaddr;      /* page-aligned end of the highest PT_LOAD (memsz) */
    uint64_t align;          /* largest PT_LOAD p_align that is a power of two, >= page size */
    uint32_t nload;
    int exec_stack;          /* PT_GNU_STACK with PF_X */
    int has_interp;          /* PT_INTERP present */
    uint64_t interp_offset;  /* its p_offset and p_filesz (0 without one) */
    uint64_t interp_size;
    struct rb_segment load[RB_MAX_LOADS];
    /* The kernel's mm fields (fs/binfmt_elf.c load_elf_binary), unbiased. */
    uint64_t start_code, end_code, start_data, end_data, brk;
};

/* Validates the ELF header in ehdr (at least 64 bytes) against file_size and the host machine.
 * Returns RB_OK or RB_ENOTELF / RB_EARCH / RB_ETYPE / RB_ECORRUPT. On success *phoff and
 * *phsize say which bytes hold the program header table. */
int rb_elf_check_header(const uint8_t *ehdr, size_t len, uint64_t file_size, uint16_t machine,
                        uint64_t *phoff, uint32_t *phsize);

/* Validates the program headers (phsize bytes) and fills the plan. */
int rb_elf_plan(const uint8_t *ehdr, const uint8_t *phdrs, uint32_t phsize, uint64_t file_size,
                struct rb_image *out);

/* The load bias for an ET_DYN main program, as fs/binfmt_elf.c picks it: ELF_ET_DYN_BASE plus
 * random pages (rnd_pages already masked to mmap_rnd_bits), aligned to the image's alignment,
 * minus the image's lowest address. */
uint64_t rb_dyn_bias(const struct rb_image *img, uint64_t et_dyn_base, uint64_t rnd_pages);

/* ---- The initial stack: argc, argv, envp, auxv ---- */

struct rb_stack {
    uint64_t *sp;            /* &argc */
    uint64_t argc;
    char **argv;
    char **envp;
    uint64_t envc;
    uint64_t *auxv;          /* pairs, ends with AT_NULL */
    uint64_t auxc;           /* pairs, AT_NULL included */
};

/* Parses the stack at sp, reading no word at or beyond end. */
int rb_stack_parse(uint64_t *sp, const uint64_t *end, struct rb_stack *out);

/* Whether the kernel randomized the layout of this exec, from where the AT_EXECFN string
 * (execfn_len bytes and its NUL) ends: setup_arg_pages() puts an unrandomized stack's top at
 * STACK_TOP exactly, and the string ends one pointer below it. tops: the arch's possible
 * STACK_TOP values. Catches both ADDR_NO_RANDOMIZE and kernel.randomize_va_space = 0. */
int rb_layout_randomized(uint64_t execfn, uint64_t execfn_len, const uint64_t *tops, size_t ntops);

/* The auxv value for type, or dflt when absent. */
uint64_t rb_auxv_get(const struct rb_stack *st, uint64_t type, uint64_t dflt);

/* What the program's auxv must say. */
struct rb_auxv_fix {
    uint64_t phdr, phent, phnum, entry, base;
    uint64_t secure;
    uint64_t execfn;         /* 0: leave AT_EXECFN alone */
};

/* Rewrites the auxv in place: sets AT_PHDR..AT_BASE, AT_SECURE, AT_EXECFN (when given), clears
 * AT_FLAGS, and removes AT_EXECFD (glibc's loader would load the program from that fd). Returns the number of
 * pairs left, AT_NULL included. */
uint64_t rb_auxv_rewrite(uint64_t *auxv, uint64_t auxc, const struct rb_auxv_fix *fix);

/* Builds a new initial stack block at dst (dst_words long): argc and argv made of `prefix`
 * (nprefix pointers) then the original argv from index `skip`, the original envp, and the
 * original auxv (copied, for rb_auxv_rewrite to fix). Returns the words written or -ENOSPC. */
int64_t rb_stack_build(const struct rb_stack *st, char *const *prefix, uint64_t nprefix,
                       uint64_t skip, uint64_t *dst, uint64_t dst_words);

/* The words rb_stack_build needs. */
uint64_t rb_stack_words(const struct rb_stack *st, uint64_t nprefix, uint64_t skip);

/* ---- Paths ---- */

size_t rb_strlen(const char *s);

/* Writes dirname(path) + "/" + rel into out (NUL-terminated). Returns length or -ENAMETOOLONG. */
int64_t rb_path_sibling(const char *path, const char *rel, char *out, size_t outsz);

/* readlink for rb_path_resolve: returns the target length, -EINVAL for a non-symlink, or
 * another negative errno. */
typedef int64_t (*rb_readlink_fn)(void *ctx, const char *path, char *buf, size_t bufsz);

/* Resolves path (relative to cwd when not absolute) to an absolute path without ".", ".." or
 * symlinks, following each symlink component by component (at most 40, like the kernel's
 * MAXSYMLINKS; -ELOOP beyond). out must hold 4096 bytes. Returns the length or negative errno. */
int64_t rb_path_resolve(const char *cwd, const char *path, rb_readlink_fn rl, void *ctx,
                        char *out);

/* ---- Privilege ---- */

/* A file or directory trusted under AT_SECURE: root-owned, not writable by group or others. */
int rb_trusted_owner_mode(uint32_t uid, uint32_t mode);

#endif
