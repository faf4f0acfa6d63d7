/* The seal format: the one definition that runbottle (C) and binfmt-reg (Swift) both read.
 * bottle(5) is its user-facing specification; keep the two in step. */
#ifndef BOTTLE_FORMAT_H
#define BOTTLE_FORMAT_H

/* A sealed binary carries one ELF note right after its ELF header, at file offset e_ehsize
 * (64 for ELFCLASS64, 52 for ELFCLASS32), because binfmt_misc matches magic bytes only within
 * the first BINPRM_BUF_SIZE bytes of a file (256 since Linux 5.1, 128 before). The program
 * header table that lived there moves to a PT_LOAD appended at the end of the file.
 *
 *   offset 0   u32 n_namesz = BOTTLE_NOTE_NAMESZ
 *          4   u32 n_descsz = BOTTLE_DESC_HEADER_SIZE + loader_len + 1, rounded up to 4
 *          8   u32 n_type   = BOTTLE_NT_SEAL or BOTTLE_NT_SEAL_PRIVILEGED
 *         12   "BOTTLE\0\0"  (name and its padding to 4)
 *         20   desc: u32 version = BOTTLE_FORMAT_VERSION
 *         24         u32 loader_len  (bytes, without the NUL; 1 .. BOTTLE_LOADER_PATH_MAX)
 *         28         loader path, NUL-terminated, zero-padded to 4: relative to the directory
 *                    holding the binary's real path; never absolute, never empty
 * All integers are in the file's own byte order (EI_DATA). */
#define BOTTLE_NOTE_NAME           "BOTTLE"
#define BOTTLE_NOTE_NAMESZ         7u
#define BOTTLE_NOTE_NAME_PADDED    8u
#define BOTTLE_NOTE_HEADER_SIZE    20u   /* namesz, descsz, type, padded name */
#define BOTTLE_DESC_HEADER_SIZE    8u    /* version, loader_len */
#define BOTTLE_FORMAT_VERSION      1u

/* The note type is the dispatch: whether binfmt_misc takes the binary. BOTTLE_NT_SEAL and
 * BOTTLE_NT_SEAL_PRIVILEGED are matched by the BOTTLE and BOTTLE-privileged entries (binfmt
 * dispatch; both entries have flag C since format 1's second revision, so the two types now
 * differ only in which entry matches them). No entry matches BOTTLE_NT_SEAL_INTERP: the
 * kernel's own ELF loader execs the binary natively and starts the program interpreter its
 * PT_INTERP slot names, runbottle at BOTTLE_RUNBOTTLE_PATH (PT_INTERP dispatch). Every seal
 * writes that path into the slot, so a binfmt-dispatched binary still runs where no entry is
 * registered. */
#define BOTTLE_NT_SEAL             1u
#define BOTTLE_NT_SEAL_PRIVILEGED  2u
#define BOTTLE_NT_SEAL_INTERP      3u

/* Where runbottle is installed: the one absolute path a PT_INTERP slot can name whatever
 * directory the bottle is in. */
#define BOTTLE_RUNBOTTLE_PATH      "/usr/libexec/runbottle"

/* PATH_MAX: the reserved PT_INTERP slot is exactly this many bytes. The kernel refuses a
 * PT_INTERP with p_filesz > PATH_MAX (ENOEXEC) and requires its last byte to be NUL. */
#define BOTTLE_INTERP_SLOT_SIZE    4096u
#define BOTTLE_LOADER_PATH_MAX     4095u

/* The slot's tail (format 1, third revision): from this offset in the slot, the bytes of the
 * trampoline (os/<arch>/start.S) of runbottle's port to the binary's machine, which binfmt-reg
 * carries for every port, when the path's NUL comes before it; NULs otherwise (no port). The
 * kernel reads the slot only up to the path's NUL. Under the binfmt dispatch
 * runbottle maps them read and execute from the binary to set /proc/self/exe, after checking
 * that they equal its own trampoline; when they do not, it copies its trampoline into a memfd,
 * which costs about 20 microseconds more per exec. */
#define BOTTLE_SLOT_TRAMPOLINE_OFFSET 3072u
#define BOTTLE_SLOT_TRAMPOLINE_MAX    1023u   /* to the slot's last byte, which stays NUL */

/* runbottle's own ELF notes (os/runbottle_note.inc), named "runbottle": type 1 gives the
 * debugger rendezvous's offset from the entry point (gdb/runbottle.py), type 2 the
 * trampoline's offset from the entry point and its length, each a 64-bit word, from which
 * binfmt-reg fills the slot's tail. */
#define RUNBOTTLE_NOTE_NAME           "runbottle"
#define RUNBOTTLE_NT_RENDEZVOUS       1
#define RUNBOTTLE_NT_TRAMPOLINE       2

/* binfmt_misc magic: bytes [0, BOTTLE_MAGIC_LEN) of the file, under a mask that keeps
 * e_ident[EI_MAG0..EI_VERSION], e_machine, and the note's namesz, type and padded name;
 * everything else (OS ABI, e_type, descsz, ...) is masked out. Offset + length must stay
 * within 128 bytes so that kernels before 5.1 can match it too. */
#define BOTTLE_NOTE_OFFSET_64      64u
#define BOTTLE_NOTE_OFFSET_32      52u
#define BOTTLE_MAGIC_LEN_64        (BOTTLE_NOTE_OFFSET_64 + BOTTLE_NOTE_HEADER_SIZE)  /* 84 */
#define BOTTLE_MAGIC_LEN_32        (BOTTLE_NOTE_OFFSET_32 + BOTTLE_NOTE_HEADER_SIZE)  /* 72 */

/* The most runbottle reads from offset e_ehsize to find the whole note. */
#define BOTTLE_NOTE_MAX_SIZE \
    (BOTTLE_NOTE_HEADER_SIZE + BOTTLE_DESC_HEADER_SIZE + BOTTLE_LOADER_PATH_MAX + 1u)

#endif
