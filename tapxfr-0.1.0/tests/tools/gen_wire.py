#!/usr/bin/env python3
"""gen_wire.py - a pcap of DNS traffic that needs reassembly, and its oracle
(standard library only; DNS messages built with dnsgen.py).

The capture (LINKTYPE_ETHERNET, little-endian, microsecond timestamps,
deterministic for --seed) holds a few clients and servers talking DNS on
port 53 over IPv4 and IPv6. Ordinary unfragmented UDP exchanges
("udp-plain") are interleaved, packet by packet, with the cases below,
each repeated --repeat times (IPv4/IPv6 alternate for the TCP cases):

  UDP responses of 1,300..4,000 bytes (TXT, DNSKEY, RRSIG records) in IP
  fragments of --mtu bytes (IPv4: MF/offset; IPv6: fragment header 44),
  UDP checksum right over the whole datagram:
    ip{4,6}-frag-inorder, -reversed, -shuffled,
    -duplicated (some fragments twice, all before the datagram completes),
    -interleaved (the fragments of two datagrams alternate; 2 responses)
  broken: the datagram must NOT be forwarded
    ip{4,6}-frag-missing    one fragment never sent
    ip{4,6}-frag-overlap    one fragment starts 8..32 bytes early, inside
                            the one before (with the datagram's bytes there
                            or with conflicting ones, alternately)
    ip{4,6}-frag-unaligned  a non-last fragment whose length is not a
                            multiple of 8 (the next one starts on its 8-byte
                            boundary, so 4 identical bytes overlap)
  ip6-frag-atomic           a fragment header with offset 0 and M=0 (RFC
                            6946): an ordinary datagram, MUST be forwarded

  DNS over TCP/53, TCP checksums right:
    tcp-simple      handshake, one query, one response, FIN
    tcp-pipelined   3-5 queries in 1-2 segments, responses in another order
    tcp-split       responses over several segments, one cut between the
                    two bytes of a length prefix, one large response
    tcp-coalesced   several responses in one segment
    tcp-reordered   server segments swapped or reversed on the wire
    tcp-retransmit  segments sent twice, identically (server and client)
    tcp-midstream   no handshake in the capture: it starts with a server
                    segment that holds either the tail of a response (whose
                    first two bytes read as a length below 12, which no DNS
                    message has) or the start of one (variant "boundary")
    tcp-fastopen    the first query in the SYN (TFO cookie option), the
                    SYN-ACK acknowledges it, normal responses
    tcp-rst         ended by an RST after all responses, or by the server's
                    RST after half of the last response
    tcp-loss        a segment in the middle of a large response is missing
                    from the capture (the client acknowledges it: capture
                    loss, not network loss)

What a correct sensor forwards ("responses" in --expected), each exactly
once, is derived here from what was emitted:

  UDP  a response whose datagram is whole: unfragmented, an atomic
       fragment, or all fragments present, none overlapping another
       (identical duplicates are fine), every non-last one a multiple of
       8 bytes long.
  TCP  per direction, the stream offsets whose bytes are in the capture
       (a retransmission adds nothing, reordering changes nothing). A
       message is forwarded when its 2-byte length and all its bytes are
       in the capture and its start can be known: when the handshake is
       captured, the first message starts at offset 0; else (mid-stream)
       the first message whose first length byte is at or after the first
       captured byte; every next message starts where the previous one
       ends, but only while the previous one's length bytes were captured.
       So a response hit by a capture gap is not forwarded, the ones after
       it are; a response cut short by an RST is not forwarded.

Every exchange has a client port of its own, except in captures far
larger than the defaults make (the benchmark's 1M-packet mix): past 48,000
ports in use the UDP exchanges' ports are drawn afresh (never a TCP
connection's), so a port may come back tens of thousands of exchanges
later. The output for given options never changes.

The other responses that appear (in part) are listed under "withheld"
with the reason. Queries are never forwarded (counted only).

--expected FILE (JSON):
  responses  [{hex, len, id, qname, qtype, transport: udp|tcp, family,
               server, port, client, client_port, case, labels, needs:
               none|ipfrag|tcp, frame}]  in order of "frame", the 1-based
               number of the frame that completes the message (its last
               missing piece; after a capture gap a sensor may only see it
               at the end of the connection)
  withheld   the same fields plus "why"
  cases      {case: {occurrences, expected, withheld}}
  counts     totals: expected, expected_udp, expected_tcp, expected_plain
             (needs none: what a sensor without reassembly forwards),
             withheld, queries_udp, queries_tcp (whole, visible queries),
             frames
  options    seed, mtu, repeat, plain

Usage: gen_wire.py --out FILE.pcap --expected FILE.json [--seed S]
                   [--mtu 1280] [--repeat 3] [--plain 150]
"""

import argparse
import collections
import json
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsgen  # noqa: E402

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
BASE_TIME = 1700000000
# Client ports in use at which the UDP ones are released (see World.port).
PORT_REUSE_AT = 48000


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


ROUTER_MAC = mac("00:1b:21:3a:4f:01")


class Host:
    def __init__(self, name, hwaddr, v4, v6, server):
        self.name, self.mac, self.v4, self.v6, self.server = name, hwaddr, v4, v6, server

    def addr(self, family):
        return self.v4 if family == 4 else self.v6


