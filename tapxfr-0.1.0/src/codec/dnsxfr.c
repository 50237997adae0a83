#include "config.h"

#include "codec/dnsxfr.h"

#include <string.h>

long dnsxfr_encode_framed(uint8_t *out, size_t cap, const uint8_t ns[4],
                          const uint8_t *msg, size_t msg_len)
{
    size_t total = DNSXFR_HEADER_LEN + msg_len;

    if (msg_len > DNSXFR_MAX_MSG || cap < total + DNSXFR_TCP_PREFIX)
        return -1;
    out[0] = (uint8_t)(total >> 8);
    out[1] = (uint8_t)total;
    memcpy(out + 2, DNSXFR_MAGIC, DNSXFR_MAGIC_LEN);
    if (ns)
        memcpy(out + 2 + DNSXFR_MAGIC_LEN, ns, 4);
    else
        memset(out + 2 + DNSXFR_MAGIC_LEN, 0, 4);
    memcpy(out + 2 + DNSXFR_HEADER_LEN, msg, msg_len);
    return (long)(total + DNSXFR_TCP_PREFIX);
}

void dnsxfr_nameserver(uint8_t ns[4], int aa, int family, const uint8_t *addr)
{
    static const uint8_t zero[4];

    if (aa && family == 4 && addr && memcmp(addr, zero, 4) != 0)
        memcpy(ns, addr, 4);
    else
        memset(ns, 0, 4);
}

long dnsxfr_encode_rec(uint8_t *out, size_t cap, const struct rec *r)
{
    uint8_t ns[4];
    int aa = r->msg_len > 2 && (r->msg[2] & DNSXFR_AA_BIT);

    dnsxfr_nameserver(ns, aa, r->responder.family, r->responder.addr);
    return dnsxfr_encode_framed(out, cap, ns, r->msg, r->msg_len);
}

int dnsxfr_parse(const uint8_t *buf, size_t len, const uint8_t **ns,
                 const uint8_t **msg, size_t *msg_len)
{
    if (len < DNSXFR_HEADER_LEN || memcmp(buf, DNSXFR_MAGIC, DNSXFR_MAGIC_LEN))
        return -1;
    *ns = buf + DNSXFR_MAGIC_LEN;
    *msg = buf + DNSXFR_HEADER_LEN;
    *msg_len = len - DNSXFR_HEADER_LEN;
    return 0;
}
