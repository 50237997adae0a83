/* Unit tests for the Frame Streams receiver (src/codec/frame.c).
 *
 * Fixtures are byte arrays with one comment per field, as in fstrm's
 * t/test_control.c. The control frame fixtures are first checked against
 * libfstrm itself (decode, then re-encode and compare), so the sessions
 * built from them are known to be what a libfstrm writer sends.
 *
 * Each session case is a stream (fixtures laid end to end) with the frames
 * it must deliver, the replies it must queue and how it must end. Every
 * case is fed whole, byte at a time, split at every point in two, and in
 * random chunkings from a fixed seed, and all of these must observe exactly
 * the same frames, replies, result and counters. Each chunk is copied into
 * a heap block of exactly its size, so a build with -fsanitize=address
 * catches any read past what was fed.
 *
 * A data frame of length zero cannot be expressed: a length of 0 is the
 * escape that starts a control frame, so the next 4 bytes are read as a
 * control frame length (see test_zero_length_data_frame). */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fstrm.h>

#include "codec/frame.h"

/* ------------------------------------------------------------ fixtures */

#define CT_DNSTAP                                                           \
    'p', 'r', 'o', 't', 'o', 'b', 'u', 'f', ':', 'd', 'n', 's', 't', 'a',   \
        'p', '.', 'D', 'n', 's', 't', 'a', 'p' /* 22 bytes */
#define CT_OTHER                                                            \
    'p', 'r', 'o', 't', 'o', 'b', 'u', 'f', ':', 'o', 't', 'h', 'e', 'r',   \
        '.', 'T', 'y', 'p', 'e' /* 19 bytes */

static const uint8_t ready_one[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x22, /* control frame length: 34 */
    0x00, 0x00, 0x00, 0x04, /* control type: READY */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x16, /* content type length: 22 */
    CT_DNSTAP,              /* content type */
};

static const uint8_t ready_multi[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x3d, /* control frame length: 61 */
    0x00, 0x00, 0x00, 0x04, /* control type: READY */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x13, /* content type length: 19 */
    CT_OTHER,               /* content type, not ours */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x16, /* content type length: 22 */
    CT_DNSTAP,              /* content type */
};

static const uint8_t ready_none[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x04, /* control frame length: 4 */
    0x00, 0x00, 0x00, 0x04, /* control type: READY, no content type */
};

static const uint8_t ready_other[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x1f, /* control frame length: 31 */
    0x00, 0x00, 0x00, 0x04, /* control type: READY */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x13, /* content type length: 19 */
    CT_OTHER,               /* content type, not ours */
};

/* What the reader must answer to a READY it accepts. */
static const uint8_t accept_ct[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x22, /* control frame length: 34 */
    0x00, 0x00, 0x00, 0x01, /* control type: ACCEPT */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x16, /* content type length: 22 */
    CT_DNSTAP,              /* content type */
};

static const uint8_t start_ct[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x22, /* control frame length: 34 */
    0x00, 0x00, 0x00, 0x02, /* control type: START */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x16, /* content type length: 22 */
    CT_DNSTAP,              /* content type */
};

static const uint8_t start_none[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x04, /* control frame length: 4 */
    0x00, 0x00, 0x00, 0x02, /* control type: START, no content type */
};

static const uint8_t start_other[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x1f, /* control frame length: 31 */
    0x00, 0x00, 0x00, 0x02, /* control type: START */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x13, /* content type length: 19 */
    CT_OTHER,               /* content type, not ours */
};

static const uint8_t stop[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x04, /* control frame length: 4 */
    0x00, 0x00, 0x00, 0x03, /* control type: STOP */
};

static const uint8_t finish[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x04, /* control frame length: 4 */
    0x00, 0x00, 0x00, 0x05, /* control type: FINISH */
};

/* ---- malformed control frames ---- */

static const uint8_t esc_len3[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x03, /* control frame length: 3, shorter than a type */
    0x00, 0x00, 0x03,       /* three bytes */
};

static const uint8_t esc_len0[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x00, /* control frame length: 0 */
};

static const uint8_t ctl_type0[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x04, /* control frame length: 4 */
    0x00, 0x00, 0x00, 0x00, /* control type: 0, not a type */
};

static const uint8_t ctl_type9[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x04, /* control frame length: 4 */
    0x00, 0x00, 0x00, 0x09, /* control type: 9, unknown */
};

static const uint8_t ctl_half_field[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x06, /* control frame length: 6 */
    0x00, 0x00, 0x00, 0x02, /* control type: START */
    0x00, 0x01,             /* half a field type */
};

static const uint8_t ctl_short_ct[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x10, /* control frame length: 16 */
    0x00, 0x00, 0x00, 0x04, /* control type: READY */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x16, /* content type length: 22, only 4 follow */
    'p', 'r', 'o', 't',     /* the start of a content type */
};

static const uint8_t ctl_unknown_field[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x0c, /* control frame length: 12 */
    0x00, 0x00, 0x00, 0x04, /* control type: READY */
    0x00, 0x00, 0x00, 0x02, /* field: 2, unknown */
    0x00, 0x00, 0x00, 0x00, /* field length: 0 */
};

static const uint8_t ctl_start_two_ct[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x40, /* control frame length: 64 */
    0x00, 0x00, 0x00, 0x02, /* control type: START */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE */
    0x00, 0x00, 0x00, 0x16, /* content type length: 22 */
    CT_DNSTAP,              /* content type */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE, a second: not in START */
    0x00, 0x00, 0x00, 0x16, /* content type length: 22 */
    CT_DNSTAP,              /* content type */
};

static const uint8_t ctl_stop_ct[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x00, 0x22, /* control frame length: 34 */
    0x00, 0x00, 0x00, 0x03, /* control type: STOP */
    0x00, 0x00, 0x00, 0x01, /* field: CONTENT_TYPE, not in STOP */
    0x00, 0x00, 0x00, 0x16, /* content type length: 22 */
    CT_DNSTAP,              /* content type */
};

static const uint8_t ctl_len513[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0x00, 0x00, 0x02, 0x01, /* control frame length: 513, one too many */
    0x00, 0x00, 0x00, 0x03, /* control type: STOP */
};

static const uint8_t ctl_len_max[] = {
    0x00, 0x00, 0x00, 0x00, /* escape */
    0xff, 0xff, 0xff, 0xff, /* control frame length: 4 GiB - 1 */
};

/* ---- data frames ---- */

static const uint8_t data_hello[] = {
    0x00, 0x00, 0x00, 0x05,  /* data frame length: 5 */
    'h', 'e', 'l', 'l', 'o', /* payload */
};

