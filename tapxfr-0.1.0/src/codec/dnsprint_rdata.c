/* dnsprint_rdata.c: RDATA in presentation format, a formatter per RR
 * type or group of alike types and the RFC 3597 generic form for the rest
 * (the contract is at dnsprint_rdata() in dnsprint.h). */
#include "config.h"

#include "codec/dnsprint.h"
#include "codec/dnsprint_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

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
    *v = dnsprint_rd16(c->msg + c->pos);
    c->pos += 2;
    return 0;
}

static int cur_u32(struct rdcur *c, unsigned long *v)
{
    if (c->end - c->pos < 4)
        return MALFORMED;
    *v = dnsprint_rd32(c->msg + c->pos);
    c->pos += 4;
    return 0;
}

/* Numbers, each read as 8, 16 or 32 bits as widths says ('1', '2', '4')
 * and written with fmt: "%lu " before a field that follows, " %lu" after
 * one. */
static int put_numbers(struct dnsprint_sink *s, struct rdcur *c,
                       const char *widths, const char *fmt)
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
        dnsprint_sink_fmt(s, fmt, *widths == '4' ? l : v);
    }
    return 0;
}

/* A name inside the RDATA. Passing the end of the RDATA as the message
 * length keeps the labels inside it; pointers only go backwards, so they
 * stay inside the message whatever they point at. */
static int put_name(struct dnsprint_sink *s, struct rdcur *c)
{
    char name[DNSPRINT_NAME_MAX];
    int n = dnsprint_name(c->msg, c->end, c->pos, name, sizeof(name),
                          &c->pos);

    if (n < 0)
        return MALFORMED;
    dnsprint_sink_put(s, name, (size_t)n);
    return 0;
}

/* A character string's bytes, inside double quotes. */
static void put_quoted(struct dnsprint_sink *s, const uint8_t *p, size_t n)
{
    char esc[2];

    dnsprint_sink_put(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            dnsprint_sink_put(s, esc, 2);
        } else if (c >= 0x20 && c < 0x7f) {
            esc[0] = (char)c;
            dnsprint_sink_put(s, esc, 1);
        } else {
            dnsprint_sink_ddd(s, c);
        }
    }
    dnsprint_sink_put(s, "\"", 1);
}

static void put_hex(struct dnsprint_sink *s, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    char pair[2];

    for (size_t i = 0; i < n; i++) {
        pair[0] = digits[p[i] >> 4];
        pair[1] = digits[p[i] & 0xf];
        dnsprint_sink_put(s, pair, 2);
    }
}

/* RFC 4648 section 4, with padding. */
static void put_base64(struct dnsprint_sink *s, const uint8_t *p, size_t n)
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
        dnsprint_sink_put(s, quad, 4);
    }
}

/* RFC 4034 3.2: YYYYMMDDHHmmSS in UTC. The 32-bit value is read as
 * seconds since 1970, which covers every signature until 2106. Days to
 * a civil date as in Howard Hinnant's days_from_civil inverse, in
 * unsigned arithmetic since the date is never before 1970. */
static void put_sigtime(struct dnsprint_sink *s, unsigned long t)
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

    dnsprint_sink_put(s, tmp, (size_t)n);
}

/* RFC 4034 4.1.2: windows in strictly increasing order, each 1 to 32
 * octets of bitmap. Each type is written with a space in front. */
static int put_type_bitmap(struct dnsprint_sink *s, struct rdcur *c)
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
                dnsprint_sink_put(s, " ", 1);
                dnsprint_sink_put(s, name, strlen(name));
            }
        }
        c->pos += n;
    }
    return 0;
}

/* The formatters, all alike: they print from the cursor on and return 0
 * or MALFORMED. Whether the whole RDATA was used up is checked once, by
 * rdata_typed(). */
typedef int rdata_fmt(struct dnsprint_sink *s, struct rdcur *c,
                      const struct dnsprint_rr *rr);

