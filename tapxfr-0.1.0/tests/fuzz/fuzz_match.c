/* fuzz_match.c: query/response matching on any sequence of queries and
 * responses, checked against a shadow of the last query per key and
 * against a second table with another hash seed.
 *
 * Input:
 *   byte 0       bits 0-1: max_entries, one of max_entries[] below
 *                bits 2-3: timeout, one of timeouts[]
 *                bits 4-5: max_query_bytes, one of query_bytes[]
 *   then records of 3 bytes, one message each (a short tail is ignored):
 *     byte 0     bit 0: 0 a query (match_query), 1 a response
 *                bits 1-2: which of 4 flows (client and server endpoints)
 *                bit 3: transport (0 UDP, 1 TCP)
 *                bits 4-7: time step (fuzz_time_step() in fuzz.h);
 *                          15 also calls match_expire() first
 *     byte 1     bits 0-2: DNS ID (one of 8)
 *                bits 3-4: name, one of names[]
 *                bit 5: 0x20 case randomisation of the name
 *                bits 6-7: qtype, one of qtypes[]
 *     byte 2     bits 0-3: RCODE
 *                bits 4-5: 0 one question, 1 none (QDCOUNT 0), 2 two
 *                          (the second another name), 3 raw: the next
 *                          byte is a length L and the next L bytes are
 *                          the message (its first two bytes replaced by
 *                          the ID, so that it has one of the 8 keys)
 *                bit 6: class CH instead of IN
 *                bit 7: QR the wrong way round for the direction
 *
 * The shadow keeps, per key (flow, transport, ID), the last query
 * accepted: its time, its question read by an independent parser here,
 * and its bytes. Checks after each call: the result is in range and has
 * a name; MATCH_BAD exactly when the parser here finds the message bad;
 * a matched or duplicate response has its key's last query (time, bytes
 * up to max_query_bytes, the truncation flag) and a question equal to it
 * case-insensitively, or none with an RCODE allowed to omit it; the
 * first response to match is MATCH_MATCHED, later ones MATCH_DUPLICATE;
 * with max_entries 64 (one entry per key: the table never fills), a
 * response that the rules say answers its key's last query, which is not
 * old enough to have expired, must match (or be a duplicate);
 * the gauges within max_entries; the counters add up as match.h says
 * and agree with the results returned; both tables agree on every
 * result, info and counter. At the end, expiry past the newest time
 * must leave nothing in the table. */
#include "config.h"

#include <string.h>

#include "codec/match.h"
#include "fuzz.h"

static const size_t max_entries[4] = {1, 2, 4, 64};
static const uint64_t timeouts[4] = {1, 1000, 1000000, 0};
static const size_t query_bytes[4] = {0, 12, 20, 512};
static const char *const names[4] = {
    "example.com", "www.example.com", "",
    "a-rather-long-label-to-pass-the-kept-query-bytes.abcdefghijklmnopqrstuv"
    "wxyz.abcdefghijklmnopqrstuvwxyz.example",
};
static const uint16_t qtypes[4] = {1, 28, 16, 255};

#define START_NS 1700000000000000000ll
#define NKEYS 64
#define MAX_MSG 600

struct shadow {
    int present, answered;
    int maybe_gone;     /* old enough that expiry may have dropped it */
    int64_t query_ns, answer_ns;
    int has_question;
    uint8_t question[MATCH_MAX_NAME + 4]; /* lowercased name, type, class */
    size_t question_len;
    uint8_t bytes[512];
    size_t len;
};

/* The oracle's reading of a message: -1 bad, else 0 with the first
 * question (if any: *has) lowercased into q, name, type and class. */
static int read_question(const uint8_t *m, size_t len, uint8_t *q,
                         size_t *qlen, int *has)
{
    size_t p = 12, n = 0, l;

    *has = 0;
    *qlen = 0;
    if (len < 12)
        return -1;
    if (m[4] == 0 && m[5] == 0)
        return 0;
    do {
        if (p >= len || (m[p] & 0xc0))
            return -1;
        l = m[p];
        if (n + 1 + l > MATCH_MAX_NAME || len - p < 1 + l)
            return -1;
        for (size_t k = 0; k <= l; k++) {
            uint8_t c = m[p + k];
            q[n++] = c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
        }
        p += 1 + l;
    } while (l != 0);
    if (len - p < 4)
        return -1;
    memcpy(q + n, m + p, 4);
    *qlen = n + 4;
    *has = 1;
    return 0;
}

