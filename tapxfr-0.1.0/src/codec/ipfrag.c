/* ipfrag.c: IP fragment reassembly. The contract is in ipfrag.h.
 *
 * Three pools, all indexed by uint32_t with NIL as the end of a list:
 * entries (one per datagram in progress or dead), fragment descriptors
 * (offset and length of each held fragment, in arrival order) and blocks
 * of IPFRAG_BLOCK bytes. A datagram's bytes are appended to its own chain
 * of blocks in the order its fragments came, so the chain is exactly
 * `held` bytes long and reassembly is one walk along the chain and the
 * descriptors together, copying each fragment to its offset. Freeing a
 * datagram splices its two chains onto the free lists in O(1).
 *
 * No overlap is ever stored, and every held fragment lies below a known
 * end, so a datagram is complete exactly when its end is known and the
 * bytes held plus the new fragment's equal it: no hole list is needed. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/ipfrag.h"
#include "codec/siphash.h"

#define NIL UINT32_MAX
#define KEY_LEN 40 /* family, proto, 2 zero, id, src, dst */

enum { E_FREE = 0, E_LIVE, E_DEAD };

struct ipfrag_frag {
    uint16_t off, len;
    uint32_t next;
};

struct ipfrag_entry {
    uint8_t key[KEY_LEN];
    int64_t first_ns;     /* packet time of the first fragment */
    uint32_t bucket;      /* so removal needs no rehash */
    uint32_t hnext;       /* bucket chain */
    uint32_t age_prev, age_next;   /* also the free list */
    uint32_t live_prev, live_next;
    uint32_t frag_head, frag_tail; /* arrival order */
    uint32_t blk_head, blk_tail;
    uint32_t held;        /* payload bytes held = length of the chain */
    uint32_t end;         /* datagram length, once has_end */
    uint32_t max_end;     /* highest end of a held fragment */
    uint8_t state;
    uint8_t has_end;
    uint8_t proto;        /* of the offset-0 fragment, once held */
};

/* ------------------------------------------------------------ hashing */

/* SipHash-1-3 of the 40-byte key: keyed, so that which keys share a
 * bucket depends on a secret and a sender cannot pile its fragments into
 * one chain. */
static uint64_t hash_key(const uint64_t seed[2], const uint8_t *key)
{
    return siphash13(seed, key, KEY_LEN);
}

/* Only the bytes that name the datagram: callers need not clear the
 * unused parts of the addresses, the high bits of an IPv4 id or the
 * protocol of an IPv6 key. */
static void make_key(const struct ipfrag_key *k, uint8_t *key)
{
    size_t alen = k->family == 4 ? 4 : 16;
    uint32_t id = k->family == 4 ? k->id & 0xffff : k->id;

    memset(key, 0, KEY_LEN);
    key[0] = k->family;
    key[1] = k->family == 4 ? k->proto : 0;
    key[4] = (uint8_t)(id >> 24);
    key[5] = (uint8_t)(id >> 16);
    key[6] = (uint8_t)(id >> 8);
    key[7] = (uint8_t)id;
    memcpy(key + 8, k->src, alen);
    memcpy(key + 24, k->dst, alen);
}

/* ------------------------------------------------------------ lists */

/* The age and live lists are the same doubly linked shape over different
 * link fields; offsets keep one implementation for both. */
#define AGE 0
#define LIVE 1

static uint32_t *link_prev(struct ipfrag_entry *e, int which)
{
    return which == AGE ? &e->age_prev : &e->live_prev;
}

static uint32_t *link_next(struct ipfrag_entry *e, int which)
{
    return which == AGE ? &e->age_next : &e->live_next;
}

static void list_push(struct ipfrag *t, int which, uint32_t i)
{
    uint32_t *head = which == AGE ? &t->age_head : &t->live_head;
    uint32_t *tail = which == AGE ? &t->age_tail : &t->live_tail;

    *link_prev(&t->entries[i], which) = *tail;
    *link_next(&t->entries[i], which) = NIL;
    if (*tail != NIL)
        *link_next(&t->entries[*tail], which) = i;
    else
        *head = i;
    *tail = i;
}

