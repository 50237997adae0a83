/* Unit tests for query/response matching (src/codec/match.c).
 *
 * Messages are built by msg() from a few fields (ID, flags, question
 * count, name, type, class), each into a heap block of exactly its size,
 * so a build with -fsanitize=address catches any read past it.
 *
 * The rules of match.h are one table: a fixed query, then one response
 * that differs from the genuine one in one field, and the result it must
 * give, for UDP and TCP over IPv4 and IPv6. Time (timeout edges, expiry),
 * duplicates, pipelining, replacement, eviction, query bytes and the
 * histogram are scripts of their own. Every table is drained at the end,
 * which must leave nothing outstanding and the counters adding up. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/match.h"

#define T0 1000000000000ll /* packet time of the first query */
#define MS 1000000ll
#define SEC 1000000000ll

#define QR 0x8000
#define RD 0x0100

/* ------------------------------------------------------------ helpers */

struct built {
    uint8_t *p;
    size_t len;
};

/* A message: header, then qdcount copies of the question (name in dotted
 * form, "" for the root). */
static struct built msg(uint16_t id, uint16_t flags, uint16_t qdcount,
                        const char *name, uint16_t type, uint16_t qclass)
{
    uint8_t buf[1024];
    size_t n = 12;
    struct built b;

    memset(buf, 0, 12);
    buf[0] = (uint8_t)(id >> 8);
    buf[1] = (uint8_t)id;
    buf[2] = (uint8_t)(flags >> 8);
    buf[3] = (uint8_t)flags;
    buf[5] = (uint8_t)qdcount;
    for (uint16_t q = 0; q < qdcount; q++) {
        const char *s = name;
        while (*s) {
            const char *dot = strchr(s, '.');
            size_t l = dot ? (size_t)(dot - s) : strlen(s);
            buf[n++] = (uint8_t)l;
            memcpy(buf + n, s, l);
            n += l;
            s += l + (dot ? 1 : 0);
        }
        buf[n++] = 0;
        buf[n++] = (uint8_t)(type >> 8);
        buf[n++] = (uint8_t)type;
        buf[n++] = (uint8_t)(qclass >> 8);
        buf[n++] = (uint8_t)qclass;
    }
    b.p = malloc(n);
    assert_non_null(b.p);
    memcpy(b.p, buf, n);
    b.len = n;
    return b;
}

static struct match_endpoint ep(int family, uint8_t last, uint16_t port)
{
    struct match_endpoint e;

    memset(&e, 0, sizeof(e));
    e.family = (uint8_t)family;
    if (family == 4) {
        e.addr[0] = 192;
        e.addr[2] = 2;
    } else {
        e.addr[0] = 0x20;
        e.addr[1] = 0x01;
        e.addr[2] = 0x0d;
        e.addr[3] = 0xb8;
    }
    e.addr[family == 4 ? 3 : 15] = last;
    e.port = port;
    return e;
}

static struct match_conf conf_of(size_t entries, size_t query_bytes)
{
    struct match_conf c;

    memset(&c, 0, sizeof(c));
    c.max_entries = entries;
    c.timeout_ns = 10 * SEC;
    c.max_query_bytes = query_bytes;
    c.seed[0] = 0x0123456789abcdefull;
    c.seed[1] = 0xfedcba9876543210ull;
    return c;
}

static void table_init(struct match *m, size_t entries, size_t query_bytes)
{
    struct match_conf c = conf_of(entries, query_bytes);

    assert_int_equal(match_init(m, &c), 0);
}

static int query(struct match *m, const struct match_endpoint *c,
                 const struct match_endpoint *s, int tr, struct built b,
                 int64_t now)
{
    int rc = match_query(m, c, s, tr, b.p, b.len, now);

    free(b.p);
    return rc;
}

static int response(struct match *m, const struct match_endpoint *s,
                    const struct match_endpoint *c, int tr, struct built b,
                    int64_t now, struct match_info *info)
{
    int rc = match_response(m, s, c, tr, b.p, b.len, now, info);

    free(b.p);
    return rc;
}

