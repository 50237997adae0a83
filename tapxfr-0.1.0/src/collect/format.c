/* format.c: the line printed per valid message, in each of the formats
 * -f offers. */
#include "config.h"

#include "collect/collect.h"

#include <inttypes.h>
#include <string.h>

/* A JSON string. The text dnsprint writes is printable ASCII already
 * (names and character strings escape everything else as \DDD), so
 * this only has to add backslashes; control characters and bytes above
 * 0x7e, which it never sees, would become \u00XX (the byte read as
 * Latin-1), so the line stays valid JSON whatever the input. */
static void json_str(FILE *f, const char *s)
{
    static const char digits[] = "0123456789abcdef";
    const char *run = s;

    putc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
        size_t n = 6;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            continue;
        fwrite(run, 1, (size_t)(s - run), f);
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            n = 2;
        } else {
            esc[4] = digits[c >> 4];
            esc[5] = digits[c & 0xf];
        }
        fwrite(esc, 1, n, f);
        run = s + 1;
    }
    fwrite(run, 1, (size_t)(s - run), f);
    putc('"', f);
}

/* RFC 3339, UTC, microseconds: 2024-05-01T12:34:56.123456Z. */
static void format_time(const struct timespec *ts, char *buf, size_t size)
{
    struct tm tm;
    time_t t = ts->tv_sec;

    gmtime_r(&t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (long)(ts->tv_nsec / 1000));
}

void collect_print_json(struct collector *col, const struct timespec *ts,
                        const char *peer, const char *proto,
                        const uint8_t ns[4], const uint8_t *dns,
                        size_t dns_len, const struct dnsprint_msg *m)
{
    static const struct {
        uint16_t bit;
        const char *key;
    } flags[] = {
        { DNSPRINT_FLAG_QR, "qr" }, { DNSPRINT_FLAG_AA, "aa" },
        { DNSPRINT_FLAG_TC, "tc" }, { DNSPRINT_FLAG_RD, "rd" },
        { DNSPRINT_FLAG_RA, "ra" }, { DNSPRINT_FLAG_AD, "ad" },
        { DNSPRINT_FLAG_CD, "cd" },
    };
    FILE *f = col->out;
    char when[128], name[DNSPRINT_NAME_MAX];
    char b1[DNSPRINT_MNEMONIC_MAX], b2[DNSPRINT_MNEMONIC_MAX];
    size_t pos = m->answers;

    format_time(ts, when, sizeof(when));
    fprintf(f, "{\"time\":\"%s\",\"sender\":", when);
    json_str(f, peer);
    fprintf(f, ",\"proto\":\"%s\",\"nameserver\":", proto);
    if (ns[0] | ns[1] | ns[2] | ns[3])
        fprintf(f, "\"%u.%u.%u.%u\"", ns[0], ns[1], ns[2], ns[3]);
    else
        fputs("null", f);
    fprintf(f, ",\"id\":%u", (unsigned)m->id);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        fprintf(f, ",\"%s\":%s", flags[i].key,
                m->flags & flags[i].bit ? "true" : "false");
    fprintf(f, ",\"opcode\":\"%s\",\"rcode\":\"%s\",\"question\":",
            dnsprint_opcode(m->opcode, b1), dnsprint_rcode(m->rcode, b2));
    if (m->has_question) {
        fputs("{\"name\":", f);
        json_str(f, m->qname);
        fprintf(f, ",\"type\":\"%s\",\"class\":\"%s\"}",
                dnsprint_type(m->qtype, b1), dnsprint_class(m->qclass, b2));
    } else {
        fputs("null", f);
    }
    fputs(",\"answers\":[", f);
    for (unsigned i = 0; i < m->ancount; i++) {
        struct dnsprint_rr rr;

        /* dnsprint_walk() has checked every record already, so these
         * cannot fail; if they did, the list would end early. */
        if (dnsprint_rr(dns, dns_len, pos, &rr, &pos) < 0 ||
            dnsprint_name(dns, dns_len, rr.owner, name, sizeof(name),
                          NULL) < 0 ||
            dnsprint_rdata(dns, dns_len, &rr, col->rdata,
                           DNSPRINT_RDATA_MAX) < 0)
            break;
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        json_str(f, name);
        fprintf(f, ",\"ttl\":%" PRIu32 ",\"class\":\"%s\","
                "\"type\":\"%s\",\"data\":", rr.ttl,
                dnsprint_class(rr.cls, b1), dnsprint_type(rr.type, b2));
        json_str(f, col->rdata);
        putc('}', f);
    }
    fprintf(f, "],\"authority_count\":%u,\"additional_count\":%u,"
            "\"length\":%zu}\n",
            (unsigned)m->nscount, (unsigned)m->arcount, dns_len);
}

void collect_print_text(struct collector *col, const char *peer,
                        const char *proto, const uint8_t ns[4],
                        const struct dnsprint_msg *m)
{
    char summary[DNSPRINT_SUMMARY_MAX];
    char nsbuf[16];

    if (ns[0] | ns[1] | ns[2] | ns[3])
        snprintf(nsbuf, sizeof(nsbuf), "%u.%u.%u.%u", ns[0], ns[1], ns[2],
                 ns[3]);
    else
        strcpy(nsbuf, "0");
    /* DNSPRINT_SUMMARY_MAX is documented to be always enough. */
    dnsprint_summary(m, summary, sizeof(summary));
    fprintf(col->out, "%s %s ns=%s %s\n", peer, proto, nsbuf, summary);
}

void collect_print_hex(struct collector *col, const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char chunk[1024];
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        chunk[n++] = digits[buf[i] >> 4];
        chunk[n++] = digits[buf[i] & 0xf];
        if (n == sizeof(chunk)) {
            fwrite(chunk, 1, n, col->out);
            n = 0;
        }
    }
    chunk[n++] = '\n'; /* there is always room: n is even, below 1024 */
    fwrite(chunk, 1, n, col->out);
}
