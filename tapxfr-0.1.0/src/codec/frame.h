/* frame.h: Frame Streams, receiver side (pure: no I/O, no libuv).
 *
 * One struct fs_conn per connection holds the reassembly state and the
 * handshake state machine. The caller feeds whatever bytes a read
 * returned, in any chunking; fs_feed() calls the data callback once per
 * complete data frame and queues the control replies (ACCEPT, FINISH) for
 * the caller to write. Control frames are decoded and encoded with
 * libfstrm's fstrm_control_* functions.
 *
 * Bidirectional:  READY -> (ACCEPT) -> START -> data ... -> STOP -> (FINISH)
 * Unidirectional: START -> data ... -> STOP
 *
 * Data frames are handed out in place when a read holds the whole frame
 * (the pointer is into the caller's buffer) and from the connection's own
 * assembly buffer when a frame straddles reads; either way the pointer is
 * valid only during the callback. A data frame longer than max_frame is
 * skipped as it streams by, never buffered, and counted. Any protocol
 * violation puts the connection in FS_ERROR and fs_feed() returns a
 * negative code: the caller closes that connection only. */
#ifndef TAPXFR_CODEC_FRAME_H
#define TAPXFR_CODEC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FS_CONTENT_TYPE "protobuf:dnstap.Dnstap"
#define FS_CONTROL_MAX 512 /* FSTRM_CONTROL_FRAME_LENGTH_MAX */
#define FS_REPLY_MAX (8 + FS_CONTROL_MAX)

enum fs_state {
    FS_WAIT_START = 0, /* nothing yet: READY (bidi) or START (uni) may come */
    FS_WAIT_START_BIDI,/* READY seen, ACCEPT queued: START must come */
    FS_DATA,           /* START seen: data frames until STOP */
    FS_DONE,           /* STOP seen (FINISH queued if bidirectional) */
    FS_ERROR,
};

/* Why a connection was closed (negative return values of fs_feed). */
enum fs_error {
    FS_OK = 0,
    FS_ERR_ESCAPE = -1,        /* control frame length < 4 (not a type) */
    FS_ERR_CONTROL_SIZE = -2,  /* control frame longer than FS_CONTROL_MAX */
    FS_ERR_CONTROL_DECODE = -3,/* fstrm_control_decode failed */
    FS_ERR_CONTENT_TYPE = -4,  /* READY / START without our content type */
    FS_ERR_UNEXPECTED = -5,    /* a control frame not valid in this state */
    FS_ERR_DATA_STATE = -6,    /* a data frame before START */
    FS_ERR_AFTER_DONE = -7,    /* any byte after STOP, even a frame */
    FS_ERR_NOMEM = -8,
    FS_ERR_COUNT = 9
};

typedef void (*fs_frame_cb)(void *arg, const uint8_t *frame, size_t len);

struct fs_conn {
    enum fs_state state;
    int bidirectional;   /* READY was seen */
    int started;         /* START was seen (even if an error came after) */
    size_t max_frame;    /* data frames longer than this are skipped */
    /* reassembly */
    uint8_t hdr[8];      /* a length (and escape) split across reads */
    size_t hdr_len;
    uint8_t *buf;        /* owned; grows up to max_frame */
    size_t buf_cap;
    size_t buf_len;      /* bytes of the current frame already held */
    size_t frame_len;    /* length of the frame being assembled, 0: none */
    int frame_is_control;
    size_t skip;         /* bytes of an oversize data frame still to skip */
    /* replies for the caller to write, then clear with fs_reply_done() */
    uint8_t reply[FS_REPLY_MAX];
    size_t reply_len;
    /* counters */
    uint64_t data_frames;
    uint64_t data_bytes;
    uint64_t oversize_frames;
    uint64_t control_frames;
};

/* Prepares a connection. Returns 0 or FS_ERR_NOMEM. */
int fs_init(struct fs_conn *c, size_t max_frame);
/* Frees the assembly buffer. */
void fs_close(struct fs_conn *c);

/* Feeds len bytes. Calls cb for every complete data frame, in order.
 * Returns FS_OK, or a negative enum fs_error (state becomes FS_ERROR and
 * later calls return FS_ERR_UNEXPECTED without reading). When it returns,
 * c->reply_len > 0 means c->reply holds control frames to write to the
 * writer, escape and length included: ACCEPT, FINISH or both in that order
 * (replies are appended until fs_reply_done(), so a read holding the whole
 * session queues both). */
int fs_feed(struct fs_conn *c, const uint8_t *data, size_t len,
            fs_frame_cb cb, void *arg);

/* The caller has written (or given up on) the reply. */
void fs_reply_done(struct fs_conn *c);

const char *fs_error_name(int err);

#endif
