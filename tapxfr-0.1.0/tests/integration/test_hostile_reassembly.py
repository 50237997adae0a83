#!/usr/bin/env python3
"""Floods against the reassembly tables: they cost only their bounds.

1. 1,000,000 distinct incomplete IPv4 fragments (each the first half of a
   datagram whose second half never comes), then ordinary fragmented DNS
   responses (each in 2 fragments, IPv4 and IPv6), then whole UDP
   responses. tapxfr -r forwards every ordinary response, exactly once and
   byte for byte; its peak RSS stays under the bound documented in the
   README (40 MiB with the default tables and queue); the counters add
   up: frag_fragments == every fragment, frag_reassembled == the ordinary
   datagrams, every flood datagram is evicted or still held
   (frag_evicted + frag_datagrams == 1,000,000 + nothing of the ordinary
   ones left), and received + reassembled == malformed + ignored + held +
   dns_error + queries + responses.
2. 100,000 half-open TCP flows (a SYN each, to port 53 from distinct
   client ports), then ordinary DNS over TCP connections (SYN, response
   in 2 segments, FIN): every ordinary response is forwarded once; the
   flow table stays at --tcp-flows; tcp_evicted == the flows that did not
   fit; RSS under the same bound.
"""
import os
import resource
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

t = tt.Test("hostile reassembly")
tapxfr = tt.tapxfr_bin()
work = tt.tempdir()
RSS_BOUND_KIB = 40 * 1024
FLOOD_FRAGS = 1000000
FLOOD_SYNS = 100000
TCP_FLOWS = 16384  # the default of --tcp-flows


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, v6=False):
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02" + (b"\x86\xdd" if v6 else b"\x08\x00") + payload