def v6addr(prefix, last):
    return prefix + bytes(14 - len(prefix)) + struct.pack(">H", last)


CLIENTS = [Host("client%d" % i, mac("52:54:00:12:34:%02x" % i), bytes((10, 1, 0, 10 + i)),
                v6addr(b"\x20\x01\x0d\xb8\x00\x0c", 0x10 + i), False) for i in range(4)]
SERVERS = [Host("ns1", mac("3c:fd:fe:a5:12:40"), bytes((192, 0, 2, 53)),
                v6addr(b"\x20\x01\x0d\xb8\x00\x53", 1), True),
           Host("ns2", mac("3c:fd:fe:a5:12:41"), bytes((198, 51, 100, 53)),
                v6addr(b"\x20\x01\x0d\xb8\x00\x53", 2), True),
           Host("resolver", mac("3c:fd:fe:a5:12:42"), bytes((203, 0, 113, 53)),
                v6addr(b"\x20\x01\x0d\xb8\x00\x53", 0x53), True)]


def ntop(family, a):
    return socket.inet_ntop(socket.AF_INET if family == 4 else socket.AF_INET6, a)


# ------------------------------------------------------------ checksums, headers

def cksum(data):
    """Internet checksum (RFC 1071) of data; never 0 (a zero result is sent
    as 0xffff, which UDP needs and which verifies the same elsewhere)."""
    if len(data) & 1:
        data += b"\x00"
    return 0xFFFF - (int.from_bytes(data, "big") % 65535)


def pseudo(family, src, dst, proto, length):
    if family == 4:
        return src + dst + struct.pack(">BBH", 0, proto, length)
    return src + dst + struct.pack(">IxxxB", length, proto)


def udp_datagram(family, src, dst, sport, dport, payload):
    h = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0)
    c = cksum(pseudo(family, src, dst, 17, 8 + len(payload)) + h + payload)
    return h[:6] + struct.pack(">H", c) + payload


def tcp_segment(family, src, dst, sport, dport, seq, ack, flags, payload, opts=b"", win=64240):
    while len(opts) % 4:
        opts += b"\x00"
    doff = (20 + len(opts)) // 4
    h = struct.pack(">HHIIHHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                    (doff << 12) | flags, win, 0, 0) + opts
    c = cksum(pseudo(family, src, dst, 6, len(h) + len(payload)) + h + payload)
    return h[:16] + struct.pack(">H", c) + h[18:] + payload


def ipv4_header(src, dst, proto, plen, ident, mf=0, off8=0, ttl=64):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + plen, ident & 0xFFFF, (mf << 13) | off8,
                    ttl, proto, 0, src, dst)
    return h[:10] + struct.pack(">H", cksum(h)) + h[12:]


def ipv6_header(src, dst, nh, plen, flow=0, hlim=64):
    return struct.pack(">IHBB16s16s", 0x60000000 | flow, plen, nh, hlim, src, dst)


def eth(src_host, dst_host, family, ip):
    """Captured on the servers' segment: clients come through the router."""
    smac = src_host.mac if src_host.server else ROUTER_MAC
    dmac = dst_host.mac if dst_host.server else ROUTER_MAC
    f = dmac + smac + struct.pack(">H", 0x0800 if family == 4 else 0x86DD) + ip
    if len(f) < 60:
        f += bytes(60 - len(f))
    return f


# ------------------------------------------------------------ DNS messages

def with_id(msg, ident):
    return struct.pack(">H", ident) + msg[2:]


def qinfo(msg):
    """(qname text, qtype) of a message with one question."""
    off, labels = 12, []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    qtype = struct.unpack_from(">H", msg, off + 1)[0]
    return ".".join(labels) + ".", qtype


def txt_rdata(rng, n):
    """TXT rdata of exactly n >= 1 bytes: strings of at most 255 bytes."""
    out = bytearray()
    while n > 0:
        c = min(256, n)
        out.append(c - 1)
        out += bytes(dnsgen.B64[int(rng.random() * 64)] for _ in range(c - 1))
        n -= c
    return bytes(out)


