#include "config.h"

#include "codec/dnsprint_int.h"

#include <stdio.h>
#include <string.h>

void dnsprint_sink_put(struct dnsprint_sink *s, const char *text, size_t n)
{
    if (!s->buf || s->full)
        return;
    if (s->size == 0 || n >= s->size - s->used) {
        if (s->size > 0) {
            size_t fit = s->size - 1 - s->used;
            memcpy(s->buf + s->used, text, fit);
            s->used += fit;
            s->buf[s->used] = '\0';
        }
        s->full = 1;
        return;
    }
    memcpy(s->buf + s->used, text, n);
    s->used += n;
    s->buf[s->used] = '\0';
}

void dnsprint_sink_fmt(struct dnsprint_sink *s, const char *fmt,
                       unsigned long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), fmt, v);

    dnsprint_sink_put(s, tmp, (size_t)n);
}

void dnsprint_sink_ddd(struct dnsprint_sink *s, uint8_t c)
{
    char esc[4];

    esc[0] = '\\';
    esc[1] = (char)('0' + c / 100);
    esc[2] = (char)('0' + c / 10 % 10);
    esc[3] = (char)('0' + c % 10);
    dnsprint_sink_put(s, esc, 4);
}
