/* dnsxfr.h: the DNSXFR01 message format (pure encoder and parser).
 *
 *   "DNSXFR01" (8 bytes) | nameserver IPv4 (4 bytes) | DNS message
 *
 * The nameserver field carries the responding server's IPv4 address only
 * when the response has AA set and came over IPv4; otherwise it is zero,
 * so no client or resolver address ever leaves the host. Over TCP each
 * message is preceded by its whole length (header included) as a 16-bit
 * big-endian integer, after the collector's banner line. */
#ifndef TAPXFR_CODEC_DNSXFR_H
#define TAPXFR_CODEC_DNSXFR_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define DNSXFR_MAGIC "DNSXFR01"
#define DNSXFR_MAGIC_LEN 8
#define DNSXFR_HEADER_LEN 12
/* The largest DNS message that fits a 16-bit length prefix. */
#define DNSXFR_MAX_MSG (65535 - DNSXFR_HEADER_LEN)
#define DNSXFR_TCP_PREFIX 2
#define DNSXFR_AA_BIT 0x04 /* in the third byte of the DNS header */

/* Writes the 2-byte big-endian length prefix, then the DNSXFR01 message,
 * into out. ns is the 4-byte nameserver field (NULL for zero). Returns the
 * bytes written (msg_len + 14), or -1 when cap is too small or the message
 * is larger than DNSXFR_MAX_MSG. */
long dnsxfr_encode_framed(uint8_t *out, size_t cap, const uint8_t ns[4],
                          const uint8_t *msg, size_t msg_len);

/* The nameserver field for a response: responder IPv4 address (4 bytes,
 * network order) when aa is set, family is IPv4 and the address is not
 * 0.0.0.0; zero otherwise. */
void dnsxfr_nameserver(uint8_t ns[4], int aa, int family, const uint8_t *addr);

/* The same for a record: the nameserver field from its responder and the
 * AA bit of its message. */
long dnsxfr_encode_rec(uint8_t *out, size_t cap, const struct rec *r);

/* Parses one DNSXFR01 message (without TCP prefix). Returns 0 and sets
 * *ns (4 bytes, borrowed) and *msg / *msg_len, or -1 when the magic is
 * missing or the message is shorter than the header. */
int dnsxfr_parse(const uint8_t *buf, size_t len, const uint8_t **ns,
                 const uint8_t **msg, size_t *msg_len);

#endif
