#!/usr/bin/env python3
"""gen_spoof.py - a pcap of DNS traffic with spoofed responses, and the
oracle of query/response matching (RFC 5452) for it (standard library
only; DNS messages from dnsgen.py, packet builders from gen_wire.py).

The capture (LINKTYPE_ETHERNET, little-endian, microsecond timestamps,
strictly increasing, deterministic for --seed) holds clients querying
resolvers (and resolvers querying authoritative servers) over UDP/53 and
TCP/53, IPv4 and IPv6, with correct IP, UDP and TCP checksums. TCP
connections have SYN, SYN-ACK, ACK, data, ACKs, FIN/ACK both ways; DNS
messages on them carry the 2-byte length (RFC 1035 4.2.2), each response
in one segment (two in one segment for some pipelined connections).

Cases, each --repeat times (IPv4 for even, IPv6 for odd occurrences),
scenarios interleaved in time, among --plain ordinary UDP exchanges:

  case             frames (after the query unless told)       verdicts
  udp-plain        genuine response                           matched
  wrong-id         spoof with another DNS ID, then genuine    unmatched, matched
  wrong-port       spoof to another client port, genuine      unmatched, matched
  wrong-server     spoof from another server address, genuine unmatched, matched
  wrong-qname      spoof with another question name, genuine  unmatched, matched
  wrong-qtype      spoof with another question type, genuine  unmatched, matched
  wrong-qclass     spoof with another question class, genuine unmatched, matched
  wrong-transport  TCP query; a UDP spoof with the same
                   addresses, ports, ID and question; the
                   genuine TCP response                       unmatched, matched
  before-query     spoof (right key and question) BEFORE the
                   query, then the query, then genuine        unmatched, matched
  duplicate        genuine, then a second response (an exact
                   copy for even occurrences, a spoof with the
                   same question for odd ones) 0.1-0.5 s later matched, duplicate
  late             the genuine response 15-17 s (packet time)
                   after its query                            unmatched; the
                                                              query unanswered
  unanswered       no response at all                         query unanswered
  case-0x20        query name in random case, the response's
                   in another case (same name)                matched
  qd0-rcode        response without a question (QDCOUNT 0),
                   RCODE FORMERR, SERVFAIL, NOTIMP, REFUSED in
                   turn (key alone), twice per round          matched
  qd0-noerror      QDCOUNT 0 NOERROR response, then genuine   unmatched, matched
  tcp-simple       one query on a TCP connection              matched
  tcp-pipelined    3-5 queries in 1-2 segments on one
                   connection, answered in another order
                   (odd occurrences: two responses coalesced
                   in one segment)                            all matched

Spoofs carry an answer that points to 198.18.x.y (the genuine ones come
from dnsgen), and AA on every other one. Genuine responses come 2-80 ms
after the query, spoofs in between.

Matching rules the oracle implements (what tapxfr --match must do):

  key       (transport, client address, client port, server address,
            server port, DNS ID); a query's client is its source, a
            response's client is its destination.
  question  (name compared case-insensitively, type, class) of the first
            question; a message with QDCOUNT 0 has none.
  query     (QR clear) goes into the table: match_queries += 1.
  response  (QR set), after expiring the entries older than the timeout:
            a table entry with the same key and question (a response
            without a question: the same key, and only when its RCODE is
            FORMERR 1, SERVFAIL 2, NOTIMP 4 or REFUSED 5) that is still
            unanswered -> match_matched (the first matching response wins
            and removes the entry); one that was already answered (within
            the timeout) -> match_duplicates; none -> match_unmatched.
            Every response is exactly one of the three.
  expiry    an entry older than --match-timeout (10 s, packet time) goes;
            if it was never answered: match_unanswered += 1.
  off       nothing is counted (match_* are 0 or absent), all forwarded.
  count     everything is forwarded; drop_unmatched = 0.
  require   only matched responses are forwarded; the rest (unmatched
            and duplicates) are dropped: drop_unmatched = unmatched +
            duplicates.

The capture avoids what the rules leave open: no two queries share a
key and question, no response comes near (8..12 s after) a query of its
key, every unanswered query is followed by at least 14 s of traffic (so
its expiry happens within the capture; nothing is left for the end of
input), no QDCOUNT-0 response meets an answered entry, the table never
holds more than a few hundred entries (match_evicted = 0).

The oracle does not trust the construction: it reads the written pcap
back (Ethernet, IPv4/IPv6 with header checksum, UDP and TCP checksums,
TCP streams reassembled from sequence numbers), runs the rules above
over the DNS messages in capture order, and asserts that every verdict is
the one the case intended (exit 1 otherwise). `--check` re-reads an
existing pcap and --expected file and verifies them the same way.

--expected FILE (JSON):
  modes      {"off"|"count"|"require": {"forward": [DNSXFR01 hex, in
             order], "counters": {match_queries, match_matched,
             match_unmatched, match_duplicates, match_unanswered,
             match_evicted, drop_unmatched, responses, forwarded,
             queries}}}
  require    the genuine responses --match require forwards, in capture
             order: [{hex (DNS message), dnsxfr (the DNSXFR01 record),
             frame, transport, family, server, client, client_port, id,
             case}]
  responses  every response in capture order, with "verdict"
  cases      {case: {occurrences, matched, unmatched, duplicate,
             unanswered}}
  options    seed, repeat, plain, timeout

Usage: gen_spoof.py --out FILE.pcap --expected FILE.json [--seed S]
                    [--repeat 3] [--plain 120]
       gen_spoof.py --check --out FILE.pcap --expected FILE.json
"""

