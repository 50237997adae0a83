#include "config.h"

#include "codec/dnsprint.h"
#include "codec/dnsprint_int.h"

#include <stdio.h>
#include <string.h>

static void sink_label_byte(struct dnsprint_sink *s, uint8_t c)
{
    char esc[2];

    if (c > 0x20 && c < 0x7f) {
        /* These would end or change the meaning of a name in a zone file
         * (RFC 1035 5.1), so they keep a backslash. */
        if (strchr(".\\\"();@$", c)) {
            esc[0] = '\\';
            esc[1] = (char)c;
            dnsprint_sink_put(s, esc, 2);
        } else {
            esc[0] = (char)c;
            dnsprint_sink_put(s, esc, 1);
        }
        return;
    }
    /* The space is escaped too so that a name is always one token. */
    dnsprint_sink_ddd(s, c);
}

int dnsprint_name(const uint8_t *msg, size_t len, size_t off, char *buf,
                  size_t size, size_t *next)
{
    struct dnsprint_sink s = { buf, size, 0, 0 };
    size_t pos = off;
    size_t after = 0;
    size_t wire = 0;
    unsigned hops = 0;
    int jumped = 0;

    if (buf && size > 0)
        buf[0] = '\0';
    for (;;) {
        uint8_t c;

        if (pos >= len)
            return DNSPRINT_ESHORT;
        c = msg[pos];
        if ((c & 0xc0) == 0xc0) {
            size_t target;

            if (len - pos < 2)
                return DNSPRINT_ESHORT;
            target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
            /* Only backward pointers occur in real messages; requiring
             * them makes every chain finite, and the hop limit guards
             * the rule itself. */
            if (target >= pos || target < DNSPRINT_HEADER_LEN ||
                ++hops > DNSPRINT_MAX_HOPS)
                return DNSPRINT_EPTR;
            if (!jumped) {
                after = pos + 2;
                jumped = 1;
            }
            pos = target;
            continue;
        }
        if (c & 0xc0)
            return DNSPRINT_ELABEL;
        wire += 1u + c;
        if (wire > DNSPRINT_WIRE_NAME_MAX)
            return DNSPRINT_ENAMELEN;
        if (c == 0)
            break;
        if (len - pos - 1 < c)
            return DNSPRINT_ESHORT;
        for (size_t i = 0; i < c; i++)
            sink_label_byte(&s, msg[pos + 1 + i]);
        dnsprint_sink_put(&s, ".", 1);
        pos += 1u + c;
    }
    if (wire == 1)
        dnsprint_sink_put(&s, ".", 1);
    if (s.full)
        return DNSPRINT_ENOSPC;
    if (next)
        *next = jumped ? after : pos + 1;
    return (int)s.used;
}

