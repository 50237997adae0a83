#include "config.h"

#include "stats/line.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct sbuf {
    char *p;
    size_t size, len;
};

static void put(struct sbuf *b, const char *key, uint64_t v)
{
    int n;

    if (b->len + 1 >= b->size)
        return;
    n = snprintf(b->p + b->len, b->size - b->len, "%s%s=%" PRIu64, b->len ? " " : "", key, v);
    if (n > 0)
        b->len += (size_t)n < b->size - b->len ? (size_t)n : b->size - b->len - 1;
}

/* Every member of d in base (or, with n_bases > 1, summed over bases). */
static void put_def(struct sbuf *b, const struct stats_def *d, const void *const *bases,
                    size_t n_bases)
{
    char key[96];

    if (d->type == STATS_HISTOGRAM) {
        const struct match_hist *h = (const void *)((const char *)bases[0] + d->off);

        snprintf(key, sizeof(key), "%s_count", d->key);
        put(b, key, h->count);
        snprintf(key, sizeof(key), "%s_sum_us", d->key);
        put(b, key, h->sum_ns / 1000);
        return;
    }

    for (int i = d->first; i < d->n; i++) {
        uint64_t v = 0;

        if (!stats_key(d, i, key, sizeof(key)))
            continue;
        for (size_t j = 0; j < n_bases; j++)
            v += stats_get(d, bases[j], i);
        if (v == 0 && (d->flags & STATS_F_NONZERO))
            continue;
        put(b, key, v);
    }
}

static const struct stats_def *find(enum stats_scope scope, const char *key)
{
    for (size_t k = 0; k < stats_n_defs; k++)
        if (stats_defs[k].scope == scope && !(stats_defs[k].flags & (STATS_F_REF | STATS_F_TOTAL)) &&
            strcmp(stats_defs[k].key, key) == 0)
            return &stats_defs[k];
    return NULL;
}

/* A def's members added up over every base. */
static uint64_t total(const struct stats_def *d, const void *const *bases, size_t n)
{
    uint64_t v = 0;

    for (size_t j = 0; d && j < n; j++)
        for (int i = d->first; i < d->n; i++)
            v += stats_get(d, bases[j], i);
    return v;
}

static void put_total(struct sbuf *b, const char *key, const struct stats_view *v)
{
    const void *g = v->g;
    const void *const *colls = (const void *const *)v->colls;

    if (strcmp(key, "dropped") == 0)
        put(b, key, total(find(STATS_GLOBAL, "drop_"), &g, 1) +
                        total(find(STATS_COLL, "drop_"), colls, v->n_colls));
    else
        put(b, key, total(find(STATS_COLL, "queued_messages"), colls, v->n_colls));
}

static void put_scope(struct sbuf *b, enum stats_scope scope, const void *base)
{
    for (size_t k = 0; k < stats_n_defs; k++)
        if (stats_defs[k].scope == scope)
            put_def(b, &stats_defs[k], &base, 1);
}

size_t stats_line_global(char *buf, size_t size, const struct stats_view *v)
{
    struct sbuf b = {buf, size, 0};

    if (size)
        buf[0] = '\0';
    for (size_t k = 0; k < stats_n_defs; k++) {
        const struct stats_def *d = &stats_defs[k];

        if (d->scope != STATS_GLOBAL)
            continue;
        if (d->flags & STATS_F_TOTAL)
            put_total(&b, d->key, v);
        else if (d->flags & STATS_F_REF)
            put_def(&b, find(STATS_COLL, d->key), (const void *const *)v->colls, v->n_colls);
        else
            put_def(&b, d, (const void *const *)&v->g, 1);
    }
    return b.len;
}

static size_t line_scope(char *buf, size_t size, enum stats_scope scope, const void *base)
{
    struct sbuf b = {buf, size, 0};

    if (size)
        buf[0] = '\0';
    put_scope(&b, scope, base);
    return b.len;
}

size_t stats_line_coll(char *buf, size_t size, const struct stats_out *o)
{
    return line_scope(buf, size, STATS_COLL, o);
}

size_t stats_line_input(char *buf, size_t size, const struct stats_in *in)
{
    return line_scope(buf, size, STATS_INPUT, in);
}
