/* bailiwick.c: query_zone checks and the bailiwick scrub (the contract is
 * in bailiwick.h). */
#include "config.h"

#include "codec/bailiwick.h"

#include <string.h>

/* Compression pointers have 14 bits of offset. */
#define PTR_MAX 0x3fff
/* Names written and remembered for compression. Past this many labels
 * the rest of a message is written with the suffixes already known, which
 * is still valid, only longer; the table stays small enough for the
 * stack. */
#define COMP_ENTRIES 512
#define COMP_SLOTS 1024 /* a power of two, above COMP_ENTRIES */
/* A name of BW_NAME_MAX octets has at most 127 labels besides the root. */
#define LABELS_MAX 128

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* RFC 4343: only ASCII letters fold; other octets compare as they are. */
static uint8_t fold(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The number of labels (the root not counted) of the uncompressed name
 * that is exactly name[0..len), or -1 when it is not one. */
static int count_labels(const uint8_t *name, size_t len)
{
    size_t pos = 0;
    int n = 0;

    if (len == 0 || len > BW_NAME_MAX)
        return -1;
    while (pos < len) {
        uint8_t c = name[pos];

        if (c & 0xc0)
            return -1;
        if (c == 0)
            return pos + 1 == len ? n : -1;
        pos += 1u + c;
        n++;
    }
    return -1;
}

/* Both names valid, with nl and zl labels. Once the name's extra labels
 * are skipped, the two tails have as many labels; if they are as long,
 * comparing them octet by octet compares the length octets in step (no
 * length octet, at most 63, is a letter that folds). */
static int below(const uint8_t *name, size_t len, int nl,
                 const uint8_t *zone, size_t zlen, int zl)
{
    size_t p = 0;

    if (zl > nl)
        return 0;
    for (int i = 0; i < nl - zl; i++)
        p += 1u + name[p];
    if (len - p != zlen)
        return 0;
    for (size_t i = 0; i < zlen; i++)
        if (fold(name[p + i]) != fold(zone[i]))
            return 0;
    return 1;
}

int bw_in_zone(const uint8_t *name, size_t len, const uint8_t *zone,
               size_t zlen)
{
    int zl = count_labels(zone, zlen);
    int nl;

    if (zl < 0)
        return BW_NO_ZONE;
    nl = count_labels(name, len);
    if (nl < 0)
        return BW_MALFORMED;
    return below(name, len, nl, zone, zlen, zl);
}

/* Decompresses the name at off of msg[0..len) into out, with the pointer
 * rules of dnsprint_name(), so that the collector's walker accepts what
 * this file accepts and writes. *next is just past the name where it
 * starts (past its first pointer). */
static int read_name(const uint8_t *msg, size_t len, size_t off,
                     uint8_t out[BW_NAME_MAX], size_t *out_len, size_t *next)
{
    size_t pos = off, n = 0, after = 0;
    unsigned hops = 0;

    for (;;) {
        uint8_t c;

        if (pos >= len)
            return BW_MALFORMED;
        c = msg[pos];
        if ((c & 0xc0) == 0xc0) {
            size_t target;

            if (len - pos < 2)
                return BW_MALFORMED;
            target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
            /* Backward only: every chain then ends; the hop limit only
             * bounds the work. */
            if (target >= pos || target < BW_HEADER_LEN ||
                ++hops > BW_MAX_HOPS)
                return BW_MALFORMED;
            if (after == 0)
                after = pos + 2;
            pos = target;
            continue;
        }
        if ((c & 0xc0) || n + 1u + c > BW_NAME_MAX || len - pos - 1 < c)
            return BW_MALFORMED;
        memcpy(out + n, msg + pos, 1u + c);
        n += 1u + c;
        if (c == 0)
            break;
        pos += 1u + c;
    }
    *out_len = n;
    *next = after ? after : pos + 1;
    return BW_OK;
}

/* The RDATA of the RFC 1035 types, as fields: a name, or that many fixed
 * octets; 0 ends. */
#define F_NAME (-1)
static const struct layout {
    uint16_t type;
    int8_t f[3];
} layouts[] = {
    {2, {F_NAME, 0, 0}},       /* NS */
    {3, {F_NAME, 0, 0}},       /* MD */
    {4, {F_NAME, 0, 0}},       /* MF */
    {5, {F_NAME, 0, 0}},       /* CNAME */
    {6, {F_NAME, F_NAME, 20}}, /* SOA: mname rname, 5 numbers */
    {7, {F_NAME, 0, 0}},       /* MB */
    {8, {F_NAME, 0, 0}},       /* MG */
    {9, {F_NAME, 0, 0}},       /* MR */
    {12, {F_NAME, 0, 0}},      /* PTR */
    {14, {F_NAME, F_NAME, 0}}, /* MINFO: rmailbx emailbx */
    {15, {2, F_NAME, 0}},      /* MX: preference exchange */
};

static const struct layout *layout_of(uint16_t type)
{
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
        if (layouts[i].type == type)
            return &layouts[i];
    return NULL;
}

/* Expands the RDATA msg[off..off + n) of a type with names. The names
 * are read with the RDATA's end as the message's end, as dnsprint_rdata()
 * does: labels must stay inside it, pointers go backwards anyway. */
static int expand_rdata(const uint8_t *msg, size_t off, size_t n,
                        const struct layout *lay, struct bw_rr *rr)
{
    size_t pos = off, end = off + n, used = 0;

    for (int i = 0; i < 3 && lay->f[i] != 0; i++) {
        if (lay->f[i] == F_NAME) {
            size_t nl;

            if (read_name(msg, end, pos, rr->rdata + used, &nl, &pos) < 0)
                return BW_MALFORMED;
            used += nl;
        } else {
            size_t k = (size_t)lay->f[i];

            if (end - pos < k)
                return BW_MALFORMED;
            memcpy(rr->rdata + used, msg + pos, k);
            used += k;
            pos += k;
        }
    }
    if (pos != end)
        return BW_MALFORMED;
    rr->rdata_len = used;
    rr->expanded = 1;
    return BW_OK;
}

int bw_reader_init(struct bw_reader *r, const uint8_t *msg, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->msg = msg;
    r->len = len;
    if (len < BW_HEADER_LEN || len > BW_MSG_MAX) {
        r->err = BW_MALFORMED;
        return r->err;
    }
    r->id = rd16(msg);
    r->flags = rd16(msg + 2);
    for (int i = 0; i < 4; i++)
        r->count[i] = rd16(msg + 4 + 2 * i);
    r->pos = BW_HEADER_LEN;
    r->left = r->count[0];
    return BW_OK;
}

static int read_record(struct bw_reader *r, struct bw_rr *rr)
{
    const uint8_t *msg = r->msg;
    size_t len = r->len, pos = r->pos, rdlen;
    const struct layout *lay;

    rr->section = r->section;
    if (read_name(msg, len, pos, rr->owner, &rr->owner_len, &pos) < 0)
        return BW_MALFORMED;
    if (len - pos < (r->section == BW_QUESTION ? 4u : 10u))
        return BW_MALFORMED;
    rr->type = rd16(msg + pos);
    rr->cls = rd16(msg + pos + 2);
    rr->ttl = 0;
    rr->raw = NULL;
    rr->raw_len = 0;
    rr->expanded = 0;
    rr->rdata_len = 0;
    if (r->section == BW_QUESTION) {
        r->pos = pos + 4;
        return BW_OK;
    }
    rr->ttl = rd32(msg + pos + 4);
    rdlen = rd16(msg + pos + 8);
    pos += 10;
    if (len - pos < rdlen)
        return BW_MALFORMED;
    rr->raw = msg + pos;
    rr->raw_len = rdlen;
    /* An empty RDATA is RFC 2136's "any": nothing to expand. */
    lay = layout_of(rr->type);
    if (lay && rdlen > 0 && expand_rdata(msg, pos, rdlen, lay, rr) < 0)
        return BW_MALFORMED;
    r->pos = pos + rdlen;
    return BW_OK;
}

int bw_reader_next(struct bw_reader *r, struct bw_rr *rr)
{
    int rc;

    if (r->err)
        return r->err;
    while (r->section < 4 && r->left == 0)
        if (++r->section < 4)
            r->left = r->count[r->section];
    if (r->section == 4) {
        if (r->pos != r->len)
            r->err = BW_MALFORMED;
        return r->err;
    }
    rc = read_record(r, rr);
    if (rc < 0) {
        r->err = rc;
        return rc;
    }
    r->left--;
    return 1;
}

int bw_qname(const uint8_t *msg, size_t len, uint8_t name[BW_NAME_MAX],
             size_t *name_len)
{
    struct bw_reader r;
    size_t pos;

    if (bw_reader_init(&r, msg, len) < 0)
        return BW_MALFORMED;
    if (r.count[0] == 0)
        return BW_NO_QUESTION;
    if (read_name(msg, len, r.pos, name, name_len, &pos) < 0 ||
        len - pos < 4)
        return BW_MALFORMED;
    return BW_OK;
}

int bw_check(const uint8_t *msg, size_t len, const uint8_t *zone,
             size_t zlen)
{
    uint8_t name[BW_NAME_MAX];
    size_t n;
    int zl = count_labels(zone, zlen);
    int rc;

    if (zl < 0)
        return BW_NO_ZONE;
    rc = bw_qname(msg, len, name, &n);
    if (rc < 0)
        return rc;
    return below(name, n, count_labels(name, n), zone, zlen, zl) ? BW_OK
                                                                 : BW_OUT;
}

/* ---- writing ---- */

/* The output, with a sticky error checked once at the end (Knot's
 * wire_ctx), and the compression table: each entry is a label written
 * literally at out[off], whose name goes on with the entry parent (-1 for
 * the root). Looking a name up label by label from the right over
 * (parent, label) finds its longest suffix already written, and only
 * exact octets match, so decompressing gives back the octets the input
 * had, case included. */
struct writer {
    uint8_t *out;
    size_t cap, pos;
    int err;
    unsigned n;
    uint16_t off[COMP_ENTRIES];
    int16_t parent[COMP_ENTRIES];
    uint16_t slot[COMP_SLOTS]; /* entry + 1; 0 is free */
};

static void put(struct writer *w, const void *p, size_t n)
{
    if (w->err)
        return;
    if (w->cap - w->pos < n) {
        w->err = BW_TOO_BIG;
        return;
    }
    memcpy(w->out + w->pos, p, n);
    w->pos += n;
}

static void put16(struct writer *w, unsigned v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

    put(w, b, 2);
}

/* FNV-1a over the parent and the label with its length octet. */
static size_t comp_slot(int parent, const uint8_t *label)
{
    uint32_t h = 0x811c9dc5u;
    unsigned p = (unsigned)(parent + 1);

    h = (h ^ (p & 0xff)) * 0x01000193u;
    h = (h ^ (p >> 8)) * 0x01000193u;
    for (unsigned i = 0; i <= label[0]; i++)
        h = (h ^ label[i]) * 0x01000193u;
    return h & (COMP_SLOTS - 1);
}

static int comp_find(const struct writer *w, int parent, const uint8_t *label)
{
    for (size_t i = comp_slot(parent, label); w->slot[i];
         i = (i + 1) & (COMP_SLOTS - 1)) {
        unsigned e = w->slot[i] - 1u;

        if (w->parent[e] == parent &&
            memcmp(w->out + w->off[e], label, 1u + label[0]) == 0)
            return (int)e;
    }
    return -1;
}

/* Remembers the label just written at out[off]; -1 when it cannot be
 * (table full, or beyond a pointer's reach). */
static int comp_add(struct writer *w, int parent, size_t off)
{
    size_t i;

    if (w->n >= COMP_ENTRIES || off > PTR_MAX)
        return -1;
    for (i = comp_slot(parent, w->out + off); w->slot[i];
         i = (i + 1) & (COMP_SLOTS - 1))
        ;
    w->off[w->n] = (uint16_t)off;
    w->parent[w->n] = (int16_t)parent;
    w->slot[i] = (uint16_t)(++w->n);
    return (int)(w->n - 1);
}

/* Writes a valid uncompressed name: the labels left of its longest
 * suffix already written, then a pointer to that suffix (or the root
 * octet), and remembers the new labels. Returns the name's length. */
static size_t put_name(struct writer *w, const uint8_t *name)
{
    size_t start[LABELS_MAX], at[LABELS_MAX], p;
    unsigned k = 0, lit;
    int cur = -1;

    for (p = 0; name[p] != 0; p += 1u + name[p])
        start[k++] = p;
    for (lit = k; lit > 0; lit--) {
        int e = comp_find(w, cur, name + start[lit - 1]);

        if (e < 0)
            break;
        cur = e;
    }
    for (unsigned i = 0; i < lit; i++) {
        at[i] = w->pos;
        put(w, name + start[i], 1u + name[start[i]]);
    }
    if (cur >= 0)
        put16(w, 0xc000u | w->off[cur]);
    else
        put(w, "", 1);
    /* Right to left, each label's parent is the one after it; once one
     * cannot be remembered neither can those before it. */
    for (unsigned i = lit; i-- > 0 && !w->err;) {
        cur = comp_add(w, cur, at[i]);
        if (cur < 0)
            break;
    }
    return p + 1;
}

static void put_rdata(struct writer *w, const struct bw_rr *rr)
{
    const struct layout *lay;
    size_t pos = 0;

    if (!rr->expanded) {
        put(w, rr->raw, rr->raw_len);
        return;
    }
    lay = layout_of(rr->type);
    for (int i = 0; i < 3 && lay->f[i] != 0; i++) {
        if (lay->f[i] == F_NAME) {
            pos += put_name(w, rr->rdata + pos);
        } else {
            put(w, rr->rdata + pos, (size_t)lay->f[i]);
            pos += (size_t)lay->f[i];
        }
    }
}

static void put_record(struct writer *w, const struct bw_rr *rr)
{
    uint8_t ttl[4] = { (uint8_t)(rr->ttl >> 24), (uint8_t)(rr->ttl >> 16),
                       (uint8_t)(rr->ttl >> 8), (uint8_t)rr->ttl };
    size_t lenpos, n;

    put_name(w, rr->owner);
    put16(w, rr->type);
    put16(w, rr->cls);
    if (rr->section == BW_QUESTION)
        return;
    put(w, ttl, 4);
    lenpos = w->pos;
    put16(w, 0);
    put_rdata(w, rr);
    if (w->err)
        return;
    /* At most BW_MSG_MAX in all, so the length fits. */
    n = w->pos - lenpos - 2;
    w->out[lenpos] = (uint8_t)(n >> 8);
    w->out[lenpos + 1] = (uint8_t)n;
}

static int keep(const struct bw_rr *rr, const uint8_t *zone, size_t zlen,
                int zl)
{
    if (rr->section == BW_QUESTION || rr->type == BW_TYPE_OPT ||
        rr->type == BW_TYPE_TSIG)
        return 1;
    return below(rr->owner, rr->owner_len,
                 count_labels(rr->owner, rr->owner_len), zone, zlen, zl);
}

int bw_scrub(const uint8_t *msg, size_t len, const uint8_t *zone,
             size_t zlen, uint8_t *out, size_t cap, size_t *out_len,
             struct bw_scrub *st)
{
    static const uint8_t zero_counts[8];
    struct writer w;
    struct bw_reader r;
    struct bw_rr rr;
    struct bw_scrub s;
    unsigned kept[4] = { 0, 0, 0, 0 };
    int zl = count_labels(zone, zlen);
    int rc;

    *out_len = 0;
    memset(&s, 0, sizeof(s));
    if (st)
        *st = s;
    if (zl < 0)
        return BW_NO_ZONE;
    if (bw_reader_init(&r, msg, len) < 0)
        return BW_MALFORMED;
    w.out = out;
    w.cap = cap < BW_MSG_MAX ? cap : BW_MSG_MAX;
    w.pos = 0;
    w.err = 0;
    w.n = 0;
    memset(w.slot, 0, sizeof(w.slot));
    put16(&w, r.id);
    put16(&w, r.flags);
    put(&w, zero_counts, sizeof(zero_counts)); /* set once known */
    /* A full output does not stop the reading: a malformed message is
     * reported as such whatever the buffer's size. */
    while ((rc = bw_reader_next(&r, &rr)) == 1) {
        if (!keep(&rr, zone, zlen, zl)) {
            s.removed[rr.section - 1]++;
            continue;
        }
        put_record(&w, &rr);
        kept[rr.section]++;
        s.kept += rr.section != BW_QUESTION;
    }
    if (rc < 0)
        return rc;
    if (w.err)
        return w.err;
    for (int i = 0; i < 4; i++) {
        out[4 + 2 * i] = (uint8_t)(kept[i] >> 8);
        out[5 + 2 * i] = (uint8_t)kept[i];
    }
    *out_len = w.pos;
    if (st)
        *st = s;
    return BW_OK;
}

const char *bw_result_name(int rc)
{
    switch (rc) {
    case BW_OK: return "ok";
    case BW_OUT: return "out_of_bailiwick";
    case BW_MALFORMED: return "malformed";
    case BW_TOO_BIG: return "too_big";
    case BW_NO_ZONE: return "no_zone";
    case BW_NO_QUESTION: return "no_question";
    default: return "unknown";
    }
}
