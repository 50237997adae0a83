/* prom.h: the counters in the Prometheus text format, generated from the
 * registry and written to a file atomically (a temporary file renamed
 * over the target), for node_exporter's textfile collector. */
#ifndef TAPXFR_STATS_PROM_H
#define TAPXFR_STATS_PROM_H

#include "stats/registry.h"

/* Writes every counter of v to path. Returns 0 or a negative errno (the
 * caller logs it). */
int stats_prom_write(const char *path, const struct stats_view *v);

#endif
