/* Unit tests for the DNS over TCP reassembler (src/codec/tcpdns.c).
 *
 * A test stream is a list of DNS messages, each with its 2-byte length,
 * built by make_stream() like dnsgen's: QR set, one question, a few
 * answers, the rest lowercase letters (so no byte of a body can look like
 * a header with QR set, and a hunt that finds a boundary found a real one).
 * Special entries make protocol errors: a length of 0, a length below 12,
 * a query (QR clear).
 *
 * The scenario table feeds segments given as stream offsets and checks
 * which messages come out, in order and byte for byte, and the counters
 * named in a "key=value" string. The property tests cut random streams at
 * random points (inside the length bytes too, single bytes, one piece),
 * reorder inside the window, duplicate, start mid-stream at every offset
 * of the first message and lose a segment. Every segment is copied into a
 * heap block of exactly its size, so ASan or valgrind see a read past it,
 * and every message taken is checked to be whole and plausible. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/dns.h"
#include "codec/tcpdns.h"

#define MS 1000000LL
#define MAX_MSGS 256

/* ------------------------------------------------------------ streams */

static uint64_t rng_state;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static uint32_t rnd_below(uint32_t n)
{
    return n ? rnd() % n : 0;
}

/* Entry values of make_stream(): a length >= 12 is a response of that
 * length; these make the errors. */
#define E_ZERO 0            /* a length prefix of 0, nothing behind it */
#define E_SHORT(n) (-(n))   /* length n < 12, then n letters */
#define E_QUERY(n) (100000 + (n)) /* a query (QR clear) of length n */

struct stream {
    uint8_t buf[MAX_MSGS * 3000 + 65600];
    size_t len;
    size_t n;                 /* entries */
    size_t off[MAX_MSGS + 1]; /* where each entry's prefix starts */
    size_t mlen[MAX_MSGS];    /* its length, prefix excluded */
    int valid[MAX_MSGS];      /* whether it is a message to deliver */
};

static void put_msg(uint8_t *p, size_t len, int query)
{
    p[0] = (uint8_t)rnd();
    p[1] = (uint8_t)rnd();
    p[2] = query ? 0x01 : 0x81; /* QR RD */
    p[3] = query ? 0x00 : 0x80; /* RA */
    p[4] = 0, p[5] = 1;         /* QDCOUNT 1 */
    p[6] = 0, p[7] = (uint8_t)rnd_below(4);
    p[8] = 0, p[9] = 0;
    p[10] = 0, p[11] = (uint8_t)rnd_below(2);
    for (size_t i = 12; i < len; i++)
        p[i] = (uint8_t)('a' + rnd_below(26));
}

static void make_stream(struct stream *s, const int *entries, size_t n)
{
    s->len = 0;
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        int e = entries[i];
        size_t len = e >= 100000 ? (size_t)(e - 100000) : e < 0 ? (size_t)-e
                                                                : (size_t)e;
        uint8_t *p = s->buf + s->len;

        assert_true(s->len + 2 + len <= sizeof(s->buf));
        s->off[i] = s->len;
        s->mlen[i] = len;
        s->valid[i] = e >= DNS_HEADER_LEN && e < 100000;
        p[0] = (uint8_t)(len >> 8);
        p[1] = (uint8_t)len;
        if (e < 0)
            memset(p + 2, 'x', len);
        else if (e > 0)
            put_msg(p + 2, len, e >= 100000);
        s->len += 2 + len;
    }
    s->off[n] = s->len;
}

static void random_stream(struct stream *s, size_t n, size_t maxlen)
{
    int e[MAX_MSGS];

    for (size_t i = 0; i < n; i++) {
        e[i] = DNS_HEADER_LEN + (int)rnd_below((uint32_t)maxlen - 11);
        if (rnd_below(16) == 0)
            e[i] = 12 + (int)rnd_below(6000); /* across many blocks */
    }
    make_stream(s, e, n);
}

/* ------------------------------------------------------------ feeding */

struct got {
    size_t n;
    size_t mlen[4 * MAX_MSGS];
    uint8_t *buf;
    size_t len, cap;
};

static void got_free(struct got *g)
{
    free(g->buf);
    memset(g, 0, sizeof(*g));
}

static void take(struct tcpdns *t, struct got *g, int expect)
{
    const uint8_t *m;
    size_t len;
    int n = 0;

    while (tcpdns_next(t, &m, &len)) {
        struct dns_header h;

        assert_true(len >= DNS_HEADER_LEN && len <= TCPDNS_MSG_MAX);
        assert_int_equal(dns_header_read(m, len, &h), 0);
        assert_true(g->n < 4 * MAX_MSGS);
        if (g->len + len > g->cap) {
            g->cap = (g->len + len) * 2;
            g->buf = realloc(g->buf, g->cap);
            assert_non_null(g->buf);
        }
        memcpy(g->buf + g->len, m, len);
        g->len += len;
        g->mlen[g->n++] = len;
        n++;
    }
    if (expect >= 0)
        assert_int_equal(n, expect);
    assert_int_equal(tcpdns_pending(t), 0);
}

