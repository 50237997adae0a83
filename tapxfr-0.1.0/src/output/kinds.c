#include "config.h"

#include "output/kinds.h"

#include <string.h>

extern const struct coll_ops coll_udp_ops;
extern const struct coll_ops coll_tcp_ops;

static const struct {
    const char *scheme;
    const struct coll_ops *ops;
} kinds[] = {
    {"udp", &coll_udp_ops},
    {"tcp", &coll_tcp_ops},
};

const struct coll_ops *coll_kind(const char *scheme)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].scheme, scheme) == 0)
            return kinds[i].ops;
    return NULL;
}

size_t coll_kind_scheme(const char *url)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t n = strlen(kinds[i].scheme);
        if (strncmp(url, kinds[i].scheme, n) == 0 && strncmp(url + n, "://", 3) == 0)
            return n;
    }
    return 0;
}

const char *coll_kind_legacy(int tcp)
{
    return tcp ? "tcp" : "udp";
}
