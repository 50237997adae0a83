/* wire.h: what the wire carries, for the pcap input: a captured packet
 * through the packet decoder, IP fragment reassembly (codec/ipfrag.h) and
 * DNS over TCP stream reassembly (codec/tcpdns.h), into records for the
 * stage.
 *
 * Each pcap input has a struct wire of its own (two files are two
 * captures, and a worker of its own per capture is where live capture
 * goes next). Time is packet time: a capture file gives the same records
 * however fast it is read.
 *
 * Accounting. Every packet is counted once in `received`, then in
 * malformed, ignored, held (taken by a reassembler: a fragment, or a TCP
 * segment) or as the record it is. Each whole message a reassembler
 * yields is one more record, counted in `reassembled` and then in its own
 * outcome, so
 *   received + reassembled == malformed + ignored + held
 *                             + dns_error + queries + responses.
 * Only datagrams and streams with port 53 at one end are reassembled or
 * followed; a reassembled datagram without it is ignored. */
#ifndef TAPXFR_INPUT_WIRE_H
#define TAPXFR_INPUT_WIRE_H

#include <stdint.h>

#include "codec/ipfrag.h"
#include "codec/packet.h"
#include "codec/tcpdns.h"
#include "stage/stage.h"

#define WIRE_DNS_PORT 53
#define WIRE_EXPIRE_NS 1000000000 /* idle TCP directions checked every second */

struct wire_conf {
    struct ipfrag_conf frag;
    struct tcpdns_conf stream; /* DNS over TCP */
};

struct wire {
    struct stage *stage;
    struct ipfrag frag;
    struct tcpdns tcp;
    int64_t next_expire; /* packet time of the next idle check */
    int64_t last_sec;    /* the last packet's time */
    int32_t last_nsec;
};

/* Allocates the tables (once, at their bounds). Returns 0 or -ENOMEM. */
int wire_init(struct wire *w, struct stage *stage, const struct wire_conf *conf);
void wire_close(struct wire *w);

/* Decodes one captured packet and submits what it completes. Returns
 * VERDICT_OK when it was, or completed, a response that passed the
 * checks; otherwise the negative verdict of the packet itself (held
 * packets: VERDICT_HELD). */
int wire_packet(struct wire *w, int linktype, const uint8_t *data, size_t caplen,
                int64_t sec, int32_t nsec, struct pkt_info *info);

/* The inputs have ended: what TCP directions hold behind gaps is
 * delivered now (the segments they wait for will not come). */
void wire_finish(struct wire *w);

/* Adds the reassemblers' counters to st (the caller zeroes st->frag and
 * st->tcp first, then adds every input's). */
void wire_add_stats(const struct wire *w, struct stats *st);

#endif
