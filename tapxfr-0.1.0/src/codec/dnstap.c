/* dnstap.c: one dnstap protobuf -> struct rec, through protobuf-c with an
 * arena allocator (see dnstap.h for the contract), after a wire-format
 * pre-scan that classifies the frames never forwarded without unpacking
 * them. */
#include "config.h"

#include "codec/dnstap.h"

#include <stdlib.h>
#include <string.h>

#include "dnstap.pb-c.h"

/* The arena starts at DT_ARENA_MIN and doubles on demand up to
 * DT_ARENA_MAX. A real frame needs its own length plus about a kilobyte of
 * protobuf-c structures, so the arena stops growing after the largest frame
 * seen; the ceiling only bounds what a hostile frame (many tiny fields, each
 * costing protobuf-c a few dozen bytes of bookkeeping) can make us keep. */
#define DT_ARENA_MIN ((size_t)16 << 10)
#define DT_ARENA_MAX ((size_t)16 << 20)

/* Room for protobuf-c's own structures (three messages, alignment) on top
 * of the bytes a frame copies, when sizing the arena for a retry. */
#define DT_ARENA_SLACK ((size_t)1 << 10)

/* protobuf-c stores uint64_t and pointers in what it allocates. */
#define DT_ALIGN (_Alignof(max_align_t))

#define DT_NSEC_MAX 999999999u

/* Names indexed by Message.Type; the same spelling the CLI accepts. */
static const char *const type_names[DNSTAP_TYPE_MAX + 1] = {
    [DNSTAP_AUTH_QUERY] = "auth-query",
    [DNSTAP_AUTH_RESPONSE] = "auth-response",
    [DNSTAP_RESOLVER_QUERY] = "resolver-query",
    [DNSTAP_RESOLVER_RESPONSE] = "resolver-response",
    [DNSTAP_CLIENT_QUERY] = "client-query",
    [DNSTAP_CLIENT_RESPONSE] = "client-response",
    [DNSTAP_FORWARDER_QUERY] = "forwarder-query",
    [DNSTAP_FORWARDER_RESPONSE] = "forwarder-response",
    [DNSTAP_STUB_QUERY] = "stub-query",
    [DNSTAP_STUB_RESPONSE] = "stub-response",
    [DNSTAP_TOOL_QUERY] = "tool-query",
    [DNSTAP_TOOL_RESPONSE] = "tool-response",
    [DNSTAP_UPDATE_QUERY] = "update-query",
    [DNSTAP_UPDATE_RESPONSE] = "update-response",
};

/* Bump allocation from the decoder's arena. A request that does not fit
 * fails (protobuf-c then gives up and returns NULL, as it does for a
 * malformed frame), so the failure is recorded in d->oom, and d->used is
 * left at the size the request would have needed: that tells the caller
 * how far to grow before retrying. */
static void *arena_alloc(void *data, size_t size)
{
    struct dnstap_decoder *d = data;
    size_t off = (d->used + (DT_ALIGN - 1)) & ~(size_t)(DT_ALIGN - 1);

    if (off < d->used || off > d->cap || size > d->cap - off) {
        d->oom = 1;
        d->used = (off >= d->used && size <= SIZE_MAX - off) ? off + size : SIZE_MAX;
        return NULL;
    }
    d->used = off + size;
    return d->arena + off;
}

/* Everything is released at once by resetting the arena. */
static void arena_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;
}

static size_t sat_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Replaces the arena by one of at least want bytes (a power of two times
 * DT_ARENA_MIN, at most DT_ARENA_MAX). The contents need not survive, so
 * there is no realloc copy; the old arena is kept if malloc fails. */
static int arena_grow(struct dnstap_decoder *d, size_t want)
{
    size_t cap = d->cap ? d->cap * 2 : DT_ARENA_MIN;
    uint8_t *p;

    if (d->cap >= DT_ARENA_MAX)
        return -1;
    while (cap < want && cap < DT_ARENA_MAX)
        cap *= 2;
    if (cap > DT_ARENA_MAX)
        cap = DT_ARENA_MAX;
    p = malloc(cap);
    if (!p)
        return -1;
    free(d->arena);
    d->arena = p;
    d->cap = cap;
    return 0;
}

void dnstap_init(struct dnstap_decoder *d, uint32_t types)
{
    d->arena = NULL;
    d->cap = 0;
    d->used = 0;
    d->oom = 0;
    d->types = types;
}

void dnstap_close(struct dnstap_decoder *d)
{
    free(d->arena);
    d->arena = NULL;
    d->cap = 0;
    d->used = 0;
    d->oom = 0;
}

