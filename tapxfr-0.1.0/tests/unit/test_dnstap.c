/* test_dnstap.c: the dnstap codec (src/codec/dnstap.c).
 *
 * Two kinds of fixtures: frames built here with the generated protobuf-c
 * pack functions (one field changed at a time), and real frames written
 * by tests/tools/gen_dnstap.py, checked against values read from the same
 * bytes by an independent Python protobuf reader. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "codec/dnstap.h"
#include "dnstap.pb-c.h"

/* What the Python reader found in a real frame. Addresses, times and the
 * zone are the raw protobuf field values; msg_off is where the response
 * message starts inside the frame. */
struct fx_expect {
    int type, family, proto;
    const char *qaddr;
    size_t qaddr_len;
    unsigned qport;
    const char *raddr;
    size_t raddr_len;
    unsigned rport;
    unsigned long long qsec;
    unsigned qnsec;
    unsigned long long rsec;
    unsigned rnsec;
    const char *zone;
    size_t zone_len;
    size_t msg_off, msg_len;
    const char *msg_head;
    const char *ident;
};

/* Real frames. Regenerate with
 *   python3 tests/tools/gen_dnstap.py --count 50 --seed 1 --out x.fstrm
 * and take the smallest frame of each kind (frame numbers count data frames
 * from 0). Each frame is identity (1), version (2), message (14), type (15). */
/* frame 43: RESOLVER_RESPONSE, INET, UDP, identity "resolver1.example.net", 190 bytes */
static const uint8_t fx_resolver_response_zone[] = {
    0x0a, 0x15, 0x72, 0x65, 0x73, 0x6f, 0x6c, 0x76, 0x65, 0x72, 0x31, 0x2e,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x12,
    0x0e, 0x75, 0x6e, 0x62, 0x6f, 0x75, 0x6e, 0x64, 0x20, 0x31, 0x2e, 0x31,
    0x37, 0x2e, 0x31, 0x72, 0x92, 0x01, 0x08, 0x04, 0x10, 0x01, 0x18, 0x01,
    0x22, 0x04, 0x0a, 0x35, 0x00, 0x01, 0x2a, 0x04, 0xc7, 0x15, 0x2c, 0xc4,
    0x30, 0xec, 0x46, 0x38, 0x35, 0x40, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x4d,
    0x4e, 0x36, 0x0d, 0x01, 0x5a, 0x0b, 0x05, 0x6d, 0x61, 0x70, 0x6c, 0x65,
    0x03, 0x63, 0x6f, 0x6d, 0x00, 0x60, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x6d,
    0x6b, 0x6e, 0x27, 0x02, 0x72, 0x56, 0x0d, 0x69, 0x84, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x03, 0x77, 0x77, 0x77, 0x05, 0x6d,
    0x61, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00,
    0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x07, 0x08, 0x00,
    0x04, 0x36, 0x1b, 0x52, 0xcb, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00,
    0x80, 0x00, 0x00, 0x1c, 0x00, 0x0a, 0x00, 0x18, 0x1a, 0x46, 0x7c, 0xdb,
    0x5f, 0xef, 0x33, 0x33, 0x21, 0x72, 0x7c, 0x6f, 0xc3, 0x75, 0xb3, 0xe1,
    0xcb, 0x25, 0xe3, 0x3b, 0x10, 0x1b, 0x85, 0x4e, 0x78, 0x01,
};
static const struct fx_expect fx_resolver_response_zone_exp = {
    .type = 4, .family = 4, .proto = 1,
    .qaddr = "\x0a\x35\x00\x01", .qaddr_len = 4, .qport = 9068,
    .raddr = "\xc7\x15\x2c\xc4", .raddr_len = 4, .rport = 53,
    .qsec = 1700000000ULL, .qnsec = 17643086u, .rsec = 1700000000ULL, .rnsec = 36138603u,
    .zone = "\x05\x6d\x61\x70\x6c\x65\x03\x63\x6f\x6d\x00", .zone_len = 11,
    .msg_off = 102, .msg_len = 86, .msg_head = "\x0d\x69\x84\x00\x00\x01\x00\x01\x00\x00\x00\x01",
    .ident = "resolver1.example.net",
};

/* frame 13: RESOLVER_RESPONSE, INET6, UDP, identity "resolver1.example.net", 223 bytes */
static const uint8_t fx_resolver_response_v6[] = {
    0x0a, 0x15, 0x72, 0x65, 0x73, 0x6f, 0x6c, 0x76, 0x65, 0x72, 0x31, 0x2e,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x12,
    0x0e, 0x75, 0x6e, 0x62, 0x6f, 0x75, 0x6e, 0x64, 0x20, 0x31, 0x2e, 0x31,
    0x37, 0x2e, 0x31, 0x72, 0xb3, 0x01, 0x08, 0x04, 0x10, 0x02, 0x18, 0x01,
    0x22, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x53, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2a, 0x10, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x0a, 0x36, 0x0b, 0x94, 0x9a, 0x4e, 0xf5, 0xb3, 0x2d, 0x1c, 0x41,
    0x30, 0x9e, 0x44, 0x38, 0x35, 0x40, 0xff, 0xe1, 0xcf, 0xaa, 0x06, 0x4d,
    0x61, 0xe9, 0x59, 0x3b, 0x5a, 0x04, 0x02, 0x6a, 0x70, 0x00, 0x60, 0x80,
    0xe2, 0xcf, 0xaa, 0x06, 0x6d, 0x46, 0x5b, 0x11, 0x02, 0x72, 0x66, 0xff,
    0x38, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x02,
    0x69, 0x64, 0x04, 0x64, 0x75, 0x6e, 0x65, 0x02, 0x6a, 0x70, 0x00, 0x00,
    0x01, 0x00, 0x01, 0xc0, 0x0f, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0xa3,
    0x00, 0x00, 0x10, 0x04, 0x6e, 0x73, 0x33, 0x36, 0x05, 0x6e, 0x73, 0x6f,
    0x6e, 0x65, 0x03, 0x6e, 0x65, 0x74, 0x00, 0xc0, 0x0f, 0x00, 0x02, 0x00,
    0x01, 0x00, 0x02, 0xa3, 0x00, 0x00, 0x07, 0x04, 0x6e, 0x73, 0x33, 0x37,
    0xc0, 0x2d, 0xc0, 0x44, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x07, 0x08,
    0x00, 0x04, 0x40, 0x50, 0xc0, 0xd8, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x78, 0x01,
};
static const struct fx_expect fx_resolver_response_v6_exp = {
    .type = 4, .family = 6, .proto = 1,
    .qaddr = "\x20\x01\x0d\xb8\x00\x53\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", .qaddr_len = 16, .qport = 8734,
    .raddr = "\x20\x01\x0d\xb8\x00\x0a\x36\x0b\x94\x9a\x4e\xf5\xb3\x2d\x1c\x41", .raddr_len = 16, .rport = 53,
    .qsec = 1699999999ULL, .qnsec = 995748193u, .rsec = 1700000000ULL, .rnsec = 34691910u,
    .zone = "\x02\x6a\x70\x00", .zone_len = 4,
    .msg_off = 119, .msg_len = 102, .msg_head = "\xff\x38\x80\x00\x00\x01\x00\x00\x00\x02\x00\x02",
    .ident = "resolver1.example.net",
};

/* frame 48: AUTH_RESPONSE, INET6, UDP, identity "ns1.example.org", 411 bytes */
static const uint8_t fx_auth_response_v6[] = {
    0x0a, 0x0f, 0x6e, 0x73, 0x31, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c,
    0x65, 0x2e, 0x6f, 0x72, 0x67, 0x12, 0x0e, 0x4b, 0x6e, 0x6f, 0x74, 0x20,
    0x44, 0x4e, 0x53, 0x20, 0x33, 0x2e, 0x32, 0x2e, 0x36, 0x72, 0xf5, 0x02,
    0x08, 0x02, 0x10, 0x02, 0x18, 0x01, 0x22, 0x10, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x0a, 0xfa, 0x97, 0x15, 0xda, 0x3f, 0x49, 0x01, 0xa4, 0x78, 0x97,
    0x2a, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x35, 0x30, 0xc7, 0x21, 0x38, 0x35, 0x40,
    0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x4d, 0x3b, 0x3b, 0x2a, 0x02, 0x60, 0x80,
    0xe2, 0xcf, 0xaa, 0x06, 0x6d, 0x1d, 0xe2, 0x2b, 0x02, 0x72, 0xad, 0x02,
    0x8e, 0xcd, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x07,
    0x09, 0x68, 0x65, 0x72, 0x6f, 0x6e, 0x64, 0x61, 0x74, 0x61, 0x02, 0x66,
    0x72, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01,
    0x00, 0x02, 0xa3, 0x00, 0x00, 0x06, 0x03, 0x6e, 0x73, 0x31, 0xc0, 0x0c,
    0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0xa3, 0x00, 0x00, 0x06,
    0x03, 0x6e, 0x73, 0x32, 0xc0, 0x0c, 0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01,
    0x00, 0x02, 0xa3, 0x00, 0x00, 0x06, 0x03, 0x6e, 0x73, 0x33, 0xc0, 0x0c,
    0x20, 0x69, 0x36, 0x67, 0x65, 0x72, 0x67, 0x30, 0x39, 0x64, 0x6a, 0x31,
    0x31, 0x30, 0x61, 0x6d, 0x6e, 0x66, 0x65, 0x6a, 0x76, 0x34, 0x63, 0x6c,
    0x62, 0x33, 0x67, 0x66, 0x6c, 0x63, 0x35, 0x69, 0x6e, 0xc0, 0x16, 0x00,
    0x32, 0x00, 0x01, 0x00, 0x01, 0x51, 0x80, 0x00, 0x1d, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x14, 0x86, 0x23, 0x91, 0x4f, 0x0a, 0x42, 0x78, 0xca, 0x9e,
    0x85, 0x78, 0x5a, 0x6e, 0x64, 0xe9, 0x24, 0xed, 0xd3, 0x0a, 0x14, 0x00,
    0x01, 0x20, 0xc0, 0x2a, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0xa3, 0x00,
    0x00, 0x04, 0xd9, 0x0f, 0xe2, 0xf0, 0xc0, 0x2a, 0x00, 0x1c, 0x00, 0x01,
    0x00, 0x02, 0xa3, 0x00, 0x00, 0x10, 0x2a, 0x00, 0x14, 0x50, 0x9b, 0xf4,
    0xfc, 0x7a, 0x0b, 0x72, 0x6c, 0xed, 0xba, 0xfe, 0xa2, 0x3a, 0xc0, 0x3c,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, 0x42, 0x47,
    0x3a, 0x54, 0xc0, 0x3c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10,
    0x00, 0x10, 0x20, 0x01, 0x04, 0x70, 0xd3, 0xde, 0xdf, 0xdb, 0xc7, 0x72,
    0x39, 0xb3, 0x83, 0x4f, 0x06, 0xc5, 0xc0, 0x4e, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x02, 0xa3, 0x00, 0x00, 0x04, 0xc7, 0xb0, 0xc0, 0x3c, 0xc0, 0x4e,
    0x00, 0x1c, 0x00, 0x01, 0x00, 0x02, 0xa3, 0x00, 0x00, 0x10, 0x2a, 0x01,
    0x04, 0xf8, 0x3e, 0xb8, 0x7d, 0xbb, 0x56, 0xae, 0x2a, 0x9b, 0x5d, 0x38,
    0x7d, 0xf1, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00,
    0x00, 0x78, 0x01,
};
static const struct fx_expect fx_auth_response_v6_exp = {
    .type = 2, .family = 6, .proto = 1,
    .qaddr = "\x20\x01\x0d\xb8\x00\x0a\xfa\x97\x15\xda\x3f\x49\x01\xa4\x78\x97", .qaddr_len = 16, .qport = 4295,
    .raddr = "\x20\x01\x0d\xb8\x00\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x35", .raddr_len = 16, .rport = 53,
    .qsec = 1700000000ULL, .qnsec = 36322107u, .rsec = 1700000000ULL, .rnsec = 36430365u,
    .zone = "", .zone_len = 0,
    .msg_off = 108, .msg_len = 301, .msg_head = "\x8e\xcd\x80\x00\x00\x01\x00\x00\x00\x04\x00\x07",
    .ident = "ns1.example.org",
};

