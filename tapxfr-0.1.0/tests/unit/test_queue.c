/* Unit tests for the bounded byte ring (src/output/queue.c).
 *
 * Entries are written the way the transports expect them: a 16-bit
 * big-endian length of what follows, then a payload whose bytes are a
 * function of the entry's sequence number, so a misplaced or overwritten
 * byte shows up when the entry is read back. The small tests pin down each
 * edge of the ring by hand; the random test runs 100k operations against a
 * model FIFO that also remembers where each entry was placed, so it can
 * check that entries never overlap or straddle the end, that queue_peek
 * returns the longest contiguous run of whole entries (and
 * queue_peek_after the runs after it), and that a refusal
 * only happens when the ring really has no room. Every test closes its
 * queue; the suite runs clean under valgrind --leak-check=full. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "output/queue.h"

/* ---- entries ---- */

static uint8_t pattern(uint32_t seq, size_t i)
{
    return (uint8_t)(seq * 131u + i * 7u + (seq >> 8));
}

/* Reserves, writes and commits an entry of len bytes (prefix included,
 * len >= 2). Returns where it went, or NULL when it did not fit. */
static uint8_t *push(struct queue *q, size_t len, uint32_t seq)
{
    uint8_t *p = queue_reserve(q, len);
    size_t i;

    assert_int_equal(p != NULL, queue_fits(q, len));
    if (!p)
        return NULL;
    p[0] = (uint8_t)((len - 2) >> 8);
    p[1] = (uint8_t)(len - 2);
    for (i = 2; i < len; i++)
        p[i] = pattern(seq, i);
    queue_commit(q, len);
    return p;
}

/* Checks the entry at p is entry seq of len bytes. */
static void check_entry(const uint8_t *p, size_t len, uint32_t seq)
{
    size_t i;

    assert_int_equal(queue_entry_len(p), len);
    for (i = 2; i < len; i++)
        if (p[i] != pattern(seq, i)) {
            print_error("entry %u: byte %zu is %u, want %u\n", (unsigned)seq,
                        i, p[i], pattern(seq, i));
            fail();
        }
}

/* Peeks and returns the run length; checks it starts at want_off. */
static size_t peek_at(const struct queue *q, size_t want_off)
{
    const uint8_t *p = NULL;
    size_t run = queue_peek(q, &p);

    assert_true(run > 0);
    assert_ptr_equal(p, q->buf + want_off);
    return run;
}

static void check_empty(const struct queue *q)
{
    const uint8_t *p = NULL;

    assert_int_equal(queue_peek(q, &p), 0);
    assert_int_equal(q->count, 0);
    assert_int_equal(q->bytes, 0);
}

/* ---- small cases ---- */

static void test_init_close(void **state)
{
    struct queue q;

    (void)state;
    assert_int_equal(queue_init(&q, 1000, 10), 0);
    assert_non_null(q.buf);
    assert_int_equal(q.cap, 1000);
    assert_int_equal(q.max_count, 10);
    check_empty(&q);
    assert_true(queue_fits(&q, 1000));
    assert_false(queue_fits(&q, 1001));
    assert_null(queue_reserve(&q, 1001));
    queue_close(&q);
    assert_null(q.buf);

    /* Closing a queue that still holds entries frees everything too. */
    assert_int_equal(queue_init(&q, 64, 4), 0);
    assert_non_null(push(&q, 20, 1));
    assert_non_null(push(&q, 20, 2));
    queue_close(&q);
}

/* Reserve changes nothing until commit: the same spot twice. */
static void test_reserve_is_idempotent(void **state)
{
    struct queue q;
    uint8_t *a, *b;

    (void)state;
    assert_int_equal(queue_init(&q, 100, 10), 0);
    a = queue_reserve(&q, 10);
    b = queue_reserve(&q, 40);
    assert_ptr_equal(a, q.buf);
    assert_ptr_equal(a, b);
    check_empty(&q);
    assert_non_null(push(&q, 10, 0));
    assert_ptr_equal(queue_reserve(&q, 10), q.buf + 10);
    assert_int_equal(q.count, 1);
    assert_int_equal(q.bytes, 10);
    queue_close(&q);
}

