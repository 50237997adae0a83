/* dnsprint.h: walking and printing DNS messages for humans (pure).
 *
 * Bytes in, text out: no I/O, no allocation, no libuv types. The collector
 * uses dnsprint_walk() to reject garbage, dnsprint_summary() to print one
 * line per message, dnsprint_rr() and dnsprint_rdata() to print the answer
 * records (dnsprint_pcap.h writes what it received as a pcap file); unit
 * tests and fuzzers drive every branch.
 *
 * Names are printed in presentation format with a trailing dot ("." for
 * the root). Label bytes outside 0x21..0x7e, and the space, are written as
 * \DDD (three decimal digits); the characters . \ " ( ) ; @ $ are written
 * with a backslash in front. The output therefore never contains white
 * space and is one token of a space separated line.
 *
 * Compression pointers must point backwards (to an offset before the
 * pointer itself) and past the 12-byte header; at most DNSPRINT_MAX_HOPS
 * are followed per name, and a name is at most DNSPRINT_WIRE_NAME_MAX
 * octets in wire form (length octets and the root included), so every
 * name ends after a bounded amount of work whatever the input. */
#ifndef TAPXFR_CODEC_DNSPRINT_H
#define TAPXFR_CODEC_DNSPRINT_H

#include <stddef.h>
#include <stdint.h>

#define DNSPRINT_HEADER_LEN 12
/* RFC 1035 3.1: 255 octets in wire form. */
#define DNSPRINT_WIRE_NAME_MAX 255
/* A name has at most 127 labels, so more hops than that is a loop. */
#define DNSPRINT_MAX_HOPS 127
/* Presentation form of the longest name (each octet up to 4 characters,
 * "\DDD", plus dots) and the terminating NUL, rounded up. */
#define DNSPRINT_NAME_MAX 1024
/* "TYPE65535", "RCODE4095", "CLASS65535" and the NUL fit. */
#define DNSPRINT_MNEMONIC_MAX 16
/* "qr,aa,tc,rd,ra,ad,cd" and the NUL fit. */
#define DNSPRINT_FLAGS_MAX 32
/* Everything dnsprint_summary() can write, NUL included. */
#define DNSPRINT_SUMMARY_MAX (DNSPRINT_NAME_MAX + 128)
/* Everything dnsprint_rdata() can write, NUL included. The largest text
 * comes from an NSEC record: a name and up to 65536 types from 256
 * strictly increasing bitmap windows, each type as a space and a mnemonic
 * of at most 10 characters ("NSEC3PARAM"). Every other form is smaller
 * (TXT and CAA at most 4 characters per RDATA octet, RFC 3597 generic at
 * most 2 plus 9). */
#define DNSPRINT_RDATA_MAX (DNSPRINT_NAME_MAX + 256 * 256 * 11)

/* Status codes: 0 is success, failures are negative. */
enum dnsprint_status {
    DNSPRINT_OK = 0,
    DNSPRINT_ESHORT = -1,   /* header, name or RR runs past the end */
    DNSPRINT_EPTR = -2,     /* compression pointer not backwards, into
                               the header, or more than MAX_HOPS */
    DNSPRINT_ELABEL = -3,   /* reserved label type (0x40 or 0x80 bits) */
    DNSPRINT_ENAMELEN = -4, /* name longer than 255 octets */
    DNSPRINT_ENOSPC = -5,   /* caller's output buffer too small */
    DNSPRINT_ETOOBIG = -6,  /* message too long for an IPv4/UDP packet */
};

#define DNSPRINT_FLAG_QR 0x8000
#define DNSPRINT_FLAG_AA 0x0400
#define DNSPRINT_FLAG_TC 0x0200
#define DNSPRINT_FLAG_RD 0x0100
#define DNSPRINT_FLAG_RA 0x0080
#define DNSPRINT_FLAG_AD 0x0020
#define DNSPRINT_FLAG_CD 0x0010

#define DNSPRINT_TYPE_OPT 41

/* What dnsprint_walk() learns about a message. Self-contained: it holds
 * no pointer into the message, so it outlives the buffer it came from. */
struct dnsprint_msg {
    uint16_t id;
    uint16_t flags; /* the whole second header word, opcode and rcode in */
    uint16_t qdcount, ancount, nscount, arcount;
    uint8_t opcode;
    /* The response code: the header's 4 bits, extended to 12 bits by the
     * first OPT record in the additional section when there is one. */
    uint16_t rcode;
    int has_opt;
    /* The first question; has_question is 0 when QDCOUNT is 0, and then
     * qname is "" and qtype / qclass are 0. */
    int has_question;
    char qname[DNSPRINT_NAME_MAX];
    uint16_t qtype, qclass;
    size_t answers; /* offset of the first answer RR: just past the
                       question section */
    size_t len; /* the message length given to dnsprint_walk() */
    size_t end; /* offset just past the last RR; len - end trailing bytes
                   are tolerated and not inspected */
};

/* Reads the (possibly compressed) name at offset off of msg[0..len).
 * With buf non-NULL writes its presentation form and a NUL into
 * buf[0..size); with buf NULL only checks it. When next is non-NULL sets
 * *next to the offset just past the name where it starts (past the first
 * pointer if there is one). Returns the length of the text (without the
 * NUL; 0 when buf is NULL), or a negative dnsprint_status. On failure buf
 * holds a NUL-terminated prefix (when size > 0) and *next is untouched. */
int dnsprint_name(const uint8_t *msg, size_t len, size_t off, char *buf,
                  size_t size, size_t *next);

