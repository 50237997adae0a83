/* match.c: DNS query/response matching. The contract is in match.h.
 *
 * One pool of entries indexed by uint32_t with NIL as the end of a list.
 * An entry is on exactly one list through the same two links: the free
 * list, the outstanding list (in query order) or the answered list (in
 * response order), and, unless free, on one bucket chain. The hash covers
 * the key alone, not the question, so that a question-less error
 * response finds its query; the question is compared after the key.
 * Names are stored lowercased, so a comparison lowercases one side only;
 * label length bytes (0 to 63) lie below 'A', so lowercasing the whole
 * wire name byte by byte never changes one. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/dns.h"
#include "codec/match.h"
#include "codec/siphash.h"

#define NIL UINT32_MAX
#define KEY_LEN 40 /* family, transport, id, ports, client, server */
#define DNS_RCODE(flags) ((flags) & 0x000f)

enum { E_FREE = 0, E_OUTSTANDING, E_ANSWERED };

struct match_entry {
    uint8_t key[KEY_LEN];
    int64_t query_ns;            /* packet time of the query */
    int64_t answer_ns;           /* of the first response, once answered */
    uint32_t bucket, hnext;      /* bucket chain; bucket saves a rehash */
    uint32_t prev, next;         /* the one list the entry is on */
    uint32_t query_len;          /* bytes in the slot */
    uint16_t qtype, qclass;
    uint8_t state;
    uint8_t has_question;
    uint8_t truncated;
    uint8_t qname_len;           /* wire length, 1 .. 255, if has_question */
    uint8_t qname[MATCH_MAX_NAME];
};

/* The first question of a message, pointing into it. */
struct question {
    const uint8_t *name;
    size_t name_len;
    uint16_t type, qclass;
    int present;
};

static uint8_t lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* ------------------------------------------------------------ parsing */

/* Reads the header and the first question. Only label types 0 are
 * allowed: a compression pointer in the first name could only point into
 * that name itself. Returns 0 or MATCH_BAD. */
static int parse(const uint8_t *msg, size_t len, struct dns_header *h,
                 struct question *q)
{
    size_t pos = DNS_HEADER_LEN;

    if (dns_header_read(msg, len, h) < 0)
        return MATCH_BAD;
    memset(q, 0, sizeof(*q));
    if (h->qdcount == 0)
        return 0;
    for (;;) {
        uint8_t l;

        if (pos >= len)
            return MATCH_BAD;
        l = msg[pos];
        if (l > 63)
            return MATCH_BAD;
        pos += 1 + (size_t)l;
        if (pos - DNS_HEADER_LEN > MATCH_MAX_NAME)
            return MATCH_BAD;
        if (l == 0)
            break;
    }
    if (len - pos < 4)
        return MATCH_BAD;
    q->name = msg + DNS_HEADER_LEN;
    q->name_len = pos - DNS_HEADER_LEN;
    q->type = (uint16_t)(msg[pos] << 8 | msg[pos + 1]);
    q->qclass = (uint16_t)(msg[pos + 2] << 8 | msg[pos + 3]);
    q->present = 1;
    return 0;
}

static int same_question(const struct match_entry *e, const struct question *q)
{
    size_t i;

    if (!e->has_question || e->qname_len != q->name_len ||
        e->qtype != q->type || e->qclass != q->qclass)
        return 0;
    for (i = 0; i < q->name_len; i++)
        if (e->qname[i] != lower(q->name[i]))
            return 0;
    return 1;
}

/* Whether a response with question q and flags answers entry e (whose
 * key is the response's). */
static int answers(const struct match_entry *e, const struct question *q,
                   uint16_t flags)
{
    if (q->present)
        return same_question(e, q);
    switch (DNS_RCODE(flags)) {
    case 1: /* FORMERR */
    case 2: /* SERVFAIL */
    case 4: /* NOTIMP */
    case 5: /* REFUSED */
        return 1;
    default:
        return !e->has_question;
    }
}

/* ------------------------------------------------------------ keys */

static int valid_endpoints(const struct match_endpoint *a,
                           const struct match_endpoint *b, int transport)
{
    return (a->family == 4 || a->family == 6) && b->family == a->family &&
           (transport == MATCH_UDP || transport == MATCH_TCP);
}

