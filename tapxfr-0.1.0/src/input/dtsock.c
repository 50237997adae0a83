#include "config.h"

#include "input/dtsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "netaddr.h"

#define LISTEN_BACKLOG 128

struct dtconn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_pipe_t pipe;
        uv_tcp_t tcp;
    } h;
    uv_timer_t timer;
    struct dtsock *s;
    struct fs_conn fs;
    uv_write_t wreq;
    uint8_t wbuf[FS_REPLY_MAX];
    int writing;   /* a reply is being written */
    int finishing; /* close once the reply is out */
    int started;   /* the handshake completed (START seen) */
    int paused;    /* reading stopped until the output has room */
    int closing;
    int open_handles;
    struct dtconn *prev, *next;
};

static void sock_release(struct dtsock *s)
{
    if (--s->open_handles > 0)
        return;
    free(s->rbuf);
    s->rbuf = NULL;
    dtin_close(&s->in);
    if (s->on_closed)
        s->on_closed(s);
}

/* ------------------------------------------------------------ connections */

static void on_conn_handle_closed(uv_handle_t *h)
{
    struct dtconn *c = h->data;
    struct dtsock *s = c->s;

    if (--c->open_handles > 0)
        return;
    fs_close(&c->fs);
    free(c);
    sock_release(s);
}

