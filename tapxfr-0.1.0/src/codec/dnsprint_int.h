/* dnsprint_int.h: what the dnsprint*.c files share and callers never see
 * (internal to codec/, not part of the dnsprint.h API).
 *
 * The text sink every printer writes through, and the big-endian reads.
 * A sink borrows the caller's buffer; it owns nothing. */
#ifndef TAPXFR_CODEC_DNSPRINT_INT_H
#define TAPXFR_CODEC_DNSPRINT_INT_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t dnsprint_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t dnsprint_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A text sink that stays NUL-terminated after every write and remembers
 * an overflow, so a printing loop checks for it once at the end. A NULL
 * buffer discards the text: walking a message needs the checks only. */
struct dnsprint_sink {
    char *buf;
    size_t size;
    size_t used;
    int full;
};

/* Appends n bytes of text, as much as fits when they do not. */
void dnsprint_sink_put(struct dnsprint_sink *s, const char *text, size_t n);

/* Appends one number formatted with fmt, which takes an unsigned long. */
void dnsprint_sink_fmt(struct dnsprint_sink *s, const char *fmt,
                       unsigned long v);

/* Appends the byte as \DDD, the form names and quoted strings share for
 * the bytes they cannot show as themselves. */
void dnsprint_sink_ddd(struct dnsprint_sink *s, uint8_t c);

#endif