static void key_of(struct tcpdns_key *k, unsigned i)
{
    memset(k, 0, sizeof(*k));
    k->family = 4;
    k->src[0] = 10;
    k->src[1] = (uint8_t)(i >> 16);
    k->src[2] = (uint8_t)(i >> 8);
    k->src[3] = (uint8_t)i;
    k->dst[0] = 192;
    k->sport = 53;
    k->dport = (uint16_t)(1024 + (i & 0x7fff));
}

/* One segment, from a heap copy of exactly its size. Returns add's rc. */
static int feed(struct tcpdns *t, struct got *g, const struct tcpdns_key *k,
                uint32_t seq, unsigned flags, const uint8_t *p, size_t len,
                int64_t now)
{
    uint8_t *copy = len ? malloc(len) : NULL;
    int rc;

    if (len) {
        assert_non_null(copy);
        memcpy(copy, p, len);
    }
    rc = tcpdns_add(t, k, seq, flags, copy, len, now);
    free(copy);
    assert_true(rc >= 0);
    assert_int_equal(tcpdns_pending(t), (size_t)rc);
    take(t, g, rc);
    return rc;
}

/* What came out must be exactly the entries listed, in order. */
static void expect_msgs(const struct got *g, const struct stream *s,
                        const size_t *idx, size_t n)
{
    size_t off = 0;

    if (g->n != n)
        fail_msg("got %zu messages, want %zu", g->n, n);
    for (size_t i = 0; i < n; i++) {
        size_t e = idx[i];
        assert_int_equal(g->mlen[i], s->mlen[e]);
        assert_memory_equal(g->buf + off, s->buf + s->off[e] + 2, s->mlen[e]);
        off += s->mlen[e];
    }
}

/* Every valid entry whose first byte is at or after from and which does
 * not overlap [lost_lo, lost_hi). */
static size_t expected(const struct stream *s, size_t from, size_t lost_lo,
                       size_t lost_hi, size_t *idx)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n; i++) {
        if (!s->valid[i] || s->off[i] < from)
            continue;
        if (s->off[i] < lost_hi && s->off[i + 1] > lost_lo)
            continue;
        idx[n++] = i;
    }
    return n;
}

static void check_counters(const struct tcpdns *t)
{
    const struct tcpdns_stats *st = &t->stats;

    assert_int_equal(st->flows, st->active + st->evicted + st->timed_out +
                                    st->closed + st->resets);
    assert_true(tcpdns_bytes_held(t) <= t->conf.max_bytes);
}

/* ----------------------------------------------------------- scenarios */

/* One step: 'S' a SYN (at ISN, carrying [off, off+len) if len > 0: TCP
 * Fast Open), 'N' a SYN with another ISN, 'D' data, 'B' data whose bytes are all 'x' (a retransmit
 * with other bytes), 'F' data with FIN, 'R' RST, 'A' a bare ACK, 'X'
 * tcpdns_expire. len -1: to the end of the stream. */
struct op {
    char kind;
    int off, len;
    int64_t ms;
};

struct scenario {
    const char *name;
    int entries[12];
    size_t n_entries;
    struct tcpdns_conf conf;
    uint32_t isn;
    struct op ops[8];
    size_t n_ops;
    size_t want[12]; /* entry indices */
    size_t n_want;
    const char *stats; /* "name=value ..." */
};

#define E(...) {__VA_ARGS__}, sizeof((int[]){__VA_ARGS__}) / sizeof(int)
#define OPS(...)                                                            \
    {__VA_ARGS__}, sizeof((struct op[]){__VA_ARGS__}) / sizeof(struct op)
#define WANT(...)                                                           \
    {__VA_ARGS__}, sizeof((size_t[]){__VA_ARGS__}) / sizeof(size_t)
#define NOWANT {0}, 0
#define SYN {'S', 0, 0, 0}
#define ALL(k) {k, 0, -1, 0}

