/* netaddr.h: parsing of numeric socket addresses given on command lines.
 * Pure: no name resolution (that is uv_getaddrinfo's job in the loop). */
#ifndef TAPXFR_NETADDR_H
#define TAPXFR_NETADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

/* Parses "A.B.C.D:PORT", "[V6]:PORT" or "V6" / "A.B.C.D" when
 * default_port >= 0 (then ":PORT" is optional; for an IPv6 literal without
 * brackets the whole string is the address). Fills *ss and *len.
 * Returns 0, or -1 when the string is not a numeric address and port. */
int netaddr_parse(const char *s, int default_port,
                  struct sockaddr_storage *ss, socklen_t *len);

/* Parses a port number 0..65535 (all digits). Returns it, or -1. */
int netaddr_port(const char *s);

/* Formats "A.B.C.D:PORT" or "[V6]:PORT" into buf; returns buf. */
const char *netaddr_str(const struct sockaddr *sa, char *buf, size_t size);

#define NETADDR_STRLEN 64

#endif