/* The flows: two clients on one server (ports differ), another pair of
 * addresses, and IPv6. IPv4 addresses carry junk past their 4 bytes that
 * changes per record: the table must ignore it. */
static void flow(unsigned f, size_t junk, struct match_endpoint *c,
                 struct match_endpoint *s)
{
    memset(c, 0, sizeof(*c));
    memset(s, 0, sizeof(*s));
    c->family = s->family = f == 3 ? 6 : 4;
    if (f != 3) {
        memset(c->addr + 4, (int)junk, 12);
        memset(s->addr + 4, (int)(junk >> 8), 12);
    }
    c->addr[0] = f == 3 ? 0x20 : 192;
    s->addr[0] = f == 3 ? 0x20 : 198;
    c->addr[f == 3 ? 15 : 3] = f == 2 ? 2 : 1;
    s->addr[f == 3 ? 15 : 3] = f == 2 ? 54 : 53;
    c->port = (uint16_t)(f == 1 ? 40001 : 40000);
    s->port = 53;
}

static size_t put_name(uint8_t *b, size_t n, const char *name, int flip,
                       size_t salt)
{
    const char *s = name;

    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        b[n++] = (uint8_t)l;
        for (size_t k = 0; k < l; k++) {
            char ch = s[k];
            if (flip && ch >= 'a' && ch <= 'z' && (k + salt) % 3 == 0)
                ch = (char)(ch - 32);
            b[n++] = (uint8_t)ch;
        }
        s += l + (dot ? 1 : 0);
    }
    b[n++] = 0;
    return n;
}

/* Builds the message of record r into b; returns its length and moves
 * *i past any raw bytes. */
static size_t build(const uint8_t *data, size_t size, size_t *i,
                    const uint8_t *r, int response, uint8_t *b)
{
    unsigned mode = (r[2] >> 4) & 3, qd = mode == 1 ? 0 : mode == 2 ? 2 : 1;
    uint16_t id = (uint16_t)(0x5100 + (r[1] & 7));
    uint16_t qclass = r[2] & 0x40 ? 3 : 1, qtype = qtypes[r[1] >> 6];
    int qr = response ^ (r[2] >> 7);
    size_t n = 12;

    if (mode == 3) {
        size_t l = *i < size ? data[(*i)++] : 0;
        if (l > size - *i)
            l = size - *i;
        memcpy(b, data + *i, l);
        *i += l;
        if (l >= 2) {
            b[0] = (uint8_t)(id >> 8);
            b[1] = (uint8_t)id;
        }
        return l;
    }
    memset(b, 0, 12);
    b[0] = (uint8_t)(id >> 8);
    b[1] = (uint8_t)id;
    b[2] = (uint8_t)(qr << 7 | 1);
    b[3] = (uint8_t)(r[2] & 0x0f);
    b[5] = (uint8_t)qd;
    for (unsigned q = 0; q < qd; q++) {
        n = put_name(b, n, names[(((r[1] >> 3) & 3) + q) & 3], r[1] & 0x20, *i);
        b[n++] = (uint8_t)(qtype >> 8);
        b[n++] = (uint8_t)qtype;
        b[n++] = 0;
        b[n++] = (uint8_t)qclass;
    }
    return n;
}

