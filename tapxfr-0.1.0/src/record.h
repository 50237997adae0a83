/* record.h: the common response record that every input fills.
 *
 * Both inputs (pcap, dnstap) normalize what they see into a struct rec and
 * hand it to the stage with stage_submit(). A record BORROWS its byte
 * fields: msg, query_zone and identity point into the input's own buffer
 * (a pcap packet, a Frame Streams frame) and are valid only for the
 * duration of the call that receives the record. Whoever must keep them
 * longer copies them; each collector copies the DNS message exactly once,
 * straight into its queue as an encoded DNSXFR01 message. */
#ifndef TAPXFR_RECORD_H
#define TAPXFR_RECORD_H

#include <stddef.h>
#include <stdint.h>

enum rec_source {
    REC_SRC_PCAP = 1,
    REC_SRC_DNSTAP = 2,
};

enum rec_transport {
    REC_TR_UDP = 1,
    REC_TR_TCP = 2,
    REC_TR_OTHER = 3,
};

/* An IPv4 or IPv6 endpoint. family is 4, 6, or 0 when unknown. */
struct rec_addr {
    uint8_t family;
    uint8_t addr[16]; /* IPv4 in the first 4 bytes, network order */
    uint16_t port;    /* host order */
};

struct rec {
    enum rec_source source;
    enum rec_transport transport;
    int64_t ts_sec; /* capture or response time, 0 when unknown */
    int32_t ts_nsec;
    struct rec_addr responder; /* the server that sent the response */
    struct rec_addr client;    /* never forwarded (privacy) */

    const uint8_t *msg; /* the DNS message as received, borrowed */
    size_t msg_len;
    /* pcap: the UDP checksum held only the pseudo header sum (TX offload
     * on the capturing host), so it was accepted unverified. */
    uint8_t csum_offloaded;
    /* pcap: the message was put together from several packets (IP
     * fragments, TCP segments), so it is counted as reassembled, not as
     * received. */
    uint8_t reassembled;
    /* The stage rewrote msg (--bailiwick scrub): an output that would
     * pass a dnstap frame on as it came must re-encode it. */
    uint8_t rewritten;
    /* pcap with --match: the query this response answered (time, and its
     * bytes when kept), for outputs that say so; 0 / NULL otherwise. */
    int64_t query_ns;
    const uint8_t *query_msg; /* borrowed */
    size_t query_len;

    /* dnstap only; zero / NULL for pcap. */
    int dt_type; /* Dnstap Message.Type value, 0 when not dnstap */
    const uint8_t *query_zone; /* wire-format name, borrowed */
    size_t query_zone_len;
    const uint8_t *identity; /* borrowed */
    size_t identity_len;
};

#endif
