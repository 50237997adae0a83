#include "config.h"

#include "input/dtin.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void dtin_init(struct dtin *in, struct out *out, struct stats *stats,
               const char *kind, const char *what, uint32_t types)
{
    memset(in, 0, sizeof(*in));
    in->out = out;
    in->stats = stats;
    snprintf(in->name, sizeof(in->name), "%s %s", kind, what);
    dnstap_init(&in->dec, types);
}

void dtin_close(struct dtin *in)
{
    dnstap_close(&in->dec);
}

void dtin_frame(struct dtin *in, const uint8_t *frame, size_t len)
{
    struct stats *st = in->stats;
    struct rec r;
    int type = 0, rc;

    in->frames++;
    in->bytes += len;
    st->received++;
    rc = dnstap_decode(&in->dec, frame, len, &r, &type);
    if (type > 0 && type <= DNSTAP_TYPE_MAX)
        in->by_type[type]++;
    switch (rc) {
    case DNSTAP_OK:
        break;
    case DNSTAP_QUERY:
        in->queries++;
        st->queries++;
        return;
    case DNSTAP_NOT_SELECTED:
        in->not_selected++;
        st->ignored++;
        return;
    case DNSTAP_NO_RESPONSE:
    case DNSTAP_NOT_MESSAGE:
        in->no_response++;
        st->ignored++;
        return;
    default: /* malformed, or no memory to decode it: either way lost */
        in->malformed++;
        st->malformed++;
        return;
    }
    if (out_submit(in->out, &r) == 0)
        in->accepted++;
    else
        in->rejected++;
}

size_t dtin_format(const struct dtin *in, char *buf, size_t size)
{
    size_t n;
    int w;

    w = snprintf(buf, size,
                 "connections=%" PRIu64 " rejected_connections=%" PRIu64
                 " handshake_failures=%" PRIu64 " protocol_errors=%" PRIu64
                 " frames=%" PRIu64 " bytes=%" PRIu64 " oversize=%" PRIu64
                 " malformed=%" PRIu64 " queries=%" PRIu64 " not_selected=%" PRIu64
                 " no_response=%" PRIu64 " accepted=%" PRIu64 " rejected=%" PRIu64
                 " pauses=%" PRIu64,
                 in->connections, in->conn_rejected, in->handshake_fail,
                 in->protocol_errors, in->frames, in->bytes, in->oversize, in->malformed,
                 in->queries, in->not_selected, in->no_response, in->accepted,
                 in->rejected, in->pauses);
    n = w < 0 ? 0 : (size_t)w < size ? (size_t)w : size - 1;
    for (int t = 1; t <= DNSTAP_TYPE_MAX && n + 1 < size; t++) {
        if (!in->by_type[t])
            continue;
        w = snprintf(buf + n, size - n, " %s=%" PRIu64, dnstap_type_name(t), in->by_type[t]);
        if (w > 0)
            n += (size_t)w < size - n ? (size_t)w : size - n - 1;
    }
    return n;
}
