/* The byte-level helpers every part of the C core shares: loads in a file's byte order, page
 * rounding, and the kernel's convention for a failed system call. One definition each. */
#ifndef RB_BYTES_H
#define RB_BYTES_H

#include <stdint.h>

/* The page size the seal layout and the mapper assume (4 KiB on x86-64 and on Debian's arm64). */
#define RB_PAGE_SIZE 4096u

static inline uint16_t rb_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t rb_le32(const uint8_t *p)
{
    return (uint32_t)rb_le16(p) | (uint32_t)rb_le16(p + 2) << 16;
}
static inline uint64_t rb_le64(const uint8_t *p)
{
    return (uint64_t)rb_le32(p) | (uint64_t)rb_le32(p + 4) << 32;
}
static inline uint32_t rb_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rb_page_down(uint64_t x) { return x & ~(uint64_t)(RB_PAGE_SIZE - 1); }
static inline uint64_t rb_page_up(uint64_t x) { return rb_page_down(x + RB_PAGE_SIZE - 1); }

/* A raw system call returns -errno, -4095 to -1, on failure; any other value, even a
 * "negative" address from mmap, is a result. */
static inline int rb_is_err(long r) { return (unsigned long)r > -4096ul; }

#endif