static void list_remove(struct ipfrag *t, int which, uint32_t i)
{
    uint32_t *head = which == AGE ? &t->age_head : &t->live_head;
    uint32_t *tail = which == AGE ? &t->age_tail : &t->live_tail;
    uint32_t p = *link_prev(&t->entries[i], which);
    uint32_t n = *link_next(&t->entries[i], which);

    if (p != NIL)
        *link_next(&t->entries[p], which) = n;
    else
        *head = n;
    if (n != NIL)
        *link_prev(&t->entries[n], which) = p;
    else
        *tail = p;
}

/* ------------------------------------------------------------ entries */

static uint32_t lookup(const struct ipfrag *t, const uint8_t *key,
                       uint32_t bucket)
{
    uint32_t i;

    for (i = t->buckets[bucket]; i != NIL; i = t->entries[i].hnext)
        if (memcmp(t->entries[i].key, key, KEY_LEN) == 0)
            return i;
    return NIL;
}

/* Gives the datagram's blocks and descriptors back and forgets its
 * bytes; both chains go onto the free lists whole. */
static void release(struct ipfrag *t, struct ipfrag_entry *e)
{
    if (e->blk_head != NIL) {
        t->block_next[e->blk_tail] = t->free_block;
        t->free_block = e->blk_head;
    }
    if (e->frag_head != NIL) {
        t->frags[e->frag_tail].next = t->free_frag;
        t->free_frag = e->frag_head;
    }
    e->blk_head = e->blk_tail = NIL;
    e->frag_head = e->frag_tail = NIL;
    t->stats.bytes -= e->held;
    e->held = 0;
}

static void entry_free(struct ipfrag *t, uint32_t i)
{
    struct ipfrag_entry *e = &t->entries[i];
    uint32_t *p = &t->buckets[e->bucket];

    while (*p != i)
        p = &t->entries[*p].hnext;
    *p = e->hnext;
    list_remove(t, AGE, i);
    if (e->state == E_LIVE)
        list_remove(t, LIVE, i);
    release(t, e);
    e->state = E_FREE;
    e->age_next = t->free_entry;
    t->free_entry = i;
    t->stats.datagrams--;
}

/* Kills a datagram (RFC 5722): its bytes go, its entry stays until the
 * timeout so that the rest of its fragments are recognised and dropped
 * instead of starting a datagram that could only end the same way. */
static void entry_kill(struct ipfrag *t, uint32_t i)
{
    struct ipfrag_entry *e = &t->entries[i];

    if (e->state == E_LIVE)
        list_remove(t, LIVE, i);
    release(t, e);
    e->state = E_DEAD;
}

static void evict(struct ipfrag *t, uint32_t i)
{
    entry_free(t, i);
    t->stats.evicted++;
}

/* A new live entry; when none is free the oldest entry of any kind goes,
 * dead ones included: a dead entry only saves work, a live one holds a
 * datagram that may still complete, but age is the rule that a sender
 * cannot steer. */
static uint32_t entry_new(struct ipfrag *t, const uint8_t *key,
                          uint32_t bucket, int64_t now_ns)
{
    struct ipfrag_entry *e;
    uint32_t i;

    if (t->free_entry == NIL)
        evict(t, t->age_head);
    i = t->free_entry;
    e = &t->entries[i];
    t->free_entry = e->age_next;
    memcpy(e->key, key, KEY_LEN);
    e->first_ns = now_ns;
    e->bucket = bucket;
    e->hnext = t->buckets[bucket];
    t->buckets[bucket] = i;
    e->frag_head = e->frag_tail = NIL;
    e->blk_head = e->blk_tail = NIL;
    e->held = e->end = e->max_end = 0;
    e->has_end = 0;
    e->proto = 0;
    e->state = E_LIVE;
    list_push(t, AGE, i);
    list_push(t, LIVE, i);
    t->stats.datagrams++;
    return i;
}

/* ------------------------------------------------------------ bytes */

/* Appends a descriptor and the bytes to the datagram's chains. The pools
 * are sized so that neither can be empty here (see ipfrag.h). */
