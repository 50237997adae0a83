#include "config.h"

#include "codec/dns.h"

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

int dns_header_read(const uint8_t *msg, size_t len, struct dns_header *h)
{
    if (len < DNS_HEADER_LEN)
        return DNS_DROP_SHORT;
    h->id = rd16(msg);
    h->flags = rd16(msg + 2);
    h->qdcount = rd16(msg + 4);
    h->ancount = rd16(msg + 6);
    h->nscount = rd16(msg + 8);
    h->arcount = rd16(msg + 10);
    return 0;
}

int dns_check(const struct dns_filter *f, const uint8_t *msg, size_t len,
              struct dns_header *h)
{
    if (dns_header_read(msg, len, h) < 0)
        return DNS_DROP_SHORT;
    if (h->qdcount >= DNS_MAX_QDCOUNT || h->ancount >= DNS_MAX_RRCOUNT ||
        h->nscount >= DNS_MAX_RRCOUNT || h->arcount >= DNS_MAX_RRCOUNT)
        return DNS_DROP_HEADER;
    if (!(h->flags & DNS_FLAG_QR))
        return DNS_DROP_QUERY;
    /* A truncated answer is kept even when empty: it tells the collector
     * that the name exists and a TCP retry follows. */
    if (f->drop_no_answer && h->ancount == 0 && !(h->flags & DNS_FLAG_TC))
        return DNS_DROP_NO_ANSWER;
    if (f->auth_only && !(h->flags & DNS_FLAG_AA))
        return DNS_DROP_NOT_AUTH;
    if (len > f->max_size)
        return DNS_DROP_OVERSIZE;
    return DNS_FORWARD;
}

const char *dns_verdict_name(int verdict)
{
    static const char *const names[DNS_VERDICT_COUNT] = {
        "forward", "dns_short", "dns_header", "query",
        "no_answer", "not_auth", "oversize",
    };
    if (verdict > 0 || -verdict >= DNS_VERDICT_COUNT)
        return "unknown";
    return names[-verdict];
}
