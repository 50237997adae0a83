/* dtin.h: what every dnstap input does with a frame: decode it into a
 * record, count it, and hand it to the output stage. Shared by the socket
 * listener (dtsock) and the file reader (dtfile). */
#ifndef TAPXFR_INPUT_DTIN_H
#define TAPXFR_INPUT_DTIN_H

#include <stddef.h>
#include <stdint.h>

#include "codec/dnstap.h"
#include "codec/frame.h"
#include "output/out.h"
#include "stats.h"

struct dtin {
    struct out *out;
    struct stats *stats;
    struct dnstap_decoder dec;
    char name[300]; /* "dnstap-socket /run/tapxfr/dnstap.sock" etc. */
    /* per-input counters */
    uint64_t connections;
    uint64_t conn_rejected;    /* over the connection limit */
    uint64_t handshake_fail;   /* closed before START: timeout or error */
    uint64_t protocol_errors;  /* closed on a Frame Streams violation */
    uint64_t frames, bytes, oversize;
    uint64_t by_type[DNSTAP_TYPE_MAX + 1];
    uint64_t malformed, not_selected, no_response, queries;
    uint64_t accepted;         /* passed the DNS checks, queued */
    uint64_t rejected;         /* stopped by the DNS checks */
    uint64_t pauses;           /* reads stopped for room (dtsock) */
    uint64_t fs_errors[FS_ERR_COUNT];
};

void dtin_init(struct dtin *in, struct out *out, struct stats *stats,
               const char *kind, const char *what, uint32_t types);
void dtin_close(struct dtin *in);

/* Processes one data frame. A file reader asks out_congested() before
 * each frame; a socket asks out_congested_live() after each read. */
void dtin_frame(struct dtin *in, const uint8_t *frame, size_t len);

/* Formats the per-input counters as "key=value ...". */
size_t dtin_format(const struct dtin *in, char *buf, size_t size);

#endif