/* Fills one endpoint. The address is taken only when its length matches
 * the socket family; the port is taken whenever present. */
static void set_endpoint(struct rec_addr *a, const Dnstap__Message *m,
                         protobuf_c_boolean has_addr,
                         const ProtobufCBinaryData *addr,
                         protobuf_c_boolean has_port, uint32_t port)
{
    if (has_addr && m->has_socket_family) {
        if (m->socket_family == DNSTAP__SOCKET_FAMILY__INET && addr->len == 4) {
            a->family = 4;
            memcpy(a->addr, addr->data, 4);
        } else if (m->socket_family == DNSTAP__SOCKET_FAMILY__INET6 &&
                   addr->len == 16) {
            a->family = 6;
            memcpy(a->addr, addr->data, 16);
        }
    }
    if (has_port)
        a->port = (uint16_t)port;
}

int dnstap_decode_full(struct dnstap_decoder *d, const uint8_t *frame,
                       size_t len, struct rec *r, int *type)
{
    ProtobufCAllocator alloc = {
        .alloc = arena_alloc, .free = arena_free, .allocator_data = d};
    const Dnstap__Dnstap *dt;
    const Dnstap__Message *m;
    uint64_t sec;
    uint32_t nsec;
    int t;

    if (type)
        *type = 0;

    /* Unpack; on running out of arena, grow and try again. The first retry
     * asks for room for what was already used plus a copy of the whole
     * frame, which covers any genuine frame; only a frame made of many
     * tiny fields needs further doublings, and the ceiling stops those. */
    for (;;) {
        d->used = 0;
        d->oom = 0;
        dt = dnstap__dnstap__unpack(&alloc, len, frame);
        if (dt)
            break;
        if (!d->oom)
            return DNSTAP_MALFORMED;
        /* d->used is now what the arena would have needed so far: when
         * that alone is past the ceiling, do not grow for nothing. */
        if (d->used > DT_ARENA_MAX ||
            arena_grow(d, sat_add(sat_add(d->used, len), DT_ARENA_SLACK)) != 0)
            return DNSTAP_NOMEM;
    }

    if (dt->type != DNSTAP__DNSTAP__TYPE__MESSAGE)
        return DNSTAP_NOT_MESSAGE;
    m = dt->message;
    if (!m)
        return DNSTAP_MALFORMED; /* says MESSAGE, carries none */

    /* protobuf-c does not check enum values; one outside the schema is a
     * malformed frame (proto2 readers reject it as a missing field). */
    t = (int)m->type;
    if (t < DNSTAP_AUTH_QUERY || t > DNSTAP_TYPE_MAX)
        return DNSTAP_MALFORMED;
    if (type)
        *type = t;

    /* Queries are the odd types, responses the even ones. */
    if (t & 1)
        return DNSTAP_QUERY;
    if (!(d->types & DNSTAP_TYPE_BIT(t)))
        return DNSTAP_NOT_SELECTED;
    if (!m->has_response_message || m->response_message.len == 0)
        return DNSTAP_NO_RESPONSE;

    if (m->has_response_time_sec) {
        sec = m->response_time_sec;
        nsec = m->has_response_time_nsec ? m->response_time_nsec : 0;
    } else if (m->has_query_time_sec) {
        sec = m->query_time_sec;
        nsec = m->has_query_time_nsec ? m->query_time_nsec : 0;
    } else {
        sec = 0;
        nsec = 0;
    }
    /* Values no record can hold are inconsistent fields, not something to
     * truncate silently. */
    if (sec > INT64_MAX || nsec > DT_NSEC_MAX ||
        (m->has_query_port && m->query_port > UINT16_MAX) ||
        (m->has_response_port && m->response_port > UINT16_MAX))
        return DNSTAP_MALFORMED;

    memset(r, 0, sizeof(*r));
    r->source = REC_SRC_DNSTAP;
    if (!m->has_socket_protocol)
        r->transport = REC_TR_OTHER;
    else if (m->socket_protocol == DNSTAP__SOCKET_PROTOCOL__UDP)
        r->transport = REC_TR_UDP;
    else if (m->socket_protocol == DNSTAP__SOCKET_PROTOCOL__TCP)
        r->transport = REC_TR_TCP;
    else
        r->transport = REC_TR_OTHER;
    r->ts_sec = (int64_t)sec;
    r->ts_nsec = (int32_t)nsec;
    set_endpoint(&r->responder, m, m->has_response_address, &m->response_address,
                 m->has_response_port, m->response_port);
    set_endpoint(&r->client, m, m->has_query_address, &m->query_address,
                 m->has_query_port, m->query_port);
    r->msg = m->response_message.data;
    r->msg_len = m->response_message.len;
    r->dt_type = t;
    if (m->has_query_zone && m->query_zone.len) {
        r->query_zone = m->query_zone.data;
        r->query_zone_len = m->query_zone.len;
    }
    if (dt->has_identity && dt->identity.len) {
        r->identity = dt->identity.data;
        r->identity_len = dt->identity.len;
    }
    return DNSTAP_OK;
}