/* Only the bytes that name the flow: callers need not clear the unused
 * part of an IPv4 address. */
static void make_key(const struct match_endpoint *client,
                     const struct match_endpoint *server, int transport,
                     uint16_t id, uint8_t *key)
{
    size_t alen = client->family == 4 ? 4 : 16;

    memset(key, 0, KEY_LEN);
    key[0] = client->family;
    key[1] = (uint8_t)transport;
    key[2] = (uint8_t)(id >> 8);
    key[3] = (uint8_t)id;
    key[4] = (uint8_t)(client->port >> 8);
    key[5] = (uint8_t)client->port;
    key[6] = (uint8_t)(server->port >> 8);
    key[7] = (uint8_t)server->port;
    memcpy(key + 8, client->addr, alen);
    memcpy(key + 24, server->addr, alen);
}

static uint32_t bucket_of(const struct match *m, const uint8_t *key)
{
    return (uint32_t)(siphash13(m->conf.seed, key, KEY_LEN) &
                      (m->nbuckets - 1));
}

static uint32_t lookup(const struct match *m, const uint8_t *key,
                       uint32_t bucket)
{
    uint32_t i;

    for (i = m->buckets[bucket]; i != NIL; i = m->entries[i].hnext)
        if (memcmp(m->entries[i].key, key, KEY_LEN) == 0)
            return i;
    return NIL;
}

/* ------------------------------------------------------------ lists */

static void list_push(struct match *m, uint32_t *head, uint32_t *tail,
                      uint32_t i)
{
    m->entries[i].prev = *tail;
    m->entries[i].next = NIL;
    if (*tail != NIL)
        m->entries[*tail].next = i;
    else
        *head = i;
    *tail = i;
}

static void list_remove(struct match *m, uint32_t *head, uint32_t *tail,
                        uint32_t i)
{
    uint32_t p = m->entries[i].prev, n = m->entries[i].next;

    if (p != NIL)
        m->entries[p].next = n;
    else
        *head = n;
    if (n != NIL)
        m->entries[n].prev = p;
    else
        *tail = p;
}

/* ------------------------------------------------------------ entries */

/* Takes an entry off its bucket and its list onto the free list; the
 * caller counts why. */
static void entry_free(struct match *m, uint32_t i)
{
    struct match_entry *e = &m->entries[i];
    uint32_t *p = &m->buckets[e->bucket];

    while (*p != i)
        p = &m->entries[*p].hnext;
    *p = e->hnext;
    if (e->state == E_OUTSTANDING) {
        list_remove(m, &m->out_head, &m->out_tail, i);
        m->stats.outstanding--;
    } else {
        list_remove(m, &m->ans_head, &m->ans_tail, i);
        m->stats.answered--;
    }
    e->state = E_FREE;
    e->next = m->free_entry;
    m->free_entry = i;
}

/* A free entry, making one when there is none: an answered entry only
 * tells duplicates apart, an outstanding one may still be answered, so
 * the oldest answered goes first. */
static uint32_t entry_take(struct match *m)
{
    uint32_t i;

    if (m->free_entry == NIL) {
        if (m->ans_head != NIL) {
            entry_free(m, m->ans_head);
            m->stats.forgotten++;
        } else {
            entry_free(m, m->out_head);
            m->stats.evicted++;
        }
    }
    i = m->free_entry;
    m->free_entry = m->entries[i].next;
    return i;
}

static void entry_fill(struct match *m, uint32_t i, const struct question *q,
                       const uint8_t *msg, size_t len, int64_t now_ns)
{
    struct match_entry *e = &m->entries[i];
    size_t n = len < m->conf.max_query_bytes ? len : m->conf.max_query_bytes;

    e->query_ns = now_ns;
    e->answer_ns = 0;
    e->has_question = (uint8_t)q->present;
    e->qname_len = (uint8_t)q->name_len;
    e->qtype = q->type;
    e->qclass = q->qclass;
    for (size_t k = 0; k < q->name_len; k++)
        e->qname[k] = lower(q->name[k]);
    e->query_len = (uint32_t)n;
    e->truncated = n < len;
    if (n > 0)
        memcpy(m->slots + (size_t)i * m->conf.max_query_bytes, msg, n);
    if (e->truncated)
        m->stats.truncated++;
}

