#include "config.h"

#include "output/outputs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "output/kinds.h"

static void release(struct outputs *o)
{
    if (--o->open_handles == 0 && o->on_closed)
        o->on_closed(o);
}

static void on_handle_closed(uv_handle_t *h)
{
    release(h->data);
}

static void on_coll_closed(struct coll *c)
{
    release(c->data);
}

/* How far an input that waits may run ahead of a collector: plenty to
 * keep the sender busy (thousands of messages), little enough that what
 * it sends is still in the CPU's cache rather than megabytes behind. */
static size_t backlog_max(const struct queue *q)
{
    return q->cap / 2 < OUTPUTS_BACKLOG_BYTES ? q->cap / 2 : OUTPUTS_BACKLOG_BYTES;
}

/* Room for a good batch, not for one message, so that a paused input does
 * not bounce on every datagram sent. */
static int has_room(const struct queue *q)
{
    return q->bytes <= backlog_max(q) / 2 && q->count <= q->max_count / 2;
}

static int paces(const struct coll *c)
{
    return c->ops->paces_inputs && c->state == COLL_READY;
}

static void settle(uv_idle_t *h);

/* Posts the settling to the loop; it runs from its own callback. */
static void post_settle(struct outputs *o)
{
    if ((o->waiting || o->waiting_live || o->flushing) && !uv_is_closing((uv_handle_t *)&o->settle))
        uv_idle_start(&o->settle, settle);
}

static void on_progress(struct coll *c)
{
    post_settle(c->data);
}

static void try_room(struct outputs *o)
{
    int resume = 0, ok = 1;

    for (int i = 0; i < o->n && ok; i++)
        if (paces(o->colls[i]))
            ok = has_room(&o->colls[i]->q);
    if (o->waiting_live && ok) {
        o->waiting_live = 0;
        resume = 1;
    }
    for (int i = 0; i < o->n && ok; i++)
        ok = has_room(&o->colls[i]->q);
    if (o->waiting && ok) {
        o->waiting = 0;
        resume = 1;
    }
    /* Every paused input resumes and asks again for itself. */
    if (resume && o->on_room)
        o->on_room(o->on_room_arg);
}

static void finish_flush(struct outputs *o)
{
    void (*cb)(struct outputs *) = o->on_flushed;

    o->flushing = 0;
    o->on_flushed = NULL;
    uv_timer_stop(&o->deadline);
    if (cb)
        cb(o);
}

static void settle(uv_idle_t *h)
{
    struct outputs *o = h->data;

    uv_idle_stop(&o->settle);
    if (o->waiting || o->waiting_live)
        try_room(o);
    if (o->flushing && outputs_idle(o))
        finish_flush(o);
}

static void on_prepare(uv_prepare_t *h)
{
    struct outputs *o = h->data;

    for (int i = 0; i < o->n; i++)
        coll_flush(o->colls[i]);
}

void outputs_init(struct outputs *o, uv_loop_t *loop, const struct coll_conf *conf,
                  size_t max_msg)
{
    memset(o, 0, sizeof(*o));
    o->loop = loop;
    o->conf = *conf;
    o->max_msg = max_msg;
    uv_prepare_init(loop, &o->prepare);
    o->prepare.data = o;
    uv_idle_init(loop, &o->settle);
    o->settle.data = o;
    uv_timer_init(loop, &o->deadline);
    o->deadline.data = o;
    o->open_handles = 3;
}

int outputs_add(struct outputs *o, const char *scheme, const char *host, const char *port)
{
    const struct coll_ops *ops = coll_kind(scheme);
    struct coll *c;
    int rc;

    if (!ops)
        return -EINVAL;
    if (o->n == OUTPUTS_MAX)
        return -ENOSPC;
    c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    rc = coll_init(c, o->loop, ops, scheme, host, port, &o->conf);
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->data = o;
    c->on_progress = on_progress;
    o->open_handles++;
    o->colls[o->n++] = c;
    return 0;
}

void outputs_start(struct outputs *o)
{
    uv_prepare_start(&o->prepare, on_prepare);
    for (int i = 0; i < o->n; i++)
        coll_start(o->colls[i]);
}

void outputs_submit(struct outputs *o, const struct rec *r)
{
    for (int i = 0; i < o->n; i++)
        coll_submit(o->colls[i], r);
}

int outputs_full(const struct outputs *o)
{
    for (int i = 0; i < o->n; i++) {
        const struct queue *q = &o->colls[i]->q;

        if (q->bytes >= backlog_max(q) || !queue_fits(q, o->max_msg + o->colls[i]->ops->overhead))
            return 1;
    }
    return 0;
}

int outputs_full_live(const struct outputs *o, size_t bytes, size_t msgs)
{
    for (int i = 0; i < o->n; i++) {
        const struct queue *q = &o->colls[i]->q;
        size_t b = bytes, m = msgs;

        if (!paces(o->colls[i]))
            continue;
        /* Never ask for more than try_room() frees before resuming. */
        if (b > q->cap / 2)
            b = q->cap / 2;
        if (m > q->max_count / 2)
            m = q->max_count / 2;
        if (q->bytes >= backlog_max(q) || q->cap - q->bytes < b || q->max_count - q->count < m)
            return 1;
    }
    return 0;
}

void outputs_wait(struct outputs *o, int live)
{
    if (live)
        o->waiting_live = 1;
    else
        o->waiting = 1;
    /* The queues may have drained between the question and now. */
    post_settle(o);
}

int outputs_idle(const struct outputs *o)
{
    for (int i = 0; i < o->n; i++)
        if (o->colls[i]->q.count)
            return 0;
    return 1;
}

static void on_deadline(uv_timer_t *t)
{
    struct outputs *o = t->data;

    for (int i = 0; i < o->n; i++)
        coll_discard(o->colls[i]);
    finish_flush(o);
}

void outputs_flush(struct outputs *o, uint64_t timeout_ms, void (*cb)(struct outputs *o))
{
    if (!o->flushing) {
        o->flushing = 1;
        o->on_flushed = cb;
    }
    if (timeout_ms) {
        uint64_t left = uv_timer_get_due_in(&o->deadline);
        if (!uv_is_active((uv_handle_t *)&o->deadline) || timeout_ms < left)
            uv_timer_start(&o->deadline, on_deadline, timeout_ms, 0);
    }
    /* Push out what is queued now rather than waiting for the next
     * iteration; whether that was all is settled on the loop. */
    for (int i = 0; i < o->n; i++)
        coll_flush(o->colls[i]);
    post_settle(o);
}

void outputs_close(struct outputs *o, void (*cb)(struct outputs *o))
{
    o->on_closed = cb;
    for (int i = 0; i < o->n; i++)
        coll_close(o->colls[i], on_coll_closed);
    uv_close((uv_handle_t *)&o->prepare, on_handle_closed);
    uv_close((uv_handle_t *)&o->settle, on_handle_closed);
    uv_close((uv_handle_t *)&o->deadline, on_handle_closed);
}

void outputs_free(struct outputs *o)
{
    for (int i = 0; i < o->n; i++) {
        coll_free(o->colls[i]);
        free(o->colls[i]);
        o->colls[i] = NULL;
    }
    o->n = 0;
}

const struct stats_out *outputs_stats(struct outputs *o, int i)
{
    coll_refresh_stats(o->colls[i]);
    return &o->colls[i]->st;
}

const char *outputs_name(const struct outputs *o, int i)
{
    return o->colls[i]->name;
}