import argparse
import json
import os
import random
import socket
import struct
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dnsgen  # noqa: E402
import gen_wire as gw  # noqa: E402

TIMEOUT = 10.0
BASE_US = gw.BASE_TIME * 1000000
MAGIC = b"DNSXFR01"
KEY_RCODES = (5, 2, 1, 4)          # REFUSED, SERVFAIL, FORMERR, NOTIMP
FIN, SYN, PSH, ACK = gw.FIN, gw.SYN, gw.PSH, gw.ACK
MSS = {4: 1460, 6: 1440}


def host(name, mac_last, v4, v6, server):
    return gw.Host(name, gw.mac("3c:fd:fe:a5:13:%02x" % mac_last) if server
                   else gw.mac("52:54:00:99:00:%02x" % mac_last),
                   bytes(v4), gw.v6addr(b"\x20\x01\x0d\xb8" + bytes(v6), mac_last), server)


CLIENTS = [host("client%d" % i, 0x10 + i, (10, 20, 0, 10 + i), (0, 0x20), False) for i in range(6)]
RESOLVERS = [host("resolver%d" % i, 0x50 + i, (192, 0, 2, 53 + i), (0, 0x53), True) for i in range(3)]
AUTHS = [host("auth%d" % i, 0x60 + i, (198, 51, 100, 10 + i), (0, 0x60), True) for i in range(3)]
# spoofers: somewhere beyond the router
ATTACKERS = [host("attacker%d" % i, 0x70 + i, (203, 0, 113, 66 + i), (0, 0x66), False) for i in range(2)]


# ------------------------------------------------------------ DNS helpers

def question_of(msg):
    """(labels tuple, qtype, qclass, end offset) of the first question, or
    None when QDCOUNT is 0. Follows compression pointers."""
    if struct.unpack_from(">H", msg, 4)[0] == 0:
        return None
    off, labels, end, hops = 12, [], None, 0
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            assert hops < 64
            continue
        if n == 0:
            if end is None:
                end = off + 1
            break
        labels.append(msg[off + 1:off + 1 + n])
        off += 1 + n
    qtype, qclass = struct.unpack_from(">HH", msg, end)
    return tuple(labels), qtype, qclass, end + 4


def qkey(msg):
    q = question_of(msg)
    if q is None:
        return None
    return (b".".join(lab.lower() for lab in q[0]), q[1], q[2])


def with_id(msg, ident):
    return struct.pack(">H", ident) + msg[2:]


def recase(msg, rng, avoid=None):
    """msg with the letters of its first question name (at offset 12,
    uncompressed) in random case, different from `avoid` (a message)."""
    q = question_of(msg)
    end = q[3] - 4
    letters = [i for i in range(12, end) if chr(msg[i]).isalpha() and not _is_len_byte(msg, i)]
    assert letters
    while True:
        b = bytearray(msg)
        for i in letters:
            c = chr(b[i])
            b[i] = ord(c.upper() if rng.random() < 0.5 else c.lower())
        if avoid is None or b[12:end] != avoid[12:end]:
            return bytes(b)


def _is_len_byte(msg, i):
    off = 12
    while msg[off]:
        if off == i:
            return True
        off += 1 + msg[off]
    return off == i


