/* pcapin.h: the libpcap input adapter: live interfaces and pcap files.
 *
 * Live captures are driven by uv_poll on the pcap selectable descriptor
 * and are never slowed down: when a queue is full their records are
 * dropped and counted (libpcap's kernel buffer would drop them anyway).
 * A device that fails is closed and reopened with backoff, as the 2004
 * dnslogger-forward did. Files are read as every file input is
 * (input/filein.h): in batches on the loop, paused while the stage has no
 * room (backpressure), so nothing read from a file is ever lost. */
#ifndef TAPXFR_INPUT_PCAPIN_H
#define TAPXFR_INPUT_PCAPIN_H

#include <pcap/pcap.h>
#include <uv.h>

#include "input/filein.h"
#include "input/wire.h"
#include "stage/stage.h"

/* Default capture filter for Ethernet: UDP port 53, bare or inside one or
 * two 802.1Q / 802.1ad tags. libpcap's `vlan` keyword moves the offsets of
 * everything after it, so each alternative adds one more tag. */
#define PCAPIN_FILTER_ETHER \
    "udp port 53 or (vlan and udp port 53) or (vlan and udp port 53)"
#define PCAPIN_FILTER_OTHER "udp port 53"
/* With reassembly: also TCP port 53, and the fragments that carry no port
 * (IPv4: a non-zero offset; IPv6: a fragment header right after the fixed
 * one, where every sender puts it); ports are checked again once whole. */
#define PCAPIN_DNS_REASM \
    "(udp port 53 or tcp port 53 or (ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44))"
#define PCAPIN_FILTER_ETHER_REASM \
    PCAPIN_DNS_REASM " or (vlan and " PCAPIN_DNS_REASM ") or (vlan and " PCAPIN_DNS_REASM ")"
#define PCAPIN_FILTER_OTHER_REASM PCAPIN_DNS_REASM
#define PCAPIN_FILE_BATCH 512
#define PCAPIN_FILE_BUF (1 << 20)

struct pcapin {
    uv_loop_t *loop;
    struct stage *stage;
    struct wire wire;  /* IP and DNS over TCP reassembly, */
    int reassembly;    /* when on (else whole UDP datagrams only) */
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
    struct filein file; /* file: read a batch per loop iteration */
    unsigned reopen_ms;
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
int pcapin_init(struct pcapin *in, uv_loop_t *loop, struct stage *stage,
                const struct wire_conf *reasm, const char *name, int is_file,
                const char *filter, size_t buffer_size,
                char *errbuf, size_t errlen);

/* Starts reading. */
int pcapin_start(struct pcapin *in);

/* Resumes a file input paused for room (from the stage's on_room). */
void pcapin_resume(struct pcapin *in);

/* Adds libpcap's kernel drop counts to the statistics. */
void pcapin_update_stats(struct pcapin *in);

/* Frees the reassembly tables, after the close callback and the last
 * statistics. */
void pcapin_free(struct pcapin *in);

/* Adds the input's reassembly counters to st (see wire_add_stats()). */
void pcapin_add_stats(const struct pcapin *in, struct stats *st);

/* Stops reading and closes every handle; cb runs when all are closed. */
void pcapin_close(struct pcapin *in, void (*cb)(struct pcapin *in));

/* Decodes one captured packet of the given link type into a record and
 * submits it to the stage (shared by the file, live and test-mode paths; a
 * file caller asks stage_full() between packets). Returns VERDICT_OK or
 * the negative enum verdict (codec/verdict.h) that stopped it, so the
 * caller can say why. */
int pcapin_packet(struct stage *st, int linktype, const uint8_t *data, size_t caplen,
                  int64_t sec, int32_t nsec, struct pkt_info *info);

#endif
