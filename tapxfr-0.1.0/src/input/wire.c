#include "config.h"

#include "input/wire.h"

#include <string.h>

int wire_init(struct wire *w, struct stage *stage, const struct wire_conf *conf)
{
    int rc;

    memset(w, 0, sizeof(*w));
    w->stage = stage;
    rc = ipfrag_init(&w->frag, &conf->frag);
    if (rc < 0)
        return rc;
    rc = tcpdns_init(&w->tcp, &conf->stream);
    if (rc < 0)
        ipfrag_close(&w->frag);
    return rc;
}

void wire_close(struct wire *w)
{
    ipfrag_close(&w->frag);
    tcpdns_close(&w->tcp);
}

static int dns_port(const struct pkt_info *info)
{
    return info->sport == WIRE_DNS_PORT || info->dport == WIRE_DNS_PORT;
}

static void fill(struct rec *r, const struct pkt_info *info, int64_t sec, int32_t nsec)
{
    r->source = REC_SRC_PCAP;
    r->transport = info->proto == 6 ? REC_TR_TCP : REC_TR_UDP;
    r->ts_sec = sec;
    r->ts_nsec = nsec;
    /* The sender of a response is the responder; whether it is a response
     * at all is for the DNS checks to say. */
    r->responder.family = r->client.family = info->ip_version;
    memcpy(r->responder.addr, info->src, 16);
    memcpy(r->client.addr, info->dst, 16);
    r->responder.port = info->sport;
    r->client.port = info->dport;
    r->msg = info->payload;
    r->msg_len = info->payload_len;
    r->csum_offloaded = info->csum_offloaded;
    r->reassembled = r->rewritten = 0;
    r->query_ns = 0;
    r->query_msg = NULL;
    r->query_len = 0;
    r->dt_type = 0;
    r->query_zone = r->identity = NULL;
    r->query_zone_len = r->identity_len = 0;
}

/* Submits every message the TCP reassembler has ready, each with the
 * direction it came on. Returns VERDICT_OK if one was forwarded, else the
 * verdict of the last, or VERDICT_HELD for none. */
static int deliver(struct wire *w, int64_t sec, int32_t nsec)
{
    struct tcpdns_key k;
    struct rec r;
    const uint8_t *msg;
    size_t len;
    int v = VERDICT_HELD;

    memset(&r, 0, sizeof(r));
    r.source = REC_SRC_PCAP;
    r.transport = REC_TR_TCP;
    r.ts_sec = sec;
    r.ts_nsec = nsec;
    r.reassembled = 1;
    while (tcpdns_next_key(&w->tcp, &msg, &len, &k)) {
        int one;

        r.responder.family = r.client.family = k.family;
        memcpy(r.responder.addr, k.src, 16);
        memcpy(r.client.addr, k.dst, 16);
        r.responder.port = k.sport;
        r.client.port = k.dport;
        r.msg = msg;
        r.msg_len = len;
        one = stage_submit(w->stage, &r);
        if (v != VERDICT_OK)
            v = one;
    }
    return v;
}

/* Data held behind a gap in a direction gone idle is delivered by
 * tcpdns_expire(), called here once a second of packet time. */
static void expire(struct wire *w, int64_t now, int64_t sec, int32_t nsec)
{
    if (now < w->next_expire)
        return;
    w->next_expire = now + WIRE_EXPIRE_NS;
    tcpdns_expire(&w->tcp, now);
    deliver(w, sec, nsec);
}

void wire_finish(struct wire *w)
{
    /* Whatever waits behind a gap when the input ends is all there is.
     * tcpdns_expire() hands out a flow's worth at a time. */
    for (int i = 0; i < 1000000; i++) {
        tcpdns_expire(&w->tcp, INT64_MAX);
        if (tcpdns_pending(&w->tcp) == 0)
            break;
        deliver(w, w->last_sec, w->last_nsec);
    }
}

/* A TCP segment of a port-53 stream: each message it completes is a
 * record of its own. */