int dnsprint_walk(const uint8_t *msg, size_t len, struct dnsprint_msg *m)
{
    size_t pos = DNSPRINT_HEADER_LEN;
    uint16_t *const header[] = { &m->id,      &m->flags,   &m->qdcount,
                                 &m->ancount, &m->nscount, &m->arcount };
    unsigned rrs;
    int rc;

    memset(m, 0, sizeof(*m));
    m->len = len;
    if (len < DNSPRINT_HEADER_LEN)
        return DNSPRINT_ESHORT;
    /* The six header words, in wire order. */
    for (size_t i = 0; i < sizeof(header) / sizeof(header[0]); i++)
        *header[i] = dnsprint_rd16(msg + 2 * i);
    m->opcode = (uint8_t)(m->flags >> 11 & 0xf);
    m->rcode = m->flags & 0xf;

    for (unsigned i = 0; i < m->qdcount; i++) {
        if (i == 0)
            rc = dnsprint_name(msg, len, pos, m->qname, sizeof(m->qname),
                               &pos);
        else
            rc = dnsprint_name(msg, len, pos, NULL, 0, &pos);
        if (rc < 0)
            return rc;
        if (len - pos < 4)
            return DNSPRINT_ESHORT;
        if (i == 0) {
            m->has_question = 1;
            m->qtype = dnsprint_rd16(msg + pos);
            m->qclass = dnsprint_rd16(msg + pos + 2);
        }
        pos += 4;
    }

    m->answers = pos;
    /* The counts bound the work only through the length: each RR takes
     * at least 11 bytes, so a lying header fails on ESHORT quickly. */
    rrs = (unsigned)m->ancount + m->nscount + m->arcount;
    for (unsigned i = 0; i < rrs; i++) {
        uint16_t type, rdlen;
        uint32_t ttl;

        rc = dnsprint_name(msg, len, pos, NULL, 0, &pos);
        if (rc < 0)
            return rc;
        if (len - pos < 10)
            return DNSPRINT_ESHORT;
        type = dnsprint_rd16(msg + pos);
        ttl = dnsprint_rd32(msg + pos + 4);
        rdlen = dnsprint_rd16(msg + pos + 8);
        pos += 10;
        if (len - pos < rdlen)
            return DNSPRINT_ESHORT;
        /* RFC 6891 6.1.3: the upper 8 bits of the extended RCODE live in
         * the OPT record's TTL field. */
        if (type == DNSPRINT_TYPE_OPT && !m->has_opt &&
            i >= (unsigned)m->ancount + m->nscount) {
            m->has_opt = 1;
            m->rcode = (uint16_t)((ttl >> 24) << 4 | (m->flags & 0xf));
        }
        pos += rdlen;
    }
    m->end = pos;
    return DNSPRINT_OK;
}

int dnsprint_rr(const uint8_t *msg, size_t len, size_t off,
                struct dnsprint_rr *rr, size_t *next)
{
    size_t pos;
    int rc;

    rr->owner = off;
    rc = dnsprint_name(msg, len, off, NULL, 0, &pos);
    if (rc < 0)
        return rc;
    if (len - pos < 10)
        return DNSPRINT_ESHORT;
    rr->type = dnsprint_rd16(msg + pos);
    rr->cls = dnsprint_rd16(msg + pos + 2);
    rr->ttl = dnsprint_rd32(msg + pos + 4);
    rr->rdlen = dnsprint_rd16(msg + pos + 8);
    rr->rdata = pos + 10;
    if (len - rr->rdata < rr->rdlen)
        return DNSPRINT_ESHORT;
    if (next)
        *next = rr->rdata + rr->rdlen;
    return DNSPRINT_OK;
}

int dnsprint_summary(const struct dnsprint_msg *m, char *buf, size_t size)
{
    char flags[DNSPRINT_FLAGS_MAX];
    char tbuf[DNSPRINT_MNEMONIC_MAX], rbuf[DNSPRINT_MNEMONIC_MAX];
    const char *qname = "-", *qtype = "-";
    int n;

    if (m->has_question) {
        qname = m->qname;
        qtype = dnsprint_type(m->qtype, tbuf);
    }
    dnsprint_flags(m->flags, ',', flags, sizeof(flags));
    n = snprintf(buf, size, "%s %s %s flags=%s an=%u len=%zu", qname, qtype,
                 dnsprint_rcode(m->rcode, rbuf), flags, (unsigned)m->ancount,
                 m->len);
    if (n < 0 || (size_t)n >= size)
        return DNSPRINT_ENOSPC;
    return n;
}

const char *dnsprint_strerror(int status)
{
    switch (status) {
    case DNSPRINT_OK: return "ok";
    case DNSPRINT_ESHORT: return "truncated";
    case DNSPRINT_EPTR: return "bad compression pointer";
    case DNSPRINT_ELABEL: return "reserved label type";
    case DNSPRINT_ENAMELEN: return "name too long";
    case DNSPRINT_ENOSPC: return "output buffer too small";
    case DNSPRINT_ETOOBIG: return "too long for an IPv4/UDP packet";
    default: return "unknown error";
    }
}
