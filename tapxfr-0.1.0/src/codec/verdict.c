#include "config.h"

#include "codec/verdict.h"

const char *verdict_name(int v)
{
    if (v == VERDICT_OK)
        return "ok";
    if (v == VERDICT_MALFORMED)
        return "malformed";
    if (v == VERDICT_HELD)
        return "held";
    if (v == VERDICT_UNMATCHED)
        return "unmatched";
    if (v == VERDICT_BAILIWICK)
        return "bailiwick";
    if (v == VERDICT_UNPARSABLE)
        return "unparsable";
    if (verdict_is_packet(v))
        return pkt_reason_name(v);
    if (v < VERDICT_DNS_BASE && v > VERDICT_DNS_BASE - DNS_VERDICT_COUNT)
        return dns_verdict_name(v - VERDICT_DNS_BASE);
    return "unknown";
}
