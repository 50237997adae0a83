#include "config.h"

#include "input/pcapin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/packet.h"
#include "log.h"

#define REOPEN_MIN_MS 1000
#define REOPEN_MAX_MS 30000
#define LIVE_DISPATCH_ROUNDS 16

int pcapin_packet(struct stage *st, int linktype, const uint8_t *data, size_t caplen,
                  int64_t sec, int32_t nsec, struct pkt_info *info)
{
    struct rec r;
    int rc = pkt_decode(linktype, data, caplen, info);

    if (rc < 0) {
        stage_undecoded(st, rc);
        return rc;
    }
    /* Every field is set: no memset on the per-packet path. */
    r.source = REC_SRC_PCAP;
    r.transport = REC_TR_UDP;
    r.ts_sec = sec;
    r.ts_nsec = nsec;
    /* The sender of a response is the responder; whether it is a response
     * at all is for the DNS checks to say. */
    r.responder.family = r.client.family = info->ip_version;
    memcpy(r.responder.addr, info->src, 16);
    memcpy(r.client.addr, info->dst, 16);
    r.responder.port = info->sport;
    r.client.port = info->dport;
    r.msg = info->payload;
    r.msg_len = info->payload_len;
    r.csum_offloaded = info->csum_offloaded;
    r.reassembled = r.rewritten = 0;
    r.query_ns = 0;
    r.query_msg = NULL;
    r.query_len = 0;
    r.dt_type = 0;
    r.query_zone = r.identity = NULL;
    r.query_zone_len = r.identity_len = 0;
    return stage_submit(st, &r);
}

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct pcapin *in = (struct pcapin *)arg;
    struct pkt_info info;

    /* Files are opened with nanosecond precision, so tv_usec may hold
     * nanoseconds; the handle knows which. */
    int32_t nsec = (int32_t)(h->ts.tv_usec * in->ts_scale);

    if (in->reassembly)
        wire_packet(&in->wire, in->linktype, bytes, h->caplen, h->ts.tv_sec, nsec, &info);
    else
        pcapin_packet(in->stage, in->linktype, bytes, h->caplen, h->ts.tv_sec, nsec, &info);
    /* Stop between packets, never inside one: after this check the next
     * packet always has room, so a file record is never dropped. */
    if (in->is_file && stage_full(in->stage))
        pcap_breakloop(in->p);
}

static int set_filter(struct pcapin *in, char *errbuf, size_t errlen)
{
    struct bpf_program prog;
    const char *f = in->filter;

    /* libpcap cannot filter NFLOG: netfilter's rule chose the packets. */
    if (!f && in->linktype == DLT_NFLOG)
        f = "";
    else if (!f && in->reassembly)
        f = in->linktype == DLT_EN10MB ? PCAPIN_FILTER_ETHER_REASM : PCAPIN_FILTER_OTHER_REASM;
    else if (!f)
        f = in->linktype == DLT_EN10MB ? PCAPIN_FILTER_ETHER : PCAPIN_FILTER_OTHER;
    if (pcap_compile(in->p, &prog, f, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(errbuf, errlen, "%s: invalid filter '%s': %s", in->name ? in->name : "default device",
                 f, pcap_geterr(in->p));
        return -EINVAL;
    }
    if (pcap_setfilter(in->p, &prog) < 0) {
        snprintf(errbuf, errlen, "%s: cannot set filter: %s", in->name ? in->name : "default device",
                 pcap_geterr(in->p));
        pcap_freecode(&prog);
        return -EINVAL;
    }
    pcap_freecode(&prog);
    return 0;
}

static int check_link(struct pcapin *in, char *errbuf, size_t errlen)
{
    in->linktype = pcap_datalink(in->p);
    in->ts_scale = pcap_get_tstamp_precision(in->p) == PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
    if (!pkt_link_supported(in->linktype)) {
        const char *n = pcap_datalink_val_to_name(in->linktype);
        snprintf(errbuf, errlen, "%s: unsupported link type %s (%d)",
                 in->name ? in->name : "default device", n ? n : "unknown", in->linktype);
        return -ENOTSUP;
    }
    return 0;
}

static void close_pcap(struct pcapin *in)
{
    pcap_close(in->p); /* closes a file's FILE too */
    in->p = NULL;
    free(in->fbuf);
    in->fbuf = NULL;
}

static int open_file(struct pcapin *in, char *errbuf, size_t errlen)
{
    char pe[PCAP_ERRBUF_SIZE];
    FILE *fp = strcmp(in->name, "-") == 0 ? stdin : fopen(in->name, "rb");

    if (!fp) {
        snprintf(errbuf, errlen, "cannot read %s: %s", in->name, strerror(errno));
        return -ENOENT;
    }
    /* libpcap reads each record with fread(): with stdio's default 4 KiB
     * buffer that is a read() per few packets. */
    in->fbuf = malloc(PCAPIN_FILE_BUF);
    if (in->fbuf)
        setvbuf(fp, in->fbuf, _IOFBF, PCAPIN_FILE_BUF);
    in->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, pe);
    if (!in->p) {
        snprintf(errbuf, errlen, "cannot read %s: %s", in->name, pe);
        if (fp != stdin)
            fclose(fp);
        free(in->fbuf);
        in->fbuf = NULL;
        return -ENOENT;
    }
    return 0;
}

