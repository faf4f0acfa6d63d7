/* aarch64: raw system calls, syscall numbers and the kernel's layout constants (4 KiB pages,
 * 48-bit addresses; kernels built with 16 or 64 KiB pages are not supported). */
#ifndef RB_ARCH_H
#define RB_ARCH_H

#include <stdint.h>

#define RB_EM_HOST        183         /* EM_AARCH64 */
#define RB_ARCH_NAME      "aarch64"
/* ELF_ET_DYN_BASE (arch/arm64/include/asm/elf.h): 2/3 of DEFAULT_MAP_WINDOW_64 (48 bits). */
#define RB_ELF_ET_DYN_BASE 0xaaaaaaaaaaaaull
/* CONFIG_ARCH_MMAP_RND_BITS default 18; arch_randomize_brk: 1 GiB for 64-bit tasks. */
#define RB_MMAP_RND_BITS  18
#define RB_BRK_RND_BITS   18
/* STACK_TOP of a 64-bit task: DEFAULT_MAP_WINDOW_64, 1 << VA_BITS up to 48 bits. */
#define RB_STACK_TOPS     { 1ull << 39, 1ull << 42, 1ull << 47, 1ull << 48 }

/* open(2) flags: these differ between architectures. */
#define RB_O_RDONLY    0
#define RB_O_NONBLOCK  04000
#define RB_O_DIRECTORY 040000
#define RB_O_NOFOLLOW  0100000
#define RB_O_CLOEXEC   02000000
#define RB_O_PATH      010000000

/* The generic syscall table (include/uapi/asm-generic/unistd.h). */
#define RB_SYS_read        63
#define RB_SYS_write       64
#define RB_SYS_fcntl       25
#define RB_SYS_close       57
#define RB_SYS_mmap        222
#define RB_SYS_mprotect    226
#define RB_SYS_munmap      215
#define RB_SYS_brk         214
#define RB_SYS_pread64     67
#define RB_SYS_getcwd      17
#define RB_SYS_capget      90
#define RB_SYS_prctl       167
#define RB_SYS_exit_group  94
#define RB_SYS_openat      56
#define RB_SYS_readlinkat  78
#define RB_SYS_getrandom   278
#define RB_SYS_statx       291
#define RB_SYS_pwrite64    68
#define RB_SYS_memfd_create 279

static inline long rb_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

static inline void rb_arch_zero(void *p, uint64_t n)
{
    volatile unsigned char *d = p;
    while (n--)
        *d++ = 0;
}

#endif
