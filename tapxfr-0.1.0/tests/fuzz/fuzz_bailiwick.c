/* fuzz_bailiwick.c: bw_scrub(), bw_check(), bw_qname() and bw_in_zone()
 * on any bytes.
 *
 * Input: one byte n, then n bytes of query_zone (a wire name, valid or
 * not), then the DNS message; when fewer than n bytes follow, they are
 * all zone and the message is empty.
 *
 * Bailiwick is re-stated here with label arrays compared from the right.
 * On BW_OK the output is read twice, by bw_reader_next() and by the
 * collector's walker (dnsprint_walk, dnsprint_rr, dnsprint_name,
 * dnsprint_rdata), side by side with the input: the kept records are the
 * input's questions, its OPT and TSIG records and its records in
 * bailiwick, in order and equal after decompression; the header is the
 * input's but for the counts; removed + kept is the input's count. The
 * output scrubs to itself, and fits a buffer of exactly its size but not
 * one byte less. */
#include "config.h"

#include <string.h>

#include "codec/bailiwick.h"
#include "codec/dnsprint.h"
#include "fuzz.h"

#define RDTEXT_MAX 4096 /* the text of the RDATA compared below */

static uint8_t out[BW_MSG_MAX], out2[BW_MSG_MAX];
static char itext[RDTEXT_MAX], otext[RDTEXT_MAX];

/* Label offsets of the uncompressed name that is exactly name[0..len);
 * the count, or -1. */
static int ref_labels(const uint8_t *name, size_t len, size_t at[128])
{
    size_t pos = 0;
    int n = 0;

    if (len < 1 || len > 255)
        return -1;
    while (pos < len && name[pos] != 0) {
        if (name[pos] > 63 || n == 127)
            return -1;
        at[n++] = pos;
        pos += 1u + name[pos];
    }
    return pos == len - 1 ? n : -1;
}

static int ref_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int ref_in_zone(const uint8_t *name, size_t len, const uint8_t *zone,
                       size_t zlen)
{
    size_t na[128], za[128];
    int nl = ref_labels(name, len, na), zl = ref_labels(zone, zlen, za);

    FUZZ_CHECK(nl >= 0 && zl >= 0);
    if (zl > nl)
        return 0;
    for (int i = 1; i <= zl; i++) {
        const uint8_t *a = name + na[nl - i], *b = zone + za[zl - i];

        if (a[0] != b[0])
            return 0;
        for (unsigned j = 1; j <= a[0]; j++)
            if (ref_lower(a[j]) != ref_lower(b[j]))
                return 0;
    }
    return 1;
}

static int kept_type(uint16_t t)
{
    return t == BW_TYPE_OPT || t == BW_TYPE_TSIG;
}

/* The RFC 1035 types with names that dnsprint_rdata() decodes too, and
 * those it prints as opaque bytes although bw_scrub() re-encodes them. */
static int printed_names(uint16_t t)
{
    return t == 2 || t == 5 || t == 6 || t == 12 || t == 15;
}

static int other_names(uint16_t t)
{
    return (t >= 3 && t <= 4) || (t >= 7 && t <= 9) || t == 14;
}

static void same_bw(const struct bw_rr *a, const struct bw_rr *b)
{
    size_t na, nb;
    const uint8_t *ra = bw_rr_rdata(a, &na), *rb = bw_rr_rdata(b, &nb);

    FUZZ_CHECK(a->section == b->section && a->type == b->type &&
               a->cls == b->cls && a->ttl == b->ttl);
    FUZZ_CHECK(a->owner_len == b->owner_len &&
               memcmp(a->owner, b->owner, a->owner_len) == 0);
    FUZZ_CHECK(a->expanded == b->expanded && na == nb);
    FUZZ_CHECK(na == 0 || memcmp(ra, rb, na) == 0);
}

/* The walker's view: one question or record at *pi of the input and *po
 * of the output, compared as text (names, the RDATA of the printed name
 * types) or octets (other RDATA). */