static const uint8_t data_x[] = {
    0x00, 0x00, 0x00, 0x01, /* data frame length: 1 */
    'x',                    /* payload */
};

static const uint8_t data_six[] = {
    0x00, 0x00, 0x00, 0x06,       /* data frame length: 6 */
    's', 'i', 'x', 's', 'i', 'x', /* payload */
};

/* A payload that looks like frame headers must stay payload. */
static const uint8_t data_escapes[] = {
    0x00, 0x00, 0x00, 0x0c, /* data frame length: 12 */
    0x00, 0x00, 0x00, 0x00, /* payload: an escape */
    0x00, 0x00, 0x00, 0x04, /* payload: a control length */
    0x00, 0x00, 0x00, 0x03, /* payload: STOP */
};

#define BIG_LEN 300
/* Filled by fill_big(): length 300, then bytes i * 7. */
static uint8_t data_big[4 + BIG_LEN];

static const uint8_t data_len_max[] = {
    0xff, 0xff, 0xff, 0xff, /* data frame length: 4 GiB - 1 */
};

static const uint8_t one_zero_byte[] = {
    0x00, /* the first byte of whatever frame follows */
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void fill_big(void)
{
    put32(data_big, BIG_LEN);
    for (size_t i = 0; i < BIG_LEN; i++)
        data_big[4 + i] = (uint8_t)(i * 7);
}

/* ------------------------------------- control fixtures against libfstrm */

struct control_case {
    const char *name;
    const uint8_t *frame;
    size_t len;
    fstrm_control_type type;
    size_t n_ct;
    const char *ct[2];
};

#define FIX(a) (a), sizeof(a)

static const struct control_case control_cases[] = {
    {"ready_one", FIX(ready_one), FSTRM_CONTROL_READY, 1, {FS_CONTENT_TYPE}},
    {"ready_multi", FIX(ready_multi), FSTRM_CONTROL_READY, 2,
     {"protobuf:other.Type", FS_CONTENT_TYPE}},
    {"ready_none", FIX(ready_none), FSTRM_CONTROL_READY, 0, {NULL}},
    {"ready_other", FIX(ready_other), FSTRM_CONTROL_READY, 1,
     {"protobuf:other.Type"}},
    {"accept_ct", FIX(accept_ct), FSTRM_CONTROL_ACCEPT, 1, {FS_CONTENT_TYPE}},
    {"start_ct", FIX(start_ct), FSTRM_CONTROL_START, 1, {FS_CONTENT_TYPE}},
    {"start_none", FIX(start_none), FSTRM_CONTROL_START, 0, {NULL}},
    {"start_other", FIX(start_other), FSTRM_CONTROL_START, 1,
     {"protobuf:other.Type"}},
    {"stop", FIX(stop), FSTRM_CONTROL_STOP, 0, {NULL}},
    {"finish", FIX(finish), FSTRM_CONTROL_FINISH, 0, {NULL}},
};

/* Decodes a fixture (with its escape header) through libfstrm, checks
 * what it holds, re-encodes it and compares the bytes. */
static void check_control(const struct control_case *k)
{
    struct fstrm_control *ctl = fstrm_control_init();
    fstrm_control_type type;
    size_t n, len;
    uint8_t out[8 + FSTRM_CONTROL_FRAME_LENGTH_MAX];

    assert_non_null(ctl);
    assert_int_equal(get32(k->frame), 0);
    assert_int_equal(get32(k->frame + 4), k->len - 8);
    assert_int_equal(fstrm_control_decode(ctl, k->frame, k->len,
                                          FSTRM_CONTROL_FLAG_WITH_HEADER),
                     fstrm_res_success);
    assert_int_equal(fstrm_control_get_type(ctl, &type), fstrm_res_success);
    assert_int_equal(type, k->type);
    assert_int_equal(fstrm_control_get_num_field_content_type(ctl, &n),
                     fstrm_res_success);
    assert_int_equal(n, k->n_ct);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *ct;
        size_t ct_len;
        assert_int_equal(
            fstrm_control_get_field_content_type(ctl, i, &ct, &ct_len),
            fstrm_res_success);
        assert_int_equal(ct_len, strlen(k->ct[i]));
        assert_memory_equal(ct, k->ct[i], ct_len);
    }

    assert_int_equal(fstrm_control_encoded_size(
                         ctl, &len, FSTRM_CONTROL_FLAG_WITH_HEADER),
                     fstrm_res_success);
    assert_int_equal(len, k->len);
    len = sizeof(out);
    assert_int_equal(fstrm_control_encode(ctl, out, &len,
                                          FSTRM_CONTROL_FLAG_WITH_HEADER),
                     fstrm_res_success);
    assert_int_equal(len, k->len);
    assert_memory_equal(out, k->frame, len);

    /* The payload alone (what frame.c hands to the decoder) decodes to
     * the same frame. */
    assert_int_equal(fstrm_control_decode(ctl, k->frame + 8, k->len - 8, 0),
                     fstrm_res_success);
    len = sizeof(out);
    assert_int_equal(fstrm_control_encode(ctl, out, &len,
                                          FSTRM_CONTROL_FLAG_WITH_HEADER),
                     fstrm_res_success);
    assert_int_equal(len, k->len);
    assert_memory_equal(out, k->frame, len);
    fstrm_control_destroy(&ctl);
}

static void test_control_fixture(void **state)
{
    check_control(*state);
}

/* The malformed fixtures are refused by libfstrm itself. */
static void test_control_bad_fixtures(void **state)
{
    static const struct {
        const uint8_t *frame;
        size_t len;
    } bad[] = {
        {FIX(esc_len3)},       {FIX(ctl_type0)},      {FIX(ctl_type9)},
        {FIX(ctl_half_field)}, {FIX(ctl_short_ct)},   {FIX(ctl_unknown_field)},
        {FIX(ctl_start_two_ct)}, {FIX(ctl_stop_ct)},
    };
    struct fstrm_control *ctl = fstrm_control_init();

    assert_non_null(ctl);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(fstrm_control_decode(ctl, bad[i].frame + 8,
                                              bad[i].len - 8, 0),
                         fstrm_res_failure);
    fstrm_control_destroy(&ctl);
}

/* ------------------------------------------------------ feeding harness */

/* What one way of feeding a stream observed. */
struct seen {
    /* delivered frames, each as a size_t length then the bytes */
    uint8_t *frames;
    size_t frames_len, frames_cap;
    size_t n_frames;
    /* every reply queued, in order */
    uint8_t reply[4 * FS_REPLY_MAX];
    size_t reply_len;
    int rc;
    enum fs_state state;
    uint64_t oversize, controls, data_frames, data_bytes;
    size_t in_place, assembled;
    size_t buf_cap;
    /* during a feed */
    uintptr_t lo, hi;
    const struct fs_conn *c;
    int feeding;
};

