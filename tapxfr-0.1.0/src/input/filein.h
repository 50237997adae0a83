/* filein.h: how every file input is read (pcap files, dnstap files).
 *
 * On the loop, from a uv_idle_t: one batch of records per loop iteration,
 * and only while the stage has room; when it has none the input stops
 * and asks to be told (stage_wait()), so nothing read from a file is ever
 * dropped for lack of room, and the other inputs and the collectors run
 * between two batches. A regular file never blocks for long, so no
 * reader thread is needed: reading on the loop costs a read() per
 * megabyte, where a thread costs a wake-up per frame. (A file that is a
 * pipe or FIFO blocks the loop while its writer is slow; -r - and
 * --dnstap-file are meant for files and replays.) */
#ifndef TAPXFR_INPUT_FILEIN_H
#define TAPXFR_INPUT_FILEIN_H

#include <uv.h>

#include "stage/stage.h"

enum filein_status {
    FILEIN_MORE = 1, /* read a batch, or stopped before a record for room */
    FILEIN_END = 0,  /* end of file (or a read error, logged) */
};

struct filein {
    uv_idle_t idle;
    struct stage *stage;
    /* Reads up to one batch, asking stage_full() before each record. */
    enum filein_status (*batch)(struct filein *f);
    int eof;
    int closing;
    void (*on_done)(struct filein *f);  /* end of file reached */
    void (*on_closed)(struct filein *f);
    void *data; /* the input's */
};

void filein_init(struct filein *f, uv_loop_t *loop, struct stage *stage,
                 enum filein_status (*batch)(struct filein *f), void *data);

/* Starts reading, and resumes after stage_wait() (from on_room). */
void filein_resume(struct filein *f);

/* Stops; cb runs from the idle handle's close callback. */
void filein_close(struct filein *f, void (*cb)(struct filein *f));

#endif
