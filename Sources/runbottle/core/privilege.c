/* The pure rules of privilege: what a file capability grants, and which files are trusted. */
#include "runbottle_core.h"

/* security.capability (include/uapi/linux/capability.h): le32 magic_etc, then per 32-bit
 * half {le32 permitted, le32 inheritable}; revision 3 appends a le32 root uid. */
#define VFS_CAP_REVISION_MASK 0xFF000000u
#define VFS_CAP_REVISION_1    0x01000000u
#define VFS_CAP_REVISION_2    0x02000000u
#define VFS_CAP_REVISION_3    0x03000000u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t rb_vfs_cap_permitted(const uint8_t *x, size_t len)
{
    if (len < 4)
        return 0;
    uint32_t rev = le32(x) & VFS_CAP_REVISION_MASK;
    if (rev == VFS_CAP_REVISION_1 && len == 12)
        return le32(x + 4);
    if ((rev == VFS_CAP_REVISION_2 && len == 20) || (rev == VFS_CAP_REVISION_3 && len == 24))
        return (uint64_t)le32(x + 4) | (uint64_t)le32(x + 12) << 32;
    return 0;
}

int rb_trusted_owner_mode(uint32_t uid, uint32_t mode)
{
    return uid == 0 && (mode & 022) == 0;
}
