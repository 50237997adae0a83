#include "config.h"

#include "stats.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *stats_drop_name(enum stats_drop d)
{
    static const char *const names[STATS_DROP_COUNT] = {
        "no_answer", "not_auth", "oversize", "queue_full", "shutdown", "send_error",
    };
    return (unsigned)d < STATS_DROP_COUNT ? names[d] : "unknown";
}

struct sbuf {
    char *p;
    size_t size, len;
};

static void put(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->len + 1 >= b->size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n < b->size - b->len ? (size_t)n : b->size - b->len - 1;
}

static void sum_outs(struct stats_out *sum, const struct stats_out *const *outs, size_t n)
{
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; i < n; i++) {
        const struct stats_out *o = outs[i];
        sum->queued += o->queued;
        sum->forwarded += o->forwarded;
        sum->forwarded_bytes += o->forwarded_bytes;
        for (int d = 0; d < STATS_DROP_COUNT; d++)
            sum->drop[d] += o->drop[d];
        sum->connects += o->connects;
        sum->disconnects += o->disconnects;
        sum->send_errors += o->send_errors;
    }
}

size_t stats_format(char *buf, size_t size, const struct stats *s,
                    const struct stats_out *const *outs, size_t n_outs)
{
    struct sbuf b = {buf, size, 0};
    struct stats_out sum;
    uint64_t dropped = 0;

    if (size)
        buf[0] = '\0';
    sum_outs(&sum, outs, n_outs);
    for (int d = 0; d < STATS_DROP_COUNT; d++)
        dropped += s->filtered[d] + sum.drop[d];
    put(&b, "received=%" PRIu64 " malformed=%" PRIu64 " ignored=%" PRIu64
            " dns_error=%" PRIu64 " queries=%" PRIu64 " responses=%" PRIu64
            " forwarded=%" PRIu64 " dropped=%" PRIu64 " pending=%" PRIu64,
        s->received, s->malformed, s->ignored, s->dns_error, s->queries,
        s->responses, sum.forwarded, dropped,
        sum.queued - sum.forwarded - sum.drop[STATS_DROP_SHUTDOWN] -
            sum.drop[STATS_DROP_SEND_ERROR]);
    for (int d = 0; d < STATS_DROP_COUNT; d++)
        put(&b, " drop_%s=%" PRIu64, stats_drop_name((enum stats_drop)d),
            s->filtered[d] + sum.drop[d]);
    put(&b, " csum_offloaded=%" PRIu64, s->csum_offloaded);
    put(&b, " kernel_drops=%" PRIu64 " forwarded_bytes=%" PRIu64
            " connects=%" PRIu64 " disconnects=%" PRIu64 " send_retries=%" PRIu64,
        s->kernel_drops, sum.forwarded_bytes, sum.connects, sum.disconnects,
        sum.send_errors);
    for (int r = 1; r < PKT_REASON_COUNT; r++)
        if (s->malformed_by[r])
            put(&b, " pkt_%s=%" PRIu64, pkt_reason_name(-r), s->malformed_by[r]);
    return b.len;
}

size_t stats_format_out(char *buf, size_t size, const struct stats_out *o)
{
    struct sbuf b = {buf, size, 0};

    if (size)
        buf[0] = '\0';
    put(&b, "queued=%" PRIu64 " forwarded=%" PRIu64 " forwarded_bytes=%" PRIu64,
        o->queued, o->forwarded, o->forwarded_bytes);
    for (int d = STATS_DROP_QUEUE_FULL; d < STATS_DROP_COUNT; d++)
        put(&b, " drop_%s=%" PRIu64, stats_drop_name((enum stats_drop)d), o->drop[d]);
    put(&b, " connects=%" PRIu64 " disconnects=%" PRIu64 " send_retries=%" PRIu64,
        o->connects, o->disconnects, o->send_errors);
    return b.len;
}
