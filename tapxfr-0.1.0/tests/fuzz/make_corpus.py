#!/usr/bin/env python3
"""make_corpus.py - write the raw seed inputs of the fuzz targets.

Usage: make_corpus.py OUTDIR

Writes OUTDIR/<target>/ for packet, dns, frame, dnstap, dnstap_scan,
collect, ipfrag, tcpdns, bailiwick and match (and OUTDIR/dnstap_scan_edges/,
hand-made frames for the dnstap
pre-scan, to be copied into corpus/dnstap_scan whole), from
the repository's own test data: the conformance cases
(tests/conformance/cases/*.in), the real capture tests/data/kdig-knot.pcap,
small gen_pcap.py and gen_dnstap.py samples, and hand-built Frame Streams
sessions. The seeds are many and redundant; the checked-in corpora are
what libFuzzer keeps of them, e.g.

    tests/fuzz/build.sh /tmp/fz
    tests/fuzz/make_corpus.py /tmp/seeds
    /tmp/fz/fuzz_packet -merge=1 tests/fuzz/corpus/packet /tmp/seeds/packet

Input layouts (see the comment at the top of each fuzz_<target>.c):
  packet   selector byte (link type index) + captured packet
  dns      filter byte + DNS message
  frame    control byte + chunk sizes + Frame Streams byte stream
  dnstap   one dnstap protobuf (a Frame Streams data frame)
  dnstap_scan  the same
  collect  one DNSXFR01 message
  ipfrag   config byte + 5-byte fragment records (hand-made sequences)
  tcpdns   config byte + segment records (see fuzz_tcpdns.c)
  bailiwick  zone length byte + query_zone + DNS message
  match    config byte + 3-byte message records (hand-made sequences)
Standard library only.
"""

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOOLS = os.path.join(TESTS, "tools")

# Link type index = selector % 11, in fuzz_packet.c's table order.
SEL_NULL, SEL_EN10MB, SEL_RAW, SEL_RAW_ALT, SEL_LOOP = 0, 1, 2, 3, 4
SEL_SLL, SEL_IPV4, SEL_IPV6, SEL_SLL2, SEL_UNSUPPORTED = 5, 6, 7, 8, 9

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
READY, ACCEPT, START, STOP, FINISH = 4, 1, 2, 3, 5


