/* The libFuzzer entry point for one C check, chosen at build time with -DFUZZ_CHECK=NAME. */
#include "fuzz_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (FUZZ_CHECK(data, size) != 0)
        __builtin_trap();
    return 0;
}
