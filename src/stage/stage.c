#include "config.h"

#include "stage/stage.h"

#include <string.h>

void stage_init(struct stage *s, const struct dns_filter *filter, struct outputs *outputs)
{
    memset(s, 0, sizeof(*s));
    s->filter = *filter;
    s->outputs = outputs;
}

static void count_undecoded(struct stats *st, int verdict)
{
    if (verdict == PKT_FRAGMENT || verdict == PKT_NOT_UDP || verdict == PKT_NOT_DNS_PORT)
        st->ignored++;
    else
        st->malformed++;
    if (verdict_is_packet(verdict))
        st->malformed_by[-verdict]++;
}

void stage_undecoded(struct stage *s, int verdict)
{
    s->stats.received++;
    count_undecoded(&s->stats, verdict);
}

void stage_held(struct stage *s)
{
    s->stats.received++;
    s->stats.held++;
}

void stage_reassembled_bad(struct stage *s, int verdict)
{
    s->stats.reassembled++;
    count_undecoded(&s->stats, verdict);
}

void stage_reassembled_segment(struct stage *s)
{
    s->stats.reassembled++;
    s->stats.held++;
}

void stage_kernel_drops(struct stage *s, uint64_t n)
{
    s->stats.kernel_drops += n;
}

void stage_skipped(struct stage *s, int is_query)
{
    s->stats.received++;
    if (is_query)
        s->stats.queries++;
    else
        s->stats.ignored++;
}

/* Counts what the DNS checks said; returns whether to go on. */
static int count_check(struct stats *st, int v)
{
    switch (v) {
    case DNS_FORWARD:
        st->responses++;
        return 1;
    case DNS_DROP_SHORT:
    case DNS_DROP_HEADER:
        st->dns_error++;
        return 0;
    case DNS_DROP_QUERY:
        st->queries++;
        return 0;
    case DNS_DROP_NO_ANSWER:
        st->filtered[STATS_DROP_NO_ANSWER]++;
        break;
    case DNS_DROP_NOT_AUTH:
        st->filtered[STATS_DROP_NOT_AUTH]++;
        break;
    default:
        st->filtered[STATS_DROP_OVERSIZE]++;
        break;
    }
    st->responses++;
    return 0;
}

int stage_submit(struct stage *s, const struct rec *r)
{
    struct dns_header h;
    int v = dns_check(&s->filter, r->msg, r->msg_len, &h);

    if (r->reassembled)
        s->stats.reassembled++;
    else
        s->stats.received++;
    s->stats.csum_offloaded += r->csum_offloaded;
    if (!count_check(&s->stats, v))
        return verdict_dns(v);
    /* Hooks of the next issues go here: query/response matching and the
     * bailiwick check, then deduplication across inputs. */
    outputs_submit(s->outputs, r);
    return VERDICT_OK;
}