static void conn_close(struct dtconn *c)
{
    struct dtsock *s = c->s;

    if (c->closing)
        return;
    c->closing = 1;
    s->in.st.oversize += c->fs.oversize_frames;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->n_conns--;
    uv_close(&c->h.handle, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_frame(void *arg, const uint8_t *frame, size_t len)
{
    struct dtconn *c = arg;

    dtin_frame(&c->s->in, frame, len);
}

static void on_write(uv_write_t *req, int status)
{
    struct dtconn *c = req->data;

    c->writing = 0;
    /* Unbound closes right after STOP without reading FINISH: a failed
     * FINISH is the normal end of such a stream, not an error. */
    if (status < 0 && status != UV_EPIPE && status != UV_ECONNRESET &&
        status != UV_ECANCELED)
        log_debug("%s: cannot write a control frame: %s", c->s->in.name,
                  uv_strerror(status));
    if (c->finishing || status < 0)
        conn_close(c);
}

static void send_reply(struct dtconn *c)
{
    uv_buf_t b;
    int rc;

    if (c->writing) {
        /* A writer cannot trigger two replies without waiting for the
         * first (ACCEPT precedes START, FINISH ends the stream). */
        conn_close(c);
        return;
    }
    memcpy(c->wbuf, c->fs.reply, c->fs.reply_len);
    b = uv_buf_init((char *)c->wbuf, (unsigned)c->fs.reply_len);
    fs_reply_done(&c->fs);
    c->wreq.data = c;
    rc = uv_write(&c->wreq, &c->h.stream, &b, 1, on_write);
    if (rc < 0) {
        conn_close(c);
        return;
    }
    c->writing = 1;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct dtconn *c = h->data;

    buf->base = (char *)c->s->rbuf;
    buf->len = DTSOCK_READ_BUF;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct dtconn *c = st->data;
    struct dtin *in = &c->s->in;
    int rc;

    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        if (!c->started) {
            in->st.handshake_fail++;
            log_debug("%s: writer left before the handshake completed: %s", in->name,
                      uv_strerror((int)nread));
        } else if (c->fs.state != FS_DONE && nread != UV_EOF) {
            log_debug("%s: writer connection lost: %s", in->name, uv_strerror((int)nread));
        }
        conn_close(c);
        return;
    }
    rc = fs_feed(&c->fs, (const uint8_t *)buf->base, (size_t)nread, on_frame, c);
    /* The codec remembers START even when an error followed it in the
     * same read, so that error counts as a protocol error, not as a
     * failed handshake. */
    if (!c->started && c->fs.started) {
        c->started = 1;
        uv_timer_stop(&c->timer);
        log_debug("%s: writer started (%s)", in->name,
                  c->fs.bidirectional ? "bidirectional" : "unidirectional");
    }
    if (rc < 0) {
        in->st.fs_errors[-rc]++;
        if (c->started)
            in->st.protocol_errors++;
        else
            in->st.handshake_fail++;
        log_warnx("%s: closing a writer connection: %s", in->name, fs_error_name(rc));
        conn_close(c);
        return;
    }
    if (c->fs.reply_len)
        send_reply(c);
    if (c->fs.state == FS_DONE && !c->closing) {
        uv_read_stop(&c->h.stream);
        if (c->writing)
            c->finishing = 1;
        else
            conn_close(c);
        return;
    }
    if (!c->closing && stage_full_live(in->stage, DTSOCK_PAUSE_BYTES, DTSOCK_PAUSE_MSGS)) {
        uv_read_stop(&c->h.stream);
        c->paused = 1;
        in->st.pauses++;
        stage_wait(in->stage, 1);
    }
}

void dtsock_resume(struct dtsock *s)
{
    for (struct dtconn *c = s->conns; c; c = c->next) {
        if (!c->paused || c->closing)
            continue;
        c->paused = 0;
        if (uv_read_start(&c->h.stream, on_alloc, on_read) < 0)
            conn_close(c);
    }
}

static void on_handshake_timeout(uv_timer_t *t)
{
    struct dtconn *c = t->data;

    c->s->in.st.handshake_fail++;
    log_warnx("%s: closing a writer connection: no handshake within %u ms", c->s->in.name,
              c->s->handshake_ms);
    conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct dtsock *s = server->data;
    struct dtconn *c;
    int rc;

    if (status < 0 || s->closing) {
        if (status < 0)
            log_warnx("%s: accept failed: %s", s->in.name, uv_strerror(status));
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c || fs_init(&c->fs, s->max_frame) < 0) {
        free(c);
        log_warnx("%s: out of memory for a connection", s->in.name);
        return;
    }
    c->s = s;
    if (s->path)
        rc = uv_pipe_init(s->loop, &c->h.pipe, 0);
    else
        rc = uv_tcp_init(s->loop, &c->h.tcp);
    if (rc < 0) {
        fs_close(&c->fs);
        free(c);
        return;
    }
    uv_timer_init(s->loop, &c->timer);
    c->h.handle.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    s->open_handles++;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->n_conns++;

    rc = uv_accept(server, &c->h.stream);
    if (rc < 0) {
        conn_close(c);
        return;
    }
    if (s->n_conns > DTSOCK_MAX_CONNS) {
        s->in.st.conn_rejected++;
        if (s->in.st.conn_rejected == 1)
            log_warnx("%s: more than %d writers; closing new connections", s->in.name,
                      DTSOCK_MAX_CONNS);
        conn_close(c);
        return;
    }
    s->in.st.connections++;
    uv_timer_start(&c->timer, on_handshake_timeout, s->handshake_ms, 0);
    rc = uv_read_start(&c->h.stream, on_alloc, on_read);
    if (rc < 0)
        conn_close(c);
}

/* ------------------------------------------------------------ listener */

/* A leftover socket from a previous run is removed; anything else at the
 * path, or a socket someone still listens on, is not ours to remove. */
static int clear_path(const char *path, char *errbuf, size_t errlen)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd, live;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(errbuf, errlen, "refusing to remove %s: not a socket", path);
        return -EEXIST;
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(errbuf, errlen, "socket path too long: %s", path);
        return -ENAMETOOLONG;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    live = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
    if (fd >= 0)
        close(fd);
    if (live) {
        snprintf(errbuf, errlen, "%s is in use by another process", path);
        return -EADDRINUSE;
    }
    if (unlink(path) < 0) {
        snprintf(errbuf, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
        return -errno;
    }
    return 0;
}

static void on_listener_closed(uv_handle_t *h);

static void on_old_listener_closed(uv_handle_t *h)
{
    struct dtsock *s = h->data;

    free(h);
    sock_release(s);
}

static int new_listener(struct dtsock *s)
{
    s->listener = calloc(1, sizeof(*s->listener));
    if (!s->listener)
        return -ENOMEM;
    s->listener->handle.data = s;
    s->open_handles++;
    return 0;
}

static int bind_unix(struct dtsock *s, char *errbuf, size_t errlen)
{
    struct stat st;
    int rc = uv_pipe_init(s->loop, &s->listener->pipe, 0);

    s->listener->handle.data = s;
    if (rc == 0)
        rc = uv_pipe_bind(&s->listener->pipe, s->path);
    if (rc == 0 && chmod(s->path, s->mode) < 0)
        rc = -errno;
    if (rc == 0 && s->gid != (gid_t)-1 && chown(s->path, (uid_t)-1, s->gid) < 0)
        rc = -errno;
    if (rc == 0 && lstat(s->path, &st) == 0)
        s->ino = st.st_ino;
    if (rc == 0)
        rc = uv_listen(&s->listener->stream, LISTEN_BACKLOG, on_connection);
    if (rc < 0)
        snprintf(errbuf, errlen, "cannot listen on %s: %s", s->path, uv_strerror(rc));
    return rc;
}

static int listen_unix(struct dtsock *s, const struct dtsock_opts *o, char *errbuf,
                       size_t errlen)
{
    int rc = clear_path(o->path, errbuf, errlen);

    if (rc < 0) {
        if (!*errbuf)
            snprintf(errbuf, errlen, "cannot use %s: %s", o->path, strerror(-rc));
        return rc;
    }
    rc = new_listener(s);
    return rc < 0 ? rc : bind_unix(s, errbuf, errlen);
}

int dtsock_check(struct dtsock *s)
{
    char err[512] = "";
    struct stat st;
    int rc;

    if (!s->path || s->closing)
        return 0;
    if (lstat(s->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == s->ino)
        return 0;
    /* Our file is gone or another took its place: listen anew at the
     * path. A socket someone else now listens on is left alone. */
    rc = clear_path(s->path, err, sizeof(err));
    if (rc < 0) {
        log_warnx("%s: cannot re-create the socket: %s", s->in.name,
                  *err ? err : strerror(-rc));
        return rc;
    }
    s->listener->handle.data = s;
    uv_close(&s->listener->handle, on_old_listener_closed);
    s->listener = NULL;
    rc = new_listener(s);
    if (rc == 0)
        rc = bind_unix(s, err, sizeof(err));
    if (rc < 0) {
        log_warnx("%s: cannot re-create the socket: %s", s->in.name, err);
        return rc;
    }
    log_notice("%s: socket re-created", s->in.name);
    return 1;
}

static int listen_tcp(struct dtsock *s, const struct dtsock_opts *o, char *errbuf,
                      size_t errlen)
{
    socklen_t len;
    int rc;

    if (netaddr_parse(o->listen, -1, &s->addr, &len) < 0) {
        snprintf(errbuf, errlen, "invalid --dnstap-listen address '%s'", o->listen);
        return -EINVAL;
    }
    rc = new_listener(s);
    if (rc < 0)
        return rc;
    uv_tcp_init(s->loop, &s->listener->tcp);
    s->listener->handle.data = s;
    rc = uv_tcp_bind(&s->listener->tcp, (struct sockaddr *)&s->addr, 0);
    if (rc == 0)
        rc = uv_listen(&s->listener->stream, LISTEN_BACKLOG, on_connection);
    if (rc < 0)
        snprintf(errbuf, errlen, "cannot listen on %s: %s", o->listen, uv_strerror(rc));
    return rc;
}

int dtsock_init(struct dtsock *s, uv_loop_t *loop, struct stage *stage,
                const struct dtsock_opts *o, char *errbuf, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    errbuf[0] = '\0';
    s->loop = loop;
    s->path = o->path;
    s->mode = o->mode;
    s->gid = o->gid;
    s->max_frame = o->max_frame;
    s->handshake_ms = o->handshake_ms ? o->handshake_ms : DTSOCK_HANDSHAKE_MS;
    dtin_init(&s->in, stage, o->path ? "dnstap-socket" : "dnstap-listen",
              o->path ? o->path : o->listen, o->types);
    s->rbuf = malloc(DTSOCK_READ_BUF);
    if (!s->rbuf) {
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    return o->path ? listen_unix(s, o, errbuf, errlen) : listen_tcp(s, o, errbuf, errlen);
}

static void on_listener_closed(uv_handle_t *h)
{
    struct dtsock *s = h->data;

    free(h);
    sock_release(s);
}

void dtsock_close(struct dtsock *s, void (*cb)(struct dtsock *s))
{
    struct stat st;

    s->closing = 1;
    s->on_closed = cb;
    while (s->conns)
        conn_close(s->conns);
    if (!s->listener) {
        /* init failed before the listener existed */
        s->open_handles++;
        sock_release(s);
        return;
    }
    /* Remove the socket file only if it is still the one we made. */
    if (s->path && s->ino && lstat(s->path, &st) == 0 && st.st_ino == s->ino)
        unlink(s->path);
    s->listener->handle.data = s;
    uv_close(&s->listener->handle, on_listener_closed);
    s->listener = NULL;
}
