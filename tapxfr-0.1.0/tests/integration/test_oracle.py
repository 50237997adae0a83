#!/usr/bin/env python3
"""Self-test of the test harness (needs no tapxfr binary).

1. The oracle against the dnslogger-forward conformance suite: each case's
   raw IPv4 packet is written into a pcap file with link type 101 (raw
   IP), read back, and the oracle's verdict under the case's flags (-T =
   --max-size 512) must give exactly the DNSXFR01 bytes the 2004 program
   sent (TCP cases: the 2-byte length prefix included), or nothing.
2. The oracle against gen_pcap.py's own bookkeeping (--stats and
   --list-malformed): query/response/AA counts of the well-formed
   traffic, and the fate of every deliberately broken packet.
3. Hand-built packets for each link type and the IPv4/IPv6/UDP rules.
4. The collectors: the UDP one keeps every datagram, the TCP one sends
   the banner and reassembles length-prefixed messages split anyhow.
"""
import collections
import json
import os
import re
import socket
import struct
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

t = tt.Test("test_oracle")
work = tt.tempdir()

# ---------------------------------------------------------------- 1
FLAGS = {"default": {}, "A": {"auth_only": True}, "D": {"drop_empty": True}, "tcp": {}}
cases_dir = os.path.join(tt.tests_srcdir(), "conformance", "cases")
names = sorted(f[:-3] for f in os.listdir(cases_dir) if f.endswith(".in"))
t.check(len(names) >= 90, "conformance: %d cases found in %s" % (len(names), cases_dir))

packets = {}
for n in names:
    with open(os.path.join(cases_dir, n + ".in"), "rb") as f:
        packets[n] = f.read()
raw_pcap = os.path.join(work, "conformance-raw.pcap")
tt.write_pcap(raw_pcap, tt.LT_RAW, [packets[n] for n in names])
lt, frames = tt.read_pcap(raw_pcap)
t.eq(lt, tt.LT_RAW, "conformance pcap: link type read back")
t.eq(len(frames), len(names), "conformance pcap: frames read back")

bad = []
for n, fr in zip(names, frames):
    prefix = n.split("_", 1)[0]
    ex = tt.oracle_frames(lt, [fr], max_size=512, **FLAGS[prefix])
    with open(os.path.join(cases_dir, n + ".expected")) as f:
        want = [bytes.fromhex(h) for h in re.findall(r"Received data: ([0-9a-fA-F]*)", f.read())]
    got = ex.messages
    if prefix == "tcp":
        got = [struct.pack(">H", len(m)) + m for m in got]
    if got != want:
        bad.append("%s: oracle %s, 2004 program %s (verdicts %s)"
                   % (n, [m.hex()[:40] for m in got], [m.hex()[:40] for m in want], ex.verdicts))
t.check(not bad, "conformance: the oracle agrees with the 2004 program on all %d cases" % len(names),
        "\n".join(bad[:10]))

# ---------------------------------------------------------------- 2
gen = tt.gen_pcap(work, count=20000, seed=7, extra=["--stats", os.path.join(work, "st.json"),
                                                    "--list-malformed", os.path.join(work, "mal.txt")])
with open(os.path.join(work, "st.json")) as f:
    st = json.load(f)
mal = {}
with open(os.path.join(work, "mal.txt")) as f:
    for line in f:
        num, kind = line.split()
        mal[int(num) - 1] = kind
# The generator counts DNS over UDP and over TCP apart: compare the UDP
# view (no reassembly) with the first, the difference with the second.
ex = tt.oracle(gen, reassembly=False)
exr = tt.oracle(gen)
t.info("gen_pcap seed 7: " + ex.summary())
t.eq((exr.responses - ex.responses, exr.queries - ex.queries),
     (st["tcp_dns_response"], st["tcp_dns_query"]),
     "gen_pcap: DNS over TCP responses and queries (reassembly) == generator's counts")
t.eq(len(ex.verdicts), 20000, "gen_pcap: every frame has a verdict")