/* ------------------------------------------------------------- pre-scan
 *
 * In a resolver's stream most frames are queries, or responses of a type
 * not selected, and unpacking those with protobuf-c only to read
 * Message.type is most of the decoding cost. scan_frame() reads the wire
 * format itself and classifies such a frame without unpacking it, but only
 * once it has checked the WHOLE frame the way protobuf-c unpacks it, so
 * that the answer is the one dnstap_decode_full() would give. On anything
 * else (a frame protobuf-c would reject, a rule the scan does not model, a
 * selected response, a frame that might exhaust the arena) it gives up and
 * the full unpack decides: giving up is always right, classifying is right
 * only when everything was checked.
 *
 * protobuf-c's unpacking rules (protobuf_c_message_unpack() and its
 * helpers, 1.4.1), and what the scan does with each:
 *  - a tag is a varint of at most 5 bytes whose bits above the wire type
 *    are the field number, 32 bits, with no range check. A one-byte tag of
 *    field 0 is an error, a longer one an unknown field (versions differ
 *    here): the scan gives up on field 0 however it is written.
 *  - wire type 0 is a varint of at most 10 bytes (the tenth byte's value
 *    unchecked); 1 is 8 bytes, 5 is 4 bytes; 2 is a length varint of at
 *    most 5 bytes, then that many bytes (past the end, or over INT_MAX
 *    since 1.4.1, is an error); 3, 4, 6 and 7 are errors even on an
 *    unknown field.
 *  - a known field on another wire type than its type's is an error, on
 *    each occurrence (protobuf-c parses every occurrence).
 *  - an unknown field is kept (copied), never an error.
 *  - a singular field given several times: the last value wins, except an
 *    embedded message, where each occurrence is unpacked on its own (so it
 *    must be valid alone, its required fields included) and merged into
 *    the earlier ones, its own fields winning. Message.type, required in
 *    each occurrence, thus ends up as the last one on the wire.
 *  - a missing required field (Dnstap.type, Message.type) is an error.
 *  - an enum value is not checked: protobuf-c keeps the low 32 bits of the
 *    varint as an int32_t. Our own check then wants Message.type in 1..14.
 *  - strings (Policy.type) are not checked for UTF-8.
 * And the arena: the full unpack fails with DNSTAP_NOMEM past
 * DT_ARENA_MAX, so the scan only decides frames that fit well below it
 * (see DT_SCAN_*). */

/* What protobuf-c can allocate for a frame, bounded from above: the bytes
 * it copies (never more than the frame), then per field a ScannedMember
 * (32 bytes, in slabs that double, so up to 64 per field), an unknown-field
 * record (24), the rounding of its copy to DT_ALIGN and a string's NUL; per
 * message unpacked (the Dnstap, each Message and Policy occurrence), its
 * structure (Message's is the largest) and the rounding of its slabs and
 * arrays. The scan decides a frame only if that bound stays under half of
 * DT_ARENA_MAX, where the full unpack cannot run out of arena. */
#define DT_SCAN_BUDGET (DT_ARENA_MAX / 2)
#define DT_SCAN_FIELD_COST ((size_t)128)
#define DT_SCAN_MSG_COST (sizeof(Dnstap__Message) + (size_t)1024)

#define WT_VARINT PROTOBUF_C_WIRE_TYPE_VARINT
#define WT_64BIT PROTOBUF_C_WIRE_TYPE_64BIT
#define WT_LEN PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED
#define WT_32BIT PROTOBUF_C_WIRE_TYPE_32BIT

/* What the scan does with a field number of a message. */
enum scan_role {
    SR_UNKNOWN = 0, /* not in the schema: skipped, any valid wire type */
    SR_PLAIN,       /* in the schema, value not needed */
    SR_DNSTAP_TYPE, /* Dnstap.type: required enum */
    SR_MSG_TYPE,    /* Message.type: required enum */
    SR_MESSAGE,     /* Dnstap.message: an embedded Message */
    SR_POLICY,      /* Message.policy: an embedded Policy */
};

struct scan_field {
    uint8_t role; /* enum scan_role */
    uint8_t wire; /* the wire type protobuf-c requires for the field */
};