static void fill_info(const struct match *m, uint32_t i,
                      struct match_info *info)
{
    const struct match_entry *e = &m->entries[i];

    info->query_ns = e->query_ns;
    info->query = m->conf.max_query_bytes > 0
                      ? m->slots + (size_t)i * m->conf.max_query_bytes
                      : NULL;
    info->query_len = e->query_len;
    info->query_truncated = e->truncated;
}

/* ------------------------------------------------------------ API */

int match_query(struct match *m, const struct match_endpoint *client,
                const struct match_endpoint *server, int transport,
                const uint8_t *msg, size_t len, int64_t now_ns)
{
    uint8_t key[KEY_LEN];
    struct dns_header h;
    struct question q;
    uint32_t bucket, i;
    struct match_entry *e;

    m->stats.queries++;
    match_expire(m, now_ns);
    if (!valid_endpoints(client, server, transport) ||
        parse(msg, len, &h, &q) < 0 || (h.flags & DNS_FLAG_QR)) {
        m->stats.bad_query++;
        return MATCH_BAD;
    }
    make_key(client, server, transport, h.id, key);
    bucket = bucket_of(m, key);
    i = lookup(m, key, bucket);
    if (i != NIL) {
        if (m->entries[i].state == E_OUTSTANDING)
            m->stats.replaced++;
        entry_free(m, i);
    }
    i = entry_take(m);
    e = &m->entries[i];
    memcpy(e->key, key, KEY_LEN);
    e->bucket = bucket;
    e->hnext = m->buckets[bucket];
    m->buckets[bucket] = i;
    e->state = E_OUTSTANDING;
    list_push(m, &m->out_head, &m->out_tail, i);
    m->stats.outstanding++;
    entry_fill(m, i, &q, msg, len, now_ns);
    return MATCH_QUERY_ADDED;
}

int match_response(struct match *m, const struct match_endpoint *server,
                   const struct match_endpoint *client, int transport,
                   const uint8_t *msg, size_t len, int64_t now_ns,
                   struct match_info *info)
{
    uint8_t key[KEY_LEN];
    struct dns_header h;
    struct question q;
    struct match_entry *e;
    uint32_t i;

    m->stats.responses++;
    match_expire(m, now_ns);
    if (!valid_endpoints(client, server, transport) ||
        parse(msg, len, &h, &q) < 0 || !(h.flags & DNS_FLAG_QR)) {
        m->stats.bad_response++;
        return MATCH_BAD;
    }
    make_key(client, server, transport, h.id, key);
    i = lookup(m, key, bucket_of(m, key));
    if (i == NIL || !answers(&m->entries[i], &q, h.flags)) {
        m->stats.unmatched++;
        return MATCH_UNMATCHED;
    }
    e = &m->entries[i];
    fill_info(m, i, info);
    if (e->state == E_ANSWERED) {
        m->stats.duplicates++;
        return MATCH_DUPLICATE;
    }
    list_remove(m, &m->out_head, &m->out_tail, i);
    m->stats.outstanding--;
    e->state = E_ANSWERED;
    e->answer_ns = now_ns;
    list_push(m, &m->ans_head, &m->ans_tail, i);
    m->stats.answered++;
    m->stats.matched++;
    return MATCH_MATCHED;
}

static int older(const struct match *m, int64_t then, int64_t now_ns)
{
    /* As unsigned the difference is exact whenever now_ns > then. */
    return now_ns > then &&
           (uint64_t)now_ns - (uint64_t)then > m->conf.timeout_ns;
}

void match_expire(struct match *m, int64_t now_ns)
{
    while (m->out_head != NIL &&
           older(m, m->entries[m->out_head].query_ns, now_ns)) {
        entry_free(m, m->out_head);
        m->stats.unanswered++;
    }
    while (m->ans_head != NIL &&
           older(m, m->entries[m->ans_head].answer_ns, now_ns))
        entry_free(m, m->ans_head);
}