static void append(struct seen *s, const void *p, size_t n)
{
    if (s->frames_len + n > s->frames_cap) {
        size_t cap = s->frames_cap ? s->frames_cap : 256;
        while (cap < s->frames_len + n)
            cap *= 2;
        s->frames = realloc(s->frames, cap);
        assert_non_null(s->frames);
        s->frames_cap = cap;
    }
    memcpy(s->frames + s->frames_len, p, n);
    s->frames_len += n;
}

static void on_frame(void *arg, const uint8_t *f, size_t len)
{
    struct seen *s = arg;
    uintptr_t a = (uintptr_t)f;

    assert_true(s->feeding);
    assert_true(len > 0);
    assert_true(len <= s->c->max_frame);
    if (a >= s->lo && a + len <= s->hi) {
        s->in_place++;
    } else {
        /* Not in the fed chunk: it must be the connection's buffer. */
        assert_ptr_equal(f, s->c->buf);
        s->assembled++;
    }
    append(s, &len, sizeof(len));
    append(s, f, len);
    s->n_frames++;
}

static void seen_free(struct seen *s)
{
    free(s->frames);
    s->frames = NULL;
}

/* Feeds stream[0..n) as chunks of the given lengths (summing to n), each
 * copied into a heap block of exactly that size, writes the replies out
 * after every feed, and records what happened. */
static void run(const uint8_t *stream, size_t n, const size_t *chunks,
                size_t n_chunks, size_t max_frame, struct seen *s)
{
    struct fs_conn c;
    size_t off = 0;
    size_t limit = max_frame > FS_CONTROL_MAX ? max_frame : FS_CONTROL_MAX;

    memset(s, 0, sizeof(*s));
    s->rc = FS_OK;
    s->c = &c;
    assert_int_equal(fs_init(&c, max_frame), FS_OK);
    for (size_t i = 0; i < n_chunks; i++) {
        size_t len = chunks[i];
        uint8_t *blk = malloc(len ? len : 1);
        int rc;

        assert_non_null(blk);
        assert_true(off + len <= n);
        memcpy(blk, stream + off, len);
        off += len;
        s->lo = (uintptr_t)blk;
        s->hi = (uintptr_t)blk + len;
        s->feeding = 1;
        rc = fs_feed(&c, blk, len, on_frame, s);
        s->feeding = 0;
        free(blk);
        /* The assembly buffer never grows past what one frame needs. */
        assert_true(c.buf_cap <= limit);
        assert_true(c.reply_len <= FS_REPLY_MAX);
        assert_true(s->reply_len + c.reply_len <= sizeof(s->reply));
        memcpy(s->reply + s->reply_len, c.reply, c.reply_len);
        s->reply_len += c.reply_len;
        fs_reply_done(&c);
        assert_int_equal(c.reply_len, 0);
        if (rc != FS_OK) {
            uint8_t more[16] = {0};
            size_t before = s->n_frames;

            assert_true(rc < 0);
            assert_int_equal(c.state, FS_ERROR);
            s->rc = rc;
            /* A failed connection reads nothing more. */
            s->lo = (uintptr_t)more;
            s->hi = (uintptr_t)more + sizeof(more);
            s->feeding = 1;
            assert_int_equal(fs_feed(&c, more, sizeof(more), on_frame, s),
                             FS_ERR_UNEXPECTED);
            s->feeding = 0;
            assert_int_equal(s->n_frames, before);
            assert_int_equal(c.state, FS_ERROR);
            break;
        }
        assert_int_not_equal(c.state, FS_ERROR);
    }
    s->state = c.state;
    s->oversize = c.oversize_frames;
    s->controls = c.control_frames;
    s->data_frames = c.data_frames;
    s->data_bytes = c.data_bytes;
    s->buf_cap = c.buf_cap;
    fs_close(&c);
    assert_null(c.buf);
    fs_close(&c); /* twice is harmless */
}

static void assert_same(const struct seen *a, const struct seen *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->n_frames, b->n_frames);
    assert_int_equal(a->frames_len, b->frames_len);
    if (a->frames_len)
        assert_memory_equal(a->frames, b->frames, a->frames_len);
    assert_int_equal(a->reply_len, b->reply_len);
    if (a->reply_len)
        assert_memory_equal(a->reply, b->reply, a->reply_len);
    assert_int_equal(a->oversize, b->oversize);
    assert_int_equal(a->controls, b->controls);
    assert_int_equal(a->data_frames, b->data_frames);
    assert_int_equal(a->data_bytes, b->data_bytes);
}

/* xorshift32: a fixed seed gives the same chunkings on every run. */
static uint32_t rng_state;

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

#define RANDOM_CHUNKINGS 200

/* Feeds a stream in every way the harness knows and checks they agree
 * with the whole feed, which is returned in *whole. */
static void run_all_ways(const uint8_t *stream, size_t n, size_t max_frame,
                         struct seen *whole)
{
    size_t *chunks = malloc((n + 1) * sizeof(*chunks));
    struct seen s;
    size_t nc;

    assert_non_null(chunks);

    /* Whole: every complete frame is handed out in place. */
    chunks[0] = n;
    run(stream, n, chunks, 1, max_frame, whole);
    assert_int_equal(whole->assembled, 0);
    assert_int_equal(whole->in_place, whole->n_frames);

    /* Byte at a time. */
    for (size_t i = 0; i < n; i++)
        chunks[i] = 1;
    run(stream, n, chunks, n, max_frame, &s);
    assert_same(whole, &s);
    seen_free(&s);

    /* Every split point in two (0 and n included: an empty feed). */
    for (size_t k = 0; k <= n; k++) {
        chunks[0] = k;
        chunks[1] = n - k;
        run(stream, n, chunks, 2, max_frame, &s);
        assert_same(whole, &s);
        seen_free(&s);
    }

    /* Random chunkings: mostly short chunks, some long ones. */
    rng_state = 0x2545f491u;
    for (int r = 0; r < RANDOM_CHUNKINGS; r++) {
        size_t left = n;
        nc = 0;
        while (left > 0) {
            uint32_t v = rng();
            size_t len = (v & 3) == 0 ? 1 + (v >> 8) % 3
                                      : 1 + (v >> 8) % (1 + (v >> 4) % 64);
            if (len > left)
                len = left;
            chunks[nc++] = len;
            left -= len;
        }
        run(stream, n, chunks, nc, max_frame, &s);
        assert_same(whole, &s);
        seen_free(&s);
    }
    free(chunks);
}

/* ------------------------------------------------------ session table */

