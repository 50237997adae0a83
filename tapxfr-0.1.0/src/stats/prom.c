#include "config.h"

#include "stats/prom.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Label values may hold paths and host names: escape as the format says. */
static void label(FILE *f, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            fprintf(f, "\\%c", *v);
        else if (*v == '\n')
            fputs("\\n", f);
        else
            fputc(*v, f);
    }
}

/* The HELP and TYPE lines, once per family: members of one family (the
 * same metric) may be declared by more than one entry. */
static void head(FILE *f, const struct stats_def *d)
{
    for (const struct stats_def *p = stats_defs; p < d; p++)
        if (p->metric && strcmp(p->metric, d->metric) == 0)
            return;
    if (d->type == STATS_HISTOGRAM)
        fprintf(f, "# HELP tapxfr_%s %s (stats line: %s_count, %s_sum_us)\n", d->metric,
                d->help, d->key, d->key);
    else
        fprintf(f, "# HELP tapxfr_%s %s (stats line: %s%s%s%s)\n", d->metric, d->help, d->key,
                d->member ? "<" : "", d->member ? d->label : "", d->member ? ">" : "");
    fprintf(f, "# TYPE tapxfr_%s %s\n", d->metric,
            d->type == STATS_GAUGE ? "gauge" : d->type == STATS_HISTOGRAM ? "histogram" : "counter");
}

/* One series: scope label (collector / input, or none), the member label. */
static void series(FILE *f, const struct stats_def *d, const char *scope_label,
                   const char *scope_value, const char *member, uint64_t v)
{
    int open = 0;

    fprintf(f, "tapxfr_%s", d->metric);
    if (scope_label) {
        fprintf(f, "{%s=\"", scope_label);
        label(f, scope_value);
        fputc('"', f);
        open = 1;
    }
    if (d->label && member) {
        fprintf(f, "%s%s=\"", open ? "," : "{", d->label);
        label(f, member);
        fputc('"', f);
        open = 1;
    }
    fprintf(f, "%s %" PRIu64 "\n", open ? "}" : "", v);
}

static void def_series(FILE *f, const struct stats_def *d, const char *scope_label,
                       const char *scope_value, const void *base)
{
    for (int i = d->first; i < d->n; i++) {
        const char *m = d->member ? d->member(i) : d->value;
        uint64_t v = stats_get(d, base, i);

        if (d->member && !m)
            continue;
        if (v == 0 && (d->flags & STATS_F_NONZERO))
            continue;
        series(f, d, scope_label, scope_value, m, v);
    }
}

/* Cumulative buckets with le in seconds, then _sum and _count. */
static void histogram(FILE *f, const struct stats_def *d, const void *base)
{
    const struct match_hist *h = (const void *)((const char *)base + d->off);

    for (size_t i = 0; i + 1 < MATCH_HIST_BUCKETS; i++)
        fprintf(f, "tapxfr_%s_bucket{le=\"%g\"} %" PRIu64 "\n", d->metric,
                (double)match_hist_bounds_ns[i] / 1e9, match_hist_le(h, i));
    fprintf(f, "tapxfr_%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", d->metric, h->count);
    fprintf(f, "tapxfr_%s_sum %.9f\n", d->metric, (double)h->sum_ns / 1e9);
    fprintf(f, "tapxfr_%s_count %" PRIu64 "\n", d->metric, h->count);
}

static void write_all(FILE *f, const struct stats_view *v)
{
    for (size_t k = 0; k < stats_n_defs; k++) {
        const struct stats_def *d = &stats_defs[k];

        if ((d->scope == STATS_INPUT && v->n_inputs == 0) ||
            (d->flags & (STATS_F_REF | STATS_F_TOTAL)))
            continue;
        head(f, d);
        if (d->type == STATS_HISTOGRAM)
            histogram(f, d, v->g);
        else if (d->scope == STATS_GLOBAL)
            def_series(f, d, NULL, NULL, v->g);
        for (size_t i = 0; d->scope == STATS_COLL && i < v->n_colls; i++)
            def_series(f, d, "collector", v->coll_names[i], v->colls[i]);
        for (size_t i = 0; d->scope == STATS_INPUT && i < v->n_inputs; i++)
            def_series(f, d, "input", v->input_names[i], v->inputs[i]);
    }
}

int stats_prom_write(const char *path, const struct stats_view *v)
{
    char tmp[4096];
    FILE *f;
    int rc = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
        return -ENAMETOOLONG;
    f = fopen(tmp, "w");
    if (!f)
        return -errno;
    write_all(f, v);
    if (fflush(f) != 0 || ferror(f))
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    /* rename() is atomic: a scraper sees the old file or the new one. */
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}