ok_q = sum(1 for i, v in enumerate(ex.verdicts) if v == "query" and i not in mal)
ok_r = sum(1 for i, v in enumerate(ex.verdicts) if v == "forward" and i not in mal)
t.eq(ok_q, st["dns_udp_queries"], "gen_pcap: queries among well-formed frames == generator's count")
t.eq(ok_r, st["dns_udp_responses"], "gen_pcap: responses among well-formed frames == generator's count")
aa = [m for m, i in zip(ex.messages, ex.index) if i not in mal and m[14] & 0x04]
t.eq(len(aa), st["dns_udp_responses_aa"], "gen_pcap: AA responses == generator's count")
t.eq(sum(1 for m in aa if m[8:12] != b"\0\0\0\0"), st["dns_udp_responses_aa_ipv4"],
     "gen_pcap: nameserver field set exactly on AA responses over IPv4")
t.check(all(m[8:12] == b"\0\0\0\0" for m in ex.messages if not m[14] & 0x04),
        "gen_pcap: nameserver field zero on every non-AA response")

fate = {"snaplen": {tt.MALFORMED}, "badudpsum": {tt.MALFORMED}, "badipsum": {tt.MALFORMED},
        "iplen": {tt.MALFORMED}, "udplen": {tt.MALFORMED}, "v6badsum": {tt.MALFORMED},
        "shortdns": {"dns_short"}, "dnscut": {"forward"}, "ptrloop": {"forward"},
        "badlabel": {"forward"}, "ancount": {"forward"}}
wrong = ["frame %d (%s): %s" % (i + 1, k, ex.verdicts[i]) for i, k in sorted(mal.items())
         if k in fate and ex.verdicts[i] not in fate[k]]
kinds = collections.Counter(mal.values())
t.check(not wrong, "gen_pcap: every deliberately broken packet gets its verdict (%s)"
        % ", ".join("%s=%d" % kv for kv in sorted(kinds.items())), "\n".join(wrong[:10]))
t.check(len(kinds) >= 10, "gen_pcap: the file has most kinds of broken packets")

mdns = tt.oracle(gen, port=5353)
t.check(mdns.responses + mdns.queries > 0 and
        not set(mdns.messages) & set(ex.messages),
        "gen_pcap: mDNS (port 5353) DNS messages exist and none is expected on port 53")

small = tt.oracle(gen, max_size=512, reassembly=False)
t.eq(small.forwarded + small.drops["oversize"], ex.forwarded, "--max-size 512: forwarded + oversize")
t.check(all(len(m) - 12 <= 512 for m in small.messages) and small.drops["oversize"] > 0,
        "--max-size 512: some dropped, none longer than 512 kept")
a = tt.oracle(gen, auth_only=True, reassembly=False)
t.eq(a.forwarded, len([m for m in ex.messages if m[14] & 0x04]), "-A: exactly the AA responses")
d = tt.oracle(gen, drop_empty=True, reassembly=False)
t.eq(d.forwarded, len([m for m in ex.messages if m[18:20] != b"\0\0" or m[14] & 0x02]),
     "-D: exactly the responses with answers or TC")
t.check(d.drops["no_answer"] > 0, "-D: the file has empty answers")

# ---------------------------------------------------------------- 3


def csum_fix(data):
    s = 0
    for i in range(0, len(data) - 1, 2):
        s += (data[i] << 8) | data[i + 1]
    if len(data) & 1:
        s += data[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def dns_resp(aa=True, an=1, qid=0x1234, extra=b""):
    flags = 0x8000 | (0x0400 if aa else 0) | 0x0100 | 0x0080
    q = b"\x07example\x03com\x00\x00\x01\x00\x01"
    a = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\xc0\x00\x02\x01" * an
    return struct.pack(">HHHHHH", qid, flags, 1, an, 0, 0) + q + a + extra


def udp4(src, dst, payload, sport=53, dport=40000, zero=False):
    ulen = 8 + len(payload)
    seg = struct.pack(">HHHH", sport, dport, ulen, 0) + payload
    c = 0 if zero else (csum_fix(src + dst + struct.pack(">BBH", 0, 17, ulen) + seg) or 0xFFFF)
    return seg[:6] + struct.pack(">H", c) + seg[8:]


def ip4(src, dst, seg, proto=17, frag=0x4000, options=b""):
    ihl = 5 + len(options) // 4
    h = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(seg), 1, frag, 64, proto, 0, src, dst) + options
    h = h[:10] + struct.pack(">H", csum_fix(h)) + h[12:]
    return h + seg