static void assert_accounts(const struct match_stats *s)
{
    assert_int_equal(s->queries, s->bad_query + s->matched + s->unanswered +
                                     s->evicted + s->replaced +
                                     s->outstanding);
    assert_int_equal(s->responses, s->bad_response + s->matched +
                                       s->unmatched + s->duplicates);
}

/* Nothing outstanding once everything has timed out; closes m. */
static void drain_and_close(struct match *m, int64_t now)
{
    match_expire(m, now + 11 * SEC);
    assert_int_equal(match_stats(m)->outstanding, 0);
    assert_int_equal(match_stats(m)->answered, 0);
    assert_accounts(match_stats(m));
    match_close(m);
}

/* ------------------------------------------------------------ the rules */

/* How the response differs from the genuine one. */
struct resp_case {
    const char *name;
    int id_delta, cport_delta, sport_delta, caddr_delta, saddr_delta;
    int other_transport;
    const char *qname; /* NULL: the query's */
    uint16_t qtype, qclass, qdcount, rcode; /* qtype 0: the query's */
    int no_question;   /* QDCOUNT 0 */
    int want;
};

#define Q_NAME "www.Example.com"

static const struct resp_case resp_cases[] = {
    {"genuine", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 1, 0, 0, MATCH_MATCHED},
    {"wrong id", 1, 0, 0, 0, 0, 0, NULL, 0, 0, 1, 0, 0, MATCH_UNMATCHED},
    {"wrong client port", 0, 1, 0, 0, 0, 0, NULL, 0, 0, 1, 0, 0, MATCH_UNMATCHED},
    {"wrong server port", 0, 0, 1, 0, 0, 0, NULL, 0, 0, 1, 0, 0, MATCH_UNMATCHED},
    {"wrong client address", 0, 0, 0, 1, 0, 0, NULL, 0, 0, 1, 0, 0, MATCH_UNMATCHED},
    {"wrong server address", 0, 0, 0, 0, 1, 0, NULL, 0, 0, 1, 0, 0, MATCH_UNMATCHED},
    {"wrong transport", 0, 0, 0, 0, 0, 1, NULL, 0, 0, 1, 0, 0, MATCH_UNMATCHED},
    {"wrong name", 0, 0, 0, 0, 0, 0, "www.example.net", 0, 0, 1, 0, 0, MATCH_UNMATCHED},
    {"name one label longer", 0, 0, 0, 0, 0, 0, "a.www.example.com", 0, 0, 1, 0, 0,
     MATCH_UNMATCHED},
    {"wrong type", 0, 0, 0, 0, 0, 0, NULL, 28, 0, 1, 0, 0, MATCH_UNMATCHED},
    {"wrong class", 0, 0, 0, 0, 0, 0, NULL, 0, 3, 1, 0, 0, MATCH_UNMATCHED},
    {"0x20 case changed", 0, 0, 0, 0, 0, 0, "wWw.eXaMPLE.CoM", 0, 0, 1, 0, 0,
     MATCH_MATCHED},
    {"all lower case", 0, 0, 0, 0, 0, 0, "www.example.com", 0, 0, 1, 0, 0,
     MATCH_MATCHED},
    {"SERVFAIL, an error answer", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 1, 2, 0, MATCH_MATCHED},
    {"two questions, first equal", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 2, 0, 0, MATCH_MATCHED},
    {"no question, FORMERR", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 1, 1, MATCH_MATCHED},
    {"no question, SERVFAIL", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 2, 1, MATCH_MATCHED},
    {"no question, NOTIMP", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 4, 1, MATCH_MATCHED},
    {"no question, REFUSED", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 5, 1, MATCH_MATCHED},
    {"no question, NOERROR", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 0, 1, MATCH_UNMATCHED},
    {"no question, NXDOMAIN", 0, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 3, 1, MATCH_UNMATCHED},
    {"no question, REFUSED, wrong id", 1, 0, 0, 0, 0, 0, NULL, 0, 0, 0, 5, 1,
     MATCH_UNMATCHED},
    {"no question, REFUSED, wrong port", 0, 1, 0, 0, 0, 0, NULL, 0, 0, 0, 5, 1,
     MATCH_UNMATCHED},
};