struct scan_schema {
    const struct scan_field *fields; /* indexed by field number */
    unsigned n;                      /* numbers >= n are unknown */
    int required_type;               /* has a required 'type' field */
};

/* proto/dnstap.proto: enums and integers are varints, fixed32 is 32-bit,
 * bytes, strings and messages are length-prefixed. test_dnstap.c checks
 * them against protobuf-c, every field number and wire type at each
 * level through dnstap_decode_full(). */
static const struct scan_field scan_dnstap_fields[16] = {
    [1] = {SR_PLAIN, WT_LEN},           /* identity */
    [2] = {SR_PLAIN, WT_LEN},           /* version */
    [3] = {SR_PLAIN, WT_LEN},           /* extra */
    [14] = {SR_MESSAGE, WT_LEN},        /* message */
    [15] = {SR_DNSTAP_TYPE, WT_VARINT}, /* type */
};
static const struct scan_field scan_message_fields[17] = {
    [1] = {SR_MSG_TYPE, WT_VARINT}, /* type */
    [2] = {SR_PLAIN, WT_VARINT},    /* socket_family */
    [3] = {SR_PLAIN, WT_VARINT},    /* socket_protocol */
    [4] = {SR_PLAIN, WT_LEN},       /* query_address */
    [5] = {SR_PLAIN, WT_LEN},       /* response_address */
    [6] = {SR_PLAIN, WT_VARINT},    /* query_port */
    [7] = {SR_PLAIN, WT_VARINT},    /* response_port */
    [8] = {SR_PLAIN, WT_VARINT},    /* query_time_sec */
    [9] = {SR_PLAIN, WT_32BIT},     /* query_time_nsec */
    [10] = {SR_PLAIN, WT_LEN},      /* query_message */
    [11] = {SR_PLAIN, WT_LEN},      /* query_zone */
    [12] = {SR_PLAIN, WT_VARINT},   /* response_time_sec */
    [13] = {SR_PLAIN, WT_32BIT},    /* response_time_nsec */
    [14] = {SR_PLAIN, WT_LEN},      /* response_message */
    [15] = {SR_POLICY, WT_LEN},     /* policy */
    [16] = {SR_PLAIN, WT_VARINT},   /* http_protocol */
};
static const struct scan_field scan_policy_fields[6] = {
    [1] = {SR_PLAIN, WT_LEN},    /* type (string) */
    [2] = {SR_PLAIN, WT_LEN},    /* rule */
    [3] = {SR_PLAIN, WT_VARINT}, /* action */
    [4] = {SR_PLAIN, WT_VARINT}, /* match */
    [5] = {SR_PLAIN, WT_LEN},    /* value */
};

static const struct scan_schema scan_dnstap = {scan_dnstap_fields, 16, 1};
static const struct scan_schema scan_message = {scan_message_fields, 17, 1};
static const struct scan_schema scan_policy = {scan_policy_fields, 6, 0};

struct scan {
    uint32_t types;    /* the decoder's selection */
    uint32_t dt_type;  /* Dnstap.type, low 32 bits as protobuf-c keeps it */
    uint32_t msg_type; /* the last Message.type seen, 1..14 */
    size_t messages;   /* Message occurrences */
    size_t fields;     /* fields, at every level */
    size_t embedded;   /* Message and Policy occurrences */
};

/* Reads a varint of at most max bytes, as protobuf-c does (10 for values,
 * 5 for tags and lengths): one that does not end within max bytes or
 * before end is an error. Keeps the low 64 bits. */
static inline int scan_varint(const uint8_t **pp, const uint8_t *end,
                              unsigned max, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;

    /* Most tags and values are one byte. */
    if (p < end && !(*p & 0x80)) {
        *v = *p;
        *pp = p + 1;
        return 0;
    }
    for (unsigned i = 0; i < max && p < end; i++) {
        uint8_t b = *p++;

        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            *pp = p;
            return 0;
        }
    }
    return -1;
}

/* Checks that [p, end) unpacks as a message of schema s, and records the
 * types met on the way. Returns 0 when protobuf-c would unpack it (for
 * what the scan can tell), -1 when it would not or the scan gives up. */