/* frame 16: RESOLVER_RESPONSE, INET, TCP, identity "resolver1.example.net", 216 bytes */
static const uint8_t fx_response_tcp[] = {
    0x0a, 0x15, 0x72, 0x65, 0x73, 0x6f, 0x6c, 0x76, 0x65, 0x72, 0x31, 0x2e,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x12,
    0x0e, 0x75, 0x6e, 0x62, 0x6f, 0x75, 0x6e, 0x64, 0x20, 0x31, 0x2e, 0x31,
    0x37, 0x2e, 0x31, 0x72, 0xac, 0x01, 0x08, 0x04, 0x10, 0x01, 0x18, 0x02,
    0x22, 0x04, 0x0a, 0x35, 0x00, 0x01, 0x2a, 0x04, 0x17, 0x6e, 0x9b, 0xc2,
    0x30, 0xbd, 0x95, 0x02, 0x38, 0x35, 0x40, 0x80, 0xe2, 0xcf, 0xaa, 0x06,
    0x4d, 0x74, 0x79, 0xbb, 0x01, 0x5a, 0x11, 0x0b, 0x63, 0x68, 0x61, 0x6d,
    0x62, 0x65, 0x72, 0x2d, 0x68, 0x75, 0x62, 0x03, 0x63, 0x6f, 0x6d, 0x00,
    0x60, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x6d, 0x84, 0x23, 0x13, 0x02, 0x72,
    0x69, 0xd6, 0x3d, 0x84, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x01, 0x0b, 0x63, 0x68, 0x61, 0x6d, 0x62, 0x65, 0x72, 0x2d, 0x68, 0x75,
    0x62, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x10, 0x00, 0x01, 0xc0, 0x0c,
    0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x03, 0x84, 0x00, 0x31, 0x04, 0x6e,
    0x73, 0x31, 0x39, 0x05, 0x6e, 0x73, 0x6f, 0x6e, 0x65, 0x03, 0x6e, 0x65,
    0x74, 0x00, 0x0a, 0x68, 0x6f, 0x73, 0x74, 0x6d, 0x61, 0x73, 0x74, 0x65,
    0x72, 0xc0, 0x0c, 0x78, 0x9c, 0x0e, 0xf9, 0x00, 0x00, 0x1c, 0x20, 0x00,
    0x00, 0x03, 0x84, 0x00, 0x12, 0x75, 0x00, 0x00, 0x01, 0x51, 0x80, 0x00,
    0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x78, 0x01,
};
static const struct fx_expect fx_response_tcp_exp = {
    .type = 4, .family = 4, .proto = 2,
    .qaddr = "\x0a\x35\x00\x01", .qaddr_len = 4, .qport = 35517,
    .raddr = "\x17\x6e\x9b\xc2", .raddr_len = 4, .rport = 53,
    .qsec = 1700000000ULL, .qnsec = 29063540u, .rsec = 1700000000ULL, .rnsec = 34808708u,
    .zone = "\x0b\x63\x68\x61\x6d\x62\x65\x72\x2d\x68\x75\x62\x03\x63\x6f\x6d\x00", .zone_len = 17,
    .msg_off = 109, .msg_len = 105, .msg_head = "\xd6\x3d\x84\x00\x00\x01\x00\x00\x00\x01\x00\x01",
    .ident = "resolver1.example.net",
};

/* frame 31: CLIENT_RESPONSE, INET, UDP, identity "resolver1.example.net", 145 bytes */
static const uint8_t fx_client_response[] = {
    0x0a, 0x15, 0x72, 0x65, 0x73, 0x6f, 0x6c, 0x76, 0x65, 0x72, 0x31, 0x2e,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x12,
    0x0e, 0x75, 0x6e, 0x62, 0x6f, 0x75, 0x6e, 0x64, 0x20, 0x31, 0x2e, 0x31,
    0x37, 0x2e, 0x31, 0x72, 0x66, 0x08, 0x06, 0x10, 0x01, 0x18, 0x01, 0x22,
    0x04, 0x0a, 0xfd, 0xb2, 0x9e, 0x2a, 0x04, 0x0a, 0x35, 0x00, 0x01, 0x30,
    0xd5, 0xf4, 0x01, 0x38, 0x35, 0x40, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x4d,
    0xe4, 0x1b, 0x1c, 0x02, 0x60, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x6d, 0x4a,
    0xb7, 0x20, 0x02, 0x72, 0x36, 0x6a, 0x4c, 0x81, 0x80, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x70, 0x65, 0x61, 0x72, 0x6c, 0x03,
    0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0x38, 0x40, 0x00, 0x04, 0x36, 0x3e, 0xb0, 0xfb,
    0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x78,
    0x01,
};
static const struct fx_expect fx_client_response_exp = {
    .type = 6, .family = 4, .proto = 1,
    .qaddr = "\x0a\xfd\xb2\x9e", .qaddr_len = 4, .qport = 31317,
    .raddr = "\x0a\x35\x00\x01", .raddr_len = 4, .rport = 53,
    .qsec = 1700000000ULL, .qnsec = 35396580u, .rsec = 1700000000ULL, .rnsec = 35698506u,
    .zone = "", .zone_len = 0,
    .msg_off = 89, .msg_len = 54, .msg_head = "\x6a\x4c\x81\x80\x00\x01\x00\x01\x00\x00\x00\x01",
    .ident = "resolver1.example.net",
};

/* frame 21: RESOLVER_QUERY, INET, UDP, identity "resolver1.example.net", 139 bytes */
static const uint8_t fx_resolver_query[] = {
    0x0a, 0x15, 0x72, 0x65, 0x73, 0x6f, 0x6c, 0x76, 0x65, 0x72, 0x31, 0x2e,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x12,
    0x0e, 0x75, 0x6e, 0x62, 0x6f, 0x75, 0x6e, 0x64, 0x20, 0x31, 0x2e, 0x31,
    0x37, 0x2e, 0x31, 0x72, 0x60, 0x08, 0x03, 0x10, 0x01, 0x18, 0x01, 0x22,
    0x04, 0x0a, 0x35, 0x00, 0x01, 0x2a, 0x04, 0x5b, 0xbd, 0x69, 0xe4, 0x30,
    0xd2, 0x9b, 0x01, 0x38, 0x35, 0x40, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x4d,
    0x6c, 0x08, 0x1a, 0x02, 0x52, 0x2e, 0x18, 0x24, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x07, 0x6d, 0x65, 0x74, 0x72, 0x69,
    0x63, 0x73, 0x06, 0x73, 0x61, 0x74, 0x75, 0x72, 0x6e, 0x02, 0x69, 0x6e,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x5a, 0x0b, 0x06, 0x73, 0x61, 0x74, 0x75, 0x72,
    0x6e, 0x02, 0x69, 0x6e, 0x00, 0x78, 0x01,
};
static const struct fx_expect fx_resolver_query_exp = {
    .type = 3, .family = 4, .proto = 1,
    .qaddr = "\x0a\x35\x00\x01", .qaddr_len = 4, .qport = 19922,
    .raddr = "\x5b\xbd\x69\xe4", .raddr_len = 4, .rport = 53,
    .qsec = 1700000000ULL, .qnsec = 35260524u, .rsec = 0ULL, .rnsec = 0u,
    .zone = "\x06\x73\x61\x74\x75\x72\x6e\x02\x69\x6e\x00", .zone_len = 11,
    .msg_off = 0, .msg_len = 0, .msg_head = "",
    .ident = "resolver1.example.net",
};

/* frame 29: CLIENT_QUERY, INET, UDP, identity "resolver1.example.net", 113 bytes */
static const uint8_t fx_client_query[] = {
    0x0a, 0x15, 0x72, 0x65, 0x73, 0x6f, 0x6c, 0x76, 0x65, 0x72, 0x31, 0x2e,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x12,
    0x0e, 0x75, 0x6e, 0x62, 0x6f, 0x75, 0x6e, 0x64, 0x20, 0x31, 0x2e, 0x31,
    0x37, 0x2e, 0x31, 0x72, 0x46, 0x08, 0x05, 0x10, 0x01, 0x18, 0x01, 0x22,
    0x04, 0x0a, 0x72, 0x12, 0x05, 0x2a, 0x04, 0x0a, 0x35, 0x00, 0x01, 0x30,
    0xb9, 0xb2, 0x01, 0x38, 0x35, 0x40, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x4d,
    0xd1, 0x8e, 0x1f, 0x02, 0x52, 0x21, 0x2b, 0xe6, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x70, 0x75, 0x73, 0x68, 0x07,
    0x66, 0x6f, 0x72, 0x74, 0x75, 0x6e, 0x65, 0x02, 0x69, 0x74, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x78, 0x01,
};
static const struct fx_expect fx_client_query_exp = {
    .type = 5, .family = 4, .proto = 1,
    .qaddr = "\x0a\x72\x12\x05", .qaddr_len = 4, .qport = 22841,
    .raddr = "\x0a\x35\x00\x01", .raddr_len = 4, .rport = 53,
    .qsec = 1700000000ULL, .qnsec = 35622609u, .rsec = 0ULL, .rnsec = 0u,
    .zone = "", .zone_len = 0,
    .msg_off = 0, .msg_len = 0, .msg_head = "",
    .ident = "resolver1.example.net",
};

/* ------------------------------------------------------------------ helpers */

#define ALL_RESPONSES                                                         \
    (DNSTAP_TYPE_BIT(2) | DNSTAP_TYPE_BIT(4) | DNSTAP_TYPE_BIT(6) |           \
     DNSTAP_TYPE_BIT(8) | DNSTAP_TYPE_BIT(10) | DNSTAP_TYPE_BIT(12) |         \
     DNSTAP_TYPE_BIT(14))

