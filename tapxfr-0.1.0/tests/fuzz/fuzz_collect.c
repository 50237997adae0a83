/* fuzz_collect.c: what tapxfr-collect does with one received DNSXFR01
 * message (a UDP datagram, or a TCP frame without its length prefix):
 * dnsxfr_parse(), dnsprint_walk(), dnsprint_summary(), every record
 * through dnsprint_rr() and dnsprint_rdata(), the pcap record encoder,
 * and the rest of the dnsprint.h API on the names and numbers of that
 * message.
 *
 * The input is the message itself, magic included. Cross-checks with
 * other codecs: dnsxfr_encode_framed() gives the input back, and the
 * pcap record written for the message decodes with pkt_decode() to the
 * same DNS message and addresses. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "codec/dnsprint.h"
#include "codec/dnsprint_pcap.h"
#include "codec/dnsxfr.h"
#include "codec/packet.h"
#include "fuzz.h"

/* Records checked in depth (owner name, truncation) per message; the
 * rest are still read and printed once. */
#define DEEP_RRS 16

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* One token of presentation text: printable, no white space. */
static void check_token(const char *s, size_t n)
{
    FUZZ_CHECK(strlen(s) == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(s[i] > 0x20 && s[i] < 0x7f);
}

static void check_mnemonic(const char *s)
{
    FUZZ_CHECK(s != NULL);
    FUZZ_CHECK(strlen(s) > 0 && strlen(s) < DNSPRINT_MNEMONIC_MAX);
    check_token(s, strlen(s));
}

/* Fills what a call with buffer size `size` may touch, so that a write
 * shows and an untouched byte can be told from a written one. */
static void poison(char *buf, size_t cap, size_t size)
{
    memset(buf, 'X', size < cap ? size + 1 : cap);
}

/* The text functions return the length of their text, or ENOSPC when
 * it does not fit with its NUL; `small` is what a call with `size` left
 * (rc_small its status), `full` what a call with room enough wrote (n). */
static void check_truncation(const char *full, int n, int rc_small,
                             const char *small, size_t size)
{
    if ((size_t)n < size) {
        FUZZ_CHECK(rc_small == n);
        FUZZ_CHECK(strcmp(small, full) == 0);
    } else {
        FUZZ_CHECK(rc_small == DNSPRINT_ENOSPC);
        if (size > 0) {
            size_t k = strnlen(small, size);
            FUZZ_CHECK(k < size);
            FUZZ_CHECK(memcmp(small, full, k) == 0);
        } else {
            FUZZ_CHECK(small[0] == 'X'); /* nothing written */
        }
    }
}

/* dnsprint_name() at one offset, with a full buffer, without one, and
 * with short ones. Returns its status. */
static int check_name(const uint8_t *msg, size_t len, size_t off)
{
    char full[DNSPRINT_NAME_MAX], small[DNSPRINT_NAME_MAX];
    size_t next = (size_t)-1, next2 = (size_t)-1, next3 = (size_t)-1;
    size_t sizes[3];
    int rc, rc2;

    memset(full, 'X', sizeof(full));
    rc = dnsprint_name(msg, len, off, full, sizeof(full), &next);
    FUZZ_CHECK(rc >= DNSPRINT_ENOSPC);
    /* The buffer holds the longest name: never too small. */
    FUZZ_CHECK(rc != DNSPRINT_ENOSPC);
    FUZZ_CHECK(memchr(full, '\0', sizeof(full)) != NULL);
    if (rc >= 0) {
        FUZZ_CHECK(rc > 0 && (size_t)rc < sizeof(full));
        check_token(full, (size_t)rc);
        FUZZ_CHECK(full[rc - 1] == '.');
        FUZZ_CHECK(next > off && next <= len);
        /* Up to 254 label octets before a pointer, then the pointer. */
        FUZZ_CHECK(next - off <= DNSPRINT_WIRE_NAME_MAX + 1);
    } else {
        FUZZ_CHECK(strcmp(dnsprint_strerror(rc), "unknown error") != 0);
        FUZZ_CHECK(next == (size_t)-1); /* untouched on failure */
    }

    rc2 = dnsprint_name(msg, len, off, NULL, 0, &next2);
    FUZZ_CHECK(rc2 == (rc >= 0 ? 0 : rc));
    FUZZ_CHECK(next2 == next);
    FUZZ_CHECK(dnsprint_name(msg, len, off, NULL, 0, NULL) == rc2);

    if (rc < 0)
        return rc;
    sizes[0] = 0;
    sizes[1] = (size_t)rc / 2 + 1;
    sizes[2] = (size_t)rc;
    for (int i = 0; i < 3; i++) {
        poison(small, sizeof(small), sizes[i]);
        check_truncation(full, rc,
                         dnsprint_name(msg, len, off, small, sizes[i], &next3),
                         small, sizes[i]);
    }
    FUZZ_CHECK(next3 == (size_t)-1); /* every one failed: untouched */
    return rc;
}

static void check_summary(const struct dnsprint_msg *m)
{
    char full[DNSPRINT_SUMMARY_MAX], small[DNSPRINT_SUMMARY_MAX];
    char tail[64];
    size_t sizes[4], spaces = 0, tl;
    int n;

    n = dnsprint_summary(m, full, sizeof(full));
    /* DNSPRINT_SUMMARY_MAX is always enough. */
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(full));
    FUZZ_CHECK(strlen(full) == (size_t)n);
    /* <qname> <qtype> <rcode> flags=<f,...> an=<n> len=<n>: six tokens. */
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(full[i] >= 0x20 && full[i] < 0x7f);
        if (full[i] == ' ') {
            FUZZ_CHECK(i > 0 && full[i - 1] != ' ');
            spaces++;
        }
    }
    FUZZ_CHECK(spaces == 5);
    tl = (size_t)snprintf(tail, sizeof(tail), " an=%u len=%zu",
                          (unsigned)m->ancount, m->len);
    FUZZ_CHECK((size_t)n > tl && strcmp(full + n - tl, tail) == 0);
    if (m->has_question)
        FUZZ_CHECK(strncmp(full, m->qname, strlen(m->qname)) == 0 &&
                   full[strlen(m->qname)] == ' ');
    else
        FUZZ_CHECK(strncmp(full, "- - ", 4) == 0);

    sizes[0] = 0;
    sizes[1] = 1;
    sizes[2] = (size_t)n / 2;
    sizes[3] = (size_t)n;
    for (int i = 0; i < 4; i++) {
        poison(small, sizeof(small), sizes[i]);
        check_truncation(full, n, dnsprint_summary(m, small, sizes[i]), small,
                         sizes[i]);
    }
}