def udp6(src, dst, payload, sport=53, dport=40000, zero=False):
    ulen = 8 + len(payload)
    seg = struct.pack(">HHHH", sport, dport, ulen, 0) + payload
    c = 0 if zero else (csum_fix(src + dst + struct.pack(">IxxxB", ulen, 17) + seg) or 0xFFFF)
    return seg[:6] + struct.pack(">H", c) + seg[8:]


def ip6(src, dst, seg, nh=17, ext=b""):
    return struct.pack(">IHBB16s16s", 0x60000000, len(ext) + len(seg), nh, 64, src, dst) + ext + seg


S4, D4 = bytes([192, 0, 2, 53]), bytes([10, 0, 0, 1])
S6, D6 = socket.inet_pton(socket.AF_INET6, "2001:db8::53"), socket.inet_pton(socket.AF_INET6, "2001:db8::1")
msg = dns_resp()
p4 = ip4(S4, D4, udp4(S4, D4, msg))
p6 = ip6(S6, D6, udp6(S6, D6, msg))
want4 = tt.MAGIC + S4 + msg
want6 = tt.MAGIC + b"\0\0\0\0" + msg
eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02"


def one(lt, frame, **kw):
    return tt.oracle_frames(lt, [(len(frame), len(frame), frame)], **kw).messages