class Dns:
    def __init__(self, rng):
        self.rng = rng
        self.g = dnsgen.Generator(rng)

    def small(self, maxlen, role=None):
        """An ordinary (query, response) from dnsgen whose response fits in
        maxlen bytes, with a random ID."""
        r = self.rng
        while True:
            ex = self.g.exchange(role or ("stub" if r.random() < 0.6 else "auth"))
            if len(ex["r"]) <= maxlen:
                i = r.getrandbits(16)
                return with_id(ex["q"], i), with_id(ex["r"], i)

    def big(self, size):
        """A (query, response) whose response is exactly `size` bytes:
        large TXT, DNSKEY or RRSIG-covered records with EDNS (DO, 4096)."""
        r, g = self.rng, self.g
        dom = g.pick(g.domains)
        zone = dom["labels"]
        kind = g.pick(["txt", "dnskey", "rrsig"])
        if kind == "txt":
            qname, qtype = (g.pick(["_spf", "_dmarc", "selector1._domainkey", "big"]),) + zone, dnsgen.T_TXT
            if "." in qname[0]:
                qname = tuple(qname[0].split(".")) + zone
        elif kind == "dnskey":
            qname, qtype = zone, dnsgen.T_DNSKEY
        else:
            qname, qtype = (g.pick(dnsgen.PREFIXES),) + zone, g.pick([dnsgen.T_A, dnsgen.T_AAAA])
        ident = r.getrandbits(16)
        auth = r.random() < 0.6
        q = dnsgen.Msg(0x0000 if auth else 0x0100)
        q.question(qname, qtype)
        q.rr(3, None, dnsgen.T_OPT, 0x8000, dnsgen.rd_bytes(b""), rclass=4096)
        m = dnsgen.Msg(0x8000 | (0x0400 if auth else 0x0180), size - 11)
        m.question(qname, qtype)
        alg = 8
        keytag = r.getrandbits(16)

        def sig(covered):
            return dnsgen.rd_rrsig(covered, alg, len(qname), 3600, BASE_TIME + 86400 * 14,
                                   BASE_TIME - 86400, keytag, zone, 256, r)

        def main_rdata(n=None):
            if qtype == dnsgen.T_TXT:
                return dnsgen.rd_bytes(txt_rdata(r, n if n is not None else 120 + int(r.random() * 600)))
            if qtype == dnsgen.T_DNSKEY:
                klen = (n - 4) if n is not None else g.pick([260, 388, 516])
                return dnsgen.rd_bytes(struct.pack(">HBB", g.pick([256, 257]), 3, alg) + r.randbytes(klen))
            if n is not None:       # an address record cannot stretch: a TXT-like filler
                return None
            return dnsgen.rd_bytes(g.ipv4() if qtype == dnsgen.T_A else g.ipv6())
        ttl = g.ttl()
        while True:
            if qtype in (dnsgen.T_A, dnsgen.T_AAAA) or r.random() < 0.25:
                ok = m.rr(1, qname, dnsgen.T_RRSIG, ttl, sig(qtype))
                if ok and qtype in (dnsgen.T_A, dnsgen.T_AAAA):
                    ok = m.rr(1, qname, qtype, ttl, main_rdata())
            else:
                ok = m.rr(1, qname, qtype, ttl, main_rdata())
            if not ok:
                break
        m.tc = False
        # Fill up to the exact size: compressed owner (2) + 10 + rdata.
        room = size - 11 - len(m.buf) - 12
        if room > 0:
            if qtype == dnsgen.T_TXT or (qtype == dnsgen.T_DNSKEY and room > 4):
                m.rr(1, qname, qtype, ttl, main_rdata(room))
            elif room > 18 + len(dnsgen.name_to_wire(zone)):
                m.rr(1, qname, dnsgen.T_RRSIG, ttl, dnsgen.rd_rrsig(
                    qtype, alg, len(qname), 3600, BASE_TIME + 86400 * 14, BASE_TIME - 86400, keytag,
                    zone, room - 18 - len(dnsgen.name_to_wire(zone)), r))
        m.maxlen = 65535
        m.rr(3, None, dnsgen.T_OPT, 0x8000, dnsgen.rd_bytes(b""), rclass=4096)
        return with_id(q.finish(), ident), with_id(m.finish(), ident)


# ------------------------------------------------------------ the world