static void check_flags(uint16_t flags)
{
    char full[DNSPRINT_FLAGS_MAX], small[DNSPRINT_FLAGS_MAX];
    int n, bits = 0;

    n = dnsprint_flags(flags, ',', full, sizeof(full));
    FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(full));
    for (unsigned b = 1; b <= 0x8000; b <<= 1)
        if (flags & b & (DNSPRINT_FLAG_QR | DNSPRINT_FLAG_AA |
                         DNSPRINT_FLAG_TC | DNSPRINT_FLAG_RD |
                         DNSPRINT_FLAG_RA | DNSPRINT_FLAG_AD |
                         DNSPRINT_FLAG_CD))
            bits++;
    FUZZ_CHECK(n == (bits ? 3 * bits - 1 : 0));
    check_token(full, (size_t)n);
    for (size_t size = 0; size <= (size_t)n; size++) {
        poison(small, sizeof(small), size);
        check_truncation(full, n, dnsprint_flags(flags, ',', small, size),
                         small, size);
    }
}

/* The RFC 3597 generic form of an RDATA: \# length HEX. */
static int is_generic(const char *text, const uint8_t *rd, size_t rdlen)
{
    static const char digits[] = "0123456789ABCDEF";
    char head[32];
    size_t hl = (size_t)snprintf(head, sizeof(head), "\\# %zu", rdlen);

    if (strncmp(text, head, hl) != 0)
        return 0;
    text += hl;
    if (rdlen == 0)
        return *text == '\0';
    if (*text++ != ' ')
        return 0;
    for (size_t i = 0; i < rdlen; i++, text += 2)
        if (text[0] != digits[rd[i] >> 4] || text[1] != digits[rd[i] & 15])
            return 0;
    return *text == '\0';
}

/* Types dnsprint_rdata() has a typed form for; the others are generic. */
static int typed(uint16_t type)
{
    switch (type) {
    case 1: case 2: case 5: case 6: case 12: case 15: case 16: case 28:
    case 33: case 39: case 43: case 46: case 47: case 48: case 59: case 60:
    case 99: case 257:
        return 1;
    default:
        return 0;
    }
}

