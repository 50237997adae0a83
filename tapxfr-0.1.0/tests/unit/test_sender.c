/* Unit tests for the UDP sending thread (src/output/sender.c), on real
 * loopback sockets and a real libuv loop.
 *
 * Entries are laid out as the queue holds them (a 2-byte big-endian
 * length, then the payload); each payload starts with its sequence
 * number, so the receiving socket shows what went out and in which order.
 * Covered: jobs come back in order with every entry sent; the job limit;
 * an entry the socket refuses for good (EMSGSIZE) cuts its job and hands
 * back the later jobs untouched, and sending the rest again loses and
 * repeats nothing; ECONNREFUSED is counted and retried; stopping with
 * jobs held. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "output/sender.h"

#define HUGE_PAYLOAD 65533 /* over the 65507 bytes of an IPv4 datagram */

struct fixture {
    uv_loop_t loop;
    int rx, tx; /* receiving socket, connected sending socket */
    struct sender s;
    uint8_t *buf;
    size_t len;     /* bytes of entries in buf */
    size_t offs[4096];
    size_t n;       /* entries in buf */
    int done_calls; /* on_done callbacks */
    int closed;
};

static void on_done(struct sender *s)
{
    struct fixture *f = s->data;

    f->done_calls++;
}

static void on_closed(struct sender *s)
{
    struct fixture *f = s->data;

    f->closed = 1;
}

/* Sockets: rx bound to an ephemeral loopback port (or, with refused, a
 * port closed again, so that nobody listens), tx connected to it. */
