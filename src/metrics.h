/* metrics.h: the counters in the Prometheus text format, written to a file
 * atomically (a temporary file renamed over the target), for
 * node_exporter's textfile collector. */
#ifndef TAPXFR_METRICS_H
#define TAPXFR_METRICS_H

#include "input/dtin.h"
#include "output/out.h"
#include "stats.h"

/* Writes every counter to path. dtins are the dnstap inputs. Returns 0 or
 * a negative errno (the caller logs it). */
int metrics_write(const char *path, const struct stats *s, const struct out *o,
                  const struct dtin *const *dtins, int n_dtins);

#endif
