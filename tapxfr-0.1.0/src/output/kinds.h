/* kinds.h: the table of collector kinds, by URL scheme.
 *
 * Each kind is one file (output/udp.c, output/tcp.c) that fills a struct
 * coll_ops; this table is the one place that lists them. A new kind (a
 * Frame Streams writer, a Kafka producer) is one new file plus one line
 * in kinds.c. */
#ifndef TAPXFR_OUTPUT_KINDS_H
#define TAPXFR_OUTPUT_KINDS_H

#include "output/coll.h"

/* The kind for a scheme ("udp", "tcp"), or NULL. */
const struct coll_ops *coll_kind(const char *scheme);

/* The scheme of a URL "SCHEME://...": the length of the part before
 * "://" when it names a kind, 0 otherwise. */
size_t coll_kind_scheme(const char *url);

/* The scheme of the 2004 program's positional collector: UDP, or TCP
 * with -t. */
const char *coll_kind_legacy(int tcp);

#endif