def make_response(ident, flags, labels, qtype, qclass, addr=None):
    """A response with one question (or none: labels None) and an A record."""
    m = dnsgen.Msg(flags)
    if labels is not None:
        m.question(tuple(lab.decode() if isinstance(lab, bytes) else lab for lab in labels), qtype, qclass)
        if addr is not None:
            m.rr(1, tuple(lab.decode() if isinstance(lab, bytes) else lab for lab in labels),
                 dnsgen.T_A, 300, dnsgen.rd_bytes(addr))
    return with_id(m.finish(), ident)


# ------------------------------------------------------------ the world

class World:
    def __init__(self, seed, repeat, plain):
        self.rng = random.Random(seed)
        self.g = dnsgen.Generator(self.rng)
        self.repeat, self.plain = repeat, plain
        self.ports = set()
        self.ipid = {}
        self.spoofno = 0
        self.frames = []          # (time_us, seq, frame bytes, [intent])
        self.seq = 0
        self.intents = []         # every DNS message: dict
        self.cases = {}

    # ---- bookkeeping
    def port(self):
        while True:
            p = 1024 + int(self.rng.random() * 64511)
            if p not in self.ports:
                self.ports.add(p)
                return p

    def occurrence(self, case):
        self.cases.setdefault(case, {"occurrences": 0, "matched": 0, "unmatched": 0, "duplicate": 0,
                                     "unanswered": 0})["occurrences"] += 1

    def intent(self, case, kind, verdict, msg, transport, family, src, dst, sport, dport):
        """kind: query | response; verdict: answered | unanswered (queries),
        matched | unmatched | duplicate (responses)."""
        it = {"case": case, "kind": kind, "verdict": verdict, "msg": msg, "transport": transport,
              "family": family, "src": src.addr(family), "dst": dst.addr(family), "sport": sport,
              "dport": dport}
        self.intents.append(it)
        return it

    def exchange(self, role=None):
        """(query, response, qlabels-str, qtype, qclass) from dnsgen, random ID."""
        r = self.rng
        while True:
            ex = self.g.exchange(role or ("stub" if r.random() < 0.7 else "auth"))
            if len(ex["r"]) <= 1400:
                break
        i = r.getrandbits(16)
        q, resp = with_id(ex["q"], i), with_id(ex["r"], i)
        return q, resp, ex["role"]

    def pair(self, role):
        if role == "stub":
            return self.rng.choice(CLIENTS), self.rng.choice(RESOLVERS)
        return self.rng.choice(RESOLVERS), self.rng.choice(AUTHS)

    def spoof_addr(self):
        self.spoofno += 1
        return bytes((198, 18, (self.spoofno >> 8) & 0xFF, self.spoofno & 0xFF))

    # ---- frames
    def ip_packet(self, family, src, dst, proto, l4):
        s, d = src.addr(family), dst.addr(family)
        if family == 4:
            k = s
            self.ipid[k] = (self.ipid.get(k, self.rng.getrandbits(16)) + 1) & 0xFFFF
            ip = gw.ipv4_header(s, d, proto, len(l4), self.ipid[k]) + l4
        else:
            ip = gw.ipv6_header(s, d, proto, len(l4), self.rng.getrandbits(20)) + l4
        return gw.eth(src, dst, family, ip)

    def emit(self, t_us, frame, intents=()):
        self.seq += 1
        self.frames.append((t_us, self.seq, frame, list(intents)))

    def udp(self, t_us, case, kind, verdict, family, src, dst, sport, dport, msg):
        it = self.intent(case, kind, verdict, msg, "udp", family, src, dst, sport, dport)
        dg = gw.udp_datagram(family, src.addr(family), dst.addr(family), sport, dport, msg)
        self.emit(t_us, self.ip_packet(family, src, dst, 17, dg), [it])
        return it


