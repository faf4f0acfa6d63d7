/* Fuzz check: resolving a path component by component with symlinks whose targets come
 * from the input: "path\0cwd\0link1\0link2\0..." — the n-th readlink returns the n-th target. */
/* strnlen is POSIX: the shared flags ask for plain C11. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>
#include "fuzz_checks.h"
#include "runbottle_core.h"

struct links {
    const char *data;
    size_t size, pos;
};

static int64_t fake_readlink(void *ctx, const char *path, char *buf, size_t bufsz)
{
    (void)path;
    struct links *l = ctx;
    if (l->pos >= l->size)
        return -EINVAL;   /* no more symlinks: a plain component */
    const char *target = l->data + l->pos;
    size_t len = strnlen(target, l->size - l->pos);
    l->pos += len + 1;
    if (len == 0)
        return -EINVAL;
    if (len > bufsz)
        len = bufsz;
    memcpy(buf, target, len);
    return (int64_t)len;
}

int fuzz_check_path(const uint8_t *data, size_t size)
{
    char input[8192];
    if (size >= sizeof input - 2)
        return 0;
    memcpy(input, data, size);
    input[size] = input[size + 1] = '\0';
    const char *path = input;
    size_t plen = strlen(path);
    size_t cwd_at = plen + 1 <= size ? plen + 1 : size;   /* input[size] is the NUL we added */
    const char *cwd = input[cwd_at] == '/' ? input + cwd_at : "/";
    size_t used = input[cwd_at] == '/' ? cwd_at + strlen(cwd) + 1 : cwd_at;
    struct links links = { input + used, used < size ? size - used : 0, 0 };
    char out[4096];
    int64_t n = rb_path_resolve(cwd, path, fake_readlink, &links, out);
    if (n >= 0 && ((size_t)n >= sizeof out || out[0] != '/' || strlen(out) != (size_t)n))
        return __LINE__;
    return 0;
}