/* dnsprint_rdata() on one record: status, the text's alphabet, the form
 * its type calls for, and truncation. rr may be forged (not from
 * dnsprint_rr), then its RDATA may lie outside the message. */
static void check_rdata(const uint8_t *msg, size_t len,
                        const struct dnsprint_rr *rr, int deep)
{
    static char full[DNSPRINT_RDATA_MAX], small[DNSPRINT_RDATA_MAX];
    int inside = rr->rdata <= len && len - rr->rdata >= rr->rdlen;
    const uint8_t *rd = msg + rr->rdata;
    size_t sizes[4];
    int n;

    n = dnsprint_rdata(msg, len, rr, full, sizeof(full));
    if (!inside) {
        FUZZ_CHECK(n == DNSPRINT_ESHORT);
        return;
    }
    /* DNSPRINT_RDATA_MAX is always enough, and every record gets a text. */
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(full));
    FUZZ_CHECK(strlen(full) == (size_t)n);
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(full[i] >= 0x20 && full[i] < 0x7f);
    if (full[0] == '\\' && full[1] == '#') {
        FUZZ_CHECK(is_generic(full, rd, rr->rdlen));
    } else {
        FUZZ_CHECK(typed(rr->type));
        if (rr->type == 1) {
            struct in_addr a;
            FUZZ_CHECK(rr->cls == 1 && rr->rdlen == 4);
            FUZZ_CHECK(inet_pton(AF_INET, full, &a) == 1);
            FUZZ_CHECK(memcmp(&a, rd, 4) == 0);
        } else if (rr->type == 28) {
            struct in6_addr a;
            FUZZ_CHECK(rr->cls == 1 && rr->rdlen == 16);
            FUZZ_CHECK(inet_pton(AF_INET6, full, &a) == 1);
            FUZZ_CHECK(memcmp(&a, rd, 16) == 0);
        } else if (rr->type == 2 || rr->type == 5 || rr->type == 12 ||
                   rr->type == 39) {
            char name[DNSPRINT_NAME_MAX];
            size_t next;
            int k = dnsprint_name(msg, rr->rdata + rr->rdlen, rr->rdata, name,
                                  sizeof(name), &next);
            FUZZ_CHECK(k == n && strcmp(name, full) == 0);
            FUZZ_CHECK(next == rr->rdata + rr->rdlen);
        }
    }
    if (!deep)
        return;
    sizes[0] = 0;
    sizes[1] = 1;
    sizes[2] = (size_t)n / 2;
    sizes[3] = (size_t)n;
    for (int i = 0; i < 4; i++) {
        poison(small, sizeof(small), sizes[i]);
        check_truncation(full, n,
                         dnsprint_rdata(msg, len, rr, small, sizes[i]),
                         small, sizes[i]);
    }
}

/* Every record of a walked message, as the collector prints them. */
static void check_records(const uint8_t *dns, size_t len,
                          const struct dnsprint_msg *m)
{
    unsigned rrs = (unsigned)m->ancount + m->nscount + m->arcount;
    size_t pos = m->answers;
    char buf[DNSPRINT_MNEMONIC_MAX];

    FUZZ_CHECK(m->answers >= DNSPRINT_HEADER_LEN && m->answers <= m->end);
    for (unsigned i = 0; i < rrs; i++) {
        struct dnsprint_rr rr;
        size_t next = (size_t)-1;

        memset(&rr, 0, sizeof(rr));
        /* The walk checked every record: reading them again never fails. */
        FUZZ_CHECK(dnsprint_rr(dns, len, pos, &rr, &next) == DNSPRINT_OK);
        FUZZ_CHECK(rr.owner == pos);
        FUZZ_CHECK(rr.rdata > pos && rr.rdata <= len);
        FUZZ_CHECK(next == rr.rdata + rr.rdlen && next <= len);
        FUZZ_CHECK(rd16(dns + rr.rdata - 10) == rr.type &&
                   rd16(dns + rr.rdata - 8) == rr.cls &&
                   rd16(dns + rr.rdata - 2) == rr.rdlen);
        if (i < DEEP_RRS)
            FUZZ_CHECK(check_name(dns, len, rr.owner) > 0);
        check_mnemonic(dnsprint_type(rr.type, buf));
        check_mnemonic(dnsprint_class(rr.cls, buf));
        check_rdata(dns, len, &rr, i < DEEP_RRS);
        pos = next;
    }
    FUZZ_CHECK(pos == m->end);
}

