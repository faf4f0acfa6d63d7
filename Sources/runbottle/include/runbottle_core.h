/* The pure half of runbottle: parsing and planning with no syscalls, callable from Swift tests. */
#ifndef RUNBOTTLE_CORE_H
#define RUNBOTTLE_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "bottle_format.h"

/* Error codes shared by the pure functions; runbottle maps each to one message. */
enum rb_error {
    RB_OK = 0,
    RB_ENOTSEALED = -1000,   /* no BOTTLE note at e_ehsize */
    RB_EBADNOTE = -1001,     /* a BOTTLE note whose fields are out of range */
    RB_EVERSION = -1002,     /* a seal format version this runbottle does not know */
};

/* A parsed BOTTLE note. loader points into the caller's buffer. */
struct rb_note {
    uint32_t type;           /* BOTTLE_NT_SEAL or BOTTLE_NT_SEAL_PRIVILEGED */
    uint32_t version;
    uint32_t loader_len;
    const char *loader;      /* NUL-terminated, relative */
    uint32_t size;           /* bytes the whole note occupies */
};

/* Parses the note at the start of buf (the bytes at file offset e_ehsize). big_endian selects
 * the byte order of the file. Returns RB_OK or a negative rb_error. */
int rb_note_parse(const uint8_t *buf, size_t len, int big_endian, struct rb_note *out);

#endif
