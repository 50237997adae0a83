#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/dnsxfr.h"
#include "log.h"
#include "output/sender.h"
#include "output/transport.h"

static void on_sender_done(struct sender *s);

static void on_sender_closed(struct sender *s)
{
    struct out *o = s->data;

    free(s);
    out_release(o);
}

int out_udp_connect(struct out_coll *c)
{
    struct sender *s;
    int rc = coll_socket(c, SOCK_DGRAM);

    if (rc < 0)
        return rc;
    s = malloc(sizeof(*s));
    if (!s)
        return -ENOMEM; /* the socket goes with the failure */
    rc = sender_init(s, c->out->loop, c->sock->fd, on_sender_done);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->data = c;
    c->snd = s;
    c->inflight_bytes = c->inflight_n = 0;
    c->inflight_jobs = 0;
    c->out->open_handles++;
    rc = sender_start(s);
    if (rc < 0)
        return rc; /* coll_fail() closes the sender with the socket */
    c->st.connects++;
    coll_set_state(c, COLL_READY);
    return 0;
}

/* Hands the entries not yet held by the sender over in jobs, as many as
 * it takes. */
void out_udp_flush(struct out_coll *c)
{
    while (c->state == COLL_READY && c->snd && c->inflight_jobs < SENDER_JOBS) {
        const uint8_t *p;
        size_t run = queue_peek_after(&c->q, c->inflight_bytes, &p), len = 0, n = 0;

        if (run == 0)
            return;
        while (len < run && n < SENDER_JOB_MAX) {
            len += queue_entry_len(p + len);
            n++;
        }
        if (sender_submit(c->snd, p, len, n) < 0)
            return;
        c->inflight_bytes += len;
        c->inflight_n += n;
        c->inflight_jobs++;
    }
}

/* Settles the finished jobs: their entries leave the queue, counted. */
static void harvest(struct out_coll *c)
{
    struct sender_job j;
    int withdrawn;

    while (sender_harvest(c->snd, &j, &withdrawn)) {
        if (log_verbose())
            for (size_t i = 0, off = 0; i < j.sent; i++, off += queue_entry_len(j.p + off))
                log_debug("Forwarded %zu bytes.", queue_entry_len(j.p + off) - DNSXFR_TCP_PREFIX);
        if (j.refused) {
            if (c->st.send_errors == 0 || log_verbose())
                log_warnx("%s: collector not listening (ECONNREFUSED); still sending",
                          c->name);
            c->st.send_errors += j.refused;
        }
        c->inflight_bytes -= j.len;
        c->inflight_n -= j.n;
        c->inflight_jobs--;
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
            c->inflight_bytes = c->inflight_n = 0;
            c->inflight_jobs = 0;
        }
    }
}

void out_udp_poll(struct out_coll *c)
{
    if (!c->snd)
        return;
    harvest(c);
    out_udp_flush(c);
    coll_progress(c);
}

static void on_sender_done(struct sender *s)
{
    out_udp_poll(s->data);
}

void out_udp_stop(struct out_coll *c)
{
    struct sender *s = c->snd;

    if (!s)
        return;
    sender_stop(s);
    harvest(c);
    c->snd = NULL;
    c->inflight_bytes = c->inflight_n = 0;
    c->inflight_jobs = 0;
    s->data = c->out;
    sender_close(s, on_sender_closed);
}
