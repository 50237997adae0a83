/* message.c: what happens to one received message, whichever socket it
 * came from, and the flushing of what it printed. */
#include "config.h"

#include "collect/collect.h"
#include "log.h"

#include <inttypes.h>

void collect_output_check(struct collector *col)
{
    if (ferror(col->out)) {
        log_warn("cannot write output");
        clearerr(col->out);
        collect_stop(col, COLLECT_EXIT_RUNTIME);
    }
    if (col->pcap && ferror(col->pcap)) {
        log_warn("cannot write the pcap file");
        clearerr(col->pcap);
        collect_stop(col, COLLECT_EXIT_RUNTIME);
    }
}

void collect_on_flush(uv_check_t *h)
{
    struct collector *col = h->data;

    /* Runs once per loop iteration, after the I/O callbacks: one flush
     * per batch of reads keeps output prompt without a write per line. */
    if (!col->dirty)
        return;
    col->dirty = 0;
    fflush(col->out);
    if (col->pcap)
        fflush(col->pcap);
    collect_output_check(col);
}

int collect_message(struct collector *col, const struct timespec *ts,
                    const char *peer, const char *proto, const uint8_t *buf,
                    size_t len)
{
    const uint8_t *ns, *dns;
    size_t dns_len;
    struct dnsprint_msg m;
    int rc;

    if (dnsxfr_parse(buf, len, &ns, &dns, &dns_len) < 0) {
        col->invalid++;
        log_debug("invalid message from %s (%s): %s", peer, proto,
                  len < DNSXFR_HEADER_LEN ? "shorter than the header"
                                          : "bad magic");
        return COLLECT_MSG_BAD_FRAME;
    }
    rc = dnsprint_walk(dns, dns_len, &m);
    if (rc < 0) {
        col->invalid++;
        log_debug("invalid message from %s (%s): DNS message %s", peer,
                  proto, dnsprint_strerror(rc));
        return COLLECT_MSG_BAD_DNS;
    }
    if (col->format == COLLECT_HEX)
        collect_print_hex(col, buf, len);
    else if (col->format == COLLECT_TEXT)
        collect_print_text(col, peer, proto, ns, &m);
    else
        collect_print_json(col, ts, peer, proto, ns, dns, dns_len, &m);
    if (col->pcap)
        collect_pcap_write(col, ts, peer, ns, dns, dns_len);
    col->dirty = 1;
    col->received++;
    collect_output_check(col);
    if (col->limit && col->received >= col->limit) {
        log_debug("%" PRIu64 " messages received, stopping", col->received);
        collect_stop(col, COLLECT_EXIT_OK);
    }
    return COLLECT_MSG_OK;
}