struct piece {
    const uint8_t *p;
    size_t n;
};

#define P(a) {(a), sizeof(a)}
#define PAYLOAD(a) {(a) + 4, sizeof(a) - 4}
#define MAX_PIECES 12

struct session {
    const char *name;
    size_t max_frame;
    struct piece in[MAX_PIECES];     /* the stream, in order */
    int rc;                          /* the result of the feed that ends it */
    enum fs_state state;             /* state after the last feed */
    struct piece frames[MAX_PIECES]; /* payloads delivered, in order */
    struct piece reply[3];           /* control frames queued, in order */
    uint64_t oversize;
};

#define MAXF 64 /* max_frame for most cases: data_big (300) is oversize */

static const struct session sessions[] = {
    /* ---- complete sessions ---- */
    {"bidi", MAXF,
     {P(ready_one), P(start_ct), P(data_hello), P(data_x), P(data_escapes),
      P(stop)},
     FS_OK, FS_DONE,
     {PAYLOAD(data_hello), PAYLOAD(data_x), PAYLOAD(data_escapes)},
     {P(accept_ct), P(finish)}, 0},
    {"bidi_ready_multi_start_none", MAXF,
     {P(ready_multi), P(start_none), P(data_six), P(stop)},
     FS_OK, FS_DONE, {PAYLOAD(data_six)}, {P(accept_ct), P(finish)}, 0},
    /* Like libfstrm's reader: a READY naming no content type matches. */
    {"bidi_ready_none", MAXF,
     {P(ready_none), P(start_ct), P(data_x), P(stop)},
     FS_OK, FS_DONE, {PAYLOAD(data_x)}, {P(accept_ct), P(finish)}, 0},
    {"bidi_no_data", MAXF, {P(ready_one), P(start_ct), P(stop)},
     FS_OK, FS_DONE, {{NULL, 0}}, {P(accept_ct), P(finish)}, 0},
    {"bidi_big_frames", 4096,
     {P(ready_one), P(start_ct), P(data_big), P(data_x), P(data_big), P(stop)},
     FS_OK, FS_DONE,
     {PAYLOAD(data_big), PAYLOAD(data_x), PAYLOAD(data_big)},
     {P(accept_ct), P(finish)}, 0},
    {"uni", MAXF,
     {P(start_ct), P(data_hello), P(data_x), P(data_escapes), P(stop)},
     FS_OK, FS_DONE,
     {PAYLOAD(data_hello), PAYLOAD(data_x), PAYLOAD(data_escapes)},
     {{NULL, 0}}, 0},
    {"uni_start_none", MAXF, {P(start_none), P(data_six), P(stop)},
     FS_OK, FS_DONE, {PAYLOAD(data_six)}, {{NULL, 0}}, 0},
    {"uni_no_data", MAXF, {P(start_none), P(stop)},
     FS_OK, FS_DONE, {{NULL, 0}}, {{NULL, 0}}, 0},
    /* ---- streams still going ---- */
    {"handshake_only", MAXF, {P(ready_one)},
     FS_OK, FS_WAIT_START_BIDI, {{NULL, 0}}, {P(accept_ct)}, 0},
    {"open_stream", MAXF, {P(ready_one), P(start_ct), P(data_hello)},
     FS_OK, FS_DATA, {PAYLOAD(data_hello)}, {P(accept_ct)}, 0},
    {"truncated_frame", MAXF, {P(start_ct), P(data_x), {data_six, 7}},
     FS_OK, FS_DATA, {PAYLOAD(data_x)}, {{NULL, 0}}, 0},
    /* ---- oversize data frames are skipped, the stream goes on ---- */
    {"oversize_skipped", MAXF,
     {P(ready_one), P(start_ct), P(data_hello), P(data_big), P(data_x),
      P(stop)},
     FS_OK, FS_DONE, {PAYLOAD(data_hello), PAYLOAD(data_x)},
     {P(accept_ct), P(finish)}, 1},
    {"oversize_back_to_back", MAXF,
     {P(start_none), P(data_big), P(data_big), P(data_escapes), P(data_big),
      P(stop)},
     FS_OK, FS_DONE, {PAYLOAD(data_escapes)}, {{NULL, 0}}, 3},
    /* max_frame 5: 5 bytes pass, 6 are one too many. */
    {"oversize_boundary", 5,
     {P(start_ct), P(data_six), P(data_hello), P(data_six), P(stop)},
     FS_OK, FS_DONE, {PAYLOAD(data_hello)}, {{NULL, 0}}, 2},
    {"oversize_pending", MAXF, {P(start_ct), P(data_x), {data_big, 100}},
     FS_OK, FS_DATA, {PAYLOAD(data_x)}, {{NULL, 0}}, 1},
    /* ---- framing errors ---- */
    {"bad_escape_len3", MAXF, {P(start_ct), P(data_x), P(esc_len3)},
     FS_ERR_ESCAPE, FS_ERROR, {PAYLOAD(data_x)}, {{NULL, 0}}, 0},
    {"bad_escape_len0", MAXF, {P(ready_one), P(esc_len0), P(start_ct)},
     FS_ERR_ESCAPE, FS_ERROR, {{NULL, 0}}, {P(accept_ct)}, 0},
    {"bad_escape_first", MAXF, {P(esc_len3)},
     FS_ERR_ESCAPE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"control_size_513", MAXF, {P(start_ct), P(ctl_len513)},
     FS_ERR_CONTROL_SIZE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"control_size_4g", MAXF, {P(ready_one), P(ctl_len_max)},
     FS_ERR_CONTROL_SIZE, FS_ERROR, {{NULL, 0}}, {P(accept_ct)}, 0},
    {"control_type0", MAXF, {P(ctl_type0)},
     FS_ERR_CONTROL_DECODE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"control_type9", MAXF, {P(start_ct), P(data_x), P(ctl_type9)},
     FS_ERR_CONTROL_DECODE, FS_ERROR, {PAYLOAD(data_x)}, {{NULL, 0}}, 0},
    {"control_half_field", MAXF, {P(ctl_half_field)},
     FS_ERR_CONTROL_DECODE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"control_short_ct", MAXF, {P(ctl_short_ct)},
     FS_ERR_CONTROL_DECODE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"control_unknown_field", MAXF, {P(ctl_unknown_field)},
     FS_ERR_CONTROL_DECODE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"control_start_two_ct", MAXF, {P(ready_one), P(ctl_start_two_ct)},
     FS_ERR_CONTROL_DECODE, FS_ERROR, {{NULL, 0}}, {P(accept_ct)}, 0},
    {"control_stop_ct", MAXF, {P(start_ct), P(data_x), P(ctl_stop_ct)},
     FS_ERR_CONTROL_DECODE, FS_ERROR, {PAYLOAD(data_x)}, {{NULL, 0}}, 0},
    /* ---- content type ---- */
    {"ready_wrong_ct", MAXF, {P(ready_other), P(start_other)},
     FS_ERR_CONTENT_TYPE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"start_wrong_ct_uni", MAXF, {P(start_other), P(data_x)},
     FS_ERR_CONTENT_TYPE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"start_wrong_ct_bidi", MAXF, {P(ready_one), P(start_other)},
     FS_ERR_CONTENT_TYPE, FS_ERROR, {{NULL, 0}}, {P(accept_ct)}, 0},
    /* ---- state machine ---- */
    {"data_first", MAXF, {P(data_hello), P(start_ct)},
     FS_ERR_DATA_STATE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"data_before_start_bidi", MAXF, {P(ready_one), P(data_x), P(start_ct)},
     FS_ERR_DATA_STATE, FS_ERROR, {{NULL, 0}}, {P(accept_ct)}, 0},
    /* Refused at the header even when oversize: nothing is skipped. */
    {"oversize_before_start", MAXF, {P(data_big)},
     FS_ERR_DATA_STATE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"start_twice", MAXF, {P(start_ct), P(data_x), P(data_hello), P(start_ct)},
     FS_ERR_UNEXPECTED, FS_ERROR, {PAYLOAD(data_x), PAYLOAD(data_hello)},
     {{NULL, 0}}, 0},
    {"ready_twice", MAXF, {P(ready_one), P(ready_one)},
     FS_ERR_UNEXPECTED, FS_ERROR, {{NULL, 0}}, {P(accept_ct)}, 0},
    {"ready_after_start", MAXF, {P(start_ct), P(ready_one)},
     FS_ERR_UNEXPECTED, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"accept_from_writer", MAXF, {P(accept_ct), P(start_ct)},
     FS_ERR_UNEXPECTED, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"accept_after_ready", MAXF, {P(ready_one), P(accept_ct)},
     FS_ERR_UNEXPECTED, FS_ERROR, {{NULL, 0}}, {P(accept_ct)}, 0},
    {"finish_from_writer", MAXF, {P(start_ct), P(data_x), P(finish)},
     FS_ERR_UNEXPECTED, FS_ERROR, {PAYLOAD(data_x)}, {{NULL, 0}}, 0},
    {"stop_before_start", MAXF, {P(stop)},
     FS_ERR_UNEXPECTED, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"stop_after_ready", MAXF, {P(ready_one), P(stop)},
     FS_ERR_UNEXPECTED, FS_ERROR, {{NULL, 0}}, {P(accept_ct)}, 0},
    /* ---- after STOP: any byte, even a second STOP ---- */
    {"stop_twice", MAXF, {P(ready_one), P(start_ct), P(stop), P(stop)},
     FS_ERR_AFTER_DONE, FS_ERROR, {{NULL, 0}}, {P(accept_ct), P(finish)}, 0},
    {"stop_twice_uni", MAXF, {P(start_ct), P(data_x), P(stop), P(stop)},
     FS_ERR_AFTER_DONE, FS_ERROR, {PAYLOAD(data_x)}, {{NULL, 0}}, 0},
    {"data_after_stop", MAXF, {P(start_none), P(stop), P(data_x)},
     FS_ERR_AFTER_DONE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
    {"one_byte_after_stop", MAXF,
     {P(ready_one), P(start_ct), P(data_hello), P(stop), P(one_zero_byte)},
     FS_ERR_AFTER_DONE, FS_ERROR, {PAYLOAD(data_hello)},
     {P(accept_ct), P(finish)}, 0},
    /* A writer trying to send an empty data frame: its length 0 is read
     * as the escape and its successor's length as a control length. */
    {"zero_length_data_frame", MAXF,
     {P(start_ct), {esc_len0, 4}, P(data_hello)},
     FS_ERR_CONTROL_DECODE, FS_ERROR, {{NULL, 0}}, {{NULL, 0}}, 0},
};

#define N_SESSIONS (sizeof(sessions) / sizeof(sessions[0]))

static uint8_t *concat(const struct piece *pieces, size_t *n)
{
    size_t len = 0, off = 0;
    uint8_t *out;

    for (size_t i = 0; i < MAX_PIECES && pieces[i].p; i++)
        len += pieces[i].n;
    out = malloc(len ? len : 1);
    assert_non_null(out);
    for (size_t i = 0; i < MAX_PIECES && pieces[i].p; i++) {
        memcpy(out + off, pieces[i].p, pieces[i].n);
        off += pieces[i].n;
    }
    *n = len;
    return out;
}

static void test_session(void **state)
{
    const struct session *k = *state;
    struct seen whole;
    size_t n, n_frames = 0, bytes = 0, controls = 0;
    uint8_t *stream = concat(k->in, &n);
    struct seen want;
    size_t rn;
    uint8_t *reply = concat(k->reply, &rn);

    run_all_ways(stream, n, k->max_frame, &whole);

    memset(&want, 0, sizeof(want));
    for (size_t i = 0; i < MAX_PIECES && k->frames[i].p; i++) {
        append(&want, &k->frames[i].n, sizeof(k->frames[i].n));
        append(&want, k->frames[i].p, k->frames[i].n);
        n_frames++;
        bytes += k->frames[i].n;
    }
    assert_int_equal(whole.rc, k->rc);
    assert_int_equal(whole.state, k->state);
    assert_int_equal(whole.n_frames, n_frames);
    assert_int_equal(whole.data_frames, n_frames);
    assert_int_equal(whole.data_bytes, bytes);
    assert_int_equal(whole.frames_len, want.frames_len);
    if (want.frames_len)
        assert_memory_equal(whole.frames, want.frames, want.frames_len);
    assert_int_equal(whole.reply_len, rn);
    if (rn)
        assert_memory_equal(whole.reply, reply, rn);
    assert_int_equal(whole.oversize, k->oversize);

    /* In a stream without error, every control fixture is counted. */
    for (size_t i = 0; i < MAX_PIECES && k->in[i].p; i++)
        if (k->in[i].n >= 12 && get32(k->in[i].p) == 0 &&
            k->in[i].n == 8 + get32(k->in[i].p + 4))
            controls++;
    if (k->rc == FS_OK)
        assert_int_equal(whole.controls, controls);

    seen_free(&want);
    seen_free(&whole);
    free(reply);
    free(stream);
}

/* ------------------------------------------------- targeted behaviours */

struct sink {
    size_t n;
    size_t bytes;
    uint8_t last[BIG_LEN];
    size_t last_len;
    const uint8_t *last_ptr;
};

static void on_sink(void *arg, const uint8_t *f, size_t len)
{
    struct sink *s = arg;
    s->n++;
    s->bytes += len;
    s->last_ptr = f;
    s->last_len = len;
    memcpy(s->last, f, len < sizeof(s->last) ? len : sizeof(s->last));
}

static void feed_ok(struct fs_conn *c, const uint8_t *p, size_t n,
                    struct sink *s)
{
    assert_int_equal(fs_feed(c, p, n, on_sink, s), FS_OK);
}

/* A whole session in one read: every frame in place, no buffer at all. */
static void test_in_place(void **state)
{
    static const struct piece in[] = {P(ready_one), P(start_ct), P(data_hello),
                                      P(data_x), P(stop), {NULL, 0}};
    struct fs_conn c;
    struct sink s = {0};
    size_t n;
    uint8_t *stream = concat(in, &n);
    size_t hello_at = sizeof(ready_one) + sizeof(start_ct) + 4;

    assert_int_equal(fs_init(&c, MAXF), FS_OK);
    feed_ok(&c, stream, n, &s);
    assert_int_equal(s.n, 2);
    assert_ptr_equal(s.last_ptr, stream + hello_at + 5 + 4);
    assert_null(c.buf);
    assert_int_equal(c.buf_cap, 0);
    assert_int_equal(c.state, FS_DONE);
    assert_int_equal(c.bidirectional, 1);
    assert_int_equal(c.control_frames, 3);
    /* ACCEPT and FINISH both queued by the one read, in order. */
    assert_int_equal(c.reply_len, sizeof(accept_ct) + sizeof(finish));
    assert_memory_equal(c.reply, accept_ct, sizeof(accept_ct));
    assert_memory_equal(c.reply + sizeof(accept_ct), finish, sizeof(finish));
    fs_close(&c);
    free(stream);
}

/* Frames split across reads at the length header, inside the escape and
 * inside the control length, checking the partial state each time. */
static void test_split_headers(void **state)
{
    struct fs_conn c;
    struct sink s = {0};

    assert_int_equal(fs_init(&c, MAXF), FS_OK);

    /* Escape split after 2 of its 4 bytes. */
    feed_ok(&c, start_ct, 2, &s);
    assert_int_equal(c.hdr_len, 2);
    /* The rest of the escape and 1 byte of the control length. */
    feed_ok(&c, start_ct + 2, 3, &s);
    assert_int_equal(c.hdr_len, 5);
    assert_int_equal(c.state, FS_WAIT_START);
    /* The control length completed, 3 bytes of the payload. */
    feed_ok(&c, start_ct + 5, 6, &s);
    assert_int_equal(c.hdr_len, 0);
    assert_int_equal(c.frame_len, 34);
    assert_int_equal(c.frame_is_control, 1);
    assert_int_equal(c.buf_len, 3);
    feed_ok(&c, start_ct + 11, sizeof(start_ct) - 11, &s);
    assert_int_equal(c.state, FS_DATA);
    assert_int_equal(c.frame_len, 0);
    assert_int_equal(c.reply_len, 0); /* unidirectional: no ACCEPT */

    /* A data length split 3 + 1, then the payload in one read. */
    feed_ok(&c, data_hello, 3, &s);
    assert_int_equal(c.hdr_len, 3);
    feed_ok(&c, data_hello + 3, 1, &s);
    assert_int_equal(c.hdr_len, 0);
    assert_int_equal(c.frame_len, 5);
    assert_int_equal(s.n, 0);
    feed_ok(&c, data_hello + 4, 5, &s);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.last_len, 5);
    assert_memory_equal(s.last, "hello", 5);
    /* Handed out in place although the header came earlier. */
    assert_ptr_equal(s.last_ptr, data_hello + 4);

    /* A payload split 2 + 3: assembled in c->buf. */
    feed_ok(&c, data_hello, 6, &s);
    assert_int_equal(s.n, 1);
    feed_ok(&c, data_hello + 6, 3, &s);
    assert_int_equal(s.n, 2);
    assert_ptr_equal(s.last_ptr, c.buf);
    assert_memory_equal(s.last, "hello", 5);

    /* STOP whose last byte comes alone. */
    feed_ok(&c, stop, sizeof(stop) - 1, &s);
    assert_int_equal(c.state, FS_DATA);
    feed_ok(&c, stop + sizeof(stop) - 1, 1, &s);
    assert_int_equal(c.state, FS_DONE);
    assert_int_equal(c.reply_len, 0); /* no FINISH without READY */
    fs_close(&c);
}

