#include "config.h"

#include "metrics.h"

#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codec/dnstap.h"

/* Label values may hold paths and host names: escape as the format says. */
static void label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP tapxfr_%s %s\n# TYPE tapxfr_%s %s\n", name, help, name, type);
}

static void plain(FILE *f, const char *name, const char *help, uint64_t v)
{
    head(f, name, "counter", help);
    fprintf(f, "tapxfr_%s %" PRIu64 "\n", name, v);
}

static void per_coll(FILE *f, const struct out *o, const char *name, const char *type,
                     const char *help, uint64_t (*get)(const struct out *, int))
{
    head(f, name, type, help);
    for (int i = 0; i < o->n_colls; i++) {
        fprintf(f, "tapxfr_%s{collector=\"", name);
        label(f, out_coll_name(o, i));
        fprintf(f, "\"} %" PRIu64 "\n", get(o, i));
    }
}

static uint64_t c_fwd(const struct out *o, int i) { return out_coll_stats(o, i)->forwarded; }
static uint64_t c_fwd_bytes(const struct out *o, int i) { return out_coll_stats(o, i)->forwarded_bytes; }
static uint64_t c_connects(const struct out *o, int i) { return out_coll_stats(o, i)->connects; }
static uint64_t c_disconnects(const struct out *o, int i) { return out_coll_stats(o, i)->disconnects; }
static uint64_t c_queued(const struct out *o, int i) { return out_coll_queued(o, i); }
static uint64_t c_up(const struct out *o, int i) { return (uint64_t)out_coll_up(o, i); }

static void per_input(FILE *f, const struct dtin *const *d, int n, const char *name,
                      const char *help, size_t offset)
{
    head(f, name, "counter", help);
    for (int i = 0; i < n; i++) {
        fprintf(f, "tapxfr_%s{input=\"", name);
        label(f, d[i]->name);
        fprintf(f, "\"} %" PRIu64 "\n", *(const uint64_t *)((const char *)d[i] + offset));
    }
}

static void write_all(FILE *f, const struct stats *s, const struct out *o,
                      const struct dtin *const *d, int nd)
{
    plain(f, "received_total", "Packets and dnstap frames read by all inputs.", s->received);
    plain(f, "malformed_total", "Records that did not decode.", s->malformed);
    plain(f, "ignored_total", "Decoded records that are not DNS responses to consider.",
          s->ignored);
    plain(f, "dns_errors_total", "DNS messages too short or with implausible counts.",
          s->dns_error);
    plain(f, "queries_total", "DNS queries seen (never forwarded).", s->queries);
    plain(f, "responses_total", "DNS responses seen.", s->responses);
    plain(f, "csum_offloaded_total", "UDP checksums left to the NIC, accepted unverified.",
          s->csum_offloaded);
    plain(f, "kernel_drops_total", "Packets libpcap reports dropped.", s->kernel_drops);
    head(f, "filtered_total", "counter", "Responses not forwarded because of a filter.");
    for (int r = STATS_DROP_NO_ANSWER; r <= STATS_DROP_OVERSIZE; r++)
        fprintf(f, "tapxfr_filtered_total{reason=\"%s\"} %" PRIu64 "\n",
                stats_drop_name((enum stats_drop)r), s->filtered[r]);
    per_coll(f, o, "forwarded_total", "counter", "Messages sent to the collector.", c_fwd);
    per_coll(f, o, "forwarded_bytes_total", "counter", "DNSXFR01 bytes sent to the collector.",
             c_fwd_bytes);
    head(f, "dropped_total", "counter", "Messages for the collector that were dropped.");
    for (int i = 0; i < o->n_colls; i++) {
        for (int r = STATS_DROP_QUEUE_FULL; r < STATS_DROP_COUNT; r++) {
            fputs("tapxfr_dropped_total{collector=\"", f);
            label(f, out_coll_name(o, i));
            fprintf(f, "\",reason=\"%s\"} %" PRIu64 "\n", stats_drop_name((enum stats_drop)r),
                    out_coll_stats(o, i)->drop[r]);
        }
    }
    per_coll(f, o, "queued_messages", "gauge", "Messages waiting in the collector's queue.",
             c_queued);
    per_coll(f, o, "collector_up", "gauge", "1 when the collector connection is ready.", c_up);
    per_coll(f, o, "connects_total", "counter", "Connections made to the collector.",
             c_connects);
    per_coll(f, o, "disconnects_total", "counter", "Connections to the collector lost.",
             c_disconnects);
    if (nd == 0)
        return;
    per_input(f, d, nd, "dnstap_connections_total", "dnstap writers accepted.",
              offsetof(struct dtin, connections));
    per_input(f, d, nd, "dnstap_handshake_failures_total",
              "dnstap connections closed before START.", offsetof(struct dtin, handshake_fail));
    per_input(f, d, nd, "dnstap_protocol_errors_total",
              "dnstap connections closed on a protocol error.",
              offsetof(struct dtin, protocol_errors));
    per_input(f, d, nd, "dnstap_frames_total", "dnstap data frames.",
              offsetof(struct dtin, frames));
    per_input(f, d, nd, "dnstap_bytes_total", "dnstap data frame bytes.",
              offsetof(struct dtin, bytes));
    per_input(f, d, nd, "dnstap_oversize_total", "dnstap frames skipped as too large.",
              offsetof(struct dtin, oversize));
    per_input(f, d, nd, "dnstap_malformed_total", "dnstap frames that did not decode.",
              offsetof(struct dtin, malformed));
    per_input(f, d, nd, "dnstap_accepted_total", "dnstap responses queued for forwarding.",
              offsetof(struct dtin, accepted));
    per_input(f, d, nd, "dnstap_pauses_total",
              "dnstap reads stopped until a UDP collector's queue had room.",
              offsetof(struct dtin, pauses));
    head(f, "dnstap_messages_total", "counter", "dnstap messages by type.");
    for (int i = 0; i < nd; i++) {
        for (int t = 1; t <= DNSTAP_TYPE_MAX; t++) {
            if (!d[i]->by_type[t])
                continue;
            fputs("tapxfr_dnstap_messages_total{input=\"", f);
            label(f, d[i]->name);
            fprintf(f, "\",type=\"%s\"} %" PRIu64 "\n", dnstap_type_name(t), d[i]->by_type[t]);
        }
    }
}

int metrics_write(const char *path, const struct stats *s, const struct out *o,
                  const struct dtin *const *dtins, int n_dtins)
{
    char tmp[4096];
    FILE *f;
    int rc = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
        return -ENAMETOOLONG;
    f = fopen(tmp, "w");
    if (!f)
        return -errno;
    write_all(f, s, o, dtins, n_dtins);
    if (fflush(f) != 0 || ferror(f))
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    /* rename() is atomic: a scraper sees the old file or the new one. */
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}
