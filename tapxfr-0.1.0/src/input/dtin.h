/* dtin.h: what every dnstap input does with a frame: decode it into a
 * record, count it, and hand it to the stage. Shared by the socket
 * listener (dtsock) and the file reader (dtfile). */
#ifndef TAPXFR_INPUT_DTIN_H
#define TAPXFR_INPUT_DTIN_H

#include <stddef.h>
#include <stdint.h>

#include "codec/dnstap.h"
#include "stage/stage.h"
#include "stats/stats.h"

struct dtin {
    struct stage *stage;
    struct dnstap_decoder dec;
    char name[300]; /* "dnstap-socket /run/tapxfr/dnstap.sock" etc. */
    struct stats_in st;
};

void dtin_init(struct dtin *in, struct stage *stage, const char *kind, const char *what,
               uint32_t types);
void dtin_close(struct dtin *in);

/* Processes one data frame. A file reader asks stage_full() before each
 * frame; a socket asks stage_full_live() after each read. */
void dtin_frame(struct dtin *in, const uint8_t *frame, size_t len);

#endif
