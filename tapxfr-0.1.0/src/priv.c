#include "config.h"

#include "priv.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int numeric(const char *s, unsigned long *v)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return errno || *end ? -1 : 0;
}

int priv_lookup(struct priv *p, const char *user, const char *group, char *err,
                size_t errlen)
{
    struct passwd *pw = getpwnam(user);
    unsigned long v;

    p->user = user;
    if (pw) {
        p->uid = pw->pw_uid;
        p->gid = pw->pw_gid;
    } else if (numeric(user, &v) == 0) {
        p->uid = (uid_t)v;
        p->gid = (gid_t)v;
    } else {
        snprintf(err, errlen, "unknown user '%s' for -u", user);
        return -1;
    }
    if (group) {
        struct group *gr = getgrnam(group);
        if (gr)
            p->gid = gr->gr_gid;
        else if (numeric(group, &v) == 0)
            p->gid = (gid_t)v;
        else {
            snprintf(err, errlen, "unknown group '%s' for -g", group);
            return -1;
        }
    }
    return 0;
}

static int set_caps(int keep_net_raw)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];

    memset(data, 0, sizeof(data));
    if (keep_net_raw) {
        data[0].effective = data[0].permitted = 1u << CAP_NET_RAW;
    }
    return (int)syscall(SYS_capset, &hdr, data);
}

int priv_drop(const struct priv *p, int keep_net_raw, char *err, size_t errlen)
{
    if (getuid() == p->uid && geteuid() == p->uid && getgid() == p->gid) {
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        return 0; /* already that user: nothing to give up */
    }
    if (geteuid() != 0) {
        snprintf(err, errlen, "cannot switch to user %s: not running as root", p->user);
        return -1;
    }
    /* Capabilities survive setuid only when asked to, and only the
     * permitted set; the effective set is restored with capset after. */
    if (keep_net_raw && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        goto fail;
    /* Empty the bounding set too (but the one capability kept), while
     * CAP_SETPCAP is still ours: nothing can ever be regained. */
    for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
        if (keep_net_raw && cap == CAP_NET_RAW)
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            goto fail;
    }
    if (setgroups(1, &p->gid) < 0 || setresgid(p->gid, p->gid, p->gid) < 0 ||
        setresuid(p->uid, p->uid, p->uid) < 0)
        goto fail;
    if (set_caps(keep_net_raw) < 0)
        goto fail;
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        goto fail;
    /* Proof, not hope: regaining root must now be impossible. */
    if (p->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(err, errlen, "privileges could not be dropped");
        return -1;
    }
    return 0;
fail:
    snprintf(err, errlen, "cannot switch to user %s: %s", p->user, strerror(errno));
    return -1;
}
