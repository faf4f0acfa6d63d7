/* The pure rule of privilege: which files a privileged program's loader may come from. */
#include "runbottle_core.h"

int rb_trusted_owner_mode(uint32_t uid, uint32_t mode)
{
    return uid == 0 && (mode & 022) == 0;
}
