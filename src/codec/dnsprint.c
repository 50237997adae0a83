#include "config.h"

#include "codec/dnsprint.h"

#include <arpa/inet.h>
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
    rr->type = rd16(msg + pos);
    rr->cls = rd16(msg + pos + 2);
    rr->ttl = rd32(msg + pos + 4);
    rr->rdlen = rd16(msg + pos + 8);
    rr->rdata = pos + 10;
    if (len - rr->rdata < rr->rdlen)
        return DNSPRINT_ESHORT;
    if (next)
        *next = rr->rdata + rr->rdlen;
    return DNSPRINT_OK;
}

/* ------------------------------------------------------------- RDATA */

/* RDATA that does not have the shape of its type: not an error of the
 * message, the record is then printed in the generic form. Never leaves
 * this file. */
#define MALFORMED (-100)

/* A cursor over one RDATA. All reads are checked against end, which is
 * the end of the RDATA, never past the message. */
struct rdcur {
    const uint8_t *msg;
    size_t pos, end;
};

static void sink_fmt(struct sink *s, const char *fmt, unsigned long v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), fmt, v);

    sink_put(s, tmp, (size_t)n);
}

static int cur_u8(struct rdcur *c, unsigned *v)
{
    if (c->end - c->pos < 1)
        return MALFORMED;
    *v = c->msg[c->pos];
    c->pos += 1;
    return 0;
}

static int cur_u16(struct rdcur *c, unsigned *v)
{
    if (c->end - c->pos < 2)
        return MALFORMED;
    *v = rd16(c->msg + c->pos);
    c->pos += 2;
    return 0;
}

static int cur_u32(struct rdcur *c, unsigned long *v)
{
    if (c->end - c->pos < 4)
        return MALFORMED;
    *v = rd32(c->msg + c->pos);
    c->pos += 4;
    return 0;
}

/* Numbers, each read as 8, 16 or 32 bits as widths says ('1', '2', '4')
 * and written with fmt: "%lu " before a field that follows, " %lu" after
 * one. */
static int put_numbers(struct sink *s, struct rdcur *c, const char *widths,
                       const char *fmt)
{
    for (; *widths; widths++) {
        unsigned v = 0;
        unsigned long l = 0;
        int rc;

        if (*widths == '1')
            rc = cur_u8(c, &v);
        else if (*widths == '2')
            rc = cur_u16(c, &v);
        else
            rc = cur_u32(c, &l);
        if (rc < 0)
            return rc;
        sink_fmt(s, fmt, *widths == '4' ? l : v);
    }
    return 0;
}

/* A name inside the RDATA. Passing the end of the RDATA as the message
 * length keeps the labels inside it; pointers only go backwards, so they
 * stay inside the message whatever they point at. */
static int put_name(struct sink *s, struct rdcur *c)
{
    char name[DNSPRINT_NAME_MAX];
    int n = dnsprint_name(c->msg, c->end, c->pos, name, sizeof(name),
                          &c->pos);

    if (n < 0)
        return MALFORMED;
    sink_put(s, name, (size_t)n);
    return 0;
}

/* A character string's bytes, inside double quotes. */
static void put_quoted(struct sink *s, const uint8_t *p, size_t n)
{
    char esc[4];

    sink_put(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sink_put(s, esc, 2);
        } else if (c >= 0x20 && c < 0x7f) {
            esc[0] = (char)c;
            sink_put(s, esc, 1);
        } else {
            esc[0] = '\\';
            esc[1] = (char)('0' + c / 100);
            esc[2] = (char)('0' + c / 10 % 10);
            esc[3] = (char)('0' + c % 10);
            sink_put(s, esc, 4);
        }
    }
    sink_put(s, "\"", 1);
}

static void put_hex(struct sink *s, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    char pair[2];

    for (size_t i = 0; i < n; i++) {
        pair[0] = digits[p[i] >> 4];
        pair[1] = digits[p[i] & 0xf];
        sink_put(s, pair, 2);
    }
}

