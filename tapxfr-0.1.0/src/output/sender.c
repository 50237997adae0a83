#include "config.h"

#include "output/sender.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

/* While the socket buffer is full the thread sleeps in poll(); it wakes
 * this often to see whether it was asked to stop. */
#define SENDER_STOP_CHECK_MS 50

static int stopping(struct sender *s)
{
    int stop;

    uv_mutex_lock(&s->lock);
    stop = s->stop;
    uv_mutex_unlock(&s->lock);
    return stop;
}

/* Waits until the socket may take more, or a stop request. ENOBUFS
 * (the device queue is full) can come with a writable socket, so after it
 * the thread sleeps instead of spinning. Returns -1 to stop. */
static int wait_room(struct sender *s, int enobufs)
{
    struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};

    for (;;) {
        if (stopping(s))
            return -1;
        if (enobufs) {
            poll(NULL, 0, 1);
            return 0;
        }
        if (poll(&pfd, 1, SENDER_STOP_CHECK_MS) != 0)
            return 0; /* writable, an error to report, or EINTR: try */
    }
}

/* Sends the job's entries in batches, in order. Fills j->sent,
 * j->sent_bytes, j->err and j->refused. */
static void send_job(struct sender *s, struct sender_job *j)
{
    struct mmsghdr msgs[SENDER_BATCH];
    struct iovec iov[SENDER_BATCH];
    size_t off = 0;

    while (j->sent < j->n) {
        unsigned k = 0;
        size_t o = off;
        int r;

        while (k < SENDER_BATCH && j->sent + k < j->n) {
            size_t len = 2 + ((size_t)j->p[o] << 8 | j->p[o + 1]);

            iov[k].iov_base = (void *)(j->p + o + 2);
            iov[k].iov_len = len - 2;
            memset(&msgs[k].msg_hdr, 0, sizeof(msgs[k].msg_hdr));
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
            o += len;
            k++;
        }
        r = sendmmsg(s->fd, msgs, k, MSG_DONTWAIT);
        if (r > 0) {
            for (int i = 0; i < r; i++)
                off += iov[i].iov_len + 2;
            j->sent += (size_t)r;
            j->sent_bytes = off;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
            if (wait_room(s, errno == ENOBUFS) < 0)
                return;
            continue;
        }
        if (errno == ECONNREFUSED) {
            /* The ICMP error of an earlier datagram, reported on this
             * call; nothing of this batch went out. Sending again does. */
            j->refused++;
            continue;
        }
        /* Anything else concerns this datagram (e.g. EMSGSIZE). */
        j->err = errno;
        return;
    }
}

static void run(void *arg)
{
    struct sender *s = arg;

    uv_mutex_lock(&s->lock);
    for (;;) {
        struct sender_job *j;

        while (!s->stop && (s->cut || s->done == s->held))
            uv_cond_wait(&s->cond, &s->lock);
        if (s->stop)
            break;
        j = &s->jobs[(s->first + s->done) % SENDER_JOBS];
        uv_mutex_unlock(&s->lock);
        send_job(s, j);
        uv_mutex_lock(&s->lock);
        s->done++;
        if (j->sent < j->n)
            s->cut = 1;
        uv_async_send(&s->async);
    }
    uv_mutex_unlock(&s->lock);
}

static void on_async(uv_async_t *a)
{
    struct sender *s = a->data;

    if (s->on_done)
        s->on_done(s);
}

int sender_init(struct sender *s, uv_loop_t *loop, int fd,
                void (*on_done)(struct sender *s))
{
    int rc;

    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->on_done = on_done;
    if ((rc = uv_mutex_init(&s->lock)) < 0)
        return rc;
    if ((rc = uv_cond_init(&s->cond)) < 0) {
        uv_mutex_destroy(&s->lock);
        return rc;
    }
    if ((rc = uv_async_init(loop, &s->async, on_async)) < 0) {
        uv_cond_destroy(&s->cond);
        uv_mutex_destroy(&s->lock);
        return rc;
    }
    s->async.data = s;
    return 0;
}

int sender_start(struct sender *s)
{
    int rc = uv_thread_create(&s->thread, run, s);

    if (rc < 0)
        return rc;
    s->running = 1;
    return 0;
}

int sender_submit(struct sender *s, const uint8_t *p, size_t len, size_t n)
{
    struct sender_job *j;

    uv_mutex_lock(&s->lock);
    if (s->held == SENDER_JOBS || s->stop) {
        uv_mutex_unlock(&s->lock);
        return -EBUSY;
    }
    j = &s->jobs[(s->first + s->held) % SENDER_JOBS];
    memset(j, 0, sizeof(*j));
    j->p = p;
    j->len = len;
    j->n = n;
    s->held++;
    uv_cond_signal(&s->cond);
    uv_mutex_unlock(&s->lock);
    return 0;
}

int sender_harvest(struct sender *s, struct sender_job *j, int *withdrawn)
{
    uv_mutex_lock(&s->lock);
    *withdrawn = 0;
    if (s->done == 0) {
        uv_mutex_unlock(&s->lock);
        return 0;
    }
    *j = s->jobs[s->first];
    s->first = (s->first + 1) % SENDER_JOBS;
    s->held--;
    s->done--;
    if (j->sent < j->n) {
        /* Only the last finished job can be cut: nothing after it ran. */
        s->held = s->done = 0;
        s->cut = 0;
        *withdrawn = 1;
        uv_cond_signal(&s->cond);
    }
    uv_mutex_unlock(&s->lock);
    return 1;
}

void sender_stop(struct sender *s)
{
    if (!s->running)
        return;
    uv_mutex_lock(&s->lock);
    s->stop = 1;
    uv_cond_signal(&s->cond);
    uv_mutex_unlock(&s->lock);
    uv_thread_join(&s->thread);
    s->running = 0;
}

static void on_async_closed(uv_handle_t *h)
{
    struct sender *s = h->data;

    uv_cond_destroy(&s->cond);
    uv_mutex_destroy(&s->lock);
    if (s->on_closed)
        s->on_closed(s);
}

void sender_close(struct sender *s, void (*cb)(struct sender *s))
{
    sender_stop(s);
    s->on_closed = cb;
    uv_close((uv_handle_t *)&s->async, on_async_closed);
}
