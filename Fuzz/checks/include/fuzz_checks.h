/* Properties the C core must keep on any input: each returns 0, or the line of the property
 * that broke. Called by the libFuzzer targets (Fuzz/c/entry.c) and by FuzzRegressionTests,
 * which replays every crash found. Memory errors are left to the sanitizers. */
#ifndef FUZZ_CHECKS_H
#define FUZZ_CHECKS_H

#include <stddef.h>
#include <stdint.h>

int fuzz_check_note(const uint8_t *data, size_t size);
int fuzz_check_elf(const uint8_t *data, size_t size);
int fuzz_check_stack(const uint8_t *data, size_t size);
int fuzz_check_path(const uint8_t *data, size_t size);

#endif