static int segment(struct wire *w, const struct pkt_info *info, int64_t sec, int32_t nsec,
                   int64_t now)
{
    struct tcpdns_key k;
    unsigned flags = 0;
    int rc;

    k.family = info->ip_version;
    memcpy(k.src, info->src, 16);
    memcpy(k.dst, info->dst, 16);
    k.sport = info->sport;
    k.dport = info->dport;
    flags |= info->tcp_flags & PKT_TCP_SYN ? TCPDNS_SYN : 0;
    flags |= info->tcp_flags & PKT_TCP_FIN ? TCPDNS_FIN : 0;
    flags |= info->tcp_flags & PKT_TCP_RST ? TCPDNS_RST : 0;
    rc = tcpdns_add(&w->tcp, &k, info->tcp_seq, flags, info->payload, info->payload_len, now);
    if (rc <= 0)
        return VERDICT_HELD;
    return deliver(w, sec, nsec);
}

/* A whole (reassembled) IP datagram. */
static int datagram(struct wire *w, const struct ipfrag_out *out, struct pkt_info *info,
                    int64_t sec, int32_t nsec, int64_t now)
{
    struct rec r;
    int rc = pkt_decode_transport(out->proto, out->data, out->len, info);

    if (rc == PKT_OK && !dns_port(info))
        rc = PKT_NOT_DNS_PORT;
    if (rc < 0) {
        stage_reassembled_bad(w->stage, rc);
        return rc;
    }
    if (info->proto == 6) {
        stage_reassembled_segment(w->stage);
        return segment(w, info, sec, nsec, now);
    }
    fill(&r, info, sec, nsec);
    r.reassembled = 1;
    return stage_submit(w->stage, &r);
}

static int fragment(struct wire *w, struct pkt_info *info, int64_t sec, int32_t nsec,
                    int64_t now)
{
    struct ipfrag_key k;
    struct ipfrag_out out;
    int rc;

    if (!info->frag_data) {
        stage_undecoded(w->stage, PKT_EXT_HEADERS);
        return PKT_EXT_HEADERS;
    }
    k.family = info->ip_version;
    k.proto = info->ip_version == 4 ? info->frag_proto : 0;
    k.id = info->frag_id;
    memcpy(k.src, info->src, 16);
    memcpy(k.dst, info->dst, 16);
    stage_held(w->stage);
    rc = ipfrag_add(&w->frag, &k, info->frag_offset, info->frag_more, info->frag_proto,
                    info->frag_data, info->frag_len, now, &out);
    if (rc != IPFRAG_DONE)
        return VERDICT_HELD;
    return datagram(w, &out, info, sec, nsec, now);
}

int wire_packet(struct wire *w, int linktype, const uint8_t *data, size_t caplen,
                int64_t sec, int32_t nsec, struct pkt_info *info)
{
    int64_t now = sec * 1000000000 + nsec;
    struct rec r;
    int rc;

    w->last_sec = sec;
    w->last_nsec = nsec;
    expire(w, now, sec, nsec);
    rc = pkt_decode_ex(linktype, data, caplen, PKT_WANT_TCP, info);
    if (rc == PKT_FRAGMENT)
        return fragment(w, info, sec, nsec, now);
    if (rc == PKT_OK && info->proto == 6) {
        if (!dns_port(info))
            rc = PKT_NOT_DNS_PORT;
        else {
            stage_held(w->stage);
            return segment(w, info, sec, nsec, now);
        }
    }
    if (rc < 0) {
        stage_undecoded(w->stage, rc);
        return rc;
    }
    fill(&r, info, sec, nsec);
    return stage_submit(w->stage, &r);
}

/* The counter structs hold only uint64_t. */
static void add(uint64_t *to, const uint64_t *from, size_t bytes)
{
    for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
        to[i] += from[i];
}

void wire_add_stats(const struct wire *w, struct stats *st)
{
    add((uint64_t *)&st->frag, (const uint64_t *)&w->frag.stats, sizeof(st->frag));
    add((uint64_t *)&st->stream, (const uint64_t *)&w->tcp.stats, sizeof(st->stream));
}
