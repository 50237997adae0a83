#include "config.h"

#include "input/dtin.h"

#include <stdio.h>
#include <string.h>

_Static_assert(DNSTAP_TYPE_MAX + 1 == STATS_DNSTAP_TYPES, "one counter per dnstap type");

void dtin_init(struct dtin *in, struct stage *stage, const char *kind, const char *what,
               uint32_t types)
{
    memset(in, 0, sizeof(*in));
    in->stage = stage;
    snprintf(in->name, sizeof(in->name), "%s %s", kind, what);
    dnstap_init(&in->dec, types);
}

void dtin_close(struct dtin *in)
{
    dnstap_close(&in->dec);
}

void dtin_frame(struct dtin *in, const uint8_t *frame, size_t len)
{
    struct stats_in *st = &in->st;
    struct rec r;
    int type = 0, rc;

    st->frames++;
    st->bytes += len;
    rc = dnstap_decode(&in->dec, frame, len, &r, &type);
    if (type > 0 && type <= DNSTAP_TYPE_MAX)
        st->by_type[type]++;
    switch (rc) {
    case DNSTAP_OK:
        break;
    case DNSTAP_QUERY:
        st->queries++;
        stage_skipped(in->stage, 1);
        return;
    case DNSTAP_NOT_SELECTED:
        st->not_selected++;
        stage_skipped(in->stage, 0);
        return;
    case DNSTAP_NO_RESPONSE:
    case DNSTAP_NOT_MESSAGE:
        st->no_response++;
        stage_skipped(in->stage, 0);
        return;
    default: /* malformed, or no memory to decode it: either way lost */
        st->malformed++;
        stage_undecoded(in->stage, VERDICT_MALFORMED);
        return;
    }
    if (stage_submit(in->stage, &r) == VERDICT_OK)
        st->accepted++;
    else
        st->rejected++;
}