static void open_sockets(struct fixture *f, int refused)
{
    struct sockaddr_in sin;
    socklen_t sl = sizeof(sin);
    int big = 8 << 20;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    f->rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(f->rx >= 0);
    setsockopt(f->rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    assert_int_equal(bind(f->rx, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(f->rx, (struct sockaddr *)&sin, &sl), 0);
    if (refused) {
        close(f->rx);
        f->rx = -1;
    }
    f->tx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(f->tx >= 0);
    assert_int_equal(connect(f->tx, (struct sockaddr *)&sin, sizeof(sin)), 0);
}

static struct fixture *setup(int refused)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    open_sockets(f, refused);
    f->buf = malloc(1 << 22);
    assert_non_null(f->buf);
    assert_int_equal(sender_init(&f->s, &f->loop, f->tx, on_done), 0);
    f->s.data = f;
    assert_int_equal(sender_start(&f->s), 0);
    return f;
}

static void teardown(struct fixture *f)
{
    sender_close(&f->s, on_closed);
    while (!f->closed)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    close(f->tx);
    if (f->rx >= 0)
        close(f->rx);
    free(f->buf);
    free(f);
}

/* Appends an entry whose payload is payload bytes: the 4-byte sequence
 * number (its index), then filler. */
static void add(struct fixture *f, size_t payload)
{
    uint8_t *p = f->buf + f->len;
    uint32_t seq = htonl((uint32_t)f->n);

    assert_true(payload >= 4 && payload <= 65535);
    p[0] = (uint8_t)(payload >> 8);
    p[1] = (uint8_t)payload;
    memcpy(p + 2, &seq, 4);
    memset(p + 6, (int)(f->n & 0xff), payload - 4);
    f->offs[f->n++] = f->len;
    f->len += 2 + payload;
}

/* Bytes from entry a up to (not including) entry b. */
static size_t span(const struct fixture *f, size_t a, size_t b)
{
    return (b < f->n ? f->offs[b] : f->len) - f->offs[a];
}

static void submit(struct fixture *f, size_t a, size_t b)
{
    assert_int_equal(sender_submit(&f->s, f->buf + f->offs[a], span(f, a, b), b - a), 0);
}

/* Runs the loop until a job is harvested into *j. */
static void harvest(struct fixture *f, struct sender_job *j, int *withdrawn)
{
    for (int i = 0; i < 100000; i++) {
        if (sender_harvest(&f->s, j, withdrawn))
            return;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    fail_msg("no job came back");
}

/* Receives count datagrams and checks they are the entries with the given
 * sequence numbers, whole. */
static void expect_received(struct fixture *f, const uint32_t *seqs, size_t count)
{
    static uint8_t d[70000];

    for (size_t i = 0; i < count; i++) {
        struct pollfd pfd = {.fd = f->rx, .events = POLLIN};
        const uint8_t *e = f->buf + f->offs[seqs[i]];
        size_t want = (size_t)e[0] << 8 | e[1];
        ssize_t r;

        assert_int_equal(poll(&pfd, 1, 5000), 1);
        r = recv(f->rx, d, sizeof(d), 0);
        assert_int_equal(r, (ssize_t)want);
        assert_memory_equal(d, e + 2, want);
    }
    assert_int_equal(recv(f->rx, d, sizeof(d), MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
}

static void test_jobs_in_order(void **state)
{
    struct fixture *f = setup(0);
    struct sender_job j;
    uint32_t seqs[1200];
    size_t bounds[] = {0, 1, 100, 1124, 1200};
    int w;

    (void)state;
    for (int i = 0; i < 1200; i++)
        add(f, 4 + (size_t)(i * 37) % 1400);
    for (int k = 0; k < 4; k++)
        submit(f, bounds[k], bounds[k + 1]);
    assert_int_equal(sender_submit(&f->s, f->buf, 6, 1), -EBUSY);
    for (int k = 0; k < 4; k++) {
        harvest(f, &j, &w);
        assert_ptr_equal(j.p, f->buf + f->offs[bounds[k]]);
        assert_int_equal(j.n, bounds[k + 1] - bounds[k]);
        assert_int_equal(j.sent, j.n);
        assert_int_equal(j.sent_bytes, span(f, bounds[k], bounds[k + 1]));
        assert_int_equal(j.err, 0);
        assert_int_equal(j.refused, 0);
        assert_false(w);
    }
    assert_true(f->done_calls >= 1);
    for (uint32_t i = 0; i < 1200; i++)
        seqs[i] = i;
    expect_received(f, seqs, 1200);
    teardown(f);
}

static void test_refused_for_good(void **state)
{
    struct fixture *f = setup(0);
    struct sender_job j;
    const uint32_t seqs[] = {0, 1, 3, 4, 5, 6};
    int w;

    (void)state;
    add(f, 100);          /* 0 */
    add(f, 200);          /* 1 */
    add(f, HUGE_PAYLOAD); /* 2: EMSGSIZE */
    add(f, 300);          /* 3 */
    add(f, 4);            /* 4 */
    add(f, 500);          /* 5 */
    add(f, 600);          /* 6 */
    submit(f, 0, 4);
    submit(f, 4, 6);
    submit(f, 6, 7);
    harvest(f, &j, &w);
    assert_int_equal(j.n, 4);
    assert_int_equal(j.sent, 2);
    assert_int_equal(j.sent_bytes, span(f, 0, 2));
    assert_int_equal(j.err, EMSGSIZE);
    assert_true(w); /* the two later jobs came back unsent */
    assert_false(sender_harvest(&f->s, &j, &w));
    /* The loop drops entry 2 and hands over the rest again (submit()
     * asserts the sender takes them). */
    submit(f, 3, 6);
    submit(f, 6, 7);
    harvest(f, &j, &w);
    assert_int_equal(j.sent, 3);
    assert_false(w);
    harvest(f, &j, &w);
    assert_int_equal(j.sent, 1);
    assert_int_equal(j.err, 0);
    expect_received(f, seqs, 6);
    teardown(f);
}

static void test_connection_refused(void **state)
{
    struct fixture *f = setup(1);
    struct sender_job j;
    uint64_t refused = 0;
    size_t sent = 0;
    int w;

    (void)state;
    for (int i = 0; i < 300; i++)
        add(f, 50);
    /* One datagram per job, so that ICMP errors come between sends. */
    for (int round = 0; round < 100; round++) {
        submit(f, (size_t)round, (size_t)round + 1);
        harvest(f, &j, &w);
        assert_int_equal(j.err, 0);
        assert_false(w);
        sent += j.sent;
        refused += j.refused;
    }
    assert_int_equal(sent, 100);
    assert_true(refused > 0);
    teardown(f);
}

static void test_stop_with_jobs_held(void **state)
{
    struct fixture *f = setup(0);
    struct sender_job j;
    size_t sent = 0, entries = 0;
    int w;

    (void)state;
    for (int i = 0; i < 4000; i++)
        add(f, 1000);
    submit(f, 0, 1000);
    submit(f, 1000, 2000);
    submit(f, 2000, 3000);
    submit(f, 3000, 4000);
    sender_stop(&f->s);
    sender_stop(&f->s); /* twice is fine */
    assert_int_equal(sender_submit(&f->s, f->buf, 6, 1), -EBUSY);
    /* Whatever finished comes back in order; a cut job ends the list. */
    while (sender_harvest(&f->s, &j, &w)) {
        assert_ptr_equal(j.p, f->buf + f->offs[entries]);
        sent += j.sent;
        entries += j.n;
        if (w) {
            assert_true(j.sent < j.n);
            break;
        }
        assert_int_equal(j.sent, j.n);
    }
    assert_true(sent <= 4000);
    teardown(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_in_order),
        cmocka_unit_test(test_refused_for_good),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_stop_with_jobs_held),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
