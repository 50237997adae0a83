/* dns.h: the checks every DNS message goes through before it is forwarded
 * (pure, no I/O).
 *
 * The order and the header limits are those of the 2004 dnslogger-forward,
 * so drop reasons match its debug output: too short for a header, header
 * counts beyond sanity limits, not a response (QR clear), empty answer
 * section under -D (unless TC is set), not authoritative under -A, larger
 * than the size limit. */
#ifndef TAPXFR_CODEC_DNS_H
#define TAPXFR_CODEC_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN 12
/* Header sanity limits of the 2004 program: a count at or above its limit
 * marks the packet as garbage. */
#define DNS_MAX_QDCOUNT 16
#define DNS_MAX_RRCOUNT 1024

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200

enum dns_verdict {
    DNS_FORWARD = 0,
    DNS_DROP_SHORT = -1,       /* fewer than 12 bytes */
    DNS_DROP_HEADER = -2,      /* a count beyond the sanity limits */
    DNS_DROP_QUERY = -3,       /* QR clear: queries are never forwarded */
    DNS_DROP_NO_ANSWER = -4,   /* -D: ANCOUNT 0 and TC clear */
    DNS_DROP_NOT_AUTH = -5,    /* -A: AA clear */
    DNS_DROP_OVERSIZE = -6,    /* longer than max_size */
    DNS_VERDICT_COUNT = 7
};

struct dns_filter {
    int auth_only;       /* -A */
    int drop_no_answer;  /* -D */
    size_t max_size;     /* --max-size; -T sets 512 */
};

/* The header fields the checks and the encoder use. */
struct dns_header {
    uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

/* Reads the 12-byte header. Returns 0, or DNS_DROP_SHORT. */
int dns_header_read(const uint8_t *msg, size_t len, struct dns_header *h);

/* Runs the checks in order. Returns DNS_FORWARD or the first failing
 * verdict (negative). *h is filled whenever len >= 12. */
int dns_check(const struct dns_filter *f, const uint8_t *msg, size_t len,
              struct dns_header *h);

/* A short fixed name for a verdict, e.g. "not_auth"; used in stats. */
const char *dns_verdict_name(int verdict);

#endif