static uint8_t ident[] = {'r', 'e', 's', '1'};
static uint8_t version[] = {'t', 'e', 's', 't', ' ', '1'};
static uint8_t q_addr4[4] = {192, 0, 2, 1};
static uint8_t r_addr4[4] = {198, 51, 100, 53};
static uint8_t q_addr6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                              0, 0, 0, 0, 0, 0, 0, 0x01};
static uint8_t r_addr6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                              0, 0, 0, 0, 0, 0, 0, 0x35};
static uint8_t zone[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
/* www.example. IN A query and its answer (header, question, one A). */
static uint8_t query_msg[] = {
    0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,             /* header */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, /* qname */
    0, 1, 0, 1};                                               /* A IN */
static uint8_t resp_msg[] = {
    0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,            /* QR AA */
    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, /* qname */
    0, 1, 0, 1,                                                /* A IN */
    0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4,            /* rr */
    192, 0, 2, 80};                                            /* rdata */

/* A Dnstap frame under construction: everything the codec reads is set,
 * for a RESOLVER_RESPONSE over IPv4/UDP. Tests change one field at a time.
 * Never copied (dt.message points at m). */
struct tmpl {
    Dnstap__Dnstap dt;
    Dnstap__Message m;
};

static void set_bytes(protobuf_c_boolean *has, ProtobufCBinaryData *bd,
                      uint8_t *p, size_t len)
{
    *has = 1;
    bd->data = p;
    bd->len = len;
}

static void tmpl_init(struct tmpl *t)
{
    Dnstap__Dnstap dt = DNSTAP__DNSTAP__INIT;
    Dnstap__Message m = DNSTAP__MESSAGE__INIT;

    t->dt = dt;
    t->m = m;
    set_bytes(&t->dt.has_identity, &t->dt.identity, ident, sizeof(ident));
    set_bytes(&t->dt.has_version, &t->dt.version, version, sizeof(version));
    t->dt.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
    t->dt.message = &t->m;

    t->m.type = DNSTAP__MESSAGE__TYPE__RESOLVER_RESPONSE;
    t->m.has_socket_family = 1;
    t->m.socket_family = DNSTAP__SOCKET_FAMILY__INET;
    t->m.has_socket_protocol = 1;
    t->m.socket_protocol = DNSTAP__SOCKET_PROTOCOL__UDP;
    set_bytes(&t->m.has_query_address, &t->m.query_address, q_addr4, 4);
    set_bytes(&t->m.has_response_address, &t->m.response_address, r_addr4, 4);
    t->m.has_query_port = 1;
    t->m.query_port = 5353;
    t->m.has_response_port = 1;
    t->m.response_port = 53;
    t->m.has_query_time_sec = 1;
    t->m.query_time_sec = 1700000000;
    t->m.has_query_time_nsec = 1;
    t->m.query_time_nsec = 111;
    set_bytes(&t->m.has_query_message, &t->m.query_message, query_msg,
              sizeof(query_msg));
    set_bytes(&t->m.has_query_zone, &t->m.query_zone, zone, sizeof(zone));
    t->m.has_response_time_sec = 1;
    t->m.response_time_sec = 1700000001;
    t->m.has_response_time_nsec = 1;
    t->m.response_time_nsec = 222;
    set_bytes(&t->m.has_response_message, &t->m.response_message, resp_msg,
              sizeof(resp_msg));
}

struct buf {
    uint8_t *p;
    size_t len;
};

/* Packs a frame into a heap buffer of exactly its length (so ASan and
 * valgrind catch any read past the end), with room for extra bytes. */
static struct buf pack_extra(const Dnstap__Dnstap *dt, size_t extra)
{
    struct buf b;

    b.len = dnstap__dnstap__get_packed_size(dt);
    b.p = malloc(b.len + extra + 1);
    assert_non_null(b.p);
    assert_int_equal(dnstap__dnstap__pack(dt, b.p), b.len);
    return b;
}

static struct buf pack(const Dnstap__Dnstap *dt)
{
    return pack_extra(dt, 0);
}

/* Packs, decodes and frees the frame before returning, so a record that
 * still pointed into the frame (instead of the arena) would be caught. */
static int dec(struct dnstap_decoder *d, const struct tmpl *t, struct rec *r,
               int *type)
{
    struct buf b = pack(&t->dt);
    int rc = dnstap_decode(d, b.p, b.len, r, type);

    free(b.p);
    return rc;
}

static uint8_t *copy_of(const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);

    assert_non_null(c);
    if (len)
        memcpy(c, p, len);
    return c;
}

/* Decodes len bytes from a private heap copy of exactly that size. */
static int dec_bytes(struct dnstap_decoder *d, const uint8_t *p, size_t len,
                     struct rec *r, int *type)
{
    uint8_t *c = copy_of(p, len);
    int rc = dnstap_decode(d, c, len, r, type);

    free(c);
    return rc;
}

static void assert_in_arena(const struct dnstap_decoder *d, const uint8_t *p,
                            size_t len)
{
    assert_non_null(p);
    assert_true(p >= d->arena);
    assert_true(len <= d->cap);
    assert_true(p + len <= d->arena + d->cap);
}

static void assert_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        assert_int_equal(p[i], 0);
}

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64: deterministic across platforms. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ------------------------------------------------------- built fixtures */

static void test_ok_fields(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    int type = -1;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    tmpl_init(&t);
    memset(&r, 0xa5, sizeof(r));
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_OK);
    assert_int_equal(type, DNSTAP_RESOLVER_RESPONSE);
    assert_int_equal(r.source, REC_SRC_DNSTAP);
    assert_int_equal(r.transport, REC_TR_UDP);
    assert_int_equal(r.ts_sec, 1700000001);
    assert_int_equal(r.ts_nsec, 222);
    assert_int_equal(r.responder.family, 4);
    assert_memory_equal(r.responder.addr, r_addr4, 4);
    assert_zero(r.responder.addr + 4, 12);
    assert_int_equal(r.responder.port, 53);
    assert_int_equal(r.client.family, 4);
    assert_memory_equal(r.client.addr, q_addr4, 4);
    assert_zero(r.client.addr + 4, 12);
    assert_int_equal(r.client.port, 5353);
    assert_int_equal(r.msg_len, sizeof(resp_msg));
    assert_memory_equal(r.msg, resp_msg, sizeof(resp_msg));
    assert_in_arena(&d, r.msg, r.msg_len);
    assert_int_equal(r.dt_type, DNSTAP_RESOLVER_RESPONSE);
    assert_int_equal(r.query_zone_len, sizeof(zone));
    assert_memory_equal(r.query_zone, zone, sizeof(zone));
    assert_in_arena(&d, r.query_zone, r.query_zone_len);
    assert_int_equal(r.identity_len, sizeof(ident));
    assert_memory_equal(r.identity, ident, sizeof(ident));
    assert_in_arena(&d, r.identity, r.identity_len);

    /* The type out-parameter is optional. */
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    dnstap_close(&d);
}

static void test_ipv6(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    int type;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    tmpl_init(&t);
    t.m.type = DNSTAP__MESSAGE__TYPE__AUTH_RESPONSE;
    t.m.socket_family = DNSTAP__SOCKET_FAMILY__INET6;
    set_bytes(&t.m.has_query_address, &t.m.query_address, q_addr6, 16);
    set_bytes(&t.m.has_response_address, &t.m.response_address, r_addr6, 16);
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_OK);
    assert_int_equal(type, DNSTAP_AUTH_RESPONSE);
    assert_int_equal(r.dt_type, DNSTAP_AUTH_RESPONSE);
    assert_int_equal(r.responder.family, 6);
    assert_memory_equal(r.responder.addr, r_addr6, 16);
    assert_int_equal(r.client.family, 6);
    assert_memory_equal(r.client.addr, q_addr6, 16);
    dnstap_close(&d);
}

static void test_not_message(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    int type;

    (void)state;
    dnstap_init(&d, ALL_RESPONSES);
    /* A future Dnstap type, with or without a Message beside it. */
    tmpl_init(&t);
    t.dt.type = (Dnstap__Dnstap__Type)2;
    type = -1;
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_NOT_MESSAGE);
    assert_int_equal(type, 0);
    t.dt.message = NULL;
    type = -1;
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_NOT_MESSAGE);
    assert_int_equal(type, 0);
    /* Checked before the Message's own type. */
    t.dt.message = &t.m;
    t.m.type = (Dnstap__Message__Type)0;
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_NOT_MESSAGE);
    dnstap_close(&d);
}

static void test_malformed_fields(void **state)
{
    static const int bad_types[] = {0, 15, 16, 1000, -1};
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    int type;
    uint8_t empty[1] = {0};

    (void)state;
    dnstap_init(&d, ALL_RESPONSES);
    /* MESSAGE without a Message. */
    tmpl_init(&t);
    t.dt.message = NULL;
    type = -1;
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_MALFORMED);
    assert_int_equal(type, 0);
    /* Message.Type outside the schema. */
    for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        tmpl_init(&t);
        t.m.type = (Dnstap__Message__Type)bad_types[i];
        type = -1;
        assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_MALFORMED);
        assert_int_equal(type, 0);
    }
    /* Empty frame: the required type is missing. */
    type = -1;
    assert_int_equal(dnstap_decode(&d, empty, 0, &r, &type), DNSTAP_MALFORMED);
    assert_int_equal(type, 0);
    dnstap_close(&d);
}

static void test_query_types(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    int type;

    (void)state;
    /* Even with every bit set, queries are never forwarded, and that is
     * decided before the selection and the response_message checks. */
    dnstap_init(&d, 0xffffffffu);
    for (int q = 1; q <= DNSTAP_TYPE_MAX; q += 2) {
        tmpl_init(&t);
        t.m.type = (Dnstap__Message__Type)q;
        type = 0;
        assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_QUERY);
        assert_int_equal(type, q);
        t.m.has_response_message = 0;
        type = 0;
        assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_QUERY);
        assert_int_equal(type, q);
    }
    dnstap_close(&d);
}

