/* args.c: the command line. */
#include "config.h"

#include "collect/collect.h"
#include <getopt.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " COLLECT_PROG " [-u ADDR:PORT]... [-t ADDR:PORT]... "
            "[-f json|text|hex] [-n N]\n"
            "       [-o FILE] [--pcap FILE] [--banner TEXT] [-v]\n"
            "       " COLLECT_PROG " -h | -V\n"
            "\n"
            "Receives DNSXFR01 messages and prints one line per valid "
            "message.\n"
            "\n"
            "  -u, --udp ADDR:PORT     listen on UDP (repeatable, port 0: "
            "any free port)\n"
            "  -t, --tcp ADDR:PORT     listen on TCP (repeatable)\n"
            "  -f, --format FORMAT     json (default: one JSON object per "
            "line), text or hex\n"
            "  -n, --count N           exit after N valid messages (0: "
            "never)\n"
            "  -o, --output FILE       append lines to FILE instead of "
            "stdout\n"
            "      --pcap FILE         also write every valid message as a "
            "UDP packet\n"
            "                          to the pcap file FILE (truncated "
            "first)\n"
            "      --banner TEXT       TCP banner (default "
            "\"dnslogger/DNSXFR01\";\n"
            "                          CR LF appended, empty: none)\n"
            "  -v, --verbose           debug lines on stderr\n"
            "  -h, --help              print this help and exit\n"
            "  -V, --version           print the version and exit\n"
            "\n"
            "ADDR is an IPv4 address or a bracketed IPv6 address, e.g. "
            "[::1]:5353.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, COLLECT_PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    return -1;
}

static int parse_count(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

enum { OPT_BANNER = 256, OPT_PCAP };

static int add_listener(struct collect_opts *o, enum collect_proto proto,
                        const char *arg)
{
    struct collect_listen *ls;

    if (o->n_listen == COLLECT_MAX_LISTENERS)
        return usage_error("too many listeners (at most 64), at %s", arg);
    ls = &o->listen[o->n_listen];
    ls->proto = proto;
    ls->text = arg;
    if (netaddr_parse(arg, -1, &ls->addr, &ls->addr_len) < 0)
        return usage_error("invalid listen address '%s', expected "
                           "ADDR:PORT", arg);
    o->n_listen++;
    return 0;
}

static int parse_format(const char *arg, enum collect_format *format)
{
    if (strcmp(arg, "json") == 0)
        *format = COLLECT_JSON;
    else if (strcmp(arg, "text") == 0)
        *format = COLLECT_TEXT;
    else if (strcmp(arg, "hex") == 0)
        *format = COLLECT_HEX;
    else
        return usage_error("invalid format '%s', expected json, "
                           "text or hex", arg);
    return 0;
}

/* getopt_long() returned ':' (missing argument) or '?' (unknown). */
static int bad_option(int c, char **argv)
{
    char optname[3] = "-?";

    if (c == ':') {
        /* glibc leaves optind past the option that lacked its
         * argument; a long one is named by that element. */
        if (strncmp(argv[optind - 1], "--", 2) == 0)
            return usage_error("option %s needs an argument",
                               argv[optind - 1]);
        optname[1] = (char)optopt;
        return usage_error("option %s needs an argument", optname);
    }
    /* optopt is 0 for an unknown or ambiguous long option. */
    if (optopt == 0)
        return usage_error("unknown or ambiguous option %s",
                           argv[optind - 1]);
    optname[1] = (char)optopt;
    return usage_error("unknown option %s", optname);
}

/* One option as getopt_long() returned it, with its argument in optarg.
 * Returns 0 to go on, else what collect_parse_args() returns. */
static int parse_option(int c, char **argv, struct collect_opts *o)
{
    switch (c) {
    case 'u':
    case 't':
        return add_listener(o, c == 'u' ? COLLECT_UDP : COLLECT_TCP, optarg);
    case 'f':
        return parse_format(optarg, &o->format);
    case 'n':
        if (parse_count(optarg, &o->count) < 0)
            return usage_error("invalid count '%s', expected a "
                               "non-negative integer", optarg);
        return 0;
    case 'o':
        if (*optarg == '\0')
            return usage_error("empty output file name%s", "");
        o->output = optarg;
        return 0;
    case OPT_BANNER:
        o->banner = optarg;
        return 0;
    case OPT_PCAP:
        if (*optarg == '\0')
            return usage_error("empty pcap file name%s", "");
        o->pcap = optarg;
        return 0;
    case 'v':
        o->verbose = 1;
        return 0;
    case 'h':
        usage(stdout);
        return 1;
    case 'V':
        printf(COLLECT_PROG " %s\n", PACKAGE_VERSION);
        return 1;
    default:
        return bad_option(c, argv);
    }
}

int collect_parse_args(int argc, char **argv, struct collect_opts *o)
{
    static const struct option longopts[] = {
        { "udp", required_argument, NULL, 'u' },
        { "tcp", required_argument, NULL, 't' },
        { "format", required_argument, NULL, 'f' },
        { "count", required_argument, NULL, 'n' },
        { "output", required_argument, NULL, 'o' },
        { "banner", required_argument, NULL, OPT_BANNER },
        { "pcap", required_argument, NULL, OPT_PCAP },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c, rc;

    memset(o, 0, sizeof(*o));
    o->format = COLLECT_JSON;
    /* Our own messages: getopt's would add a second line to ours. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":u:t:f:n:o:vhV", longopts, NULL)) !=
           -1) {
        rc = parse_option(c, argv, o);
        if (rc != 0)
            return rc;
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (o->n_listen == 0)
        return usage_error("no listener given, use -u and/or -t%s", "");
    return 0;
}
