/* pcapcount: the libpcap read limit, an anchor of the benchmark (not
 * installed). Reads FILE with pcap_dispatch() through the BPF FILTER
 * (compiled optimised, as tapxfr does) and only counts what passes.
 *
 *   pcapcount FILE [FILTER]
 *
 * Prints "packets=N" and exits 0.
 */
#include <pcap/pcap.h>
#include <stdio.h>

static void count(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    (void)h;
    (void)bytes;
    ++*(unsigned long long *)user;
}

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    struct bpf_program prog;
    unsigned long long n = 0;
    pcap_t *p;
    int r;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: pcapcount FILE [FILTER]\n");
        return 2;
    }
    if (!(p = pcap_open_offline(argv[1], err))) {
        fprintf(stderr, "pcapcount: %s\n", err);
        return 1;
    }
    if (argc == 3) {
        if (pcap_compile(p, &prog, argv[2], 1, PCAP_NETMASK_UNKNOWN) < 0 ||
            pcap_setfilter(p, &prog) < 0) {
            fprintf(stderr, "pcapcount: %s\n", pcap_geterr(p));
            return 1;
        }
        pcap_freecode(&prog);
    }
    while ((r = pcap_dispatch(p, -1, count, (u_char *)&n)) > 0)
        ;
    if (r == -1) {
        fprintf(stderr, "pcapcount: %s\n", pcap_geterr(p));
        return 1;
    }
    pcap_close(p);
    printf("packets=%llu\n", n);
    return 0;
}
