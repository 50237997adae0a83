/* fuzz_dns.c: dns_check() and dns_header_read() on any bytes.
 *
 * Input: one filter byte, then the DNS message. Filter bits: 0x01 -A
 * (auth_only), 0x02 -D (drop_no_answer), 0x0c select max_size among
 * 512 (-T), 1232, 4096 and 65535. The verdict is compared with a
 * straight re-statement of the documented check order. */
#include "config.h"

#include <string.h>

#include "codec/dns.h"
#include "fuzz.h"

static const size_t max_sizes[] = {512, 1232, 4096, 65535};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The order of dns.h: short, header counts, QR, -D, -A, size. */
static int expected(const struct dns_filter *f, const uint8_t *m, size_t len)
{
    uint16_t flags, qd, an, ns, ar;

    if (len < DNS_HEADER_LEN)
        return DNS_DROP_SHORT;
    flags = rd16(m + 2);
    qd = rd16(m + 4);
    an = rd16(m + 6);
    ns = rd16(m + 8);
    ar = rd16(m + 10);
    if (qd >= DNS_MAX_QDCOUNT || an >= DNS_MAX_RRCOUNT ||
        ns >= DNS_MAX_RRCOUNT || ar >= DNS_MAX_RRCOUNT)
        return DNS_DROP_HEADER;
    if (!(flags & DNS_FLAG_QR))
        return DNS_DROP_QUERY;
    if (f->drop_no_answer && an == 0 && !(flags & DNS_FLAG_TC))
        return DNS_DROP_NO_ANSWER;
    if (f->auth_only && !(flags & DNS_FLAG_AA))
        return DNS_DROP_NOT_AUTH;
    if (len > f->max_size)
        return DNS_DROP_OVERSIZE;
    return DNS_FORWARD;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_filter f;
    struct dns_header h, h2;
    const uint8_t *msg;
    size_t len;
    int v;

    if (size < 1)
        return 0;
    f.auth_only = data[0] & 1;
    f.drop_no_answer = (data[0] >> 1) & 1;
    f.max_size = max_sizes[(data[0] >> 2) & 3];
    msg = data + 1;
    len = size - 1;

    memset(&h, 0, sizeof(h));
    v = dns_check(&f, msg, len, &h);
    FUZZ_CHECK(v <= DNS_FORWARD && v > -DNS_VERDICT_COUNT);
    FUZZ_CHECK(strcmp(dns_verdict_name(v), "unknown") != 0);
    FUZZ_CHECK(v == expected(&f, msg, len));

    memset(&h2, 0, sizeof(h2));
    if (len < DNS_HEADER_LEN) {
        FUZZ_CHECK(v == DNS_DROP_SHORT);
        FUZZ_CHECK(dns_header_read(msg, len, &h2) == DNS_DROP_SHORT);
    } else {
        /* *h is filled whenever len >= 12, whatever the verdict. */
        FUZZ_CHECK(dns_header_read(msg, len, &h2) == 0);
        FUZZ_CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
        FUZZ_CHECK(h.id == rd16(msg) && h.flags == rd16(msg + 2) &&
                   h.qdcount == rd16(msg + 4) && h.ancount == rd16(msg + 6) &&
                   h.nscount == rd16(msg + 8) && h.arcount == rd16(msg + 10));
    }
    if (v == DNS_FORWARD) {
        FUZZ_CHECK(h.flags & DNS_FLAG_QR);
        FUZZ_CHECK(len <= f.max_size);
        FUZZ_CHECK(!f.auth_only || (h.flags & DNS_FLAG_AA));
        FUZZ_CHECK(!f.drop_no_answer || h.ancount > 0 ||
                   (h.flags & DNS_FLAG_TC));
    }
    return 0;
}
