/* The syscall layer's shared declarations: system call wrappers, the files runbottle works on,
 * and the trampoline's table. */
#ifndef RUNBOTTLE_OS_H
#define RUNBOTTLE_OS_H

#include <stddef.h>
#include <stdint.h>
#include "arch.h"
#include "runbottle_core.h"
#include "trampoline_layout.h"

#define RB_AT_FDCWD       (-100)
#define RB_AT_EMPTY_PATH  0x1000
#define RB_AT_SYMLINK_NOFOLLOW 0x100
#define RB_STATX_BASIC    (0x1u | 0x2u | 0x8u | 0x100u | 0x200u)   /* type, mode, uid, ino, size */
#define RB_S_IFMT         0170000
#define RB_S_IFREG        0100000
#define RB_PROT_READ      1
#define RB_PROT_WRITE     2
#define RB_PROT_EXEC      4
#define RB_PROT_GROWSDOWN 0x01000000
#define RB_MAP_PRIVATE    0x02
#define RB_MAP_FIXED      0x10
#define RB_MAP_ANONYMOUS  0x20
#define RB_MAP_FIXED_NOREPLACE 0x100000
#define RB_MAP_POPULATE   0x8000
/* memfd_create(2) flags; MFD_EXEC since Linux 6.3 (vm.memfd_noexec). */
#define RB_MFD_CLOEXEC    0x1
#define RB_MFD_EXEC       0x10
#define RB_EXIT_NOEXEC    126
#define RB_EXIT_NOTFOUND  127

static inline long rb_sys(long n, long a, long b, long c) { return rb_syscall6(n, a, b, c, 0, 0, 0); }

/* The fields of struct statx runbottle reads; the kernel writes all 256 bytes. */
struct rb_statx {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, pad;
    uint64_t ino, size, blocks, attributes_mask;
    uint8_t times[64];
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint8_t rest[112];
};

_Static_assert(sizeof(struct rb_statx) == 256, "struct statx is 256 bytes");

#define PR_SET_MM 35
#define PR_SET_MM_MAP 14

/* struct prctl_mm_map (include/uapi/linux/prctl.h). */
struct rb_mm_map {
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t auxv;
    uint32_t auxv_size, exe_fd;
};

/* A binary or loader: its descriptor and its plan. */
struct rb_file {
    int fd;
    uint64_t size, ino;
    uint32_t mode, uid, dev_major, dev_minor;
    struct rb_image img;
    uint64_t bias;
};

/* Every page of stack runbottle touches is a page fault on every exec (several microseconds
 * each where faults trap to a hypervisor), so buffers are sized for the usual case and grow
 * only when a file needs more. RB_BIN_HEAD: the binary's first read, the ELF header and a
 * BOTTLE note with a loader path of up to 160 bytes. RB_LD_HEAD: the loader's, its ELF header
 * and up to 12 program headers. */
#define RB_BIN_HEAD 256u
#define RB_LD_HEAD 768u
/* Both paths (the binary's canonical path and the loader's), when they fit; else RB_PATHS_MAX. */
#define RB_PATHS_USUAL 512u
#define RB_PATHS_MAX (4096u + 8192u)

/* One call the trampoline makes. os/<arch>/start.S reads it at the offsets of
 * trampoline_layout.h, which the assertions below hold to this layout. */
struct rb_tramp_call {
    uint64_t nr, a[6], fatal;
};

#define RB_TRAMP_MAX_CALLS 8
struct rb_tramp {
    uint64_t ncalls;
    uint64_t msg, msglen;   /* written if a fatal call fails */
    uint64_t sp, entry;
    struct rb_tramp_call call[RB_TRAMP_MAX_CALLS];
};

