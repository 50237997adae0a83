/* frame.c: Frame Streams, receiver side. The contract is in frame.h.
 *
 * The parser is a loop over the fed bytes in which each turn consumes one
 * of: the rest of an oversize frame being skipped, the rest of a frame
 * being assembled in c->buf, or a frame header followed, when the fed
 * buffer holds it whole, by the frame itself. The common case (a read
 * holding many complete frames) therefore costs one header load, a few
 * compares and the callback per frame, and touches no byte of the payload.
 * Bytes are only copied for a header split across reads, or a frame whose
 * payload is split across reads, with one memcpy per read.
 *
 * Every error is detected at a fixed byte position of the stream (a data
 * frame out of state at its length header, an escape's length at its 8-byte
 * header, a control frame's validity when its last byte arrives, the first
 * byte after STOP), so frames delivered before an error are the same
 * whatever the chunking. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

/* fstrm/control.h is not self-contained: it needs fstrm.h (fstrm_res). */
#include <fstrm.h>

#include "codec/frame.h"

#define ESCAPE_HDR_LEN 8 /* 32-bit zero escape + 32-bit control length */
#define CONTROL_TYPE_LEN 4
#define BUF_MIN 4096     /* first assembly buffer: most dnstap frames fit */

static const uint8_t content_type[] = FS_CONTENT_TYPE;
#define CONTENT_TYPE_LEN (sizeof(content_type) - 1)

static inline uint32_t rd32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int fail(struct fs_conn *c, int err)
{
    c->state = FS_ERROR;
    return err;
}

int fs_init(struct fs_conn *c, size_t max_frame)
{
    memset(c, 0, sizeof(*c));
    c->state = FS_WAIT_START;
    c->max_frame = max_frame;
    /* The assembly buffer is allocated on the first frame that straddles
     * two reads: a writer whose reads always end on frame boundaries, or
     * an idle connection, costs no buffer at all. */
    return FS_OK;
}

void fs_close(struct fs_conn *c)
{
    free(c->buf);
    c->buf = NULL;
    c->buf_cap = 0;
    c->buf_len = 0;
    c->frame_len = 0;
}

void fs_reply_done(struct fs_conn *c)
{
    c->reply_len = 0;
}

/* Makes c->buf hold at least need bytes. need never exceeds the larger of
 * max_frame and FS_CONTROL_MAX (longer frames are skipped or rejected
 * before they get here), and doubling is capped there, so the buffer never
 * grows past what one frame can use. */
static int reserve(struct fs_conn *c, size_t need)
{
    size_t limit = c->max_frame > FS_CONTROL_MAX ? c->max_frame
                                                 : FS_CONTROL_MAX;
    size_t cap = c->buf_cap ? c->buf_cap : BUF_MIN;
    uint8_t *nb;

    if (need <= c->buf_cap)
        return FS_OK;
    while (cap < need)
        cap = cap > limit / 2 ? limit : cap * 2;
    if (cap > limit)
        cap = limit;
    if (cap < need)
        cap = need;
    nb = realloc(c->buf, cap);
    if (nb == NULL)
        return FS_ERR_NOMEM;
    c->buf = nb;
    c->buf_cap = cap;
    return FS_OK;
}

/* Appends one encoded control frame (escape and length included) to
 * c->reply. ctl has been reset by the caller. */
static int queue_reply(struct fs_conn *c, struct fstrm_control *ctl,
                       fstrm_control_type type, int with_content_type)
{
    size_t need, room;

    if (fstrm_control_set_type(ctl, type) != fstrm_res_success)
        return FS_ERR_NOMEM;
    if (with_content_type &&
        fstrm_control_add_field_content_type(ctl, content_type,
                                             CONTENT_TYPE_LEN) !=
            fstrm_res_success)
        return FS_ERR_NOMEM;
    if (fstrm_control_encoded_size(ctl, &need,
                                   FSTRM_CONTROL_FLAG_WITH_HEADER) !=
        fstrm_res_success)
        return FS_ERR_NOMEM;
    /* At most one ACCEPT (42 bytes) and one FINISH (12) are ever queued
     * per connection, far below FS_REPLY_MAX; the check only keeps a
     * future change from writing past the array. */
    room = sizeof(c->reply) - c->reply_len;
    if (need > room)
        return FS_ERR_NOMEM;
    if (fstrm_control_encode(ctl, c->reply + c->reply_len, &room,
                             FSTRM_CONTROL_FLAG_WITH_HEADER) !=
        fstrm_res_success)
        return FS_ERR_NOMEM;
    c->reply_len += room;
    return FS_OK;
}