/* RFC 4648 section 4, with padding. */
static void put_base64(struct sink *s, const uint8_t *p, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char quad[4];

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t left = n - i;

        if (left > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (left > 2)
            v |= p[i + 2];
        quad[0] = alphabet[v >> 18 & 0x3f];
        quad[1] = alphabet[v >> 12 & 0x3f];
        quad[2] = left > 1 ? alphabet[v >> 6 & 0x3f] : '=';
        quad[3] = left > 2 ? alphabet[v & 0x3f] : '=';
        sink_put(s, quad, 4);
    }
}

/* RFC 4034 3.2: YYYYMMDDHHmmSS in UTC. The 32-bit value is read as
 * seconds since 1970, which covers every signature until 2106. Days to
 * a civil date as in Howard Hinnant's days_from_civil inverse, in
 * unsigned arithmetic since the date is never before 1970. */
static void put_sigtime(struct sink *s, unsigned long t)
{
    unsigned long days = t / 86400, secs = t % 86400;
    unsigned long z = days + 719468;
    unsigned long era = z / 146097;
    unsigned long doe = z - era * 146097;
    unsigned long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned long mp = (5 * doy + 2) / 153;
    unsigned long d = doy - (153 * mp + 2) / 5 + 1;
    unsigned long m = mp < 10 ? mp + 3 : mp - 9;
    unsigned long y = yoe + era * 400 + (m <= 2);
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%04lu%02lu%02lu%02lu%02lu%02lu", y,
                     m, d, secs / 3600, secs / 60 % 60, secs % 60);

    sink_put(s, tmp, (size_t)n);
}

/* RFC 4034 4.1.2: windows in strictly increasing order, each 1 to 32
 * octets of bitmap. Each type is written with a space in front. */
static int put_type_bitmap(struct sink *s, struct rdcur *c)
{
    int last = -1;

    while (c->pos < c->end) {
        unsigned window, n;
        char buf[DNSPRINT_MNEMONIC_MAX];

        if (cur_u8(c, &window) < 0 || cur_u8(c, &n) < 0)
            return MALFORMED;
        if ((int)window <= last || n < 1 || n > 32 || c->end - c->pos < n)
            return MALFORMED;
        last = (int)window;
        for (unsigned i = 0; i < n; i++) {
            uint8_t bits = c->msg[c->pos + i];

            for (unsigned b = 0; b < 8; b++) {
                const char *name;

                if (!(bits & (0x80 >> b)))
                    continue;
                name = dnsprint_type((uint16_t)(window << 8 | (i * 8 + b)),
                                     buf);
                sink_put(s, " ", 1);
                sink_put(s, name, strlen(name));
            }
        }
        c->pos += n;
    }
    return 0;
}