/* The replies decode through libfstrm to what they must say, and
 * re-encode to the same bytes. */
static void test_reply_roundtrip(void **state)
{
    static const struct piece in[] = {P(ready_multi), P(start_ct), P(stop),
                                      {NULL, 0}};
    struct fs_conn c;
    struct sink s = {0};
    size_t n, off = 0;
    uint8_t *stream = concat(in, &n);
    static const fstrm_control_type types[] = {FSTRM_CONTROL_ACCEPT,
                                               FSTRM_CONTROL_FINISH};

    assert_int_equal(fs_init(&c, MAXF), FS_OK);
    feed_ok(&c, stream, n, &s);
    assert_int_equal(c.state, FS_DONE);
    for (size_t i = 0; i < 2; i++) {
        struct fstrm_control *ctl = fstrm_control_init();
        fstrm_control_type type;
        size_t flen, nct, len;
        uint8_t out[FS_REPLY_MAX];

        assert_non_null(ctl);
        assert_true(off + 8 <= c.reply_len);
        assert_int_equal(get32(c.reply + off), 0);
        flen = 8 + get32(c.reply + off + 4);
        assert_true(off + flen <= c.reply_len);
        assert_int_equal(fstrm_control_decode(ctl, c.reply + off, flen,
                                              FSTRM_CONTROL_FLAG_WITH_HEADER),
                         fstrm_res_success);
        assert_int_equal(fstrm_control_get_type(ctl, &type),
                         fstrm_res_success);
        assert_int_equal(type, types[i]);
        assert_int_equal(fstrm_control_get_num_field_content_type(ctl, &nct),
                         fstrm_res_success);
        if (type == FSTRM_CONTROL_ACCEPT) {
            /* Only ours, although READY offered two. */
            const uint8_t *ct;
            size_t ct_len;
            assert_int_equal(nct, 1);
            assert_int_equal(
                fstrm_control_get_field_content_type(ctl, 0, &ct, &ct_len),
                fstrm_res_success);
            assert_int_equal(ct_len, strlen(FS_CONTENT_TYPE));
            assert_memory_equal(ct, FS_CONTENT_TYPE, ct_len);
            assert_int_equal(fstrm_control_match_field_content_type(
                                 ctl, (const uint8_t *)"protobuf:other.Type",
                                 19),
                             fstrm_res_failure);
        } else {
            assert_int_equal(nct, 0);
        }
        len = sizeof(out);
        assert_int_equal(fstrm_control_encode(ctl, out, &len,
                                              FSTRM_CONTROL_FLAG_WITH_HEADER),
                         fstrm_res_success);
        assert_int_equal(len, flen);
        assert_memory_equal(out, c.reply + off, flen);
        fstrm_control_destroy(&ctl);
        off += flen;
    }
    assert_int_equal(off, c.reply_len);
    fs_reply_done(&c);
    assert_int_equal(c.reply_len, 0);
    fs_close(&c);
    free(stream);
}

