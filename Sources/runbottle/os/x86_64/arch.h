/* x86-64: raw system calls, syscall numbers and the kernel's layout constants. */
#ifndef RB_ARCH_H
#define RB_ARCH_H

#include <stdint.h>

#define RB_EM_HOST        62          /* EM_X86_64 */
#define RB_ARCH_NAME      "x86-64"
/* ELF_ET_DYN_BASE (arch/x86/include/asm/elf.h): 2/3 of the 47-bit DEFAULT_MAP_WINDOW. */
#define RB_ELF_ET_DYN_BASE 0x555555554aaaull
/* mmap_rnd_bits default (CONFIG_ARCH_MMAP_RND_BITS) and arch_randomize_brk's range for a
 * 64-bit task, 1 GiB in pages (2^18): 300 native execs on Linux 6.18 put brk 0-1022 MiB above
 * the program's end. */
#define RB_MMAP_RND_BITS  28
#define RB_BRK_RND_BITS   18
/* STACK_TOP of a 64-bit task (TASK_SIZE_LOW, also with 5-level paging). */
#define RB_STACK_TOPS     { 0x7ffffffff000ull }

/* open(2) flags: these differ between architectures. */
#define RB_O_RDONLY    0
#define RB_O_NONBLOCK  04000
#define RB_O_DIRECTORY 0200000
#define RB_O_NOFOLLOW  0400000
#define RB_O_CLOEXEC   02000000
#define RB_O_PATH      010000000

#define RB_SYS_read        0
#define RB_SYS_write       1
#define RB_SYS_close       3
#define RB_SYS_mmap        9
#define RB_SYS_mprotect    10
#define RB_SYS_munmap      11
#define RB_SYS_brk         12
#define RB_SYS_pread64     17
#define RB_SYS_getcwd      79
#define RB_SYS_fcntl       72
#define RB_SYS_capget      125
#define RB_SYS_prctl       157
#define RB_SYS_exit_group  231
#define RB_SYS_openat      257
#define RB_SYS_readlinkat  267
#define RB_SYS_getrandom   318
#define RB_SYS_statx       332
#define RB_SYS_pwrite64    18
#define RB_SYS_memfd_create 319

static inline long rb_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline void rb_arch_zero(void *p, uint64_t n)
{
    __asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(0) : "memory");
}

#endif
