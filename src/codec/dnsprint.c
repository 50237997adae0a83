#include "config.h"

#include "codec/dnsprint.h"

#include <stdio.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A text sink that stays NUL-terminated after every write and remembers
 * an overflow, so the name loop checks for it once at the end. A NULL
 * buffer discards the text: walking a message needs the checks only. */
struct sink {
    char *buf;
    size_t size;
    size_t used;
    int full;
};

static void sink_put(struct sink *s, const char *text, size_t n)
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

static void sink_label_byte(struct sink *s, uint8_t c)
{
    char esc[5];

    if (c > 0x20 && c < 0x7f) {
        /* These would end or change the meaning of a name in a zone file
         * (RFC 1035 5.1), so they keep a backslash. */
        if (strchr(".\\\"();@$", c)) {
            esc[0] = '\\';
            esc[1] = (char)c;
            sink_put(s, esc, 2);
        } else {
            esc[0] = (char)c;
            sink_put(s, esc, 1);
        }
        return;
    }
    /* The space is escaped too so that a name is always one token. */
    esc[0] = '\\';
    esc[1] = (char)('0' + c / 100);
    esc[2] = (char)('0' + c / 10 % 10);
    esc[3] = (char)('0' + c % 10);
    sink_put(s, esc, 4);
}

int dnsprint_name(const uint8_t *msg, size_t len, size_t off, char *buf,
                  size_t size, size_t *next)
{
    struct sink s = { buf, size, 0, 0 };
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
        sink_put(&s, ".", 1);
        pos += 1u + c;
    }
    if (wire == 1)
        sink_put(&s, ".", 1);
    if (s.full)
        return DNSPRINT_ENOSPC;
    if (next)
        *next = jumped ? after : pos + 1;
    return (int)s.used;
}

int dnsprint_walk(const uint8_t *msg, size_t len, struct dnsprint_msg *m)
{
    size_t pos = DNSPRINT_HEADER_LEN;
    unsigned rrs;
    int rc;

    memset(m, 0, sizeof(*m));
    m->len = len;
    if (len < DNSPRINT_HEADER_LEN)
        return DNSPRINT_ESHORT;
    m->id = rd16(msg);
    m->flags = rd16(msg + 2);
    m->qdcount = rd16(msg + 4);
    m->ancount = rd16(msg + 6);
    m->nscount = rd16(msg + 8);
    m->arcount = rd16(msg + 10);
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
            m->qtype = rd16(msg + pos);
            m->qclass = rd16(msg + pos + 2);
        }
        pos += 4;
    }

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
        type = rd16(msg + pos);
        ttl = rd32(msg + pos + 4);
        rdlen = rd16(msg + pos + 8);
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

static const char *fmt_number(char buf[DNSPRINT_MNEMONIC_MAX],
                              const char *prefix, unsigned v)
{
    snprintf(buf, DNSPRINT_MNEMONIC_MAX, "%s%u", prefix, v);
    return buf;
}

const char *dnsprint_type(uint16_t type, char buf[DNSPRINT_MNEMONIC_MAX])
{
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 3: return "MD";
    case 4: return "MF";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 7: return "MB";
    case 8: return "MG";
    case 9: return "MR";
    case 10: return "NULL";
    case 11: return "WKS";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 14: return "MINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 18: return "AFSDB";
    case 19: return "X25";
    case 20: return "ISDN";
    case 21: return "RT";
    case 22: return "NSAP";
    case 23: return "NSAP-PTR";
    case 24: return "SIG";
    case 25: return "KEY";
    case 26: return "PX";
    case 27: return "GPOS";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 30: return "NXT";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 36: return "KX";
    case 37: return "CERT";
    case 38: return "A6";
    case 39: return "DNAME";
    case 41: return "OPT";
    case 42: return "APL";
    case 43: return "DS";
    case 44: return "SSHFP";
    case 45: return "IPSECKEY";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 49: return "DHCID";
    case 50: return "NSEC3";
    case 51: return "NSEC3PARAM";
    case 52: return "TLSA";
    case 53: return "SMIMEA";
    case 55: return "HIP";
    case 59: return "CDS";
    case 60: return "CDNSKEY";
    case 61: return "OPENPGPKEY";
    case 62: return "CSYNC";
    case 63: return "ZONEMD";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 104: return "NID";
    case 105: return "L32";
    case 106: return "L64";
    case 107: return "LP";
    case 108: return "EUI48";
    case 109: return "EUI64";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 253: return "MAILB";
    case 254: return "MAILA";
    case 255: return "ANY";
    case 256: return "URI";
    case 257: return "CAA";
    case 32768: return "TA";
    case 32769: return "DLV";
    default: return fmt_number(buf, "TYPE", type);
    }
}

const char *dnsprint_class(uint16_t cls, char buf[DNSPRINT_MNEMONIC_MAX])
{
    switch (cls) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: return fmt_number(buf, "CLASS", cls);
    }
}

const char *dnsprint_rcode(uint16_t rcode, char buf[DNSPRINT_MNEMONIC_MAX])
{
    switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
    case 11: return "DSOTYPENI";
    /* 16 is also BADSIG, but only inside a TSIG record, which the header
     * rcode never carries. */
    case 16: return "BADVERS";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 19: return "BADMODE";
    case 20: return "BADNAME";
    case 21: return "BADALG";
    case 22: return "BADTRUNC";
    case 23: return "BADCOOKIE";
    default: return fmt_number(buf, "RCODE", rcode);
    }
}

int dnsprint_flags(uint16_t flags, char sep, char *buf, size_t size)
{
    static const struct {
        uint16_t bit;
        char name[3];
    } names[] = {
        { DNSPRINT_FLAG_QR, "qr" }, { DNSPRINT_FLAG_AA, "aa" },
        { DNSPRINT_FLAG_TC, "tc" }, { DNSPRINT_FLAG_RD, "rd" },
        { DNSPRINT_FLAG_RA, "ra" }, { DNSPRINT_FLAG_AD, "ad" },
        { DNSPRINT_FLAG_CD, "cd" },
    };
    struct sink s = { buf, size, 0, 0 };

    if (size > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(flags & names[i].bit))
            continue;
        if (s.used > 0)
            sink_put(&s, &sep, 1);
        sink_put(&s, names[i].name, 2);
    }
    if (s.full || (size == 0))
        return DNSPRINT_ENOSPC;
    return (int)s.used;
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
    default: return "unknown error";
    }
}
