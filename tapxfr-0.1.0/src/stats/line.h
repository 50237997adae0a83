/* line.h: the counters as "key=value ..." lines (the -L statistics,
 * SIGUSR1 and the exit summary), generated from the registry. */
#ifndef TAPXFR_STATS_LINE_H
#define TAPXFR_STATS_LINE_H

#include <stddef.h>

#include "stats/registry.h"

/* The whole process: every GLOBAL counter, with the sums over v's
 * collectors in their places (so with one collector forwarded + dropped
 * == responses). Returns the length written (truncated at size - 1). */
size_t stats_line_global(char *buf, size_t size, const struct stats_view *v);

/* One collector's or one input's counters. */
size_t stats_line_coll(char *buf, size_t size, const struct stats_out *o);
size_t stats_line_input(char *buf, size_t size, const struct stats_in *in);

#endif