class Tcp:
    """One TCP connection, written segment by segment."""

    def __init__(self, w, family, cl, sv, cport):
        self.w, self.family, self.cl, self.sv, self.cport = w, family, cl, sv, cport
        self.seq = {"c": w.rng.getrandbits(32), "s": w.rng.getrandbits(32)}
        self.ack = {"c": 0, "s": 0}

    def seg(self, t_us, d, flags, payload=b"", intents=(), opts=b""):
        w, fam = self.w, self.family
        src, dst = (self.cl, self.sv) if d == "c" else (self.sv, self.cl)
        sport, dport = (self.cport, 53) if d == "c" else (53, self.cport)
        o = "s" if d == "c" else "c"
        ack = self.seq[o] if flags & ACK else 0
        s = gw.tcp_segment(fam, src.addr(fam), dst.addr(fam), sport, dport, self.seq[d], ack, flags,
                           payload, opts)
        self.seq[d] = (self.seq[d] + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        w.emit(t_us, w.ip_packet(fam, src, dst, 6, s), intents)

    def handshake(self, t_us, rtt):
        mss = struct.pack(">BBH", 2, 4, MSS[self.family])
        self.seg(t_us, "c", SYN, opts=mss + b"\x04\x02\x01\x03\x03\x07")
        self.seg(t_us + rtt, "s", SYN | ACK, opts=mss + b"\x04\x02\x01\x03\x03\x07")
        self.seg(t_us + rtt + 30, "c", ACK)
        return t_us + rtt + 60

    def close(self, t_us, rtt):
        self.seg(t_us, "c", FIN | ACK)
        self.seg(t_us + rtt, "s", FIN | ACK)
        self.seg(t_us + rtt + 40, "c", ACK)


def tcp_intent(w, case, kind, verdict, c, msg):
    fam = c.family
    if kind == "query":
        return w.intent(case, kind, verdict, msg, "tcp", fam, c.cl, c.sv, c.cport, 53)
    return w.intent(case, kind, verdict, msg, "tcp", fam, c.sv, c.cl, 53, c.cport)


def lp(msg):
    return struct.pack(">H", len(msg)) + msg


# ------------------------------------------------------------ cases

UDP_SPOOFS = ["wrong-id", "wrong-port", "wrong-server", "wrong-qname", "wrong-qtype", "wrong-qclass"]
CASES = (["udp-plain"] + UDP_SPOOFS + ["wrong-transport", "before-query", "duplicate", "late",
                                       "unanswered", "case-0x20", "qd0-rcode", "qd0-noerror",
                                       "tcp-simple", "tcp-pipelined"])


def scenario(w, case, k, t0):
    """Emits one occurrence of case starting at t0 (microseconds)."""
    rng = w.rng
    w.occurrence(case)
    family = 4 if k % 2 == 0 else 6
    role = "stub" if rng.random() < 0.7 else "auth"
    cl, sv = w.pair(role)
    rtt = 2000 + int(rng.random() * 78000)

    if case in ("tcp-simple", "tcp-pipelined", "wrong-transport"):
        c = Tcp(w, family, cl, sv, w.port())
        t = c.handshake(t0, rtt)
        n = 1 if case != "tcp-pipelined" else 3 + int(rng.random() * 3)
        pairs = [w.exchange(role) for _ in range(n)]
        qs = [lp(q) for q, _, _ in pairs]
        splits = [0, n] if n == 1 or k % 2 == 0 else [0, 1 + int(rng.random() * (n - 1)), n]
        for a, b in zip(splits, splits[1:]):
            its = [tcp_intent(w, case, "query", "answered", c, pairs[i][0]) for i in range(a, b)]
            c.seg(t, "c", PSH | ACK, b"".join(qs[a:b]), its)
            t += 100 + int(rng.random() * 300)
        t += rtt // 3
        c.seg(t, "s", ACK)
        if case == "wrong-transport":
            q, r, _ = pairs[0]
            ql, qt, qc, _ = question_of(q)
            spoof = make_response(struct.unpack_from(">H", q)[0], 0x8180 | (0x0400 if k % 2 == 0 else 0),
                                  ql, qt, qc, w.spoof_addr())
            w.udp(t + 200, case, "response", "unmatched", family, sv, cl, 53, c.cport, spoof)
        order = list(range(n))
        while n > 1 and order == sorted(order):
            rng.shuffle(order)
        t += rtt // 2
        groups = [[i] for i in order]
        if case == "tcp-pipelined" and k % 2 == 1:
            merged = [groups[0] + groups[1]] + groups[2:]
            if sum(len(pairs[i][1]) + 2 for i in merged[0]) <= MSS[family]:
                groups = merged
        for grp in groups:
            its = [tcp_intent(w, case, "response", "matched", c, pairs[i][1]) for i in grp]
            c.seg(t, "s", PSH | ACK, b"".join(lp(pairs[i][1]) for i in grp), its)
            t += 300 + int(rng.random() * 2000)
            if rng.random() < 0.7:
                c.seg(t, "c", ACK)
                t += 100
        c.close(t + 20000, rtt)
        return

    q, r, _ = w.exchange(role)
    ident = struct.unpack_from(">H", q)[0]
    ql, qt, qc, _ = question_of(q)
    cport = w.port()
    rflags = struct.unpack_from(">H", r, 2)[0]
    sflags = (rflags & 0x0100) | 0x8080 | (0x0400 if k % 2 == 0 else 0)   # spoof: RD echoed, RA, AA
    tq = t0
    tr = t0 + rtt

    def query(verdict="answered", t=tq, msg=q):
        w.udp(t, case, "query", verdict, family, cl, sv, cport, 53, msg)

    def answer(verdict="matched", t=tr, msg=r):
        w.udp(t, case, "response", verdict, family, sv, cl, 53, cport, msg)

    def spoof_between(msg, src=sv, dport=None):
        w.udp(tq + 1 + int(rng.random() * (rtt - 2)), case, "response", "unmatched", family, src, cl, 53,
              dport or cport, msg)

    if case == "udp-plain":
        query()
        answer()
    elif case in UDP_SPOOFS:
        query()
        sid, sl, st, sc, src, dport = ident, ql, qt, qc, sv, cport
        if case == "wrong-id":
            sid = (ident + 1 + int(rng.random() * 65534)) & 0xFFFF
        elif case == "wrong-port":
            dport = w.port()
        elif case == "wrong-server":
            others = [h for h in RESOLVERS + AUTHS if h is not sv]
            src = rng.choice(others + ATTACKERS)
        elif case == "wrong-qname":
            sl = (b"x" + (sl[0] if sl else b"evil"),) + tuple(sl[1:]) if rng.random() < 0.5 \
                else (b"attacker",) + tuple(sl)
        elif case == "wrong-qtype":
            st = dnsgen.T_AAAA if qt == dnsgen.T_A else dnsgen.T_A
        elif case == "wrong-qclass":
            sc = 3 if qc == 1 else 1
        spoof_between(make_response(sid, sflags, sl, st, sc, w.spoof_addr()), src, dport)
        answer()
    elif case == "before-query":
        w.udp(tq - 200 - int(rng.random() * 30000), case, "response", "unmatched", family, sv, cl, 53, cport,
              make_response(ident, sflags, ql, qt, qc, w.spoof_addr()))
        query()
        answer()
    elif case == "duplicate":
        query()
        answer()
        second = r if k % 2 == 0 else make_response(ident, sflags, ql, qt, qc, w.spoof_addr())
        answer("duplicate", tr + 100000 + int(rng.random() * 400000), second)
    elif case == "late":
        query("unanswered")
        answer("unmatched", tq + 15000000 + int(rng.random() * 2000000))
    elif case == "unanswered":
        query("unanswered")
    elif case == "case-0x20":
        q2 = recase(q, rng)
        r2 = recase(r, rng, avoid=q2)
        end = question_of(q2)[3]
        assert qkey(q2) == qkey(r2) == qkey(q) and q2[12:end] != r2[12:end]
        query(msg=q2)
        answer(msg=r2)
    elif case == "qd0-rcode":
        rc = KEY_RCODES[(w.cases[case]["occurrences"] - 1) % 4]
        query()
        answer(msg=with_id(dnsgen.Msg((rflags & 0x0100) | 0x8080 | rc).finish(), ident))
    elif case == "qd0-noerror":
        query()
        spoof_between(with_id(dnsgen.Msg(sflags).finish(), ident))
        answer()
    else:
        raise ValueError(case)


def generate(seed, repeat, plain):
    w = World(seed, repeat, plain)
    rng = w.rng
    # qd0-rcode twice per round, so that 2 rounds see all four RCODEs
    todo = [(c, k) for k in range(repeat) for c in CASES + ["qd0-rcode"] if c != "udp-plain"]
    todo += [("udp-plain", int(rng.random() * 2)) for _ in range(plain)]
    rng.shuffle(todo)
    t = BASE_US + 1000000
    for case, k in todo:
        scenario(w, case, k, t)
        t += 50000 + int(rng.random() * 350000)
    # the tail: ordinary exchanges until every unanswered query is 14 s old
    last_q = max(ft for ft, _, _, its in w.frames if any(i["verdict"] == "unanswered" for i in its))
    end = max(max(ft for ft, _, _, _ in w.frames), last_q + 14000000)
    while t < end:
        scenario(w, "udp-plain", int(rng.random() * 2), t)
        t += 200000 + int(rng.random() * 400000)
    w.frames.sort(key=lambda f: (f[0], f[1]))
    # strictly increasing timestamps
    out, prev = [], 0
    for ft, _, fr, its in w.frames:
        ft = max(ft, prev + 1)
        prev = ft
        out.append((ft, fr, its))
    return w, out


# ------------------------------------------------------------ the oracle (reads the pcap)

def read_pcap(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic, _, _, _, _, _, link = struct.unpack_from("<IHHiIII", raw, 0)
    assert magic == 0xA1B2C3D4 and link == 1, "not a little-endian microsecond Ethernet pcap"
    off, out = 24, []
    while off < len(raw):
        sec, usec, caplen, orig = struct.unpack_from("<IIII", raw, off)
        off += 16
        assert caplen == orig
        out.append((sec * 1000000 + usec, raw[off:off + caplen]))
        off += caplen
    return out


def fold(data):
    if len(data) & 1:
        data += b"\x00"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def decode(frames):
    """[(frame number, time_us, transport, family, src, sport, dst, dport,
    dns message)] of the DNS messages in the capture, in capture order
    (a TCP message at the frame that completes it)."""
    msgs, flows = [], {}
    for n, (t, f) in enumerate(frames, 1):
        et = struct.unpack_from(">H", f, 12)[0]
        p = f[14:]
        if et == 0x0800:
            fam, ihl, tot = 4, (p[0] & 15) * 4, struct.unpack_from(">H", p, 2)[0]
            assert p[0] >> 4 == 4 and fold(p[:ihl]) == 0xFFFF, "frame %d: IPv4 header checksum" % n
            assert struct.unpack_from(">H", p, 6)[0] & 0x3FFF == 0
            proto, src, dst, l4 = p[9], p[12:16], p[16:20], p[ihl:tot]
            ph = src + dst + struct.pack(">BBH", 0, proto, len(l4))
        elif et == 0x86DD:
            fam, plen = 6, struct.unpack_from(">H", p, 4)[0]
            proto, src, dst, l4 = p[6], p[8:24], p[24:40], p[40:40 + plen]
            ph = src + dst + struct.pack(">IxxxB", len(l4), proto)
        else:
            raise AssertionError("frame %d: ethertype %04x" % (n, et))
        assert fold(ph + l4) == 0xFFFF, "frame %d: L4 checksum" % n
        sport, dport = struct.unpack_from(">HH", l4, 0)
        if proto == 17:
            assert struct.unpack_from(">H", l4, 4)[0] == len(l4)
            msgs.append((n, t, "udp", fam, src, sport, dst, dport, bytes(l4[8:])))
            continue
        assert proto == 6, "frame %d: protocol %d" % (n, proto)
        seq = struct.unpack_from(">I", l4, 4)[0]
        flags = l4[13]
        data = bytes(l4[(l4[12] >> 4) * 4:])
        k = (fam, src, sport, dst, dport)
        if flags & SYN:
            flows[k] = {"next": (seq + 1) & 0xFFFFFFFF, "buf": b""}
            assert not data
            continue
        st = flows[k]
        if data:
            assert seq == st["next"], "frame %d: TCP data out of sequence" % n
            st["next"] = (seq + len(data)) & 0xFFFFFFFF
            st["buf"] += data
            while len(st["buf"]) >= 2:
                ln = struct.unpack_from(">H", st["buf"])[0]
                if len(st["buf"]) < 2 + ln:
                    break
                msgs.append((n, t, "tcp", fam, src, sport, dst, dport, st["buf"][2:2 + ln]))
                st["buf"] = st["buf"][2 + ln:]
        if flags & FIN:
            assert st["buf"] == b"", "frame %d: FIN with a partial message" % n
    return msgs


def simulate(msgs, timeout_us):
    """The matching rules over the decoded messages. Returns (verdicts, one
    per message: 'answered'/'unanswered' for queries at the end,
    'matched'/'unmatched'/'duplicate' for responses), counters, maximum
    table size."""
    table = []          # dicts: key, q, t, answered, idx
    verdict = [None] * len(msgs)
    c = dict(match_queries=0, match_matched=0, match_unmatched=0, match_duplicates=0,
             match_unanswered=0, match_evicted=0, queries=0, responses=0)
    peak = 0
    for i, (n, t, tr, fam, src, sport, dst, dport, m) in enumerate(msgs):
        assert len(m) >= 12
        flags = struct.unpack_from(">H", m, 2)[0]
        ident = struct.unpack_from(">H", m)[0]
        live = []
        for e in table:
            if t - e["t"] > timeout_us:
                if not e["answered"]:
                    c["match_unanswered"] += 1
                    verdict[e["idx"]] = "unanswered"
            else:
                live.append(e)
        table = live
        if not flags & 0x8000:
            key = (tr, src, sport, dst, dport, ident)
            qk = qkey(m)
            assert qk is not None
            assert not any(e["key"] == key and e["q"] == qk for e in table), \
                "frame %d: a second query with the same key and question" % n
            for e in table:
                assert not (e["key"] == key and e["q"] == qk)
            table.append({"key": key, "q": qk, "t": t, "answered": False, "idx": i})
            verdict[i] = "answered"     # until it expires unanswered
            c["queries"] += 1
            c["match_queries"] += 1
            peak = max(peak, len(table))
            continue
        c["responses"] += 1
        key = (tr, dst, dport, src, sport, ident)
        # what the capture avoids: a response 8..12 s after a query of its key
        for e in table:
            assert not (e["key"] == key and 8000000 <= t - e["t"] <= 12000000), \
                "frame %d: a response near the timeout of its query" % n
        qk = qkey(m)
        if qk is None:
            rcode = flags & 0x000F
            cands = [e for e in table if e["key"] == key] if rcode in sorted(KEY_RCODES) else []
            assert not any(e["answered"] for e in cands), "frame %d: QDCOUNT 0 meets an answered entry" % n
        else:
            cands = [e for e in table if e["key"] == key and e["q"] == qk]
        open_ = [e for e in cands if not e["answered"]]
        if open_:
            open_[0]["answered"] = True
            verdict[i] = "matched"
            c["match_matched"] += 1
        elif cands:
            verdict[i] = "duplicate"
            c["match_duplicates"] += 1
        else:
            verdict[i] = "unmatched"
            c["match_unmatched"] += 1
    for e in table:
        assert e["answered"], "query %d: left unanswered in the table at the end of the capture" % e["idx"]
    return verdict, c, peak


def dnsxfr(fam, src, m):
    aa = struct.unpack_from(">H", m, 2)[0] & 0x0400
    return MAGIC + (src if aa and fam == 4 else b"\0\0\0\0") + m


def oracle(pcap, intents=None):
    """Expectations from the pcap alone; when intents are given (the
    generator's), every verdict must be the intended one."""
    frames = read_pcap(pcap)
    msgs = decode(frames)
    verdict, c, peak = simulate(msgs, int(TIMEOUT * 1000000))
    assert peak < 500, "table peak %d" % peak
    resp = []
    for (n, t, tr, fam, src, sport, dst, dport, m), v in zip(msgs, verdict):
        if struct.unpack_from(">H", m, 2)[0] & 0x8000:
            resp.append({"hex": m.hex(), "dnsxfr": dnsxfr(fam, src, m).hex(), "frame": n, "time_us": t,
                         "transport": tr, "family": fam, "server": ntop(fam, src), "port": sport,
                         "client": ntop(fam, dst), "client_port": dport,
                         "id": struct.unpack_from(">H", m)[0], "verdict": v})
    if intents is not None:
        assert len(intents) == len(msgs), "%d messages decoded, %d emitted" % (len(msgs), len(intents))
        byaddr = {}
        for it in intents:
            k = (it["transport"], it["src"], it["sport"], it["dst"], it["dport"], it["msg"])
            byaddr.setdefault(k, []).append(it)
        ri = 0
        for (n, t, tr, fam, src, sport, dst, dport, m), v in zip(msgs, verdict):
            cands = byaddr[(tr, src, sport, dst, dport, m)]
            it = cands.pop(0)
            assert it["verdict"] == v, "frame %d (%s %s): intended %s, the rules say %s" % (
                n, it["case"], it["kind"], it["verdict"], v)
            if it["kind"] == "response":
                resp[ri]["case"] = it["case"]
                ri += 1
    counts = {}
    for mode in ("off", "count", "require"):
        if mode == "off":
            k = dict.fromkeys(("match_queries", "match_matched", "match_unmatched", "match_duplicates",
                               "match_unanswered", "match_evicted", "drop_unmatched"), 0)
            fwd = [e["dnsxfr"] for e in resp]
        elif mode == "count":
            k = {x: c[x] for x in c if x.startswith("match_")}
            k["drop_unmatched"] = 0
            fwd = [e["dnsxfr"] for e in resp]
        else:
            k = {x: c[x] for x in c if x.startswith("match_")}
            k["drop_unmatched"] = c["match_unmatched"] + c["match_duplicates"]
            fwd = [e["dnsxfr"] for e in resp if e["verdict"] == "matched"]
        k.update(responses=c["responses"], forwarded=len(fwd), queries=c["queries"])
        counts[mode] = {"forward": fwd, "counters": k}
    assert counts["require"]["counters"]["forwarded"] + counts["require"]["counters"]["drop_unmatched"] \
        == c["responses"]
    assert c["match_matched"] + c["match_unmatched"] + c["match_duplicates"] == c["responses"]
    return resp, counts, len(frames)


def ntop(fam, a):
    return socket.inet_ntop(socket.AF_INET if fam == 4 else socket.AF_INET6, bytes(a))


def expectations(w, args, resp, modes, nframes):
    cases = {k: dict(v) for k, v in sorted(w.cases.items())}
    for it in w.intents:
        if it["verdict"] != "answered":
            cases[it["case"]][it["verdict"]] += 1
    return {
        "generator": "gen_spoof.py",
        "options": {"seed": args.seed, "repeat": args.repeat, "plain": args.plain, "timeout": TIMEOUT},
        "frames": nframes,
        "modes": modes,
        "require": [{k: e[k] for k in ("hex", "dnsxfr", "frame", "transport", "family", "server", "client",
                                       "client_port", "id", "case")}
                    for e in resp if e["verdict"] == "matched"],
        "responses": resp,
        "cases": cases,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="the pcap file to write (with --check: to read)")
    ap.add_argument("--expected", help="the JSON oracle to write (with --check: to verify)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="occurrences of each case (default 3)")
    ap.add_argument("--plain", type=int, default=120, help="ordinary UDP exchanges (default 120)")
    ap.add_argument("--check", action="store_true",
                    help="verify an existing --out pcap against its --expected file")
    args = ap.parse_args()
    if args.repeat < 1 or args.plain < 0:
        ap.error("--repeat >= 1 and --plain >= 0")
    if args.check:
        if not args.expected:
            ap.error("--check needs --expected")
        with open(args.expected) as f:
            ex = json.load(f)
        resp, modes, nframes = oracle(args.out)
        ok = modes == ex["modes"] and [dict((k, v) for k, v in e.items() if k != "case")
                                       for e in ex["responses"]] == resp
        print("gen_spoof.py --check: %s" % ("ok" if ok else "MISMATCH"), file=sys.stderr)
        sys.exit(0 if ok else 1)
    w, frames = generate(args.seed, args.repeat, args.plain)
    gw.write_pcap(args.out, [(t, fr) for t, fr, _ in frames])
    try:
        resp, modes, nframes = oracle(args.out, [it for _, _, its in frames for it in its])
    except AssertionError as e:
        print("gen_spoof.py: the oracle disagrees with the construction: %s" % e, file=sys.stderr)
        sys.exit(1)
    ex = expectations(w, args, resp, modes, nframes)
    # the cases' intended tallies agree with the rules' counters
    tot = {v: sum(c[v] for c in ex["cases"].values()) for v in ("matched", "unmatched", "duplicate",
                                                                   "unanswered")}
    rc = modes["require"]["counters"]
    assert (tot["matched"], tot["unmatched"], tot["duplicate"], tot["unanswered"]) == (
        rc["match_matched"], rc["match_unmatched"], rc["match_duplicates"], rc["match_unanswered"]), tot
    if args.expected:
        with open(args.expected, "w") as f:
            json.dump(ex, f, indent=1)
            f.write("\n")
    print("gen_spoof.py: %d frames, %d queries, %d responses: %d matched, %d unmatched, %d duplicates; "
          "%d queries unanswered" % (nframes, rc["queries"], rc["responses"], rc["match_matched"],
                                     rc["match_unmatched"], rc["match_duplicates"], rc["match_unanswered"]),
          file=sys.stderr)


if __name__ == "__main__":
    main()
