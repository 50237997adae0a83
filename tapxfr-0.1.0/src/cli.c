#include "config.h"

#include "cli.h"
#include "netaddr.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grp.h>
#include <pcap/pcap.h>

#include "codec/dnstap.h"
#include "output/kinds.h"

static const char usage_text[] =
    "Usage: tapxfr [OPTIONS] HOST PORT\n"
    "       tapxfr -T [-A] [-D] [-t] < RAW-IP-PACKET\n"
    "Forward DNS responses seen by libpcap to a passive DNS collector (DNSXFR01).\n"
    "\n"
    "Filters (as dnslogger-forward):\n"
    "  -A                     forward authoritative answers only (AA set)\n"
    "  -D                     drop responses with no answer records unless TC is set\n"
    "      --max-size N       drop DNS messages longer than N bytes (default 4096)\n"
    "      --match MODE       pcap: match responses to their queries (RFC 5452):\n"
    "                         off (default), count, require (forward matched only)\n"
    "      --match-timeout S  a query waits S seconds for its answer (default 10)\n"
    "      --match-table N    outstanding queries followed at once (default 16384)\n"
    "      --bailiwick MODE   dnstap with query_zone: off (default), check (drop a\n"
    "                         question outside it), scrub (remove records outside it)\n"
    "Inputs:\n"
    "  -i IF                  capture live on interface IF (repeatable; 'any' works)\n"
    "  -r FILE                read a pcap file (repeatable; '-' is standard input)\n"
    "  -f BPF                 capture filter (default: UDP port 53, also in VLAN tags)\n"
    "      --pcap-buffer SIZE kernel capture buffer for -i (default 8M)\n"
    "      --no-reassembly    forward only whole UDP datagrams (no IP fragment or\n"
    "                         DNS over TCP reassembly; -T implies it)\n"
    "      --frag-datagrams N IP datagrams reassembled at once (default 4096)\n"
    "      --frag-memory SIZE fragment bytes held at most (default 4M)\n"
    "      --frag-timeout S   drop an incomplete datagram after S seconds (default 30)\n"
    "      --tcp-flows N      DNS over TCP directions followed at once (default 16384)\n"
    "      --tcp-flow-memory SIZE bytes held per direction (default 128k)\n"
    "      --tcp-memory SIZE  bytes held for all TCP streams (default 4M)\n"
    "      --tcp-timeout S    forget an idle TCP direction after S seconds (default 60)\n"
    "      --dnstap-socket PATH  listen for dnstap writers on a Unix socket (repeatable)\n"
    "      --dnstap-socket-mode MODE   its permissions, octal (default 0660)\n"
    "      --dnstap-socket-group GROUP its group, so a resolver's user can connect\n"
    "      --dnstap-listen ADDR:PORT   listen for dnstap writers over TCP (repeatable)\n"
    "      --dnstap-file FILE    replay a dnstap file (repeatable)\n"
    "      --dnstap-types LIST   message types to forward, comma-separated (default\n"
    "                            resolver-response,forwarder-response,auth-response;\n"
    "                            also client-response, stub-response, tool-response,\n"
    "                            update-response)\n"
    "      --dnstap-max-frame SIZE skip larger dnstap frames (default 256k)\n"
    "      --dnstap-timeout S    close a writer that has not started within S seconds\n"
    "                            (default 10)\n"
    "Output:\n"
    "  HOST PORT              the collector (name, IPv4 or IPv6 address)\n"
    "  -t                     send over TCP (banner line, then length-prefixed)\n"
    "      --collector URL    also send to udp://HOST:PORT or tcp://HOST:PORT\n"
    "                         (repeatable; each has its own queue and connection)\n"
    "  -b ADDR                bind the sending socket to source address ADDR\n"
    "      --queue-size SIZE  queue bound in bytes (k/M/G suffix; default 8M)\n"
    "      --queue-messages N queue bound in messages (default 65536)\n"
    "      --flush-timeout S  on SIGTERM, wait at most S seconds for the queue (default 5)\n"
    "      --banner-timeout S wait at most S seconds for a TCP banner (default 10)\n"
    "Operation:\n"
    "  -L SECS                log statistics every SECS seconds (0: never)\n"
    "  -v                     verbose: debug messages\n"
    "      --syslog           log to syslog (LOG_DAEMON) instead of standard error\n"
    "      --stats-file PATH  write the statistics every -L seconds (default 10)\n"
    "                         in the Prometheus text format, atomically\n"
    "  -u USER                after opening inputs and sockets, run as USER\n"
    "  -g GROUP               ... and GROUP (default: USER's group)\n"
    "      --pidfile PATH     write the process id to PATH\n"
    "  -d                     detach from the terminal (run in the background)\n"
    "  -T                     test mode: forward one raw IP packet from standard input\n"
    "                         to a built-in collector and print what it received\n"
    "                         (implies --max-size 512)\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n"
    "\n"
    "Signals: SIGTERM/SIGINT flush and exit, SIGUSR1 logs statistics,\n"
    "SIGHUP rewrites the statistics file.\n";