static void test_byte_bound(void **state)
{
    struct queue q;
    const uint8_t *p;
    uint32_t i;

    (void)state;
    /* Ten entries of 10 fill 100 bytes exactly; then not even 2 fit. */
    assert_int_equal(queue_init(&q, 100, 1000), 0);
    for (i = 0; i < 10; i++)
        assert_ptr_equal(push(&q, 10, i), q.buf + 10 * i);
    assert_int_equal(q.bytes, 100);
    assert_int_equal(q.count, 10);
    assert_false(queue_fits(&q, 2));
    assert_null(queue_reserve(&q, 2));
    assert_int_equal(queue_peek(&q, &p), 100);
    for (i = 0; i < 10; i++)
        check_entry(p + 10 * i, 10, i);
    queue_close(&q);

    /* Three of 30 leave 10 bytes: 10 fits, 11 and 30 do not. */
    assert_int_equal(queue_init(&q, 100, 1000), 0);
    for (i = 0; i < 3; i++)
        assert_non_null(push(&q, 30, i));
    assert_false(queue_fits(&q, 30));
    assert_false(queue_fits(&q, 11));
    assert_null(queue_reserve(&q, 11));
    assert_true(queue_fits(&q, 10));
    assert_ptr_equal(push(&q, 10, 3), q.buf + 90);
    assert_false(queue_fits(&q, 2));
    assert_int_equal(q.bytes, 100);
    queue_close(&q);
}

static void test_entry_bound(void **state)
{
    struct queue q;
    const uint8_t *p;
    uint32_t i;

    (void)state;
    assert_int_equal(queue_init(&q, 1000, 3), 0);
    for (i = 0; i < 3; i++)
        assert_non_null(push(&q, 2, i));
    assert_false(queue_fits(&q, 2));
    assert_null(queue_reserve(&q, 2));
    assert_int_equal(q.count, 3);
    assert_int_equal(q.bytes, 6);

    /* Freeing one entry makes room for exactly one. */
    assert_int_equal(queue_peek(&q, &p), 6);
    queue_consume(&q, 2, 1);
    assert_true(queue_fits(&q, 100));
    assert_non_null(push(&q, 100, 3));
    assert_false(queue_fits(&q, 2));
    queue_close(&q);

    /* max_count 1: a one-entry queue. */
    assert_int_equal(queue_init(&q, 1000, 1), 0);
    assert_non_null(push(&q, 500, 0));
    assert_false(queue_fits(&q, 2));
    peek_at(&q, 0);
    queue_consume(&q, 500, 1);
    check_empty(&q);
    assert_ptr_equal(push(&q, 1000, 1), q.buf);
    queue_close(&q);
}

static void test_partial_consume(void **state)
{
    struct queue q;
    const uint8_t *p;
    size_t run;

    (void)state;
    assert_int_equal(queue_init(&q, 100, 10), 0);
    assert_non_null(push(&q, 10, 0));
    assert_non_null(push(&q, 20, 1));
    assert_non_null(push(&q, 30, 2));
    assert_int_equal(queue_peek(&q, &p), 60);
    check_entry(p, 10, 0);

    queue_consume(&q, 10, 1);
    run = queue_peek(&q, &p);
    assert_ptr_equal(p, q.buf + 10);
    assert_int_equal(run, 50);
    check_entry(p, 20, 1);
    assert_int_equal(q.count, 2);
    assert_int_equal(q.bytes, 50);

    queue_consume(&q, 20, 1);
    assert_int_equal(queue_peek(&q, &p), 30);
    assert_ptr_equal(p, q.buf + 30);
    check_entry(p, 30, 2);
    /* Still appending at the tail, not at the front. */
    assert_ptr_equal(push(&q, 10, 3), q.buf + 60);
    assert_int_equal(queue_peek(&q, &p), 40);
    queue_close(&q);
}