_Static_assert(offsetof(struct rb_tramp, ncalls) == RB_TRAMP_NCALLS, "start.S: ncalls");
_Static_assert(offsetof(struct rb_tramp, msg) == RB_TRAMP_MSG, "start.S: msg");
_Static_assert(offsetof(struct rb_tramp, msglen) == RB_TRAMP_MSGLEN, "start.S: msglen");
_Static_assert(offsetof(struct rb_tramp, sp) == RB_TRAMP_SP, "start.S: sp");
_Static_assert(offsetof(struct rb_tramp, entry) == RB_TRAMP_ENTRY, "start.S: entry");
_Static_assert(offsetof(struct rb_tramp, call) == RB_TRAMP_CALLS, "start.S: calls");
_Static_assert(offsetof(struct rb_tramp_call, nr) == RB_TRAMP_CALL_NR, "start.S: nr");
_Static_assert(offsetof(struct rb_tramp_call, a[0]) == RB_TRAMP_CALL_ARG0, "start.S: a[0]");
_Static_assert(offsetof(struct rb_tramp_call, a[2]) == RB_TRAMP_CALL_ARG2, "start.S: a[2]");
_Static_assert(offsetof(struct rb_tramp_call, a[4]) == RB_TRAMP_CALL_ARG4, "start.S: a[4]");
_Static_assert(offsetof(struct rb_tramp_call, fatal) == RB_TRAMP_CALL_FATAL, "start.S: fatal");
_Static_assert(sizeof(struct rb_tramp_call) == RB_TRAMP_CALL_SIZE, "start.S: call size");

/* Clears n bytes (the arch's fastest simple way). */
static inline void rb_zero(void *p, uint64_t n) { rb_arch_zero(p, n); }

/* out.c: messages on stderr. */
const char *rb_strerror(long err);
__attribute__((noreturn)) void rb_die(int status, const char *path, const char *what,
                                      const char *detail);
void rb_say(const char *path, const char *what, const char *detail);
size_t rb_concat(char *out, size_t outsz, const char *const *parts, size_t nparts);

/* files.c: opening and reading. */
long rb_stat_fd(int fd, struct rb_statx *stx);
int rb_read_image(struct rb_file *f, uint8_t *head, size_t head_len, size_t *got);
long rb_pread(int fd, void *buf, size_t len, uint64_t off);
long rb_real_path(int fd, const char *given, char *out, size_t outsz);
long rb_exe_path(const char *given, char *out, size_t outsz);
int rb_is_regular(const char *path);
/* Reports a loader that cannot be opened (opened 0) or used (opened 1), and exits. */
__attribute__((noreturn)) void rb_loader_failed(const char *name, const char *loader_path, long rc,
                                                int opened, int secure);
int rb_same_file(const struct rb_file *f, const char *path);
long rb_open_loader(const char *path, int trusted_only, struct rb_file *f, int *opened);

/* mm.c: the process's mm fields. */
void rb_mm_strings(struct rb_mm_map *mm, char *const *argv, uint64_t argc, char *const *envp,
                   uint64_t envc);
long rb_set_mm(const struct rb_mm_map *mm);

/* interp.c: the PT_INTERP dispatch. */
__attribute__((noreturn)) void rb_exec_interp(struct rb_stack *st);

/* map.c: mapping an image the way fs/binfmt_elf.c does. */
long rb_map_image(struct rb_file *f, uint64_t hint, int fixed);

/* Benchmarks/exec-runbottle.sh --stages builds runbottle with RB_BENCH_STAGE=N to exit at stage
 * N, so each stage's cost shows as a difference between builds. Nothing in a normal build.
 * Stages: 1 entry, 2 both files read and checked, 3 program and loader mapped, 4 the program's mm
 * fields installed, 5 the trampoline page ready, 6 (start.S) its calls made: exe switched. */
#ifdef RB_BENCH_STAGE
#define RB_STAGE(n) do { if ((n) == RB_BENCH_STAGE) rb_sys(RB_SYS_exit_group, 0, 0, 0); } while (0)
#else
#define RB_STAGE(n) do { } while (0)
#endif

/* The trampoline and the debugger rendezvous in os/<arch>/start.S. Hidden: referenced
 * PC-relative, not through a GOT entry that nothing here would relocate. */
#define RB_HIDDEN __attribute__((visibility("hidden")))
extern const char rb_trampoline[] RB_HIDDEN, rb_trampoline_end[] RB_HIDDEN;
RB_HIDDEN void rb_debug_state(void);

#endif