static void test_selection(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    int type;

    (void)state;
    /* The default set: resolver, forwarder and auth responses. */
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    for (int rt = 2; rt <= DNSTAP_TYPE_MAX; rt += 2) {
        int want = (rt == DNSTAP_RESOLVER_RESPONSE ||
                    rt == DNSTAP_FORWARDER_RESPONSE ||
                    rt == DNSTAP_AUTH_RESPONSE)
                       ? DNSTAP_OK
                       : DNSTAP_NOT_SELECTED;
        tmpl_init(&t);
        t.m.type = (Dnstap__Message__Type)rt;
        type = 0;
        assert_int_equal(dec(&d, &t, &r, &type), want);
        assert_int_equal(type, rt);
        if (want == DNSTAP_OK)
            assert_int_equal(r.dt_type, rt);
        /* Not selected comes before no response. */
        t.m.has_response_message = 0;
        assert_int_equal(dec(&d, &t, &r, &type),
                         want == DNSTAP_OK ? DNSTAP_NO_RESPONSE
                                           : DNSTAP_NOT_SELECTED);
    }
    dnstap_close(&d);

    /* Each response type alone. */
    for (int sel = 2; sel <= DNSTAP_TYPE_MAX; sel += 2) {
        dnstap_init(&d, DNSTAP_TYPE_BIT(sel));
        for (int rt = 2; rt <= DNSTAP_TYPE_MAX; rt += 2) {
            tmpl_init(&t);
            t.m.type = (Dnstap__Message__Type)rt;
            assert_int_equal(dec(&d, &t, &r, &type),
                             rt == sel ? DNSTAP_OK : DNSTAP_NOT_SELECTED);
        }
        dnstap_close(&d);
    }

    /* Nothing selected. */
    dnstap_init(&d, 0);
    tmpl_init(&t);
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_NOT_SELECTED);
    assert_int_equal(type, DNSTAP_RESOLVER_RESPONSE);
    dnstap_close(&d);
}

static void test_no_response(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    int type;

    (void)state;
    dnstap_init(&d, ALL_RESPONSES);
    tmpl_init(&t);
    t.m.has_response_message = 0;
    type = 0;
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_NO_RESPONSE);
    assert_int_equal(type, DNSTAP_RESOLVER_RESPONSE);
    /* Present but empty is no response either. */
    set_bytes(&t.m.has_response_message, &t.m.response_message, resp_msg, 0);
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_NO_RESPONSE);
    dnstap_close(&d);
}

static void test_transport(void **state)
{
    static const struct {
        int has, proto, want;
    } cases[] = {
        {1, DNSTAP__SOCKET_PROTOCOL__UDP, REC_TR_UDP},
        {1, DNSTAP__SOCKET_PROTOCOL__TCP, REC_TR_TCP},
        {1, DNSTAP__SOCKET_PROTOCOL__DOT, REC_TR_OTHER},
        {1, DNSTAP__SOCKET_PROTOCOL__DOH, REC_TR_OTHER},
        {1, DNSTAP__SOCKET_PROTOCOL__DNSCryptUDP, REC_TR_OTHER},
        {1, DNSTAP__SOCKET_PROTOCOL__DNSCryptTCP, REC_TR_OTHER},
        {1, DNSTAP__SOCKET_PROTOCOL__DOQ, REC_TR_OTHER},
        {1, 0, REC_TR_OTHER},  /* not in the schema */
        {1, 99, REC_TR_OTHER}, /* not in the schema */
        {0, 0, REC_TR_OTHER},  /* absent */
    };
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tmpl_init(&t);
        t.m.has_socket_protocol = cases[i].has;
        t.m.socket_protocol = (Dnstap__SocketProtocol)cases[i].proto;
        assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
        assert_int_equal(r.transport, cases[i].want);
    }
    dnstap_close(&d);
}

static void test_timestamps(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);

    /* Response time only, without nanoseconds. */
    tmpl_init(&t);
    t.m.has_query_time_sec = t.m.has_query_time_nsec = 0;
    t.m.has_response_time_nsec = 0;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_int_equal(r.ts_sec, 1700000001);
    assert_int_equal(r.ts_nsec, 0);

    /* No response time: the query time. */
    tmpl_init(&t);
    t.m.has_response_time_sec = t.m.has_response_time_nsec = 0;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_int_equal(r.ts_sec, 1700000000);
    assert_int_equal(r.ts_nsec, 111);

    /* Nanoseconds without seconds do not make a response time. */
    tmpl_init(&t);
    t.m.has_response_time_sec = 0;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_int_equal(r.ts_sec, 1700000000);
    assert_int_equal(r.ts_nsec, 111);

    /* Neither. */
    tmpl_init(&t);
    t.m.has_response_time_sec = t.m.has_response_time_nsec = 0;
    t.m.has_query_time_sec = t.m.has_query_time_nsec = 0;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_int_equal(r.ts_sec, 0);
    assert_int_equal(r.ts_nsec, 0);

    /* Limits of what a record holds. */
    tmpl_init(&t);
    t.m.response_time_sec = INT64_MAX;
    t.m.response_time_nsec = 999999999;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_true(r.ts_sec == INT64_MAX);
    assert_int_equal(r.ts_nsec, 999999999);
    t.m.response_time_nsec = 1000000000;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_MALFORMED);
    t.m.response_time_nsec = UINT32_MAX;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_MALFORMED);
    t.m.response_time_nsec = 0;
    t.m.response_time_sec = (uint64_t)INT64_MAX + 1;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_MALFORMED);

    /* Only the time used is checked. */
    tmpl_init(&t);
    t.m.query_time_nsec = 2000000000u;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    t.m.has_response_time_sec = 0;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_MALFORMED);
    dnstap_close(&d);
}

static void test_ports(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    tmpl_init(&t);
    t.m.has_query_port = t.m.has_response_port = 0;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_int_equal(r.client.port, 0);
    assert_int_equal(r.responder.port, 0);
    assert_int_equal(r.client.family, 4); /* the address stands alone */

    tmpl_init(&t);
    t.m.query_port = 65535;
    t.m.response_port = 0;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_int_equal(r.client.port, 65535);
    assert_int_equal(r.responder.port, 0);

    t.m.query_port = 65536;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_MALFORMED);
    t.m.query_port = 1;
    t.m.response_port = 70000;
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_MALFORMED);
    dnstap_close(&d);
}

static void test_address_lengths(void **state)
{
    /* family: 0 absent, else the SocketFamily value sent. */
    static const struct {
        int family;
        size_t qlen, rlen; /* SIZE_MAX: field absent */
        int qwant, rwant;
    } cases[] = {
        {1, 4, 4, 4, 4},
        {2, 16, 16, 6, 6},
        {1, 16, 16, 0, 0},
        {2, 4, 4, 0, 0},
        {1, 3, 5, 0, 0},
        {2, 15, 17, 0, 0},
        {1, 0, 0, 0, 0},
        {2, 0, 0, 0, 0},
        {1, 16, 4, 0, 4},
        {2, 16, 4, 6, 0},
        {1, SIZE_MAX, 4, 0, 4},
        {2, 16, SIZE_MAX, 6, 0},
        {0, 4, 16, 0, 0},  /* no family */
        {3, 4, 16, 0, 0},  /* a family not in the schema */
        {99, 4, 16, 0, 0}, /* a family not in the schema */
    };
    static uint8_t addr[17] = {1,  2,  3,  4,  5,  6,  7,  8, 9,
                               10, 11, 12, 13, 14, 15, 16, 17};
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tmpl_init(&t);
        t.m.has_socket_family = cases[i].family != 0;
        t.m.socket_family = (Dnstap__SocketFamily)cases[i].family;
        if (cases[i].qlen == SIZE_MAX)
            t.m.has_query_address = 0;
        else
            set_bytes(&t.m.has_query_address, &t.m.query_address, addr,
                      cases[i].qlen);
        if (cases[i].rlen == SIZE_MAX)
            t.m.has_response_address = 0;
        else
            set_bytes(&t.m.has_response_address, &t.m.response_address, addr,
                      cases[i].rlen);
        memset(&r, 0xa5, sizeof(r));
        assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
        assert_int_equal(r.client.family, cases[i].qwant);
        assert_int_equal(r.responder.family, cases[i].rwant);
        if (cases[i].qwant) {
            size_t n = cases[i].qwant == 4 ? 4 : 16;
            assert_memory_equal(r.client.addr, addr, n);
            assert_zero(r.client.addr + n, 16 - n);
        } else {
            assert_zero(r.client.addr, 16);
        }
        if (cases[i].rwant) {
            size_t n = cases[i].rwant == 4 ? 4 : 16;
            assert_memory_equal(r.responder.addr, addr, n);
            assert_zero(r.responder.addr + n, 16 - n);
        } else {
            assert_zero(r.responder.addr, 16);
        }
        /* Ports do not depend on the address. */
        assert_int_equal(r.client.port, 5353);
        assert_int_equal(r.responder.port, 53);
    }
    dnstap_close(&d);
}

static void test_optional_bytes(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    tmpl_init(&t);
    t.m.has_query_zone = 0;
    t.dt.has_identity = 0;
    t.dt.has_version = 0;
    t.m.has_query_message = 0;
    memset(&r, 0xa5, sizeof(r));
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_null(r.query_zone);
    assert_int_equal(r.query_zone_len, 0);
    assert_null(r.identity);
    assert_int_equal(r.identity_len, 0);
    assert_memory_equal(r.msg, resp_msg, sizeof(resp_msg));

    set_bytes(&t.m.has_query_zone, &t.m.query_zone, zone, 0);
    set_bytes(&t.dt.has_identity, &t.dt.identity, ident, 0);
    memset(&r, 0xa5, sizeof(r));
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    assert_null(r.query_zone);
    assert_int_equal(r.query_zone_len, 0);
    assert_null(r.identity);
    assert_int_equal(r.identity_len, 0);
    dnstap_close(&d);
}

/* Unknown fields (a newer schema) are skipped; a field repeated on the
 * wire merges the protobuf way, the last value winning. */
