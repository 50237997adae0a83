#include "config.h"

#include "stage/stage.h"

#include <string.h>

void stage_init(struct stage *s, const struct dns_filter *filter, struct outputs *outputs)
{
    memset(s, 0, sizeof(*s));
    s->filter = *filter;
    s->outputs = outputs;
}

void stage_undecoded(struct stage *s, int verdict)
{
    s->stats.received++;
    if (verdict == PKT_FRAGMENT || verdict == PKT_NOT_UDP)
        s->stats.ignored++;
    else
        s->stats.malformed++;
    if (verdict_is_packet(verdict))
        s->stats.malformed_by[-verdict]++;
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

    s->stats.received++;
    s->stats.csum_offloaded += r->csum_offloaded;
    if (!count_check(&s->stats, v))
        return verdict_dns(v);
    /* Hooks of the next issues go here: query/response matching and the
     * bailiwick check, then deduplication across inputs. */
    outputs_submit(s->outputs, r);
    return VERDICT_OK;
}