static const struct scenario scenarios[] = {
    {"one_segment", E(40, 100, 13), {0}, 1000, OPS(SYN, ALL('D')),
     WANT(0, 1, 2), "messages=3 midstream=0 resyncs=0 active=1"},
    {"swap", E(40, 100), {0}, 1000,
     OPS(SYN, {'D', 50, -1, 0}, {'D', 0, 50, 0}), WANT(0, 1),
     "out_of_order=1 gaps=0"},
    {"retransmit_same", E(40, 100), {0}, 1000,
     OPS(SYN, {'D', 0, 30, 0}, {'D', 0, 30, 0}, {'D', 30, -1, 0}),
     WANT(0, 1), "retransmits=1 overlaps=0"},
    {"retransmit_other_bytes_delivered", E(40, 100), {0}, 1000,
     OPS(SYN, {'D', 0, 50, 0}, {'B', 0, 30, 0}, {'D', 50, -1, 0}),
     WANT(0, 1), "retransmits=1"},
    {"retransmit_other_bytes_held", E(40, 100), {0}, 1000,
     OPS(SYN, {'D', 50, 30, 0}, {'B', 55, 20, 0}, {'D', 0, -1, 0}),
     WANT(0, 1), "retransmits=1 overlaps=1 out_of_order=1"},
    {"overlap", E(40, 100), {0}, 1000,
     OPS(SYN, {'D', 0, 30, 0}, {'D', 20, 40, 0}, {'D', 60, -1, 0}),
     WANT(0, 1), "overlaps=1"},
    {"fast_open", E(40, 100, 20), {0}, 1000, OPS(ALL('S')), WANT(0, 1, 2),
     "messages=3"},
    {"syn_again", E(40, 100), {0}, 1000,
     OPS({'S', 0, 30, 0}, {'S', 0, 30, 0}, {'D', 30, -1, 0}), WANT(0, 1),
     "flows=1 retransmits=1"},
    {"new_isn_new_connection", E(40, 100), {0}, 1000,
     OPS(SYN, {'D', 0, 30, 0}, {'N', 0, 0, 0}), NOWANT,
     "flows=2 closed=1 active=1"},
    {"fin", E(40, 100), {0}, 1000, OPS(SYN, ALL('F')), WANT(0, 1),
     "closed=1 active=0 truncated=0"},
    {"fin_before_the_gap_fills", E(40, 100), {0}, 1000,
     OPS(SYN, {'F', 50, -1, 0}, {'D', 0, 50, 0}), WANT(0, 1),
     "closed=1 active=0 out_of_order=1"},
    {"fin_truncated", E(40, 100), {0}, 1000, OPS(SYN, {'F', 0, 60, 0}),
     WANT(0), "closed=1 truncated=1 active=0"},
    {"rst", E(40, 100), {0}, 1000,
     OPS(SYN, {'D', 0, 60, 0}, {'R', 0, 0, 0}, {'D', 60, -1, 0}), WANT(0),
     "resets=1 midstream=1 flows=2 active=1"},
    {"bare_ack_starts_nothing", E(40), {0}, 1000,
     OPS({'A', 0, 0, 0}, {'F', 0, 0, 0}), NOWANT, "flows=0"},
    {"midstream_at_boundary", E(40, 100, 30), {0}, 1000,
     OPS({'D', 42, -1, 0}), WANT(1, 2), "midstream=1 resyncs=1"},
    {"midstream_inside", E(40, 100, 30), {0}, 1000, OPS({'D', 10, -1, 0}),
     WANT(1, 2), "midstream=1 resyncs=1"},
    {"midstream_in_length", E(40, 100, 30), {0}, 1000,
     OPS({'D', 43, -1, 0}), WANT(2), "midstream=1 resyncs=1"},
    {"zero_length", E(40, E_ZERO, 100), {0}, 1000, OPS(SYN, ALL('D')),
     WANT(0, 2), "bad_length=1 resyncs=1"},
    {"short_length", E(40, E_SHORT(5), 100), {0}, 1000, OPS(SYN, ALL('D')),
     WANT(0, 2), "bad_length=1 resyncs=1"},
    /* In sync a query is a message too (the stage counts it). */
    {"query_in_sync", E(40, E_QUERY(50), 30), {0}, 1000,
     OPS(SYN, ALL('D')), WANT(0, 1, 2), "invalid=0 resyncs=0"},
    {"oversize", E(40, 600, 30), {.max_flow_bytes = 3 * TCPDNS_BLOCK}, 1000,
     OPS(SYN, {'D', 0, 100, 0}, {'D', 100, 300, 0}, {'D', 400, -1, 0}),
     WANT(0, 2), "oversize=1"},
    {"beyond_window", E(40, 100, 30, 50), {.window = 100}, 1000,
     OPS(SYN, {'D', 0, 20, 0}, {'D', 144, -1, 0}, {'D', 20, 124, 0}),
     WANT(2, 3), "gaps=1 resyncs=1 retransmits=1"},
    {"gap_timeout", E(40, 100, 30, 50), {0}, 1000,
     OPS(SYN, {'D', 0, 20, 0}, {'D', 42, -1, 0}, {'A', 0, 0, 3001}),
     WANT(1, 2, 3), "gaps=1 resyncs=1"},
    {"gap_in_length", E(40, 100, 30), {0}, 1000,
     OPS(SYN, {'D', 0, 43, 0}, {'D', 50, -1, 0}, {'A', 0, 0, 3001}),
     WANT(0, 2), "gaps=1 resyncs=1"},
    {"gap_waits_less", E(40, 100, 30), {0}, 1000,
     OPS(SYN, {'D', 0, 20, 0}, {'D', 42, -1, 0}, {'A', 0, 0, 2999},
         {'D', 20, 22, 2999}),
     WANT(0, 1, 2), "gaps=0"},
    {"flow_bound", E(40, 1000, 200, 200, 200, 200, 200, 200, 200),
     {.max_flow_bytes = 4 * TCPDNS_BLOCK}, 1000,
     OPS(SYN, {'D', 0, 20, 0}, {'D', 60, -1, 0}), WANT(2, 3, 4, 5, 6, 7, 8),
     "gaps=1 resyncs=1"},
    {"isn_wraps", E(40, 100, 30), {0}, 0xfffffff0u,
     OPS(SYN, {'D', 0, 30, 0}, {'D', 60, -1, 0}, {'D', 30, 30, 0}),
     WANT(0, 1, 2), "out_of_order=1"},
    {"expire_delivers_behind_gap", E(40, 100, 30, 50), {0}, 1000,
     OPS(SYN, {'D', 0, 20, 0}, {'D', 42, -1, 0}, {'X', 0, 0, 60000}),
     WANT(1, 2, 3), "gaps=1 timed_out=1 active=0"},
    {"idle_timeout", E(40, 100, 30), {0}, 1000,
     OPS(SYN, {'D', 0, 20, 0}, {'D', 20, -1, 60000}), WANT(1, 2),
     "timed_out=1 midstream=1 flows=2"},
};

