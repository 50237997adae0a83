#include "config.h"

#include "record.h"

#include <arpa/inet.h>
#include <stdio.h>

const char *rec_addr_str(const struct rec_addr *a, char *buf, size_t size)
{
    int af = a->family == 4 ? AF_INET : a->family == 6 ? AF_INET6 : 0;

    if (af == 0 || inet_ntop(af, a->addr, buf, (socklen_t)size) == NULL)
        snprintf(buf, size, "?");
    return buf;
}