static void run_resp_case(const struct resp_case *rc, int family, int tr)
{
    struct match m;
    struct match_info info;
    struct match_endpoint c = ep(family, 1, 40000), s = ep(family, 53, 53);
    struct match_endpoint rcl, rsv;
    int other = tr == MATCH_UDP ? MATCH_TCP : MATCH_UDP;
    int got;

    table_init(&m, 16, 0);
    assert_int_equal(query(&m, &c, &s, tr, msg(0x1234, RD, 1, Q_NAME, 1, 1), T0),
                     MATCH_QUERY_ADDED);
    rcl = ep(family, (uint8_t)(1 + rc->caddr_delta),
             (uint16_t)(40000 + rc->cport_delta));
    rsv = ep(family, (uint8_t)(53 + rc->saddr_delta),
             (uint16_t)(53 + rc->sport_delta));
    memset(&info, 0, sizeof(info));
    got = response(&m, &rsv, &rcl, rc->other_transport ? other : tr,
                   msg((uint16_t)(0x1234 + rc->id_delta), (uint16_t)(QR | RD | rc->rcode),
                       rc->no_question ? 0 : rc->qdcount,
                       rc->qname ? rc->qname : Q_NAME, rc->qtype ? rc->qtype : 1,
                       rc->qclass ? rc->qclass : 1),
                   T0 + 3 * MS, &info);
    if (got != rc->want)
        fail_msg("%s (IPv%d, transport %d): %s, want %s", rc->name, family, tr,
                 match_result_name(got), match_result_name(rc->want));
    if (got == MATCH_MATCHED) {
        assert_int_equal(info.query_ns, T0);
        assert_null(info.query);
        assert_int_equal(match_stats(&m)->outstanding, 0);
    } else {
        assert_int_equal(match_stats(&m)->outstanding, 1);
    }
    assert_accounts(match_stats(&m));
    drain_and_close(&m, T0);
}

static void test_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++)
        for (int f = 4; f <= 6; f += 2)
            for (int tr = MATCH_UDP; tr <= MATCH_TCP; tr++)
                run_resp_case(&resp_cases[i], f, tr);
}