/* Walks the whole message: the header, every question (name, type,
 * class) and every RR of the answer, authority and additional sections
 * (owner name, fixed fields, RDATA within bounds). Names inside RDATA are
 * not inspected. Returns 0 and fills *m, or a negative dnsprint_status;
 * on failure *m is partially filled and must not be used. */
int dnsprint_walk(const uint8_t *msg, size_t len, struct dnsprint_msg *m);

/* The fixed fields of one resource record and where its parts are: all
 * offsets are into the message given to dnsprint_rr(). */
struct dnsprint_rr {
    size_t owner; /* the owner name, for dnsprint_name() */
    uint16_t type, cls;
    uint32_t ttl;
    uint16_t rdlen;
    size_t rdata; /* RDATA: msg[rdata .. rdata + rdlen), inside the message */
};

/* Reads the resource record at offset off of msg[0..len): checks the owner
 * name, reads the fixed fields and checks that the RDATA lies within the
 * message. Sets *next (when non-NULL) to the offset just past the record.
 * Returns 0, or a negative dnsprint_status; on failure *rr is partially
 * filled and *next is untouched. After a successful dnsprint_walk(),
 * reading m->ancount records from m->answers never fails. */
int dnsprint_rr(const uint8_t *msg, size_t len, size_t off,
                struct dnsprint_rr *rr, size_t *next);

/* Writes the RDATA of rr (as read by dnsprint_rr() from the same msg[0..
 * len)) in presentation format, and a NUL, into buf[0..size):
 *   A, AAAA (class IN only)   192.0.2.1   2001:db8::1
 *   NS, CNAME, PTR, DNAME     a name, as dnsprint_name() writes it
 *   MX                        10 mail.example.
 *   TXT, SPF                  "v=spf1 -all" "second string"
 *   SOA                       mname rname serial refresh retry expire minimum
 *   SRV                       priority weight port target
 *   CAA                       0 issue "ca.example"
 *   DS, CDS                   keytag algorithm digesttype HEXDIGEST
 *   DNSKEY, CDNSKEY           flags protocol algorithm base64key
 *   RRSIG                     TYPE alg labels ttl YYYYMMDDHHmmSS (expiration)
 *                             YYYYMMDDHHmmSS (inception) keytag signer base64
 *   NSEC                      next.name. A NS SOA RRSIG NSEC ...
 *   anything else             \# 4 C0000201 (RFC 3597 generic form, upper
 *                             case hex; "\# 0" for empty RDATA)
 * Inside quotes (TXT, CAA value) " and \ get a backslash and bytes
 * outside 0x20..0x7e are written as \DDD, so the text never holds a
 * control character or a byte above 0x7e. Names inside RDATA are read
 * with compression pointers followed, but must start and (before any
 * pointer) end within the RDATA. RDATA that does not have the shape its
 * type requires (wrong length, bad name, bytes left over, a TXT string or
 * CAA tag running past the end, NSEC windows not strictly increasing,
 * ...) is written in the generic form instead, so every record gets a
 * text. Nothing outside msg[0..len) is ever read. Returns the length of
 * the text, DNSPRINT_ESHORT when the RDATA does not lie within the
 * message, or DNSPRINT_ENOSPC (buf then holds a NUL-terminated prefix
 * when size > 0); DNSPRINT_RDATA_MAX is always enough. */
int dnsprint_rdata(const uint8_t *msg, size_t len,
                   const struct dnsprint_rr *rr, char *buf, size_t size);

/* The mnemonic of an RR type ("A", "AAAA", "HTTPS", ...): a static string,
 * or "TYPEnnn" (RFC 3597) written into buf, which is then returned. */
const char *dnsprint_type(uint16_t type, char buf[DNSPRINT_MNEMONIC_MAX]);

/* The mnemonic of a class ("IN", "CH", ...), or "CLASSnnn" in buf. */
const char *dnsprint_class(uint16_t cls, char buf[DNSPRINT_MNEMONIC_MAX]);

/* The mnemonic of a (possibly extended) response code ("NOERROR",
 * "NXDOMAIN", "BADVERS", ...), or "RCODEn" in buf. */
const char *dnsprint_rcode(uint16_t rcode, char buf[DNSPRINT_MNEMONIC_MAX]);

/* The mnemonic of an opcode ("QUERY", "NOTIFY", "UPDATE", ...), or
 * "OPCODEn" in buf. */
const char *dnsprint_opcode(uint8_t opcode, char buf[DNSPRINT_MNEMONIC_MAX]);

/* Writes the header flags that are set, in the order qr aa tc rd ra ad cd,
 * separated by sep, into buf ("" when none is set). Returns the length of
 * the text, or DNSPRINT_ENOSPC (buf then holds a NUL-terminated prefix
 * when size > 0). */
int dnsprint_flags(uint16_t flags, char sep, char *buf, size_t size);

/* Writes the one-line summary of a walked message, without newline:
 *   <qname> <qtype> <rcode> flags=<f,...> an=<ancount> len=<length>
 * e.g. "www.example.com. A NOERROR flags=qr,aa,rd an=1 len=49". qname and
 * qtype are "-" when the message has no question. Returns the length of
 * the text, or DNSPRINT_ENOSPC (buf then holds a NUL-terminated prefix
 * when size > 0); DNSPRINT_SUMMARY_MAX is always enough. */
int dnsprint_summary(const struct dnsprint_msg *m, char *buf, size_t size);

/* A short static description of a status code, e.g. "truncated". */
const char *dnsprint_strerror(int status);

#endif
