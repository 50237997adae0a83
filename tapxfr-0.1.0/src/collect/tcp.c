/* tcp.c: the TCP listeners and their connections: accept, banner, and
 * the reader that cuts the stream into length-prefixed frames. */
#include "config.h"

#include "collect/collect.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct collect_conn *cn = h->data;
    struct collector *col = cn->col;

    if (cn->prev)
        cn->prev->next = cn->next;
    else
        col->conns = cn->next;
    if (cn->next)
        cn->next->prev = cn->prev;
    col->n_conns--;
    free(cn->buf);
    free(cn);
}

void collect_conn_close(struct collect_conn *cn)
{
    if (!uv_is_closing((uv_handle_t *)&cn->tcp))
        uv_close((uv_handle_t *)&cn->tcp, on_conn_closed);
}

/* The stream cannot be resynchronized after a bad frame: there is no
 * marker to search for, so the connection goes. */
static void protocol_error(struct collect_conn *cn, const char *why,
                           size_t flen)
{
    cn->col->invalid++;
    log_debug("protocol error from %s (tcp): %s (frame length %zu), "
              "closing", cn->peer, why, flen);
    collect_conn_close(cn);
}

/* Consumes every complete frame in the buffer and keeps the rest for the
 * next read, so frames may be split or merged across reads at will. A
 * frame's reception time is that of the read that completed it. */
static void conn_consume(struct collect_conn *cn, const struct timespec *now)
{
    struct collector *col = cn->col;
    size_t off = 0;

    while (!col->stopping) {
        size_t avail = cn->fill - off;
        size_t flen;

        if (avail < DNSXFR_TCP_PREFIX)
            break;
        flen = rd16(cn->buf + off);
        if (flen < DNSXFR_HEADER_LEN) {
            protocol_error(cn, "frame shorter than the header", flen);
            return;
        }
        /* Checking the magic as soon as it is in lets a peer speaking
         * another protocol be dropped now, not after up to 64 KiB. */
        if (avail >= DNSXFR_TCP_PREFIX + DNSXFR_MAGIC_LEN &&
            memcmp(cn->buf + off + DNSXFR_TCP_PREFIX, DNSXFR_MAGIC,
                   DNSXFR_MAGIC_LEN) != 0) {
            protocol_error(cn, "bad magic", flen);
            return;
        }
        if (avail < DNSXFR_TCP_PREFIX + flen)
            break;
        collect_message(col, now, cn->peer, "tcp",
                        cn->buf + off + DNSXFR_TCP_PREFIX, flen);
        off += DNSXFR_TCP_PREFIX + flen;
    }
    if (off > 0) {
        memmove(cn->buf, cn->buf + off, cn->fill - off);
        cn->fill -= off;
    }
}

static void on_tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct collect_conn *cn = h->data;
    size_t want = COLLECT_TCP_BUF_INITIAL;

    /* conn_consume() leaves at most one incomplete frame, whose length is
     * known once its prefix is in: grow to hold exactly that frame. */
    if (cn->fill >= DNSXFR_TCP_PREFIX &&
        DNSXFR_TCP_PREFIX + (size_t)rd16(cn->buf) > want)
        want = DNSXFR_TCP_PREFIX + (size_t)rd16(cn->buf);
    if (cn->cap < want) {
        uint8_t *p = realloc(cn->buf, want);

        if (!p) {
            /* libuv reports UV_ENOBUFS to on_tcp_read, which closes. */
            *buf = uv_buf_init(NULL, 0);
            return;
        }
        cn->buf = p;
        cn->cap = want;
    }
    *buf = uv_buf_init((char *)cn->buf + cn->fill,
                       (unsigned)(cn->cap - cn->fill));
}

static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct collect_conn *cn = s->data;
    struct timespec now;

    if (nread < 0) {
        if (nread == UV_EOF && cn->fill > 0) {
            cn->col->invalid++;
            log_debug("connection from %s closed inside a message",
                      cn->peer);
        } else if (nread == UV_EOF) {
            log_debug("connection from %s closed", cn->peer);
        } else if (nread == UV_ENOBUFS) {
            log_warnx("out of memory reading from %s, closing", cn->peer);
        } else {
            log_debug("connection from %s: %s", cn->peer,
                      uv_strerror((int)nread));
        }
        collect_conn_close(cn);
        return;
    }
    cn->fill += (size_t)nread;
    clock_gettime(CLOCK_REALTIME, &now);
    conn_consume(cn, &now);
}

static void on_banner_written(uv_write_t *req, int status)
{
    struct collect_conn *cn = req->data;

    /* UV_ECANCELED: the connection is already being closed. */
    if (status < 0 && status != UV_ECANCELED) {
        log_debug("cannot send banner to %s: %s", cn->peer,
                  uv_strerror(status));
        collect_conn_close(cn);
    }
}

static void on_tcp_connection(uv_stream_t *server, int status)
{
    struct collect_listener *l = server->data;
    struct collector *col = l->col;
    struct sockaddr_storage ss;
    int ss_len = sizeof(ss);
    struct collect_conn *cn;
    int rc;

    if (status < 0) {
        log_warnx("accept: %s", uv_strerror(status));
        return;
    }
    cn = calloc(1, sizeof(*cn));
    if (!cn) {
        log_warnx("out of memory accepting a connection");
        return;
    }
    rc = uv_tcp_init(&col->loop, &cn->tcp);
    if (rc < 0) {
        log_warnx("accept: %s", uv_strerror(rc));
        free(cn);
        return;
    }
    cn->tcp.data = cn;
    cn->banner_req.data = cn;
    cn->col = col;
    strcpy(cn->peer, "?");
    cn->next = col->conns;
    if (col->conns)
        col->conns->prev = cn;
    col->conns = cn;
    col->n_conns++;

    rc = uv_accept(server, (uv_stream_t *)&cn->tcp);
    if (rc < 0) {
        log_warnx("accept: %s", uv_strerror(rc));
        goto fail;
    }
    if (uv_tcp_getpeername(&cn->tcp, (struct sockaddr *)&ss, &ss_len) == 0)
        netaddr_str((struct sockaddr *)&ss, cn->peer, sizeof(cn->peer));
    if (col->n_conns > COLLECT_MAX_CONNS) {
        col->refused++;
        log_debug("too many connections, refusing %s", cn->peer);
        goto fail;
    }
    log_debug("connection from %s", cn->peer);
    if (col->banner_len > 0) {
        uv_buf_t b = uv_buf_init(col->banner, (unsigned)col->banner_len);

        rc = uv_write(&cn->banner_req, (uv_stream_t *)&cn->tcp, &b, 1,
                      on_banner_written);
        if (rc < 0) {
            log_debug("cannot send banner to %s: %s", cn->peer,
                      uv_strerror(rc));
            goto fail;
        }
    }
    rc = uv_read_start((uv_stream_t *)&cn->tcp, on_tcp_alloc, on_tcp_read);
    if (rc < 0) {
        log_debug("cannot read from %s: %s", cn->peer, uv_strerror(rc));
        goto fail;
    }
    return;

fail:
    collect_conn_close(cn);
}

int collect_tcp_listen(struct collect_listener *l, const struct sockaddr *sa)
{
    /* A bind error on a TCP socket surfaces only at uv_listen(). */
    int rc = uv_tcp_bind(&l->u.tcp, sa, 0);

    if (rc == 0)
        rc = uv_listen(&l->u.stream, COLLECT_TCP_BACKLOG, on_tcp_connection);
    return rc;
}