static uint64_t stat_named(const struct tcpdns_stats *st, const char *name,
                           size_t n)
{
#define F(x) {#x, offsetof(struct tcpdns_stats, x)}
    static const struct {
        const char *name;
        size_t off;
    } fields[] = {
        F(segments), F(flows), F(messages), F(midstream), F(resyncs),
        F(gaps), F(out_of_order), F(retransmits), F(overlaps), F(evicted),
        F(timed_out), F(closed), F(oversize), F(dropped), F(resets),
        F(invalid), F(bad_length), F(truncated), F(unread), F(active),
    };
#undef F
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strlen(fields[i].name) == n && !strncmp(fields[i].name, name, n))
            return *(const uint64_t *)((const char *)st + fields[i].off);
    fail_msg("no counter %.*s", (int)n, name);
    return 0;
}

static void check_stats(const struct tcpdns_stats *st, const char *spec,
                        const char *name)
{
    while (*spec) {
        const char *eq = strchr(spec, '=');
        char *end;
        unsigned long long v;

        assert_non_null(eq);
        v = strtoull(eq + 1, &end, 10);
        if (stat_named(st, spec, (size_t)(eq - spec)) != v)
            fail_msg("%s: %.*s is %llu, want %llu", name, (int)(eq - spec),
                     spec, (unsigned long long)stat_named(
                                   st, spec, (size_t)(eq - spec)), v);
        spec = end;
        while (*spec == ' ')
            spec++;
    }
}

static struct stream S;

static void run_op(struct tcpdns *t, struct got *g, const struct scenario *c,
                   const struct op *o)
{
    static uint8_t junk[65536];
    struct tcpdns_key k;
    size_t off = (size_t)o->off;
    size_t len = o->len < 0 ? S.len - off : (size_t)o->len;
    const uint8_t *p = S.buf + off;
    uint32_t seq = c->isn + 1 + (uint32_t)off;
    int64_t now = o->ms * MS;

    key_of(&k, 1);
    switch (o->kind) {
    case 'S':
        feed(t, g, &k, c->isn, TCPDNS_SYN, p, len, now);
        break;
    case 'N':
        feed(t, g, &k, c->isn + 5000, TCPDNS_SYN, NULL, 0, now);
        break;
    case 'B':
        memset(junk, 'x', len);
        p = junk;
        /* fall through */
    case 'D':
        feed(t, g, &k, seq, 0, p, len, now);
        break;
    case 'F':
        feed(t, g, &k, seq, TCPDNS_FIN, p, len, now);
        break;
    case 'R':
        feed(t, g, &k, seq, TCPDNS_RST, NULL, 0, now);
        break;
    case 'A':
        feed(t, g, &k, seq, 0, NULL, 0, now);
        break;
    case 'X':
        tcpdns_expire(t, now);
        take(t, g, -1);
        break;
    default:
        fail();
    }
}

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        const struct scenario *c = &scenarios[i];
        struct tcpdns t;
        struct got g = {0};

        rng_state = 0x9e3779b97f4a7c15ull + i;
        make_stream(&S, c->entries, c->n_entries);
        assert_int_equal(tcpdns_init(&t, &c->conf), 0);
        for (size_t j = 0; j < c->n_ops; j++)
            run_op(&t, &g, c, &c->ops[j]);
        print_message("  %-34s %zu messages\n", c->name, g.n);
        expect_msgs(&g, &S, c->want, c->n_want);
        check_stats(&t.stats, c->stats, c->name);
        check_counters(&t);
        tcpdns_close(&t);
        got_free(&g);
    }
}

