/* Linux file calls that Swift's Glibc module hides behind _GNU_SOURCE, wrapped once for the ELF engine. */
#ifndef CLINUX_IO_H
#define CLINUX_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Each returns what the libc call returns (-1 and errno on failure). */
ssize_t clinux_copy_file_range(int fd_in, int64_t *off_in, int fd_out, int64_t *off_out, size_t len);
int clinux_syncfs(int fd);
/* The id of the mount `path` is on (statx STATX_MNT_ID, Linux 5.8), or -1 where the kernel does
 * not say: nothing renames between two mounts, even of one file system (a bind mount, a volume). */
long long clinux_mount_id(const char *path);
/* Flushes stdio's stdout: 0, or the errno of a write that failed now or earlier (EIO when the
 * stream's error flag was set without one). Swift 6 refuses any reference to the C global. */
int clinux_flush_stdout(void);
/* Starts writeback of every dirty page of fd without waiting for it (sync_file_range). */
int clinux_start_writeback(int fd);
int clinux_open_tmpfile(int dirfd, unsigned mode);
/* Gives the unnamed file fd the name dirfd/name: through /proc/self/fd (no privilege needed),
 * else with AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH). */
int clinux_link_fd(int fd, int dirfd, const char *name);
ssize_t clinux_flistxattr(int fd, char *list, size_t size);
ssize_t clinux_fgetxattr(int fd, const char *name, void *value, size_t size);
int clinux_fsetxattr(int fd, const char *name, const void *value, size_t size);
/* The process's argv as glibc handed it to constructors (NULL before, or under another libc):
 * Swift's CommandLine finds argv through /proc/self/maps, so it is empty where /proc is not
 * mounted (a chroot). */
char **clinux_argv(int *argc);

#endif
