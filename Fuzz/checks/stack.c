/* Fuzz check: parsing an initial stack (argc, argv, envp, auxv words) that ends where the
 * input ends, then rebuilding it without runbottle's own argv slots and fixing its auxv. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_checks.h"
#include "runbottle_core.h"

static int rebuild(const struct rb_stack *st, uint64_t *out, uint64_t need)
{
    static char prefix_arg[] = "prog";
    char *prefix[1] = { prefix_arg };
    uint64_t skip = st->argc < 2 ? st->argc : 2;
    int64_t n = rb_stack_build(st, prefix, 1, skip, out, need);
    if (n < 0 || (uint64_t)n > need)
        return __LINE__;
    struct rb_stack built;
    if (rb_stack_parse(out, out + n, &built) != RB_OK)
        return __LINE__;   /* what we build, we must be able to read back */
    struct rb_auxv_fix fix = { 1, 56, 2, 3, 4, 0, 0 };
    if (rb_auxv_rewrite(built.auxv, built.auxc, &fix) > built.auxc)
        return __LINE__;
    return 0;
}

int fuzz_check_stack(const uint8_t *data, size_t size)
{
    size_t words = size / 8;
    uint64_t *stack = malloc((words ? words : 1) * 8);
    if (!stack)
        return 0;
    memcpy(stack, data, words * 8);
    int failed = 0;
    struct rb_stack st;
    if (rb_stack_parse(stack, stack + words, &st) == RB_OK) {
        uint64_t skip = st.argc < 2 ? st.argc : 2;
        uint64_t need = rb_stack_words(&st, 1, skip);
        uint64_t *out = need < (1u << 20) ? malloc(need * 8 + 8) : NULL;
        if (out)
            failed = rebuild(&st, out, need);
        free(out);
    }
    free(stack);
    return failed;
}
