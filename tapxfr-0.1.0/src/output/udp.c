/* udp.c: the UDP collector kind: one DNSXFR01 message per datagram, sent
 * by a thread of its own (output/sender.h) so that the kernel's send path
 * runs beside the decoding on the loop thread. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/dnsxfr.h"
#include "log.h"
#include "output/coll.h"
#include "output/sender.h"

#define EARLY_JOB 64 /* unsent entries that make a job at once */

struct udp {
    struct coll *c;
    struct sender *snd;    /* the sending thread, while connected */
    size_t inflight_bytes; /* the head entries the sender holds */
    size_t inflight_n;
    unsigned inflight_jobs; /* counted here, so a full sender costs no lock */
};

static void udp_flush(struct coll *c);
static void harvest(struct udp *u);
static void hand_over(struct coll *c, struct udp *u);

static int udp_init(struct coll *c)
{
    struct udp *u = calloc(1, sizeof(*u));

    if (!u)
        return -ENOMEM;
    u->c = c;
    c->priv = u;
    return 0;
}

static void udp_free(struct coll *c)
{
    free(c->priv);
}

static void on_sender_closed(struct sender *s)
{
    struct coll *c = s->data;

    free(s);
    coll_release(c);
}

/* Settles the finished jobs, hands the sender more, and lets the owner
 * know (each loop iteration, and when the sender asks). */
static void on_sender_done(struct sender *s)
{
    struct coll *c = s->data;
    struct udp *u = c->priv;

    if (u->snd != s)
        return;
    harvest(u);
    udp_flush(c);
}

static int udp_connect(struct coll *c)
{
    struct udp *u = c->priv;
    struct sender *s;
    int rc = coll_socket(c, SOCK_DGRAM);

    if (rc < 0)
        return rc;
    s = malloc(sizeof(*s));
    if (!s)
        return -ENOMEM; /* the socket goes with the failure */
    rc = sender_init(s, c->loop, c->sock->fd, on_sender_done);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->data = c;
    u->snd = s;
    u->inflight_bytes = u->inflight_n = 0;
    u->inflight_jobs = 0;
    coll_hold(c);
    rc = sender_start(s);
    if (rc < 0)
        return rc; /* coll_fail() closes the sender with the socket */
    c->st.connects++;
    coll_set_state(c, COLL_READY);
    return 0;
}

static int udp_encode(struct coll *c, const struct rec *r)
{
    struct udp *u = c->priv;

    if (coll_queue_dnsxfr(c, r) < 0)
        return -ENOBUFS;
    /* Hand a good batch over at once rather than at the end of the loop
     * iteration, so that an idle sender starts early. Harvesting waits
     * for the iteration's end: it takes the sender's lock. */
    if (c->q.count - u->inflight_n >= EARLY_JOB && u->snd)
        hand_over(c, u);
    return 0;
}

/* Hands the entries not yet held by the sender over in jobs, as many as
 * it takes. */
static void hand_over(struct coll *c, struct udp *u)
{
    while (c->state == COLL_READY && u->snd && u->inflight_jobs < SENDER_JOBS) {
        const uint8_t *p;
        size_t run = queue_peek_after(&c->q, u->inflight_bytes, &p), len = 0, n = 0;

        if (run == 0)
            return;
        while (len < run && n < SENDER_JOB_MAX) {
            len += queue_entry_len(p + len);
            n++;
        }
        if (sender_submit(u->snd, p, len, n) < 0)
            return;
        u->inflight_bytes += len;
        u->inflight_n += n;
        u->inflight_jobs++;
    }
}

static void udp_flush(struct coll *c)
{
    struct udp *u = c->priv;

    if (!u->snd)
        return;
    harvest(u);
    hand_over(c, u);
}

static void log_sent(const struct sender_job *j)
{
    for (size_t i = 0, off = 0; i < j->sent; i++, off += queue_entry_len(j->p + off))
        log_debug("Forwarded %zu bytes.", queue_entry_len(j->p + off) - DNSXFR_TCP_PREFIX);
}

/* Settles the finished jobs: their entries leave the queue, counted. */
static void harvest(struct udp *u)
{
    struct coll *c = u->c;
    struct sender_job j;
    int withdrawn;

    while (sender_harvest(u->snd, &j, &withdrawn)) {
        if (log_verbose())
            log_sent(&j);
        if (j.refused) {
            if (c->st.send_errors == 0 || log_verbose())
                log_warnx("%s: collector not listening (ECONNREFUSED); still sending",
                          c->name);
            c->st.send_errors += j.refused;
        }
        u->inflight_bytes -= j.len;
        u->inflight_n -= j.n;
        u->inflight_jobs--;
        if (j.sent)
            coll_sent(c, j.sent_bytes, j.sent);
        if (j.err) {
            /* The socket refused this datagram for good (e.g. EMSGSIZE):
             * count it and go on with the rest. */
            size_t len = queue_entry_len(j.p + j.sent_bytes);

            log_warnx("%s: cannot send %zu bytes: %s", c->name, len - DNSXFR_TCP_PREFIX,
                      strerror(j.err));
            coll_dropped(c, len, 1, STATS_DROP_SEND_ERROR);
        }
        if (withdrawn) {
            u->inflight_bytes = u->inflight_n = 0;
            u->inflight_jobs = 0;
        }
    }
}

/* Stops the sending thread and settles what it sent (before the socket
 * goes, or before the queue is emptied at the flush deadline). */
static void udp_stop(struct coll *c)
{
    struct udp *u = c->priv;
    struct sender *s = u->snd;

    if (!s)
        return;
    sender_stop(s);
    harvest(u);
    u->snd = NULL;
    u->inflight_bytes = u->inflight_n = 0;
    u->inflight_jobs = 0;
    sender_close(s, on_sender_closed);
}

/* UDP sockets are never polled: the sender thread writes to them. */
static void udp_event(struct coll *c, int status, int events)
{
    (void)c;
    (void)status;
    (void)events;
}

const struct coll_ops coll_udp_ops = {
    .overhead = DNSXFR_HEADER_LEN + DNSXFR_TCP_PREFIX,
    .socktype = SOCK_DGRAM,
    .paces_inputs = 1,
    .init = udp_init,
    .connect = udp_connect,
    .encode = udp_encode,
    .flush = udp_flush,
    .event = udp_event,
    .timeout = NULL,
    .stop = udp_stop,
    .free = udp_free,
};