static void check_stats(const struct match_stats *s, size_t maxe,
                        const uint64_t *rcs)
{
    FUZZ_CHECK(s->outstanding + s->answered <= maxe);
    /* One entry per key at most, and only NKEYS keys. */
    FUZZ_CHECK(maxe < NKEYS || (s->evicted == 0 && s->forgotten == 0));
    FUZZ_CHECK(s->queries == s->bad_query + s->matched + s->unanswered +
                                 s->evicted + s->replaced + s->outstanding);
    FUZZ_CHECK(s->responses == s->bad_response + s->matched + s->unmatched +
                                   s->duplicates);
    FUZZ_CHECK(s->matched == rcs[MATCH_MATCHED - MATCH_MATCHED]);
    FUZZ_CHECK(s->queries - s->bad_query ==
               rcs[MATCH_MATCHED - MATCH_QUERY_ADDED]);
    FUZZ_CHECK(s->unmatched == rcs[MATCH_MATCHED - MATCH_UNMATCHED]);
    FUZZ_CHECK(s->duplicates == rcs[MATCH_MATCHED - MATCH_DUPLICATE]);
    FUZZ_CHECK(s->bad_query + s->bad_response ==
               rcs[MATCH_MATCHED - MATCH_BAD]);
}

/* Whether a response with question q (or none: !has) and rcode may
 * answer the query sh by the rules of match.h. */
static int compatible(const struct shadow *sh, const uint8_t *q, size_t qlen,
                      int has, unsigned rcode)
{
    if (has)
        return sh->has_question && sh->question_len == qlen &&
               memcmp(sh->question, q, qlen) == 0;
    return !sh->has_question || rcode == 1 || rcode == 2 || rcode == 4 ||
           rcode == 5;
}

/* A matched or duplicate response against the last query of its key. */
static void check_info(const struct shadow *sh, const struct match_info *in,
                       size_t maxq, const uint8_t *q, size_t qlen, int has,
                       unsigned rcode)
{
    size_t keep = sh->len < maxq ? sh->len : maxq;

    FUZZ_CHECK(sh->present);
    FUZZ_CHECK(in->query_ns == sh->query_ns);
    FUZZ_CHECK(compatible(sh, q, qlen, has, rcode));
    if (maxq == 0) {
        FUZZ_CHECK(in->query == NULL && in->query_len == 0);
        return;
    }
    FUZZ_CHECK(in->query != NULL && in->query_len == keep);
    FUZZ_CHECK(in->query_truncated == (sh->len > maxq));
    FUZZ_CHECK(memcmp(in->query, sh->bytes, keep) == 0);
}

/* Marks the shadows that expiry at now may drop: an outstanding query
 * older than the timeout, an answered one whose response is. */
static void age(struct shadow *sh, int64_t now, uint64_t timeout)
{
    for (size_t k = 0; k < NKEYS; k++) {
        int64_t ref = sh[k].answered ? sh[k].answer_ns : sh[k].query_ns;
        if (sh[k].present && now > ref &&
            (uint64_t)now - (uint64_t)ref > timeout)
            sh[k].maybe_gone = 1;
    }
}