/* A 4 GiB - 1 length is skipped like any oversize frame: counted, never
 * allocated, and the frames after it arrive intact. */
static void test_oversize_4g(void **state)
{
    static const uint8_t zeros[1 << 20];
    struct fs_conn c;
    struct sink s = {0};
    uint64_t left = 0xffffffffu;
    size_t i;

    assert_int_equal(fs_init(&c, MAXF), FS_OK);
    feed_ok(&c, start_none, sizeof(start_none), &s);
    feed_ok(&c, data_len_max, sizeof(data_len_max), &s);
    assert_int_equal(c.oversize_frames, 1);
    assert_int_equal(c.skip, 0xffffffffu);
    assert_null(c.buf);
    /* All but the last 3 bytes, a megabyte at a time. */
    while (left > 3) {
        size_t n = left - 3 < sizeof(zeros) ? (size_t)(left - 3)
                                             : sizeof(zeros);
        feed_ok(&c, zeros, n, &s);
        left -= n;
    }
    assert_int_equal(c.skip, 3);
    assert_int_equal(s.n, 0);
    /* The last 3 bytes and the next frame, byte at a time. */
    for (i = 0; i < 3; i++)
        feed_ok(&c, zeros, 1, &s);
    assert_int_equal(c.skip, 0);
    for (i = 0; i < sizeof(data_hello); i++)
        feed_ok(&c, data_hello + i, 1, &s);
    assert_int_equal(s.n, 1);
    assert_memory_equal(s.last, "hello", 5);
    /* The end of a skip and a whole frame in one read: in place. */
    feed_ok(&c, data_len_max, sizeof(data_len_max), &s);
    left = 0xffffffffu;
    while (left > 0) {
        size_t n = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
        if (n == left) {
            uint8_t *tail = malloc(n + sizeof(data_x));
            assert_non_null(tail);
            memset(tail, 0, n);
            memcpy(tail + n, data_x, sizeof(data_x));
            feed_ok(&c, tail, n + sizeof(data_x), &s);
            assert_ptr_equal(s.last_ptr, tail + n + 4);
            free(tail);
        } else {
            feed_ok(&c, zeros, n, &s);
        }
        left -= n;
    }
    assert_int_equal(s.n, 2);
    assert_int_equal(s.last_len, 1);
    assert_int_equal(c.oversize_frames, 2);
    feed_ok(&c, stop, sizeof(stop), &s);
    assert_int_equal(c.state, FS_DONE);
    /* Only the byte-at-a-time hello was ever buffered. */
    assert_true(c.buf_cap <= FS_CONTROL_MAX || c.buf_cap <= MAXF);
    assert_int_equal(c.data_frames, 2);
    assert_int_equal(c.data_bytes, 6);
    fs_close(&c);
}