cases = [
    ("ethernet IPv4", tt.LT_ETHERNET, eth + b"\x08\x00" + p4, [want4]),
    ("ethernet IPv4 + padding", tt.LT_ETHERNET, eth + b"\x08\x00" + p4 + b"\0" * 30, [want4]),
    ("ethernet IPv6", tt.LT_ETHERNET, eth + b"\x86\xdd" + p6, [want6]),
    ("802.1Q", tt.LT_ETHERNET, eth + b"\x81\x00\x00\x0a\x08\x00" + p4, [want4]),
    ("4 tags (88a8, 8100, 9100, 8100)", tt.LT_ETHERNET,
     eth + b"\x88\xa8\0\1\x81\x00\0\2\x91\x00\0\3\x81\x00\0\4\x86\xdd" + p6, [want6]),
    ("5 tags: not decoded", tt.LT_ETHERNET, eth + b"\x81\x00\0\1" * 5 + b"\x08\x00" + p4, []),
    ("802.3 length field: not IP", tt.LT_ETHERNET, eth + b"\x00\x40" + p4, []),
    ("SLL", tt.LT_SLL, b"\0\0\0\1\0\6" + b"\0" * 8 + b"\x08\x00" + p4, [want4]),
    ("SLL2", tt.LT_SLL2, b"\x86\xdd\0\0" + b"\0\0\0\1\0\1\0\6" + b"\0" * 8 + p6, [want6]),
    ("NULL little-endian AF_INET", tt.LT_NULL, struct.pack("<I", 2) + p4, [want4]),
    ("NULL big-endian AF_INET6 (Darwin 30)", tt.LT_NULL, struct.pack(">I", 30) + p6, [want6]),
    ("NULL AF_INET6 (BSD 24)", tt.LT_NULL, struct.pack("<I", 24) + p6, [want6]),
    ("LOOP AF_INET", tt.LT_LOOP, struct.pack(">I", 2) + p4, [want4]),
    ("RAW IPv6", tt.LT_RAW, p6, [want6]),
    ("IPV4 link type", tt.LT_IPV4, p4, [want4]),
    ("IPV6 link type", tt.LT_IPV6, p6, [want6]),
    ("unknown link type", 147, p4, []),
    ("IPv4 options", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg), options=b"\x94\x04\0\0"), [want4]),
    ("IPv4 bad header checksum", tt.LT_RAW, p4[:10] + bytes([p4[10] ^ 1]) + p4[11:], []),
    ("IPv4 MF fragment", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg), frag=0x2000), []),
    ("IPv4 fragment offset", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg), frag=0x0001), []),
    ("IPv4 total length beyond capture", tt.LT_RAW, p4[:-1], []),
    ("IPv4 zero UDP checksum", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg, zero=True)), [want4]),
    ("IPv4 bad UDP checksum", tt.LT_RAW, p4[:-1] + bytes([p4[-1] ^ 0x10]), []),
    ("IPv4 TCP", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg), proto=6), []),
    ("IPv6 zero UDP checksum", tt.LT_RAW, ip6(S6, D6, udp6(S6, D6, msg, zero=True)), []),
    ("IPv6 hop-by-hop + dest opts", tt.LT_RAW,
     ip6(S6, D6, udp6(S6, D6, msg), nh=0, ext=b"\x3c\0" + b"\x01\x04\0\0\0\0" + b"\x11\0" + b"\x01\x04\0\0\0\0"),
     [want6]),
    ("IPv6 AH", tt.LT_RAW, ip6(S6, D6, udp6(S6, D6, msg), nh=51, ext=b"\x11\x04\0\0" + b"\0" * 20), [want6]),
    ("IPv6 fragment header", tt.LT_RAW,
     ip6(S6, D6, udp6(S6, D6, msg), nh=44, ext=b"\x11\0\0\0\0\0\0\1"), []),
    ("IPv6 payload length beyond capture", tt.LT_RAW, p6[:-1], []),
    ("UDP length < 8", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg)[:4] + b"\0\7\0\0" + msg), []),
    ("UDP length shorter than IP payload", tt.LT_RAW,
     ip4(S4, D4, udp4(S4, D4, msg) + b"trailer"), [want4]),
    ("not port 53", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg, sport=5353, dport=5353)), []),
    ("port 53 as destination", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg, sport=40000, dport=53)), [want4]),
    ("non-AA over IPv4: zero nameserver", tt.LT_RAW,
     ip4(S4, D4, udp4(S4, D4, dns_resp(aa=False))), [tt.MAGIC + b"\0\0\0\0" + dns_resp(aa=False)]),
    ("query", tt.LT_RAW, ip4(D4, S4, udp4(D4, S4, b"\x12\x34\x01\x00" + msg[4:], 40000, 53)), []),
    ("11-byte DNS", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg[:11])), []),
    ("qdcount 16", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg[:4] + b"\0\x10" + msg[6:])), []),
    ("qdcount 15", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg[:4] + b"\0\x0f" + msg[6:])),
     [tt.MAGIC + S4 + msg[:4] + b"\0\x0f" + msg[6:]]),
    ("arcount 1024", tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, msg[:10] + b"\x04\x00" + msg[12:])), []),
]
for what, lt, frame, want in cases:
    t.eq(one(lt, frame), want, "decoder: " + what)

# TX checksum offload: the field holds only the folded pseudo-header sum.


