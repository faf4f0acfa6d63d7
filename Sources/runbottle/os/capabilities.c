/* Whether runbottle may give the program its own /proc/self/exe (the native mode), and whether
 * it may say why not (RUNBOTTLE_DEBUG). */
#include "run.h"

#define CAP_SYS_ADMIN 21
#define CAP_CHECKPOINT_RESTORE 40
#define CAP_VERSION_3 0x20080522

struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

static int env_debug(const struct rb_stack *st)
{
    static const char key[] = "RUNBOTTLE_DEBUG=";
    for (uint64_t i = 0; i < st->envc; i++) {
        const char *e = st->envp[i];
        size_t k = 0;
        while (key[k] && e[k] == key[k])
            k++;
        if (!key[k])
            return e[k] != '\0' && !(e[k] == '0' && e[k + 1] == '\0');
    }
    return 0;
}

/* Every entry has flag C, so the kernel computed this exec's credentials from the binary as a
 * native exec does, and runbottle holds no file capability of its own: whatever runbottle holds
 * is the program's (runbottle(8), SECURITY). What is left to know is whether it may set
 * /proc/self/exe: CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in its user namespace. */
void rb_decide_privilege(struct run *r)
{
    struct cap_header caph = { CAP_VERSION_3, 0 };
    struct cap_data caps[2];
    if (rb_sys(RB_SYS_capget, (long)&caph, (long)caps, 0) < 0)
        caps[0] = caps[1] = (struct cap_data){ 0, 0, 0 };
    uint64_t eff = (uint64_t)caps[0].effective | (uint64_t)caps[1].effective << 32;
    r->priv.exe_permitted = (eff >> CAP_CHECKPOINT_RESTORE & 1) || (eff >> CAP_SYS_ADMIN & 1);
    r->priv.debug = !r->priv.secure_in && env_debug(&r->st);
}