static void test_unknown_and_repeated_fields(void **state)
{
    static const uint8_t unknown[] = {
        0xa0, 0x06, 0x2a,                 /* field 100, varint 42 */
        0xaa, 0x06, 0x03, 'a', 'b', 'c',  /* field 101, bytes "abc" */
        0xb5, 0x06, 1, 2, 3, 4,           /* field 102, fixed32 */
        0xb9, 0x06, 1, 2, 3, 4, 5, 6, 7, 8 /* field 103, fixed64 */
    };
    static uint8_t ident2[] = {'s', 'e', 'c', 'o', 'n', 'd'};
    static uint8_t msg2[] = {0xab, 0xcd, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    struct buf a, b;
    uint8_t *both;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    tmpl_init(&t);
    a = pack_extra(&t.dt, sizeof(unknown));
    memcpy(a.p + a.len, unknown, sizeof(unknown));
    assert_int_equal(dec_bytes(&d, a.p, a.len + sizeof(unknown), &r, NULL),
                     DNSTAP_OK);
    assert_memory_equal(r.msg, resp_msg, sizeof(resp_msg));
    /* The same fields in front. */
    both = malloc(a.len + sizeof(unknown));
    assert_non_null(both);
    memcpy(both, unknown, sizeof(unknown));
    memcpy(both + sizeof(unknown), a.p, a.len);
    assert_int_equal(dec_bytes(&d, both, a.len + sizeof(unknown), &r, NULL),
                     DNSTAP_OK);
    free(both);

    /* Two frames back to back are one frame with every field twice. */
    set_bytes(&t.dt.has_identity, &t.dt.identity, ident2, sizeof(ident2));
    set_bytes(&t.m.has_response_message, &t.m.response_message, msg2,
              sizeof(msg2));
    t.m.has_query_zone = 0;
    b = pack(&t.dt);
    both = malloc(a.len + b.len);
    assert_non_null(both);
    memcpy(both, a.p, a.len);
    memcpy(both + a.len, b.p, b.len);
    assert_int_equal(dec_bytes(&d, both, a.len + b.len, &r, NULL), DNSTAP_OK);
    assert_int_equal(r.identity_len, sizeof(ident2));
    assert_memory_equal(r.identity, ident2, sizeof(ident2));
    assert_int_equal(r.msg_len, sizeof(msg2));
    assert_memory_equal(r.msg, msg2, sizeof(msg2));
    assert_int_equal(r.query_zone_len, sizeof(zone)); /* kept from the first */
    assert_memory_equal(r.query_zone, zone, sizeof(zone));
    free(both);
    free(a.p);
    free(b.p);
    dnstap_close(&d);
}

/* ----------------------------------------------------------- real frames */

static const struct real {
    const char *name;
    const uint8_t *frame;
    size_t len;
    const struct fx_expect *exp;
} reals[] = {
#define REAL(n) {#n, fx_##n, sizeof(fx_##n), &fx_##n##_exp}
    REAL(resolver_response_zone),
    REAL(resolver_response_v6),
    REAL(auth_response_v6),
    REAL(response_tcp),
    REAL(client_response),
    REAL(resolver_query),
    REAL(client_query),
#undef REAL
};
#define N_REALS (sizeof(reals) / sizeof(reals[0]))

static void check_real(const struct dnstap_decoder *d, const struct real *x,
                       const struct rec *r)
{
    const struct fx_expect *e = x->exp;

    assert_int_equal(r->source, REC_SRC_DNSTAP);
    assert_int_equal(r->dt_type, e->type);
    assert_int_equal(r->transport, e->proto == 1   ? REC_TR_UDP
                                   : e->proto == 2 ? REC_TR_TCP
                                                   : REC_TR_OTHER);
    assert_int_equal(r->responder.family, e->family);
    assert_int_equal(e->raddr_len, e->family == 4 ? 4 : 16);
    assert_memory_equal(r->responder.addr, e->raddr, e->raddr_len);
    assert_int_equal(r->responder.port, e->rport);
    assert_int_equal(r->client.family, e->family);
    assert_memory_equal(r->client.addr, e->qaddr, e->qaddr_len);
    assert_int_equal(r->client.port, e->qport);
    if (e->rsec) {
        assert_true((unsigned long long)r->ts_sec == e->rsec);
        assert_int_equal(r->ts_nsec, e->rnsec);
    } else {
        assert_true((unsigned long long)r->ts_sec == e->qsec);
        assert_int_equal(r->ts_nsec, e->qnsec);
    }
    assert_int_equal(r->msg_len, e->msg_len);
    assert_memory_equal(r->msg, x->frame + e->msg_off, e->msg_len);
    assert_memory_equal(r->msg, e->msg_head, 12);
    assert_in_arena(d, r->msg, r->msg_len);
    assert_int_equal(r->query_zone_len, e->zone_len);
    if (e->zone_len) {
        assert_memory_equal(r->query_zone, e->zone, e->zone_len);
        assert_in_arena(d, r->query_zone, r->query_zone_len);
    } else {
        assert_null(r->query_zone);
    }
    assert_int_equal(r->identity_len, strlen(e->ident));
    assert_memory_equal(r->identity, e->ident, r->identity_len);
}

static void test_real_frames(void **state)
{
    struct dnstap_decoder d;
    struct rec r;
    int type;

    (void)state;
    dnstap_init(&d, ALL_RESPONSES);
    for (size_t i = 0; i < N_REALS; i++) {
        const struct real *x = &reals[i];
        int rc;

        type = 0;
        rc = dec_bytes(&d, x->frame, x->len, &r, &type);
        assert_int_equal(type, x->exp->type);
        if (x->exp->type & 1) {
            assert_int_equal(rc, DNSTAP_QUERY);
            continue;
        }
        assert_int_equal(rc, DNSTAP_OK);
        check_real(&d, x, &r);
    }
    dnstap_close(&d);

    /* With the default selection, the client response is not wanted. */
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    for (size_t i = 0; i < N_REALS; i++) {
        int t = reals[i].exp->type;
        int want = t & 1 ? DNSTAP_QUERY
                   : (DNSTAP_DEFAULT_TYPES & DNSTAP_TYPE_BIT(t)) ? DNSTAP_OK
                                                                : DNSTAP_NOT_SELECTED;

        assert_int_equal(dec_bytes(&d, reals[i].frame, reals[i].len, &r, &type),
                         want);
        assert_int_equal(type, t);
    }
    dnstap_close(&d);
}

/* Every proper prefix of a valid frame is malformed: the required
 * Dnstap.type is the last field, and any cut inside the Message leaves a
 * length prefix pointing past the end. Never a crash, never NOMEM. */
static void check_truncations(struct dnstap_decoder *d, const uint8_t *frame,
                              size_t len)
{
    struct rec r;
    int type;

    for (size_t cut = 0; cut < len; cut++) {
        type = -1;
        assert_int_equal(dec_bytes(d, frame, cut, &r, &type), DNSTAP_MALFORMED);
        assert_int_equal(type, 0);
    }
}

static void test_truncation(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct buf b;

    (void)state;
    dnstap_init(&d, ALL_RESPONSES);
    for (size_t i = 0; i < N_REALS; i++)
        check_truncations(&d, reals[i].frame, reals[i].len);
    tmpl_init(&t);
    b = pack(&t.dt);
    check_truncations(&d, b.p, b.len);
    free(b.p);
    dnstap_close(&d);
}

static void test_garbage(void **state)
{
    enum { N = 20000, MAXLEN = 600 };
    struct dnstap_decoder d;
    struct rec r;
    uint8_t *buf;
    int type, malformed = 0, rc;

    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    dnstap_init(&d, ALL_RESPONSES);
    for (int i = 0; i < N; i++) {
        size_t len = (size_t)(rng() % (MAXLEN + 1));

        buf = malloc(len ? len : 1);
        assert_non_null(buf);
        for (size_t j = 0; j < len; j++)
            buf[j] = (uint8_t)(rng() >> 24);
        type = -1;
        rc = dnstap_decode(&d, buf, len, &r, &type);
        free(buf);
        assert_int_equal(rc, DNSTAP_MALFORMED);
        assert_int_equal(type, 0);
        malformed++;
    }
    assert_int_equal(malformed, N);
    dnstap_close(&d);
}

/* Real frames with a few bytes changed: whatever comes out must be a
 * defined code, and an accepted record must stay inside the arena. */
static void test_mutations(void **state)
{
    enum { N = 30000 };
    struct dnstap_decoder d;
    struct rec r;
    int type, rc, count[8] = {0};

    (void)state;
    rng_state = 12345;
    dnstap_init(&d, ALL_RESPONSES);
    for (int i = 0; i < N; i++) {
        const struct real *x = &reals[rng() % N_REALS];
        uint8_t *c = copy_of(x->frame, x->len);
        int flips = 1 + (int)(rng() % 4);

        for (int k = 0; k < flips; k++)
            c[rng() % x->len] = (uint8_t)(rng() >> 16);
        type = -1;
        rc = dnstap_decode(&d, c, x->len, &r, &type);
        assert_true(rc <= DNSTAP_OK && rc >= DNSTAP_NO_RESPONSE);
        assert_int_not_equal(rc, DNSTAP_NOMEM);
        assert_true(type >= 0 && type <= DNSTAP_TYPE_MAX);
        if (rc == DNSTAP_OK) {
            assert_true(type % 2 == 0 && type > 0);
            assert_in_arena(&d, r.msg, r.msg_len);
            assert_true(r.msg_len < x->len);
            if (r.query_zone)
                assert_in_arena(&d, r.query_zone, r.query_zone_len);
            if (r.identity)
                assert_in_arena(&d, r.identity, r.identity_len);
            assert_true(r.responder.family == 0 || r.responder.family == 4 ||
                        r.responder.family == 6);
        }
        count[-rc]++;
        free(c);
    }
    /* Most changes land in a DNS message and leave the frame valid. */
    assert_true(count[0] > N / 4);
    assert_true(count[-DNSTAP_MALFORMED] > 0);
    dnstap_close(&d);
}

/* ------------------------------------------------------------------ arena */

static void test_arena_reuse(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct buf b;
    struct rec r;
    uint8_t *arena;
    size_t cap;
    int type;

    (void)state;
    dnstap_init(&d, ALL_RESPONSES);
    assert_null(d.arena);
    assert_int_equal(d.cap, 0);
    tmpl_init(&t);
    b = pack(&t.dt);
    assert_int_equal(dnstap_decode(&d, b.p, b.len, &r, &type), DNSTAP_OK);
    assert_non_null(d.arena);
    arena = d.arena;
    cap = d.cap;
    assert_true(cap > 0);
    for (int i = 0; i < 10000; i++) {
        size_t k = (size_t)i % (N_REALS + 2);
        int rc;

        if (k < N_REALS) {
            rc = dnstap_decode(&d, reals[k].frame, reals[k].len, &r, &type);
            assert_int_equal(rc, reals[k].exp->type & 1 ? DNSTAP_QUERY : DNSTAP_OK);
            if (rc == DNSTAP_OK)
                check_real(&d, &reals[k], &r);
        } else if (k == N_REALS) {
            rc = dnstap_decode(&d, b.p, b.len, &r, &type);
            assert_int_equal(rc, DNSTAP_OK);
            assert_memory_equal(r.msg, resp_msg, sizeof(resp_msg));
        } else {
            rc = dnstap_decode(&d, b.p, b.len / 2, &r, &type);
            assert_int_equal(rc, DNSTAP_MALFORMED);
        }
        assert_ptr_equal(d.arena, arena);
        assert_int_equal(d.cap, cap);
    }
    free(b.p);
    dnstap_close(&d);
    assert_null(d.arena);
    assert_int_equal(d.cap, 0);
}

static void test_arena_growth(void **state)
{
    static const size_t sizes[] = {100000, 1000, 300000, 65535, 4000000};
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    size_t cap = 0;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t *big = malloc(sizes[i]);

        assert_non_null(big);
        for (size_t j = 0; j < sizes[i]; j++)
            big[j] = (uint8_t)(j * 7 + i);
        tmpl_init(&t);
        set_bytes(&t.m.has_response_message, &t.m.response_message, big,
                  sizes[i]);
        for (int rep = 0; rep < 3; rep++) {
            assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
            assert_int_equal(r.msg_len, sizes[i]);
            assert_memory_equal(r.msg, big, sizes[i]);
            assert_in_arena(&d, r.msg, r.msg_len);
            /* Grows only for a larger frame, never shrinks, and stays
             * within a small factor of what the frame needs. */
            assert_true(d.cap >= cap);
            if (rep == 0 && d.cap > cap)
                assert_true(d.cap <= 4 * (sizes[i] + 16384));
            if (rep > 0)
                assert_int_equal(d.cap, cap);
            cap = d.cap;
        }
        free(big);
    }
    dnstap_close(&d);
}

