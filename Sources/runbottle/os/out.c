/* Messages on stderr: one line, "runbottle: PATH: what: detail". */
#include <errno.h>
#include "runbottle_os.h"

const char *rb_strerror(long err)
{
    switch (err) {
    case -ENOENT: return "No such file or directory";
    case -EACCES: return "Permission denied";
    case -EPERM: return "Operation not permitted";
    case -ELOOP: return "Too many levels of symbolic links";
    case -ENOTDIR: return "Not a directory";
    case -EISDIR: return "Is a directory";
    case -ENAMETOOLONG: return "File name too long";
    case -ENOEXEC: return "Exec format error";
    case -EEXIST: return "address range already in use";
    case -ENOMEM: return "Cannot allocate memory";
    case -EINVAL: return "Invalid argument";
    case -EBUSY: return "Device or resource busy";
    case -EIO: return "Input/output error";
    case -ETXTBSY: return "Text file busy";
    case RB_ENOTSEALED: return "not a sealed binary (no BOTTLE note after the ELF header)";
    case RB_EBADNOTE: return "corrupt BOTTLE note";
    case RB_EVERSION: return "unknown seal format version";
    case RB_ENOTELF: return "not an ELF file of this host's class and byte order";
    case RB_EARCH: return "wrong architecture (e_machine is not " RB_ARCH_NAME ")";
    case RB_ETYPE: return "not an executable (e_type)";
    case RB_ECORRUPT: return "corrupt ELF (program headers out of bounds, overlapping or misaligned)";
    case RB_ESTACK: return "unexpected initial stack";
    case RB_ENOTREG: return "not a regular file";
    case RB_EUNTRUSTED: return "not root-owned or writable by group or others";
    default: return "unexpected error";
    }
}

size_t rb_concat(char *out, size_t outsz, const char *const *parts, size_t nparts)
{
    size_t n = 0;
    for (size_t i = 0; i < nparts; i++)
        for (const char *p = parts[i]; p && *p && n + 1 < outsz; p++)
            out[n++] = *p;
    out[n] = '\0';
    return n;
}

void rb_say(const char *path, const char *what, const char *detail)
{
    char buf[2048];
    const char *parts[] = { "runbottle: ", path, path ? ": " : "", what,
                            detail ? ": " : "", detail, "\n" };
    size_t n = rb_concat(buf, sizeof(buf) - 1, parts, sizeof(parts) / sizeof(parts[0]));
    if (buf[n - 1] != '\n')
        buf[n++] = '\n';
    rb_sys(RB_SYS_write, 2, (long)buf, (long)n);
}

void rb_die(int status, const char *path, const char *what, const char *detail)
{
    rb_say(path, what, detail);
    for (;;)
        rb_sys(RB_SYS_exit_group, status, 0, 0);
}