static int fmt_a(struct dnsprint_sink *s, struct rdcur *c,
                 const struct dnsprint_rr *rr)
{
    const uint8_t *p = c->msg + c->pos;

    if (rr->cls != 1 || c->end - c->pos != 4)
        return MALFORMED;
    dnsprint_sink_fmt(s, "%lu.", p[0]);
    dnsprint_sink_fmt(s, "%lu.", p[1]);
    dnsprint_sink_fmt(s, "%lu.", p[2]);
    dnsprint_sink_fmt(s, "%lu", p[3]);
    c->pos += 4;
    return 0;
}

static int fmt_aaaa(struct dnsprint_sink *s, struct rdcur *c,
                    const struct dnsprint_rr *rr)
{
    char text[INET6_ADDRSTRLEN];

    if (rr->cls != 1 || c->end - c->pos != 16 ||
        !inet_ntop(AF_INET6, c->msg + c->pos, text, sizeof(text)))
        return MALFORMED;
    dnsprint_sink_put(s, text, strlen(text));
    c->pos += 16;
    return 0;
}

/* NS, CNAME, PTR, DNAME: a name and nothing else. */
static int fmt_name(struct dnsprint_sink *s, struct rdcur *c,
                    const struct dnsprint_rr *rr)
{
    (void)rr;
    return put_name(s, c);
}

/* MX (preference) and SRV (priority, weight, port): numbers, then a
 * name. */
static int fmt_numbers_name(struct dnsprint_sink *s, struct rdcur *c,
                            const struct dnsprint_rr *rr)
{
    int rc = put_numbers(s, c, rr->type == 15 ? "2" : "222", "%lu ");

    if (rc == 0)
        rc = put_name(s, c);
    return rc;
}

/* TXT, SPF. */
static int fmt_txt(struct dnsprint_sink *s, struct rdcur *c,
                   const struct dnsprint_rr *rr)
{
    unsigned v;
    int rc = 0;

    /* At least one string (RFC 1035 3.3.14). */
    if (c->end == c->pos)
        return MALFORMED;
    while (rc == 0 && c->pos < c->end) {
        rc = cur_u8(c, &v);
        if (rc == 0 && c->end - c->pos < v)
            rc = MALFORMED;
        if (rc == 0) {
            if (c->pos - 1 > rr->rdata)
                dnsprint_sink_put(s, " ", 1);
            put_quoted(s, c->msg + c->pos, v);
            c->pos += v;
        }
    }
    return rc;
}

static int fmt_soa(struct dnsprint_sink *s, struct rdcur *c,
                   const struct dnsprint_rr *rr)
{
    int rc = put_name(s, c);

    (void)rr;
    if (rc == 0) {
        dnsprint_sink_put(s, " ", 1);
        rc = put_name(s, c);
    }
    if (rc == 0)
        rc = put_numbers(s, c, "44444", " %lu");
    return rc;
}

/* RFC 8659 4.1: the tag is 1 to 15 letters and digits. */
static int fmt_caa(struct dnsprint_sink *s, struct rdcur *c,
                   const struct dnsprint_rr *rr)
{
    unsigned flags, taglen;
    int rc;

    (void)rr;
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
    dnsprint_sink_fmt(s, "%lu ", flags);
    dnsprint_sink_put(s, (const char *)c->msg + c->pos, taglen);
    dnsprint_sink_put(s, " ", 1);
    c->pos += taglen;
    put_quoted(s, c->msg + c->pos, c->end - c->pos);
    c->pos = c->end;
    return 0;
}

/* DS and CDS (key tag, algorithm, digest type, then the digest in hex),
 * DNSKEY and CDNSKEY (flags, protocol, algorithm, then the key in
 * base64): three numbers and a blob of one octet at least (a CDS delete
 * request has exactly one). */
static int fmt_numbers_blob(struct dnsprint_sink *s, struct rdcur *c,
                            const struct dnsprint_rr *rr)
{
    if (c->end - c->pos < 5)
        return MALFORMED;
    put_numbers(s, c, "211", "%lu ");
    if (rr->type == 43 || rr->type == 59)
        put_hex(s, c->msg + c->pos, c->end - c->pos);
    else
        put_base64(s, c->msg + c->pos, c->end - c->pos);
    c->pos = c->end;
    return 0;
}