/* ---------------------------------------------------------- properties */

#define ISN 0xfffff000u /* the sequence space wraps inside the streams */

/* Feeds [cuts[i], cuts[i+1]) for each i in order[] (or in order), after a
 * SYN unless midstream. */
static void feed_cuts(struct tcpdns *t, struct got *g, const struct stream *s,
                      const size_t *cuts, size_t ncuts, const size_t *order,
                      size_t norder, int syn, int64_t now)
{
    struct tcpdns_key k;

    key_of(&k, 7);
    if (syn)
        feed(t, g, &k, ISN, TCPDNS_SYN, NULL, 0, now);
    for (size_t i = 0; i < (order ? norder : ncuts - 1); i++) {
        size_t j = order ? order[i] : i;
        feed(t, g, &k, ISN + 1 + (uint32_t)cuts[j], 0, s->buf + cuts[j],
             cuts[j + 1] - cuts[j], now);
    }
}

static size_t cuts[1 << 20];

/* Random cut points from `from` to the end; returns their count. The
 * sizes are 1, small, medium or the whole rest, chosen per stream. */
static size_t random_cuts(const struct stream *s, size_t from, size_t *c)
{
    static const uint32_t maxes[] = {1, 3, 40, 700, 5000, 0};
    uint32_t max = maxes[rnd_below(6)];
    size_t n = 0;

    c[n++] = from;
    while (c[n - 1] < s->len) {
        size_t step = max ? 1 + rnd_below(max) : s->len;
        c[n] = c[n - 1] + step < s->len ? c[n - 1] + step : s->len;
        n++;
    }
    return n;
}

static void run_whole(const struct stream *s, const size_t *c, size_t n,
                      const struct tcpdns_conf *conf)
{
    struct tcpdns t;
    struct got g = {0};
    size_t want[MAX_MSGS], nw = expected(s, 0, 0, 0, want);

    assert_int_equal(tcpdns_init(&t, conf), 0);
    feed_cuts(&t, &g, s, c, n, NULL, 0, 1, 0);
    expect_msgs(&g, s, want, nw);
    assert_int_equal(t.stats.resyncs + t.stats.gaps + t.stats.dropped, 0);
    check_counters(&t);
    tcpdns_close(&t);
    got_free(&g);
}

/* Whole, byte at a time, and split in two at every point. */
static void test_every_split(void **state)
{
    static const int streams[][6] = {
        {40, 100, 13, 600, 12, 12},
        {12, 12, 12, 12, 12, 12},
        {1200, 30, 511, 512, 513, 14},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(streams) / sizeof(streams[0]); i++) {
        size_t c[3];

        rng_state = 77 + i;
        make_stream(&S, streams[i], 6);
        for (size_t at = 0; at <= S.len; at++) {
            c[0] = 0, c[1] = at, c[2] = S.len;
            run_whole(&S, c, 3, NULL);
        }
        for (size_t j = 0; j <= S.len; j++)
            cuts[j] = j;
        run_whole(&S, cuts, S.len + 1, NULL);
    }
}

/* The largest message, in the largest segments and byte at a time. */
static void test_max_message(void **state)
{
    const int e[] = {65535, 12, 65535};
    size_t c[4];

    (void)state;
    rng_state = 5;
    make_stream(&S, e, 3);
    c[0] = 0, c[1] = TCPDNS_SEGMENT_MAX, c[2] = 2 * TCPDNS_SEGMENT_MAX;
    c[3] = S.len;
    run_whole(&S, c, 4, NULL);
    for (size_t j = 0; j <= S.len; j++)
        cuts[j] = j;
    run_whole(&S, cuts, S.len + 1, NULL);
}

static void test_random_segmentation(void **state)
{
    (void)state;
    rng_state = 0x1234567;
    for (int r = 0; r < 300; r++) {
        size_t n;
        random_stream(&S, 1 + rnd_below(40), 300);
        n = random_cuts(&S, 0, cuts);
        run_whole(&S, cuts, n, NULL);
    }
}

/* Segments shuffled inside groups of four, and duplicates of any segment
 * up to three away (a later one then arrives early). */