/* The assembly buffer grows geometrically up to max_frame, not past it. */
static void test_buffer_growth(void **state)
{
    const size_t max_frame = 100000; /* not a power of two */
    const size_t sizes[] = {10, 5000, 20000, 99999, 100000, 100001, 7};
    struct fs_conn c;
    struct sink s = {0};
    uint8_t *frame = malloc(4 + max_frame + 1);
    size_t delivered = 0;

    assert_non_null(frame);
    assert_int_equal(fs_init(&c, max_frame), FS_OK);
    feed_ok(&c, start_ct, sizeof(start_ct), &s);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t len = sizes[k], cap_before = c.buf_cap;
        put32(frame, (uint32_t)len);
        for (size_t i = 0; i < len; i++)
            frame[4 + i] = (uint8_t)(i * 31 + k);
        /* In reads of 997 bytes: every frame past 993 bytes straddles. */
        for (size_t off = 0; off < 4 + len; off += 997) {
            size_t n = 4 + len - off < 997 ? 4 + len - off : 997;
            feed_ok(&c, frame + off, n, &s);
        }
        if (len > max_frame) {
            assert_int_equal(s.n, delivered);
            assert_int_equal(c.buf_cap, cap_before);
            continue;
        }
        delivered++;
        assert_int_equal(s.n, delivered);
        assert_int_equal(s.last_len, len);
        assert_memory_equal(s.last, frame + 4,
                            len < sizeof(s.last) ? len : sizeof(s.last));
        assert_true(c.buf_cap <= max_frame);
        if (len > 993)
            assert_true(c.buf_cap >= len);
    }
    /* Doubling from 4096 capped at max_frame lands exactly on it. */
    assert_int_equal(c.buf_cap, max_frame);
    assert_int_equal(c.oversize_frames, 1);
    fs_close(&c);
    free(frame);
}

/* Many small frames in large reads, as a busy resolver sends them; the
 * frames on read boundaries are assembled, all others in place. */
static void test_many_frames(void **state)
{
    enum { FRAMES = 200000, FLEN = 60, READ = 65536 };
    const size_t n = sizeof(start_ct) + (size_t)FRAMES * (4 + FLEN) +
                     sizeof(stop);
    uint8_t *stream = malloc(n);
    size_t off = 0;
    struct fs_conn c;
    struct sink s = {0};

    assert_non_null(stream);
    memcpy(stream, start_ct, sizeof(start_ct));
    off += sizeof(start_ct);
    for (size_t i = 0; i < FRAMES; i++) {
        put32(stream + off, FLEN);
        memset(stream + off + 4, (int)(i & 0xff), FLEN);
        off += 4 + FLEN;
    }
    memcpy(stream + off, stop, sizeof(stop));
    assert_int_equal(fs_init(&c, 4096), FS_OK);
    for (off = 0; off < n; off += READ)
        feed_ok(&c, stream + off, n - off < READ ? n - off : READ, &s);
    assert_int_equal(s.n, FRAMES);
    assert_int_equal(s.bytes, (size_t)FRAMES * FLEN);
    assert_int_equal(c.data_frames, FRAMES);
    assert_int_equal(c.data_bytes, (uint64_t)FRAMES * FLEN);
    assert_int_equal(c.state, FS_DONE);
    /* Reassembly needed one small buffer, never more. */
    assert_true(c.buf_cap <= 4096);
    fs_close(&c);
    free(stream);
}

