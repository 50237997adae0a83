/* pcapin.h: the libpcap input adapter: live interfaces and pcap files.
 *
 * Live captures are driven by uv_poll on the pcap selectable descriptor
 * and are never slowed down: when the output is congested their records
 * are dropped and counted (libpcap's kernel buffer would drop them anyway).
 * A device that fails is closed and reopened with backoff, as the 2004
 * dnslogger-forward did. Files are read in batches from an idle handle and
 * paused while the output is congested (backpressure), so nothing read
 * from a file is ever lost. */
#ifndef TAPXFR_INPUT_PCAPIN_H
#define TAPXFR_INPUT_PCAPIN_H

#include <pcap/pcap.h>
#include <uv.h>

#include "output/out.h"
#include "stats.h"

/* Default capture filter for Ethernet: UDP port 53, bare or inside one or
 * two 802.1Q / 802.1ad tags. libpcap's `vlan` keyword moves the offsets of
 * everything after it, so each alternative adds one more tag. */
#define PCAPIN_FILTER_ETHER \
    "udp port 53 or (vlan and udp port 53) or (vlan and udp port 53)"
#define PCAPIN_FILTER_OTHER "udp port 53"
#define PCAPIN_FILE_BATCH 512
#define PCAPIN_FILE_BUF (1 << 20)

struct pcapin {
    uv_loop_t *loop;
    struct out *out;
    struct stats *stats;
    const char *name;  /* interface or file name; NULL: default device */
    const char *filter;/* user filter or NULL */
    size_t buffer_size;
    int is_file;
    pcap_t *p;
    char *fbuf; /* file: the stdio buffer it is read through */
    int linktype;
    long ts_scale; /* to nanoseconds: 1 or 1000 */
    uv_poll_t poll;
    int poll_open;
    uv_timer_t timer; /* live: reopen backoff; file: unused */
    uv_idle_t idle;   /* file: reads a batch per loop iteration */
    unsigned reopen_ms;
    int eof;
    uint64_t last_kernel_drops;
    int closing;
    int open_handles;
    void (*on_done)(struct pcapin *in); /* file finished */
    void (*on_closed)(struct pcapin *in);
    void *data;
};

/* Opens the device or file now, so that errors (no such file, bad filter,
 * unsupported link type) are reported at startup. errbuf receives one line
 * on failure. Returns 0 or a negative code. */
int pcapin_init(struct pcapin *in, uv_loop_t *loop, struct out *out,
                struct stats *stats, const char *name, int is_file,
                const char *filter, size_t buffer_size,
                char *errbuf, size_t errlen);

/* Starts reading. */
int pcapin_start(struct pcapin *in);

/* Resumes a file input paused on congestion (called from out's on_space). */
void pcapin_resume(struct pcapin *in);

/* Adds libpcap's kernel drop counts to the statistics. */
void pcapin_update_stats(struct pcapin *in);

/* Stops reading and closes every handle; cb runs when all are closed. */
void pcapin_close(struct pcapin *in, void (*cb)(struct pcapin *in));

/* Decodes one captured packet of the given link type into a record and
 * submits it (shared by the file, live and test-mode paths; a file caller
 * checks out_congested() between packets). Returns 0,
 * a negative enum pkt_reason, or a negative enum dns_verdict offset by
 * PCAPIN_DNS_BASE, so the caller can say why. */
#define PCAPIN_DNS_BASE -100
int pcapin_packet(struct out *out, struct stats *stats, int linktype,
                  const uint8_t *data, size_t caplen, int64_t sec, int32_t nsec,
                  struct pkt_info *info);

#endif