/* A valid frame followed by n unknown 3-byte fields: each costs protobuf-c
 * far more arena than its size (bookkeeping for every field). */
static uint8_t *many_fields(size_t n, size_t *len)
{
    struct tmpl t;
    struct buf b;

    tmpl_init(&t);
    b = pack_extra(&t.dt, 3 * n);
    for (size_t i = 0; i < n; i++) {
        b.p[b.len + 3 * i] = 0xa0; /* field 100, varint */
        b.p[b.len + 3 * i + 1] = 0x06;
        b.p[b.len + 3 * i + 2] = (uint8_t)(i & 0x7f);
    }
    *len = b.len + 3 * n;
    return b.p;
}

static void test_arena_hostile(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    uint8_t *f;
    size_t len;
    int type;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    /* Needs several doublings past the first retry, but fits. */
    f = many_fields(60000, &len);
    assert_int_equal(dnstap_decode(&d, f, len, &r, &type), DNSTAP_OK);
    assert_memory_equal(r.msg, resp_msg, sizeof(resp_msg));
    assert_true(d.cap <= ((size_t)16 << 20));
    free(f);

    /* Needs more than the 16 MiB ceiling: out of memory, not malformed. */
    f = many_fields(600000, &len);
    type = -1;
    assert_int_equal(dnstap_decode(&d, f, len, &r, &type), DNSTAP_NOMEM);
    assert_int_equal(type, 0);
    assert_int_equal(d.cap, (size_t)16 << 20);
    free(f);

    /* The decoder still works, and does not shrink. */
    tmpl_init(&t);
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_OK);
    assert_int_equal(d.cap, (size_t)16 << 20);
    dnstap_close(&d);
}

static void test_nomem_big_field(void **state)
{
    const size_t big_len = (size_t)17 << 20;
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    uint8_t *big;
    int type;

    (void)state;
    big = calloc(1, big_len);
    assert_non_null(big);
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    tmpl_init(&t);
    set_bytes(&t.dt.has_identity, &t.dt.identity, big, big_len);
    type = -1;
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_NOMEM);
    assert_int_equal(type, 0);
    assert_true(d.cap <= ((size_t)16 << 20));
    free(big);
    tmpl_init(&t);
    assert_int_equal(dec(&d, &t, &r, &type), DNSTAP_OK);
    dnstap_close(&d);
}

/* --------------------------------------------------------------- pre-scan */

/* dnstap_decode() classifies queries, unselected responses and other
 * Dnstap types by a scan of the wire format, and must agree exactly with
 * dnstap_decode_full(), which always unpacks. */

/* Raw protobuf, for what the generated pack functions cannot write:
 * repeated singular fields, wrong wire types, odd encodings. */
struct pb {
    uint8_t p[8192];
    size_t n;
};

static void pb_raw(struct pb *b, const void *p, size_t n)
{
    assert_true(n <= sizeof(b->p) - b->n);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
    uint8_t c[10];
    size_t n = 0;

    do {
        c[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            c[n] |= 0x80;
        n++;
    } while (v);
    pb_raw(b, c, n);
}

static void pb_key(struct pb *b, uint32_t num, unsigned wire)
{
    pb_varint(b, (uint64_t)num << 3 | wire);
}

static void pb_uint(struct pb *b, uint32_t num, uint64_t v)
{
    pb_key(b, num, 0);
    pb_varint(b, v);
}

static void pb_len(struct pb *b, uint32_t num, const void *p, size_t n)
{
    pb_key(b, num, 2);
    pb_varint(b, n);
    pb_raw(b, p, n);
}

/* A value of the given wire type (for fields tried on every wire type). */
static void pb_any(struct pb *b, uint32_t num, unsigned wire)
{
    static const uint8_t eight[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    pb_key(b, num, wire);
    switch (wire) {
    case 0:
        pb_varint(b, 1);
        break;
    case 1:
        pb_raw(b, eight, 8);
        break;
    case 2:
        pb_varint(b, 2);
        pb_raw(b, "ab", 2);
        break;
    case 5:
        pb_raw(b, eight, 4);
        break;
    default: /* groups and wire types 6, 7: one byte, whatever it means */
        pb_raw(b, "\x01", 1);
        break;
    }
}

/* A Message as a resolver writes it: type first, then the template's
 * fields (t->m.type is not used). */
static void pb_message_typed(struct pb *b, uint64_t type, const struct tmpl *t)
{
    struct pb m = {.n = 0};
    uint8_t buf[4096];
    size_t n = dnstap__message__get_packed_size(&t->m);

    assert_true(n <= sizeof(buf));
    assert_int_equal(dnstap__message__pack(&t->m, buf), n);
    /* The packed message starts with its type (field 1, a varint of one
     * byte for 1..14): replace it. */
    assert_int_equal(buf[0], 0x08);
    pb_uint(&m, 1, type);
    pb_raw(&m, buf + 2, n - 2);
    pb_len(b, 14, m.p, m.n);
}

struct outcome {
    int rc, type;
    int scanned; /* decided without unpacking */
};

/* Decodes p both ways, each in a fresh decoder and from a heap copy of
 * exactly n bytes, and checks that they agree; the scan decided when the
 * arena was never allocated. */
static struct outcome decode_both(uint32_t types, const uint8_t *p, size_t n)
{
    struct dnstap_decoder ds, df;
    struct rec rs, rf, junk;
    struct outcome o;
    uint8_t *c = copy_of(p, n);
    int tf = -1;

    memset(&junk, 0x5a, sizeof(junk));
    memcpy(&rs, &junk, sizeof(junk)); /* bytewise: padding included */
    memcpy(&rf, &junk, sizeof(junk));
    dnstap_init(&ds, types);
    dnstap_init(&df, types);
    o.type = -1;
    o.rc = dnstap_decode(&ds, c, n, &rs, &o.type);
    o.scanned = ds.arena == NULL;
    assert_int_equal(dnstap_decode_full(&df, c, n, &rf, &tf), o.rc);
    assert_int_equal(o.type, tf);
    if (o.scanned) {
        assert_true(o.rc == DNSTAP_QUERY || o.rc == DNSTAP_NOT_SELECTED ||
                    o.rc == DNSTAP_NOT_MESSAGE);
        assert_memory_equal(&rs, &junk, sizeof(junk));
    }
    if (o.rc == DNSTAP_OK) {
        assert_int_equal(rs.msg_len, rf.msg_len);
        assert_memory_equal(rs.msg, rf.msg, rs.msg_len);
        assert_int_equal(rs.dt_type, rf.dt_type);
        assert_true(rs.ts_sec == rf.ts_sec && rs.ts_nsec == rf.ts_nsec);
    }
    free(c);
    dnstap_close(&ds);
    dnstap_close(&df);
    return o;
}

static void expect(struct outcome o, int rc, int type, int scanned)
{
    assert_int_equal(o.rc, rc);
    assert_int_equal(o.type, type);
    assert_int_equal(o.scanned, scanned);
}

/* The head of a Dnstap (identity, version), then what the test adds, then
 * the type: the field order of real writers. */
static void pb_head(struct pb *b)
{
    b->n = 0;
    pb_len(b, 1, ident, sizeof(ident));
    pb_len(b, 2, version, sizeof(version));
}

static void test_scan_decides(void **state)
{
    struct tmpl t;
    struct buf b;

    (void)state;
    /* Real frames: queries and a response that is not selected. */
    for (size_t i = 0; i < N_REALS; i++) {
        int ty = reals[i].exp->type;
        int want = ty & 1 ? DNSTAP_QUERY
                   : (DNSTAP_DEFAULT_TYPES & DNSTAP_TYPE_BIT(ty)) ? DNSTAP_OK
                                                                 : DNSTAP_NOT_SELECTED;

        expect(decode_both(DNSTAP_DEFAULT_TYPES, reals[i].frame, reals[i].len),
               want, ty, want != DNSTAP_OK);
    }
    /* Every type, in built frames. */
    for (int ty = 1; ty <= DNSTAP_TYPE_MAX; ty++) {
        int want = ty & 1 ? DNSTAP_QUERY
                   : (DNSTAP_DEFAULT_TYPES & DNSTAP_TYPE_BIT(ty)) ? DNSTAP_OK
                                                                 : DNSTAP_NOT_SELECTED;

        tmpl_init(&t);
        t.m.type = (Dnstap__Message__Type)ty;
        b = pack(&t.dt);
        expect(decode_both(DNSTAP_DEFAULT_TYPES, b.p, b.len), want, ty,
               want != DNSTAP_OK);
        free(b.p);
    }
    /* Another Dnstap type, with and without a Message. The scan gives up
     * at a selected response type, whatever follows. */
    tmpl_init(&t);
    t.dt.type = (Dnstap__Dnstap__Type)2;
    b = pack(&t.dt);
    expect(decode_both(ALL_RESPONSES, b.p, b.len), DNSTAP_NOT_MESSAGE, 0, 0);
    free(b.p);
    t.m.type = DNSTAP__MESSAGE__TYPE__CLIENT_QUERY;
    b = pack(&t.dt);
    expect(decode_both(ALL_RESPONSES, b.p, b.len), DNSTAP_NOT_MESSAGE, 0, 1);
    free(b.p);
    t.dt.message = NULL;
    b = pack(&t.dt);
    expect(decode_both(ALL_RESPONSES, b.p, b.len), DNSTAP_NOT_MESSAGE, 0, 1);
    free(b.p);
    /* The selection is the decoder's. */
    tmpl_init(&t);
    t.m.type = DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE;
    b = pack(&t.dt);
    expect(decode_both(ALL_RESPONSES, b.p, b.len), DNSTAP_OK, 6, 0);
    expect(decode_both(0, b.p, b.len), DNSTAP_NOT_SELECTED, 6, 1);
    free(b.p);
}

/* Dnstap.message given twice: protobuf-c unpacks each occurrence on its
 * own, then merges them, the later one's fields winning. */
static void test_scan_merged_messages(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;
    struct pb b;

    (void)state;
    tmpl_init(&t);
    /* Query, then resolver response: a response to unpack. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_RESOLVER_QUERY, &t);
    pb_message_typed(&b, DNSTAP_RESOLVER_RESPONSE, &t);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_OK, 4, 0);
    /* Response, then query: a query in the end. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_RESOLVER_RESPONSE, &t);
    pb_message_typed(&b, DNSTAP_CLIENT_QUERY, &t);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_QUERY, 5, 0);
    /* Query, then unselected response: the scan decides. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_CLIENT_QUERY, &t);
    pb_message_typed(&b, DNSTAP_CLIENT_RESPONSE, &t);
    pb_uint(&b, 15, 1);
    expect(decode_both(DNSTAP_DEFAULT_TYPES, b.p, b.n), DNSTAP_NOT_SELECTED, 6, 1);
    /* Unselected response, then a bare occurrence with only a type. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_CLIENT_RESPONSE, &t);
    pb_len(&b, 14, "\x08\x07", 2);
    pb_uint(&b, 15, 1);
    expect(decode_both(DNSTAP_DEFAULT_TYPES, b.p, b.n), DNSTAP_QUERY, 7, 1);
    /* Query, then a response occurrence of only a type: merged, the
     * response message comes from the first. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_RESOLVER_QUERY, &t);
    pb_len(&b, 14, "\x08\x04", 2);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_OK, 4, 0);
    dnstap_init(&d, ALL_RESPONSES);
    assert_int_equal(dec_bytes(&d, b.p, b.n, &r, NULL), DNSTAP_OK);
    assert_int_equal(r.msg_len, sizeof(resp_msg));
    assert_memory_equal(r.msg, resp_msg, sizeof(resp_msg));
    assert_int_equal(r.dt_type, DNSTAP_RESOLVER_RESPONSE);
    dnstap_close(&d);
    /* The type twice in one occurrence: the last wins. */
    pb_head(&b);
    pb_len(&b, 14, "\x08\x03\x08\x06", 4);
    pb_uint(&b, 15, 1);
    expect(decode_both(DNSTAP_DEFAULT_TYPES, b.p, b.n), DNSTAP_NOT_SELECTED, 6, 1);
    /* A second occurrence without a type is invalid on its own: the whole
     * frame is malformed, though the first says query. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_RESOLVER_QUERY, &t);
    pb_len(&b, 14, "\x10\x01", 2);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    /* So is one with a type outside the schema, last. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_RESOLVER_QUERY, &t);
    pb_len(&b, 14, "\x08\x0f", 2);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    /* Dnstap.type before, between and after the occurrences. */
    b.n = 0;
    pb_uint(&b, 15, 1);
    pb_message_typed(&b, DNSTAP_AUTH_RESPONSE, &t);
    pb_uint(&b, 15, 2);
    pb_message_typed(&b, DNSTAP_AUTH_QUERY, &t);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_NOT_MESSAGE, 0, 0);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_QUERY, 1, 0);
}