static void same_dnsprint(const uint8_t *msg, size_t len, size_t *pi,
                          size_t olen, size_t *po, unsigned section)
{
    char in_name[DNSPRINT_NAME_MAX], out_name[DNSPRINT_NAME_MAX];
    struct dnsprint_rr ri, ro;

    FUZZ_CHECK(dnsprint_name(msg, len, *pi, in_name, sizeof(in_name),
                             NULL) >= 0);
    FUZZ_CHECK(dnsprint_name(out, olen, *po, out_name, sizeof(out_name),
                             NULL) >= 0);
    FUZZ_CHECK(strcmp(in_name, out_name) == 0);
    if (section == BW_QUESTION) {
        FUZZ_CHECK(dnsprint_name(msg, len, *pi, NULL, 0, pi) >= 0);
        FUZZ_CHECK(dnsprint_name(out, olen, *po, NULL, 0, po) >= 0);
        FUZZ_CHECK(memcmp(msg + *pi, out + *po, 4) == 0);
        *pi += 4;
        *po += 4;
        return;
    }
    FUZZ_CHECK(dnsprint_rr(msg, len, *pi, &ri, pi) == DNSPRINT_OK);
    FUZZ_CHECK(dnsprint_rr(out, olen, *po, &ro, po) == DNSPRINT_OK);
    FUZZ_CHECK(ri.type == ro.type && ri.cls == ro.cls && ri.ttl == ro.ttl);
    if (printed_names(ri.type)) {
        FUZZ_CHECK(dnsprint_rdata(msg, len, &ri, itext, sizeof(itext)) >= 0);
        FUZZ_CHECK(dnsprint_rdata(out, olen, &ro, otext, sizeof(otext)) >= 0);
        FUZZ_CHECK(strcmp(itext, otext) == 0);
    } else if (!other_names(ri.type) || ri.rdlen == 0) {
        FUZZ_CHECK(ri.rdlen == ro.rdlen);
        FUZZ_CHECK(memcmp(msg + ri.rdata, out + ro.rdata, ri.rdlen) == 0);
    }
}

/* Walks input and output side by side. */
static void check_output(const uint8_t *msg, size_t len, const uint8_t *zone,
                         size_t zlen, size_t olen, const struct bw_scrub *st)
{
    static struct bw_rr a, b;
    struct bw_reader ri, ro;
    struct dnsprint_msg mi, mo;
    size_t removed[3] = { 0, 0, 0 }, kept = 0, total = 0;
    unsigned count[4] = { 0, 0, 0, 0 };
    struct dnsprint_rr skip;
    size_t pi, po;

    FUZZ_CHECK(dnsprint_walk(msg, len, &mi) == DNSPRINT_OK);
    FUZZ_CHECK(dnsprint_walk(out, olen, &mo) == DNSPRINT_OK);
    FUZZ_CHECK(mo.end == olen);
    FUZZ_CHECK(mo.id == mi.id && mo.flags == mi.flags &&
               mo.qdcount == mi.qdcount);
    FUZZ_CHECK(bw_reader_init(&ri, msg, len) == BW_OK);
    FUZZ_CHECK(bw_reader_init(&ro, out, olen) == BW_OK);
    pi = po = DNSPRINT_HEADER_LEN;
    while (bw_reader_next(&ri, &a) == 1) {
        total += a.section != BW_QUESTION;
        if (a.section != BW_QUESTION && !kept_type(a.type) &&
            !ref_in_zone(a.owner, a.owner_len, zone, zlen)) {
            removed[a.section - 1]++;
            FUZZ_CHECK(dnsprint_rr(msg, len, pi, &skip, &pi) == DNSPRINT_OK);
            continue;
        }
        FUZZ_CHECK(bw_reader_next(&ro, &b) == 1);
        same_bw(&a, &b);
        same_dnsprint(msg, len, &pi, olen, &po, a.section);
        FUZZ_CHECK(b.section == BW_QUESTION || kept_type(b.type) ||
                   ref_in_zone(b.owner, b.owner_len, zone, zlen));
        count[b.section]++;
        kept += b.section != BW_QUESTION;
    }
    FUZZ_CHECK(bw_reader_next(&ri, &a) == 0);
    FUZZ_CHECK(bw_reader_next(&ro, &b) == 0);
    FUZZ_CHECK(pi == len && po == olen);
    FUZZ_CHECK(mo.ancount == count[1] && mo.nscount == count[2] &&
               mo.arcount == count[3]);
    FUZZ_CHECK(st->kept == kept && total == kept + removed[0] + removed[1] +
                                               removed[2]);
    for (int i = 0; i < 3; i++)
        FUZZ_CHECK(st->removed[i] == removed[i]);
}