/* A length of 0 is always the escape, so a data frame of length 0 is
 * impossible: a writer that tried would have its next length read as a
 * control frame length. Here the next length (5) makes a 5-byte control
 * frame out of "hello", which libfstrm refuses; a next length under 4
 * would be a bad escape, over 512 an oversize control frame. */
static void test_zero_length_data_frame(void **state)
{
    static const uint8_t empty_then_x[] = {
        0x00, 0x00, 0x00, 0x00, /* "data frame length 0": the escape */
        0x00, 0x00, 0x00, 0x01, /* next length (1): a control length */
        'x',                    /* payload */
    };
    static const uint8_t empty_then_big[] = {
        0x00, 0x00, 0x00, 0x00, /* "data frame length 0": the escape */
        0x00, 0x00, 0x10, 0x00, /* next length (4096): a control length */
    };
    struct fs_conn c;
    struct sink s = {0};

    assert_int_equal(fs_init(&c, MAXF), FS_OK);
    feed_ok(&c, start_ct, sizeof(start_ct), &s);
    assert_int_equal(fs_feed(&c, empty_then_x, sizeof(empty_then_x), on_sink,
                             &s),
                     FS_ERR_ESCAPE);
    assert_int_equal(s.n, 0);
    fs_close(&c);

    assert_int_equal(fs_init(&c, MAXF), FS_OK);
    feed_ok(&c, start_ct, sizeof(start_ct), &s);
    assert_int_equal(fs_feed(&c, empty_then_big, sizeof(empty_then_big),
                             on_sink, &s),
                     FS_ERR_CONTROL_SIZE);
    assert_int_equal(s.n, 0);
    fs_close(&c);
}

/* Empty feeds, including a NULL pointer, change nothing; a failed
 * connection stays failed; fs_init resets everything. */
static void test_edges(void **state)
{
    struct fs_conn c;
    struct sink s = {0};

    assert_int_equal(fs_init(&c, MAXF), FS_OK);
    assert_int_equal(c.state, FS_WAIT_START);
    assert_int_equal(fs_feed(&c, NULL, 0, on_sink, &s), FS_OK);
    assert_int_equal(c.state, FS_WAIT_START);
    feed_ok(&c, ready_one, sizeof(ready_one), &s);
    assert_int_equal(fs_feed(&c, NULL, 0, on_sink, &s), FS_OK);
    assert_int_equal(c.reply_len, sizeof(accept_ct));
    assert_int_equal(fs_feed(&c, data_x, sizeof(data_x), on_sink, &s),
                     FS_ERR_DATA_STATE);
    assert_int_equal(fs_feed(&c, NULL, 0, on_sink, &s), FS_ERR_UNEXPECTED);
    assert_int_equal(fs_feed(&c, start_ct, sizeof(start_ct), on_sink, &s),
                     FS_ERR_UNEXPECTED);
    assert_int_equal(c.state, FS_ERROR);
    fs_close(&c);

    /* Straddle a frame, then close with the buffer held: no leak. */
    assert_int_equal(fs_init(&c, MAXF), FS_OK);
    feed_ok(&c, start_none, sizeof(start_none), &s);
    feed_ok(&c, data_six, 7, &s);
    assert_non_null(c.buf);
    fs_close(&c);
    assert_null(c.buf);
    assert_int_equal(s.n, 0);

    /* max_frame 0: every data frame is oversize. */
    assert_int_equal(fs_init(&c, 0), FS_OK);
    feed_ok(&c, start_none, sizeof(start_none), &s);
    feed_ok(&c, data_x, sizeof(data_x), &s);
    feed_ok(&c, data_hello, sizeof(data_hello), &s);
    feed_ok(&c, stop, sizeof(stop), &s);
    assert_int_equal(c.oversize_frames, 2);
    assert_int_equal(s.n, 0);
    assert_int_equal(c.state, FS_DONE);
    fs_close(&c);
}

static void test_error_names(void **state)
{
    static const struct {
        int err;
        const char *name;
    } names[] = {
        {FS_OK, "ok"},
        {FS_ERR_ESCAPE, "bad_escape"},
        {FS_ERR_CONTROL_SIZE, "control_size"},
        {FS_ERR_CONTROL_DECODE, "control_decode"},
        {FS_ERR_CONTENT_TYPE, "content_type"},
        {FS_ERR_UNEXPECTED, "unexpected_control"},
        {FS_ERR_DATA_STATE, "data_before_start"},
        {FS_ERR_AFTER_DONE, "after_stop"},
        {FS_ERR_NOMEM, "nomem"},
        {1, "unknown"},
        {-FS_ERR_COUNT, "unknown"},
        {INT_MIN, "unknown"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_string_equal(fs_error_name(names[i].err), names[i].name);
}

/* ------------------------------------------------------------------ main */

int main(void)
{
    enum { N_CONTROL = sizeof(control_cases) / sizeof(control_cases[0]) };
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_control_bad_fixtures),
        cmocka_unit_test(test_in_place),
        cmocka_unit_test(test_split_headers),
        cmocka_unit_test(test_reply_roundtrip),
        cmocka_unit_test(test_oversize_4g),
        cmocka_unit_test(test_buffer_growth),
        cmocka_unit_test(test_many_frames),
        cmocka_unit_test(test_zero_length_data_frame),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_error_names),
    };
    enum { N_FIXED = sizeof(fixed) / sizeof(fixed[0]) };
    static struct CMUnitTest tests[N_CONTROL + N_SESSIONS + N_FIXED];
    static char names[N_CONTROL + N_SESSIONS][64];
    size_t n = 0;

    fill_big();
    for (size_t i = 0; i < N_CONTROL; i++, n++) {
        snprintf(names[n], sizeof(names[n]), "control/%s",
                 control_cases[i].name);
        tests[n] = (struct CMUnitTest){
            .name = names[n],
            .test_func = test_control_fixture,
            .initial_state = (void *)&control_cases[i],
        };
    }
    for (size_t i = 0; i < N_SESSIONS; i++, n++) {
        snprintf(names[n], sizeof(names[n]), "session/%s", sessions[i].name);
        tests[n] = (struct CMUnitTest){
            .name = names[n],
            .test_func = test_session,
            .initial_state = (void *)&sessions[i],
        };
    }
    for (size_t i = 0; i < N_FIXED; i++)
        tests[n++] = fixed[i];
    return _cmocka_run_group_tests("frame", tests, n, NULL, NULL);
}