static void test_reorder_duplicates(void **state)
{
    static size_t order[1 << 21];
    uint64_t ooo = 0, dups = 0;

    (void)state;
    rng_state = 0xabcdef;
    for (int r = 0; r < 300; r++) {
        struct tcpdns t;
        struct got g = {0};
        size_t want[MAX_MSGS], nw, n, segs, no = 0;

        random_stream(&S, 1 + rnd_below(40), 300);
        n = random_cuts(&S, 0, cuts);
        segs = n - 1;
        for (size_t i = 0; i < segs; i += 4) {
            size_t m = segs - i < 4 ? segs - i : 4, base = no;
            for (size_t j = 0; j < m; j++)
                order[no++] = i + j;
            for (size_t j = m; j > 1; j--) {
                size_t a = rnd_below((uint32_t)j), tmp = order[base + a];
                order[base + a] = order[base + j - 1];
                order[base + j - 1] = tmp;
            }
            for (size_t j = 0; j < m; j++)
                if (rnd_below(4) == 0) {
                    size_t d = i + j + rnd_below(7);
                    order[no++] = d >= 3 ? d - 3 < segs ? d - 3 : segs - 1 : 0;
                }
        }
        nw = expected(&S, 0, 0, 0, want);
        assert_int_equal(tcpdns_init(&t, NULL), 0);
        feed_cuts(&t, &g, &S, cuts, n, order, no, 1, 0);
        expect_msgs(&g, &S, want, nw);
        assert_int_equal(t.stats.gaps + t.stats.resyncs, 0);
        ooo += t.stats.out_of_order;
        dups += t.stats.retransmits + t.stats.overlaps;
        check_counters(&t);
        tcpdns_close(&t);
        got_free(&g);
    }
    assert_true(ooo > 1000 && dups > 1000); /* the cases were exercised */
}

/* Picked up at every offset of the first message: exactly the messages
 * that start at or after that point come out. */
static void test_midstream_every_offset(void **state)
{
    (void)state;
    rng_state = 0x5eed;
    for (int r = 0; r < 12; r++) {
        random_stream(&S, 2 + rnd_below(10), 400);
        for (size_t o = 0; o < S.off[1]; o++) {
            struct tcpdns t;
            struct got g = {0};
            size_t want[MAX_MSGS], nw = expected(&S, o, 0, 0, want);
            size_t n = random_cuts(&S, o, cuts);

            assert_int_equal(tcpdns_init(&t, NULL), 0);
            feed_cuts(&t, &g, &S, cuts, n, NULL, 0, 0, 0);
            expect_msgs(&g, &S, want, nw);
            assert_int_equal(t.stats.midstream, 1);
            assert_int_equal(t.stats.resyncs, 1);
            tcpdns_close(&t);
            got_free(&g);
        }
    }
}

/* A segment never seen: the messages before it and those after the next
 * boundary come out, none that it touched. */
static void test_lost_segment(void **state)
{
    static size_t order[1 << 20];
    uint64_t gaps = 0;

    (void)state;
    rng_state = 0x105e;
    for (int r = 0; r < 400; r++) {
        struct tcpdns t;
        struct tcpdns_key k;
        struct got g = {0};
        size_t want[MAX_MSGS], nw, n, lost, no = 0;

        random_stream(&S, 2 + rnd_below(40), 300);
        do
            n = random_cuts(&S, 0, cuts);
        while (n < 3);
        lost = rnd_below((uint32_t)(n - 1));
        for (size_t i = 0; i + 1 < n; i++)
            if (i != lost)
                order[no++] = i;
        nw = expected(&S, 0, cuts[lost], cuts[lost + 1], want);
        assert_int_equal(tcpdns_init(&t, NULL), 0);
        feed_cuts(&t, &g, &S, cuts, n, order, no, 1, 0);
        key_of(&k, 7);
        feed(&t, &g, &k, ISN + 1, 0, NULL, 0, 3001 * MS);
        expect_msgs(&g, &S, want, nw);
        assert_true(t.stats.gaps <= 1);
        gaps += t.stats.gaps;
        check_counters(&t);
        tcpdns_close(&t);
        got_free(&g);
    }
    assert_true(gaps > 200); /* most losses had data behind them */
}

/* ------------------------------------------------------------- bounds */

/* Opens flow i with a SYN and the first bytes of the stream. */
static void open_partial(struct tcpdns *t, struct got *g, unsigned i,
                         size_t bytes, int64_t now)
{
    struct tcpdns_key k;

    key_of(&k, i);
    feed(t, g, &k, ISN, TCPDNS_SYN, NULL, 0, now);
    feed(t, g, &k, ISN + 1, 0, S.buf, bytes, now);
}

