#include "config.h"

#include "stage/stage.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/bailiwick.h"

int stage_init(struct stage *s, const struct stage_conf *conf, struct outputs *outputs)
{
    memset(s, 0, sizeof(*s));
    s->filter = conf->filter;
    s->bailiwick = conf->bailiwick;
    s->outputs = outputs;
    s->match_mode = conf->match;
    if (s->match_mode != STAGE_MATCH_OFF) {
        int rc = match_init(&s->match, &conf->match_conf);
        if (rc < 0) {
            s->match_mode = STAGE_MATCH_OFF;
            return rc;
        }
    }
    if (s->bailiwick == STAGE_BW_SCRUB && !(s->scrubbed = malloc(BW_MSG_MAX))) {
        stage_close(s);
        return -ENOMEM;
    }
    return 0;
}

void stage_close(struct stage *s)
{
    if (s->match_mode != STAGE_MATCH_OFF)
        match_close(&s->match);
    s->match_mode = STAGE_MATCH_OFF;
    free(s->scrubbed);
    s->scrubbed = NULL;
}

void stage_update_stats(struct stage *s)
{
    if (s->match_mode != STAGE_MATCH_OFF)
        s->stats.match = *match_stats(&s->match);
}

static void endpoint(struct match_endpoint *e, const struct rec_addr *a)
{
    e->family = a->family;
    memcpy(e->addr, a->addr, sizeof(e->addr));
    e->port = a->port;
}

/* Query/response matching (RFC 5452) of what a capture saw: a query is
 * remembered; a response is held to it. Returns VERDICT_OK to go on (with
 * the query's time and bytes in *copy, and *out pointing at it, when
 * matched), or VERDICT_UNMATCHED under --match require. The responder of
 * a query record is its client (the sender). */
static int match(struct stage *s, const struct rec *r, int is_query, struct rec *copy,
                 const struct rec **out)
{
    struct match_endpoint a, b;
    struct match_info info;
    int64_t now = r->ts_sec * 1000000000 + r->ts_nsec;
    int rc;

    if (s->match_mode == STAGE_MATCH_OFF || r->source != REC_SRC_PCAP)
        return VERDICT_OK;
    if (now >= s->next_expire) {
        s->next_expire = now + STAGE_EXPIRE_NS;
        match_expire(&s->match, now);
    }
    endpoint(&a, &r->responder);
    endpoint(&b, &r->client);
    if (is_query) {
        match_query(&s->match, &a, &b, (int)r->transport, r->msg, r->msg_len, now);
        return VERDICT_OK;
    }
    rc = match_response(&s->match, &a, &b, (int)r->transport, r->msg, r->msg_len, now, &info);
    if (rc == MATCH_MATCHED) {
        match_hist_add(&s->stats.latency, now - info.query_ns);
        *copy = *r;
        copy->query_ns = info.query_ns;
        copy->query_msg = info.query;
        copy->query_len = info.query_len;
        *out = copy;
        return VERDICT_OK;
    }
    if (s->match_mode != STAGE_MATCH_REQUIRE)
        return VERDICT_OK;
    s->stats.filtered[STATS_DROP_UNMATCHED]++;
    return VERDICT_UNMATCHED;
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

/* Counts what the DNS checks said of a message that is no response. */
static void count_check(struct stats *st, int v)
{
    if (v == DNS_DROP_QUERY)
        st->queries++;
    else
        st->dns_error++;
}

/* Counts what the filters said of a response; returns whether to go on. */
static int count_filter(struct stats *st, int v)
{
    switch (v) {
    case DNS_FORWARD:
        return 1;
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
    return 0;
}

/* --bailiwick for a dnstap response that says which zone its server was
 * asked about. Returns VERDICT_OK with *out the record to go on with (r,
 * or a copy whose message was scrubbed), or the verdict that drops it. */
static int bailiwick(struct stage *s, const struct rec *r, struct rec *copy,
                     const struct rec **out)
{
    struct bw_scrub st;
    size_t len;
    int rc;

    *out = r;
    if (s->bailiwick == STAGE_BW_OFF || !r->query_zone_len)
        return VERDICT_OK;
    s->stats.bw_checked++;
    if (s->bailiwick == STAGE_BW_CHECK) {
        /* Without a question there is nothing to hold the records to:
         * dropped too, rather than trusted. */
        if (bw_check(r->msg, r->msg_len, r->query_zone, r->query_zone_len) == BW_OK)
            return VERDICT_OK;
        s->stats.filtered[STATS_DROP_BAILIWICK]++;
        return VERDICT_BAILIWICK;
    }
    rc = bw_scrub(r->msg, r->msg_len, r->query_zone, r->query_zone_len, s->scrubbed, BW_MSG_MAX,
                  &len, &st);
    if (rc != BW_OK) {
        s->stats.filtered[STATS_DROP_UNPARSABLE]++;
        return VERDICT_UNPARSABLE;
    }
    if (st.removed[0] + st.removed[1] + st.removed[2] == 0)
        return VERDICT_OK;
    s->stats.bw_scrubbed++;
    s->stats.bw_removed += st.removed[0] + st.removed[1] + st.removed[2];
    *copy = *r;
    copy->msg = s->scrubbed;
    copy->msg_len = len;
    copy->rewritten = 1;
    *out = copy;
    return VERDICT_OK;
}

int stage_submit(struct stage *s, const struct rec *r)
{
    struct dns_header h;
    struct rec copy, matched;
    int v = dns_check(&s->filter, r->msg, r->msg_len, &h), rc;

    if (r->reassembled)
        s->stats.reassembled++;
    else
        s->stats.received++;
    s->stats.csum_offloaded += r->csum_offloaded;
    if (v == DNS_DROP_SHORT || v == DNS_DROP_HEADER || v == DNS_DROP_QUERY) {
        count_check(&s->stats, v);
        if (v == DNS_DROP_QUERY)
            match(s, r, 1, &matched, &r);
        return verdict_dns(v);
    }
    /* A response: the stage's own checks come before the filters (-D,
     * -A, --max-size), which then see the message as it would go out. */
    s->stats.responses++;
    rc = match(s, r, 0, &matched, &r);
    if (rc != VERDICT_OK)
        return rc;
    rc = bailiwick(s, r, &copy, &r);
    if (rc != VERDICT_OK)
        return rc;
    if (r->rewritten)
        v = dns_check(&s->filter, r->msg, r->msg_len, &h);
    if (!count_filter(&s->stats, v))
        return verdict_dns(v);
    /* Deduplication across inputs (the next issue) goes here, last, so
     * that only what would be forwarded is remembered. */
    outputs_submit(s->outputs, r);
    return VERDICT_OK;
}