enum {
    OPT_MAX_SIZE = 256,
    OPT_QUEUE_SIZE,
    OPT_QUEUE_MSGS,
    OPT_FLUSH,
    OPT_BANNER,
    OPT_SYSLOG,
    OPT_PCAP_BUFFER,
    OPT_DT_SOCKET,
    OPT_DT_MODE,
    OPT_DT_GROUP,
    OPT_DT_LISTEN,
    OPT_DT_FILE,
    OPT_DT_TYPES,
    OPT_DT_MAX_FRAME,
    OPT_COLLECTOR,
    OPT_DT_TIMEOUT,
    OPT_PIDFILE,
    OPT_STATS_FILE,
    OPT_NO_REASM,
    OPT_FRAG_DATAGRAMS,
    OPT_FRAG_MEMORY,
    OPT_FRAG_TIMEOUT,
    OPT_TCP_FLOWS,
    OPT_TCP_FLOW_MEMORY,
    OPT_TCP_MEMORY,
    OPT_TCP_TIMEOUT,
    OPT_MATCH,
    OPT_MATCH_TIMEOUT,
    OPT_MATCH_TABLE,
    OPT_BAILIWICK,
};

static const struct option long_opts[] = {
    {"max-size", required_argument, NULL, OPT_MAX_SIZE},
    {"queue-size", required_argument, NULL, OPT_QUEUE_SIZE},
    {"queue-messages", required_argument, NULL, OPT_QUEUE_MSGS},
    {"flush-timeout", required_argument, NULL, OPT_FLUSH},
    {"banner-timeout", required_argument, NULL, OPT_BANNER},
    {"syslog", no_argument, NULL, OPT_SYSLOG},
    {"pcap-buffer", required_argument, NULL, OPT_PCAP_BUFFER},
    {"dnstap-socket", required_argument, NULL, OPT_DT_SOCKET},
    {"dnstap-socket-mode", required_argument, NULL, OPT_DT_MODE},
    {"dnstap-socket-group", required_argument, NULL, OPT_DT_GROUP},
    {"dnstap-listen", required_argument, NULL, OPT_DT_LISTEN},
    {"dnstap-file", required_argument, NULL, OPT_DT_FILE},
    {"dnstap-types", required_argument, NULL, OPT_DT_TYPES},
    {"dnstap-max-frame", required_argument, NULL, OPT_DT_MAX_FRAME},
    {"collector", required_argument, NULL, OPT_COLLECTOR},
    {"dnstap-timeout", required_argument, NULL, OPT_DT_TIMEOUT},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"stats-file", required_argument, NULL, OPT_STATS_FILE},
    {"no-reassembly", no_argument, NULL, OPT_NO_REASM},
    {"frag-datagrams", required_argument, NULL, OPT_FRAG_DATAGRAMS},
    {"frag-memory", required_argument, NULL, OPT_FRAG_MEMORY},
    {"frag-timeout", required_argument, NULL, OPT_FRAG_TIMEOUT},
    {"tcp-flows", required_argument, NULL, OPT_TCP_FLOWS},
    {"tcp-flow-memory", required_argument, NULL, OPT_TCP_FLOW_MEMORY},
    {"tcp-memory", required_argument, NULL, OPT_TCP_MEMORY},
    {"tcp-timeout", required_argument, NULL, OPT_TCP_TIMEOUT},
    {"match", required_argument, NULL, OPT_MATCH},
    {"match-timeout", required_argument, NULL, OPT_MATCH_TIMEOUT},
    {"match-table", required_argument, NULL, OPT_MATCH_TABLE},
    {"bailiwick", required_argument, NULL, OPT_BAILIWICK},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static enum cli_result fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static enum cli_result fail(const char *fmt, ...)
{
    va_list ap;

    fputs("tapxfr: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see tapxfr --help)\n", stderr);
    return CLI_EXIT_USAGE;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v;
    unsigned shift = 0;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: return -1;
    }
    if (*end || v > (SIZE_MAX >> shift))
        return -1;
    *out = (size_t)(v << shift);
    return 0;
}