def ipv4(src, dst, proto, payload, ident=0, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                    src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload


def l4_sum(src, dst, proto, seg):
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return csum(pseudo + seg)


def udp(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = l4_sum(src, dst, 17, seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp(src, dst, sport, dport, seq, flags, data=b""):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 0x50, flags, 65535, 0, 0) + data
    return seg[:16] + struct.pack("!H", l4_sum(src, dst, 6, seg)) + seg[18:]


def response(ident, size):
    """A DNS response (QR, AA) with one TXT answer of about size bytes."""
    qname = b"\x03big\x07example\x00"
    rdata = b""
    left = size
    while left > 0:
        n = min(255, left)
        rdata += bytes([n]) + bytes([0x61 + (ident + len(rdata)) % 26]) * n
        left -= n + 1
    return (struct.pack("!HHHHHH", ident & 0xFFFF, 0x8400, 1, 1, 0, 0) + qname +
            struct.pack("!HH", 16, 1) + b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 300, len(rdata)) +
            rdata)


class Pcap:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.n = 0

    def add(self, frame, usec):
        self.f.write(struct.pack("<IIII", 1700000000 + usec // 1000000, usec % 1000000,
                                 len(frame), len(frame)))
        self.f.write(frame)
        self.n += 1

    def close(self):
        self.f.close()


SRV4, CLI4 = bytes([192, 0, 2, 53]), bytes([198, 51, 100, 7])
SRV6, CLI6 = bytes.fromhex("20010db8000000000000000000000053"), bytes.fromhex("20010db8000000000000000000000007")


def run(pcap, want, extra=()):
    col = tt.TCPCollector()
    r = tt.Run(["-r", pcap, "--collector", "tcp://127.0.0.1:%d" % col.port] + list(extra))
    rc = r.wait(180)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    t.eq(rc, 0, "tapxfr -r exits 0")
    col.wait_closed(10) if hasattr(col, "wait_closed") else None
    got = col.messages
    t.check(got == want, "exactly the ordinary responses, once each, byte for byte (%d)" % len(want),
            tt.first_order_diff(got, want))
    col.kill()
    return r.stats, ru.ru_maxrss


def accounting(st, what):
    lhs = st["received"] + st["reassembled"]
    rhs = sum(st[k] for k in ("malformed", "ignored", "held", "dns_error", "queries", "responses"))
    t.eq(lhs, rhs, "%s: received + reassembled == malformed + ignored + held + dns_error + "
         "queries + responses" % what)


# ------------------------------------------------------------ 1. fragments
frag_pcap = os.path.join(work, "frag-flood.pcap")
p = Pcap(frag_pcap)
t0 = time.time()
usec = 0
for i in range(FLOOD_FRAGS):
    src = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
    # the first 8 bytes of a UDP datagram that says it is longer: MF set
    p.add(eth(ipv4(src, CLI4, 17, struct.pack("!HHHH", 53, 40000, 1208, 0), i & 0xFFFF, 0x2000)),
          usec)
    usec += 1
want = []
ordinary = 0
for i in range(200):
    msg = response(i, 1300 + 10 * i)
    want.append(b"DNSXFR01" + (SRV4 if i % 2 == 0 else b"\0\0\0\0") + msg)
    if i % 2 == 0:
        d = udp(SRV4, CLI4, 53, 30000 + i, msg)
        cut = 1200
        p.add(eth(ipv4(SRV4, CLI4, 17, d[:cut], 40000 + i, 0x2000)), usec)
        p.add(eth(ipv4(SRV4, CLI4, 17, d[cut:], 40000 + i, cut // 8)), usec + 1)
    else:
        d = udp(SRV6, CLI6, 53, 30000 + i, msg)
        cut = 1200
        fh = lambda off, m: struct.pack("!BBHI", 17, 0, off | m, 7000 + i)  # noqa: E731
        p.add(eth(ipv6(SRV6, CLI6, 44, fh(0, 1) + d[:cut]), True), usec)
        p.add(eth(ipv6(SRV6, CLI6, 44, fh(cut, 0) + d[cut:]), True), usec + 1)
    ordinary += 1
    usec += 2
for i in range(50):
    msg = response(1000 + i, 100)
    want.append(b"DNSXFR01" + SRV4 + msg)
    p.add(eth(ipv4(SRV4, CLI4, 17, udp(SRV4, CLI4, 53, 20000 + i, msg))), usec)
    usec += 1
p.close()
t.info("fragment flood: %d packets written in %.1f s" % (p.n, time.time() - t0))

st, rss = run(frag_pcap, want)
if t.check(st is not None, "fragment flood: a stats line"):
    t.eq(st.get("frag_fragments"), FLOOD_FRAGS + 2 * ordinary, "frag_fragments == every fragment")
    t.eq(st.get("frag_reassembled"), ordinary, "frag_reassembled == the ordinary datagrams")
    t.eq(st.get("frag_evicted", 0) + st.get("frag_timed_out", 0) + st.get("frag_datagrams", 0),
         FLOOD_FRAGS, "every flood datagram was evicted, timed out or is still held")
    t.eq(st.get("responses"), len(want), "responses == the ordinary responses")
    t.eq(st.get("forwarded"), len(want), "forwarded == the ordinary responses")
    accounting(st, "fragment flood")
t.check(rss < RSS_BOUND_KIB, "fragment flood: peak RSS %d KiB < %d KiB" % (rss, RSS_BOUND_KIB))

# ------------------------------------------------------------ 2. half-open TCP
syn_pcap = os.path.join(work, "syn-flood.pcap")
p = Pcap(syn_pcap)
usec = 0
for i in range(FLOOD_SYNS):
    cli = bytes([10, 1, (i >> 8) & 0xFF, i & 0xFF])
    sport = 1024 + (i % 60000)
    p.add(eth(ipv4(cli, SRV4, 6, tcp(cli, SRV4, sport, 53, 1000 + i, 0x02))), usec)
    usec += 1
want = []
for i in range(100):
    msg = response(2000 + i, 200 + 7 * i)
    want.append(b"DNSXFR01" + SRV4 + msg)
    cport, isn, sisn = 50000 + i, 7000 * i, 9000 * i
    data = struct.pack("!H", len(msg)) + msg
    p.add(eth(ipv4(CLI4, SRV4, 6, tcp(CLI4, SRV4, cport, 53, isn, 0x02))), usec)
    p.add(eth(ipv4(SRV4, CLI4, 6, tcp(SRV4, CLI4, 53, cport, sisn, 0x12))), usec + 1)
    p.add(eth(ipv4(SRV4, CLI4, 6, tcp(SRV4, CLI4, 53, cport, sisn + 1, 0x18, data[:100]))), usec + 2)
    p.add(eth(ipv4(SRV4, CLI4, 6, tcp(SRV4, CLI4, 53, cport, sisn + 101, 0x18, data[100:]))),
          usec + 3)
    p.add(eth(ipv4(SRV4, CLI4, 6, tcp(SRV4, CLI4, 53, cport, sisn + 1 + len(data), 0x11))),
          usec + 4)
    usec += 5
p.close()

st, rss = run(syn_pcap, want)
if t.check(st is not None, "SYN flood: a stats line"):
    t.eq(st.get("responses"), len(want), "responses == the ordinary responses")
    t.eq(st.get("forwarded"), len(want), "forwarded == the ordinary responses")
    t.check(st.get("tcp_active", 0) <= TCP_FLOWS, "tcp_active %r <= --tcp-flows %d"
            % (st.get("tcp_active"), TCP_FLOWS))
    t.check(st.get("tcp_evicted", 0) >= FLOOD_SYNS - TCP_FLOWS,
            "tcp_evicted %r >= the flood flows that did not fit (%d)"
            % (st.get("tcp_evicted"), FLOOD_SYNS - TCP_FLOWS))
    t.eq(st.get("tcp_messages"), len(want), "tcp_messages == the ordinary responses")
    accounting(st, "SYN flood")
t.check(rss < RSS_BOUND_KIB, "SYN flood: peak RSS %d KiB < %d KiB" % (rss, RSS_BOUND_KIB))
t.done()
