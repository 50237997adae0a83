/* match.h: DNS query/response matching (pure: no I/O, no libuv or pcap
 * types, explicit packet time), in the manner of nmsg's dnsqr module and
 * RFC 5452 section 9.1.
 *
 * One struct match owns a table of queries seen and every byte it keeps.
 * The caller decodes the packet down to the DNS message and passes each
 * query to match_query() and each response to match_response(), with the
 * endpoints as the packet carried them (a response goes from the server
 * to the client) and the packet time.
 *
 * Rules:
 *  - a query is keyed on (client address and port, server address and
 *    port, transport, DNS ID) and keeps its first question: the name
 *    (compared ASCII case-insensitively, so 0x20 randomisation matches),
 *    type and class. A message with QDCOUNT > 1 is taken by its first
 *    question only; a query with QDCOUNT 0 (e.g. a cookie-only query,
 *    RFC 7873) is kept with no question;
 *  - a response matches an entry with its key when its first question
 *    equals the entry's, or when it has no question (QDCOUNT 0) and
 *    either its RCODE is FORMERR, SERVFAIL, NOTIMP or REFUSED (servers
 *    answer those without echoing the question) or the query had none
 *    either. Anything else is unmatched: no entry with that key (a
 *    response before its query, or after its query timed out, or to a
 *    query evicted), or a question that differs;
 *  - the first matching response wins: it returns MATCH_MATCHED with the
 *    query's time (latency = response time - query time) and, when
 *    max_query_bytes > 0, the query's first max_query_bytes bytes. The
 *    entry then stays in the table, marked answered, for timeout_ns after
 *    that response: a later response that matches it returns
 *    MATCH_DUPLICATE, told apart from an unmatched one. Answered entries
 *    are the "recently answered" record: they share the max_entries
 *    slots, and are recycled (oldest answer first, counted in forgotten)
 *    before any outstanding query is evicted;
 *  - a query whose key is already in the table replaces that entry. An
 *    outstanding one is counted in replaced (a retransmission or an ID
 *    collision: only the newest query can be matched, and its time is
 *    the one a latency should be measured from); an answered one is
 *    simply reused, which is what a TCP connection reusing an ID after
 *    its response looks like;
 *  - names are read without decompression: the first name of a message
 *    can only point into itself, which is a loop, so a compression
 *    pointer there (or a label type other than 0, a name longer than 255
 *    bytes, a message that ends inside the question) makes the message
 *    MATCH_BAD. So do fewer than 12 bytes, QR set in a query or clear in
 *    a response, an address family other than 4 or 6 and a transport
 *    other than MATCH_UDP or MATCH_TCP. RCODE is the header's 4 bits (an
 *    extended RCODE in OPT is not read).
 *
 * Time: outstanding queries older than timeout_ns (now_ns minus the query
 * time; an age of exactly timeout_ns is kept) are dropped and counted in
 * unanswered, answered entries timeout_ns after their response are
 * dropped silently; match_expire() does it, and match_query() and
 * match_response() call it first, so a response after the timeout is
 * unmatched. Packet time that goes backwards delays expiry (the lists are
 * in arrival order) but never lifts the bound.
 *
 * Bounds: at most max_entries entries (outstanding and answered). A new
 * query with no free entry takes the oldest answered entry, or when there
 * is none evicts the oldest outstanding query (counted in evicted): O(1),
 * by the age lists. Lookup is a chained hash table keyed with SipHash-1-3
 * under a 128-bit seed, at most 1/2 full, so O(1) on average whatever
 * keys a sender picks.
 *
 * Accounting: every call counts in queries or responses, and
 *   queries   == bad_query + matched + unanswered + evicted + replaced +
 *                outstanding
 *   responses == bad_response + matched + unmatched + duplicates
 * hold after every call (each added query ends in exactly one of matched,
 * unanswered, evicted, replaced, or is still outstanding).
 *
 * Memory: everything is allocated by match_init(), nothing afterwards;
 * match_memory() gives the exact total: per entry 344 bytes on LP64 (the
 * key, the times, links, the question with room for a 255-byte name)
 * plus max_query_bytes, and 2 to 4 hash buckets of 4 bytes. The defaults
 * (65536 entries, no query bytes) take 22 MiB; with max_query_bytes 512,
 * 54 MiB.
 *
 * The latency histogram (struct match_hist) is independent of the table:
 * fixed Prometheus-style buckets the caller fills with match_hist_add(). */
#ifndef TAPXFR_CODEC_MATCH_H
#define TAPXFR_CODEC_MATCH_H

#include <stddef.h>
#include <stdint.h>

#define MATCH_UDP 1
#define MATCH_TCP 2
#define MATCH_TIMEOUT_NS 10000000000ull /* default timeout: 10 s */
#define MATCH_ENTRIES 65536             /* default max_entries */
#define MATCH_MAX_ENTRIES (1u << 24)    /* keeps every index in 32 bits */
#define MATCH_MAX_QUERY_BYTES 65535     /* largest DNS message */
#define MATCH_MAX_NAME 255              /* wire length of a name */

/* What match_query() and match_response() return; MATCH_RESULT_COUNT
 * sizes arrays indexed by MATCH_MATCHED - code. */
enum match_result_code {
    MATCH_MATCHED = 1,      /* response: *info holds its query */
    MATCH_QUERY_ADDED = 0,  /* query: kept */
    MATCH_UNMATCHED = -1,   /* response: no query with its key/question */
    MATCH_DUPLICATE = -2,   /* response: to a query already answered */
    MATCH_BAD = -3,         /* either: see the rules above */
    MATCH_RESULT_COUNT = 5
};