/* A filter that does not compile is a command-line error, found before
 * any device is opened. Ethernet is the most permissive link type for
 * compiling; a filter valid there but not on a device's link type is
 * reported when that device is opened. */
static int filter_compiles(const char *filter, char *err, size_t errlen)
{
    struct bpf_program prog;
    pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
    int rc;

    if (!p) {
        snprintf(err, errlen, "cannot check the filter");
        return -1;
    }
    rc = pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN);
    if (rc == 0)
        pcap_freecode(&prog);
    else
        snprintf(err, errlen, "%s", pcap_geterr(p));
    pcap_close(p);
    return rc == 0 ? 0 : -1;
}

/* "resolver-response,client-response" -> a type bit set. Query types are
 * refused: queries are never forwarded. */
static int parse_types(const char *list, uint32_t *out, char *bad, size_t badlen)
{
    char buf[512];
    char *save = NULL;

    *out = 0;
    if (strlen(list) >= sizeof(buf))
        return -1;
    strcpy(buf, list);
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int t = dnstap_type_parse(tok);
        if (t <= 0 || t % 2 != 0) {
            snprintf(bad, badlen, "%s", tok);
            return -1;
        }
        *out |= DNSTAP_TYPE_BIT(t);
    }
    return *out ? 0 : -1;
}

/* "SCHEME://HOST:PORT", "SCHEME://[V6]:PORT", for a scheme of the kinds
 * table (output/kinds.c). */
static int parse_collector(const char *url, struct cli_collector *out)
{
    const char *rest, *colon, *hend;
    size_t hlen, slen = coll_kind_scheme(url);

    if (slen == 0 || slen >= sizeof(out->scheme))
        return -1;
    memcpy(out->scheme, url, slen);
    out->scheme[slen] = '\0';
    rest = url + slen + 3;
    if (*rest == '[') {
        hend = strchr(rest, ']');
        if (!hend || hend[1] != ':')
            return -1;
        colon = hend + 1;
        rest++;
        hlen = (size_t)(hend - rest);
    } else {
        colon = strrchr(rest, ':');
        if (!colon)
            return -1;
        hlen = (size_t)(colon - rest);
    }
    if (hlen == 0 || hlen >= sizeof(out->host) || netaddr_port(colon + 1) <= 0)
        return -1;
    memcpy(out->host, rest, hlen);
    out->host[hlen] = '\0';
    snprintf(out->port, sizeof(out->port), "%s", colon + 1);
    return 0;
}

static int add_input(const char **list, int *n, const char *arg)
{
    if (*n == CLI_MAX_INPUTS || !*arg)
        return -1;
    list[(*n)++] = arg;
    return 0;
}

static void defaults(struct cli *c)
{
    memset(c, 0, sizeof(*c));
    c->max_size = 0; /* set after parsing: depends on -T */
    c->queue_bytes = CLI_DEFAULT_QUEUE_BYTES;
    c->queue_msgs = CLI_DEFAULT_QUEUE_MSGS;
    c->flush_secs = CLI_DEFAULT_FLUSH_SECS;
    c->banner_secs = CLI_DEFAULT_BANNER_SECS;
    c->pcap_buffer = 8u << 20;
    c->dt_mode = CLI_DEFAULT_SOCKET_MODE;
    c->dt_gid = (gid_t)-1;
    c->dt_types = DNSTAP_DEFAULT_TYPES;
    c->dt_max_frame = CLI_DEFAULT_DNSTAP_MAX_FRAME;
    c->dt_timeout_ms = 10000;
    c->reassembly = 1;
    c->match_secs = CLI_DEFAULT_MATCH_SECS;
    c->match_table = CLI_DEFAULT_MATCH_TABLE;
    c->frag_datagrams = CLI_DEFAULT_FRAG_DATAGRAMS;
    c->frag_bytes = CLI_DEFAULT_FRAG_BYTES;
    c->frag_secs = CLI_DEFAULT_FRAG_SECS;
    c->stream_flows = CLI_DEFAULT_STREAM_FLOWS;
    c->stream_flow_bytes = CLI_DEFAULT_STREAM_FLOW_BYTES;
    c->stream_bytes = CLI_DEFAULT_STREAM_BYTES;
    c->stream_secs = CLI_DEFAULT_STREAM_SECS;
}