/* Messages that are MATCH_BAD, as queries and as responses. */
static void test_bad(void **state)
{
    static const struct {
        const char *name;
        uint8_t b[40];
        size_t len;
    } bad[] = {
        {"short", {0x12, 0x34, 0, 0, 0, 1}, 11},
        {"cut in the name", {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w'}, 15},
        {"no root label", {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'w'}, 14},
        {"cut in type/class", {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 16},
        {"pointer to itself", {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12,
                               0, 1, 0, 1}, 18},
        {"pointer after a label", {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a',
                                   0xc0, 12, 0, 1, 0, 1}, 20},
        {"extended label type", {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0,
                                 0, 1, 0, 1}, 18},
        {"label type 0x80", {0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x80, 0,
                             0, 1, 0, 1}, 18},
    };
    struct match m;
    struct match_info info;
    struct match_endpoint c = ep(4, 1, 40000), s = ep(4, 53, 53), v6 = ep(6, 53, 53);
    uint8_t big[300];
    (void)state;

    table_init(&m, 16, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t *p = malloc(bad[i].len);
        assert_non_null(p);
        memcpy(p, bad[i].b, bad[i].len);
        if (match_query(&m, &c, &s, MATCH_UDP, p, bad[i].len, T0) != MATCH_BAD)
            fail_msg("%s: a query", bad[i].name);
        p[2] |= 0x80;
        if (match_response(&m, &s, &c, MATCH_UDP, p, bad[i].len, T0, &info) !=
            MATCH_BAD)
            fail_msg("%s: a response", bad[i].name);
        free(p);
    }
    /* A name of 256 bytes: 4 labels of 63 and a root make 257. */
    memset(big, 0, sizeof(big));
    big[5] = 1;
    for (size_t k = 0; k < 4; k++)
        big[12 + 64 * k] = 63;
    assert_int_equal(match_query(&m, &c, &s, MATCH_UDP, big, sizeof(big), T0),
                     MATCH_BAD);
    /* 255 bytes (3 of 63, one of 61, root) is the largest name. */
    big[12 + 64 * 3] = 61;
    big[12 + 64 * 3 + 62] = 0;
    assert_int_equal(match_query(&m, &c, &s, MATCH_UDP, big, 12 + 255 + 4, T0),
                     MATCH_QUERY_ADDED);
    /* The wrong direction, family, transport. */
    assert_int_equal(query(&m, &c, &s, MATCH_UDP, msg(1, QR, 1, "a", 1, 1), T0),
                     MATCH_BAD);
    assert_int_equal(response(&m, &s, &c, MATCH_UDP, msg(1, 0, 1, "a", 1, 1), T0,
                              &info), MATCH_BAD);
    assert_int_equal(query(&m, &c, &v6, MATCH_UDP, msg(1, 0, 1, "a", 1, 1), T0),
                     MATCH_BAD);
    c.family = 5;
    assert_int_equal(query(&m, &c, &s, MATCH_UDP, msg(1, 0, 1, "a", 1, 1), T0),
                     MATCH_BAD);
    c.family = 4;
    assert_int_equal(query(&m, &c, &s, 3, msg(1, 0, 1, "a", 1, 1), T0), MATCH_BAD);
    assert_int_equal(response(&m, &s, &c, 0, msg(1, QR, 1, "a", 1, 1), T0, &info),
                     MATCH_BAD);
    assert_int_equal(match_stats(&m)->bad_query, 8 + 1 + 3 + 1);
    assert_int_equal(match_stats(&m)->bad_response, 8 + 2);
    assert_int_equal(match_stats(&m)->outstanding, 1);
    drain_and_close(&m, T0);
}

/* ------------------------------------------------------------ scripts */

/* One call of a script: a query, a response or an explicit expiry, and
 * what it must give. */
enum { Q, R, X };
#define NOQ 0xffff /* qdcount 0 */
#define ANY -1

struct step {
    int kind;
    uint16_t id, rcode;
    const char *name;  /* NULL: QDCOUNT 0 */
    int64_t t;         /* packet time after T0 */
    int want;
    int64_t query_t;   /* a match's query time after T0, or ANY */
};

struct script {
    const char *name;
    int family, transport;
    size_t entries;
    struct step steps[16];
    size_t n;
    /* the counters at the end, before the drain */
    unsigned matched, unmatched, duplicates, unanswered, evicted, replaced,
        forgotten, outstanding;
};

#define A MATCH_QUERY_ADDED
#define M MATCH_MATCHED
#define U MATCH_UNMATCHED
#define D MATCH_DUPLICATE

static const struct script scripts[] = {
    /* A cookie-only query: matched by a question-less response whatever
     * its RCODE, by no response with a question. */
    {"query without a question", 6, MATCH_UDP, 16, {
        {Q, 7, 0, NULL, 0, A, ANY},
        {R, 7, 0, "a", 1, U, ANY},
        {R, 7, 0, NULL, 2, M, 0},
    }, 3, 1, 1, 0, 0, 0, 0, 0, 0},
    /* Only ASCII letters fold: 0xc9 and 0xe9 (E acute in Latin-1). */
    {"ASCII only", 4, MATCH_UDP, 16, {
        {Q, 3, 0, "\xc9t\xc9", 0, A, ANY},
        {R, 3, 0, "\xe9t\xe9", 1, U, ANY},
        {R, 3, 0, "\xc9T\xc9", 2, M, 0},
    }, 3, 1, 1, 0, 0, 0, 0, 0, 0},
    /* A response before its query is unmatched and does not stop the
     * query from matching later. Later responses are duplicates (with
     * the query's time), a question-less REFUSED one too, one with
     * another question is not; the answered record lasts timeout_ns
     * after the response. */
    {"order and duplicates", 4, MATCH_UDP, 16, {
        {R, 9, 0, "a.b", 0, U, ANY},
        {Q, 9, 0, "a.b", 1, A, ANY},
        {R, 9, 0, "A.b", 5 * MS, M, 1},
        {R, 9, 0, "a.b", 6 * MS, D, 1},
        {R, 9, 5, NULL, 7 * MS, D, 1},
        {R, 9, 0, "a.c", 8 * MS, U, ANY},
        {R, 9, 0, "a.b", 5 * MS + 10 * SEC, D, 1},
        {R, 9, 0, "a.b", 5 * MS + 10 * SEC + 1, U, ANY},
    }, 8, 1, 3, 3, 0, 0, 0, 0, 0},
    /* At exactly the timeout a query matches; one nanosecond later it has
     * expired (unanswered) and its response is unmatched. match_expire()
     * alone counts them too; time going backwards expires nothing. */
    {"timeout", 4, MATCH_TCP, 16, {
        {Q, 1, 0, "a", 0, A, ANY},
        {R, 1, 0, "a", 10 * SEC, M, 0},
        {Q, 2, 0, "a", 0, A, ANY},
        {R, 2, 0, "a", 10 * SEC + 1, U, ANY},
        {Q, 3, 0, "a", 20 * SEC, A, ANY},
        {Q, 4, 0, "a", 21 * SEC, A, ANY},
        {X, 0, 0, NULL, 0, 0, ANY},
        {X, 0, 0, NULL, 30 * SEC + 1, 0, ANY},
    }, 8, 1, 1, 0, 2, 0, 0, 0, 1},
    /* Pipelined queries on one TCP connection answered out of order, each
     * with its own time; the connection reuses an ID once answered. */
    {"TCP pipelined", 6, MATCH_TCP, 64, {
        {Q, 100, 0, "a.example", 0, A, ANY},
        {Q, 101, 0, "b.example", 1, A, ANY},
        {Q, 102, 0, "c.example", 2, A, ANY},
        {Q, 103, 0, "d.example", 3, A, ANY},
        {Q, 104, 0, "e.example", 4, A, ANY},
        {R, 104, 0, "e.example", 100, M, 4},
        {R, 101, 0, "b.example", 101, M, 1},
        {R, 103, 0, "d.example", 102, M, 3},
        {R, 100, 0, "a.example", 103, M, 0},
        {R, 102, 0, "c.example", 104, M, 2},
        {Q, 100, 0, "z", 300, A, ANY},
        {R, 100, 0, "z", 301, M, 300},
    }, 12, 6, 0, 0, 0, 0, 0, 0, 0},
    /* A query with the key of an outstanding one replaces it (counted):
     * the response matches the newer question and time only. */
    {"replaced", 4, MATCH_UDP, 16, {
        {Q, 5, 0, "old", 0, A, ANY},
        {Q, 5, 0, "new", 1, A, ANY},
        {R, 5, 0, "old", 2, U, ANY},
        {R, 5, 0, "new", 3, M, 1},
    }, 4, 1, 1, 0, 0, 0, 1, 0, 0},
    /* A full table takes the oldest answered entry first (forgotten),
     * then evicts the oldest outstanding queries (evicted). */
    {"eviction", 4, MATCH_UDP, 4, {
        {Q, 0, 0, "x", 0, A, ANY},
        {Q, 1, 0, "x", 1, A, ANY},
        {Q, 2, 0, "x", 2, A, ANY},
        {Q, 3, 0, "x", 3, A, ANY},
        {R, 2, 0, "x", 10, M, 2},
        {Q, 4, 0, "x", 24, A, ANY},  /* takes answered 2 */
        {Q, 5, 0, "x", 25, A, ANY},  /* evicts 0 */
        {Q, 6, 0, "x", 26, A, ANY},  /* evicts 1 */
        {R, 0, 0, "x", 30, U, ANY},
        {R, 1, 0, "x", 30, U, ANY},
        {R, 2, 0, "x", 30, U, ANY},
        {R, 3, 0, "x", 30, M, 3},
        {R, 6, 0, "x", 30, M, 26},
    }, 13, 3, 3, 0, 0, 2, 0, 1, 2},
};

static int run_step(struct match *m, const struct script *sc,
                    const struct step *st, struct match_info *info)
{
    struct match_endpoint c = ep(sc->family, 1, 40000);
    struct match_endpoint s = ep(sc->family, 53, 53);
    uint16_t qd = st->name ? 1 : 0;

    switch (st->kind) {
    case Q:
        return query(m, &c, &s, sc->transport,
                     msg(st->id, RD, qd, st->name, 1, 1), T0 + st->t);
    case R:
        return response(m, &s, &c, sc->transport,
                        msg(st->id, (uint16_t)(QR | RD | st->rcode), qd,
                            st->name, 1, 1), T0 + st->t, info);
    default:
        match_expire(m, T0 + st->t);
        return 0;
    }
}

static void run_script(const struct script *sc)
{
    struct match m;
    struct match_info info;
    const struct match_stats *s;

    table_init(&m, sc->entries, 0);
    s = match_stats(&m);
    for (size_t i = 0; i < sc->n; i++) {
        const struct step *st = &sc->steps[i];
        int rc = run_step(&m, sc, st, &info);

        if (rc != st->want)
            fail_msg("%s step %zu: %s, want %s", sc->name, i,
                     match_result_name(rc), match_result_name(st->want));
        if ((rc == M || rc == D) && st->query_t != ANY &&
            info.query_ns != T0 + st->query_t)
            fail_msg("%s step %zu: query time %lld", sc->name, i,
                     (long long)(info.query_ns - T0));
        assert_accounts(s);
        assert_true(s->outstanding + s->answered <= sc->entries);
    }
    if (s->matched != sc->matched || s->unmatched != sc->unmatched ||
        s->duplicates != sc->duplicates || s->unanswered != sc->unanswered ||
        s->evicted != sc->evicted || s->replaced != sc->replaced ||
        s->forgotten != sc->forgotten || s->outstanding != sc->outstanding)
        fail_msg("%s: matched %llu unmatched %llu duplicates %llu "
                 "unanswered %llu evicted %llu replaced %llu forgotten %llu "
                 "outstanding %llu", sc->name,
                 (unsigned long long)s->matched, (unsigned long long)s->unmatched,
                 (unsigned long long)s->duplicates,
                 (unsigned long long)s->unanswered,
                 (unsigned long long)s->evicted, (unsigned long long)s->replaced,
                 (unsigned long long)s->forgotten,
                 (unsigned long long)s->outstanding);
    drain_and_close(&m, T0 + 40 * SEC);
}

static void test_scripts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
        run_script(&scripts[i]);
}

/* ------------------------------------------------------------ many */

/* A million queries through a small table, some answered, some left to
 * time out or be evicted: the pool comes back whole. */
static void test_no_leak(void **state)
{
    struct match m;
    struct match_info info;
    struct match_endpoint s = ep(4, 53, 53);
    const struct match_stats *st;
    int64_t now = T0;
    uint8_t q[] = {0, 0, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                   1, 'x', 0, 0, 1, 0, 1};
    (void)state;

    table_init(&m, 1024, 0);
    st = match_stats(&m);
    for (uint32_t i = 0; i < 1000000; i++) {
        struct match_endpoint c = ep(4, (uint8_t)(i >> 24), (uint16_t)(i >> 8));

        q[0] = (uint8_t)(i >> 8);
        q[1] = (uint8_t)i;
        q[2] = 0x01;
        assert_int_equal(match_query(&m, &c, &s, MATCH_UDP, q, sizeof(q), now),
                         MATCH_QUERY_ADDED);
        if (i % 3 != 0) {
            q[2] = 0x81;
            (void)match_response(&m, &s, &c, MATCH_UDP, q, sizeof(q), now + 1,
                                 &info);
        }
        now += i % 50000 == 0 ? 11 * SEC : 1000;
        assert_true(st->outstanding + st->answered <= 1024);
    }
    assert_int_equal(st->queries, 1000000);
    assert_true(st->matched > 600000);
    assert_true(st->evicted > 0 && st->unanswered > 0);
    assert_accounts(st);
    drain_and_close(&m, now);
}

/* ------------------------------------------------------------ bytes */

static void test_query_bytes(void **state)
{
    struct match m;
    struct match_info info;
    struct match_endpoint c = ep(4, 1, 40000), s = ep(4, 53, 53);
    struct built q;
    (void)state;

    table_init(&m, 4, 30);
    /* 12 + 7 + 4 = 23 bytes: kept whole. */
    q = msg(1, RD, 1, "ab.cd", 1, 1);
    assert_int_equal(q.len, 23);
    assert_int_equal(match_query(&m, &c, &s, MATCH_UDP, q.p, q.len, T0),
                     MATCH_QUERY_ADDED);
    assert_int_equal(response(&m, &s, &c, MATCH_UDP, msg(1, QR, 1, "AB.cd", 1, 1),
                              T0 + 1, &info), MATCH_MATCHED);
    assert_int_equal(info.query_len, 23);
    assert_false(info.query_truncated);
    assert_memory_equal(info.query, q.p, 23);
    free(q.p);
    /* 12 + 18 + 4 = 34 bytes: the first 30, flagged. */
    q = msg(2, RD, 1, "abcdefghijklmnop", 1, 1);
    assert_int_equal(q.len, 34);
    assert_int_equal(match_query(&m, &c, &s, MATCH_UDP, q.p, q.len, T0),
                     MATCH_QUERY_ADDED);
    assert_int_equal(match_stats(&m)->truncated, 1);
    assert_int_equal(response(&m, &s, &c, MATCH_UDP,
                              msg(2, QR, 1, "ABCDEFGHIJKLMNOP", 1, 1), T0 + 1, &info),
                     MATCH_MATCHED);
    assert_int_equal(info.query_len, 30);
    assert_true(info.query_truncated);
    assert_memory_equal(info.query, q.p, 30);
    free(q.p);
    /* Exactly 30 is not truncated. */
    q = msg(3, RD, 1, "abcdefghijklmn", 1, 1);
    assert_int_equal(q.len, 32);
    q.len = 30; /* a question cut short would be bad: use QDCOUNT 0 */
    q.p[5] = 0;
    assert_int_equal(match_query(&m, &c, &s, MATCH_UDP, q.p, q.len, T0),
                     MATCH_QUERY_ADDED);
    assert_int_equal(response(&m, &s, &c, MATCH_UDP, msg(3, QR | 2, 0, NULL, 0, 0),
                              T0 + 1, &info), MATCH_MATCHED);
    assert_int_equal(info.query_len, 30);
    assert_false(info.query_truncated);
    assert_memory_equal(info.query, q.p, 30);
    free(q.p);
    drain_and_close(&m, T0 + 1);
}

/* ------------------------------------------------------------ histogram */

static void test_hist(void **state)
{
    static const struct { int64_t ns; size_t bucket; } cases[] = {
        {-5, 0}, {0, 0}, {500000, 0}, {500001, 1}, {1000000, 1},
        {1000001, 2}, {2000000, 2}, {4999999, 3}, {5000000, 3},
        {10000000, 4}, {20000000, 5}, {50000000, 6}, {100000000, 7},
        {200000000, 8}, {500000000, 9}, {1000000000, 10},
        {2000000000, 11}, {5000000000ll, 12}, {5000000001ll, 13},
        {INT64_MAX, 13},
    };
    struct match_hist h;
    uint64_t sum = 0;
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&h, 0, sizeof(h));
        match_hist_add(&h, cases[i].ns);
        for (size_t b = 0; b < MATCH_HIST_BUCKETS; b++)
            if (h.counts[b] != (b == cases[i].bucket))
                fail_msg("%lld ns: bucket %zu holds %llu", (long long)cases[i].ns,
                         b, (unsigned long long)h.counts[b]);
        assert_int_equal(h.count, 1);
        assert_int_equal(h.sum_ns, cases[i].ns > 0 ? (uint64_t)cases[i].ns : 0);
    }
    /* Cumulative view. */
    memset(&h, 0, sizeof(h));
    for (size_t i = 0; i < 19; i++) {
        match_hist_add(&h, cases[i].ns);
        sum += cases[i].ns > 0 ? (uint64_t)cases[i].ns : 0;
    }
    assert_int_equal(match_hist_le(&h, 0), 3);
    assert_int_equal(match_hist_le(&h, 3), 9);
    assert_int_equal(match_hist_le(&h, 12), 18);
    assert_int_equal(match_hist_le(&h, MATCH_HIST_BUCKETS - 1), 19);
    assert_int_equal(match_hist_le(&h, 99), 19);
    assert_int_equal(h.count, 19);
    assert_int_equal(h.sum_ns, sum);
}