/* Emptying starts over at the front, so the whole buffer is one run
 * again even when the last entries sat in the middle. */
static void test_empty_resets(void **state)
{
    struct queue q;
    const uint8_t *p;

    (void)state;
    assert_int_equal(queue_init(&q, 100, 10), 0);
    assert_non_null(push(&q, 40, 0));
    assert_non_null(push(&q, 40, 1));
    queue_consume(&q, 40, 1);
    assert_false(queue_fits(&q, 61));
    queue_consume(&q, 40, 1);
    check_empty(&q);
    assert_true(queue_fits(&q, 100));
    assert_ptr_equal(push(&q, 100, 2), q.buf);
    assert_int_equal(queue_peek(&q, &p), 100);
    check_entry(p, 100, 2);
    queue_consume(&q, 100, 1);
    check_empty(&q);

    /* Also after a wrap: [40, 80) then [0, 30), drained in two runs. */
    assert_non_null(push(&q, 40, 3));
    assert_non_null(push(&q, 40, 4));
    queue_consume(&q, 40, 1);
    assert_ptr_equal(push(&q, 30, 5), q.buf);
    assert_int_equal(peek_at(&q, 40), 40);
    queue_consume(&q, 40, 1);
    assert_int_equal(peek_at(&q, 0), 30);
    queue_consume(&q, 30, 1);
    check_empty(&q);
    assert_ptr_equal(push(&q, 100, 6), q.buf);
    queue_close(&q);
}

/* Wrapping: the run stops at the end of the older segment and never
 * includes the entries already wrapped to the front. */
static void test_wrap_peek(void **state)
{
    struct queue q;
    const uint8_t *p;

    (void)state;
    assert_int_equal(queue_init(&q, 100, 10), 0);
    assert_ptr_equal(push(&q, 30, 0), q.buf);
    assert_ptr_equal(push(&q, 30, 1), q.buf + 30);
    assert_ptr_equal(push(&q, 30, 2), q.buf + 60);
    queue_consume(&q, 30, 1);
    /* 10 bytes left at the end: an 11-byte entry wraps to the front. */
    assert_ptr_equal(push(&q, 10, 3), q.buf + 90);
    assert_ptr_equal(push(&q, 11, 4), q.buf);
    assert_ptr_equal(push(&q, 19, 5), q.buf + 11);
    /* Exactly full now: [30, 100) and [0, 30). */
    assert_false(queue_fits(&q, 2));
    assert_int_equal(q.bytes, 100);
    assert_int_equal(peek_at(&q, 30), 70);
    queue_peek(&q, &p);
    check_entry(p, 30, 1);
    check_entry(p + 30, 30, 2);
    check_entry(p + 60, 10, 3);

    /* Consuming part of the older segment keeps the run to its end. */
    queue_consume(&q, 30, 1);
    assert_int_equal(peek_at(&q, 60), 40);
    assert_true(queue_fits(&q, 30));
    assert_false(queue_fits(&q, 31));
    queue_consume(&q, 40, 2);
    /* Back to a single segment at the front. */
    assert_int_equal(peek_at(&q, 0), 30);
    queue_peek(&q, &p);
    check_entry(p, 11, 4);
    check_entry(p + 11, 19, 5);
    assert_ptr_equal(push(&q, 70, 6), q.buf + 30);
    assert_int_equal(peek_at(&q, 0), 100);
    queue_close(&q);
}

/* An entry that ends exactly at head, both when it is the one that wraps
 * and when the ring was already wrapped. */
