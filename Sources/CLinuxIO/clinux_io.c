/* Linux file calls that Swift's Glibc module hides behind _GNU_SOURCE or Swift 6 refuses, wrapped once. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "clinux_io.h"

ssize_t clinux_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len)
{
    loff_t in = *off_in, out = *off_out;
    ssize_t n = copy_file_range(fd_in, &in, fd_out, &out, len, 0);
    *off_in = in;
    *off_out = out;
    return n;
}

int clinux_syncfs(int fd) { return syncfs(fd); }

long long clinux_mount_id(const char *path)
{
    struct statx stx;
    if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) != 0 || !(stx.stx_mask & STATX_MNT_ID))
        return -1;
    return (long long)stx.stx_mnt_id;
}

int clinux_flush_stdout(void)
{
    if (fflush(stdout) != 0)
        return errno ? errno : EIO;
    return ferror(stdout) ? EIO : 0;
}

int clinux_start_writeback(int fd) { return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE); }

/* An unnamed file in dirfd's file system, linked in only once complete: an interrupted run
 * leaves nothing behind. */
int clinux_open_tmpfile(int dirfd, unsigned mode)
{
    return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, (mode_t)mode);
}

int clinux_link_fd(int fd, int dirfd, const char *name)
{
    char proc[32];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    if (errno == EEXIST)
        return -1;
    return linkat(fd, "", dirfd, name, AT_EMPTY_PATH);
}

ssize_t clinux_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }

ssize_t clinux_fgetxattr(int fd, const char *name, void *value, size_t size)
{
    return fgetxattr(fd, name, value, size);
}

int clinux_fsetxattr(int fd, const char *name, const void *value, size_t size)
{
    return fsetxattr(fd, name, value, size, 0);
}

static int saved_argc;
static char **saved_argv;

/* glibc calls the executable's init_array functions with argc, argv and envp. */
static void save_argv(int argc, char **argv, char **envp)
{
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

__attribute__((section(".init_array"), used)) static void (*const save_argv_entry)(int, char **, char **) = save_argv;

char **clinux_argv(int *argc)
{
    *argc = saved_argc;
    return saved_argv;
}