/* Decodes one control frame payload (type and fields, without the escape
 * header, whose length the caller has checked) and drives the handshake.
 * Control frames are a handful per connection, so an fstrm_control is
 * allocated for each one rather than kept in every connection. */
static int control(struct fs_conn *c, const uint8_t *p, size_t len)
{
    struct fstrm_control *ctl;
    fstrm_control_type type;
    int rc = FS_OK;

    c->control_frames++;
    ctl = fstrm_control_init();
    if (ctl == NULL)
        return FS_ERR_NOMEM;
    /* Besides the framing, fstrm_control_decode rejects unknown types and
     * fields, content types over 256 bytes, more than one content type in
     * START and any in STOP or FINISH. */
    if (fstrm_control_decode(ctl, p, len, 0) != fstrm_res_success ||
        fstrm_control_get_type(ctl, &type) != fstrm_res_success) {
        rc = FS_ERR_CONTROL_DECODE;
        goto out;
    }

    switch (type) {
    case FSTRM_CONTROL_READY:
        if (c->state != FS_WAIT_START) {
            rc = FS_ERR_UNEXPECTED;
            break;
        }
        /* As in libfstrm's own reader, a READY without content types
         * matches any; the ACCEPT then names ours, which START must
         * carry or omit. */
        if (fstrm_control_match_field_content_type(ctl, content_type,
                                                   CONTENT_TYPE_LEN) !=
            fstrm_res_success) {
            rc = FS_ERR_CONTENT_TYPE;
            break;
        }
        fstrm_control_reset(ctl);
        rc = queue_reply(c, ctl, FSTRM_CONTROL_ACCEPT, 1);
        if (rc == FS_OK) {
            c->bidirectional = 1;
            c->state = FS_WAIT_START_BIDI;
        }
        break;
    case FSTRM_CONTROL_START:
        if (c->state != FS_WAIT_START && c->state != FS_WAIT_START_BIDI) {
            rc = FS_ERR_UNEXPECTED;
            break;
        }
        /* Matches when START carries our content type or none. */
        if (fstrm_control_match_field_content_type(ctl, content_type,
                                                   CONTENT_TYPE_LEN) !=
            fstrm_res_success) {
            rc = FS_ERR_CONTENT_TYPE;
            break;
        }
        c->state = FS_DATA;
        c->started = 1;
        break;
    case FSTRM_CONTROL_STOP:
        if (c->state != FS_DATA) {
            rc = FS_ERR_UNEXPECTED;
            break;
        }
        if (c->bidirectional) {
            fstrm_control_reset(ctl);
            rc = queue_reply(c, ctl, FSTRM_CONTROL_FINISH, 0);
        }
        if (rc == FS_OK)
            c->state = FS_DONE;
        break;
    case FSTRM_CONTROL_ACCEPT:
    case FSTRM_CONTROL_FINISH:
    default:
        /* ACCEPT and FINISH are the reader's frames. */
        rc = FS_ERR_UNEXPECTED;
        break;
    }
out:
    fstrm_control_destroy(&ctl);
    return rc;
}

/* Hands one complete frame to the control parser or the data callback. */
static int deliver(struct fs_conn *c, int is_control, const uint8_t *f,
                   size_t len, fs_frame_cb cb, void *arg)
{
    if (is_control)
        return control(c, f, len);
    c->data_frames++;
    c->data_bytes += len;
    cb(arg, f, len);
    return FS_OK;
}

/* The rest of a frame whose header ended an earlier read. When none of its
 * bytes came with that read and this one holds them all, it is handed out
 * in place; otherwise it is assembled in c->buf. */
static int feed_rest(struct fs_conn *c, const uint8_t **pp,
                     const uint8_t *end, fs_frame_cb cb, void *arg)
{
    const uint8_t *p = *pp;
    size_t avail = (size_t)(end - p);
    size_t need = c->frame_len - c->buf_len;
    size_t done = c->frame_len;
    const uint8_t *f;
    int rc;

    if (c->buf_len == 0 && avail >= need) {
        f = p;
        *pp = p + need;
    } else {
        size_t n = need < avail ? need : avail;
        if (c->buf_len == 0) {
            rc = reserve(c, c->frame_len);
            if (rc != FS_OK)
                return rc;
        }
        memcpy(c->buf + c->buf_len, p, n);
        c->buf_len += n;
        *pp = p + n;
        if (c->buf_len < c->frame_len)
            return FS_OK; /* this read is used up */
        f = c->buf;
    }
    c->frame_len = 0;
    c->buf_len = 0;
    return deliver(c, c->frame_is_control, f, done, cb, arg);
}

