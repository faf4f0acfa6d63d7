/* Raw system calls for the canary, one block per architecture (no libc in a freestanding build). */
#ifndef CANARY_SYSCALL_H
#define CANARY_SYSCALL_H

#if defined(__x86_64__)
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_fcntl 72
#define NR_openat 257
#define NR_readlinkat 267
#define NR_exit_group 231
static inline long sys3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile ("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}
static inline long sys4(long n, long a, long b, long c, long d)
{
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile ("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                      : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
#define NR_read 63
#define NR_write 64
#define NR_close 57
#define NR_fcntl 25
#define NR_openat 56
#define NR_readlinkat 78
#define NR_exit_group 94
static inline long sys4(long n, long a, long b, long c, long d)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile ("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
static inline long sys3(long n, long a, long b, long c) { return sys4(n, a, b, c, 0); }
#else
#error "the canary has no system call block for this architecture"
#endif

#define AT_FDCWD_ (-100)
#define F_GETFD_ 1

#endif
