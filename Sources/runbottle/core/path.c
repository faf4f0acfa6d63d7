/* Path arithmetic: the loader's path beside the binary, and symlink resolution without /proc. */
#include <errno.h>
#include "runbottle_core.h"

#define RB_PATH_MAX   4096
/* fs/namei.c follows at most this many symlinks in one lookup. */
#define RB_MAXSYMLINKS 40

size_t rb_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static void move_bytes(char *dst, const char *src, size_t n)
{
    if (dst < src)
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    else
        for (size_t i = n; i > 0; i--)
            dst[i - 1] = src[i - 1];
}

int64_t rb_path_sibling(const char *path, const char *rel, char *out, size_t outsz)
{
    size_t dir = 0, n = rb_strlen(path), r = rb_strlen(rel);
    for (size_t i = 0; i < n; i++)
        if (path[i] == '/')
            dir = i;
    /* "prog" has no directory: the loader is relative to ".". "/prog" lives in "/". */
    const char *d = path;
    size_t dlen = dir;
    if (n == 0 || (dir == 0 && path[0] != '/')) {
        d = ".";
        dlen = 1;
    }
    if (dlen + 1 + r + 1 > outsz)
        return -ENAMETOOLONG;
    move_bytes(out, d, dlen);
    out[dlen] = '/';
    move_bytes(out + dlen + 1, rel, r);
    out[dlen + 1 + r] = '\0';
    return (int64_t)(dlen + 1 + r);
}

static size_t parent_len(const char *out, size_t olen)
{
    while (olen > 0 && out[olen - 1] != '/')
        olen--;
    return olen > 0 ? olen - 1 : 0;
}

int64_t rb_path_resolve(const char *cwd, const char *path, rb_readlink_fn rl, void *ctx,
                        char *out)
{
    char pend[2 * RB_PATH_MAX];
    char link[RB_PATH_MAX];
    size_t plen = rb_strlen(path), olen = 0, pi = 0;
    int links = 0;

    if (plen == 0)
        return -ENOENT;
    if (plen >= sizeof(pend))
        return -ENAMETOOLONG;
    move_bytes(pend, path, plen);
    /* out holds the resolved prefix without a trailing slash; "" stands for "/". */
    if (path[0] != '/') {
        size_t clen = rb_strlen(cwd);
        if (cwd[0] != '/' || clen >= RB_PATH_MAX)
            return -ENOENT;
        move_bytes(out, cwd, clen);
        olen = clen;
        while (olen > 0 && out[olen - 1] == '/')
            olen--;
    }
    while (pi < plen) {
        while (pi < plen && pend[pi] == '/')
            pi++;
        size_t start = pi;
        while (pi < plen && pend[pi] != '/')
            pi++;
        size_t clen = pi - start;
        if (clen == 0 || (clen == 1 && pend[start] == '.'))
            continue;
        if (clen == 2 && pend[start] == '.' && pend[start + 1] == '.') {
            olen = parent_len(out, olen);
            continue;
        }
        size_t before = olen;
        if (olen + 1 + clen >= RB_PATH_MAX)
            return -ENAMETOOLONG;
        out[olen++] = '/';
        move_bytes(out + olen, pend + start, clen);
        olen += clen;
        out[olen] = '\0';

        int64_t n = rl(ctx, out, link, sizeof(link));
        if (n == -EINVAL)
            continue;
        if (n < 0)
            return n;
        if (n == 0 || (size_t)n >= sizeof(link))
            return -ENAMETOOLONG;
        if (++links > RB_MAXSYMLINKS)
            return -ELOOP;
        size_t rest = plen - pi;
        if ((size_t)n + 1 + rest > sizeof(pend))
            return -ENAMETOOLONG;
        move_bytes(pend + n + 1, pend + pi, rest);
        move_bytes(pend, link, (size_t)n);
        pend[n] = '/';
        plen = (size_t)n + 1 + rest;
        pi = 0;
        olen = link[0] == '/' ? 0 : before;
    }
    if (olen == 0)
        out[olen++] = '/';
    out[olen] = '\0';
    return (int64_t)olen;
}