/* A frame header: a 32-bit length, or for a control frame the zero escape
 * and then the 32-bit control frame length. A data frame's length can
 * never be 0, since 0 is the escape. Returns 1 with *flen and *is_control
 * set once the header is whole, 0 when this read ends before that. */
static int read_header(struct fs_conn *c, const uint8_t **pp,
                       const uint8_t *end, uint32_t *flen, int *is_control)
{
    const uint8_t *p = *pp;
    size_t avail = (size_t)(end - p);
    size_t want, n;

    if (c->hdr_len == 0 && avail >= ESCAPE_HDR_LEN) {
        *flen = rd32be(p);
        if (*flen != 0) {
            *is_control = 0;
            *pp = p + 4;
        } else {
            *is_control = 1;
            *flen = rd32be(p + 4);
            *pp = p + ESCAPE_HDR_LEN;
        }
        return 1;
    }
    /* Near the end of a read, or a header already split: gather it in
     * c->hdr, first 4 bytes, then 4 more after an escape. */
    want = c->hdr_len < 4 ? 4 : ESCAPE_HDR_LEN;
    n = want - c->hdr_len;
    if (n > avail)
        n = avail;
    memcpy(c->hdr + c->hdr_len, p, n);
    c->hdr_len += n;
    *pp = p + n;
    if (c->hdr_len < 4)
        return 0; /* this read is used up */
    *flen = rd32be(c->hdr);
    if (*flen != 0) {
        *is_control = 0;
    } else if (c->hdr_len < ESCAPE_HDR_LEN) {
        return 0; /* the control length is still to come */
    } else {
        *is_control = 1;
        *flen = rd32be(c->hdr + 4);
    }
    c->hdr_len = 0;
    return 1;
}

/* The frame after its header: refused, skipped, handed out whole from the
 * caller's buffer, or left for feed_rest() to finish in the next read. */
static int feed_frame(struct fs_conn *c, uint32_t flen, int is_control,
                      const uint8_t **pp, const uint8_t *end,
                      fs_frame_cb cb, void *arg)
{
    const uint8_t *p = *pp;
    size_t avail = (size_t)(end - p);

    if (!is_control) {
        /* Checked at the header, so a frame that is refused is never
         * buffered; after STOP, fs_feed() has already failed. */
        if (c->state != FS_DATA)
            return FS_ERR_DATA_STATE;
        if (flen > c->max_frame) {
            c->oversize_frames++;
            c->skip = flen;
            return FS_OK;
        }
    } else {
        if (flen < CONTROL_TYPE_LEN)
            return FS_ERR_ESCAPE;
        if (flen > FS_CONTROL_MAX)
            return FS_ERR_CONTROL_SIZE;
    }
    if (avail >= flen) {
        /* The hot path: the frame is in the caller's buffer. */
        *pp = p + flen;
        return deliver(c, is_control, p, flen, cb, arg);
    }
    c->frame_len = flen;
    c->buf_len = 0;
    c->frame_is_control = is_control;
    return FS_OK;
}

int fs_feed(struct fs_conn *c, const uint8_t *data, size_t len,
            fs_frame_cb cb, void *arg)
{
    const uint8_t *p, *end;
    int rc;

    if (c->state == FS_ERROR)
        return FS_ERR_UNEXPECTED;
    if (len == 0)
        return FS_OK; /* data may be NULL: no pointer arithmetic on it */
    p = data;
    end = data + len;

    while (p < end) {
        uint32_t flen;
        int is_control;

        /* STOP ends the stream: the writer may only close now, so even a
         * second STOP is refused here, at its first byte. */
        if (c->state == FS_DONE)
            return fail(c, FS_ERR_AFTER_DONE);

        if (c->skip > 0) {
            /* The rest of an oversize data frame: drop what this read
             * holds. */
            size_t avail = (size_t)(end - p);
            size_t n = c->skip < avail ? c->skip : avail;
            p += n;
            c->skip -= n;
            continue;
        }
        if (c->frame_len > 0)
            rc = feed_rest(c, &p, end, cb, arg);
        else if (read_header(c, &p, end, &flen, &is_control))
            rc = feed_frame(c, flen, is_control, &p, end, cb, arg);
        else
            rc = FS_OK;
        if (rc != FS_OK)
            return fail(c, rc);
    }
    return FS_OK;
}

const char *fs_error_name(int err)
{
    static const char *const names[FS_ERR_COUNT] = {
        "ok",           "bad_escape", "control_size", "control_decode",
        "content_type", "unexpected_control", "data_before_start",
        "after_stop",   "nomem",
    };
    /* Compared without negating, which would overflow for INT_MIN. */
    if (err > 0 || err <= -FS_ERR_COUNT)
        return "unknown";
    return names[-err];
}
