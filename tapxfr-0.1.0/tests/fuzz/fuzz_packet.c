/* fuzz_packet.c: pkt_decode() and pkt_decode_ex() on any bytes, under
 * every link type.
 *
 * Input: one selector byte, then the captured packet. The selector picks
 * the link type (selector % 11: the ten supported types in the order of
 * the table below, then one unsupported type), so one corpus covers them
 * all; 0x02 + a raw IPv4 packet is how the conformance cases are seeded,
 * 0x01 + an Ethernet frame how the captures are. pkt_decode_ex() must
 * agree with pkt_decode() on UDP, keep TCP payloads and fragments inside
 * the input, and pkt_decode_transport() on a fragment's bytes too. */
#include "config.h"

#include <string.h>

#include "codec/packet.h"
#include "fuzz.h"

static const int links[] = {
    PKT_LINK_NULL, PKT_LINK_EN10MB, PKT_LINK_RAW,  PKT_LINK_RAW_ALT,
    PKT_LINK_LOOP, PKT_LINK_SLL,    PKT_LINK_IPV4, PKT_LINK_IPV6,
    PKT_LINK_SLL2, PKT_LINK_NFLOG,
    147, /* LINKTYPE_USER0: never supported */
};
#define NLINKS (sizeof(links) / sizeof(links[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pkt_info info, again;
    const uint8_t *pkt;
    size_t len;
    int link, rc;

    if (size < 1)
        return 0;
    link = links[data[0] % NLINKS];
    pkt = data + 1;
    len = size - 1;

    memset(&info, 0, sizeof(info));
    rc = pkt_decode(link, pkt, len, &info);

    FUZZ_CHECK(rc <= PKT_OK && rc > -PKT_REASON_COUNT);
    FUZZ_CHECK(strcmp(pkt_reason_name(rc), "unknown") != 0);
    FUZZ_CHECK(pkt_link_supported(link) == (rc != PKT_LINK_UNSUPPORTED));
    FUZZ_CHECK(info.ip_version == 0 || info.ip_version == 4 ||
               info.ip_version == 6);
    if (rc == PKT_OK) {
        /* The payload is in the caller's buffer, after at least an IP
         * and a UDP header. */
        FUZZ_CHECK(info.payload != NULL || info.payload_len == 0);
        if (info.payload)
            FUZZ_CHECK(fuzz_inside(info.payload, info.payload_len, pkt, len));
        FUZZ_CHECK(info.payload_len + 20 + 8 <= len);
        FUZZ_CHECK(info.ip_version == 4 || info.ip_version == 6);
        if (link == PKT_LINK_IPV4)
            FUZZ_CHECK(info.ip_version == 4);
        if (link == PKT_LINK_IPV6)
            FUZZ_CHECK(info.ip_version == 6);
        if (info.ip_version == 6)
            FUZZ_CHECK(info.payload_len + 40 + 8 <= len);
        FUZZ_CHECK(info.csum_offloaded == 0 || info.csum_offloaded == 1);
        (void)fuzz_hash(FUZZ_HASH_INIT, info.payload, info.payload_len);
    }

    /* Pure: the same bytes decode the same way. */
    memset(&again, 0, sizeof(again));
    FUZZ_CHECK(pkt_decode(link, pkt, len, &again) == rc);
    FUZZ_CHECK(memcmp(&info, &again, sizeof(info)) == 0);

    /* With TCP and fragments: the same verdict on everything else. */
    memset(&again, 0, sizeof(again));
    {
        int rx = pkt_decode_ex(link, pkt, len, PKT_WANT_TCP, &again);

        FUZZ_CHECK(rx <= PKT_OK && rx > -PKT_REASON_COUNT);
        if (rc == PKT_OK) {
            FUZZ_CHECK(rx == PKT_OK && again.proto == 17);
            FUZZ_CHECK(again.payload == info.payload && again.payload_len == info.payload_len);
        } else if (rc != PKT_NOT_UDP) {
            FUZZ_CHECK(rx == rc);
        }
        if (rx == PKT_OK && again.payload)
            FUZZ_CHECK(fuzz_inside(again.payload, again.payload_len, pkt, len));
        if (rx == PKT_FRAGMENT) {
            int rt;

            FUZZ_CHECK(again.frag_data != NULL || again.frag_len == 0);
            if (again.frag_data)
                FUZZ_CHECK(fuzz_inside(again.frag_data, again.frag_len, pkt, len));
            rt = again.frag_data ? pkt_decode_transport(again.frag_proto, again.frag_data,
                                                        again.frag_len, &again)
                                 : PKT_OK;
            FUZZ_CHECK(rt <= PKT_OK && rt > -PKT_REASON_COUNT);
            if (rt == PKT_OK && again.payload)
                FUZZ_CHECK(fuzz_inside(again.payload, again.payload_len, pkt, len));
        }
    }

    /* The checksum helper on the whole input: a buffer with its own
     * checksum appended sums to zero (RFC 1071), for even lengths. */
    if (len % 2 == 0 && len <= 4096) {
        uint8_t buf[4096 + 2];
        uint16_t ck = pkt_checksum(pkt, len, 0);

        memcpy(buf, pkt, len);
        buf[len] = (uint8_t)(ck >> 8);
        buf[len + 1] = (uint8_t)ck;
        FUZZ_CHECK(pkt_checksum(buf, len + 2, 0) == 0);
    }
    return 0;
}
