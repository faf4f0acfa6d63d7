/* The status canary's loader: a freestanding static-pie standing in for a bottle's ld.so. It
 * reports, one "key value" line each, what runbottle handed it (argv, auxv, /proc/self/exe,
 * comm, cmdline, open descriptors, where its trampoline came from) and whether AT_PHDR/AT_ENTRY
 * describe the mapped program, then exits 0 without running the program. */
#include <stddef.h>
#include <stdint.h>
#include <elf.h>
#include "arch.h"

/* <fcntl.h>'s values, which a freestanding build does not include. */
#define AT_FDCWD_ (-100)
#define F_GETFD_ 1

extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static char out[16384];
static size_t used;

static void flush(void)
{
    size_t done = 0;
    while (done < used) {
        long n = rb_syscall6(RB_SYS_write, 1, (long)(out + done), (long)(used - done), 0, 0, 0);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    used = 0;
}

static void put(const char *s)
{
    while (*s) {
        if (used == sizeof out)
            flush();
        /* A newline inside a value would split its line: show it as a space. */
        out[used++] = *s == '\n' ? ' ' : *s;
        s++;
    }
}

static void put_raw_newline(void)
{
    if (used == sizeof out)
        flush();
    out[used++] = '\n';
}

static void put_hex(uint64_t v)
{
    char buf[19];
    int i = 18;
    buf[i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v && i > 2);
    buf[--i] = 'x';
    buf[--i] = '0';
    put(buf + i);
}

static void put_dec(uint64_t v)
{
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(buf + i);
}

static void line(const char *key, const char *value)
{
    put(key);
    put(" ");
    put(value);
    put_raw_newline();
}

static void line_hex(const char *key, uint64_t v)
{
    put(key);
    put(" ");
    put_hex(v);
    put_raw_newline();
}

static void put_link_value(const char *path)
{
    char target[4096];
    long n = rb_syscall6(RB_SYS_readlinkat, AT_FDCWD_, (long)path, (long)target, sizeof target - 1,
                         0, 0);
    if (n < 0) {
        put("(unreadable)");
        return;
    }
    target[n] = 0;
    put(target);
}

static void put_link(const char *key, const char *path)
{
    put(key);
    put(" ");
    put_link_value(path);
    put_raw_newline();
}

/* Reads a small /proc file; NULs (cmdline's separators) become '|'. */
static void put_file(const char *key, const char *path)
{
    char buf[4096];
    long fd = rb_syscall6(RB_SYS_openat, AT_FDCWD_, (long)path, 0, 0, 0, 0);
    if (fd < 0) {
        line(key, "(unreadable)");
        return;
    }
    long n = rb_syscall6(RB_SYS_read, fd, (long)buf, sizeof buf - 1, 0, 0, 0);
    rb_syscall6(RB_SYS_close, fd, 0, 0, 0, 0, 0);
    if (n < 0)
        n = 0;
    for (long i = 0; i < n; i++)
        if (buf[i] == 0)
            buf[i] = '|';
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = 0;
    line(key, buf);
}

/* Whether runbottle left its trampoline in a memfd copy, as it does when the binary's PT_INTERP
 * slot does not carry the trampoline it recognizes (bottle(5)): a cost on every exec. */
static void put_trampoline(void)
{
    static const char needle[] = "/memfd:runbottle";
    char maps[8192];
    long fd = rb_syscall6(RB_SYS_openat, AT_FDCWD_, (long)"/proc/self/maps", 0, 0, 0, 0);
    if (fd < 0) {
        line("trampoline", "(unreadable)");
        return;
    }
    long total = 0, n;
    while (total < (long)sizeof maps - 1
           && (n = rb_syscall6(RB_SYS_read, fd, (long)(maps + total), (long)sizeof maps - 1 - total, 0, 0, 0)) > 0)
        total += n;
    rb_syscall6(RB_SYS_close, fd, 0, 0, 0, 0, 0);
    int found = 0;
    for (long i = 0; !found && i + (long)sizeof needle - 1 <= total; i++) {
        long k = 0;
        while (needle[k] && maps[i + k] == needle[k])
            k++;
        found = needle[k] == 0;
    }
    line("trampoline", found ? "memfd" : "no-memfd");
}

__attribute__((noreturn, used)) void canary_main(uintptr_t *sp)
{
    long argc = (long)sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    while (*envp)
        envp++;
    Elf64_auxv_t *aux = (Elf64_auxv_t *)(envp + 1);

    line("canary", "loader");
    /* Explicit mode, as runbottle runs a loader it cannot give /proc/self/exe to:
     * "LOADER --argv0 ARGV0 PROGRAM ARGS...". Report the argv a real ld.so would hand on. */
    static const char opt[] = "--argv0";
    int explicit_mode = argc >= 4;
    for (int i = 0; explicit_mode && i < (int)sizeof opt; i++)
        explicit_mode = argv[1][i] == opt[i];
    line("mode", explicit_mode ? "explicit" : "native");
    if (explicit_mode) {
        line("program", argv[3]);
        line("argv", argv[2]);
        for (long i = 4; i < argc; i++)
            line("argv", argv[i]);
    } else {
        for (long i = 0; i < argc; i++)
            line("argv", argv[i]);
    }

    uint64_t at_phdr = 0, at_phnum = 0, at_entry = 0, at_base = 0, at_secure = 0;
    int have_execfd = 0;
    for (; aux->a_type != AT_NULL; aux++) {
        switch (aux->a_type) {
        case AT_PHDR: at_phdr = aux->a_un.a_val; break;
        case AT_PHNUM: at_phnum = aux->a_un.a_val; break;
        case AT_ENTRY: at_entry = aux->a_un.a_val; break;
        case AT_BASE: at_base = aux->a_un.a_val; break;
        case AT_SECURE: at_secure = aux->a_un.a_val; break;
        case AT_EXECFD: have_execfd = 1; break;
        default: break;
        }
    }
    line_hex("at_phdr", at_phdr);
    line_hex("at_entry", at_entry);
    line_hex("at_base", at_base);
    line_hex("self_base", (uint64_t)(uintptr_t)__ehdr_start);
    line("at_execfd", have_execfd ? "present" : "absent");
    line("at_secure", at_secure ? "1" : "0");

    /* The program as mapped: its load bias from PT_PHDR, then its ELF header through the first
     * PT_LOAD (which maps file offset 0 in a sealed binary). */
    const char *verdict = "no-phdr";
    if (at_phdr && at_phnum > 0 && at_phnum < 256) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(uintptr_t)at_phdr;
        uint64_t bias = 0, header = 0;
        int have_bias = 0, have_header = 0;
        for (uint64_t i = 0; i < at_phnum; i++) {
            if (ph[i].p_type == PT_PHDR) {
                bias = at_phdr - ph[i].p_vaddr;
                have_bias = 1;
            }
        }
        for (uint64_t i = 0; have_bias && i < at_phnum; i++) {
            if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
                header = bias + ph[i].p_vaddr;
                have_header = 1;
                break;
            }
        }
        if (!have_bias) {
            verdict = "no-pt-phdr";
        } else if (!have_header) {
            verdict = "no-header-mapping";
        } else {
            const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(uintptr_t)header;
            const char *name = (const char *)(uintptr_t)(header + eh->e_ehsize + 12);
            if (eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E')
                verdict = "header-not-elf";
            else if (bias + eh->e_entry != at_entry)
                verdict = "entry-mismatch";
            else if (eh->e_phnum != at_phnum)
                verdict = "phnum-mismatch";
            else if (name[0] != 'B' || name[1] != 'O' || name[5] != 'E')
                verdict = "note-missing";
            else
                verdict = "ok";
        }
    }
    line("program_mapping", verdict);

    put_link("exe", "/proc/self/exe");
    put_file("comm", "/proc/self/comm");
    put_file("cmdline", "/proc/self/cmdline");
    put_trampoline();
    for (int fd = 3; fd < 64; fd++) {
        if (rb_syscall6(RB_SYS_fcntl, fd, F_GETFD_, 0, 0, 0, 0) < 0)
            continue;
        static const char prefix[] = "/proc/self/fd/";
        char path[24];
        int n = 0;
        for (; prefix[n]; n++)
            path[n] = prefix[n];
        if (fd >= 10)
            path[n++] = (char)('0' + fd / 10);
        path[n++] = (char)('0' + fd % 10);
        path[n] = 0;
        put("fd ");
        put_dec((uint64_t)fd);
        put(" ");
        put_link_value(path);
        put_raw_newline();
    }
    line("end", "ok");
    flush();
    for (;;)
        rb_syscall6(RB_SYS_exit_group, 0, 0, 0, 0, 0, 0);
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n"
        "xor %rbp, %rbp\nmov %rsp, %rdi\nand $-16, %rsp\ncall canary_main\nhlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n"
        "mov x29, #0\nmov x30, #0\nmov x0, sp\nand sp, x0, #-16\nbl canary_main\n");
#endif