static int rdata_typed(struct sink *s, struct rdcur *c,
                       const struct dnsprint_rr *rr)
{
    const uint8_t *p = c->msg + c->pos;
    size_t n = c->end - c->pos;
    char buf[DNSPRINT_MNEMONIC_MAX];
    unsigned v;
    int rc = 0;

    switch (rr->type) {
    case 1: /* A */
        if (rr->cls != 1 || n != 4)
            return MALFORMED;
        sink_fmt(s, "%lu.", p[0]);
        sink_fmt(s, "%lu.", p[1]);
        sink_fmt(s, "%lu.", p[2]);
        sink_fmt(s, "%lu", p[3]);
        c->pos += 4;
        break;
    case 28: { /* AAAA */
        char text[INET6_ADDRSTRLEN];

        if (rr->cls != 1 || n != 16 ||
            !inet_ntop(AF_INET6, p, text, sizeof(text)))
            return MALFORMED;
        sink_put(s, text, strlen(text));
        c->pos += 16;
        break;
    }
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
    case 39: /* DNAME */
        rc = put_name(s, c);
        break;
    case 15: /* MX */
        rc = put_numbers(s, c, "2", "%lu ");
        if (rc == 0)
            rc = put_name(s, c);
        break;
    case 16: /* TXT */
    case 99: /* SPF */
        /* At least one string (RFC 1035 3.3.14). */
        if (n == 0)
            return MALFORMED;
        while (rc == 0 && c->pos < c->end) {
            rc = cur_u8(c, &v);
            if (rc == 0 && c->end - c->pos < v)
                rc = MALFORMED;
            if (rc == 0) {
                if (c->pos - 1 > rr->rdata)
                    sink_put(s, " ", 1);
                put_quoted(s, c->msg + c->pos, v);
                c->pos += v;
            }
        }
        break;
    case 6: /* SOA */
        rc = put_name(s, c);
        if (rc == 0) {
            sink_put(s, " ", 1);
            rc = put_name(s, c);
        }
        if (rc == 0)
            rc = put_numbers(s, c, "44444", " %lu");
        break;
    case 33: /* SRV */
        rc = put_numbers(s, c, "222", "%lu ");
        if (rc == 0)
            rc = put_name(s, c);
        break;
    case 257: { /* CAA, RFC 8659 4.1: the tag is 1 to 15 letters and digits */
        unsigned flags, taglen;

        rc = cur_u8(c, &flags);
        if (rc == 0)
            rc = cur_u8(c, &taglen);
        if (rc == 0 && (taglen < 1 || taglen > 15 || c->end - c->pos < taglen))
            rc = MALFORMED;
        for (unsigned i = 0; rc == 0 && i < taglen; i++) {
            uint8_t t = c->msg[c->pos + i];

            if (!((t >= '0' && t <= '9') || (t >= 'a' && t <= 'z') ||
                  (t >= 'A' && t <= 'Z')))
                rc = MALFORMED;
        }
        if (rc < 0)
            return rc;
        sink_fmt(s, "%lu ", flags);
        sink_put(s, (const char *)c->msg + c->pos, taglen);
        sink_put(s, " ", 1);
        c->pos += taglen;
        put_quoted(s, c->msg + c->pos, c->end - c->pos);
        c->pos = c->end;
        break;
    }
    case 43:    /* DS */
    case 59:    /* CDS */
        /* Key tag, algorithm, digest type and a digest of one octet at
         * least (a CDS delete request has exactly one). */
        if (n < 5)
            return MALFORMED;
        put_numbers(s, c, "211", "%lu ");
        put_hex(s, c->msg + c->pos, c->end - c->pos);
        c->pos = c->end;
        break;
    case 48: /* DNSKEY */
    case 60: /* CDNSKEY */
        if (n < 5)
            return MALFORMED;
        put_numbers(s, c, "211", "%lu ");
        put_base64(s, c->msg + c->pos, c->end - c->pos);
        c->pos = c->end;
        break;
    case 46: { /* RRSIG */
        unsigned covered = 0, alg = 0, labels = 0, tag = 0;
        unsigned long ttl = 0, expire = 0, incept = 0;
        const char *name;

        if (n < 18)
            return MALFORMED;
        cur_u16(c, &covered);
        cur_u8(c, &alg);
        cur_u8(c, &labels);
        cur_u32(c, &ttl);
        cur_u32(c, &expire);
        cur_u32(c, &incept);
        cur_u16(c, &tag);
        name = dnsprint_type((uint16_t)covered, buf);
        sink_put(s, name, strlen(name));
        sink_fmt(s, " %lu", alg);
        sink_fmt(s, " %lu", labels);
        sink_fmt(s, " %lu ", ttl);
        put_sigtime(s, expire);
        sink_put(s, " ", 1);
        put_sigtime(s, incept);
        sink_fmt(s, " %lu ", tag);
        rc = put_name(s, c);
        /* A signature of one octet at least. */
        if (rc == 0 && c->pos == c->end)
            rc = MALFORMED;
        if (rc == 0) {
            sink_put(s, " ", 1);
            put_base64(s, c->msg + c->pos, c->end - c->pos);
            c->pos = c->end;
        }
        break;
    }
    case 47: /* NSEC */
        rc = put_name(s, c);
        if (rc == 0)
            rc = put_type_bitmap(s, c);
        break;
    default:
        return MALFORMED;
    }
    if (rc == 0 && c->pos != c->end)
        rc = MALFORMED;
    return rc;
}