const struct match_stats *match_stats(const struct match *m)
{
    return &m->stats;
}

const char *match_result_name(int code)
{
    static const char *const names[MATCH_RESULT_COUNT] = {
        "matched", "query_added", "unmatched", "duplicate", "bad",
    };

    if (code > MATCH_MATCHED || code <= MATCH_MATCHED - MATCH_RESULT_COUNT)
        return "unknown";
    return names[MATCH_MATCHED - code];
}

/* ------------------------------------------------------------ lifecycle */

struct sizes {
    size_t entries;
    uint32_t nbuckets;
    size_t total;
};

static int plan(const struct match_conf *c, struct sizes *s)
{
    uint64_t total;

    s->entries = c->max_entries ? c->max_entries : MATCH_ENTRIES;
    if (s->entries > MATCH_MAX_ENTRIES ||
        c->max_query_bytes > MATCH_MAX_QUERY_BYTES)
        return -EINVAL;
    s->nbuckets = 1;
    while (s->nbuckets < 2 * s->entries)
        s->nbuckets *= 2;
    total = (uint64_t)s->entries *
                (sizeof(struct match_entry) + c->max_query_bytes) +
            (uint64_t)s->nbuckets * sizeof(uint32_t);
    if (total > SIZE_MAX)
        return -ENOMEM;
    s->total = (size_t)total;
    return 0;
}

size_t match_memory(const struct match_conf *c)
{
    struct sizes s;

    return plan(c, &s) == 0 ? s.total : 0;
}

int match_init(struct match *m, const struct match_conf *c)
{
    struct sizes s;
    uint32_t i;
    int rc;

    memset(m, 0, sizeof(*m));
    rc = plan(c, &s);
    if (rc < 0)
        return rc;
    m->conf = *c;
    m->conf.max_entries = s.entries;
    if (m->conf.timeout_ns == 0)
        m->conf.timeout_ns = MATCH_TIMEOUT_NS;
    if (m->conf.seed[0] == 0 && m->conf.seed[1] == 0 &&
        getentropy(m->conf.seed, sizeof(m->conf.seed)) < 0)
        return -errno;
    m->nbuckets = s.nbuckets;
    m->entries = calloc(s.entries, sizeof(*m->entries));
    m->buckets = malloc((size_t)s.nbuckets * sizeof(*m->buckets));
    /* calloc(0, ...) may return NULL: no slots are wanted then. */
    if (c->max_query_bytes > 0)
        m->slots = malloc(s.entries * c->max_query_bytes);
    if (!m->entries || !m->buckets ||
        (c->max_query_bytes > 0 && !m->slots)) {
        match_close(m);
        return -ENOMEM;
    }
    for (i = 0; i < m->nbuckets; i++)
        m->buckets[i] = NIL;
    for (i = 0; i < s.entries; i++)
        m->entries[i].next = i + 1 < s.entries ? i + 1 : NIL;
    m->free_entry = 0;
    m->out_head = m->out_tail = NIL;
    m->ans_head = m->ans_tail = NIL;
    return 0;
}

void match_close(struct match *m)
{
    free(m->entries);
    free(m->buckets);
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------ latency */

const uint64_t match_hist_bounds_ns[MATCH_HIST_BUCKETS - 1] = {
    500000ull,     1000000ull,    2000000ull,    5000000ull,
    10000000ull,   20000000ull,   50000000ull,   100000000ull,
    200000000ull,  500000000ull,  1000000000ull, 2000000000ull,
    5000000000ull,
};

void match_hist_add(struct match_hist *h, int64_t latency_ns)
{
    uint64_t v = latency_ns > 0 ? (uint64_t)latency_ns : 0;
    size_t i = 0;

    while (i < MATCH_HIST_BUCKETS - 1 && v > match_hist_bounds_ns[i])
        i++;
    h->counts[i]++;
    h->sum_ns += v;
    h->count++;
}

uint64_t match_hist_le(const struct match_hist *h, size_t i)
{
    uint64_t n = 0;

    for (size_t k = 0; k <= i && k < MATCH_HIST_BUCKETS; k++)
        n += h->counts[k];
    return n;
}