class World:
    def __init__(self, seed, mtu):
        self.rng = random.Random(seed)
        self.dns = Dns(self.rng)
        self.mtu = mtu
        self.ipid = {}
        self.ports = set()
        self.tcp_ports = set()
        self.entries = []       # every response that appears, expected or not
        self.queries_udp = 0
        self.queries_tcp = 0
        self.cases = {}

    def occurrence(self, case):
        c = self.cases.setdefault(case, {"occurrences": 0, "expected": 0, "withheld": 0})
        c["occurrences"] += 1

    def frag_unit(self, family):
        return ((self.mtu - (20 if family == 4 else 48)) // 8) * 8

    def mss(self, family):
        return self.mtu - (40 if family == 4 else 60)

    def next_id(self, src, family):
        k = (src, family)
        if k not in self.ipid:
            self.ipid[k] = self.rng.getrandbits(16 if family == 4 else 32)
        self.ipid[k] = (self.ipid[k] + 1) & (0xFFFF if family == 4 else 0xFFFFFFFF)
        return self.ipid[k]

    def port(self, tcp=False):
        """A client port not used before in the capture. Only a capture far
        larger than the defaults make (the benchmark's) uses PORT_REUSE_AT
        ports: then the UDP ones become free again (an exchange tens of
        thousands of exchanges later may reuse one), never a TCP one, so
        that no two TCP connections share their 4-tuple."""
        if len(self.ports) >= PORT_REUSE_AT:
            self.ports = set(self.tcp_ports)
        while True:
            p = 1024 + int(self.rng.random() * 64511)
            if p not in self.ports:
                self.ports.add(p)
                if tcp:
                    self.tcp_ports.add(p)
                return p

    def pick_pair(self):
        return self.rng.choice(CLIENTS), self.rng.choice(SERVERS)

    def ip_packet(self, family, src, dst, proto, l4):
        s, d = src.addr(family), dst.addr(family)
        if family == 4:
            ip = ipv4_header(s, d, proto, len(l4), self.next_id(s, 4)) + l4
        else:
            ip = ipv6_header(s, d, proto, len(l4), self.rng.getrandbits(20)) + l4
        return eth(src, dst, family, ip)

    def fragment_frame(self, family, src, dst, ident, off, data, more, flow=0):
        s, d = src.addr(family), dst.addr(family)
        assert off % 8 == 0
        if family == 4:
            ip = ipv4_header(s, d, 17, len(data), ident, 1 if more else 0, off // 8) + data
        else:
            fh = struct.pack(">BBHI", 17, 0, off | (1 if more else 0), ident)
            ip = ipv6_header(s, d, 44, 8 + len(data), flow) + fh + data
        return eth(src, dst, family, ip)

    def entry(self, case, labels, transport, family, server, client, cport, msg, needs):
        qn, qt = qinfo(msg)
        e = {"hex": msg.hex(), "len": len(msg), "id": struct.unpack_from(">H", msg)[0],
             "qname": qn, "qtype": qt, "transport": transport, "family": family,
             "server": ntop(family, server.addr(family)), "port": 53,
             "client": ntop(family, client.addr(family)), "client_port": cport,
             "case": case, "labels": labels, "needs": needs, "frame": None,
             "expected": False, "why": None}
        self.entries.append(e)
        return e

    def verdict(self, e, expected, why=None):
        e["expected"], e["why"] = expected, why
        self.cases[e["case"]]["expected" if expected else "withheld"] += 1

    def big_size(self, family):
        lo = max(1300, self.mtu - (20 if family == 4 else 40) - 8 + 1)
        return lo + int(self.rng.random() * (4000 - lo + 1))


# A stream is a list of (frame bytes, [entries this frame completes]).

def plain_exchange(w, answered=True):
    w.occurrence("udp-plain")
    family = 6 if w.rng.random() < 0.35 else 4
    cl, sv = w.pick_pair()
    cport = w.port()
    q, r = w.dns.small(w.mtu - 48)
    qdg = udp_datagram(family, cl.addr(family), sv.addr(family), cport, 53, q)
    st = [(w.ip_packet(family, cl, sv, 17, qdg), [])]
    w.queries_udp += 1
    if answered:
        e = w.entry("udp-plain", ["ipv%d" % family], "udp", family, sv, cl, cport, r, "none")
        w.verdict(e, True)
        rdg = udp_datagram(family, sv.addr(family), cl.addr(family), 53, cport, r)
        st.append((w.ip_packet(family, sv, cl, 17, rdg), [e]))
    return st


def split_fragments(dgram, unit):
    """[(offset, bytes, more)] of a UDP datagram in fragments of unit bytes."""
    out = []
    for off in range(0, len(dgram), unit):
        part = dgram[off:off + unit]
        out.append((off, part, off + unit < len(dgram)))
    return out


def frag_datagram(w, family, case, labels, cl, sv, size=None):
    """Query frame, response entry, response datagram, IP ID."""
    cport = w.port()
    q, r = w.dns.big(size or w.big_size(family))
    qf = w.ip_packet(family, cl, sv, 17, udp_datagram(family, cl.addr(family), sv.addr(family), cport, 53, q))
    w.queries_udp += 1
    e = w.entry(case, labels, "udp", family, sv, cl, cport, r, "ipfrag")
    dg = udp_datagram(family, sv.addr(family), cl.addr(family), 53, cport, r)
    return qf, e, dg, w.next_id(sv.addr(family), family)


def frag_case(w, family, kind, k):
    """One occurrence of an ip{4,6}-frag-KIND case."""
    rng = w.rng
    case = "ip%d-frag-%s" % (family, kind)
    w.occurrence(case)
    cl, sv = w.pick_pair()
    unit = w.frag_unit(family)
    labels = ["ipv%d" % family, kind]
    flow = rng.getrandbits(20)

    def frames(pieces, ident):
        return [w.fragment_frame(family, sv, cl, ident, off, data, more, flow) for off, data, more in pieces]

    if kind == "interleaved":
        qa, ea, da, ia = frag_datagram(w, family, case, labels, cl, sv)
        qb, eb, db, ib = frag_datagram(w, family, case, labels, cl, sv)
        fa, fb = frames(split_fragments(da, unit), ia), frames(split_fragments(db, unit), ib)
        if k % 2:
            fb.reverse()
            labels.append("one-reversed")
        st = [(qa, []), (qb, [])]
        seq = []
        for i in range(max(len(fa), len(fb))):
            if i < len(fa):
                seq.append((fa[i], "a"))
            if i < len(fb):
                seq.append((fb[i], "b"))
        last = {"a": max(i for i, x in enumerate(seq) if x[1] == "a"),
                "b": max(i for i, x in enumerate(seq) if x[1] == "b")}
        for i, (f, which) in enumerate(seq):
            done = []
            if i == last["a"]:
                done.append(ea)
            if i == last["b"]:
                done.append(eb)
            st.append((f, done))
        w.verdict(ea, True)
        w.verdict(eb, True)
        return st

    if kind == "atomic":
        cport = w.port()
        q, r = w.dns.small(w.mtu - 56)
        w.queries_udp += 1
        e = w.entry(case, labels, "udp", family, sv, cl, cport, r, "ipfrag")
        dg = udp_datagram(family, sv.addr(family), cl.addr(family), 53, cport, r)
        w.verdict(e, True)
        qdg = udp_datagram(family, cl.addr(family), sv.addr(family), cport, 53, q)
        return [(w.ip_packet(family, cl, sv, 17, qdg), []),
                (w.fragment_frame(family, sv, cl, w.next_id(sv.addr(family), family), 0, dg, False, flow), [e])]

    qf, e, dg, ident = frag_datagram(w, family, case, labels, cl, sv)
    pieces = split_fragments(dg, unit)
    n = len(pieces)
    order = list(range(n))
    expected, why = True, None
    if kind == "reversed":
        order.reverse()
    elif kind == "shuffled":
        while n > 2 and order in (sorted(order), sorted(order, reverse=True)):
            rng.shuffle(order)
        if n == 2:
            order.reverse()
    elif kind == "duplicated":
        if k % 2:
            rng.shuffle(order)
            labels.append("shuffled")
        # Duplicates only before the fragment that completes the datagram:
        # afterwards they would start a new (never completed) datagram.
        for _ in range(1 + int(rng.random() * 2)):
            dup = order[int(rng.random() * (n - 1))] if n > 1 else order[0]
            pos = 1 + int(rng.random() * (len(order) - 1))
            pos = max(pos, order.index(dup) + 1)
            pos = min(pos, len(order) - 1)
            order.insert(pos, dup)
    elif kind == "missing":
        lost = int(rng.random() * n)
        labels.append("lost-first" if lost == 0 else "lost-last" if lost == n - 1 else "lost-middle")
        order.remove(lost)
        if k % 2:
            rng.shuffle(order)
            labels.append("shuffled")
        expected, why = False, "fragment at offset %d never sent" % pieces[lost][0]
    elif kind == "overlap":
        # Fragment i+1 starts 8..32 bytes early, inside fragment i (still on
        # an 8-byte boundary): with the datagram's own bytes there, or with
        # other bytes.
        i = int(rng.random() * (n - 1))
        off, data, more = pieces[i + 1]
        ext = 8 * (1 + int(rng.random() * 4))
        same = k % 2 == 0
        early = dg[off - ext:off]
        if not same:
            early = bytes(b ^ 0x5A for b in early)
        pieces[i + 1] = (off - ext, early + data, more)
        labels.append("same-bytes" if same else "conflicting-bytes")
        if k >= 2:
            rng.shuffle(order)
            labels.append("shuffled")
        expected, why = False, "fragment at offset %d overlaps the one before by %d bytes" % (off - ext, ext)
    elif kind == "unaligned":
        # The first fragment is 4 bytes short of its 8-byte unit; the rest
        # are cut as usual, so the second overlaps it by those 4 bytes.
        first = unit - 4
        pieces = [(0, dg[:first], True)] + [(o, dg[o:o + unit], o + unit < len(dg))
                                               for o in range(unit - 8, len(dg), unit)]
        n = len(pieces)
        order = list(range(n))
        if k % 2:
            order.reverse()
            labels.append("reversed")
        expected, why = False, "non-last fragment of %d bytes (not a multiple of 8)" % first
    fr = frames(pieces, ident)
    st = [(qf, [])]
    for j, idx in enumerate(order):
        st.append((fr[idx], [e] if expected and j == len(order) - 1 else []))
    w.verdict(e, expected, why)
    return st


# ------------------------------------------------------------ TCP

class Conn:
    """One TCP connection: a script of segments, then the capture's view."""

    def __init__(self, w, family, case, labels):
        self.w, self.family, self.case, self.labels = w, family, case, labels
        self.cl, self.sv = w.pick_pair()
        self.cport = w.port(tcp=True)
        self.isn = {"c": w.rng.getrandbits(32), "s": w.rng.getrandbits(32)}
        self.data = {"c": bytearray(), "s": bytearray()}
        self.msgs = {"c": [], "s": []}      # (start, end, entry or None)
        self.events = []                    # dicts: dir, off, len, flags, opts, lost

    def add(self, d, msg, entry=None):
        start = len(self.data[d])
        self.data[d] += struct.pack(">H", len(msg)) + msg
        self.msgs[d].append((start, len(self.data[d]), entry))

    def ev(self, d, flags, off=0, length=0, opts=b"", **kw):
        e = {"dir": d, "flags": flags, "off": off, "len": length, "opts": opts, "lost": False}
        e.update(kw)
        self.events.append(e)
        return e

    def handshake(self, tfo_len=0):
        mss = struct.pack(">BBH", 2, 4, self.w.mss(self.family))
        opts = mss + b"\x04\x02\x01\x03\x03\x07"        # SACK permitted, NOP, window scale 7
        if tfo_len:
            opts += b"\x22\x0a" + self.w.rng.randbytes(8)  # TFO cookie (kind 34)
        self.ev("c", SYN, 0, tfo_len, opts, syn=True)
        self.ev("s", SYN | ACK, 0, 0, mss + b"\x04\x02\x01\x03\x03\x07", syn=True)
        self.ev("c", ACK)

    def send(self, d, off, length):
        self.ev(d, ACK | PSH, off, length)

    def segments(self, d, cuts):
        """Data events for direction d cut at the given stream offsets."""
        total = len(self.data[d])
        pts = sorted(set([0, total] + [c for c in cuts if 0 < c < total]))
        return [(a, b - a) for a, b in zip(pts, pts[1:])]

    def mss_cuts(self, d, spans=None):
        """Cuts at every message boundary and every MSS inside a message."""
        mss = self.w.mss(self.family)
        cuts = []
        for s, e, _ in (spans or self.msgs[d]):
            cuts.append(s)
            cuts += list(range(s + mss, e, mss))
        return cuts

    def close(self, how="fin"):
        if how == "fin":
            self.ev("c", FIN | ACK, fin=True)
            self.ev("s", FIN | ACK, fin=True)
            self.ev("c", ACK)
        elif how == "client-rst":
            self.ev("c", RST | ACK, rst=True)
        elif how == "server-rst":
            self.ev("s", RST | ACK, rst=True)

    # ---- frames and the capture's view ----
    def build(self):
        """Frames of the captured events; the verdicts of the messages."""
        w, fam = self.w, self.family
        host = {"c": self.cl, "s": self.sv}
        port = {"c": self.cport, "s": 53}
        other = {"c": "s", "s": "c"}
        # what each side received (all that was sent: capture loss is not
        # network loss), the end of what each side sent, FIN/SYN state
        recv = {"c": bytearray(len(self.data["s"])), "s": bytearray(len(self.data["c"]))}
        hwm = {"c": 0, "s": 0}
        fin_sent = {"c": False, "s": False}
        syn_sent = {"c": False, "s": False}
        frames = []
        for ev in self.events:
            d, o = ev["dir"], other[ev["dir"]]
            isn = self.isn[d]
            if ev.get("syn"):
                seq = isn
            elif ev["len"]:
                seq = isn + 1 + ev["off"]
            else:
                seq = isn + 1 + hwm[d] + (1 if fin_sent[d] else 0)
            payload = bytes(self.data[d][ev["off"]:ev["off"] + ev["len"]])
            for i in range(ev["off"], ev["off"] + ev["len"]):
                recv[o][i] = 1
            hwm[d] = max(hwm[d], ev["off"] + ev["len"])
            got = recv[d]
            contig = 0
            while contig < len(got) and got[contig]:
                contig += 1
            flags = ev["flags"]
            if syn_sent[o]:
                ack = self.isn[o] + 1 + contig + (1 if fin_sent[o] else 0)
            else:
                ack, flags = 0, flags & ~ACK
            if ev.get("fin"):
                fin_sent[d] = True
            syn_sent[d] = syn_sent[d] or bool(ev.get("syn"))
            seg = tcp_segment(fam, host[d].addr(fam), host[o].addr(fam), port[d], port[o], seq,
                              ack, flags, payload, ev["opts"])
            frames.append((w.ip_packet(fam, host[d], host[o], 6, seg), ev))
        captured = [(f, ev) for f, ev in frames if not ev["lost"]]
        handshake_seen = {d: any(ev.get("syn") and ev["dir"] == d for _, ev in captured) for d in "cs"}
        stream = []
        for d in "cs":
            have = bytearray(len(self.data[d]))
            done_at = {}
            first = None
            for j, (f, ev) in enumerate(captured):
                if ev["dir"] != d or not ev["len"]:
                    continue
                if first is None:
                    first = ev["off"]
                for i in range(ev["off"], ev["off"] + ev["len"]):
                    have[i] = 1
                for mi, (s, e, _) in enumerate(self.msgs[d]):
                    if mi not in done_at and all(have[s:e]):
                        done_at[mi] = j
            pickup = 0 if handshake_seen[d] else (first if first is not None else len(self.data[d]))
            known, started = False, False
            for mi, (s, e, ent) in enumerate(self.msgs[d]):
                if not started and s >= pickup:
                    known = started = True
                whole = all(have[s:e])
                ok = known and whole
                if d == "c":
                    if ok:
                        w.queries_tcp += 1
                else:
                    if ok:
                        w.verdict(ent, True)
                    elif not known:
                        w.verdict(ent, False, "starts before the capture picks the stream up" if s < pickup
                                  else "its start cannot be known (an earlier length prefix is missing)")
                    else:
                        w.verdict(ent, False, "bytes %d..%d of the stream are not all in the capture"
                                  % (s, e))
                    if ok:
                        stream.append((done_at[mi], ent))
                known = known and all(have[s:s + 2])
        out = [(f, []) for f, _ in captured]
        for j, ent in stream:
            out[j][1].append(ent)
        return out


def tcp_case(w, kind, k):
    rng = w.rng
    family = 4 if k % 2 == 0 else 6
    case = "tcp-" + kind
    w.occurrence(case)
    labels = ["ipv%d" % family]
    c = Conn(w, family, case, labels)
    maxsmall = w.mss(family) - 2

    def exchanges(n, big=0):
        pairs = [w.dns.small(maxsmall) for _ in range(n - big)]
        pairs += [w.dns.big(1300 + int(rng.random() * 2700)) for _ in range(big)]
        rng.shuffle(pairs)
        return pairs

    def queries(pairs, nseg=1):
        for q, _ in pairs:
            c.add("c", q)
        segs = c.segments("c", [s for s, _, _ in c.msgs["c"]][1:] if nseg > 1 else [])
        if nseg > 1 and len(segs) > nseg:       # group the queries into nseg segments
            step = (len(segs) + nseg - 1) // nseg
            segs = [(segs[i][0], sum(x[1] for x in segs[i:i + step])) for i in range(0, len(segs), step)]
        for off, ln in segs:
            c.send("c", off, ln)

    def responses(pairs, order=None):
        for i in (order or range(len(pairs))):
            _, r = pairs[i]
            c.add("s", r, w.entry(case, labels, "tcp", family, c.sv, c.cl, c.cport, r, "tcp"))

    def emit_server(segs, ack_each=True):
        for off, ln in segs:
            c.send("s", off, ln)
            if ack_each or rng.random() < 0.5:
                c.ev("c", ACK)

    if kind == "fastopen":
        pairs = exchanges(2)
        c.add("c", pairs[0][0])
        c.handshake(tfo_len=len(c.data["c"]))
        c.events.pop()                                   # the client's ACK comes with data
        c.add("c", pairs[1][0])
        start = c.msgs["c"][1][0]
        c.send("c", start, len(c.data["c"]) - start)
        responses(pairs)
        emit_server(c.segments("s", c.mss_cuts("s")))
        labels.append("data-in-syn")
        c.close()
    elif kind == "midstream":
        boundary = k % 2 == 1
        labels.append("boundary" if boundary else "inside")
        pairs = exchanges(5, big=1)
        c.handshake()
        queries(pairs)
        responses(pairs)
        # the response the capture starts in: a small one (one segment), so
        # that the tail is a single segment and the next response starts
        # the next one
        mss = w.mss(family)
        kk = rng.choice([i for i in (1, 2) if c.msgs["s"][i][1] - c.msgs["s"][i][0] <= mss])
        s, e, _ = c.msgs["s"][kk]
        cuts = c.mss_cuts("s")
        if boundary:
            cut = s
        else:
            msg = c.data["s"][s:e]
            cands = [i for i in range(4, len(msg) - 2) if (msg[i] << 8 | msg[i + 1]) < 12]
            cut = s + rng.choice(cands)
            cuts.append(cut)
        segs = c.segments("s", cuts)
        emit_server(segs)
        # one more query after the pick-up, answered too
        q2, r2 = w.dns.small(maxsmall)
        c.add("c", q2)
        c.send("c", c.msgs["c"][-1][0], len(q2) + 2)
        c.add("s", r2, w.entry(case, labels, "tcp", family, c.sv, c.cl, c.cport, r2, "tcp"))
        s2 = c.msgs["s"][-1][0]
        emit_server([(s2, len(r2) + 2)])
        c.close()
        # the capture starts with the server segment at `cut`
        first = next(i for i, ev in enumerate(c.events) if ev["dir"] == "s" and ev["len"] and ev["off"] == cut)
        for ev in c.events[:first]:
            ev["lost"] = True
    else:
        c.handshake()
        if kind == "simple":
            pairs = exchanges(1)
            queries(pairs)
            responses(pairs)
            emit_server(c.segments("s", c.mss_cuts("s")))
            c.close()
        elif kind == "pipelined":
            pairs = exchanges(3 + int(rng.random() * 3))
            queries(pairs, nseg=1 + k % 2)
            order = list(range(len(pairs)))
            rng.shuffle(order)
            responses(pairs, order)
            emit_server(c.segments("s", c.mss_cuts("s")), ack_each=False)
            c.close()
        elif kind == "split":
            pairs = exchanges(3, big=1)
            queries(pairs)
            responses(pairs)
            cuts = c.mss_cuts("s")
            spans = c.msgs["s"]
            inlen = spans[1 + int(rng.random() * (len(spans) - 1))][0] + 1
            cuts.append(inlen)                      # between the two length bytes
            for s, e, _ in spans:                   # and a few random cuts
                cuts += [s + 2 + int(rng.random() * (e - s - 2)) for _ in range(1 + int(rng.random() * 2))]
            labels.append("cut-in-length")
            emit_server(c.segments("s", cuts), ack_each=False)
            c.close()
        elif kind == "coalesced":
            pairs = exchanges(4 + int(rng.random() * 3))
            queries(pairs, nseg=2)
            responses(pairs)
            mss = w.mss(family)
            # pack whole responses into segments up to the MSS; the last
            # segment of an occurrence with k odd ends inside a response
            cuts, cur = [], 0
            for s, e, _ in c.msgs["s"]:
                if e - cur > mss:
                    cuts.append(s)
                    cur = s
            if k % 2 and len(c.msgs["s"]) > 2:
                s, e, _ = c.msgs["s"][-2]
                cuts.append(s + (e - s) // 2)
                labels.append("ends-inside")
            emit_server(c.segments("s", cuts + c.mss_cuts("s", [m for m in c.msgs["s"] if m[1] - m[0] > mss])))
            c.close()
        elif kind == "reordered":
            pairs = exchanges(3, big=1)
            queries(pairs)
            responses(pairs)
            segs = c.segments("s", c.mss_cuts("s"))
            i = int(rng.random() * (len(segs) - 1))
            if k % 2 and len(segs) >= 3:
                i = min(i, len(segs) - 3)
                segs[i:i + 3] = segs[i:i + 3][::-1]
                labels.append("three-reversed")
            else:
                segs[i], segs[i + 1] = segs[i + 1], segs[i]
                labels.append("swapped")
            emit_server(segs, ack_each=False)
            c.close()
        elif kind == "retransmit":
            pairs = exchanges(3, big=1)
            queries(pairs)
            if k % 2:                               # the query segment again
                c.events.append(dict(c.events[-1]))
                labels.append("query-again")
            responses(pairs)
            segs = c.segments("s", c.mss_cuts("s"))
            i = int(rng.random() * len(segs))
            later = min(len(segs), i + 1 + int(rng.random() * 3))
            segs.insert(later, segs[i])
            emit_server(segs)
            c.close()
        elif kind == "rst":
            pairs = exchanges(3, big=1 if k % 2 else 0)
            queries(pairs)
            responses(pairs)
            segs = c.segments("s", c.mss_cuts("s"))
            if k % 2:
                # the server gives up half-way through the last response
                s, e, _ = c.msgs["s"][-1]
                segs = [x for x in segs if x[0] < s] + [(s, (e - s) // 2)]
                emit_server(segs)
                c.close("server-rst")
                labels.append("server-rst-mid-response")
            else:
                emit_server(segs)
                c.close("client-rst")
                labels.append("client-rst")
        elif kind == "loss":
            pairs = exchanges(4, big=0)
            big = w.dns.big(max(2 * w.mss(family) + 200, 1300 + int(rng.random() * 2700)))
            pairs.insert(1, big)
            queries(pairs)
            responses(pairs)
            segs = c.segments("s", c.mss_cuts("s"))
            s, e, _ = c.msgs["s"][1]
            inside = [x for x in segs if s < x[0] < e]
            lost = rng.choice(inside)
            emit_server(segs)
            c.close()
            for ev in c.events:
                if ev["dir"] == "s" and ev["len"] and ev["off"] == lost[0]:
                    ev["lost"] = True
            labels.append("lost-inside-response")
    return c.build()


# ------------------------------------------------------------ main

FRAG_KINDS = ["inorder", "reversed", "shuffled", "duplicated", "interleaved", "missing", "overlap", "unaligned"]
TCP_KINDS = ["simple", "pipelined", "split", "coalesced", "reordered", "retransmit", "midstream",
             "fastopen", "rst", "loss"]


def generate(seed, mtu, repeat, plain):
    w = World(seed, mtu)
    rng = w.rng
    streams, first = [], []
    for k in range(repeat):
        for fam in (4, 6):
            for kind in FRAG_KINDS:
                streams.append(frag_case(w, fam, kind, k))
        streams.append(frag_case(w, 6, "atomic", k))
        for kind in TCP_KINDS:
            (first if kind == "midstream" else streams).append(tcp_case(w, kind, k))
    for i in range(plain):
        streams.append(plain_exchange(w, answered=rng.random() > 0.03))
    rng.shuffle(streams)
    queue = collections.deque(first + streams)
    active, frames = [], []
    window = 6
    t = BASE_TIME * 1000000
    while queue or active:
        while queue and len(active) < window:
            active.append(list(reversed(queue.popleft())))
        s = active[int(rng.random() * len(active))]
        f, done = s.pop()
        t += 20 + int(rng.random() * 1500)
        frames.append((t, f))
        for e in done:
            e["frame"] = len(frames)
        if not s:
            active.remove(s)
    return w, frames


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, fr in frames:
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(fr), len(fr)))
            f.write(fr)


def expectations(w, frames, args):
    keys = ("hex", "len", "id", "qname", "qtype", "transport", "family", "server", "port",
            "client", "client_port", "case", "labels", "needs", "frame")
    exp = sorted((e for e in w.entries if e["expected"]), key=lambda e: e["frame"])
    wh = [e for e in w.entries if not e["expected"]]
    for e in exp:
        assert e["frame"] is not None, e["case"]
    return {
        "generator": "gen_wire.py",
        "options": {"seed": args.seed, "mtu": args.mtu, "repeat": args.repeat, "plain": args.plain},
        "responses": [{k: (list(e[k]) if k == "labels" else e[k]) for k in keys} for e in exp],
        "withheld": [dict({k: e[k] for k in keys if k != "frame"}, why=e["why"]) for e in wh],
        "cases": dict(sorted(w.cases.items())),
        "counts": {
            "frames": len(frames),
            "expected": len(exp),
            "expected_udp": sum(e["transport"] == "udp" for e in exp),
            "expected_tcp": sum(e["transport"] == "tcp" for e in exp),
            "expected_plain": sum(e["needs"] == "none" for e in exp),
            "withheld": len(wh),
            "queries_udp": w.queries_udp,
            "queries_tcp": w.queries_tcp,
        },
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="the pcap file to write")
    ap.add_argument("--expected", help="the JSON oracle to write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mtu", type=int, default=1280,
                    help="IP MTU: fragment size and TCP MSS (512..3500, default 1280)")
    ap.add_argument("--repeat", type=int, default=3, help="occurrences of each case (default 3)")
    ap.add_argument("--plain", type=int, default=150, help="ordinary UDP exchanges (default 150)")
    args = ap.parse_args()
    if not 512 <= args.mtu <= 3500:
        ap.error("--mtu must be within 512..3500")
    if args.repeat < 1 or args.plain < 0:
        ap.error("--repeat >= 1 and --plain >= 0")
    w, frames = generate(args.seed, args.mtu, args.repeat, args.plain)
    write_pcap(args.out, frames)
    ex = expectations(w, frames, args)
    if args.expected:
        with open(args.expected, "w") as f:
            json.dump(ex, f, indent=1)
            f.write("\n")
    c = ex["counts"]
    print("gen_wire.py: %d frames, %d responses expected (%d udp, %d tcp, %d without reassembly), "
          "%d withheld" % (c["frames"], c["expected"], c["expected_udp"], c["expected_tcp"],
                           c["expected_plain"], c["withheld"]), file=sys.stderr)


if __name__ == "__main__":
    main()