static void test_evict_by_count(void **state)
{
    const int e[] = {1000, 40, 60};
    struct tcpdns_conf c = {.max_flows = 4};
    struct tcpdns t;
    struct tcpdns_key k;
    struct got g = {0};
    size_t want[] = {1, 2};

    (void)state;
    rng_state = 11;
    make_stream(&S, e, 3);
    assert_int_equal(tcpdns_init(&t, &c), 0);
    for (unsigned i = 0; i < 4; i++)
        open_partial(&t, &g, i, 20, i * MS);
    key_of(&k, 0);
    feed(&t, &g, &k, ISN + 21, 0, S.buf + 20, 10, 5 * MS); /* 0 is recent */
    open_partial(&t, &g, 4, 20, 6 * MS);                    /* evicts 1 */
    assert_int_equal(t.stats.evicted, 1);
    assert_int_equal(t.stats.active, 4);
    key_of(&k, 1);
    assert_int_equal(tcpdns_flow_bytes(&t, &k), 0);
    key_of(&k, 0);
    assert_int_equal(tcpdns_flow_bytes(&t, &k), TCPDNS_BLOCK);
    /* Flow 1 again, without its start: picked up at the next boundary. */
    key_of(&k, 1);
    feed(&t, &g, &k, ISN + 21, 0, S.buf + 20, S.len - 20, 7 * MS);
    expect_msgs(&g, &S, want, 2);
    assert_int_equal(t.stats.evicted, 2);
    assert_int_equal(t.stats.midstream, 1);
    check_counters(&t);
    tcpdns_close(&t);
    got_free(&g);
}

/* Pool of 6 blocks, 4 a flow: a fourth flow holding two blocks pushes out
 * the least recently used flow holding blocks, not the older SYN-only
 * one. */
static void test_evict_by_bytes(void **state)
{
    const int e[] = {1000, 40};
    struct tcpdns_conf c = {.max_flow_bytes = 4 * TCPDNS_BLOCK,
                            .max_bytes = 6 * TCPDNS_BLOCK};
    struct tcpdns t;
    struct tcpdns_key k;
    struct got g = {0};

    (void)state;
    rng_state = 12;
    make_stream(&S, e, 2);
    assert_int_equal(tcpdns_init(&t, &c), 0);
    key_of(&k, 9);
    feed(&t, &g, &k, ISN, TCPDNS_SYN, NULL, 0, 0); /* no bytes at all */
    for (unsigned i = 0; i < 3; i++)
        open_partial(&t, &g, i, 600, (i + 1) * MS); /* two blocks each */
    assert_int_equal(tcpdns_bytes_held(&t), 6 * TCPDNS_BLOCK);
    assert_int_equal(t.stats.evicted, 0);
    open_partial(&t, &g, 3, 600, 5 * MS);
    assert_int_equal(t.stats.evicted, 1);
    assert_int_equal(tcpdns_bytes_held(&t), 6 * TCPDNS_BLOCK);
    key_of(&k, 0);
    assert_int_equal(tcpdns_flow_bytes(&t, &k), 0);
    assert_int_equal(t.stats.active, 4); /* 9, 1, 2, 3 */
    for (unsigned i = 1; i < 4; i++) {
        key_of(&k, i);
        assert_int_equal(tcpdns_flow_bytes(&t, &k), 2 * TCPDNS_BLOCK);
    }
    check_counters(&t);
    tcpdns_close(&t);
    got_free(&g);
}

static void test_idle_timeout(void **state)
{
    const int e[] = {100, 40};
    struct tcpdns_conf c = {.idle_ns = 10000 * MS};
    struct tcpdns t;
    struct tcpdns_key k;
    struct got g = {0};

    (void)state;
    rng_state = 13;
    make_stream(&S, e, 2);
    assert_int_equal(tcpdns_init(&t, &c), 0);
    open_partial(&t, &g, 0, 20, 0);
    open_partial(&t, &g, 1, 20, 5000 * MS);
    tcpdns_expire(&t, 9999 * MS);
    assert_int_equal(t.stats.timed_out, 0);
    key_of(&k, 2);
    feed(&t, &g, &k, 1, TCPDNS_SYN, NULL, 0, 10000 * MS);
    assert_int_equal(t.stats.timed_out, 1);
    key_of(&k, 0);
    assert_int_equal(tcpdns_flow_bytes(&t, &k), 0);
    tcpdns_expire(&t, 15000 * MS);
    assert_int_equal(t.stats.timed_out, 2);
    assert_int_equal(tcpdns_bytes_held(&t), 0);
    tcpdns_expire(&t, 20000 * MS);
    assert_int_equal(t.stats.timed_out, 3);
    assert_int_equal(t.stats.active, 0);
    check_counters(&t);
    tcpdns_close(&t);
    got_free(&g);
}

/* valgrind preloads its own libraries: the flood is shorter there. */
static unsigned flood_count(void)
{
    const char *p = getenv("LD_PRELOAD");

    return p && strstr(p, "valgrind") ? 50000 : 1000000;
}