def offloaded(seg, pseudo):
    s = 0
    for i in range(0, len(pseudo), 2):
        s += (pseudo[i] << 8) | pseudo[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return seg[:6] + struct.pack(">H", s) + seg[8:]


u = udp4(S4, D4, msg)
seg4 = offloaded(u, S4 + D4 + struct.pack(">BBH", 0, 17, len(u)))
ex4 = tt.oracle_frames(tt.LT_RAW, [(0, 0, ip4(S4, D4, seg4))])
t.check(ex4.messages == [want4] and ex4.csum_offloaded == 1, "decoder: IPv4 offloaded checksum accepted, counted")
u = udp6(S6, D6, msg)
seg6 = offloaded(u, S6 + D6 + struct.pack(">IxxxB", len(u), 17))
ex6 = tt.oracle_frames(tt.LT_RAW, [(0, 0, ip6(S6, D6, seg6))])
t.check(ex6.messages == [want6] and ex6.csum_offloaded == 1, "decoder: IPv6 offloaded checksum accepted, counted")
t.eq(one(tt.LT_RAW, ip4(S4, D4, seg4[:6] + bytes([seg4[6] ^ 1, seg4[7]]) + seg4[8:])), [],
     "decoder: pseudo-header sum off by one bit: rejected")
t.eq(tt.oracle_frames(tt.LT_RAW, [(0, 0, p4)]).csum_offloaded, 0, "decoder: a correct checksum is not 'offloaded'")
kd = tt.oracle(tt.data_path("kdig-knot.pcap"), port=57911)
t.check(kd.responses == 9 and kd.queries == 9 and kd.csum_offloaded == 18,
        "kdig-knot.pcap (loopback, offloaded checksums): 9 responses, 9 queries, 18 offloaded")

# The UDP checksum computed over the routing header's final destination.
rt = b"\x11\x02\x02\x01\0\0\0\0" + S6  # type 2, segments left 1, home address S6
fin = udp6(S6, S6, msg)
t.eq(one(tt.LT_RAW, ip6(S6, D6, fin, nh=43, ext=rt)), [want6], "decoder: IPv6 routing header, final destination")

big = dns_resp(an=40)
fr = ip4(S4, D4, udp4(S4, D4, big))
t.eq(len(one(tt.LT_RAW, fr, max_size=len(big))), 1, "checks: a message of exactly max_size is kept")
t.eq(len(one(tt.LT_RAW, fr, max_size=len(big) - 1)), 0, "checks: one byte more is dropped")
empty = dns_resp(an=0)
t.eq(len(one(tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, empty)), drop_empty=True)), 0, "checks: -D drops empty answer")
tc = empty[:2] + bytes([empty[2] | 0x02]) + empty[3:]
t.eq(len(one(tt.LT_RAW, ip4(S4, D4, udp4(S4, D4, tc)), drop_empty=True)), 1, "checks: -D keeps empty TC answer")
ex1 = tt.oracle_frames(tt.LT_RAW, [(0, 0, ip4(S4, D4, udp4(S4, D4, dns_resp(aa=False))))], auth_only=True)
t.check(ex1.responses == 1 and ex1.drops["not_auth"] == 1 and not ex1.messages,
        "checks: -A drops non-AA, still counted as a response")

# pcap reader: big-endian and nanosecond files
be = os.path.join(work, "be.pcap")
with open(be, "wb") as f:
    f.write(struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
    fr = eth + b"\x08\x00" + p4
    f.write(struct.pack(">IIII", 1, 2, len(fr), len(fr)) + fr)
t.eq(tt.oracle(be).messages, [want4], "pcap reader: big-endian nanosecond file")

# ---------------------------------------------------------------- 4
uc = tt.UDPCollector()
t.info("UDP collector receive buffer: %d bytes" % uc.rcvbuf)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = [tt.MAGIC + struct.pack(">I", i) + bytes(i % 1400) for i in range(5000)]
for m in sent:
    s.sendto(m, ("127.0.0.1", uc.port))
got = uc.wait(count=len(sent), idle=1.0)
t.eq(collections.Counter(got) == collections.Counter(sent), True,
     "UDP collector: 5000 datagrams received exactly (socket drops: %s)" % uc.drops())
uc.close()
s.close()

tc_ = tt.TCPCollector()
c = socket.create_connection(("127.0.0.1", tc_.port))
banner = b""
while not banner.endswith(b"\n"):
    banner += c.recv(100)
t.eq(banner, tt.BANNER, "TCP collector: banner line")
msgs = [tt.MAGIC + b"\x7f\0\0\1" + bytes(range(i % 200)) * 3 for i in range(2000)]
stream = b"".join(struct.pack(">H", len(m)) + m for m in msgs) + b"\x01\x00abc"
for i in range(0, len(stream), 777):
    c.sendall(stream[i:i + 777])
c.close()
tc_.wait_closed(10)
t.eq(tc_.messages == msgs, True, "TCP collector: 2000 messages reassembled in order")
t.eq(tc_.partial, 5, "TCP collector: the incomplete tail is counted as partial")
tc_.kill()

t.eq(tt.parse_stats("x\ntapxfr: stats: received=5 responses=3 forwarded=2 dropped=1 drop_not_auth=1\n"
                    "tapxfr: stats: received=6 responses=4 forwarded=3 dropped=1 drop_x=y\n"),
     {"received": 6, "responses": 4, "forwarded": 3, "dropped": 1, "drop_x": "y"},
     "parse_stats: the last line, ints and strings")
t.done()
