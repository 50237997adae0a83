/* fuzz_dnstap.c: dnstap_decode() on any bytes (one Frame Streams data
 * frame, i.e. a serialized dnstap.Dnstap).
 *
 * The input is the frame itself, so a corpus of real dnstap frames is
 * usable as it is. The selected types depend on the size (every response
 * type, or the default set for a quarter of the sizes) so that
 * DNSTAP_NOT_SELECTED is reached without a selector byte. Each frame is
 * decoded twice with the same decoder: first into a new arena that has
 * to grow, then into the grown one; both must agree. */
#include "config.h"

#include <string.h>

#include "codec/dnstap.h"
#include "fuzz.h"

#define ALL_RESPONSES                                                         \
    (DNSTAP_TYPE_BIT(2) | DNSTAP_TYPE_BIT(4) | DNSTAP_TYPE_BIT(6) |           \
     DNSTAP_TYPE_BIT(8) | DNSTAP_TYPE_BIT(10) | DNSTAP_TYPE_BIT(12) |         \
     DNSTAP_TYPE_BIT(14))

struct outcome {
    int rc, type;
    struct rec r;
    uint64_t hash; /* of msg, query_zone and identity */
};

static void check_field(const struct dnstap_decoder *d, const uint8_t *p,
                        size_t n, size_t size)
{
    /* Present means non-empty; both point into the decoder's arena. */
    FUZZ_CHECK((p == NULL) == (n == 0));
    if (p) {
        FUZZ_CHECK(fuzz_inside(p, n, d->arena, d->cap));
        FUZZ_CHECK(n <= size);
    }
}

static void decode(struct dnstap_decoder *d, const uint8_t *data, size_t size,
                   struct outcome *o)
{
    const struct rec *r = &o->r;

    memset(o, 0, sizeof(*o));
    o->type = -1;
    o->rc = dnstap_decode(d, data, size, &o->r, &o->type);

    FUZZ_CHECK(o->rc <= DNSTAP_OK && o->rc >= DNSTAP_NO_RESPONSE);
    FUZZ_CHECK(o->type >= 0 && o->type <= DNSTAP_TYPE_MAX);
    FUZZ_CHECK(d->cap <= ((size_t)16 << 20));
    /* The arena ceiling is for frames of many tiny fields; anything this
     * small fits far below it. */
    if (size <= 65536)
        FUZZ_CHECK(o->rc != DNSTAP_NOMEM);
    if (o->type != 0) {
        const char *name = dnstap_type_name(o->type);
        FUZZ_CHECK(name != NULL);
        FUZZ_CHECK(dnstap_type_parse(name) == o->type);
    }
    switch (o->rc) {
    case DNSTAP_QUERY:
        FUZZ_CHECK(o->type & 1);
        break;
    case DNSTAP_NOT_SELECTED:
        FUZZ_CHECK(o->type != 0 && !(o->type & 1));
        FUZZ_CHECK(!(d->types & DNSTAP_TYPE_BIT(o->type)));
        break;
    case DNSTAP_NO_RESPONSE:
        FUZZ_CHECK(d->types & DNSTAP_TYPE_BIT(o->type));
        break;
    case DNSTAP_NOT_MESSAGE:
        FUZZ_CHECK(o->type == 0);
        break;
    default:
        break;
    }
    if (o->rc != DNSTAP_OK)
        return;

    FUZZ_CHECK(r->msg != NULL && r->msg_len > 0);
    check_field(d, r->msg, r->msg_len, size);
    check_field(d, r->query_zone, r->query_zone_len, size);
    check_field(d, r->identity, r->identity_len, size);
    FUZZ_CHECK(r->source == REC_SRC_DNSTAP);
    FUZZ_CHECK(r->transport == REC_TR_UDP || r->transport == REC_TR_TCP ||
               r->transport == REC_TR_OTHER);
    FUZZ_CHECK(r->ts_sec >= 0);
    FUZZ_CHECK(r->ts_nsec >= 0 && r->ts_nsec <= 999999999);
    FUZZ_CHECK(r->dt_type == o->type);
    FUZZ_CHECK(!(o->type & 1) && (d->types & DNSTAP_TYPE_BIT(o->type)));
    FUZZ_CHECK(r->responder.family == 0 || r->responder.family == 4 ||
               r->responder.family == 6);
    FUZZ_CHECK(r->client.family == 0 || r->client.family == 4 ||
               r->client.family == 6);

    o->hash = fuzz_hash(FUZZ_HASH_INIT, r->msg, r->msg_len);
    o->hash = fuzz_hash(o->hash, r->query_zone, r->query_zone_len);
    o->hash = fuzz_hash(o->hash, r->identity, r->identity_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dnstap_decoder d;
    struct outcome first, second;
    uint32_t types = size % 4 == 3 ? DNSTAP_DEFAULT_TYPES : ALL_RESPONSES;

    dnstap_init(&d, types);
    decode(&d, data, size, &first);
    decode(&d, data, size, &second);

    FUZZ_CHECK(first.rc == second.rc);
    FUZZ_CHECK(first.type == second.type);
    if (first.rc == DNSTAP_OK) {
        const struct rec *a = &first.r, *b = &second.r;

        FUZZ_CHECK(first.hash == second.hash);
        FUZZ_CHECK(a->msg_len == b->msg_len);
        FUZZ_CHECK(a->query_zone_len == b->query_zone_len);
        FUZZ_CHECK(a->identity_len == b->identity_len);
        FUZZ_CHECK(a->transport == b->transport);
        FUZZ_CHECK(a->ts_sec == b->ts_sec && a->ts_nsec == b->ts_nsec);
        FUZZ_CHECK(memcmp(&a->responder, &b->responder,
                          sizeof(a->responder)) == 0);
        FUZZ_CHECK(memcmp(&a->client, &b->client, sizeof(a->client)) == 0);
    }
    dnstap_close(&d);
    FUZZ_CHECK(d.arena == NULL && d.cap == 0);
    return 0;
}
