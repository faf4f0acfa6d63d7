/* Fuzz check: the BOTTLE note parser on arbitrary bytes at e_ehsize, both byte orders. */
#include <string.h>
#include "fuzz_checks.h"
#include "runbottle_core.h"

int fuzz_check_note(const uint8_t *data, size_t size)
{
    struct rb_note note;
    for (int big_endian = 0; big_endian <= 1; big_endian++) {
        if (rb_note_parse(data, size, big_endian, &note) != RB_OK)
            continue;
        /* A parsed note must lie inside the input and name a NUL-terminated relative path. */
        if (note.size > size || note.loader_len == 0 || note.loader[0] == '/'
            || strlen(note.loader) != note.loader_len)
            return __LINE__;
    }
    return 0;
}