/* A known field on another wire type than its own is an error in
 * protobuf-c, even when the frame says query. */
static void test_scan_wrong_wire_type(void **state)
{
    static const unsigned wires[] = {1, 2, 5};
    struct tmpl t;
    struct pb b, m;

    (void)state;
    tmpl_init(&t);
    for (size_t i = 0; i < sizeof(wires) / sizeof(wires[0]); i++) {
        /* Message.type itself. */
        m.n = 0;
        pb_any(&m, 1, wires[i]);
        pb_head(&b);
        pb_len(&b, 14, m.p, m.n);
        pb_uint(&b, 15, 1);
        expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
        /* After a valid query type, and in a later occurrence. */
        m.n = 0;
        pb_uint(&m, 1, DNSTAP_CLIENT_QUERY);
        pb_any(&m, 1, wires[i]);
        pb_head(&b);
        pb_len(&b, 14, m.p, m.n);
        pb_uint(&b, 15, 1);
        expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
        pb_head(&b);
        pb_message_typed(&b, DNSTAP_CLIENT_QUERY, &t);
        pb_len(&b, 14, m.p, m.n);
        pb_uint(&b, 15, 1);
        expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
        /* Dnstap.type. */
        pb_head(&b);
        pb_message_typed(&b, DNSTAP_CLIENT_QUERY, &t);
        pb_uint(&b, 15, 1);
        pb_any(&b, 15, wires[i]);
        expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    }
    /* Dnstap.message as a varint. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_CLIENT_QUERY, &t);
    pb_uint(&b, 14, 1);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
}

static void test_scan_missing_type(void **state)
{
    struct tmpl t;
    struct pb b;

    (void)state;
    tmpl_init(&t);
    /* A Message without its type; an empty one. */
    pb_head(&b);
    pb_len(&b, 14, "\x10\x01\x18\x01", 4);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    pb_head(&b);
    pb_len(&b, 14, "", 0);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    /* A query without Dnstap.type. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_CLIENT_QUERY, &t);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    /* MESSAGE without a Message. */
    pb_head(&b);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
}

/* The type comes first in a Message, but a query is only a query when the
 * rest of the frame unpacks too. */
static void test_scan_query_then_malformed(void **state)
{
    struct tmpl t;
    struct pb b, m;
    size_t whole;

    (void)state;
    tmpl_init(&t);
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_RESOLVER_QUERY, &t);
    pb_uint(&b, 15, 1);
    whole = b.n;
    expect(decode_both(ALL_RESPONSES, b.p, whole), DNSTAP_QUERY, 3, 1);
    /* Any cut, the trailing Dnstap.type or inside the Message. */
    for (size_t cut = 0; cut < whole; cut++)
        expect(decode_both(ALL_RESPONSES, b.p, cut), DNSTAP_MALFORMED, 0, 0);
    /* Trailing garbage: a lone continuation byte, an unknown group, an
     * unknown field cut short, field number 0. */
    pb_raw(&b, "\x80", 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    b.n = whole;
    pb_raw(&b, "\xa3\x06", 2);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    b.n = whole;
    pb_raw(&b, "\xa9\x06\x01\x02\x03", 5);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    b.n = whole;
    pb_raw(&b, "\x00\x00", 2);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    /* In the Message, after the type: a fixed32 cut short, a varint of 11
     * bytes, a length past the Message's end. */
    m.n = 0;
    pb_uint(&m, 1, DNSTAP_RESOLVER_QUERY);
    pb_raw(&m, "\x4d\x01\x02", 3);
    pb_head(&b);
    pb_len(&b, 14, m.p, m.n);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    m.n = 0;
    pb_uint(&m, 1, DNSTAP_RESOLVER_QUERY);
    pb_raw(&m, "\x30\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12);
    pb_head(&b);
    pb_len(&b, 14, m.p, m.n);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    m.n = 0;
    pb_uint(&m, 1, DNSTAP_RESOLVER_QUERY);
    pb_raw(&m, "\x52\x05" "abc", 5);
    pb_head(&b);
    pb_len(&b, 14, m.p, m.n);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    /* A policy that does not unpack. */
    m.n = 0;
    pb_uint(&m, 1, DNSTAP_CLIENT_QUERY);
    pb_len(&m, 15, "\x18\x80", 2);
    pb_head(&b);
    pb_len(&b, 14, m.p, m.n);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
}

/* protobuf-c keeps the low 32 bits of an enum's varint. */
static void test_scan_enum_values(void **state)
{
    static const struct {
        uint64_t v;
        int rc, type, scanned;
    } cases[] = {
        {3, DNSTAP_QUERY, 3, 1},
        {((uint64_t)1 << 32) + 3, DNSTAP_QUERY, 3, 1},
        {((uint64_t)1 << 63) + 9, DNSTAP_QUERY, 9, 1},
        {((uint64_t)7 << 32) + 6, DNSTAP_NOT_SELECTED, 6, 1},
        {((uint64_t)1 << 32) + 4, DNSTAP_OK, 4, 0},
        {(uint64_t)1 << 32, DNSTAP_MALFORMED, 0, 0},
        {0x80000003u, DNSTAP_MALFORMED, 0, 0},
        {0xfffffffdu, DNSTAP_MALFORMED, 0, 0},
        {UINT64_MAX, DNSTAP_MALFORMED, 0, 0},
        {15, DNSTAP_MALFORMED, 0, 0},
    };
    struct tmpl t;
    struct pb b;

    (void)state;
    tmpl_init(&t);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pb_head(&b);
        pb_message_typed(&b, cases[i].v, &t);
        pb_uint(&b, 15, 1);
        expect(decode_both(DNSTAP_DEFAULT_TYPES, b.p, b.n), cases[i].rc,
               cases[i].type, cases[i].scanned);
    }
    /* Dnstap.type: 2^32 + 1 is MESSAGE, 2^32 is not. */
    pb_head(&b);
    pb_message_typed(&b, DNSTAP_CLIENT_QUERY, &t);
    pb_uint(&b, 15, ((uint64_t)1 << 32) + 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_QUERY, 5, 1);
    b.n -= 6;
    pb_uint(&b, 15, (uint64_t)1 << 32);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_NOT_MESSAGE, 0, 1);
    /* A varint of 10 bytes is whole, whatever its last byte; of 11 it is
     * an error. Non-minimal encodings are fine. */
    pb_head(&b);
    pb_len(&b, 14, "\x08\x83\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 11);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_QUERY, 3, 1);
    pb_head(&b);
    pb_len(&b, 14, "\x08\x83\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 12);
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_MALFORMED, 0, 0);
    pb_head(&b);
    pb_len(&b, 14, "\x88\x80\x00\x83\x00", 5); /* tag and value padded */
    pb_uint(&b, 15, 1);
    expect(decode_both(ALL_RESPONSES, b.p, b.n), DNSTAP_QUERY, 3, 1);
}

/* Every field number and wire type, at each level, after a query: the
 * scan's tables of proto/dnstap.proto against what protobuf-c does. */
static void test_scan_every_field(void **state)
{
    static const uint32_t nums[] = {1,  2,  3,  4,  5,  6,  7,  8,   9,
                                    10, 11, 12, 13, 14, 15, 16, 17,  18,
                                    31, 99, 100, 2047, 536870911u};
    struct tmpl t;
    struct pb b, m, p;
    int scanned = 0, total = 0;

    (void)state;
    tmpl_init(&t);
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        for (unsigned wire = 0; wire < 8; wire++) {
            struct outcome o;

            /* In the Dnstap. */
            pb_head(&b);
            pb_message_typed(&b, DNSTAP_CLIENT_QUERY, &t);
            pb_uint(&b, 15, 1);
            pb_any(&b, nums[i], wire);
            o = decode_both(ALL_RESPONSES, b.p, b.n);
            scanned += o.scanned;
            total++;
            /* In the Message. */
            m.n = 0;
            pb_uint(&m, 1, DNSTAP_CLIENT_QUERY);
            pb_any(&m, nums[i], wire);
            pb_head(&b);
            pb_len(&b, 14, m.p, m.n);
            pb_uint(&b, 15, 1);
            o = decode_both(ALL_RESPONSES, b.p, b.n);
            scanned += o.scanned;
            total++;
            /* In a Policy. */
            p.n = 0;
            pb_any(&p, nums[i], wire);
            m.n = 0;
            pb_uint(&m, 1, DNSTAP_CLIENT_QUERY);
            pb_len(&m, 15, p.p, p.n);
            pb_head(&b);
            pb_len(&b, 14, m.p, m.n);
            pb_uint(&b, 15, 1);
            o = decode_both(ALL_RESPONSES, b.p, b.n);
            scanned += o.scanned;
            total++;
        }
    }
    /* Half the wire types are never valid; of the others, most are
     * unknown fields or the right type: the scan decides those. */
    assert_true(scanned > total / 3);
}

/* Random frames built field by field (unlike test_garbage's bytes, most
 * get past the first tag): known and unknown numbers, right and wrong wire
 * types, enum values at the edges of 32 bits, non-minimal encodings, nested
 * and repeated Messages and Policies, a cut or a flipped byte now and then.
 * Whatever comes out, the scan and the unpack must agree. */
