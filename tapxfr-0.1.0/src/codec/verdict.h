/* verdict.h: one space of negative codes for everything that stops a
 * packet or a record on its way to the collectors (pure).
 *
 *   0            VERDICT_OK: forwarded (or, from a decoder: decoded)
 *   -1 .. -30    packet decoding: enum pkt_reason (codec/packet.h), as is
 *   -31          another record that did not decode (a dnstap frame)
 *   -32 .. -47   DNS checks: VERDICT_DNS_BASE + enum dns_verdict
 *                (codec/dns.h), so -33 is DNS_DROP_SHORT
 *   -48 .. -63   the stage's own checks (matching, bailiwick, duplicates:
 *                the next issues)
 *
 * The codecs keep their own small enums (their tests and per-reason
 * counters index by them); every function that speaks for the whole path
 * (pcapin_packet(), stage_submit()) returns an enum verdict. */
#ifndef TAPXFR_CODEC_VERDICT_H
#define TAPXFR_CODEC_VERDICT_H

#include "codec/dns.h"
#include "codec/packet.h"

#define VERDICT_DNS_BASE (-32)
#define VERDICT_STAGE_BASE (-48)

enum verdict {
    VERDICT_OK = 0,
    /* -1 .. -16: enum pkt_reason */
    VERDICT_MALFORMED = -31,
    VERDICT_DNS_SHORT = VERDICT_DNS_BASE + DNS_DROP_SHORT,
    VERDICT_DNS_HEADER = VERDICT_DNS_BASE + DNS_DROP_HEADER,
    VERDICT_DNS_QUERY = VERDICT_DNS_BASE + DNS_DROP_QUERY,
    VERDICT_DNS_NO_ANSWER = VERDICT_DNS_BASE + DNS_DROP_NO_ANSWER,
    VERDICT_DNS_NOT_AUTH = VERDICT_DNS_BASE + DNS_DROP_NOT_AUTH,
    VERDICT_DNS_OVERSIZE = VERDICT_DNS_BASE + DNS_DROP_OVERSIZE,
    /* -48 ..: the stage and the inputs' reassemblers */
    VERDICT_HELD = VERDICT_STAGE_BASE, /* taken by a reassembler */
    VERDICT_UNMATCHED = VERDICT_STAGE_BASE - 1,  /* --match require */
    VERDICT_BAILIWICK = VERDICT_STAGE_BASE - 2,  /* --bailiwick check */
    VERDICT_UNPARSABLE = VERDICT_STAGE_BASE - 3, /* --bailiwick scrub */
};

/* The verdict of a DNS check result (DNS_FORWARD stays VERDICT_OK). */
static inline int verdict_dns(int dns_verdict)
{
    return dns_verdict < 0 ? VERDICT_DNS_BASE + dns_verdict : VERDICT_OK;
}

/* Whether v is a packet-decoding reason (enum pkt_reason). */
static inline int verdict_is_packet(int v)
{
    return v < 0 && v > -PKT_REASON_COUNT;
}

/* A short fixed name, e.g. "udp_checksum", "not_auth". */
const char *verdict_name(int v);

#endif
