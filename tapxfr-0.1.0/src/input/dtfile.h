/* dtfile.h: replay of a dnstap (Frame Streams) file.
 *
 * Read as every file input is (input/filein.h): libfstrm's file reader,
 * on the loop, a batch of frames per iteration while the stage has room;
 * a replay is slowed down, never dropped from. */
#ifndef TAPXFR_INPUT_DTFILE_H
#define TAPXFR_INPUT_DTFILE_H

#include <stdint.h>
#include <uv.h>

#include "input/dtin.h"
#include "input/filein.h"

#define DTFILE_BATCH 512

struct fstrm_reader;

struct dtfile {
    struct dtin in;
    const char *path;
    struct fstrm_reader *reader;
    struct filein file;
    void (*on_done)(struct dtfile *f);
    void (*on_closed)(struct dtfile *f);
    void *data;
};

/* Opens the file now (errors are reported at startup). Returns 0 or a
 * negative code with one line in errbuf. */
int dtfile_init(struct dtfile *f, uv_loop_t *loop, struct stage *stage, const char *path,
                size_t max_frame, uint32_t types, char *errbuf, size_t errlen);

/* Starts reading. */
void dtfile_start(struct dtfile *f);

/* Reads again after the stage reported room (on_room). */
void dtfile_resume(struct dtfile *f);

/* Stops and closes; cb runs from the last close callback. */
void dtfile_close(struct dtfile *f, void (*cb)(struct dtfile *f));

#endif