static void test_fill_to_head(void **state)
{
    struct queue q;
    const uint8_t *p;

    (void)state;
    /* The wrapping entry itself ends at head. */
    assert_int_equal(queue_init(&q, 100, 10), 0);
    assert_non_null(push(&q, 30, 0));
    assert_non_null(push(&q, 30, 1));
    assert_non_null(push(&q, 30, 2));
    queue_consume(&q, 30, 1);
    assert_false(queue_fits(&q, 31));
    assert_ptr_equal(push(&q, 30, 3), q.buf);
    assert_false(queue_fits(&q, 2));
    assert_null(queue_reserve(&q, 2));
    assert_int_equal(q.count, 3);
    assert_int_equal(q.bytes, 90);
    assert_int_equal(peek_at(&q, 30), 60);
    queue_consume(&q, 60, 2);
    assert_int_equal(peek_at(&q, 0), 30);
    queue_peek(&q, &p);
    check_entry(p, 30, 3);
    queue_close(&q);

    /* Already wrapped; a later entry ends at head. */
    assert_int_equal(queue_init(&q, 100, 10), 0);
    assert_non_null(push(&q, 30, 0));
    assert_non_null(push(&q, 30, 1));
    assert_non_null(push(&q, 30, 2));
    queue_consume(&q, 60, 2);
    assert_ptr_equal(push(&q, 20, 3), q.buf);
    assert_false(queue_fits(&q, 41));
    assert_ptr_equal(push(&q, 40, 4), q.buf + 20);
    assert_false(queue_fits(&q, 2));
    assert_int_equal(q.bytes, 90);
    assert_int_equal(peek_at(&q, 60), 30);
    queue_peek(&q, &p);
    check_entry(p, 30, 2);
    queue_consume(&q, 30, 1);
    assert_int_equal(peek_at(&q, 0), 60);
    queue_peek(&q, &p);
    check_entry(p, 20, 3);
    check_entry(p + 20, 40, 4);
    queue_close(&q);
}

static void test_large_entries(void **state)
{
    struct queue q;
    const uint8_t *p;
    size_t cap = 65537; /* one DNSXFR01 message of the largest size */
    uint32_t i;

    (void)state;
    assert_int_equal(queue_init(&q, cap, 100), 0);
    /* The largest entry a 16-bit prefix can describe fills the buffer. */
    assert_ptr_equal(push(&q, cap, 0), q.buf);
    assert_int_equal(queue_peek(&q, &p), cap);
    assert_int_equal(queue_entry_len(p), 65537);
    check_entry(p, cap, 0);
    assert_false(queue_fits(&q, 2));
    queue_consume(&q, cap, 1);
    check_empty(&q);

    /* One byte short of the capacity: one spare byte that nothing uses. */
    assert_ptr_equal(push(&q, cap - 1, 1), q.buf);
    assert_false(queue_fits(&q, 2));
    queue_consume(&q, cap - 1, 1);

    /* Two entries just over half the capacity alternate between the front
     * and the middle; the second never fits next to the first. */
    for (i = 0; i < 10; i++) {
        size_t len = cap / 2 + 1;

        assert_ptr_equal(push(&q, len, 2 + i), q.buf);
        assert_false(queue_fits(&q, len));
        assert_true(queue_fits(&q, cap - len));
        assert_int_equal(queue_peek(&q, &p), len);
        check_entry(p, len, 2 + i);
        queue_consume(&q, len, 1);
    }

    /* A big entry behind a small one: wraps only once the small one is
     * gone from the front. */
    assert_ptr_equal(push(&q, 1000, 20), q.buf);
    assert_ptr_equal(push(&q, 60000, 21), q.buf + 1000);
    assert_false(queue_fits(&q, 6000));
    queue_consume(&q, 1000, 1);
    assert_false(queue_fits(&q, 5000)); /* 4537 at the end, 1000 in front */
    assert_ptr_equal(push(&q, 4537, 22), q.buf + 61000);
    assert_ptr_equal(push(&q, 1000, 23), q.buf);
    assert_false(queue_fits(&q, 2));
    assert_int_equal(peek_at(&q, 1000), 64537);
    queue_peek(&q, &p);
    check_entry(p, 60000, 21);
    check_entry(p + 60000, 4537, 22);
    queue_consume(&q, 64537, 2);
    assert_int_equal(peek_at(&q, 0), 1000);
    queue_close(&q);
}

/* ---- random operations against a model ---- */

struct model_entry {
    size_t off, len;
    uint32_t seq;
};