static void check_walked(const uint8_t *dns, size_t len,
                         const struct dnsprint_msg *m)
{
    char buf[DNSPRINT_MNEMONIC_MAX];

    FUZZ_CHECK(m->len == len);
    FUZZ_CHECK(m->end >= DNSPRINT_HEADER_LEN && m->end <= len);
    FUZZ_CHECK(m->id == rd16(dns) && m->flags == rd16(dns + 2));
    FUZZ_CHECK(m->qdcount == rd16(dns + 4) && m->ancount == rd16(dns + 6) &&
               m->nscount == rd16(dns + 8) && m->arcount == rd16(dns + 10));
    FUZZ_CHECK(m->opcode == (m->flags >> 11 & 0xf));
    FUZZ_CHECK(m->rcode <= 0xfff && (m->rcode & 0xf) == (m->flags & 0xf));
    if (!m->has_opt)
        FUZZ_CHECK(m->rcode == (m->flags & 0xf));
    FUZZ_CHECK(m->has_question == (m->qdcount > 0));
    if (m->has_question) {
        int rc = check_name(dns, len, DNSPRINT_HEADER_LEN);
        char name[DNSPRINT_NAME_MAX];

        FUZZ_CHECK(rc > 0);
        FUZZ_CHECK(dnsprint_name(dns, len, DNSPRINT_HEADER_LEN, name,
                                 sizeof(name), NULL) == rc);
        FUZZ_CHECK(strcmp(name, m->qname) == 0);
    } else {
        FUZZ_CHECK(m->qname[0] == '\0' && m->qtype == 0 && m->qclass == 0);
        FUZZ_CHECK(m->answers == DNSPRINT_HEADER_LEN);
    }
    check_mnemonic(dnsprint_type(m->qtype, buf));
    check_mnemonic(dnsprint_class(m->qclass, buf));
    check_mnemonic(dnsprint_rcode(m->rcode, buf));
    check_mnemonic(dnsprint_opcode(m->opcode, buf));
    check_flags(m->flags);
    check_summary(m);
    check_records(dns, len, m);
}

/* The pcap record the collector writes for the message reads back, with
 * the packet decoder, as that message between the same addresses. */