/* Opens a live device. Returns 0, or a negative code; *fatal says whether
 * retrying cannot help (no such device, no permission, bad filter). */
static int open_live(struct pcapin *in, char *errbuf, size_t errlen, int *fatal)
{
    char pe[PCAP_ERRBUF_SIZE];
    const char *dev = in->name ? in->name : "any";
    int rc;

    *fatal = 0;
    in->p = pcap_create(dev, pe);
    if (!in->p) {
        snprintf(errbuf, errlen, "cannot open capture device %s: %s", dev, pe);
        return -ENODEV;
    }
    pcap_set_snaplen(in->p, 65535);
    pcap_set_promisc(in->p, 1);
    /* A short timeout bounds the latency of a quiet link without waking
     * the loop for every packet on a busy one. */
    pcap_set_timeout(in->p, 100);
    pcap_set_buffer_size(in->p, (int)in->buffer_size);
    rc = pcap_activate(in->p);
    if (rc < 0) {
        snprintf(errbuf, errlen, "cannot open capture device %s: %s", dev,
                 rc == PCAP_ERROR ? pcap_geterr(in->p) : pcap_statustostr(rc));
        *fatal = rc == PCAP_ERROR_NO_SUCH_DEVICE || rc == PCAP_ERROR_PERM_DENIED;
        close_pcap(in);
        return -ENODEV;
    }
    if (check_link(in, errbuf, errlen) < 0 || set_filter(in, errbuf, errlen) < 0 ||
        pcap_setnonblock(in->p, 1, pe) < 0) {
        *fatal = 1;
        close_pcap(in);
        return -EINVAL;
    }
    if (pcap_get_selectable_fd(in->p) < 0) {
        snprintf(errbuf, errlen, "%s: no selectable descriptor", dev);
        *fatal = 1;
        close_pcap(in);
        return -ENOTSUP;
    }
    return 0;
}

static void release(struct pcapin *in)
{
    if (--in->open_handles == 0 && in->on_closed)
        in->on_closed(in);
}

static void on_handle_closed(uv_handle_t *h)
{
    release(h->data);
}

static enum filein_status read_file_batch(struct filein *f)
{
    struct pcapin *in = f->data;
    int n = pcap_dispatch(in->p, PCAPIN_FILE_BATCH, on_packet, (u_char *)in);

    /* A break (the stage was full) is asked again by filein before the
     * next batch: libpcap keeps a break request made during a dispatch
     * that also returned packets and reports it on the next call, which
     * may come after the queues drained. */
    if (n > 0 || n == PCAP_ERROR_BREAK)
        return FILEIN_MORE;
    if (n == PCAP_ERROR)
        log_warnx("%s: read error: %s", in->name, pcap_geterr(in->p));
    log_debug("%s: end of file", in->name);
    return FILEIN_END;
}

static void on_file_done(struct filein *f)
{
    struct pcapin *in = f->data;

    if (in->reassembly)
        wire_finish(&in->wire);
    if (in->on_done)
        in->on_done(in);
}

static void on_file_closed(struct filein *f)
{
    release(f->data);
}

int pcapin_init(struct pcapin *in, uv_loop_t *loop, struct stage *stage,
                const struct wire_conf *reasm, const char *name, int is_file, const char *filter, size_t buffer_size,
                char *errbuf, size_t errlen)
{
    int rc, fatal = 0;

    memset(in, 0, sizeof(*in));
    in->loop = loop;
    in->stage = stage;
    /* Before the filter is chosen: the default depends on it. */
    in->reassembly = reasm != NULL;
    in->name = name;
    in->is_file = is_file;
    in->filter = filter;
    in->buffer_size = buffer_size;
    in->reopen_ms = REOPEN_MIN_MS;

    if (is_file) {
        rc = open_file(in, errbuf, errlen);
        if (rc == 0 && ((rc = check_link(in, errbuf, errlen)) < 0 ||
                        (rc = set_filter(in, errbuf, errlen)) < 0)) {
            close_pcap(in);
        }
        if (rc < 0)
            return rc;
    } else {
        rc = open_live(in, errbuf, errlen, &fatal);
        if (rc < 0 && fatal)
            return rc;
        if (rc < 0)
            log_warnx("%s; retrying", errbuf); /* e.g. interface not up yet */
    }
    uv_timer_init(loop, &in->timer);
    in->timer.data = in;
    if (reasm && (rc = wire_init(&in->wire, stage, reasm)) < 0) {
        snprintf(errbuf, errlen, "%s: no memory for the reassembly tables",
                 name ? name : "default device");
        if (in->p)
            close_pcap(in);
        return rc;
    }
    filein_init(&in->file, loop, stage, read_file_batch, in);
    in->file.on_done = on_file_done;
    in->open_handles = 2;
    return 0;
}

