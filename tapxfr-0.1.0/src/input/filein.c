#include "config.h"

#include "input/filein.h"

static void on_idle(uv_idle_t *h)
{
    struct filein *f = h->data;

    if (stage_full(f->stage)) {
        uv_idle_stop(&f->idle);
        stage_wait(f->stage, 0);
        return;
    }
    if (f->batch(f) == FILEIN_MORE)
        return;
    uv_idle_stop(&f->idle);
    f->eof = 1;
    if (f->on_done)
        f->on_done(f);
}

void filein_init(struct filein *f, uv_loop_t *loop, struct stage *stage,
                 enum filein_status (*batch)(struct filein *f), void *data)
{
    f->stage = stage;
    f->batch = batch;
    f->eof = f->closing = 0;
    f->on_done = NULL;
    f->on_closed = NULL;
    f->data = data;
    uv_idle_init(loop, &f->idle);
    f->idle.data = f;
}

void filein_resume(struct filein *f)
{
    if (!f->eof && !f->closing)
        uv_idle_start(&f->idle, on_idle);
}

static void on_closed(uv_handle_t *h)
{
    struct filein *f = h->data;

    if (f->on_closed)
        f->on_closed(f);
}

void filein_close(struct filein *f, void (*cb)(struct filein *f))
{
    f->closing = 1;
    f->on_closed = cb;
    uv_close((uv_handle_t *)&f->idle, on_closed);
}