def write(outdir, target, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def pcap_packets(path):
    """(linktype, packet bytes) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        buf = f.read()
    magic = buf[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a pcap file" % path)
    linktype = struct.unpack(e + "I", buf[20:24])[0]
    off = 24
    out = []
    while off + 16 <= len(buf):
        incl = struct.unpack(e + "I", buf[off + 8:off + 12])[0]
        out.append((linktype, buf[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def eth_ip(frame):
    """(ethertype, IP packet) behind an Ethernet header and VLAN tags."""
    off = 12
    while off + 2 <= len(frame):
        et = struct.unpack(">H", frame[off:off + 2])[0]
        if et in (0x8100, 0x88A8, 0x9100):
            off += 4
            continue
        return et, frame[off + 2:]
    return None, b""


def udp_payload(ip):
    """The UDP payload of an IPv4/IPv6 packet (no extension headers), or
    None. Checksums are not checked: the seeds need not be valid."""
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17 or len(ip) < ihl + 8:
            return None
        u = ip[ihl:]
    elif v == 6 and len(ip) >= 48:
        if ip[6] != 17:
            return None
        u = ip[40:]
    else:
        return None
    ulen = struct.unpack(">H", u[4:6])[0]
    if ulen < 8 or ulen > len(u):
        return None
    return u[8:ulen]


def relink(ethertype, ip):
    """The same IP packet under the other link types: (selector, bytes)."""
    v6 = ethertype == 0x86DD
    fam_null = 30 if v6 else 2    # BSD AF_INET6 varies: 24, 28 or 30
    fam_loop = 24 if v6 else 2
    sll = struct.pack(">HHH8sH", 0, 772, 6, b"\0" * 8, ethertype)
    sll2 = struct.pack(">HHIHBB8s", ethertype, 0, 1, 772, 0, 6, b"\0" * 8)
    return [
        (SEL_NULL, struct.pack("<I", fam_null) + ip),
        (SEL_NULL, struct.pack(">I", fam_null) + ip),
        (SEL_RAW_ALT, ip),
        (SEL_LOOP, struct.pack(">I", fam_loop) + ip),
        (SEL_SLL, sll + ip),
        (SEL_SLL, sll[:14] + struct.pack(">HHH", 0x8100, 5, ethertype) + ip),
        (SEL_SLL2, sll2 + ip),
        (SEL_IPV6 if v6 else SEL_IPV4, ip),
        (SEL_UNSUPPORTED, ip),
    ]


def dns_seeds(outdir, dns, aa_ns=b"\0\0\0\0"):
    """A DNS message for the dns and collect targets."""
    for filt in (0x00, 0x03, 0x0c):
        write(outdir, "dns", bytes((filt,)) + dns)
    write(outdir, "collect", b"DNSXFR01" + aa_ns + dns)


def control(ctype, content_type=True):
    body = struct.pack(">I", ctype)
    if content_type:
        body += struct.pack(">II", 1, len(CONTENT_TYPE)) + CONTENT_TYPE
    return struct.pack(">II", 0, len(body)) + body


def fstrm_frames(stream):
    """The data frames of a Frame Streams byte stream."""
    off, out = 0, []
    while off + 4 <= len(stream):
        n = struct.unpack(">I", stream[off:off + 4])[0]
        if n == 0:
            clen = struct.unpack(">I", stream[off + 4:off + 8])[0]
            off += 8 + clen
            continue
        out.append(stream[off + 4:off + 4 + n])
        off += 4 + n
    return out


def frame_input(stream, max_frame_sel=2, sizes=(), take=False):
    head = max_frame_sel | len(sizes) << 3 | (0x80 if take else 0)
    return bytes((head,)) + bytes(sizes) + stream


def run_tool(name, args):
    subprocess.run([sys.executable, os.path.join(TOOLS, name)] + args,
                   check=True, stdout=subprocess.DEVNULL)


# ------------------------------------------------------------ dnstap_scan
# Hand-made frames for the pre-scan's rules (src/codec/dnstap.c): each one
# is decided by the scan or must make it give up. Kept whole in the
# corpus (libFuzzer's coverage does not tell a type of 3 from 2^32 + 3).

def pb_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_key(num, wire):
    return pb_varint(num << 3 | wire)


def pb_uint(num, v):
    return pb_key(num, 0) + pb_varint(v)


def pb_bytes(num, b):
    return pb_key(num, 2) + pb_varint(len(b)) + b


def pb_fixed32(num, v):
    return pb_key(num, 5) + struct.pack("<I", v)


def pb_fixed64(num, v):
    return pb_key(num, 1) + struct.pack("<Q", v)


# www.example. IN A, and its answer.
SCAN_QUERY = bytes.fromhex("123400000001000000000000037777770765"
                           "78616d706c650000010001")
SCAN_RESPONSE = bytes.fromhex("123484000001000100000000037777770765"
                              "78616d706c650000010001c00c000100010000"
                              "0e100004c0000250")


def dt_message(mtype, extra=b"", response=None):
    """A Message as resolvers write it, type first."""
    if response is None:
        response = mtype % 2 == 0
    m = pb_uint(1, mtype) + pb_uint(2, 1) + pb_uint(3, 1)
    m += pb_bytes(4, b"\xc0\x00\x02\x01") + pb_bytes(5, b"\xc6\x33\x64\x35")
    m += pb_uint(6, 5353) + pb_uint(7, 53)
    m += pb_uint(8, 1700000000) + pb_fixed32(9, 111)
    if response:
        m += pb_bytes(11, b"\x07example\x00")
        m += pb_uint(12, 1700000001) + pb_fixed32(13, 222)
        m += pb_bytes(14, SCAN_RESPONSE)
    else:
        m += pb_bytes(10, SCAN_QUERY)
    return m + extra


def dt_frame(messages, dtype=1, extra=b"", head=b""):
    """A Dnstap: identity, version, the Message occurrences, then type."""
    d = head + pb_bytes(1, b"resolver1.example.net") + pb_bytes(2, b"unbound")
    for m in messages:
        d += pb_bytes(14, m)
    if dtype is not None:
        d += pb_uint(15, dtype)
    return d + extra


def scan_edge_cases():
    """(name, frame) pairs: the rules of the pre-scan, one at a time."""
    q, r = dt_message(3), dt_message(4)
    cases = []
    add = lambda name, b: cases.append((name, b))
    for t in range(0, 17):
        add("type %d" % t, dt_frame([dt_message(t)]))
        add("type %d, no response_message" % t,
            dt_frame([dt_message(t, response=False)]))
    # Huge enum varints: protobuf-c keeps the low 32 bits.
    for v in (2**32 + 3, 2**32 + 4, 2**63 + 5, 2**64 - 1, 0xFFFFFFFE,
              0x7FFFFFFF, 0x80000003, 2**35 + 2):
        add("Message.type %#x" % v,
            dt_frame([pb_uint(1, v) + dt_message(3)[2:]]))
        add("Message.type %#x last" % v, dt_frame([q + pb_uint(1, v)]))
    add("Message.type 10-byte varint, tenth byte 0x7f",
        dt_frame([bytes.fromhex("0883808080808080807f") + q[2:]]))
    add("Message.type 11-byte varint",
        dt_frame([bytes.fromhex("088380808080808080800100") + q[2:]]))
    add("Message.type non-minimal 3", dt_frame([b"\x08\x83\x80\x00" + q[2:]]))
    for v in (2, 0, 2**32 + 1, 2**64 - 1):
        add("Dnstap.type %#x" % v, dt_frame([q], dtype=v))
        add("Dnstap.type %#x, response" % v, dt_frame([r], dtype=v))
        add("Dnstap.type %#x, no message" % v, dt_frame([], dtype=v))
    add("Dnstap.type twice, 2 then 1", dt_frame([q], extra=pb_uint(15, 1), dtype=2))
    add("Dnstap.type twice, 1 then 2", dt_frame([q], extra=pb_uint(15, 2)))
    add("Dnstap.type first", dt_frame([q], dtype=None, head=pb_uint(15, 1)))
    # Required fields.
    add("no Dnstap.type", dt_frame([q], dtype=None))
    add("no Dnstap.type, no message", dt_frame([], dtype=None))
    add("no Message.type", dt_frame([q[2:]]))
    add("empty Message", dt_frame([b""]))
    add("empty frame", b"")
    # Merged occurrences of Dnstap.message.
    add("query then response", dt_frame([q, r]))
    add("response then query", dt_frame([r, q]))
    add("query, then response type only", dt_frame([q, pb_uint(1, 4)]))
    add("response, then query type only", dt_frame([r, pb_uint(1, 5)]))
    add("client response then query", dt_frame([dt_message(6), q]))
    add("query then client response", dt_frame([q, dt_message(6)]))
    add("query, then occurrence without type", dt_frame([q, pb_uint(2, 1)]))
    add("query, then bad type", dt_frame([q, pb_uint(1, 99)]))
    add("bad type, then query", dt_frame([pb_uint(1, 99), q]))
    add("query, then bad wire type", dt_frame([q, pb_uint(1, 4) + pb_key(9, 0) + b"\x01"]))
    add("three occurrences", dt_frame([q, r, dt_message(7)]))
    add("type twice in a Message", dt_frame([q + pb_uint(1, 4)]))
    add("type twice, response first", dt_frame([r + pb_uint(1, 5)]))
    add("type 4 then 0", dt_frame([r + pb_uint(1, 0)]))
    add("message occurrences around type",
        dt_frame([q], dtype=None, extra=pb_uint(15, 1) + pb_bytes(14, r)))
    # Wrong wire types on known fields, Dnstap and Message.
    for num, wire in ((1, 0), (2, 5), (3, 1), (14, 0), (15, 2), (15, 5)):
        body = {0: b"\x01", 1: b"\0" * 8, 2: b"\x01\x01", 5: b"\0" * 4}[wire]
        add("Dnstap field %d wire %d" % (num, wire),
            dt_frame([q], extra=pb_key(num, wire) + body))
    for num in range(1, 17):
        for wire in (0, 1, 2, 5):
            body = {0: b"\x01", 1: b"\0" * 8, 2: b"\x01\x01", 5: b"\0" * 4}[wire]
            add("Message field %d wire %d" % (num, wire),
                dt_frame([q + pb_key(num, wire) + body]))
    # Policy (an embedded message in Message): valid, odd, wrong.
    pol = pb_bytes(1, b"RPZ") + pb_bytes(2, b"\x03bad\x00") + pb_uint(3, 1) + \
        pb_uint(4, 1) + pb_bytes(5, b"x")
    add("policy", dt_frame([q + pb_bytes(15, pol)]))
    add("policy twice", dt_frame([q + pb_bytes(15, pol) + pb_bytes(15, pol)]))
    add("policy, non-UTF-8 type", dt_frame([q + pb_bytes(15, pb_bytes(1, b"\xff\xfe"))]))
    add("policy, huge enum", dt_frame([q + pb_bytes(15, pb_uint(3, 2**64 - 1))]))
    add("policy, unknown fields", dt_frame([q + pb_bytes(15, pb_uint(99, 1) + pb_fixed64(6, 0))]))
    add("empty policy", dt_frame([q + pb_bytes(15, b"")]))
    for num, wire in ((1, 0), (2, 5), (3, 2), (4, 1), (5, 0)):
        body = {0: b"\x01", 1: b"\0" * 8, 2: b"\x01\x01", 5: b"\0" * 4}[wire]
        add("policy field %d wire %d" % (num, wire),
            dt_frame([q + pb_bytes(15, pb_key(num, wire) + body)]))
    add("policy, truncated", dt_frame([q + pb_bytes(15, b"\x0a\x05ab")]))
    # Unknown fields of every wire type, at each level, before and after.
    unknown_ok = [pb_uint(100, 7), pb_fixed64(101, 1), pb_bytes(102, b"abc"),
                  pb_fixed32(103, 2), pb_uint(4, 1), pb_bytes(13, b""),
                  pb_uint(2**29 - 1, 1), pb_uint(17, 3)]
    for u in unknown_ok:
        add("unknown %s in Dnstap" % u.hex(), dt_frame([q], extra=u))
        add("unknown %s in Dnstap, first" % u.hex(), dt_frame([q], head=u))
        add("unknown %s in Message" % u.hex(), dt_frame([q + u]))
    add("unknown field, 5-byte tag", dt_frame([q], extra=b"\xf8\xff\xff\xff\x7f\x01"))
    add("unknown field, 5-byte tag, Message", dt_frame([q + b"\xf8\xff\xff\xff\x0f\x01"]))
    for wire in (3, 4, 6, 7):
        add("unknown wire %d in Dnstap" % wire,
            dt_frame([q], extra=pb_key(100, wire) + b"\x00"))
        add("unknown wire %d in Message" % wire,
            dt_frame([q + pb_key(100, wire) + b"\x00"]))
    # Tags: field 0, non-minimal, too long.
    add("field 0, one-byte tag", dt_frame([q], extra=b"\x00\x00"))
    add("field 0, one-byte tag, length-prefixed", dt_frame([q], extra=b"\x02\x00"))
    add("field 0, two-byte tag", dt_frame([q], extra=b"\x80\x00\x00"))
    add("field 0, two-byte tag, Message", dt_frame([q + b"\x80\x00\x00"]))
    add("Message.type non-minimal tag", dt_frame([b"\x88\x80\x00\x03" + q[2:]]))
    add("Dnstap.message non-minimal tag",
        dt_frame([], extra=b"\xf2\x80\x80\x80\x00" + pb_varint(len(q)) + q))
    add("6-byte tag", dt_frame([q], extra=b"\xf8\x80\x80\x80\x80\x00\x01"))
    add("tag cut", dt_frame([q], extra=b"\xf8"))
    # Lengths: non-minimal, too long, overflowing, cut.
    add("5-byte length", dt_frame([], extra=b"\x72" +
                                  bytes([0x80 | len(q) & 0x7f, 0x80 | len(q) >> 7,
                                         0x80, 0x80, 0x00]) + q))
    add("6-byte length", dt_frame([], extra=b"\x72" +
                                  bytes([0x80 | len(q) & 0x7f, 0x80 | len(q) >> 7,
                                         0x80, 0x80, 0x80, 0x00]) + q))
    add("length 2^32 - 1", dt_frame([q], extra=b"\xa2\x06\xff\xff\xff\xff\x0f" + b"\0" * 8))
    add("length 2^32 - 5", dt_frame([q], extra=b"\xa2\x06\xfb\xff\xff\xff\x0f" + b"\0" * 8))
    add("length 2^32 + 1", dt_frame([q], extra=b"\xa2\x06\x81\x80\x80\x80\x10" + b"\0" * 8))
    add("length 2^31", dt_frame([q], extra=b"\xa2\x06\x80\x80\x80\x80\x08" + b"\0" * 8))
    add("length one past the end", dt_frame([q], extra=b"\xa2\x06\x04abc"))
    add("Message length one past the end",
        dt_frame([], extra=b"\x72" + pb_varint(len(q) + 1) + q))
    add("length cut", dt_frame([q], extra=b"\xa2\x06\x80"))
    # Query with a malformed field after its type: the unpack's MALFORMED.
    add("query, cut fixed32", dt_frame([q + b"\x4d\x01\x02"]))
    add("query, cut fixed64", dt_frame([q], extra=b"\xa1\x06\x01\x02"))
    add("query, cut varint", dt_frame([q + b"\x30\xff\xff"]))
    add("query, cut frame", dt_frame([q])[:-3])
    add("query, Message cut", dt_frame([q])[:60])
    add("query, trailing byte", dt_frame([q]) + b"\x80")
    return cases


def ipfrag_record(off, length, more=False, v6=False, key=0, step=0):
    """One fragment for fuzz_ipfrag.c: flags, offset in 8-byte units (a
    byte offset that is not a multiple of 8 sets the misaligned bit), length.
    step is the time step code (0 none, 3 one timeout, 4 timeout + 1)."""
    flags = int(v6) | key << 1 | int(more) << 3 | step << 4
    units = off // 8 | (0x8000 if off % 8 else 0)
    return struct.pack(">BHH", flags, units, length)


def ipfrag_seeds():
    """(name, input) pairs: each rule of ipfrag.h once.
    Config byte: bits 0-1 max_datagrams (1, 2, 4, 64), bits 2-3 max_bytes
    (64, 1500, 9000, 200000), bits 4-5 timeout (1, 1000, 1e6 ns, 30 s)."""
    roomy = 3 | 3 << 2 | 3 << 4
    r = ipfrag_record
    seeds = [
        ("in order", [r(0, 16, True), r(16, 5)]),
        ("reversed v6", [r(16, 5, v6=True), r(0, 16, True, v6=True)]),
        ("duplicate", [r(0, 8, True), r(0, 8, True), r(8, 3)]),
        ("overlap then dead", [r(0, 16, True), r(8, 16, True), r(24, 1)]),
        ("not a multiple of 8", [r(0, 12, True), r(12, 1)]),
        ("misaligned", [r(0, 8, True), r(9, 8)]),
        ("two lasts", [r(16, 4), r(16, 5), r(0, 16, True)]),
        ("atomic v6 beside one in progress",
         [r(8, 8, True, True), r(0, 30, v6=True), r(16, 1, v6=True),
          r(0, 8, True, True)]),
        ("timeout edge", [r(0, 8, True), r(8, 1, step=3),
                          r(0, 8, True, key=1), r(8, 1, key=1, step=4)]),
        ("interleaved", [r(0, 8, True, key=0), r(0, 8, True, True, 1),
                         r(8, 2, key=2), r(8, 1, v6=True, key=1),
                         r(8, 1, key=0), r(0, 8, True, key=2)]),
        ("v6 at 65535", [r(i * 1456, 1456, True, True) for i in range(45)] +
         [r(45 * 1456, 15, v6=True)]),
        ("v4 past 65515", [r(0, 1480, True), r(65512, 4)]),
    ]
    out = [(name, bytes((roomy,)) + b"".join(recs)) for name, recs in seeds]
    # Bounds: one datagram at a time, and 64 bytes held.
    out.append(("evict by count", bytes((0 | 3 << 2 | 3 << 4,)) + b"".join(
        [r(0, 8, True), r(0, 8, True, key=1), r(8, 1), r(8, 1, key=1)])))
    out.append(("evict by bytes", bytes((3 | 0 << 2 | 3 << 4,)) + b"".join(
        [r(0, 40, True), r(0, 24, True, key=1), r(24, 8, True, key=1),
         r(40, 1), r(32, 1, key=1)])))
    out.append(("no room", bytes((3 | 0 << 2 | 3 << 4,)) + b"".join(
        [r(0, 64, True), r(64, 1)])))
    return out


def tcpdns_msg(i, n=40, query=False):
    """A framed dnsgen-like response (QR set, one question) of n bytes."""
    flags = 0x0100 if query else 0x8180
    body = bytes(ord("a") + (i * 7 + j) % 26 for j in range(n - 12))
    return struct.pack(">HHHHHHH", n, i, flags, 1, 1, 0, 0) + body


def tcpdns_rec(flags, flow, step, off, payload, seconds=False, expire=False):
    """One segment record of fuzz_tcpdns.c."""
    b0 = flags | flow << 3 | (0x40 if expire else 0) | (0x80 if seconds else 0)
    return struct.pack(">BBhB", b0, step, off, len(payload)) + payload


def tcpdns_seeds(outdir):
    SYN, FIN, RST = 1, 2, 4
    stream = b"".join(tcpdns_msg(i, 20 + 13 * i) for i in range(6))
    chunks = [stream[i:i + 50] for i in range(0, len(stream), 50)]
    cases = []
    # In order after a SYN, then FIN.
    cases.append([tcpdns_rec(SYN, 0, 0, 0, b"")] +
                 [tcpdns_rec(FIN if k == len(chunks) - 1 else 0, 0, 1, 0, c)
                  for k, c in enumerate(chunks)])
    # Fast Open, then a swap (second chunk first) and a retransmit.
    r = [tcpdns_rec(SYN, 1, 0, 0, chunks[0])]
    r.append(tcpdns_rec(0, 1, 1, len(chunks[1]), chunks[2]))
    r.append(tcpdns_rec(0, 1, 1, -len(chunks[1]) - len(chunks[2]), chunks[1]))
    r.append(tcpdns_rec(0, 1, 1, -len(chunks[1]), chunks[1]))
    cases.append(r)
    # Mid-stream pick-up, a query, a zero length, a lost chunk, RST.
    odd = tcpdns_msg(1, 30) + tcpdns_msg(2, 50, True) + b"\0\0" + tcpdns_msg(3)
    cases.append([tcpdns_rec(0, 2, 0, 0, stream[7:60]),
                  tcpdns_rec(0, 2, 1, 0, odd),
                  tcpdns_rec(0, 2, 1, 100, stream[100:200]),
                  tcpdns_rec(0, 2, 4, 0, b"", seconds=True),
                  tcpdns_rec(RST, 2, 1, 0, b"")])
    # Several flows interleaved, one left idle to expire.
    r = []
    for f in range(4):
        r.append(tcpdns_rec(SYN, f + 3, 0, 0, b""))
    for c in chunks[:4]:
        for f in range(4):
            r.append(tcpdns_rec(0, f + 3, 1, 0, c))
    r.append(tcpdns_rec(0, 3, 70, 0, b"", seconds=True, expire=True))
    cases.append(r)
    for k, case in enumerate(cases):
        for sel in (0x0f, 0x33, 0x80 | 0x3e, 0x42, 0x3f):
            write(outdir, "tcpdns", bytes([sel ^ k]) + b"".join(case))


def wire_name(text):
    """The uncompressed wire form of a dotted name ("." is the root)."""
    out = b""
    for label in text.strip(".").split("."):
        if label:
            out += bytes((len(label),)) + label.encode()
    return out + b"\0"


def read_name(msg, off):
    """(name, offset after it) of the possibly compressed name at off, or
    None; backward pointers only, as bailiwick.h wants."""
    out, after, hops = b"", None, 0
    while off < len(msg):
        c = msg[off]
        if c & 0xC0 == 0xC0 and off + 1 < len(msg):
            target = (c & 0x3F) << 8 | msg[off + 1]
            hops += 1
            if target >= off or target < 12 or hops > 127:
                return None
            after = off + 2 if after is None else after
            off = target
        elif c & 0xC0 or off + 1 + c > len(msg):
            return None
        else:
            out += msg[off:off + 1 + c]
            if c == 0:
                return out, off + 1 if after is None else after
            off += 1 + c
    return None


def rr(owner, rtype, rdata, ttl=300, cls=1):
    return wire_name(owner) + struct.pack(">HHIH", rtype, cls, ttl,
                                          len(rdata)) + rdata


def bailiwick_seeds(outdir, real):
    """fuzz_bailiwick.c inputs: hand-made responses (a referral with glue
    in and out of bailiwick, an out-of-zone CNAME target, a foreign NS,
    OPT and TSIG, pointers into records that go) with the zones that keep
    or remove their parts, and real responses with their question's
    zones: root, parent, the name itself and a sibling."""
    def msg(flags, q, an=(), ns=(), ar=()):
        h = struct.pack(">HHHHHH", 0x1234, flags, 1, len(an), len(ns),
                        len(ar))
        return h + wire_name(q) + b"\0\1\0\1" + b"".join(an + ns + ar)
    opt = b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
    tsig_rd = wire_name("hmac-sha256") + bytes(6) + b"\1\x2c\0\4" + \
        b"\xde\xad\xbe\xef\x12\x34\0\0\0\0"
    a = b"\xc0\0\x02\x01"
    hand = [
        (["com", "example.com", "net", "."],
         msg(0x8000, "www.example.com",
             ns=(rr("example.com", 2, wire_name("ns1.example.com")),
                 rr("example.com", 2, wire_name("ns2.example.net"))),
             ar=(rr("ns1.example.com", 1, a), rr("ns2.example.net", 1, a),
                 opt))),
        (["example.com", "EXAMPLE.COM", "xexample.com"],
         msg(0x8580, "www.example.com",
             an=(rr("www.example.com", 5, wire_name("cdn.other.net")),
                 rr("cdn.other.net", 1, a)),
             ns=(rr("example.org", 2, wire_name("ns.example.org")),
                 rr("example.com", 6, wire_name("ns.example.com") +
                    wire_name("hostmaster.example.com") + bytes(20))),
             ar=(rr("mail.example.com", 15, b"\0\x0a" +
                    wire_name("mx.other.net")), opt,
                 rr("key", 250, tsig_rd, 0, 255)))),
    ]
    # The poisoned answer of test_bailiwick.c: kept records point into
    # the removed first one.
    poisoned = bytes.fromhex(
        "beef8180000100030000000003777777076578616d706c6503636f6d00000100"
        "01046576696c056f74686572036e657400000100010000012c0004cb007142c0"
        "0c000500010000012c00060363646ec026046d61696cc010000f00010000012c"
        "0004000ac021")
    hand.append((["example.com", "other.net", "."], poisoned))
    for zones, m in hand:
        for z in zones:
            zw = wire_name(z)
            write(outdir, "bailiwick", bytes((len(zw),)) + zw + m)
    for m in real:
        q = read_name(m, 12) if len(m) > 12 else None
        if q is None:
            continue
        name = q[0]
        zones = [b"\0", name, name[1 + name[0]:] if name[0] else name,
                 b"\1x" + name if len(name) < 250 else b"\0"]
        for zw in zones:
            write(outdir, "bailiwick", bytes((len(zw),)) + zw + m)
def match_record(resp=False, flow=0, tcp=False, step=0, qid=0, name=0,
                 flip=False, qtype=0, rcode=0, mode=0, chaos=False,
                 wrong_qr=False, raw=b""):
    """One message for fuzz_match.c; mode 0 one question, 1 none, 2 two,
    3 raw (raw is the message; its first two bytes become the ID)."""
    b0 = int(resp) | flow << 1 | int(tcp) << 3 | step << 4
    b1 = qid | name << 3 | int(flip) << 5 | qtype << 6
    b2 = rcode | mode << 4 | int(chaos) << 6 | int(wrong_qr) << 7
    rec = bytes((b0, b1, b2))
    if mode == 3:
        rec += bytes((len(raw),)) + raw
    return rec


def match_seeds():
    """(name, input) pairs: each rule of match.h once.
    Config byte: bits 0-1 max_entries (1, 2, 4, 64), bits 2-3 timeout (1,
    1000, 1e6 ns, 10 s), bits 4-5 max_query_bytes (0, 12, 20, 512)."""
    roomy = 3 | 3 << 2 | 3 << 4
    q = match_record
    seeds = [
        ("genuine", [q(), q(resp=True, step=1)]),
        ("0x20", [q(name=1), q(resp=True, name=1, flip=True, step=1)]),
        ("wrong id, port, address, transport, type, class",
         [q(), q(resp=True, qid=1), q(resp=True, flow=1), q(resp=True, flow=2),
          q(resp=True, tcp=True), q(resp=True, qtype=1), q(resp=True, chaos=True),
          q(resp=True, name=1)]),
        ("before the query", [q(resp=True), q(step=1), q(resp=True, step=1)]),
        ("duplicate", [q(), q(resp=True, step=1), q(resp=True, step=1),
                       q(resp=True, mode=1, rcode=5)]),
        ("no question", [q(qid=1), q(qid=2), q(qid=3), q(qid=4), q(qid=5),
                         q(resp=True, qid=1, mode=1, rcode=1),
                         q(resp=True, qid=2, mode=1, rcode=2),
                         q(resp=True, qid=3, mode=1, rcode=4),
                         q(resp=True, qid=4, mode=1, rcode=5),
                         q(resp=True, qid=5, mode=1, rcode=0)]),
        ("cookie-only query", [q(mode=1), q(resp=True, mode=1)]),
        ("two questions", [q(mode=2), q(resp=True)]),
        ("pipelined tcp", [q(tcp=True, qid=i, name=i % 4) for i in range(8)] +
         [q(resp=True, tcp=True, qid=7 - i, name=(7 - i) % 4) for i in range(8)]),
        ("replaced", [q(name=0), q(name=1), q(resp=True, name=0),
                      q(resp=True, name=1)]),
        ("wrong way round", [q(wrong_qr=True), q(resp=True, wrong_qr=True)]),
        ("raw", [q(mode=3, raw=b"\0\0\x01\0\0\x01\0\0\0\0\0\0\x01a\0\0\x01\0\x01"),
                 q(resp=True, mode=3,
                   raw=b"\0\0\x81\x80\0\x01\0\0\0\0\0\0\x01A\0\0\x01\0\x01"),
                 q(mode=3, raw=b"\0\0\x01\0\0\x01\0\0\0\0\0\0\xc0\x0c\0\x01\0\x01"),
                 q(mode=3, raw=b"\0\0\x01\0\0\x01\0\0\0\0\0\0\x03ab"),
                 q(mode=3, raw=b"\0\0\x01")]),
        ("expire explicitly", [q(), q(step=15), q(resp=True)]),
        ("long name", [q(name=3), q(resp=True, name=3, flip=True)]),
    ]
    out = []
    for name, recs in seeds:
        for cfg in (roomy, 3 | 3 << 2 | 1 << 4, 3 | 3 << 2 | 2 << 4):
            out.append((name, bytes((cfg,)) + b"".join(recs)))
    # Time: the timeout edge (timeout 1000 ns: step 3 is one timeout, 4
    # one more), and a table of one (eviction by count).
    edge = 3 | 1 << 2 | 3 << 4
    out.append(("timeout edge", bytes((edge,)) + b"".join(
        [q(), q(resp=True, step=3), q(qid=1), q(resp=True, qid=1, step=4)])))
    out.append(("time backwards", bytes((edge,)) + b"".join(
        [q(), q(qid=1, step=6), q(resp=True, step=4), q(resp=True, qid=1)])))
    out.append(("evict", bytes((0 | 3 << 2,)) + b"".join(
        [q(), q(qid=1), q(resp=True), q(resp=True, qid=1)])))
    out.append(("forget answered", bytes((1 | 3 << 2,)) + b"".join(
        [q(), q(resp=True), q(qid=1), q(qid=2), q(resp=True)])))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    tmp = tempfile.mkdtemp()

    # packet, dns, collect: the conformance cases (raw IPv4).
    real = []  # DNS messages for the bailiwick seeds
    cases = os.path.join(TESTS, "conformance", "cases")
    for name in sorted(os.listdir(cases)):
        if not name.endswith(".in"):
            continue
        with open(os.path.join(cases, name), "rb") as f:
            ip = f.read()
        write(outdir, "packet", bytes((SEL_RAW,)) + ip)
        dns = udp_payload(ip)
        if dns is not None:
            dns_seeds(outdir, dns, ip[12:16])
            real.append(dns)

    # The real capture, and small synthetic ones with every kind of packet
    # gen_pcap.py makes (VLAN, QinQ, IPv6, options, broken ones).
    pcaps = [os.path.join(TESTS, "data", "kdig-knot.pcap")]
    for seed in (1, 2, 3):
        p = os.path.join(tmp, "gen%d.pcap" % seed)
        run_tool("gen_pcap.py", ["--count", "300", "--seed", str(seed),
                                 "--pool", "100", "--out", p])
        pcaps.append(p)
    for path in pcaps:
        for i, (lt, pkt) in enumerate(pcap_packets(path)):
            assert lt == 1, "%s: link type %d" % (path, lt)
            write(outdir, "packet", bytes((SEL_EN10MB,)) + pkt)
            et, ip = eth_ip(pkt)
            if et in (0x0800, 0x86DD):
                dns = udp_payload(ip)
                if dns is not None:
                    dns_seeds(outdir, dns)
                    if path == pcaps[0]:
                        real.append(dns)
                if i % 10 == 0:
                    for sel, b in relink(et, ip):
                        write(outdir, "packet", bytes((sel,)) + b)

    # dnstap and frame: gen_dnstap.py files are unidirectional sessions
    # (START ... STOP); their data frames are dnstap seeds.
    for seed, count in ((1, 40), (2, 5), (3, 1)):
        p = os.path.join(tmp, "gen%d.fstrm" % seed)
        run_tool("gen_dnstap.py", ["--count", str(count), "--seed", str(seed),
                                   "--pool", "100", "--out", p])
        with open(p, "rb") as f:
            stream = f.read()
        frames = fstrm_frames(stream)
        for fr in frames:
            write(outdir, "dnstap", fr)
            write(outdir, "dnstap_scan", fr)
        if count > 5:
            continue
        # Whole, byte by byte, in odd chunks, with replies taken or not.
        write(outdir, "frame", frame_input(stream))
        write(outdir, "frame", frame_input(stream, 0, (1,)))
        write(outdir, "frame", frame_input(stream, 1, (3, 0, 7, 64), True))
        # Bidirectional: READY (with and without content type), START.
        data = b"".join(struct.pack(">I", len(fr)) + fr for fr in frames)
        bidi = control(READY) + control(START) + data + control(STOP, False)
        write(outdir, "frame", frame_input(bidi, 2, (5, 11), True))
        bidi = control(READY, False) + control(START, False) + data + \
            control(STOP, False)
        write(outdir, "frame", frame_input(bidi, 7, (2,)))
        # Oversize frames skipped (max_frame 100 and 16).
        write(outdir, "frame", frame_input(stream, 6, (40, 9)))
        write(outdir, "frame", frame_input(stream, 5))
    # dnstap_scan: a longer real stream (every kind of frame), and the
    # hand-made cases, apart: those are copied into the corpus whole.
    p = os.path.join(tmp, "scan.fstrm")
    run_tool("gen_dnstap.py", ["--count", "2000", "--seed", "3", "--out", p])
    with open(p, "rb") as f:
        for fr in fstrm_frames(f.read()):
            write(outdir, "dnstap_scan", fr)
    for _, fr in scan_edge_cases():
        write(outdir, "dnstap_scan_edges", fr)
    # Protocol errors, one of each.
    d = struct.pack(">I", 3) + b"abc"
    for s in (d,                                              # before START
              control(START) + control(STOP, False) + b"x",   # after STOP
              control(READY) + control(READY),                 # unexpected
              control(START) + control(ACCEPT),                # writer's ACCEPT
              struct.pack(">II", 0, 2) + b"ab",                # bad escape
              struct.pack(">II", 0, 600) + b"\0" * 600,        # control size
              struct.pack(">II", 0, 8) + b"\0\0\0\x02\0\0\0\x07",  # decode
              struct.pack(">II", 0, 16) + struct.pack(">III", 2, 1, 4) + b"nope"):
        write(outdir, "frame", frame_input(s))
        write(outdir, "frame", frame_input(s, 0, (1,)))
    for _, data in ipfrag_seeds():
        write(outdir, "ipfrag", data)
    tcpdns_seeds(outdir)
    bailiwick_seeds(outdir, real)
    for _, data in match_seeds():
        write(outdir, "match", data)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
