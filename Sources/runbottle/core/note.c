/* Parses the BOTTLE note a sealed binary carries right after its ELF header. */
#include "runbottle_core.h"

static uint32_t load_u32(const uint8_t *p, int big_endian)
{
    return big_endian ? rb_be32(p) : rb_le32(p);
}

int rb_note_parse(const uint8_t *buf, size_t len, int big_endian, struct rb_note *out)
{
    static const char name[BOTTLE_NOTE_NAME_PADDED] = BOTTLE_NOTE_NAME;
    if (len < BOTTLE_NOTE_HEADER_SIZE)
        return RB_ENOTSEALED;
    uint32_t namesz = load_u32(buf, big_endian);
    uint32_t descsz = load_u32(buf + 4, big_endian);
    uint32_t type = load_u32(buf + 8, big_endian);
    if (namesz != BOTTLE_NOTE_NAMESZ)
        return RB_ENOTSEALED;
    for (uint32_t i = 0; i < BOTTLE_NOTE_NAME_PADDED; i++)
        if (buf[12 + i] != (uint8_t)name[i])
            return RB_ENOTSEALED;
    if (type != BOTTLE_NT_SEAL && type != BOTTLE_NT_SEAL_PRIVILEGED && type != BOTTLE_NT_SEAL_INTERP)
        return RB_ENOTSEALED;

    if (descsz < BOTTLE_DESC_HEADER_SIZE + 4 || descsz % 4 != 0
        || descsz > BOTTLE_NOTE_MAX_SIZE - BOTTLE_NOTE_HEADER_SIZE + 3
        || descsz > len - BOTTLE_NOTE_HEADER_SIZE)
        return RB_EBADNOTE;
    const uint8_t *desc = buf + BOTTLE_NOTE_HEADER_SIZE;
    uint32_t version = load_u32(desc, big_endian);
    uint32_t loader_len = load_u32(desc + 4, big_endian);
    if (version != BOTTLE_FORMAT_VERSION)
        return RB_EVERSION;
    if (loader_len == 0 || loader_len > BOTTLE_LOADER_PATH_MAX
        || loader_len + 1 > descsz - BOTTLE_DESC_HEADER_SIZE)
        return RB_EBADNOTE;
    const char *loader = (const char *)desc + BOTTLE_DESC_HEADER_SIZE;
    if (loader[0] == '/' || loader[loader_len] != '\0')
        return RB_EBADNOTE;
    for (uint32_t i = 0; i < loader_len; i++)
        if (loader[i] == '\0')
            return RB_EBADNOTE;

    out->type = type;
    out->version = version;
    out->loader_len = loader_len;
    out->loader = loader;
    out->size = BOTTLE_NOTE_HEADER_SIZE + descsz;
    return RB_OK;
}