/* One message through both tables; returns the result. */
static int feed(struct match *a, struct match *b, struct shadow *sh,
                const struct match_endpoint *c, const struct match_endpoint *s,
                int tr, int response, const uint8_t *msg, size_t len,
                int64_t now)
{
    struct match_info ia, ib;
    uint8_t q[MATCH_MAX_NAME + 4];
    size_t qlen;
    int has, bad, ra, rb;
    uint8_t *copy = malloc(len ? len : 1);

    if (!copy)
        abort();
    memcpy(copy, msg, len);
    bad = read_question(copy, len, q, &qlen, &has) < 0 ||
          (int)(copy[2] >> 7) != response;
    if (response) {
        ra = match_response(a, s, c, tr, copy, len, now, &ia);
        rb = match_response(b, s, c, tr, copy, len, now, &ib);
        FUZZ_CHECK(ra == MATCH_MATCHED || ra == MATCH_UNMATCHED ||
                   ra == MATCH_DUPLICATE || ra == MATCH_BAD);
    } else {
        ra = match_query(a, c, s, tr, copy, len, now);
        rb = match_query(b, c, s, tr, copy, len, now);
        FUZZ_CHECK(ra == MATCH_QUERY_ADDED || ra == MATCH_BAD);
    }
    FUZZ_CHECK(ra == rb);
    FUZZ_CHECK(strcmp(match_result_name(ra), "unknown") != 0);
    FUZZ_CHECK((ra == MATCH_BAD) == bad);
    if (response && !bad && a->conf.max_entries == NKEYS && sh->present &&
        !sh->maybe_gone && compatible(sh, q, qlen, has, copy[3] & 0x0f))
        FUZZ_CHECK(ra == (sh->answered ? MATCH_DUPLICATE : MATCH_MATCHED));
    if (ra == MATCH_QUERY_ADDED) {
        sh->present = 1;
        sh->answered = 0;
        sh->maybe_gone = 0;
        sh->query_ns = now;
        sh->has_question = has;
        memcpy(sh->question, q, qlen);
        sh->question_len = qlen;
        sh->len = len;
        memcpy(sh->bytes, copy, len < sizeof(sh->bytes) ? len : sizeof(sh->bytes));
    } else if (ra == MATCH_MATCHED || ra == MATCH_DUPLICATE) {
        FUZZ_CHECK(sh->answered == (ra == MATCH_DUPLICATE));
        check_info(sh, &ia, a->conf.max_query_bytes, q, qlen, has,
                   copy[3] & 0x0f);
        FUZZ_CHECK(ia.query_ns == ib.query_ns && ia.query_len == ib.query_len &&
                   ia.query_truncated == ib.query_truncated);
        FUZZ_CHECK(ia.query_len == 0 ||
                   memcmp(ia.query, ib.query, ia.query_len) == 0);
        if (!sh->answered)
            sh->answer_ns = now;
        sh->answered = 1;
    }
    free(copy);
    return ra;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct match a, b;
    struct match_conf conf;
    struct shadow *sh;
    uint64_t rcs[MATCH_RESULT_COUNT] = {0};
    int64_t now = START_NS, latest = START_NS;
    uint8_t msg[MAX_MSG];

    if (size < 1)
        return 0;
    memset(&conf, 0, sizeof(conf));
    conf.max_entries = max_entries[data[0] & 3];
    conf.timeout_ns = timeouts[(data[0] >> 2) & 3];
    conf.max_query_bytes = query_bytes[(data[0] >> 4) & 3];
    conf.seed[0] = 1;
    FUZZ_CHECK(match_init(&a, &conf) == 0);
    conf.seed[0] = 0x9e3779b97f4a7c15ull;
    conf.seed[1] = 2;
    FUZZ_CHECK(match_init(&b, &conf) == 0);
    sh = calloc(NKEYS, sizeof(*sh));
    if (!sh)
        abort();

    for (size_t i = 1; i + 3 <= size;) {
        const uint8_t *r = data + i;
        unsigned f = (r[0] >> 1) & 3, tr = (r[0] >> 3) & 1;
        int response = r[0] & 1;
        struct match_endpoint c, s;
        size_t len;
        int rc;

        i += 3;
        now += fuzz_time_step(r[0] >> 4, a.conf.timeout_ns);
        if (now > latest)
            latest = now;
        if (r[0] >> 4 == 15) {
            match_expire(&a, now);
            match_expire(&b, now);
        }
        age(sh, now, a.conf.timeout_ns);
        flow(f, i, &c, &s);
        len = build(data, size, &i, r, response, msg);
        rc = feed(&a, &b, &sh[(f * 2 + tr) * 8 + (r[1] & 7)], &c, &s,
                  (int)tr + 1, response, msg, len, now);
        rcs[MATCH_MATCHED - rc]++;
        check_stats(match_stats(&a), a.conf.max_entries, rcs);
        FUZZ_CHECK(memcmp(match_stats(&a), match_stats(&b),
                          sizeof(struct match_stats)) == 0);
    }

    /* Past the timeout of the newest entry, wherever time went. */
    match_expire(&a, latest + (int64_t)a.conf.timeout_ns + 1);
    FUZZ_CHECK(match_stats(&a)->outstanding == 0);
    FUZZ_CHECK(match_stats(&a)->answered == 0);
    check_stats(match_stats(&a), a.conf.max_entries, rcs);
    free(sh);
    match_close(&a);
    match_close(&b);
    return 0;
}
