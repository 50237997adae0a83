/* priv.h: running as an unprivileged user once everything privileged is
 * open (capture devices, sockets, files), keeping only the capability that
 * live capture needs to reopen a failed device. */
#ifndef TAPXFR_PRIV_H
#define TAPXFR_PRIV_H

#include <stddef.h>
#include <sys/types.h>

struct priv {
    const char *user;
    uid_t uid;
    gid_t gid;
};

/* Resolves -u USER and -g GROUP (a name or a number; without -g, USER's
 * primary group). Returns 0, or -1 with one line in err. */
int priv_lookup(struct priv *p, const char *user, const char *group,
                char *err, size_t errlen);

/* Switches every uid and gid to the looked-up ones, sets no_new_privs and
 * keeps CAP_NET_RAW (effective and permitted) when keep_net_raw, else no
 * capability at all. Returns 0, or -1 with one line in err. */
int priv_drop(const struct priv *p, int keep_net_raw, char *err, size_t errlen);

#endif
