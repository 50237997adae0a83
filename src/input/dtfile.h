/* dtfile.h: replay of a dnstap (Frame Streams) file.
 *
 * libfstrm's file reader blocks, so it runs on a thread of its own and
 * hands frames to the loop through a bounded ring (uv_async wakes the
 * loop). The loop drains the ring only while the output has room; when it
 * stops, the ring fills and the reader thread waits: a replay is slowed
 * down, never dropped from. */
#ifndef TAPXFR_INPUT_DTFILE_H
#define TAPXFR_INPUT_DTFILE_H

#include <stdint.h>
#include <uv.h>

#include "input/dtin.h"

#define DTFILE_RING (4u << 20)

struct fstrm_reader;

struct dtfile {
    uv_loop_t *loop;
    struct dtin in;
    const char *path;
    struct fstrm_reader *reader;
    uv_thread_t thread;
    int thread_started;
    uv_mutex_t mu;
    uv_cond_t cond;
    uv_async_t async;
    /* the ring, guarded by mu: entries are a 32-bit length and the frame */
    uint8_t *ring;
    size_t cap, head, tail, used;
    int eof;       /* the thread has read its last frame */
    int failed;    /* ... because of a read error */
    int stop;      /* the loop asks the thread to stop */
    /* loop side */
    int done;      /* end reported through on_done */
    int closing;
    void (*on_done)(struct dtfile *f);
    void (*on_closed)(struct dtfile *f);
    void *data;
};

/* Opens the file now (errors are reported at startup). Returns 0 or a
 * negative code with one line in errbuf. */
int dtfile_init(struct dtfile *f, uv_loop_t *loop, struct out *out,
                struct stats *stats, const char *path, size_t max_frame,
                uint32_t types, char *errbuf, size_t errlen);

/* Starts the reader thread. */
int dtfile_start(struct dtfile *f);

/* Drains again after the output reported room (out's on_space). */
void dtfile_resume(struct dtfile *f);

/* Stops the thread and closes; cb runs when the async handle is closed. */
void dtfile_close(struct dtfile *f, void (*cb)(struct dtfile *f));

#endif