static int fmt_rrsig(struct dnsprint_sink *s, struct rdcur *c,
                     const struct dnsprint_rr *rr)
{
    unsigned covered = 0, alg = 0, labels = 0, tag = 0;
    unsigned long ttl = 0, expire = 0, incept = 0;
    char buf[DNSPRINT_MNEMONIC_MAX];
    const char *name;
    int rc;

    (void)rr;
    if (c->end - c->pos < 18)
        return MALFORMED;
    cur_u16(c, &covered);
    cur_u8(c, &alg);
    cur_u8(c, &labels);
    cur_u32(c, &ttl);
    cur_u32(c, &expire);
    cur_u32(c, &incept);
    cur_u16(c, &tag);
    name = dnsprint_type((uint16_t)covered, buf);
    dnsprint_sink_put(s, name, strlen(name));
    dnsprint_sink_fmt(s, " %lu", alg);
    dnsprint_sink_fmt(s, " %lu", labels);
    dnsprint_sink_fmt(s, " %lu ", ttl);
    put_sigtime(s, expire);
    dnsprint_sink_put(s, " ", 1);
    put_sigtime(s, incept);
    dnsprint_sink_fmt(s, " %lu ", tag);
    rc = put_name(s, c);
    /* A signature of one octet at least. */
    if (rc == 0 && c->pos == c->end)
        rc = MALFORMED;
    if (rc == 0) {
        dnsprint_sink_put(s, " ", 1);
        put_base64(s, c->msg + c->pos, c->end - c->pos);
        c->pos = c->end;
    }
    return rc;
}

static int fmt_nsec(struct dnsprint_sink *s, struct rdcur *c,
                    const struct dnsprint_rr *rr)
{
    int rc = put_name(s, c);

    (void)rr;
    if (rc == 0)
        rc = put_type_bitmap(s, c);
    return rc;
}

static const struct {
    uint16_t type;
    rdata_fmt *fmt;
} formatters[] = {
    { 1, fmt_a },             /* A */
    { 2, fmt_name },          /* NS */
    { 5, fmt_name },          /* CNAME */
    { 6, fmt_soa },           /* SOA */
    { 12, fmt_name },         /* PTR */
    { 15, fmt_numbers_name }, /* MX */
    { 16, fmt_txt },          /* TXT */
    { 28, fmt_aaaa },         /* AAAA */
    { 33, fmt_numbers_name }, /* SRV */
    { 39, fmt_name },         /* DNAME */
    { 43, fmt_numbers_blob }, /* DS */
    { 46, fmt_rrsig },        /* RRSIG */
    { 47, fmt_nsec },         /* NSEC */
    { 48, fmt_numbers_blob }, /* DNSKEY */
    { 59, fmt_numbers_blob }, /* CDS */
    { 60, fmt_numbers_blob }, /* CDNSKEY */
    { 99, fmt_txt },          /* SPF */
    { 257, fmt_caa },         /* CAA */
};

static int rdata_typed(struct dnsprint_sink *s, struct rdcur *c,
                       const struct dnsprint_rr *rr)
{
    for (size_t i = 0; i < sizeof(formatters) / sizeof(formatters[0]); i++) {
        if (formatters[i].type != rr->type)
            continue;
        if (formatters[i].fmt(s, c, rr) < 0 || c->pos != c->end)
            return MALFORMED;
        return 0;
    }
    return MALFORMED;
}

int dnsprint_rdata(const uint8_t *msg, size_t len,
                   const struct dnsprint_rr *rr, char *buf, size_t size)
{
    struct dnsprint_sink s = { buf, size, 0, 0 };
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
        dnsprint_sink_fmt(&s, "\\# %lu", rr->rdlen);
        if (rr->rdlen > 0) {
            dnsprint_sink_put(&s, " ", 1);
            put_hex(&s, msg + rr->rdata, rr->rdlen);
        }
    }
    if (s.full || size == 0)
        return DNSPRINT_ENOSPC;
    return (int)s.used;
}
