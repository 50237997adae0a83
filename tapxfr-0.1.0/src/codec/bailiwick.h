/* bailiwick.h: dnstap's bailiwick (query_zone) applied to DNS messages
 * (pure: no I/O, no allocation).
 *
 * A resolver's dnstap RESOLVER_RESPONSE carries query_zone, the zone the
 * resolver believed it was asking (a wire-format name). Data outside that
 * zone is what cache poisoning feeds a resolver, so passive DNS keeps only
 * what the answering server is authoritative for:
 *   - bw_check() says whether the question is at or below the zone;
 *   - bw_scrub() rewrites a message without the records of the answer,
 *     authority and additional sections whose owner is not at or below it
 *     (OPT and TSIG records always stay).
 *
 * "At or below" is label-wise and case-insensitive for ASCII letters only
 * (RFC 4343): "www.example.com" and "EXAMPLE.com" are in "example.com",
 * "xexample.com" is not; everything is in the root zone ".".
 *
 * Names in messages are read with the rules of dnsprint.h: a compression
 * pointer must point backwards and past the 12-byte header, at most
 * BW_MAX_HOPS pointers per name, at most BW_NAME_MAX octets decompressed,
 * label types 0x40 and 0x80 are reserved and malformed. A message is
 * parsed whole or not at all: header, every question and every record,
 * RDATA within bounds, and no byte after the last record (trailing bytes
 * are BW_MALFORMED: a rewritten message must account for all it was
 * given, and an honest server never sends them).
 *
 * Names inside RDATA are decompressed for the RFC 1035 types, the ones
 * RFC 3597 section 4 says receivers MUST decompress: NS, MD, MF, CNAME,
 * SOA (mname, rname), MB, MG, MR, PTR, MINFO (rmailbx, emailbx) and MX.
 * Their RDATA must have exactly that shape (bytes left over, a cut field
 * or a bad name is BW_MALFORMED), except that an empty RDATA stays empty
 * (RFC 2136 uses it for "delete the RRset"). RDATA of every other type is
 * opaque and copied as it is: RFC 3597 forbids compression there (a
 * compressed SRV from an RFC 2052 server is copied with its pointer). */
#ifndef TAPXFR_CODEC_BAILIWICK_H
#define TAPXFR_CODEC_BAILIWICK_H

#include <stddef.h>
#include <stdint.h>

#define BW_HEADER_LEN 12
/* RFC 1035 3.1: 255 octets in wire form, length octets and root in. */
#define BW_NAME_MAX 255
/* A name has at most 127 labels, so more hops than that is a loop. */
#define BW_MAX_HOPS 127
/* The largest DNS message (the TCP length prefix is 16 bits). */
#define BW_MSG_MAX 65535
/* Decompressed RDATA of the types with names: SOA is the largest, two
 * names and five 32-bit numbers. */
#define BW_RDATA_NAMES_MAX (2 * BW_NAME_MAX + 20)

#define BW_TYPE_OPT 41
#define BW_TYPE_TSIG 250

enum bw_result {
    BW_OK = 0,
    BW_OUT = -1,         /* question not in bailiwick (bw_check) */
    BW_MALFORMED = -2,   /* the message cannot be parsed whole */
    BW_TOO_BIG = -3,     /* the rewritten message does not fit in the
                            caller's buffer, or in BW_MSG_MAX */
    BW_NO_ZONE = -4,     /* query_zone is not a valid wire name */
    BW_NO_QUESTION = -5, /* QDCOUNT is 0: nothing for bw_check to judge */
};

enum bw_section {
    BW_QUESTION = 0,
    BW_ANSWER = 1,
    BW_AUTHORITY = 2,
    BW_ADDITIONAL = 3,
};

/* Whether the uncompressed wire name name[0..len) is at or below the zone
 * zone[0..zlen). Each must be exactly one name: labels of at most 63
 * octets ending with the root label at its last byte, no pointers, at
 * most BW_NAME_MAX octets. Returns 1 (in), 0 (not in), BW_NO_ZONE when
 * the zone is not such a name (checked first), or BW_MALFORMED when the
 * name is not. */
int bw_in_zone(const uint8_t *name, size_t len, const uint8_t *zone,
               size_t zlen);

/* Reads the name of the first question of msg[0..len), decompressed,
 * into name[0..*name_len) (at most BW_NAME_MAX octets). Only the header
 * and the first question (name, type, class) are read. Returns BW_OK,
 * BW_NO_QUESTION (QDCOUNT 0), or BW_MALFORMED (shorter than a header,
 * longer than BW_MSG_MAX, a bad name, type or class cut); on failure
 * name and *name_len are unspecified. */
