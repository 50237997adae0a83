/* registry.h: every counter, declared once.
 *
 * Each entry names one number of struct stats (scope GLOBAL), struct
 * stats_out (COLL, one per collector) or struct stats_in (INPUT, one per
 * dnstap input): its key in the stats line, its Prometheus family and
 * label, its help text. The stats line (stats/line.c: -L, SIGUSR1, the
 * exit summary) and the Prometheus file (stats/prom.c) are both generated
 * by walking this table, so they list the same counters under names that
 * follow from each other:
 *   - the Prometheus family is tapxfr_METRIC; its HELP text ends with
 *     "(stats line: KEY)", where KEY may hold <LABEL> for a family whose
 *     members differ by one label (drop_<reason>: dropped_total{reason});
 *   - collector series carry collector="udp://...", input series
 *     input="dnstap-socket /path".
 * The global stats line also shows, under the collector's key, the sum of
 * some collector counters over the collectors (REF), and two totals:
 * dropped (every drop_*) and pending (every queued_messages). Those are
 * sums of series that the file has, so the file does not repeat them. */
#ifndef TAPXFR_STATS_REGISTRY_H
#define TAPXFR_STATS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "stats/stats.h"

enum stats_scope { STATS_GLOBAL, STATS_COLL, STATS_INPUT };
/* A HISTOGRAM entry points at a struct match_hist: the file has its
 * buckets, _sum and _count; the line its KEY_count and KEY_sum_us. */
enum stats_type { STATS_COUNTER, STATS_GAUGE, STATS_HISTOGRAM };

#define STATS_F_NONZERO 1 /* the line shows it only when not zero */
/* GLOBAL entries that only place a sum in the global line: REF, the COLL
 * counter of the same key summed over the collectors; TOTAL, dropped
 * (every drop_*) or pending (every queued_messages). */
#define STATS_F_REF 2
#define STATS_F_TOTAL 4

/* One counter, or an array of them (n > 1): member i is named by
 * member(i), which returns NULL for an index that is not used. */
struct stats_def {
    enum stats_scope scope;
    enum stats_type type;
    unsigned flags;
    const char *key;    /* stats line key, or its prefix for an array */
    const char *metric; /* Prometheus family, without "tapxfr_" */
    const char *label;  /* label telling members apart, or NULL */
    const char *value;  /* its value for a single counter with a label */
    size_t off;         /* of the first uint64_t in the scope's struct */
    int first, n;       /* array: members first .. n - 1 */
    const char *(*member)(int i);
    const char *help;
};

extern const struct stats_def stats_defs[];
extern const size_t stats_n_defs;

/* Everything a report covers, borrowed from the caller for one call. */
struct stats_view {
    const struct stats *g;
    const struct stats_out *const *colls;
    const char *const *coll_names;
    size_t n_colls;
    const struct stats_in *const *inputs;
    const char *const *input_names;
    size_t n_inputs;
};

/* The value of member i of def d in the scope struct base. */
static inline uint64_t stats_get(const struct stats_def *d, const void *base, int i)
{
    return ((const uint64_t *)(const void *)((const char *)base + d->off))[i];
}

/* The key of member i: prefix + member name, into buf. Returns buf, or
 * NULL when the member is not used. */
const char *stats_key(const struct stats_def *d, int i, char *buf, size_t size);

#endif