/* Deterministic re-encoding: the output scrubs to itself, and needs
 * exactly its own size. */
static void check_again(const uint8_t *zone, size_t zlen, size_t olen,
                        const struct bw_scrub *st)
{
    struct bw_scrub s2;
    size_t olen2 = 1;

    FUZZ_CHECK(bw_scrub(out, olen, zone, zlen, out2, sizeof(out2), &olen2,
                        &s2) == BW_OK);
    FUZZ_CHECK(olen2 == olen && memcmp(out, out2, olen) == 0);
    FUZZ_CHECK(s2.kept == st->kept && s2.removed[0] == 0 &&
               s2.removed[1] == 0 && s2.removed[2] == 0);
    FUZZ_CHECK(bw_scrub(out, olen, zone, zlen, out2, olen, &olen2, &s2) ==
               BW_OK);
    FUZZ_CHECK(olen2 == olen && memcmp(out, out2, olen) == 0);
    FUZZ_CHECK(bw_scrub(out, olen, zone, zlen, out2, olen - 1, &olen2,
                        &s2) == BW_TOO_BIG);
    FUZZ_CHECK(olen2 == 0 && s2.kept == 0);
}

/* bw_check() is bw_qname() then bailiwick. */
static void check_question(const uint8_t *msg, size_t len,
                           const uint8_t *zone, size_t zlen, int zone_ok)
{
    uint8_t name[BW_NAME_MAX];
    size_t n = 0;
    int rc = bw_check(msg, len, zone, zlen);
    int q = bw_qname(msg, len, name, &n);

    FUZZ_CHECK(strcmp(bw_result_name(rc), "unknown") != 0);
    if (!zone_ok) {
        FUZZ_CHECK(rc == BW_NO_ZONE);
        return;
    }
    FUZZ_CHECK(q == BW_OK || q == BW_NO_QUESTION || q == BW_MALFORMED);
    if (q != BW_OK) {
        FUZZ_CHECK(rc == q);
        return;
    }
    FUZZ_CHECK(bw_in_zone(name, n, zone, zlen) ==
               ref_in_zone(name, n, zone, zlen));
    FUZZ_CHECK(rc == (ref_in_zone(name, n, zone, zlen) ? BW_OK : BW_OUT));
}

/* Parses the input whole with the reader; 1 when it can be. */
static int parses(const uint8_t *msg, size_t len)
{
    static struct bw_rr rr;
    struct bw_reader r;
    int rc;

    if (bw_reader_init(&r, msg, len) < 0)
        return 0;
    while ((rc = bw_reader_next(&r, &rr)) == 1)
        ;
    FUZZ_CHECK(rc == 0 || rc == BW_MALFORMED);
    FUZZ_CHECK(bw_reader_next(&r, &rr) == rc);
    return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *zone, *msg;
    size_t zlen, len, olen = 1, at[128];
    struct bw_scrub st;
    int zone_ok, rc;

    if (size < 1)
        return 0;
    zlen = data[0] < size - 1 ? data[0] : size - 1;
    zone = data + 1;
    msg = zone + zlen;
    len = size - 1 - zlen;
    zone_ok = ref_labels(zone, zlen, at) >= 0;
    FUZZ_CHECK(bw_in_zone(zone, zlen, zone, zlen) ==
               (zone_ok ? 1 : BW_NO_ZONE));
    FUZZ_CHECK(!zone_ok || bw_in_zone(zone, zlen, (const uint8_t *)"", 1) == 1);

    check_question(msg, len, zone, zlen, zone_ok);
    rc = bw_scrub(msg, len, zone, zlen, out, sizeof(out), &olen, &st);
    FUZZ_CHECK(strcmp(bw_result_name(rc), "unknown") != 0);
    if (rc != BW_OK)
        FUZZ_CHECK(olen == 0 && st.kept == 0 && st.removed[0] == 0);
    if (!zone_ok) {
        FUZZ_CHECK(rc == BW_NO_ZONE);
        return 0;
    }
    if (!parses(msg, len)) {
        FUZZ_CHECK(rc == BW_MALFORMED);
        return 0;
    }
    FUZZ_CHECK(rc == BW_OK || rc == BW_TOO_BIG);
    if (rc == BW_OK) {
        check_output(msg, len, zone, zlen, olen, &st);
        check_again(zone, zlen, olen, &st);
    }
    return 0;
}