/* Paths used after a possible chdir("/") (-d) or at exit are made
 * absolute now, relative to where tapxfr was started. */
static int absolute(struct cli *c, const char **path)
{
    char cwd[4096], *abs;
    size_t n;

    if (!*path || (*path)[0] == '/')
        return 0;
    if (!getcwd(cwd, sizeof(cwd)) || c->n_owned == CLI_MAX_OWNED)
        return -1;
    n = strlen(cwd) + strlen(*path) + 2;
    abs = malloc(n);
    if (!abs)
        return -1;
    snprintf(abs, n, "%s/%s", cwd, *path);
    c->owned[c->n_owned++] = abs;
    *path = abs;
    return 0;
}

void cli_close(struct cli *c)
{
    for (int i = 0; i < c->n_owned; i++)
        free(c->owned[i]);
    c->n_owned = 0;
}

#define NOT_MINE (-1)

/* Hardening: matching (pcap) and the bailiwick (dnstap). */
static int opt_harden(struct cli *c, int opt)
{
    unsigned long v;

    switch (opt) {
    case OPT_MATCH:
        if (strcmp(optarg, "off") == 0)
            c->match = CLI_MATCH_OFF;
        else if (strcmp(optarg, "count") == 0)
            c->match = CLI_MATCH_COUNT;
        else if (strcmp(optarg, "require") == 0)
            c->match = CLI_MATCH_REQUIRE;
        else
            return fail("invalid --match '%s': off, count or require expected", optarg);
        break;
    case OPT_MATCH_TIMEOUT:
        if (parse_uint(optarg, 3600, &v) < 0 || v < 1)
            return fail("invalid --match-timeout '%s': 1 to 3600 seconds expected", optarg);
        c->match_secs = (unsigned)v;
        break;
    case OPT_MATCH_TABLE:
        if (parse_uint(optarg, 1ul << 24, &v) < 0 || v < 1)
            return fail("invalid --match-table '%s': 1 to 16777216 expected", optarg);
        c->match_table = v;
        break;
    case OPT_BAILIWICK:
        if (strcmp(optarg, "off") == 0)
            c->bailiwick = CLI_BW_OFF;
        else if (strcmp(optarg, "check") == 0)
            c->bailiwick = CLI_BW_CHECK;
        else if (strcmp(optarg, "scrub") == 0)
            c->bailiwick = CLI_BW_SCRUB;
        else
            return fail("invalid --bailiwick '%s': off, check or scrub expected", optarg);
        break;
    default:
        return NOT_MINE;
    }
    return CLI_RUN;
}

/* Reassembly of IP fragments and DNS over TCP: the bounds. */
static int opt_reasm(struct cli *c, int opt)
{
    unsigned long v;
    size_t sz;

    switch (opt) {
    case OPT_NO_REASM: c->reassembly = 0; break;
    case OPT_FRAG_DATAGRAMS:
        if (parse_uint(optarg, 1ul << 20, &v) < 0 || v < 1)
            return fail("invalid --frag-datagrams '%s': 1 to 1048576 expected", optarg);
        c->frag_datagrams = v;
        break;
    case OPT_FRAG_MEMORY:
        if (cli_size(optarg, &sz) < 0 || sz < 65536 || sz > (1u << 30))
            return fail("invalid --frag-memory '%s': 64k to 1G expected", optarg);
        c->frag_bytes = sz;
        break;
    case OPT_FRAG_TIMEOUT:
        if (parse_uint(optarg, 3600, &v) < 0 || v < 1)
            return fail("invalid --frag-timeout '%s': 1 to 3600 seconds expected", optarg);
        c->frag_secs = (unsigned)v;
        break;
    case OPT_TCP_FLOWS:
        if (parse_uint(optarg, 1ul << 22, &v) < 0 || v < 1)
            return fail("invalid --tcp-flows '%s': 1 to 4194304 expected", optarg);
        c->stream_flows = v;
        break;
    case OPT_TCP_FLOW_MEMORY:
        if (cli_size(optarg, &sz) < 0 || sz < 65538 || sz > (16u << 20))
            return fail("invalid --tcp-flow-memory '%s': 64k+2 to 16M expected", optarg);
        c->stream_flow_bytes = sz;
        break;
    case OPT_TCP_MEMORY:
        if (cli_size(optarg, &sz) < 0 || sz < 65536 || sz > (1u << 30))
            return fail("invalid --tcp-memory '%s': 64k to 1G expected", optarg);
        c->stream_bytes = sz;
        break;
    case OPT_TCP_TIMEOUT:
        if (parse_uint(optarg, 86400, &v) < 0 || v < 1)
            return fail("invalid --tcp-timeout '%s': 1 to 86400 seconds expected", optarg);
        c->stream_secs = (unsigned)v;
        break;
    default:
        return NOT_MINE;
    }
    return CLI_RUN;
}