static void test_syn_flood(void **state)
{
    struct tcpdns_conf c = {.max_flows = 4096, .max_bytes = 1 << 20};
    struct tcpdns t;
    struct tcpdns_key k;
    unsigned n = flood_count();
    size_t mem;

    (void)state;
    assert_int_equal(tcpdns_init(&t, &c), 0);
    mem = tcpdns_memory(&t);
    assert_true(mem < 4096 * 256 + 8192 * 4 + (1 << 20) * 2 + 200000);
    for (unsigned i = 0; i < n; i++) {
        key_of(&k, i);
        assert_int_equal(tcpdns_add(&t, &k, i * 7919u, TCPDNS_SYN, NULL, 0,
                                    (int64_t)i * 1000),
                         0);
    }
    assert_int_equal(t.stats.flows, n);
    assert_int_equal(t.stats.active, 4096);
    assert_int_equal(t.stats.evicted, n - 4096);
    assert_int_equal(tcpdns_bytes_held(&t), 0);
    assert_int_equal(tcpdns_memory(&t), mem);
    check_counters(&t);
    tcpdns_close(&t);
}

static void test_conf_and_reasons(void **state)
{
    static const struct tcpdns_conf bad[] = {
        {.max_flow_bytes = 3 * TCPDNS_BLOCK - 1},
        {.max_flow_bytes = 1 << 20, .max_bytes = 1 << 19},
        {.window = TCPDNS_WINDOW_MAX + 1},
    };
    static uint8_t big[TCPDNS_SEGMENT_MAX + 1];
    struct tcpdns t;
    struct tcpdns_key k;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tcpdns_init(&t, &bad[i]), -EINVAL);
    assert_int_equal(tcpdns_init(&t, NULL), 0);
    assert_int_equal(t.conf.max_flows, TCPDNS_DEFAULT_FLOWS);
    assert_int_equal(t.conf.idle_ns, TCPDNS_DEFAULT_IDLE_NS);
    key_of(&k, 1);
    assert_int_equal(tcpdns_add(&t, &k, 1, 0, big, sizeof(big), 0),
                     TCPDNS_ERR_SEGMENT);
    assert_int_equal(tcpdns_add(&t, &k, 1, 0, NULL, 5, 0), TCPDNS_ERR_ARG);
    assert_int_equal(tcpdns_add(&t, NULL, 1, 0, big, 5, 0), TCPDNS_ERR_ARG);
    assert_int_equal(t.stats.dropped, 3);
    assert_int_equal(t.stats.active, 0);
    tcpdns_close(&t);
    tcpdns_close(NULL);
    assert_string_equal(tcpdns_reason_name(TCPDNS_OK), "ok");
    assert_string_equal(tcpdns_reason_name(TCPDNS_ERR_SEGMENT), "segment");
    assert_string_equal(tcpdns_reason_name(TCPDNS_ERR_NOMEM), "nomem");
    assert_string_equal(tcpdns_reason_name(TCPDNS_ERR_ARG), "arg");
    assert_string_equal(tcpdns_reason_name(-TCPDNS_REASON_COUNT), "unknown");
    assert_string_equal(tcpdns_reason_name(1), "unknown");
}

/* Messages not taken before the next add are dropped and counted; the
 * hash seed is the caller's when given. */
static void test_unread_and_seed(void **state)
{
    const int e[] = {40, 50};
    struct tcpdns_conf c = {.seed = {1, 2}};
    struct tcpdns t;
    struct tcpdns_key k;
    const uint8_t *m;
    size_t len;

    (void)state;
    rng_state = 14;
    make_stream(&S, e, 2);
    assert_int_equal(tcpdns_init(&t, &c), 0);
    assert_true(t.key[0] == 1 && t.key[1] == 2);
    key_of(&k, 1);
    assert_int_equal(tcpdns_add(&t, &k, 0, TCPDNS_SYN, S.buf, S.len, 0), 2);
    assert_int_equal(tcpdns_next(&t, &m, &len), 1);
    assert_int_equal(len, 40);
    assert_memory_equal(m, S.buf + 2, 40);
    assert_int_equal(tcpdns_add(&t, &k, 1 + (uint32_t)S.len, 0, NULL, 0, 0),
                     0);
    assert_int_equal(t.stats.unread, 1);
    assert_int_equal(tcpdns_next(&t, &m, &len), 0);
    tcpdns_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_max_message),
        cmocka_unit_test(test_random_segmentation),
        cmocka_unit_test(test_reorder_duplicates),
        cmocka_unit_test(test_midstream_every_offset),
        cmocka_unit_test(test_lost_segment),
        cmocka_unit_test(test_evict_by_count),
        cmocka_unit_test(test_evict_by_bytes),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_syn_flood),
        cmocka_unit_test(test_conf_and_reasons),
        cmocka_unit_test(test_unread_and_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
