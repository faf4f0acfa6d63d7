/* Opening and reading the binary and its loader: real paths, headers, the trusted walk. */
#include <elf.h>
#include <errno.h>
#include "runbottle_os.h"

long rb_stat_fd(int fd, struct rb_statx *stx)
{
    return rb_syscall6(RB_SYS_statx, fd, (long)"", RB_AT_EMPTY_PATH, RB_STATX_BASIC, (long)stx, 0);
}

long rb_pread(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        long n = rb_syscall6(RB_SYS_pread64, fd, (long)((char *)buf + got), (long)(len - got),
                             (long)(off + got), 0, 0);
        if (n == -EINTR)
            continue;
        if (n < 0)
            return n;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (long)got;
}

/* Reads head_len bytes from offset 0 (the ELF header, and for the binary the start of the
 * BOTTLE note), then the program headers when they lie beyond, and validates both. */
int rb_read_image(struct rb_file *f, uint8_t *head, size_t head_len, size_t *got)
{
    struct rb_statx stx;
    long r = rb_stat_fd(f->fd, &stx);
    if (r < 0)
        return (int)r;
    if ((stx.mode & RB_S_IFMT) != RB_S_IFREG)
        return RB_ENOTREG;
    f->size = stx.size;
    f->ino = stx.ino;
    f->mode = stx.mode;
    f->uid = stx.uid;
    f->dev_major = stx.dev_major;
    f->dev_minor = stx.dev_minor;
    long n = rb_pread(f->fd, head, head_len, 0);
    if (n < 0)
        return (int)n;
    *got = (size_t)n;
    uint64_t phoff;
    uint32_t phsize;
    int rc = rb_elf_check_header(head, (size_t)n, f->size, RB_EM_HOST, &phoff, &phsize);
    if (rc)
        return rc;
    if (phoff + phsize <= (uint64_t)n)
        return rb_elf_plan(head, head + phoff, phsize, f->size, &f->img);
    /* A sealed binary's table is at its end: read into a buffer of its own size (at most
     * RB_PHDR_MAX_BYTES, checked above), gone once the plan is made. */
    uint8_t ph[phsize] __attribute__((aligned(8)));
    if (rb_pread(f->fd, ph, phsize, phoff) != (long)phsize)
        return RB_ECORRUPT;
    return rb_elf_plan(head, ph, phsize, f->size, &f->img);
}

static int64_t readlink_cb(void *ctx, const char *path, char *buf, size_t bufsz)
{
    (void)ctx;
    return rb_syscall6(RB_SYS_readlinkat, RB_AT_FDCWD, (long)path, (long)buf, (long)bufsz, 0, 0);
}

/* A canonical path from a /proc magic link (the kernel resolved it); otherwise the path given
 * to execve, resolved here (a bare chroot has no /proc). */
static long resolve(const char *link, const char *given, char *out, size_t outsz)
{
    long r = rb_syscall6(RB_SYS_readlinkat, RB_AT_FDCWD, (long)link, (long)out, (long)outsz - 1, 0, 0);
    if (r > 0 && out[0] == '/' && (size_t)r < outsz - 1) {
        out[r] = '\0';
        return r;
    }
    /* Perhaps truncated, or no /proc: the caller retries with 4096 bytes. */
    if (outsz < 4096)
        return -ENAMETOOLONG;
    char cwd[4096];
    cwd[0] = '\0';
    if (given[0] != '/' && rb_sys(RB_SYS_getcwd, (long)cwd, sizeof(cwd), 0) < 0)
        return -ENOENT;
    return rb_path_resolve(cwd, given, readlink_cb, 0, out);
}

/* The binary's canonical path, through AT_EXECFD's /proc/self/fd/N. */
long rb_real_path(int fd, const char *given, char *out, size_t outsz)
{
    char link[32] = "/proc/self/fd/";
    size_t n = 14;
    char digits[12];
    int nd = 0;
    unsigned v = (unsigned)fd;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (nd)
        link[n++] = digits[--nd];
    link[n] = '\0';
    return resolve(link, given, out, outsz);
}

/* The running program's canonical path: under the PT_INTERP dispatch /proc/self/exe already
 * names the program, as the kernel exec'd it. */
long rb_exe_path(const char *given, char *out, size_t outsz)
{
    return resolve("/proc/self/exe", given, out, outsz);
}

/* True when path is a regular file itself, not a symlink to one: then dirname(path) holds the
 * binary, and the kernel resolves "dirname(path)/../lib/ld.so" as from its canonical path. One
 * statx instead of a readlink through /proc, which builds the new process's /proc entries. */
int rb_is_regular(const char *path)
{
    struct rb_statx stx;
    long r = rb_syscall6(RB_SYS_statx, RB_AT_FDCWD, (long)path, RB_AT_SYMLINK_NOFOLLOW,
                         0x1u /* STATX_TYPE */, (long)&stx, 0);
    return r == 0 && (stx.mode & RB_S_IFMT) == RB_S_IFREG;
}

/* True when path names f itself, not a symlink to it: then dirname(path) is a directory the
 * binary is in, and the kernel resolves "dirname(path)/../lib/ld.so" exactly as it would from
 * the binary's canonical path (".." after a symlinked directory goes to the target's parent).
 * One statx instead of a readlink through /proc, which costs several times more. */
