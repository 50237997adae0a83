/* dnstap.h: decoding of one dnstap protobuf (a Frame Streams data frame)
 * into a struct rec (pure: no I/O).
 *
 * Decoding uses protobuf-c (proto/dnstap.proto compiled at build time)
 * with an allocator that carves from the decoder's own arena, so a frame
 * costs no malloc once the arena has grown to the largest frame seen. The
 * record's byte fields (msg, query_zone, identity) point into that arena
 * and stay valid until the next dnstap_decode() or dnstap_close(). */
#ifndef TAPXFR_CODEC_DNSTAP_H
#define TAPXFR_CODEC_DNSTAP_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

/* dnstap Message.Type values (dnstap.proto). */
enum dnstap_type {
    DNSTAP_AUTH_QUERY = 1,
    DNSTAP_AUTH_RESPONSE = 2,
    DNSTAP_RESOLVER_QUERY = 3,
    DNSTAP_RESOLVER_RESPONSE = 4,
    DNSTAP_CLIENT_QUERY = 5,
    DNSTAP_CLIENT_RESPONSE = 6,
    DNSTAP_FORWARDER_QUERY = 7,
    DNSTAP_FORWARDER_RESPONSE = 8,
    DNSTAP_STUB_QUERY = 9,
    DNSTAP_STUB_RESPONSE = 10,
    DNSTAP_TOOL_QUERY = 11,
    DNSTAP_TOOL_RESPONSE = 12,
    DNSTAP_UPDATE_QUERY = 13,
    DNSTAP_UPDATE_RESPONSE = 14,
    DNSTAP_TYPE_MAX = 14
};

/* Bit set of message types, bit (1 << type). */
#define DNSTAP_TYPE_BIT(t) (1u << (t))
#define DNSTAP_DEFAULT_TYPES                                                  \
    (DNSTAP_TYPE_BIT(DNSTAP_RESOLVER_RESPONSE) |                              \
     DNSTAP_TYPE_BIT(DNSTAP_FORWARDER_RESPONSE) |                             \
     DNSTAP_TYPE_BIT(DNSTAP_AUTH_RESPONSE))

enum dnstap_result {
    DNSTAP_OK = 0,         /* *r filled: a response message to consider */
    DNSTAP_MALFORMED = -1, /* does not unpack, or fields inconsistent */
    DNSTAP_NOMEM = -2,     /* the arena could not grow */
    DNSTAP_NOT_MESSAGE = -3, /* a Dnstap of another type (no Message) */
    DNSTAP_QUERY = -4,     /* a *_QUERY type: never forwarded */
    DNSTAP_NOT_SELECTED = -5, /* a response type not in the selected set */
    DNSTAP_NO_RESPONSE = -6,  /* no response_message */
};

struct dnstap_decoder {
    uint8_t *arena;
    size_t cap, used;
    int oom;
    uint32_t types; /* selected response types, DNSTAP_TYPE_BIT set */
};

void dnstap_init(struct dnstap_decoder *d, uint32_t types);
void dnstap_close(struct dnstap_decoder *d);

/* Decodes one frame. On DNSTAP_OK, *r is filled: source DNSTAP,
 * transport from socket_protocol (UDP, TCP, else OTHER), responder =
 * response_address/port, client = query_address/port (family from
 * socket_family, 0 when absent or the address length does not match),
 * ts = response_time (else query_time, else 0), msg = response_message,
 * dt_type, query_zone, identity. *type is set whenever a Message was
 * found (for per-type statistics), else 0.
 *
 * A pre-scan of the wire format returns DNSTAP_QUERY, DNSTAP_NOT_SELECTED
 * and DNSTAP_NOT_MESSAGE without unpacking (nor touching the arena or *r)
 * when it has checked that the whole frame unpacks; every other frame is
 * unpacked. The result is the same as dnstap_decode_full()'s for any
 * bytes, except that a frame so classified cannot fail for lack of
 * memory. */
int dnstap_decode(struct dnstap_decoder *d, const uint8_t *frame, size_t len,
                  struct rec *r, int *type);

/* The same without the pre-scan: always unpacks. For tests, as the
 * reference dnstap_decode() must agree with. */
int dnstap_decode_full(struct dnstap_decoder *d, const uint8_t *frame,
                       size_t len, struct rec *r, int *type);

/* "resolver-response" etc. <-> type. Parsing accepts upper or lower case
 * and '_' or '-'. Returns the type or -1. */
int dnstap_type_parse(const char *name);
const char *dnstap_type_name(int type);

#endif