static void store(struct ipfrag *t, struct ipfrag_entry *e, uint32_t off,
                  const uint8_t *data, size_t len)
{
    uint32_t f = t->free_frag;
    size_t fill = e->held % IPFRAG_BLOCK;

    t->free_frag = t->frags[f].next;
    t->frags[f].off = (uint16_t)off;
    t->frags[f].len = (uint16_t)len;
    t->frags[f].next = NIL;
    if (e->frag_tail != NIL)
        t->frags[e->frag_tail].next = f;
    else
        e->frag_head = f;
    e->frag_tail = f;

    while (len > 0) {
        size_t n;

        if (fill == 0) {
            uint32_t b = t->free_block;
            t->free_block = t->block_next[b];
            t->block_next[b] = NIL;
            if (e->blk_tail != NIL)
                t->block_next[e->blk_tail] = b;
            else
                e->blk_head = b;
            e->blk_tail = b;
        }
        n = IPFRAG_BLOCK - fill;
        if (n > len)
            n = len;
        memcpy(t->blocks + (size_t)e->blk_tail * IPFRAG_BLOCK + fill, data, n);
        data += n;
        len -= n;
        e->held += (uint32_t)n;
        t->stats.bytes += n;
        fill = (fill + n) % IPFRAG_BLOCK;
    }
}

/* Copies every held fragment to its offset in the output buffer, walking
 * the descriptors and the byte chain in step, then the completing
 * fragment, which is never stored. */
static void assemble(struct ipfrag *t, const struct ipfrag_entry *e,
                     uint32_t off, const uint8_t *data, size_t len)
{
    uint32_t f, b = e->blk_head;
    size_t pos = 0;

    for (f = e->frag_head; f != NIL; f = t->frags[f].next) {
        uint8_t *dst = t->out + t->frags[f].off;
        size_t left = t->frags[f].len;

        while (left > 0) {
            size_t n = IPFRAG_BLOCK - pos;
            if (n > left)
                n = left;
            memcpy(dst, t->blocks + (size_t)b * IPFRAG_BLOCK + pos, n);
            dst += n;
            left -= n;
            pos += n;
            if (pos == IPFRAG_BLOCK) {
                b = t->block_next[b];
                pos = 0;
            }
        }
    }
    if (len > 0)
        memcpy(t->out + off, data, len);
}

/* Evicts the oldest other datagrams until len more bytes fit. The caller
 * has checked that self's bytes plus len fit max_bytes, so the others
 * hold the excess and the loop ends. */
static void make_room(struct ipfrag *t, uint32_t self, size_t len)
{
    while (t->stats.bytes + len > t->conf.max_bytes) {
        uint32_t v = t->live_head;
        if (v == self)
            v = t->entries[self].live_next;
        evict(t, v);
    }
}

/* ------------------------------------------------------------ rules */

/* The verdict on a well-formed fragment [off, end) against what its live
 * datagram e holds (e NULL: a new datagram). */
static int check(const struct ipfrag *t, const struct ipfrag_entry *e,
                 uint32_t off, uint32_t end, int more)
{
    uint32_t f;

    if (e == NULL)
        return end - off > t->conf.max_bytes ? IPFRAG_NO_ROOM : IPFRAG_HELD;
    if (!more) {
        if ((e->has_end && end != e->end) || end < e->max_end)
            return IPFRAG_INVALID;
    } else if (e->has_end && end > e->end) {
        return IPFRAG_INVALID;
    }
    for (f = e->frag_head; f != NIL; f = t->frags[f].next) {
        uint32_t fo = t->frags[f].off, fe = fo + t->frags[f].len;
        if (fo == off && fe == end)
            return IPFRAG_DUPLICATE;
        if (off < fe && fo < end)
            return IPFRAG_OVERLAP;
    }
    if ((size_t)e->held + (end - off) > t->conf.max_bytes)
        return IPFRAG_NO_ROOM;
    return IPFRAG_HELD;
}

/* The checks that need no state: the payload limit, then the shape. */
static int check_shape(const struct ipfrag_key *k, uint32_t offset, int more,
                       size_t len)
{
    size_t limit = k->family == 4 ? IPFRAG_MAX_LEN_V4 : IPFRAG_MAX_LEN;

    if (len > limit || offset > limit - len)
        return IPFRAG_TOO_BIG;
    if (offset % 8 != 0 || (more && (len == 0 || len % 8 != 0)))
        return IPFRAG_INVALID;
    return IPFRAG_HELD;
}