/* Inputs: pcap and dnstap. Returns CLI_RUN, a result to stop with, or NOT_MINE. */
static int opt_input(struct cli *c, int opt)
{
    unsigned long v;
    size_t sz;

    switch (opt) {
        case 'i':
            if (c->n_ifaces == CLI_MAX_INPUTS)
                return fail("too many -i interfaces (at most %d)", CLI_MAX_INPUTS);
            if (!*optarg)
                return fail("-i needs an interface name");
            c->ifaces[c->n_ifaces++] = optarg;
            break;
        case 'r':
            if (c->n_files == CLI_MAX_INPUTS)
                return fail("too many -r files (at most %d)", CLI_MAX_INPUTS);
            if (!*optarg)
                return fail("-r needs a file name");
            c->files[c->n_files++] = optarg;
            break;
        case 'f':
            /* The 2004 program ignored an empty -f: keep the default. */
            c->filter = *optarg ? optarg : NULL;
            break;
        case 'L':
            if (parse_uint(optarg, 86400 * 366, &v) < 0)
                return fail("invalid -L interval '%s': seconds expected", optarg);
            c->stats_secs = (unsigned)v;
            break;
        case 'b':
            if (netaddr_parse(optarg, 0, &c->bind_addr, &c->bind_len) < 0)
                return fail("invalid -b address '%s': an IPv4 or IPv6 address expected",
                            optarg);
            c->bind = optarg;
            break;
        case OPT_PCAP_BUFFER:
            if (cli_size(optarg, &sz) < 0 || sz < 65536 || sz > (1u << 31))
                return fail("invalid --pcap-buffer '%s': 64k to 2G expected", optarg);
            c->pcap_buffer = sz;
            break;
        case OPT_DT_SOCKET:
            if (add_input(c->dt_sockets, &c->n_dt_sockets, optarg) < 0)
                return fail("--dnstap-socket needs a path (at most %d)", CLI_MAX_INPUTS);
            break;
        case OPT_DT_LISTEN: {
            struct sockaddr_storage ss;
            socklen_t sl;
            if (add_input(c->dt_listens, &c->n_dt_listens, optarg) < 0 ||
                netaddr_parse(optarg, -1, &ss, &sl) < 0)
                return fail("invalid --dnstap-listen '%s': ADDR:PORT expected", optarg);
            break;
        }
        case OPT_DT_FILE:
            if (add_input(c->dt_files, &c->n_dt_files, optarg) < 0)
                return fail("--dnstap-file needs a file name (at most %d)", CLI_MAX_INPUTS);
            break;
        case OPT_DT_MODE: {
            char *end;
            errno = 0;
            v = strtoul(optarg, &end, 8);
            if (!*optarg || *end || errno || v > 0777)
                return fail("invalid --dnstap-socket-mode '%s': octal 0 to 0777 expected",
                            optarg);
            c->dt_mode = (unsigned)v;
            break;
        }
        case OPT_DT_GROUP: {
            struct group *g = getgrnam(optarg);
            if (g)
                c->dt_gid = g->gr_gid;
            else if (parse_uint(optarg, 0x7fffffff, &v) == 0)
                c->dt_gid = (gid_t)v;
            else
                return fail("unknown group '%s' for --dnstap-socket-group", optarg);
            break;
        }
        case OPT_DT_TYPES: {
            char bad[64] = "";
            if (parse_types(optarg, &c->dt_types, bad, sizeof(bad)) < 0)
                return fail("invalid --dnstap-types '%s'%s%s%s", optarg,
                            *bad ? ": '" : "", bad,
                            *bad ? "' is not a response type" : "");
            break;
        }
        case OPT_DT_TIMEOUT:
            if (parse_uint(optarg, 3600, &v) < 0 || v < 1)
                return fail("invalid --dnstap-timeout '%s': 1 to 3600 seconds expected",
                            optarg);
            c->dt_timeout_ms = (unsigned)v * 1000;
            break;
        case OPT_DT_MAX_FRAME:
            if (cli_size(optarg, &sz) < 0 || sz < 512 || sz > (64u << 20))
                return fail("invalid --dnstap-max-frame '%s': 512 to 64M expected", optarg);
            c->dt_max_frame = sz;
            break;
    default:
        return NOT_MINE;
    }
    return CLI_RUN;
}

