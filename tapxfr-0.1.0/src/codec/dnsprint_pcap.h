/* dnsprint_pcap.h: DNS messages as IPv4/UDP packets in a classic pcap
 * file (pure encoder).
 *
 * Microsecond timestamps, little-endian, LINKTYPE_RAW, written by hand so
 * the collector needs no libpcap. A file is the file header followed, per
 * message, by the record prefix from dnsprint_pcap_record() and the DNS
 * message itself. The caller owns every buffer and does the writing. */
#ifndef TAPXFR_CODEC_DNSPRINT_PCAP_H
#define TAPXFR_CODEC_DNSPRINT_PCAP_H

#include <stddef.h>
#include <stdint.h>

/* For DNSPRINT_ETOOBIG, the status dnsprint_pcap_record() fails with. */
#include "codec/dnsprint.h"

#define DNSPRINT_PCAP_FILE_HEADER_LEN 24
#define DNSPRINT_PCAP_LINKTYPE_RAW 101
#define DNSPRINT_PCAP_SNAPLEN 65535
/* The 16-byte record header, then the 20-byte IPv4 and 8-byte UDP
 * headers. */
#define DNSPRINT_PCAP_RECORD_PREFIX_LEN (16 + 20 + 8)
/* The IPv4 total length is 16 bits. */
#define DNSPRINT_PCAP_DNS_MAX (65535 - 20 - 8)
#define DNSPRINT_PCAP_PORT 53

/* Writes the pcap file header: magic a1b2c3d4 (microseconds), version
 * 2.4, snaplen DNSPRINT_PCAP_SNAPLEN, link type LINKTYPE_RAW. */
void dnsprint_pcap_file_header(uint8_t out[DNSPRINT_PCAP_FILE_HEADER_LEN]);

/* Writes the prefix of one pcap record holding a DNS message of dns_len
 * bytes: the record header (time sec.usec, captured and original length
 * alike) and an IPv4 header (no options, ID 0, DF, TTL 64, protocol UDP,
 * header checksum computed) from src to dst, then a UDP header from port
 * 53 to port 53 with checksum 0 (none). The DNS message must follow it
 * in the file. Returns DNSPRINT_PCAP_RECORD_PREFIX_LEN, or
 * DNSPRINT_ETOOBIG when dns_len exceeds DNSPRINT_PCAP_DNS_MAX (out is
 * then untouched). */
int dnsprint_pcap_record(uint8_t out[DNSPRINT_PCAP_RECORD_PREFIX_LEN],
                         uint32_t sec, uint32_t usec, const uint8_t src[4],
                         const uint8_t dst[4], size_t dns_len);

#endif
