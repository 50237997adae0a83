/* fuzz_frame.c: the Frame Streams receiver on any byte stream, in any
 * chunking, checked against the same stream fed in one piece.
 *
 * Input:
 *   byte 0      bits 0-2: max_frame, one of max_frames[] below
 *               bits 3-6: n, the number of chunk sizes that follow
 *               bit 7:    the caller takes the replies after every read
 *                         (fs_reply_done), else lets them accumulate
 *   bytes 1..n  chunk sizes, used in turn until the stream is used up;
 *               0 is a read of no bytes (with a NULL pointer). n == 0
 *               feeds the stream in one piece.
 *   the rest    the stream
 *
 * Every chunk is copied into its own allocation of exactly its size, so
 * AddressSanitizer sees a read past the end of a read. Then the stream is
 * fed again, whole, to a second connection: frame.c promises that errors
 * are found at fixed stream positions, so the frames delivered, the
 * counters, the replies and the verdict must not depend on the chunking. */
#include "config.h"

#include <string.h>

#include "codec/frame.h"
#include "fuzz.h"

static const size_t max_frames[8] = {
    512, 4096, 256u << 10 /* the CLI default */, 64u << 20 /* CLI max */,
    1, 16, 100, 65536,
};

/* Replies of one connection: at most one ACCEPT and one FINISH. */
#define REPLIES_MAX (4 * FS_REPLY_MAX)

struct run {
    struct fs_conn conn;
    const uint8_t *chunk; /* the read being fed */
    size_t chunk_len;
    int whole;            /* the stream is fed in one piece */
    uint64_t frames;
    uint64_t bytes;
    uint64_t hash;
    uint8_t replies[REPLIES_MAX];
    size_t replies_len;
};

static void on_frame(void *arg, const uint8_t *frame, size_t len)
{
    struct run *r = arg;
    struct fs_conn *c = &r->conn;

    FUZZ_CHECK(c->state == FS_DATA);
    FUZZ_CHECK(frame != NULL);
    FUZZ_CHECK(len > 0 && len <= c->max_frame);
    /* In place in the read, or assembled in the connection's buffer;
     * in one piece, always in place. */
    if (r->whole)
        FUZZ_CHECK(fuzz_inside(frame, len, r->chunk, r->chunk_len));
    else
        FUZZ_CHECK(fuzz_inside(frame, len, r->chunk, r->chunk_len) ||
                   (c->buf && fuzz_inside(frame, len, c->buf, c->buf_cap)));
    r->frames++;
    r->bytes += len;
    r->hash = fuzz_hash(r->hash, &len, sizeof(len));
    r->hash = fuzz_hash(r->hash, frame, len);
}

static void take_replies(struct run *r)
{
    struct fs_conn *c = &r->conn;

    FUZZ_CHECK(c->reply_len <= sizeof(c->reply));
    if (c->reply_len == 0)
        return;
    FUZZ_CHECK(c->reply_len <= REPLIES_MAX - r->replies_len);
    memcpy(r->replies + r->replies_len, c->reply, c->reply_len);
    r->replies_len += c->reply_len;
    fs_reply_done(c);
    FUZZ_CHECK(c->reply_len == 0);
}

/* One read: returns fs_feed()'s status. */
static int feed(struct run *r, const uint8_t *p, size_t n, int take)
{
    uint64_t frames = r->frames;
    int rc;

    r->chunk = p;
    r->chunk_len = n;
    rc = fs_feed(&r->conn, p, n, on_frame, r);
    FUZZ_CHECK(rc <= FS_OK && rc > -FS_ERR_COUNT);
    FUZZ_CHECK(strcmp(fs_error_name(rc), "unknown") != 0);
    FUZZ_CHECK((rc == FS_OK) == (r->conn.state != FS_ERROR));
    FUZZ_CHECK(r->conn.data_frames == r->frames);
    FUZZ_CHECK(r->conn.data_bytes == r->bytes);
    if (n == 0)
        FUZZ_CHECK(r->frames == frames);
    if (take)
        take_replies(r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run *a, *b;
    const uint8_t *sizes, *stream;
    size_t nsizes, len, off = 0, i = 0, idle = 0;
    size_t max_frame;
    int take, rc_a = FS_OK, rc_b;

    if (size < 1)
        return 0;
    max_frame = max_frames[data[0] & 7];
    nsizes = (data[0] >> 3) & 15;
    take = data[0] >> 7;
    if (size < 1 + nsizes)
        return 0;
    sizes = data + 1;
    stream = data + 1 + nsizes;
    len = size - 1 - nsizes;

    a = calloc(1, sizeof(*a));
    b = calloc(1, sizeof(*b));
    if (!a || !b)
        abort();
    a->hash = b->hash = FUZZ_HASH_INIT;
    FUZZ_CHECK(fs_init(&a->conn, max_frame) == FS_OK);
    FUZZ_CHECK(fs_init(&b->conn, max_frame) == FS_OK);
    FUZZ_CHECK(a->conn.state == FS_WAIT_START);

    /* Chunked. A cycle of zero sizes would never end: after a whole
     * cycle without progress the rest goes in one read. */
    while (off < len && rc_a == FS_OK) {
        size_t n = nsizes ? sizes[i++ % nsizes] : len;
        uint8_t *copy;

        if (n > len - off)
            n = len - off;
        if (n == 0) {
            rc_a = feed(a, NULL, 0, take);
            if (++idle < nsizes)
                continue;
            n = len - off;
        }
        idle = 0;
        copy = malloc(n);
        if (!copy)
            abort();
        memcpy(copy, stream + off, n);
        rc_a = feed(a, copy, n, take);
        free(copy);
        off += n;
    }
    if (rc_a != FS_OK) {
        /* An errored connection reads nothing more. */
        uint64_t frames = a->frames;
        FUZZ_CHECK(a->conn.state == FS_ERROR);
        FUZZ_CHECK(fs_feed(&a->conn, stream, len, on_frame, a) ==
                   FS_ERR_UNEXPECTED);
        FUZZ_CHECK(a->frames == frames);
    }
    take_replies(a);
    FUZZ_CHECK(a->bytes + 4 * a->frames <= len);

    /* Whole. */
    b->whole = 1;
    rc_b = feed(b, len ? stream : NULL, len, 1);

    FUZZ_CHECK(rc_a == rc_b);
    FUZZ_CHECK(a->conn.state == b->conn.state);
    FUZZ_CHECK(a->conn.bidirectional == b->conn.bidirectional);
    FUZZ_CHECK(a->frames == b->frames);
    FUZZ_CHECK(a->bytes == b->bytes);
    FUZZ_CHECK(a->hash == b->hash);
    FUZZ_CHECK(a->conn.oversize_frames == b->conn.oversize_frames);
    FUZZ_CHECK(a->conn.control_frames == b->conn.control_frames);
    FUZZ_CHECK(a->replies_len == b->replies_len);
    FUZZ_CHECK(memcmp(a->replies, b->replies, a->replies_len) == 0);
    /* The assembly buffer never outgrows what one frame can use. */
    FUZZ_CHECK(a->conn.buf_cap <= (max_frame > FS_CONTROL_MAX
                                       ? max_frame : FS_CONTROL_MAX));

    fs_close(&a->conn);
    fs_close(&b->conn);
    FUZZ_CHECK(a->conn.buf == NULL);
    free(a);
    free(b);
    return 0;
}
