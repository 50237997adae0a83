/* pcapout.c: the --pcap file, every valid message as one packet. */
#include "config.h"

#include "collect/collect.h"
#include "codec/dnsprint_pcap.h"
#include "log.h"

/* The message as a UDP packet from the nameserver (0.0.0.0 when the
 * field is zero) to 127.0.0.1, both port 53. tapxfr puts the source
 * address of an AA response into the field, so tapxfr -r gives back the
 * same DNSXFR01 message whenever the field is zero or AA is set: for
 * everything tapxfr sends. */
void collect_pcap_write(struct collector *col, const struct timespec *ts,
                        const char *peer, const uint8_t ns[4],
                        const uint8_t *dns, size_t dns_len)
{
    static const uint8_t dst[4] = { 127, 0, 0, 1 };
    uint8_t prefix[DNSPRINT_PCAP_RECORD_PREFIX_LEN];

    if (dnsprint_pcap_record(prefix, (uint32_t)ts->tv_sec,
                             (uint32_t)(ts->tv_nsec / 1000), ns, dst,
                             dns_len) < 0) {
        col->pcap_too_long++;
        log_debug("message from %s: %zu bytes of DNS are too long for an "
                  "IPv4 packet, not in the pcap file", peer, dns_len);
        return;
    }
    fwrite(prefix, 1, sizeof(prefix), col->pcap);
    fwrite(dns, 1, dns_len, col->pcap);
}

int collect_pcap_open(struct collector *col, const char *path)
{
    uint8_t header[DNSPRINT_PCAP_FILE_HEADER_LEN];

    col->pcap = fopen(path, "wb");
    if (!col->pcap) {
        log_warn("cannot open %s", path);
        return -1;
    }
    setvbuf(col->pcap, NULL, _IOFBF, COLLECT_OUT_BUF);
    dnsprint_pcap_file_header(header);
    fwrite(header, 1, sizeof(header), col->pcap);
    /* A reader started now finds a valid, empty file. */
    if (fflush(col->pcap) != 0) {
        log_warn("cannot write %s", path);
        return -1;
    }
    return 0;
}