static int scan_msg(struct scan *sc, const struct scan_schema *s,
                    const uint8_t *p, const uint8_t *end)
{
    static const struct scan_field unknown = {SR_UNKNOWN, 0};
    int have_type = 0;

    while (p < end) {
        const struct scan_field *f;
        const uint8_t *body = NULL;
        uint64_t tag, v = 0;
        uint32_t num;
        unsigned wire;

        if (scan_varint(&p, end, 5, &tag) < 0)
            return -1;
        wire = (unsigned)(tag & 7);
        num = (uint32_t)(tag >> 3);
        if (num == 0)
            return -1; /* error or unknown field, by version */
        f = num < s->n ? &s->fields[num] : &unknown;
        if (f->role != SR_UNKNOWN && wire != f->wire)
            return -1;
        sc->fields++;

        switch (wire) {
        case WT_VARINT:
            if (scan_varint(&p, end, 10, &v) < 0)
                return -1;
            break;
        case WT_64BIT:
            if (end - p < 8)
                return -1;
            p += 8;
            break;
        case WT_32BIT:
            if (end - p < 4)
                return -1;
            p += 4;
            break;
        case WT_LEN:
            if (scan_varint(&p, end, 5, &v) < 0 || v > (uint64_t)(end - p))
                return -1;
            body = p;
            p += v;
            break;
        default:
            return -1; /* groups (3, 4) and 6, 7 */
        }

        switch (f->role) {
        case SR_DNSTAP_TYPE:
            have_type = 1;
            sc->dt_type = (uint32_t)v;
            break;
        case SR_MSG_TYPE:
            have_type = 1;
            sc->msg_type = (uint32_t)v;
            /* A type outside the schema (MALFORMED) or a selected response
             * is for the full unpack, whatever follows. */
            if (sc->msg_type < DNSTAP_AUTH_QUERY ||
                sc->msg_type > DNSTAP_TYPE_MAX ||
                (!(sc->msg_type & 1) &&
                 (sc->types & DNSTAP_TYPE_BIT(sc->msg_type))))
                return -1;
            break;
        case SR_MESSAGE:
            sc->messages++;
            sc->embedded++;
            if (scan_msg(sc, &scan_message, body, p) < 0)
                return -1;
            break;
        case SR_POLICY:
            sc->embedded++;
            if (scan_msg(sc, &scan_policy, body, p) < 0)
                return -1;
            break;
        default:
            break;
        }
    }
    return s->required_type && !have_type ? -1 : 0;
}

/* The outcome of the full unpack for a query, an unselected response or a
 * Dnstap of another type; DT_SCAN_FULL when the full unpack must decide. */
#define DT_SCAN_FULL 1

static int scan_frame(const struct dnstap_decoder *d, const uint8_t *frame,
                      size_t len, int *type)
{
    struct scan sc = {.types = d->types};

    /* An empty frame (perhaps a null pointer) lacks Dnstap.type: that is
     * the unpack's MALFORMED. Every field takes 2 bytes or more, so with
     * len within the budget the sum below cannot overflow 64 bits. */
    if (len == 0 || len > DT_SCAN_BUDGET ||
        scan_msg(&sc, &scan_dnstap, frame, frame + len) < 0 ||
        (uint64_t)len + (uint64_t)sc.fields * DT_SCAN_FIELD_COST +
                (uint64_t)(sc.embedded + 1) * DT_SCAN_MSG_COST >
            DT_SCAN_BUDGET)
        return DT_SCAN_FULL;
    if (sc.dt_type != DNSTAP__DNSTAP__TYPE__MESSAGE)
        return DNSTAP_NOT_MESSAGE;
    if (sc.messages == 0)
        return DT_SCAN_FULL; /* MALFORMED, left to the full unpack */
    /* scan_msg() gave up on any other type. */
    if (type)
        *type = (int)sc.msg_type;
    return sc.msg_type & 1 ? DNSTAP_QUERY : DNSTAP_NOT_SELECTED;
}

int dnstap_decode(struct dnstap_decoder *d, const uint8_t *frame, size_t len,
                  struct rec *r, int *type)
{
    int rc;

    if (type)
        *type = 0;
    rc = scan_frame(d, frame, len, type);
    if (rc != DT_SCAN_FULL)
        return rc;
    return dnstap_decode_full(d, frame, len, r, type);
}

int dnstap_type_parse(const char *name)
{
    if (!name)
        return -1;
    for (int t = 1; t <= DNSTAP_TYPE_MAX; t++) {
        const char *p = type_names[t], *q = name;

        /* Compare with '-' matching '-' or '_', letters in either case. */
        for (; *p && *q; p++, q++) {
            char c = *q;

            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            else if (c == '_')
                c = '-';
            if (c != *p)
                break;
        }
        if (!*p && !*q)
            return t;
    }
    return -1;
}

const char *dnstap_type_name(int type)
{
    if (type < 1 || type > DNSTAP_TYPE_MAX)
        return NULL;
    return type_names[type];
}