static int count(struct ipfrag *t, int reason)
{
    switch (reason) {
    case IPFRAG_DUPLICATE: t->stats.duplicates++; break;
    case IPFRAG_OVERLAP: t->stats.overlapping++; break;
    case IPFRAG_INVALID: t->stats.invalid++; break;
    case IPFRAG_TOO_BIG: t->stats.too_big++; break;
    case IPFRAG_NO_ROOM: t->stats.no_room++; break;
    case IPFRAG_DEAD: t->stats.dropped_dead++; break;
    default: break;
    }
    return reason;
}

/* ------------------------------------------------------------ API */

int ipfrag_add(struct ipfrag *t, const struct ipfrag_key *k, uint32_t offset,
               int more, uint8_t proto, const uint8_t *data, size_t len,
               int64_t now_ns, struct ipfrag_out *out)
{
    uint8_t key[KEY_LEN];
    struct ipfrag_entry *e = NULL;
    uint32_t bucket, i, end;
    int rc;

    t->stats.fragments++;
    ipfrag_expire(t, now_ns);
    if (k->family != 4 && k->family != 6)
        return count(t, IPFRAG_INVALID);
    rc = check_shape(k, offset, more, len);
    /* Atomic: a whole datagram that only looks like a fragment; it is
     * nobody's fragment, so a datagram with its key is left alone. */
    if (offset == 0 && !more) {
        if (rc < 0)
            return count(t, rc);
        out->data = data;
        out->len = len;
        out->proto = proto;
        t->stats.atomic++;
        return IPFRAG_DONE;
    }
    make_key(k, key);
    bucket = (uint32_t)(hash_key(t->conf.seed, key) & (t->nbuckets - 1));
    i = lookup(t, key, bucket);
    if (i != NIL) {
        e = &t->entries[i];
        if (e->state == E_DEAD)
            return count(t, IPFRAG_DEAD);
    }
    end = offset + (uint32_t)len; /* no overflow: check_shape bounds both */
    if (rc == IPFRAG_HELD)
        rc = check(t, e, offset, end, more);
    if (rc == IPFRAG_DUPLICATE)
        return count(t, rc);
    if (i == NIL)
        i = entry_new(t, key, bucket, now_ns);
    e = &t->entries[i];
    if (rc < 0) {
        entry_kill(t, i);
        return count(t, rc);
    }
    if (!more) {
        e->has_end = 1;
        e->end = end;
    }
    if (offset == 0)
        e->proto = proto;
    if (e->has_end && e->held + len == e->end) {
        assemble(t, e, offset, data, len);
        out->data = t->out;
        out->len = e->end;
        out->proto = e->proto;
        entry_free(t, i);
        t->stats.reassembled++;
        return IPFRAG_DONE;
    }
    make_room(t, i, len);
    store(t, e, offset, data, len);
    if (end > e->max_end)
        e->max_end = end;
    return IPFRAG_HELD;
}

static int expired(const struct ipfrag *t, const struct ipfrag_entry *e,
                   int64_t now_ns)
{
    /* As unsigned the difference is exact whenever now_ns > first_ns. */
    return now_ns > e->first_ns &&
           (uint64_t)now_ns - (uint64_t)e->first_ns > t->conf.timeout_ns;
}

void ipfrag_expire(struct ipfrag *t, int64_t now_ns)
{
    while (t->age_head != NIL && expired(t, &t->entries[t->age_head], now_ns)) {
        entry_free(t, t->age_head);
        t->stats.timed_out++;
    }
}

const struct ipfrag_stats *ipfrag_stats(const struct ipfrag *t)
{
    return &t->stats;
}

const char *ipfrag_reason_name(int reason)
{
    static const char *const names[IPFRAG_REASON_COUNT + 1] = {
        "done",    "held",    "duplicate", "overlap",
        "invalid", "too_big", "no_room",   "dead",
    };

    if (reason > IPFRAG_DONE || reason <= -IPFRAG_REASON_COUNT)
        return "unknown";
    return names[IPFRAG_DONE - reason];
}

/* ------------------------------------------------------------ lifecycle */