int bw_qname(const uint8_t *msg, size_t len, uint8_t name[BW_NAME_MAX],
             size_t *name_len);

/* Whether the first question of msg[0..len) is at or below the zone.
 * Reads only what bw_qname() reads, so a message bw_scrub() finds
 * malformed further on may pass. Returns BW_OK (in bailiwick), BW_OUT,
 * or BW_NO_ZONE (checked first), BW_NO_QUESTION or BW_MALFORMED. */
int bw_check(const uint8_t *msg, size_t len, const uint8_t *zone,
             size_t zlen);

/* What bw_scrub() did: records removed from the answer, authority and
 * additional sections (index section - 1), and records kept in them
 * (questions are never removed and not counted). */
struct bw_scrub {
    size_t removed[3];
    size_t kept;
};

/* Writes into out[0..cap) msg[0..len) without the records of the answer,
 * authority and additional sections whose owner is not at or below the
 * zone, keeping OPT and TSIG records wherever they are. The message is
 * always re-encoded, even when nothing is removed: the header as it was
 * but for the three record counts, the questions and the kept records in
 * their order (so a TSIG that was last stays last; its MAC no longer
 * covers the message), every name decompressed and compressed again
 * against the names already written, compression used only where RFC
 * 3597 allows it (owners, questions, the names in the RDATA of the types
 * listed at the top). No pointer can therefore point into a removed
 * record, and the same decompressed content always gives the same bytes:
 * scrubbing the output again gives it back unchanged. The output may be
 * longer than the input when the input's compression found more (e.g.
 * pointers into opaque RDATA).
 *
 * out must not overlap msg; about 5 KiB of stack are used for the
 * compression table and one record. Returns BW_OK and sets *out_len and
 * *st (when st is non-NULL); or BW_NO_ZONE (checked first), BW_MALFORMED
 * (which wins over BW_TOO_BIG: the whole input is read even once the
 * output is full), BW_TOO_BIG. On failure *out_len is 0, *st (when
 * non-NULL) is zeroed and out holds garbage: never a half-rewritten
 * message to use. */
int bw_scrub(const uint8_t *msg, size_t len, const uint8_t *zone,
             size_t zlen, uint8_t *out, size_t cap, size_t *out_len,
             struct bw_scrub *st);

/* A short static name of a result, e.g. "malformed"; "unknown" for a
 * value that is none of them. */
const char *bw_result_name(int rc);

/* ---- the parser bw_scrub() uses, for callers that want the records ---- */

/* A reader walks a message record by record. It borrows msg, which must
 * outlive it, and owns nothing. */
struct bw_reader {
    const uint8_t *msg;
    size_t len;
    size_t pos;
    uint16_t id, flags;
    uint16_t count[4]; /* QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT */
    unsigned section;  /* of the next record; 4 once at the end */
    unsigned left;     /* records left in that section */
    int err;           /* sticky: the first failure, returned again */
};

/* One question or record, decompressed. */
struct bw_rr {
    unsigned section; /* enum bw_section */
    uint8_t owner[BW_NAME_MAX];
    size_t owner_len;
    uint16_t type, cls;
    uint32_t ttl;     /* 0 for a question */
    /* The RDATA as in the message (NULL and 0 for a question). */
    const uint8_t *raw;
    size_t raw_len;
    /* For the types with names (and a non-empty RDATA): the RDATA with
     * every name decompressed, in rdata[0..rdata_len), and expanded 1.
     * Otherwise expanded is 0 and the RDATA is raw[0..raw_len). */
    int expanded;
    uint8_t rdata[BW_RDATA_NAMES_MAX];
    size_t rdata_len;
};

/* Starts reading msg[0..len): reads the header. Returns BW_OK, or
 * BW_MALFORMED when len is below BW_HEADER_LEN or above BW_MSG_MAX. */
int bw_reader_init(struct bw_reader *r, const uint8_t *msg, size_t len);

/* Reads the next question or record into *rr. Returns 1 when one was
 * read, 0 at the end (every count satisfied and no trailing byte; again 0
 * on later calls), or BW_MALFORMED (again on later calls); on failure
 * *rr is partially filled and must not be used. */
int bw_reader_next(struct bw_reader *r, struct bw_rr *rr);

/* The RDATA of a record in uncompressed form: rr->rdata or rr->raw. */
static inline const uint8_t *bw_rr_rdata(const struct bw_rr *rr,
                                         size_t *n)
{
    *n = rr->expanded ? rr->rdata_len : rr->raw_len;
    return rr->expanded ? rr->rdata : rr->raw;
}

#endif
