/* cli.h: tapxfr's command line and the configuration it yields.
 *
 * The command line accepts the 2004 dnslogger-forward's form
 *   tapxfr [-A] [-D] [-t] [-T] [-v] [-i IF] [-f BPF] [-L SECS] [-b ADDR] HOST PORT
 * and extends it with long options. cli_parse() validates everything that
 * can be validated without opening a device or a socket, so a bad command
 * line fails with one clear line and exit status 2 before anything starts. */
#ifndef TAPXFR_CLI_H
#define TAPXFR_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define CLI_MAX_INPUTS 64
#define CLI_MAX_COLLECTORS 16
#define CLI_MAX_OWNED (CLI_MAX_INPUTS + 2)
#define CLI_DEFAULT_MAX_SIZE 4096
#define CLI_COMPAT_MAX_SIZE 512
#define CLI_DEFAULT_QUEUE_BYTES (8u << 20)
#define CLI_DEFAULT_QUEUE_MSGS 65536
#define CLI_DEFAULT_FLUSH_SECS 5
#define CLI_DEFAULT_BANNER_SECS 10
#define CLI_DEFAULT_DNSTAP_MAX_FRAME (256u << 10)
#define CLI_DEFAULT_SOCKET_MODE 0660
#define CLI_DEFAULT_FRAG_DATAGRAMS 4096
#define CLI_DEFAULT_FRAG_BYTES (4u << 20)
#define CLI_DEFAULT_FRAG_SECS 30
#define CLI_DEFAULT_STREAM_FLOWS 16384
#define CLI_DEFAULT_STREAM_FLOW_BYTES (128u << 10)
#define CLI_DEFAULT_STREAM_BYTES (4u << 20)
#define CLI_DEFAULT_STREAM_SECS 60
#define CLI_DEFAULT_MATCH_SECS 10
#define CLI_DEFAULT_MATCH_TABLE 16384

enum cli_match { CLI_MATCH_OFF = 0, CLI_MATCH_COUNT, CLI_MATCH_REQUIRE };
enum cli_bailiwick { CLI_BW_OFF = 0, CLI_BW_CHECK, CLI_BW_SCRUB };

struct cli {
    /* filters (2004 options) */
    int auth_only;      /* -A */
    int drop_no_answer; /* -D */
    size_t max_size;    /* --max-size, -T: 512 */
    int test_mode;      /* -T */
    int verbose;        /* -v */

    /* inputs */
    const char *ifaces[CLI_MAX_INPUTS]; /* -i, repeatable */
    int n_ifaces;
    const char *files[CLI_MAX_INPUTS]; /* -r, repeatable; "-" is stdin */
    int n_files;
    const char *filter; /* -f, NULL: the default per link type */
    size_t pcap_buffer; /* --pcap-buffer, kernel capture buffer bytes */
    const char *dt_sockets[CLI_MAX_INPUTS]; /* --dnstap-socket */
    int n_dt_sockets;
    const char *dt_listens[CLI_MAX_INPUTS]; /* --dnstap-listen */
    int n_dt_listens;
    const char *dt_files[CLI_MAX_INPUTS]; /* --dnstap-file */
    int n_dt_files;
    unsigned dt_mode;  /* --dnstap-socket-mode */
    gid_t dt_gid;      /* --dnstap-socket-group, (gid_t)-1 if unset */
    uint32_t dt_types; /* --dnstap-types, DNSTAP_TYPE_BIT set */
    size_t dt_max_frame; /* --dnstap-max-frame */
    unsigned dt_timeout_ms; /* --dnstap-timeout: handshake deadline */
    int reassembly;          /* off with --no-reassembly and -T */
    enum cli_match match;    /* --match */
    unsigned match_secs;     /* --match-timeout */
    size_t match_table;      /* --match-table */
    enum cli_bailiwick bailiwick; /* --bailiwick */
    size_t frag_datagrams;   /* --frag-datagrams */
    size_t frag_bytes;       /* --frag-memory */
    unsigned frag_secs;      /* --frag-timeout */
    size_t stream_flows;        /* --tcp-flows */
    size_t stream_flow_bytes;   /* --tcp-flow-memory */
    size_t stream_bytes;        /* --tcp-memory */
    unsigned stream_secs;       /* --tcp-timeout */

    /* output: the positional HOST PORT and every --collector */
    int tcp;              /* -t: the positional collector is TCP */
    const char *legacy_scheme; /* the kind of the positional (and -T) collector */
    const char *host;     /* HOST */
    const char *port;     /* PORT */
    struct cli_collector {
        char scheme[16]; /* a kind of output/kinds.c: "udp", "tcp" */
        char host[256];
        char port[8];
    } colls[CLI_MAX_COLLECTORS];
    int n_colls;
    const char *bind;     /* -b ADDR */
    struct sockaddr_storage bind_addr;
    socklen_t bind_len;
    size_t queue_bytes; /* --queue-size */
    size_t queue_msgs;  /* --queue-messages */
    unsigned flush_secs;  /* --flush-timeout */
    unsigned banner_secs; /* --banner-timeout */

    /* operations */
    unsigned stats_secs; /* -L */
    int use_syslog;      /* --syslog */
    const char *user;    /* -u: drop privileges to this user */
    const char *group;   /* -g: ... and group (default: the user's) */
    const char *pidfile; /* --pidfile */
    int detach;          /* -d */
    const char *stats_file; /* --stats-file (Prometheus textfile) */
    char *owned[CLI_MAX_INPUTS + 2]; /* absolute paths made by cli_parse */
    int n_owned;
};

/* What cli_parse() asks the caller to do. */
enum cli_result {
    CLI_RUN = 0,
    CLI_EXIT_OK = 1,   /* --help or --version was printed */
    CLI_EXIT_USAGE = 2 /* an error line was printed to stderr */
};

/* Parses argv into *c (which it initializes with the defaults). Prints
 * --help / --version to stdout, and errors as one line to stderr. */
enum cli_result cli_parse(struct cli *c, int argc, char **argv);

/* Frees what cli_parse() allocated (the absolute paths). */
void cli_close(struct cli *c);

/* Parses a size with an optional k/K, m/M or g/G suffix (powers of 1024).
 * Returns 0 and sets *out, or -1. */
int cli_size(const char *s, size_t *out);

#endif