/* ------------------------------------------------------------ API */

static void test_init(void **state)
{
    struct match m;
    struct match_conf c = conf_of(MATCH_MAX_ENTRIES + 1, 0);
    struct match_info info;
    struct match_endpoint cl = ep(4, 1, 40000), s = ep(4, 53, 53);
    size_t mem;
    (void)state;

    assert_int_equal(match_init(&m, &c), -EINVAL);
    match_close(&m);
    assert_int_equal(match_memory(&c), 0);
    c = conf_of(4, MATCH_MAX_QUERY_BYTES + 1);
    assert_int_equal(match_init(&m, &c), -EINVAL);
    /* The defaults: 65536 entries, about 22 MiB as documented. */
    c = conf_of(0, 0);
    mem = match_memory(&c);
    assert_true(mem > 20u << 20 && mem < 24u << 20);
    c.max_query_bytes = 512;
    mem = match_memory(&c);
    assert_true(mem > 52u << 20 && mem < 56u << 20);
    /* No seed, no timeout: drawn and defaulted, and the table works. */
    c = conf_of(0, 0);
    c.seed[0] = c.seed[1] = 0;
    c.timeout_ns = 0;
    assert_int_equal(match_init(&m, &c), 0);
    assert_true(m.conf.seed[0] != 0 || m.conf.seed[1] != 0);
    assert_int_equal(m.conf.timeout_ns, MATCH_TIMEOUT_NS);
    assert_int_equal(m.conf.max_entries, MATCH_ENTRIES);
    assert_int_equal(query(&m, &cl, &s, MATCH_UDP, msg(1, 0, 1, "a", 1, 1), T0),
                     MATCH_QUERY_ADDED);
    assert_int_equal(response(&m, &s, &cl, MATCH_UDP, msg(1, QR, 1, "a", 1, 1),
                              T0 + 10 * SEC, &info), MATCH_MATCHED);
    /* Closing with queries outstanding frees them; twice is harmless. */
    assert_int_equal(query(&m, &cl, &s, MATCH_UDP, msg(2, 0, 1, "a", 1, 1), T0),
                     MATCH_QUERY_ADDED);
    match_close(&m);
    match_close(&m);
}

static void test_result_names(void **state)
{
    static const struct { int r; const char *name; } names[] = {
        {MATCH_MATCHED, "matched"},     {MATCH_QUERY_ADDED, "query_added"},
        {MATCH_UNMATCHED, "unmatched"}, {MATCH_DUPLICATE, "duplicate"},
        {MATCH_BAD, "bad"},             {2, "unknown"},
        {-4, "unknown"},                {-2147483647 - 1, "unknown"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_string_equal(match_result_name(names[i].r), names[i].name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_no_leak),
        cmocka_unit_test(test_query_bytes),
        cmocka_unit_test(test_hist),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_result_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