struct sizes {
    uint32_t nbuckets, nblocks, nfrags;
    size_t total;
};

/* The pool sizes that make the bounds in ipfrag.h hold: one partial block
 * and one last fragment per datagram beyond what max_bytes pays for. */
static int plan(const struct ipfrag_conf *c, struct sizes *s)
{
    uint64_t total;

    if (c->max_datagrams < 1 || c->max_datagrams > IPFRAG_MAX_DATAGRAMS ||
        c->max_bytes < 1 || c->max_bytes > IPFRAG_MAX_BYTES)
        return -EINVAL;
    s->nbuckets = 1;
    while (s->nbuckets < 2 * c->max_datagrams)
        s->nbuckets *= 2;
    s->nblocks = (uint32_t)(c->max_bytes / IPFRAG_BLOCK + c->max_datagrams);
    s->nfrags = (uint32_t)(c->max_bytes / 8 + c->max_datagrams);
    total = (uint64_t)c->max_datagrams * sizeof(struct ipfrag_entry) +
            (uint64_t)s->nbuckets * sizeof(uint32_t) +
            (uint64_t)s->nblocks * (IPFRAG_BLOCK + sizeof(uint32_t)) +
            (uint64_t)s->nfrags * sizeof(struct ipfrag_frag) + IPFRAG_MAX_LEN;
    if (total > SIZE_MAX)
        return -ENOMEM;
    s->total = (size_t)total;
    return 0;
}

size_t ipfrag_memory(const struct ipfrag_conf *c)
{
    struct sizes s;

    return plan(c, &s) == 0 ? s.total : 0;
}

/* Threads every element of each pool onto its free list. */
static void init_lists(struct ipfrag *t)
{
    uint32_t i;

    for (i = 0; i < t->nbuckets; i++)
        t->buckets[i] = NIL;
    for (i = 0; i < t->conf.max_datagrams; i++) {
        t->entries[i].state = E_FREE;
        t->entries[i].age_next = i + 1 < t->conf.max_datagrams ? i + 1 : NIL;
    }
    for (i = 0; i < t->nblocks; i++)
        t->block_next[i] = i + 1 < t->nblocks ? i + 1 : NIL;
    for (i = 0; i < t->nfrags; i++)
        t->frags[i].next = i + 1 < t->nfrags ? i + 1 : NIL;
    t->free_entry = 0;
    t->free_block = 0;
    t->free_frag = 0;
    t->age_head = t->age_tail = NIL;
    t->live_head = t->live_tail = NIL;
}

int ipfrag_init(struct ipfrag *t, const struct ipfrag_conf *c)
{
    struct sizes s;
    int rc;

    memset(t, 0, sizeof(*t));
    rc = plan(c, &s);
    if (rc < 0)
        return rc;
    t->conf = *c;
    if (t->conf.timeout_ns == 0)
        t->conf.timeout_ns = IPFRAG_TIMEOUT_NS;
    if (t->conf.seed[0] == 0 && t->conf.seed[1] == 0 &&
        getentropy(t->conf.seed, sizeof(t->conf.seed)) < 0)
        return -errno;
    t->nbuckets = s.nbuckets;
    t->nblocks = s.nblocks;
    t->nfrags = s.nfrags;
    t->entries = calloc(c->max_datagrams, sizeof(*t->entries));
    t->buckets = calloc(s.nbuckets, sizeof(*t->buckets));
    t->blocks = malloc((size_t)s.nblocks * IPFRAG_BLOCK);
    t->block_next = calloc(s.nblocks, sizeof(*t->block_next));
    t->frags = calloc(s.nfrags, sizeof(*t->frags));
    t->out = malloc(IPFRAG_MAX_LEN);
    if (!t->entries || !t->buckets || !t->blocks || !t->block_next ||
        !t->frags || !t->out) {
        ipfrag_close(t);
        return -ENOMEM;
    }
    init_lists(t);
    return 0;
}

void ipfrag_close(struct ipfrag *t)
{
    free(t->entries);
    free(t->buckets);
    free(t->blocks);
    free(t->block_next);
    free(t->frags);
    free(t->out);
    memset(t, 0, sizeof(*t));
}