struct model {
    struct model_entry *e; /* a ring of max_count slots */
    size_t max, first, n, bytes;
};

static struct model_entry *model_at(struct model *m, size_t i)
{
    return &m->e[(m->first + i) % m->max];
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t rnd(size_t n)
{
    return (size_t)(rng() % n);
}

/* Whether the model's layout leaves a contiguous gap of len bytes where a
 * ring may write next: after the newest entry, or at the front when the
 * space after it is too short and nothing has wrapped yet. */
static int model_room(struct model *m, size_t cap, size_t len)
{
    size_t head, tail;

    if (m->n == m->max)
        return 0;
    if (m->n == 0)
        return len <= cap;
    head = model_at(m, 0)->off;
    tail = model_at(m, m->n - 1)->off + model_at(m, m->n - 1)->len;
    if (tail > head) /* not wrapped: [head, tail) */
        return cap - tail >= len || head >= len;
    return head - tail >= len; /* wrapped: free space is [tail, head) */
}

static size_t entry_size(size_t cap)
{
    switch (rnd(8)) {
    case 0:
        return 2 + rnd(3);                 /* tiny */
    case 1:
        return cap / 2 + rnd(cap / 2 + 1); /* large, up to cap */
    default:
        return 2 + rnd(300);               /* typical */
    }
}

/* queue_peek_after() from each run's end finds the next run: together
 * the runs are every entry, in order, each run at most two per queue. */
static void check_runs(const struct queue *q, struct model *m)
{
    size_t skip = 0, idx = 0, runs = 0, run;
    const uint8_t *p;

    while ((run = queue_peek_after(q, skip, &p)) > 0) {
        size_t walked = 0;

        assert_true(++runs <= 2);
        while (walked < run) {
            struct model_entry *e;

            assert_true(idx < m->n);
            e = model_at(m, idx++);
            assert_ptr_equal(p + walked, q->buf + e->off);
            walked += e->len;
        }
        assert_int_equal(walked, run);
        skip += run;
    }
    assert_int_equal(idx, m->n);
    assert_int_equal(skip, m->bytes);
    if (m->n > 0) {
        /* The first run is queue_peek()'s. */
        const uint8_t *a, *b;

        assert_int_equal(queue_peek_after(q, 0, &a), queue_peek(q, &b));
        assert_ptr_equal(a, b);
    }
}

static void run_random(size_t cap, size_t max_count, int count_bound,
                       unsigned long ops, uint64_t seed)
{
    struct queue q;
    struct model m;
    uint32_t seq = 0;
    unsigned long op, wraps = 0, refusals = 0, full_count = 0, peeks = 0;
    unsigned long multi = 0;
    int push_bias = 1;

    rng_state = seed;
    assert_int_equal(queue_init(&q, cap, max_count), 0);
    m.e = calloc(max_count, sizeof *m.e);
    assert_non_null(m.e);
    m.max = max_count;
    m.first = m.n = m.bytes = 0;

    for (op = 0; op < ops; op++) {
        /* Phases of mostly pushing and mostly popping, so the ring runs
         * both full and empty. */
        if (rnd(64) == 0)
            push_bias = !push_bias;
        if (rnd(4) < (push_bias ? 3u : 1u)) {
            size_t len = entry_size(cap), i;
            int room = model_room(&m, cap, len);
            uint8_t *p = push(&q, len, seq);

            if (!p) {
                if (room) {
                    print_error("op %lu: refused %zu bytes with room "
                                "(count %zu bytes %zu)\n",
                                op, len, m.n, m.bytes);
                    fail();
                }
                refusals++;
                if (m.n == max_count)
                    full_count++;
                continue;
            }
            if (!room) {
                print_error("op %lu: took %zu bytes without room\n", op, len);
                fail();
            }
            {
                size_t off = (size_t)(p - q.buf);
                struct model_entry *ne;

                /* Inside the buffer, never straddling its end. */
                assert_true(off + len <= cap);
                /* Never overlapping a live entry. */
                for (i = 0; i < m.n; i++) {
                    struct model_entry *o = model_at(&m, i);

                    assert_true(off + len <= o->off || o->off + o->len <= off);
                }
                if (m.n > 0 && off == 0)
                    wraps++;
                ne = model_at(&m, m.n);
                ne->off = off;
                ne->len = len;
                ne->seq = seq++;
                m.n++;
                m.bytes += len;
            }
        } else if (m.n > 0) {
            const uint8_t *p = NULL;
            size_t run = queue_peek(&q, &p), walked = 0, n = 0, k, i, take = 0;
            struct model_entry *first = model_at(&m, 0);

            peeks++;
            assert_ptr_equal(p, q.buf + first->off);
            assert_true(run > 0);
            assert_true(first->off + run <= cap);
            /* The run is whole entries, in FIFO order, summing exactly. */
            while (walked < run) {
                struct model_entry *e;

                assert_true(n < m.n);
                e = model_at(&m, n);
                assert_int_equal(e->off, first->off + walked);
                assert_true(walked + queue_entry_len(p + walked) <= run);
                check_entry(p + walked, e->len, e->seq);
                walked += e->len;
                n++;
            }
            assert_int_equal(walked, run);
            /* ...and the longest such run: the next entry is elsewhere. */
            if (n < m.n)
                assert_int_not_equal(model_at(&m, n)->off, first->off + run);
            if (n > 1)
                multi++;
            /* Take a random number of the entries in the run. */
            k = 1 + rnd(n);
            for (i = 0; i < k; i++)
                take += model_at(&m, i)->len;
            queue_consume(&q, take, k);
            m.first = (m.first + k) % m.max;
            m.n -= k;
            m.bytes -= take;
        }
        assert_int_equal(q.count, m.n);
        assert_int_equal(q.bytes, m.bytes);
        check_runs(&q, &m);
        if (m.n == 0) {
            const uint8_t *p;

            assert_int_equal(queue_peek(&q, &p), 0);
            assert_true(queue_fits(&q, cap));
        }
    }

    /* The run must have exercised what it is about: wrap-arounds,
     * refusals on the bound under test, and runs of several entries. */
    assert_true(wraps > ops / 200);
    if (count_bound)
        assert_true(full_count > ops / 100);
    else
        assert_true(refusals - full_count > ops / 100);
    assert_true(multi > peeks / 10);

    /* Drain and check the last entries. */
    while (m.n > 0) {
        const uint8_t *p;
        size_t run = queue_peek(&q, &p), walked = 0, n = 0;

        while (walked < run) {
            struct model_entry *e = model_at(&m, n);

            check_entry(p + walked, e->len, e->seq);
            walked += e->len;
            n++;
        }
        assert_int_equal(walked, run);
        queue_consume(&q, run, n);
        m.first = (m.first + n) % m.max;
        m.n -= n;
    }
    check_empty(&q);
    free(m.e);
    queue_close(&q);
}

/* Byte-bound mostly: plenty of entry slots. */
static void test_random_bytes(void **state)
{
    (void)state;
    run_random(4096, 64, 0, 100000, 0x9e3779b97f4a7c15ull);
}

/* Entry-bound often: few slots, small entries dominate. */
static void test_random_count(void **state)
{
    (void)state;
    run_random(2000, 7, 1, 100000, 0x0123456789abcdefull);
}

/* Unaligned odd capacity, where nothing divides evenly. */
static void test_random_odd(void **state)
{
    (void)state;
    run_random(997, 50, 0, 100000, 0xfeedfacecafebeefull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_close),
        cmocka_unit_test(test_reserve_is_idempotent),
        cmocka_unit_test(test_byte_bound),
        cmocka_unit_test(test_entry_bound),
        cmocka_unit_test(test_partial_consume),
        cmocka_unit_test(test_empty_resets),
        cmocka_unit_test(test_wrap_peek),
        cmocka_unit_test(test_fill_to_head),
        cmocka_unit_test(test_large_entries),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_random_count),
        cmocka_unit_test(test_random_odd),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