static void check_pcap(const uint8_t ns[4], const uint8_t *dns, size_t len)
{
    static const uint8_t dst[4] = {192, 0, 2, 1};
    uint8_t fh[DNSPRINT_PCAP_FILE_HEADER_LEN];
    uint8_t prefix[DNSPRINT_PCAP_RECORD_PREFIX_LEN], *pkt;
    uint32_t sec = 0x5f000000u + (uint32_t)len, usec = (uint32_t)len % 1000000;
    struct pkt_info info;
    int rc;

    dnsprint_pcap_file_header(fh);
    FUZZ_CHECK(rd32le(fh) == 0xa1b2c3d4u && rd32le(fh + 16) ==
               DNSPRINT_PCAP_SNAPLEN && rd32le(fh + 20) ==
               DNSPRINT_PCAP_LINKTYPE_RAW);

    /* Too long: refused, out untouched. */
    memset(prefix, 0xa5, sizeof(prefix));
    FUZZ_CHECK(dnsprint_pcap_record(prefix, sec, usec, ns, dst,
                                    DNSPRINT_PCAP_DNS_MAX + 1 + len) ==
               DNSPRINT_ETOOBIG);
    for (size_t i = 0; i < sizeof(prefix); i++)
        FUZZ_CHECK(prefix[i] == 0xa5);

    rc = dnsprint_pcap_record(prefix, sec, usec, ns, dst, len);
    if (len > DNSPRINT_PCAP_DNS_MAX) {
        FUZZ_CHECK(rc == DNSPRINT_ETOOBIG);
        return;
    }
    FUZZ_CHECK(rc == DNSPRINT_PCAP_RECORD_PREFIX_LEN);
    FUZZ_CHECK(rd32le(prefix) == sec && rd32le(prefix + 4) == usec);
    FUZZ_CHECK(rd32le(prefix + 8) == 28 + len &&
               rd32le(prefix + 12) == 28 + len);

    pkt = malloc(28 + len);
    if (!pkt)
        abort();
    memcpy(pkt, prefix + 16, 28);
    memcpy(pkt + 28, dns, len);
    memset(&info, 0, sizeof(info));
    rc = pkt_decode(DNSPRINT_PCAP_LINKTYPE_RAW, pkt, 28 + len, &info);
    FUZZ_CHECK(rc == PKT_OK);
    FUZZ_CHECK(info.ip_version == 4);
    FUZZ_CHECK(memcmp(info.src, ns, 4) == 0 && memcmp(info.dst, dst, 4) == 0);
    FUZZ_CHECK(info.sport == DNSPRINT_PCAP_PORT &&
               info.dport == DNSPRINT_PCAP_PORT);
    FUZZ_CHECK(info.payload == pkt + 28 && info.payload_len == len);
    free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *ns = NULL, *dns = NULL;
    size_t dns_len = 0;
    struct dnsprint_msg m;
    int rc;

    rc = dnsxfr_parse(data, size, &ns, &dns, &dns_len);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK((rc == 0) == (size >= DNSXFR_HEADER_LEN &&
                             memcmp(data, DNSXFR_MAGIC, DNSXFR_MAGIC_LEN) == 0));
    if (rc < 0)
        return 0;
    FUZZ_CHECK(ns == data + DNSXFR_MAGIC_LEN);
    FUZZ_CHECK(dns == data + DNSXFR_HEADER_LEN);
    FUZZ_CHECK(dns_len == size - DNSXFR_HEADER_LEN);

    /* The sender's encoder gives back the same bytes behind a length. */
    {
        static uint8_t out[2 + 65535 + 1];
        long n = dnsxfr_encode_framed(out, sizeof(out), ns, dns, dns_len);

        if (dns_len > DNSXFR_MAX_MSG) {
            FUZZ_CHECK(n == -1);
        } else {
            FUZZ_CHECK(n == (long)size + DNSXFR_TCP_PREFIX);
            FUZZ_CHECK(rd16(out) == size);
            FUZZ_CHECK(memcmp(out + DNSXFR_TCP_PREFIX, data, size) == 0);
            FUZZ_CHECK(dnsxfr_encode_framed(out, (size_t)n - 1, ns, dns,
                                            dns_len) == -1);
        }
    }

    /* The DNS message as the collector walks it. */
    rc = dnsprint_walk(dns, dns_len, &m);
    FUZZ_CHECK(rc <= DNSPRINT_OK && rc >= DNSPRINT_ENOSPC);
    FUZZ_CHECK(strcmp(dnsprint_strerror(rc), "unknown error") != 0);
    FUZZ_CHECK(rc != DNSPRINT_ENOSPC); /* qname always fits */
    if (dns_len < DNSPRINT_HEADER_LEN)
        FUZZ_CHECK(rc == DNSPRINT_ESHORT);
    if (rc == DNSPRINT_OK)
        check_walked(dns, dns_len, &m);
    check_pcap(ns, dns, dns_len);

    /* Anywhere else: a name and a record at an offset the input picks
     * with its last two bytes, and RDATA as the input's last eight bytes
     * describe it (type, class, offset, length), which may lie outside
     * the message. */
    if (dns_len >= DNSPRINT_HEADER_LEN) {
        const uint8_t *t = dns + dns_len - 8;
        size_t off = (size_t)rd16(dns + dns_len - 2) % dns_len;
        struct dnsprint_rr rr;
        size_t next = (size_t)-1;

        check_name(dns, dns_len, off);
        rc = dnsprint_rr(dns, dns_len, off, &rr, &next);
        FUZZ_CHECK(rc <= DNSPRINT_OK && rc > DNSPRINT_ENOSPC);
        if (rc == DNSPRINT_OK) {
            FUZZ_CHECK(rr.owner == off && next == rr.rdata + rr.rdlen &&
                       next <= dns_len);
            check_rdata(dns, dns_len, &rr, 1);
        } else {
            FUZZ_CHECK(next == (size_t)-1);
        }

        memset(&rr, 0, sizeof(rr));
        rr.type = rd16(t);
        rr.cls = rd16(t + 2);
        rr.rdata = rd16(t + 4) % (dns_len + 16);
        rr.rdlen = rd16(t + 6);
        if (rr.rdlen > 2 * dns_len)
            rr.rdlen %= (uint16_t)(dns_len + 1);
        check_rdata(dns, dns_len, &rr, 1);
    }
    return 0;
}