struct match_endpoint {
    uint8_t family;   /* 4 or 6 */
    uint8_t addr[16]; /* IPv4 in the first 4 bytes (the rest ignored) */
    uint16_t port;    /* host order */
};

struct match_conf {
    size_t max_entries;     /* 0: MATCH_ENTRIES; at most MATCH_MAX_ENTRIES */
    uint64_t timeout_ns;    /* 0: MATCH_TIMEOUT_NS */
    size_t max_query_bytes; /* query bytes kept per entry, 0 .. 65535 */
    /* The hash key. All zero: match_init() draws one with getentropy(),
     * which is what the daemon wants; tests pass a fixed one. */
    uint64_t seed[2];
};

/* Counters only grow, except the gauges at the end. */
struct match_stats {
    uint64_t queries;      /* calls to match_query() */
    uint64_t responses;    /* calls to match_response() */
    uint64_t matched;      /* responses: MATCH_MATCHED */
    uint64_t unmatched;    /* responses: MATCH_UNMATCHED */
    uint64_t duplicates;   /* responses: MATCH_DUPLICATE */
    uint64_t bad_query;    /* queries: MATCH_BAD */
    uint64_t bad_response; /* responses: MATCH_BAD */
    uint64_t unanswered;   /* outstanding queries that timed out */
    uint64_t evicted;      /* outstanding queries pushed out, table full */
    uint64_t replaced;     /* outstanding queries replaced (same key) */
    uint64_t forgotten;    /* answered entries recycled before timing out */
    uint64_t truncated;    /* queries whose bytes were kept truncated */
    uint64_t outstanding;  /* gauge: queries waiting for a response */
    uint64_t answered;     /* gauge: answered entries kept */
};

/* What a matched (or duplicate) response gives. query points into m's
 * slot for the entry, valid until the next call on m; it is NULL when
 * max_query_bytes is 0. */
struct match_info {
    int64_t query_ns;        /* packet time of the query */
    const uint8_t *query;    /* the query's first query_len bytes */
    size_t query_len;        /* min(query length, max_query_bytes) */
    int query_truncated;     /* the query was longer than max_query_bytes */
};

struct match_entry; /* private to match.c */

/* All fields are private; read them through match_stats(). */
struct match {
    struct match_conf conf;
    struct match_stats stats;
    struct match_entry *entries;  /* max_entries */
    uint8_t *slots;               /* max_entries * max_query_bytes */
    uint32_t *buckets;            /* nbuckets heads, a power of two */
    uint32_t nbuckets;
    uint32_t free_entry;          /* free list through the entries */
    uint32_t out_head, out_tail;  /* outstanding, oldest query first */
    uint32_t ans_head, ans_tail;  /* answered, oldest response first */
};

/* Bytes match_init() allocates for c, or 0 if c is out of range. */
size_t match_memory(const struct match_conf *c);

/* Allocates everything once; c's zero fields take their defaults. Returns
 * 0, -EINVAL when c is out of range, -ENOMEM, or the negative errno of
 * getentropy() when no seed was given and none could be drawn. On failure
 * nothing is held and match_close() is still safe. */
int match_init(struct match *m, const struct match_conf *c);
/* Frees everything; safe on a table whose init failed, and twice. */
void match_close(struct match *m);

/* A query (QR clear) from client to server over transport (MATCH_UDP or
 * MATCH_TCP) at now_ns. Expires old entries first. msg is only read
 * during the call (its first max_query_bytes bytes are copied). Returns
 * MATCH_QUERY_ADDED or MATCH_BAD (counted in bad_query). */
int match_query(struct match *m, const struct match_endpoint *client,
                const struct match_endpoint *server, int transport,
                const uint8_t *msg, size_t len, int64_t now_ns);

/* A response (QR set) from server to client. Expires old entries first.
 * Returns MATCH_MATCHED or MATCH_DUPLICATE with *info filled (valid until
 * the next call on m), or MATCH_UNMATCHED or MATCH_BAD with *info
 * untouched. */
int match_response(struct match *m, const struct match_endpoint *server,
                   const struct match_endpoint *client, int transport,
                   const uint8_t *msg, size_t len, int64_t now_ns,
                   struct match_info *info);

/* Drops outstanding queries older than timeout_ns (counted unanswered)
 * and answered entries whose response is older than timeout_ns. */
void match_expire(struct match *m, int64_t now_ns);

/* The counters and gauges. */
const struct match_stats *match_stats(const struct match *m);

/* A short fixed name for a return value, e.g. "duplicate"; "unknown" for
 * anything else. */
const char *match_result_name(int code);

/* ------------------------------------------------------------ latency */

/* Buckets of the histogram: upper bounds (inclusive, like Prometheus
 * "le") of 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000 and 5000
 * ms, then +Inf. */
#define MATCH_HIST_BUCKETS 14
extern const uint64_t match_hist_bounds_ns[MATCH_HIST_BUCKETS - 1];

/* Zero it to start. counts[i] holds the latencies in (bound[i - 1],
 * bound[i]] (not cumulative; match_hist_le() gives Prometheus' view). */
struct match_hist {
    uint64_t counts[MATCH_HIST_BUCKETS];
    uint64_t sum_ns;
    uint64_t count;
};

/* Adds one latency; a negative one (packet time went backwards) counts as
 * 0. */
void match_hist_add(struct match_hist *h, int64_t latency_ns);
/* The cumulative count of bucket i: latencies <= bound i (i ==
 * MATCH_HIST_BUCKETS - 1: all). */
uint64_t match_hist_le(const struct match_hist *h, size_t i);

#endif