int rb_same_file(const struct rb_file *f, const char *path)
{
    struct rb_statx stx;
    long r = rb_syscall6(RB_SYS_statx, RB_AT_FDCWD, (long)path, RB_AT_SYMLINK_NOFOLLOW,
                         RB_STATX_BASIC | 0x100u /* STATX_INO */, (long)&stx, 0);
    return r == 0 && (stx.mode & RB_S_IFMT) == RB_S_IFREG && stx.ino == f->ino
        && stx.dev_major == f->dev_major && stx.dev_minor == f->dev_minor;
}

static long check_trusted(int fd)
{
    struct rb_statx stx;
    long r = rb_stat_fd(fd, &stx);
    if (r < 0)
        return r;
    return rb_trusted_owner_mode(stx.uid, stx.mode) ? 0 : RB_EUNTRUSTED;
}

/* Under AT_SECURE the loader counts only if it and every directory walked to reach it are
 * root-owned and not writable by group or others: otherwise anyone who can hard-link a
 * privileged sealed binary into a directory of theirs chooses the code it runs. Symlinks are
 * refused on this walk (O_NOFOLLOW), so the directories checked are the ones used. */
static long open_trusted(const char *path)
{
    long dir = rb_syscall6(RB_SYS_openat, RB_AT_FDCWD, (long)"/",
                           RB_O_PATH | RB_O_DIRECTORY | RB_O_CLOEXEC, 0, 0, 0);
    if (dir < 0)
        return dir;
    char comp[256];
    const char *p = path;
    for (;;) {
        long r = check_trusted((int)dir);
        if (r < 0) {
            rb_sys(RB_SYS_close, dir, 0, 0);
            return r;
        }
        while (*p == '/')
            p++;
        size_t n = 0;
        while (p[n] && p[n] != '/')
            n++;
        if (n >= sizeof(comp)) {
            rb_sys(RB_SYS_close, dir, 0, 0);
            return -ENAMETOOLONG;
        }
        for (size_t i = 0; i < n; i++)
            comp[i] = p[i];
        comp[n] = '\0';
        p += n;
        while (*p == '/')
            p++;
        int last = *p == '\0';
        long flags = last ? RB_O_RDONLY | RB_O_CLOEXEC | RB_O_NOFOLLOW | RB_O_NONBLOCK
                          : RB_O_PATH | RB_O_DIRECTORY | RB_O_NOFOLLOW | RB_O_CLOEXEC;
        long next = rb_syscall6(RB_SYS_openat, dir, (long)comp, flags, 0, 0, 0);
        rb_sys(RB_SYS_close, dir, 0, 0);
        if (next < 0)
            return next;
        if (last) {
            r = check_trusted((int)next);
            if (r < 0) {
                rb_sys(RB_SYS_close, next, 0, 0);
                return r;
            }
            return next;
        }
        dir = next;
    }
}

/* Opens the loader read-only and validates it as an ELF shared object of this host: 0, or a
 * negative code with *opened telling whether the file was opened (its contents are wrong).
 * O_NONBLOCK so that a FIFO planted there cannot hang us (the S_ISREG check in rb_read_image
 * then refuses it). */
long rb_open_loader(const char *path, int trusted_only, struct rb_file *f, int *opened)
{
    long fd = trusted_only
        ? open_trusted(path)
        : rb_syscall6(RB_SYS_openat, RB_AT_FDCWD, (long)path,
                      RB_O_RDONLY | RB_O_CLOEXEC | RB_O_NONBLOCK, 0, 0, 0);
    *opened = fd >= 0;
    if (fd < 0)
        return fd;
    f->fd = (int)fd;
    /* Its own buffer: the binary's head holds the note the loader's path came from. */
    uint8_t head[RB_LD_HEAD] __attribute__((aligned(8)));
    size_t got;
    long rc = rb_read_image(f, head, sizeof(head), &got);
    if (rc == 0 && f->img.type != ET_DYN)
        rc = RB_ETYPE;
    return rc;
}

void rb_loader_failed(const char *name, const char *loader_path, long rc, int opened, int secure)
{
    if (opened) {
        const char *parts[] = { "loader ", loader_path };
        char what[4200];
        rb_concat(what, sizeof(what), parts, 2);
        rb_die(RB_EXIT_NOEXEC, name, what, rb_strerror(rc));
    }
    if (rc == -ENOENT)
        rb_die(RB_EXIT_NOTFOUND, name, "loader not found", loader_path);
    /* O_NOFOLLOW on the trusted walk: a symlinked file gives ELOOP, a symlinked directory
     * ENOTDIR. */
    if (rc == RB_EUNTRUSTED || (secure && (rc == -ELOOP || rc == -ENOTDIR)))
        rb_die(RB_EXIT_NOEXEC, name,
               "privileged program: untrusted loader (it or a directory above it is not "
               "root-owned, is group/other-writable, or is a symlink)", loader_path);
    if (rc == -EMFILE)
        rb_die(RB_EXIT_NOEXEC, name, "cannot open the loader: no descriptor free under "
               "RLIMIT_NOFILE", loader_path);
    rb_die(RB_EXIT_NOEXEC, name, rb_strerror(rc), loader_path);
}