void pcapin_resume(struct pcapin *in)
{
    if (in->is_file && in->p)
        filein_resume(&in->file);
}

static void start_live(struct pcapin *in);

static void on_reopen(uv_timer_t *t)
{
    struct pcapin *in = t->data;
    char err[PCAP_ERRBUF_SIZE + 128];
    int fatal;

    if (open_live(in, err, sizeof(err), &fatal) < 0) {
        log_debug("%s", err);
        in->reopen_ms = in->reopen_ms * 2 > REOPEN_MAX_MS ? REOPEN_MAX_MS : in->reopen_ms * 2;
        uv_timer_start(&in->timer, on_reopen, in->reopen_ms, 0);
        return;
    }
    log_notice("%s: capture device reopened", in->name ? in->name : "any");
    in->reopen_ms = REOPEN_MIN_MS;
    start_live(in);
}

static void on_poll_closed(uv_handle_t *h)
{
    struct pcapin *in = h->data;

    in->poll_open = 0;
    if (in->p) {
        pcapin_update_stats(in);
        close_pcap(in);
        in->last_kernel_drops = 0;
    }
    if (in->closing) {
        release(in);
        return;
    }
    in->open_handles--;
    uv_timer_start(&in->timer, on_reopen, in->reopen_ms, 0);
}

static void live_failed(struct pcapin *in, const char *why)
{
    log_warnx("%s: capture failed: %s; reopening", in->name ? in->name : "any", why);
    if (in->poll_open)
        uv_close((uv_handle_t *)&in->poll, on_poll_closed);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    struct pcapin *in = h->data;

    if (status < 0) {
        live_failed(in, uv_strerror(status));
        return;
    }
    /* A few buffers per wake-up: enough to drain a burst, few enough to
     * let the output and other inputs run in between. */
    for (int i = 0; i < LIVE_DISPATCH_ROUNDS; i++) {
        int n = pcap_dispatch(in->p, -1, on_packet, (u_char *)in);
        if (n == PCAP_ERROR) {
            live_failed(in, pcap_geterr(in->p));
            return;
        }
        if (n <= 0)
            break;
    }
}

static void start_live(struct pcapin *in)
{
    int rc;

    if (!in->p) {
        uv_timer_start(&in->timer, on_reopen, in->reopen_ms, 0);
        return;
    }
    rc = uv_poll_init(in->loop, &in->poll, pcap_get_selectable_fd(in->p));
    if (rc < 0) {
        log_warnx("%s: cannot poll the capture descriptor: %s", in->name, uv_strerror(rc));
        close_pcap(in);
        uv_timer_start(&in->timer, on_reopen, in->reopen_ms, 0);
        return;
    }
    in->poll.data = in;
    in->poll_open = 1;
    in->open_handles++;
    uv_poll_start(&in->poll, UV_READABLE, on_readable);
}

int pcapin_start(struct pcapin *in)
{
    if (in->is_file)
        pcapin_resume(in);
    else
        start_live(in);
    return 0;
}

void pcapin_update_stats(struct pcapin *in)
{
    struct pcap_stat ps;
    uint64_t drops;

    if (in->is_file || !in->p || pcap_stats(in->p, &ps) < 0)
        return;
    /* libpcap's counters are per handle and start at 0 on each reopen. */
    drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
    if (drops >= in->last_kernel_drops)
        stage_kernel_drops(in->stage, drops - in->last_kernel_drops);
    in->last_kernel_drops = drops;
}

void pcapin_free(struct pcapin *in)
{
    if (in->reassembly)
        wire_close(&in->wire);
    in->reassembly = 0;
}

void pcapin_add_stats(const struct pcapin *in, struct stats *st)
{
    if (in->reassembly)
        wire_add_stats(&in->wire, st);
}

void pcapin_close(struct pcapin *in, void (*cb)(struct pcapin *in))
{
    in->closing = 1;
    in->on_closed = cb;
    if (in->poll_open) {
        uv_close((uv_handle_t *)&in->poll, on_poll_closed);
    } else if (in->p) {
        pcapin_update_stats(in);
        close_pcap(in);
    }
    uv_close((uv_handle_t *)&in->timer, on_handle_closed);
    filein_close(&in->file, on_file_closed);
}
