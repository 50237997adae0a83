#include "config.h"

#include "input/dtfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fstrm.h>

#include "codec/frame.h"
#include "log.h"

#define WRAP_MARK 0xffffffffu
#define LEN_BYTES 4

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v)); /* host order: the ring never leaves the process */
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return v;
}

/* Where an entry of need bytes goes, with *waste set to the bytes skipped
 * at the end of the ring to get there; SIZE_MAX when it does not fit. */
static size_t place(struct dtfile *f, size_t need, size_t *waste)
{
    *waste = 0;
    if (f->used == 0) {
        f->head = f->tail = 0;
        return need <= f->cap ? 0 : SIZE_MAX;
    }
    if (f->tail > f->head) {
        if (f->cap - f->tail >= need)
            return f->tail;
        if (f->head >= need) {
            *waste = f->cap - f->tail;
            return 0;
        }
        return SIZE_MAX;
    }
    if (f->tail < f->head && f->head - f->tail >= need)
        return f->tail;
    return SIZE_MAX;
}

static void reader_thread(void *arg)
{
    struct dtfile *f = arg;

    for (;;) {
        const uint8_t *data;
        size_t len, need, waste, at;
        fstrm_res res = fstrm_reader_read(f->reader, &data, &len);

        if (res != fstrm_res_success) {
            uv_mutex_lock(&f->mu);
            f->eof = 1;
            f->failed = res != fstrm_res_stop;
            uv_mutex_unlock(&f->mu);
            uv_async_send(&f->async);
            return;
        }
        need = LEN_BYTES + len;
        uv_mutex_lock(&f->mu);
        while (!f->stop && (at = place(f, need, &waste)) == SIZE_MAX)
            uv_cond_wait(&f->cond, &f->mu);
        if (f->stop) {
            uv_mutex_unlock(&f->mu);
            return;
        }
        if (waste >= LEN_BYTES)
            put32(f->ring + f->tail, WRAP_MARK);
        put32(f->ring + at, (uint32_t)len);
        memcpy(f->ring + at + LEN_BYTES, data, len);
        f->tail = at + need;
        f->used += waste + need;
        uv_mutex_unlock(&f->mu);
        uv_async_send(&f->async);
    }
}

static void drain(struct dtfile *f)
{
    size_t head, avail, consumed = 0;
    int eof;

    if (f->closing || f->done)
        return;
    uv_mutex_lock(&f->mu);
    head = f->head;
    avail = f->used;
    uv_mutex_unlock(&f->mu);

    /* The entries in [head, head + avail) are the loop's until it gives
     * them back below; the thread only writes to free space. */
    while (consumed < avail && !out_congested(f->in.out)) {
        uint32_t len;

        if (f->cap - head < LEN_BYTES || (len = get32(f->ring + head)) == WRAP_MARK) {
            consumed += f->cap - head;
            head = 0;
            continue;
        }
        dtin_frame(&f->in, f->ring + head + LEN_BYTES, len);
        consumed += LEN_BYTES + len;
        head += LEN_BYTES + len;
    }

    uv_mutex_lock(&f->mu);
    /* With nothing consumed, head stays the reader's to move: on an empty
     * ring it starts over at the front (place()), maybe since we read it,
     * and writing our old copy back would point into stale frames. */
    if (consumed)
        f->head = head;
    f->used -= consumed;
    eof = f->eof && f->used == 0;
    uv_cond_signal(&f->cond);
    uv_mutex_unlock(&f->mu);

    if (eof) {
        f->done = 1;
        if (f->failed)
            log_warnx("%s: read error; stopped after %llu frames", f->in.name,
                      (unsigned long long)f->in.frames);
        else
            log_debug("%s: end of file", f->in.name);
        if (f->on_done)
            f->on_done(f);
    }
}

static void on_async(uv_async_t *h)
{
    drain(h->data);
}

void dtfile_resume(struct dtfile *f)
{
    drain(f);
}

int dtfile_init(struct dtfile *f, uv_loop_t *loop, struct out *out, struct stats *stats,
                const char *path, size_t max_frame, uint32_t types, char *errbuf,
                size_t errlen)
{
    struct fstrm_file_options *fopt = fstrm_file_options_init();
    struct fstrm_reader_options *ropt = fstrm_reader_options_init();
    size_t file_max = max_frame > (1u << 20) ? max_frame : (1u << 20);
    int rc = 0;

    memset(f, 0, sizeof(*f));
    f->loop = loop;
    f->path = path;
    dtin_init(&f->in, out, stats, "dnstap-file", path, types);
    f->cap = DTFILE_RING > 2 * (file_max + LEN_BYTES) ? DTFILE_RING : 2 * (file_max + LEN_BYTES);
    f->ring = malloc(f->cap);
    if (!f->ring || !fopt || !ropt) {
        snprintf(errbuf, errlen, "out of memory");
        rc = -ENOMEM;
        goto out;
    }
    fstrm_file_options_set_file_path(fopt, path);
    fstrm_reader_options_add_content_type(ropt, FS_CONTENT_TYPE, strlen(FS_CONTENT_TYPE));
    fstrm_reader_options_set_max_frame_size(ropt, file_max);
    f->reader = fstrm_file_reader_init(fopt, ropt);
    if (!f->reader || fstrm_reader_open(f->reader) != fstrm_res_success) {
        /* libfstrm says only that it failed; the usual cause is the file. */
        FILE *probe = fopen(path, "rb");
        snprintf(errbuf, errlen, "cannot read dnstap file %s: %s", path,
                 probe ? "not a Frame Streams file of protobuf:dnstap.Dnstap" : strerror(errno));
        if (probe)
            fclose(probe);
        rc = -EINVAL;
        goto out;
    }
    uv_mutex_init(&f->mu);
    uv_cond_init(&f->cond);
    uv_async_init(loop, &f->async, on_async);
    f->async.data = f;
out:
    fstrm_file_options_destroy(&fopt);
    fstrm_reader_options_destroy(&ropt);
    if (rc < 0) {
        if (f->reader)
            fstrm_reader_destroy(&f->reader);
        free(f->ring);
        f->ring = NULL;
        dtin_close(&f->in);
    }
    return rc;
}

int dtfile_start(struct dtfile *f)
{
    int rc = uv_thread_create(&f->thread, reader_thread, f);

    if (rc == 0)
        f->thread_started = 1;
    return rc;
}

static void on_async_closed(uv_handle_t *h)
{
    struct dtfile *f = h->data;

    uv_mutex_destroy(&f->mu);
    uv_cond_destroy(&f->cond);
    fstrm_reader_destroy(&f->reader);
    free(f->ring);
    f->ring = NULL;
    dtin_close(&f->in);
    if (f->on_closed)
        f->on_closed(f);
}

void dtfile_close(struct dtfile *f, void (*cb)(struct dtfile *f))
{
    f->closing = 1;
    f->on_closed = cb;
    if (f->thread_started) {
        uv_mutex_lock(&f->mu);
        f->stop = 1;
        uv_cond_signal(&f->cond);
        uv_mutex_unlock(&f->mu);
        uv_thread_join(&f->thread);
        f->thread_started = 0;
    }
    uv_close((uv_handle_t *)&f->async, on_async_closed);
}