static void rnd_varint(struct pb *b, uint64_t v)
{
    size_t pad = rng() % 8 == 0 ? 1 + rng() % 3 : 0;
    uint8_t c[16];
    size_t n = 0;

    do {
        c[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v || pad)
            c[n] |= 0x80;
        n++;
        if (!v && pad) {
            /* Non-minimal: continuation bytes of zero, up to 10 in all. */
            while (pad-- > 1 && n < 9)
                c[n++] = 0x80;
            c[n++] = 0;
            break;
        }
    } while (v);
    pb_raw(b, c, n);
}

static uint64_t rnd_value(void)
{
    static const uint64_t edges[] = {
        0, 1, 2, 3, 4, 5, 6, 8, 14, 15, 16, 127, 128,
        0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu,
        ((uint64_t)1 << 32) + 1, ((uint64_t)1 << 32) + 4,
        ((uint64_t)1 << 32) + 5, ((uint64_t)1 << 63) + 6, UINT64_MAX};

    return rng() % 4 ? edges[rng() % (sizeof(edges) / sizeof(edges[0]))]
                     : rng();
}

/* level 0: Dnstap, 1: Message, 2: Policy. */
static void rnd_message(struct pb *b, int level)
{
    static const uint32_t known[3][6] = {
        {15, 14, 1, 2, 3, 15}, {1, 2, 10, 14, 15, 9}, {1, 2, 3, 4, 5, 3}};
    static const uint8_t wire_of[3][17] = {
        {0, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0},
        {0, 0, 0, 0, 2, 2, 0, 0, 0, 5, 2, 2, 0, 5, 2, 2, 0},
        {0, 2, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
    int nfields = (int)(rng() % 7);

    /* Most messages carry their type first, as writers do. */
    if (level < 2 && rng() % 8) {
        pb_key(b, level == 0 ? 15 : 1, 0);
        rnd_varint(b, level == 0 ? (rng() % 8 ? 1 : rnd_value())
                                 : (rng() % 4 ? 1 + rng() % 14 : rnd_value()));
    }
    for (int i = 0; i < nfields && b->n < sizeof(b->p) - 600; i++) {
        uint32_t num;
        unsigned wire;

        switch (rng() % 8) {
        case 0:
            num = (uint32_t)(rng() % 40);
            break;
        case 1:
            num = (uint32_t)rng() >> (rng() % 32);
            break;
        default:
            num = known[level][rng() % 6];
            break;
        }
        wire = rng() % 24 == 0 ? (unsigned)(rng() % 8)
               : num < 17      ? wire_of[level][num]
                               : (unsigned[]){0, 1, 2, 5}[rng() % 4];
        if (rng() % 16 == 0) /* a non-minimal tag */
            pb_raw(b, (uint8_t[]){(uint8_t)(0x80 | (num & 15) << 3 | wire),
                                  (uint8_t)(0x80 | ((num >> 4) & 0x7f)),
                                  (uint8_t)(num >> 11 & 0x7f)},
                   3);
        else
            pb_key(b, num, wire);
        if (wire == 2 && ((level == 0 && num == 14) || (level == 1 && num == 15)) &&
            rng() % 8) {
            struct pb sub = {.n = 0};

            rnd_message(&sub, level + 1);
            rnd_varint(b, sub.n);
            pb_raw(b, sub.p, sub.n);
        } else if (wire == 2) {
            size_t n = rng() % 24;

            rnd_varint(b, n);
            for (size_t k = 0; k < n; k++)
                pb_raw(b, (uint8_t[]){(uint8_t)rng()}, 1);
        } else if (wire == 0) {
            rnd_varint(b, num == 1 && level == 1 && rng() % 2 ? 1 + rng() % 14
                                                              : rnd_value());
        } else if (wire == 1) {
            pb_raw(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
        } else if (wire == 5) {
            pb_raw(b, "\x01\x02\x03\x04", 4);
        } else {
            pb_raw(b, "\x01", 1);
        }
    }
    if (level == 0 && rng() % 4) { /* the Message, and the type, last */
        struct pb sub = {.n = 0};

        rnd_message(&sub, 1);
        pb_len(b, 14, sub.p, sub.n);
        if (rng() % 2)
            pb_uint(b, 15, 1);
    }
}

static void test_scan_random_frames(void **state)
{
    enum { N = 100000 };
    static const uint32_t sels[] = {ALL_RESPONSES, DNSTAP_DEFAULT_TYPES, 0,
                                    DNSTAP_TYPE_BIT(6)};
    struct pb *b = malloc(sizeof(*b));
    int count[8] = {0}, scanned = 0;

    (void)state;
    assert_non_null(b);
    rng_state = 0x5ca115ca115ull;
    for (int i = 0; i < N; i++) {
        struct outcome o;

        b->n = 0;
        rnd_message(b, 0);
        if (b->n && rng() % 32 == 0)
            b->n = rng() % b->n; /* cut */
        if (b->n && rng() % 32 == 0)
            b->p[rng() % b->n] ^= (uint8_t)(1u << rng() % 8);
        o = decode_both(sels[rng() % 4], b->p, b->n);
        count[-o.rc]++;
        scanned += o.scanned;
    }
    free(b);
    /* Every outcome occurs, and the scan decides a good share. */
    for (int rc = DNSTAP_OK; rc >= DNSTAP_NO_RESPONSE; rc--)
        if (rc != DNSTAP_NOMEM)
            assert_true(count[-rc] > 0);
    assert_true(scanned > N / 10);
}

/* The scan decides only frames whose unpack fits well under the arena
 * ceiling: one that would run out of memory is left to the unpack. */
static void test_scan_arena_bound(void **state)
{
    struct tmpl t;
    struct buf b;
    uint8_t *f;
    size_t n;

    (void)state;
    tmpl_init(&t);
    t.m.type = DNSTAP__MESSAGE__TYPE__CLIENT_QUERY;
    for (int round = 0; round < 2; round++) {
        size_t count = round == 0 ? 40000 : 600000;

        b = pack_extra(&t.dt, 3 * count);
        f = b.p;
        n = b.len;
        for (size_t i = 0; i < count; i++) {
            f[n++] = 0xa0; /* field 100, varint */
            f[n++] = 0x06;
            f[n++] = (uint8_t)(i & 0x7f);
        }
        if (round == 0)
            expect(decode_both(ALL_RESPONSES, f, n), DNSTAP_QUERY, 5, 1);
        else
            expect(decode_both(ALL_RESPONSES, f, n), DNSTAP_NOMEM, 0, 0);
        free(f);
    }
}

static void test_close(void **state)
{
    struct dnstap_decoder d;
    struct tmpl t;
    struct rec r;

    (void)state;
    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    assert_int_equal(d.types, DNSTAP_DEFAULT_TYPES);
    dnstap_close(&d);
    dnstap_close(&d);

    dnstap_init(&d, DNSTAP_DEFAULT_TYPES);
    tmpl_init(&t);
    assert_int_equal(dec(&d, &t, &r, NULL), DNSTAP_OK);
    dnstap_close(&d);
    assert_null(d.arena);
    dnstap_close(&d);
}

/* ------------------------------------------------------------ type names */

static void test_type_names(void **state)
{
    static const char *const names[] = {
        NULL,                 "auth-query",         "auth-response",
        "resolver-query",     "resolver-response",  "client-query",
        "client-response",    "forwarder-query",    "forwarder-response",
        "stub-query",         "stub-response",      "tool-query",
        "tool-response",      "update-query",       "update-response",
    };
    static const char *const bad[] = {
        "",                 "resolver",           "response",
        "resolver-",        "resolver-responses", "resolver-respons",
        "resolver--response", "resolver response", "resolverresponse",
        "-resolver-response", "resolver-response-", "4",
        "message",          "RESOLVER.RESPONSE",  "resolver-response\n",
    };
    char buf[64];

    (void)state;
    for (int t = 1; t <= DNSTAP_TYPE_MAX; t++) {
        assert_string_equal(dnstap_type_name(t), names[t]);
        assert_int_equal(dnstap_type_parse(names[t]), t);
        /* RESOLVER_RESPONSE, resolver_response, Resolver-Response. */
        strcpy(buf, names[t]);
        for (char *p = buf; *p; p++)
            *p = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
        assert_int_equal(dnstap_type_parse(buf), t);
        strcpy(buf, names[t]);
        for (char *p = buf; *p; p++)
            if (*p == '-')
                *p = '_';
        assert_int_equal(dnstap_type_parse(buf), t);
        strcpy(buf, names[t]);
        buf[0] = (char)(buf[0] - 'a' + 'A');
        assert_int_equal(dnstap_type_parse(buf), t);
    }
    assert_int_equal(dnstap_type_parse("Resolver_RESPONSE"), DNSTAP_RESOLVER_RESPONSE);
    assert_int_equal(dnstap_type_parse("forwarder_Response"), DNSTAP_FORWARDER_RESPONSE);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(dnstap_type_parse(bad[i]), -1);
    assert_int_equal(dnstap_type_parse(NULL), -1);
    assert_null(dnstap_type_name(0));
    assert_null(dnstap_type_name(-1));
    assert_null(dnstap_type_name(DNSTAP_TYPE_MAX + 1));
    /* The enum matches the generated schema. */
    assert_int_equal(DNSTAP_AUTH_QUERY, DNSTAP__MESSAGE__TYPE__AUTH_QUERY);
    assert_int_equal(DNSTAP_RESOLVER_RESPONSE,
                     DNSTAP__MESSAGE__TYPE__RESOLVER_RESPONSE);
    assert_int_equal(DNSTAP_FORWARDER_RESPONSE,
                     DNSTAP__MESSAGE__TYPE__FORWARDER_RESPONSE);
    assert_int_equal(DNSTAP_UPDATE_RESPONSE, DNSTAP__MESSAGE__TYPE__UPDATE_RESPONSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_fields),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_not_message),
        cmocka_unit_test(test_malformed_fields),
        cmocka_unit_test(test_query_types),
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_no_response),
        cmocka_unit_test(test_transport),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_address_lengths),
        cmocka_unit_test(test_optional_bytes),
        cmocka_unit_test(test_unknown_and_repeated_fields),
        cmocka_unit_test(test_real_frames),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_arena_reuse),
        cmocka_unit_test(test_arena_growth),
        cmocka_unit_test(test_arena_hostile),
        cmocka_unit_test(test_nomem_big_field),
        cmocka_unit_test(test_scan_decides),
        cmocka_unit_test(test_scan_merged_messages),
        cmocka_unit_test(test_scan_wrong_wire_type),
        cmocka_unit_test(test_scan_missing_type),
        cmocka_unit_test(test_scan_query_then_malformed),
        cmocka_unit_test(test_scan_enum_values),
        cmocka_unit_test(test_scan_every_field),
        cmocka_unit_test(test_scan_random_frames),
        cmocka_unit_test(test_scan_arena_bound),
        cmocka_unit_test(test_close),
        cmocka_unit_test(test_type_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
