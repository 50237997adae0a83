/* dnstap.c: one dnstap protobuf -> struct rec, through protobuf-c with an
 * arena allocator (see dnstap.h for the contract). */
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

int dnstap_decode(struct dnstap_decoder *d, const uint8_t *frame, size_t len,
                  struct rec *r, int *type)
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
