/* dnsprint_mnemonic.c: the names of RR types, classes, response codes,
 * opcodes and header flags (the contract is in dnsprint.h). */
#include "config.h"

#include "codec/dnsprint.h"
#include "codec/dnsprint_int.h"

#include <stdio.h>

static const char *fmt_number(char buf[DNSPRINT_MNEMONIC_MAX],
                              const char *prefix, unsigned v)
{
    snprintf(buf, DNSPRINT_MNEMONIC_MAX, "%s%u", prefix, v);
    return buf;
}

const char *dnsprint_type(uint16_t type, char buf[DNSPRINT_MNEMONIC_MAX])
{
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 3: return "MD";
    case 4: return "MF";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 7: return "MB";
    case 8: return "MG";
    case 9: return "MR";
    case 10: return "NULL";
    case 11: return "WKS";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 14: return "MINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 18: return "AFSDB";
    case 19: return "X25";
    case 20: return "ISDN";
    case 21: return "RT";
    case 22: return "NSAP";
    case 23: return "NSAP-PTR";
    case 24: return "SIG";
    case 25: return "KEY";
    case 26: return "PX";
    case 27: return "GPOS";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 30: return "NXT";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 36: return "KX";
    case 37: return "CERT";
    case 38: return "A6";
    case 39: return "DNAME";
    case 41: return "OPT";
    case 42: return "APL";
    case 43: return "DS";
    case 44: return "SSHFP";
    case 45: return "IPSECKEY";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 49: return "DHCID";
    case 50: return "NSEC3";
    case 51: return "NSEC3PARAM";
    case 52: return "TLSA";
    case 53: return "SMIMEA";
    case 55: return "HIP";
    case 59: return "CDS";
    case 60: return "CDNSKEY";
    case 61: return "OPENPGPKEY";
    case 62: return "CSYNC";
    case 63: return "ZONEMD";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 104: return "NID";
    case 105: return "L32";
    case 106: return "L64";
    case 107: return "LP";
    case 108: return "EUI48";
    case 109: return "EUI64";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 253: return "MAILB";
    case 254: return "MAILA";
    case 255: return "ANY";
    case 256: return "URI";
    case 257: return "CAA";
    case 32768: return "TA";
    case 32769: return "DLV";
    default: return fmt_number(buf, "TYPE", type);
    }
}

const char *dnsprint_class(uint16_t cls, char buf[DNSPRINT_MNEMONIC_MAX])
{
    switch (cls) {
    case 1: return "IN";
    case 3: return "CH";
    case 4: return "HS";
    case 254: return "NONE";
    case 255: return "ANY";
    default: return fmt_number(buf, "CLASS", cls);
    }
}

const char *dnsprint_rcode(uint16_t rcode, char buf[DNSPRINT_MNEMONIC_MAX])
{
    switch (rcode) {
    case 0: return "NOERROR";
    case 1: return "FORMERR";
    case 2: return "SERVFAIL";
    case 3: return "NXDOMAIN";
    case 4: return "NOTIMP";
    case 5: return "REFUSED";
    case 6: return "YXDOMAIN";
    case 7: return "YXRRSET";
    case 8: return "NXRRSET";
    case 9: return "NOTAUTH";
    case 10: return "NOTZONE";
    case 11: return "DSOTYPENI";
    /* 16 is also BADSIG, but only inside a TSIG record, which the header
     * rcode never carries. */
    case 16: return "BADVERS";
    case 17: return "BADKEY";
    case 18: return "BADTIME";
    case 19: return "BADMODE";
    case 20: return "BADNAME";
    case 21: return "BADALG";
    case 22: return "BADTRUNC";
    case 23: return "BADCOOKIE";
    default: return fmt_number(buf, "RCODE", rcode);
    }
}

const char *dnsprint_opcode(uint8_t opcode, char buf[DNSPRINT_MNEMONIC_MAX])
{
    switch (opcode) {
    case 0: return "QUERY";
    case 1: return "IQUERY";
    case 2: return "STATUS";
    case 4: return "NOTIFY";
    case 5: return "UPDATE";
    case 6: return "DSO";
    default: return fmt_number(buf, "OPCODE", opcode);
    }
}

int dnsprint_flags(uint16_t flags, char sep, char *buf, size_t size)
{
    static const struct {
        uint16_t bit;
        char name[3];
    } names[] = {
        { DNSPRINT_FLAG_QR, "qr" }, { DNSPRINT_FLAG_AA, "aa" },
        { DNSPRINT_FLAG_TC, "tc" }, { DNSPRINT_FLAG_RD, "rd" },
        { DNSPRINT_FLAG_RA, "ra" }, { DNSPRINT_FLAG_AD, "ad" },
        { DNSPRINT_FLAG_CD, "cd" },
    };
    struct dnsprint_sink s = { buf, size, 0, 0 };

    if (size > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(flags & names[i].bit))
            continue;
        if (s.used > 0)
            dnsprint_sink_put(&s, &sep, 1);
        dnsprint_sink_put(&s, names[i].name, 2);
    }
    if (s.full || (size == 0))
        return DNSPRINT_ENOSPC;
    return (int)s.used;
}