int dnsprint_rdata(const uint8_t *msg, size_t len,
                   const struct dnsprint_rr *rr, char *buf, size_t size)
{
    struct sink s = { buf, size, 0, 0 };
    struct rdcur c;

    if (size > 0)
        buf[0] = '\0';
    if (rr->rdata > len || len - rr->rdata < rr->rdlen)
        return DNSPRINT_ESHORT;
    c.msg = msg;
    c.pos = rr->rdata;
    c.end = rr->rdata + rr->rdlen;
    if (rdata_typed(&s, &c, rr) < 0) {
        /* RFC 3597 5: \# length hex. Starts over in an empty buffer. */
        s.used = 0;
        s.full = 0;
        if (size > 0)
            buf[0] = '\0';
        sink_fmt(&s, "\\# %lu", rr->rdlen);
        if (rr->rdlen > 0) {
            sink_put(&s, " ", 1);
            put_hex(&s, msg + rr->rdata, rr->rdlen);
        }
    }
    if (s.full || size == 0)
        return DNSPRINT_ENOSPC;
    return (int)s.used;
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

const char *dnsprint_opcode(uint8_t opcode, char buf[DNSPRINT_MNEMONIC_MAX])
{
    switch (opcode) {
    case 0: return "QUERY";
    case 1: return "IQUERY";
    case 2: return "STATUS";
    case 4: return "NOTIFY";
    case 5: return "UPDATE";
    case 6: return "DSO";
    default: return fmt_number(buf, "OPCODE", opcode);
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
    case DNSPRINT_ETOOBIG: return "too long for an IPv4/UDP packet";
    default: return "unknown error";
    }
}

/* ---------------------------------------------------------------- pcap */

static void le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, v);
    le16(p + 2, v >> 16);
}

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void dnsprint_pcap_file_header(uint8_t out[DNSPRINT_PCAP_FILE_HEADER_LEN])
{
    /* Little-endian whatever the host: readers accept either order and
     * the file is then the same on every machine. */
    le32(out, 0xa1b2c3d4);
    le16(out + 4, 2);
    le16(out + 6, 4);
    le32(out + 8, 0);  /* thiszone: UTC */
    le32(out + 12, 0); /* sigfigs */
    le32(out + 16, DNSPRINT_PCAP_SNAPLEN);
    le32(out + 20, DNSPRINT_PCAP_LINKTYPE_RAW);
}

int dnsprint_pcap_record(uint8_t out[DNSPRINT_PCAP_RECORD_PREFIX_LEN],
                         uint32_t sec, uint32_t usec, const uint8_t src[4],
                         const uint8_t dst[4], size_t dns_len)
{
    uint8_t *ip = out + 16, *udp = out + 36;
    uint32_t sum = 0;

    if (dns_len > DNSPRINT_PCAP_DNS_MAX)
        return DNSPRINT_ETOOBIG;
    le32(out, sec);
    le32(out + 4, usec);
    le32(out + 8, (uint32_t)(28 + dns_len));
    le32(out + 12, (uint32_t)(28 + dns_len));

    ip[0] = 0x45; /* version 4, 5 words */
    ip[1] = 0;
    be16(ip + 2, (uint32_t)(28 + dns_len));
    be16(ip + 4, 0);      /* ID: 0 is fine with DF (RFC 6864 4.1) */
    be16(ip + 6, 0x4000); /* DF, offset 0 */
    ip[8] = 64;
    ip[9] = 17;
    be16(ip + 10, 0);
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    /* RFC 1071: the one's complement of the one's complement sum. */
    for (int i = 0; i < 20; i += 2)
        sum += rd16(ip + i);
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    be16(ip + 10, ~sum & 0xffff);

    be16(udp, DNSPRINT_PCAP_PORT);
    be16(udp + 2, DNSPRINT_PCAP_PORT);
    be16(udp + 4, (uint32_t)(8 + dns_len));
    be16(udp + 6, 0); /* no checksum (RFC 768) */
    return DNSPRINT_PCAP_RECORD_PREFIX_LEN;
}