/* Collectors, queues and deadlines. Returns CLI_RUN, a result to stop with, or NOT_MINE. */
static int opt_output(struct cli *c, int opt)
{
    unsigned long v;
    size_t sz;

    switch (opt) {
        case OPT_COLLECTOR:
            if (c->n_colls == CLI_MAX_COLLECTORS)
                return fail("too many collectors (at most %d)", CLI_MAX_COLLECTORS);
            if (parse_collector(optarg, &c->colls[c->n_colls]) < 0)
                return fail("invalid --collector '%s': udp://HOST:PORT or tcp://HOST:PORT expected",
                            optarg);
            c->n_colls++;
            break;
        case OPT_MAX_SIZE:
            if (parse_uint(optarg, 65535 - 12, &v) < 0 || v < 12)
                return fail("invalid --max-size '%s': 12 to 65523 expected", optarg);
            c->max_size = v;
            break;
        case OPT_QUEUE_SIZE:
            if (cli_size(optarg, &sz) < 0 || sz < 65536 || sz > ((size_t)1 << 34))
                return fail("invalid --queue-size '%s': 64k to 16G expected", optarg);
            c->queue_bytes = sz;
            break;
        case OPT_QUEUE_MSGS:
            if (parse_uint(optarg, 1ul << 30, &v) < 0 || v < 1)
                return fail("invalid --queue-messages '%s': a positive count expected",
                            optarg);
            c->queue_msgs = v;
            break;
        case OPT_FLUSH:
            if (parse_uint(optarg, 3600, &v) < 0)
                return fail("invalid --flush-timeout '%s': 0 to 3600 seconds expected",
                            optarg);
            c->flush_secs = (unsigned)v;
            break;
        case OPT_BANNER:
            if (parse_uint(optarg, 3600, &v) < 0 || v < 1)
                return fail("invalid --banner-timeout '%s': 1 to 3600 seconds expected",
                            optarg);
            c->banner_secs = (unsigned)v;
            break;
    default:
        return NOT_MINE;
    }
    return CLI_RUN;
}

/* Flags, operations, help and errors. Returns CLI_RUN, a result to stop with, or NOT_MINE. */
static int opt_flags(struct cli *c, int opt, char **argv)
{

    switch (opt) {
        case 'A': c->auth_only = 1; break;
        case 'D': c->drop_no_answer = 1; break;
        case 't': c->tcp = 1; break;
        case 'T': c->test_mode = 1; break;
        case 'v': c->verbose = 1; break;
        case 'd': c->detach = 1; break;
        case 'u': c->user = optarg; break;
        case 'g': c->group = optarg; break;
        case OPT_PIDFILE: c->pidfile = optarg; break;
        case OPT_STATS_FILE: c->stats_file = optarg; break;
        case OPT_SYSLOG: c->use_syslog = 1; break;
        case 'h':
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        case 'V':
            printf("tapxfr %s\n", PACKAGE_VERSION);
            return CLI_EXIT_OK;
        case ':':
            /* For a long option optopt holds its internal value, not a
             * letter: name it as it was typed. */
            if (optopt > 0 && optopt < 128 && isalnum(optopt))
                return fail("option -%c needs an argument", optopt);
            return fail("option %s needs an argument", argv[optind - 1]);
        default:
            if (optopt > 0 && optopt < 128 && isalnum(optopt))
                return fail("unknown option -%c", optopt);
            return fail("unknown option %s", argv[optind - 1]);
    }
    return CLI_RUN;
}

