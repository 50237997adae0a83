/* fuzz_dnstap_scan.c: dnstap_decode() (wire-format pre-scan, then the
 * protobuf-c unpack when the scan does not decide) against
 * dnstap_decode_full() (always the unpack), on any bytes.
 *
 * The input is one frame, as for fuzz_dnstap, so the two corpora are
 * interchangeable. The selected types depend on the size (eight sets:
 * every response, the default, none, every bit, single types), so that
 * the scan's "selected response: unpack" and "not selected: decide" paths
 * are both reached from any frame by a change of length.
 *
 * Both decoders start fresh, and each record starts as the same junk:
 * the return code and *type must be equal, a record not filled on either
 * side must be left untouched on both, and on DNSTAP_OK every field of
 * the record, the bytes behind its pointers included, must be equal. A
 * frame the scan decides must not touch the decoder's arena either. */
#include "config.h"

#include <string.h>

#include "codec/dnstap.h"
#include "fuzz.h"

#define ALL_RESPONSES                                                         \
    (DNSTAP_TYPE_BIT(2) | DNSTAP_TYPE_BIT(4) | DNSTAP_TYPE_BIT(6) |           \
     DNSTAP_TYPE_BIT(8) | DNSTAP_TYPE_BIT(10) | DNSTAP_TYPE_BIT(12) |         \
     DNSTAP_TYPE_BIT(14))

static const uint32_t selections[8] = {
    ALL_RESPONSES,
    DNSTAP_DEFAULT_TYPES,
    0,
    0xffffffffu,
    DNSTAP_TYPE_BIT(DNSTAP_CLIENT_RESPONSE),
    DNSTAP_TYPE_BIT(DNSTAP_AUTH_RESPONSE) |
        DNSTAP_TYPE_BIT(DNSTAP_UPDATE_RESPONSE),
    DNSTAP_TYPE_BIT(DNSTAP_RESOLVER_RESPONSE),
    DNSTAP_TYPE_BIT(DNSTAP_STUB_RESPONSE) |
        DNSTAP_TYPE_BIT(DNSTAP_TOOL_RESPONSE),
};

static int same_bytes(const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen)
{
    if (alen != blen || (a == NULL) != (b == NULL))
        return 0;
    return alen == 0 || memcmp(a, b, alen) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dnstap_decoder ds, df;
    struct rec rs, rf, junk;
    uint32_t types = selections[size % 8];
    int ts = -1, tf = -1, rcs, rcf;

    dnstap_init(&ds, types);
    dnstap_init(&df, types);
    /* Copied bytewise, so that padding compares equal too. */
    memset(&junk, 0xa5, sizeof(junk));
    memcpy(&rs, &junk, sizeof(junk));
    memcpy(&rf, &junk, sizeof(junk));

    rcs = dnstap_decode(&ds, data, size, &rs, &ts);
    rcf = dnstap_decode_full(&df, data, size, &rf, &tf);

    FUZZ_CHECK(rcs == rcf);
    FUZZ_CHECK(ts == tf);
    /* Nothing this small comes near the arena ceiling. */
    if (size <= 65536)
        FUZZ_CHECK(rcf != DNSTAP_NOMEM);

    if (rcs != DNSTAP_OK) {
        FUZZ_CHECK(memcmp(&rs, &junk, sizeof(junk)) == 0);
        FUZZ_CHECK(memcmp(&rf, &junk, sizeof(junk)) == 0);
        /* The scan decides queries, unselected responses and other
         * Dnstap types without unpacking; then the arena is not even
         * allocated. Any other outcome comes from the unpack. */
        if (ds.arena == NULL)
            FUZZ_CHECK(rcs == DNSTAP_QUERY || rcs == DNSTAP_NOT_SELECTED ||
                       rcs == DNSTAP_NOT_MESSAGE);
    } else {
        FUZZ_CHECK(rs.source == rf.source);
        FUZZ_CHECK(rs.transport == rf.transport);
        FUZZ_CHECK(rs.ts_sec == rf.ts_sec && rs.ts_nsec == rf.ts_nsec);
        FUZZ_CHECK(memcmp(&rs.responder, &rf.responder,
                          sizeof(rs.responder)) == 0);
        FUZZ_CHECK(memcmp(&rs.client, &rf.client, sizeof(rs.client)) == 0);
        FUZZ_CHECK(rs.dt_type == rf.dt_type);
        FUZZ_CHECK(same_bytes(rs.msg, rs.msg_len, rf.msg, rf.msg_len));
        FUZZ_CHECK(same_bytes(rs.query_zone, rs.query_zone_len, rf.query_zone,
                              rf.query_zone_len));
        FUZZ_CHECK(same_bytes(rs.identity, rs.identity_len, rf.identity,
                              rf.identity_len));
        FUZZ_CHECK(fuzz_inside(rs.msg, rs.msg_len, ds.arena, ds.cap));
    }

    dnstap_close(&ds);
    dnstap_close(&df);
    return 0;
}
