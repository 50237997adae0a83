/* dnsprint_pcap.c: DNS messages as the records of a pcap file (the
 * contract is in dnsprint_pcap.h). */
#include "config.h"

#include "codec/dnsprint_pcap.h"

#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void le32(uint8_t *p, uint32_t v)
{
    le16(p, v);
    le16(p + 2, v >> 16);
}

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void dnsprint_pcap_file_header(uint8_t out[DNSPRINT_PCAP_FILE_HEADER_LEN])
{
    /* Little-endian whatever the host: readers accept either order and
     * the file is then the same on every machine. */
    le32(out, 0xa1b2c3d4);
    le16(out + 4, 2);
    le16(out + 6, 4);
    le32(out + 8, 0);  /* thiszone: UTC */
    le32(out + 12, 0); /* sigfigs */
    le32(out + 16, DNSPRINT_PCAP_SNAPLEN);
    le32(out + 20, DNSPRINT_PCAP_LINKTYPE_RAW);
}

int dnsprint_pcap_record(uint8_t out[DNSPRINT_PCAP_RECORD_PREFIX_LEN],
                         uint32_t sec, uint32_t usec, const uint8_t src[4],
                         const uint8_t dst[4], size_t dns_len)
{
    uint8_t *ip = out + 16, *udp = out + 36;
    uint32_t sum = 0;

    if (dns_len > DNSPRINT_PCAP_DNS_MAX)
        return DNSPRINT_ETOOBIG;
    le32(out, sec);
    le32(out + 4, usec);
    le32(out + 8, (uint32_t)(28 + dns_len));
    le32(out + 12, (uint32_t)(28 + dns_len));

    ip[0] = 0x45; /* version 4, 5 words */
    ip[1] = 0;
    be16(ip + 2, (uint32_t)(28 + dns_len));
    be16(ip + 4, 0);      /* ID: 0 is fine with DF (RFC 6864 4.1) */
    be16(ip + 6, 0x4000); /* DF, offset 0 */
    ip[8] = 64;
    ip[9] = 17;
    be16(ip + 10, 0);
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    /* RFC 1071: the one's complement of the one's complement sum. */
    for (int i = 0; i < 20; i += 2)
        sum += rd16(ip + i);
    while (sum > 0xffff)
        sum = (sum & 0xffff) + (sum >> 16);
    be16(ip + 10, ~sum & 0xffff);

    be16(udp, DNSPRINT_PCAP_PORT);
    be16(udp + 2, DNSPRINT_PCAP_PORT);
    be16(udp + 4, (uint32_t)(8 + dns_len));
    be16(udp + 6, 0); /* no checksum (RFC 768) */
    return DNSPRINT_PCAP_RECORD_PREFIX_LEN;
}