/* HOST PORT, -T's restrictions and the defaults that depend on them. */
static enum cli_result positional(struct cli *c, int argc, char **argv)
{
    c->legacy_scheme = coll_kind_legacy(c->tcp);
    if (c->max_size == 0)
        c->max_size = c->test_mode ? CLI_COMPAT_MAX_SIZE : CLI_DEFAULT_MAX_SIZE;

    if (c->test_mode) {
        /* The 2004 program dropped fragments and knew no TCP. */
        c->reassembly = 0;
        /* HOST PORT are accepted and ignored: -T always forwards to its own
         * collector on loopback. */
        if (argc - optind != 0 && argc - optind != 2)
            return fail("-T takes no HOST PORT");
        if (c->n_colls || c->detach || c->user)
            return fail("-T runs its own collector in the foreground");
        if (c->n_ifaces || c->n_files || c->n_dt_sockets || c->n_dt_listens || c->n_dt_files)
            return fail("-T reads one packet from standard input; other inputs do not apply");
    } else {
        if (argc - optind == 0 && c->n_colls == 0)
            return fail("missing HOST PORT (or --collector)");
        if (argc - optind != 0 && argc - optind != 2)
            return fail(argc - optind < 2 ? "missing PORT after HOST"
                                          : "too many arguments after HOST PORT");
        if (argc - optind == 2) {
            if (c->n_colls == CLI_MAX_COLLECTORS)
                return fail("too many collectors (at most %d)", CLI_MAX_COLLECTORS);
            c->host = argv[optind];
            c->port = argv[optind + 1];
            if (!*c->host || strlen(c->host) >= sizeof(c->colls[0].host))
                return fail("invalid HOST '%s'", c->host);
            if (netaddr_port(c->port) <= 0)
                return fail("invalid PORT '%s': 1 to 65535 expected", c->port);
            /* The positional collector comes first, as in dnslogger-forward. */
            memmove(&c->colls[1], &c->colls[0], sizeof(c->colls[0]) * (size_t)c->n_colls);
            snprintf(c->colls[0].scheme, sizeof(c->colls[0].scheme), "%s", c->legacy_scheme);
            snprintf(c->colls[0].host, sizeof(c->colls[0].host), "%s", c->host);
            snprintf(c->colls[0].port, sizeof(c->colls[0].port), "%s", c->port);
            c->n_colls++;
        }
        if (c->stats_file && c->stats_secs == 0)
            c->stats_secs = 10;
        if (c->n_ifaces == 0 && c->n_files == 0 && c->n_dt_sockets == 0 &&
            c->n_dt_listens == 0 && c->n_dt_files == 0)
            c->ifaces[c->n_ifaces++] = NULL; /* libpcap's default device */
    }
    return CLI_RUN;
}

enum cli_result cli_parse(struct cli *c, int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE + 64];
    int opt, rc;

    defaults(c);
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":ADtTvdi:r:f:L:b:u:g:hV", long_opts,
                              NULL)) != -1) {
        if ((rc = opt_output(c, opt)) == NOT_MINE && (rc = opt_input(c, opt)) == NOT_MINE &&
            (rc = opt_reasm(c, opt)) == NOT_MINE && (rc = opt_harden(c, opt)) == NOT_MINE)
            rc = opt_flags(c, opt, argv);
        if (rc != CLI_RUN)
            return (enum cli_result)rc;
    }
    if ((rc = positional(c, argc, argv)) != CLI_RUN)
        return (enum cli_result)rc;
    if (c->group && !c->user)
        return fail("-g needs -u USER");
    if (c->filter && filter_compiles(c->filter, err, sizeof(err)) < 0)
        return fail("invalid filter '%s': %s", c->filter, err);
    if (absolute(c, &c->pidfile) < 0 || absolute(c, &c->stats_file) < 0)
        return fail("cannot make the paths absolute");
    for (int i = 0; i < c->n_dt_sockets; i++)
        if (absolute(c, &c->dt_sockets[i]) < 0)
            return fail("cannot make the paths absolute");
    if (c->queue_bytes < 4 * (c->max_size + 14))
        return fail("--queue-size %zu is too small for --max-size %zu", c->queue_bytes,
                    c->max_size);
    return CLI_RUN;
}
