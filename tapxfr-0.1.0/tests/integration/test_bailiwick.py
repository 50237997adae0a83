#!/usr/bin/env python3
"""--bailiwick off|check|scrub on what a real Unbound logs over dnstap
(RESOLVER_RESPONSE with query_zone) when its authoritative server hands
out data of other zones.

Set-up (all loopback, random ports): Knot DNS on 127.0.0.1@P serves the
zone `test.`, and Unbound has two stub zones pointing at it,
example.test and other.test. So when Unbound asks about a name in
example.test, its query_zone is example.test, but Knot answers from
`test.` and so adds what a poisoner would:
  www.example.test A    CNAME www.other.test + www.other.test A (answer)
  mx.example.test MX    MX mail.other.test, mail2.other.test and itself;
                        the additional section has the A/AAAA of all three
                        (those of other.test out of bailiwick)
  nx.example.test A     NXDOMAIN, SOA of `test.` (authority)
  a.example.test TXT    NODATA, SOA of `test.` (authority)
  deleg.example.test    a referral: NS ns.other.test and
                        ns1.deleg.example.test, glue for both
                        (ns.other.test's is out of bailiwick)
and, for other.test, NODATA/NXDOMAIN with the SOA of `test.`. When root
can bind port 53 on a random 127.x.y.z, the child deleg.example.test is
served there by a second Knot whose zone is really `example.test.`:
www.deleg.example.test A is answered CNAME a.example.test plus
a.example.test A, out of bailiwick for query_zone deleg.example.test.

1. Reference: Unbound (fresh cache) -> fstrm_capture; the questions are
   asked; the frames are decoded by dnstap_servers' pure-Python reader.
   Each must carry query_zone, and together they must contain records
   out of bailiwick in the answer, authority and additional sections.
   One synthetic frame is added to the file: a copy of the www.example.test
   A frame with query_zone set to other.test (Unbound never asks a
   question outside its query_zone, so `check` has nothing to drop
   otherwise).
2. Replay of that file with tapxfr --dnstap-file, once per mode, into a
   TCP collector (one connection: file order). This file's own DNS
   parser (full message, names and the RDATA names of the RFC 1035 types
   decompressed, counts satisfied, no trailing byte) computes what each
   mode must forward:
     off    every message byte-identical to the frame's response;
     check  the same, but the synthetic frame dropped (drop_bailiwick 1);
     scrub  every message, each equal record by record (owner octets,
            type, class, TTL, RDATA) to the original with exactly the
            records outside query_zone removed (OPT stays), header as it
            was but for the counts; a message that loses nothing is
            forwarded byte-identical. bailiwick_removed == records
            removed, bailiwick_scrubbed == messages that lost some,
            bailiwick_checked == frames with query_zone, drop_unparsable 0.
3. Live: a fresh Unbound straight into tapxfr --dnstap-socket --bailiwick
   scrub --dnstap-types resolver-response, -t to a Python TCP collector
   and --collector udp:// to tapxfr-collect -f json --pcap. The same
   questions give the same upstream traffic: the collector's messages
   must equal, as a multiset once the DNS ID is masked, the parser's
   expectation from the reference frames (and the replay's bytes, the
   encoding being deterministic); stats as above. tapxfr-collect
   decodes every message (0 invalid; id, length, counts and answer names
   and types == the parser's), and tshark reads its pcap: every packet a
   DNS response, no malformed field, no expert info of warning or error
   severity, and per packet the same id, counts, record owners and types
   as this file's parser.
"""
import collections
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("an authoritative server on port 53 of a 127.x address")
ds.require("unbound", "unbound")
ds.require("knotd", "knot")
ds.require("fstrm_capture", "fstrm-bin")
tt.tapxfr_bin()
if not ds.tapxfr_has_dnstap():
    tt.skip("the tapxfr under test has no dnstap input (--dnstap-socket)")
collect = tt.collect_bin()
t = tt.Test("test_bailiwick", limit=60)
work = tt.tempdir()

# ------------------------------------------------------------ DNS parser

NAME_TYPES = {2: "N", 3: "N", 4: "N", 5: "N", 6: "NN5", 7: "N", 8: "N", 9: "N", 12: "N", 14: "NN",
              15: "2N"}
OPT, TSIG = 41, 250


class Malformed(Exception):
    pass


def rd_name(b, off, end):
    """(wire name uncompressed, offset after it). Pointers must go back
    and stay past the header; labels must end before `end`."""
    out, after, hops = b"", None, 0
    while True:
        if off >= end:
            raise Malformed("name runs past the end at %d" % off)
        c = b[off]
        if c & 0xC0 == 0xC0:
            if off + 1 >= end:
                raise Malformed("cut pointer")
            target = ((c & 0x3F) << 8) | b[off + 1]
            if target >= off or target < 12 or hops > 127:
                raise Malformed("bad pointer %d at %d" % (target, off))
            if after is None:
                after = off + 2
            off, hops = target, hops + 1
            continue
        if c & 0xC0:
            raise Malformed("label type 0x%x" % c)
        if off + 1 + c > end:
            raise Malformed("label past the end")
        out += b[off:off + 1 + c]
        if len(out) > 255:
            raise Malformed("name too long")
        if c == 0:
            return out, (after if after is not None else off + 1)
        off += 1 + c


def name_text(w):
    labels, p = [], 0
    while w[p]:
        labels.append(w[p + 1:p + 1 + w[p]].decode("ascii", "backslashreplace"))
        p += 1 + w[p]
    return ".".join(labels) + "."


def name_lower_labels(w):
    labels, p = [], 0
    while w[p]:
        labels.append(w[p + 1:p + 1 + w[p]].lower())
        p += 1 + w[p]
    return labels


def in_zone(name, zone):
    n, z = name_lower_labels(name), name_lower_labels(zone)
    return len(z) <= len(n) and (not z or n[-len(z):] == z)


def rdata_of(b, off, n, rtype):
    shape = NAME_TYPES.get(rtype)
    if shape is None or n == 0:
        return bytes(b[off:off + n])
    end, pos, out = off + n, off, b""
    for f in shape:
        if f == "N":
            nm, pos = rd_name(b, pos, end)
            out += nm
        else:
            k = 20 if f == "5" else 2
            if end - pos < k:
                raise Malformed("cut RDATA of type %d" % rtype)
            out += b[pos:pos + k]
            pos += k
    if pos != end:
        raise Malformed("RDATA of type %d: %d bytes left" % (rtype, end - pos))
    return out


class Msg:
    """A DNS message parsed whole: id, flags, questions [(name, type,
    class)], sections [answer, authority, additional] of records (owner,
    type, class, ttl, rdata), names as uncompressed wire bytes."""

    def __init__(self, b):
        if len(b) < 12:
            raise Malformed("shorter than a header")
        self.id, self.flags, qd, an, ns, ar = struct.unpack_from(">HHHHHH", b, 0)
        off = 12
        self.questions = []
        for _ in range(qd):
            nm, off = rd_name(b, off, len(b))
            if len(b) - off < 4:
                raise Malformed("cut question")
            self.questions.append((nm,) + struct.unpack_from(">HH", b, off))
            off += 4
        self.sections = []
        for cnt in (an, ns, ar):
            sec = []
            for _ in range(cnt):
                nm, off = rd_name(b, off, len(b))
                if len(b) - off < 10:
                    raise Malformed("cut record header")
                rtype, rclass, ttl, rdlen = struct.unpack_from(">HHIH", b, off)
                off += 10
                if len(b) - off < rdlen:
                    raise Malformed("RDATA past the end")
                sec.append((nm, rtype, rclass, ttl, rdata_of(b, off, rdlen, rtype)))
                off += rdlen
            self.sections.append(sec)
        if off != len(b):
            raise Malformed("%d trailing bytes" % (len(b) - off))

    def key(self, mask_id=False):
        return (0 if mask_id else self.id, self.flags, tuple(self.questions),
                tuple(tuple(s) for s in self.sections))

    def counts(self):
        return tuple(len(s) for s in self.sections)

    def qname(self):
        return self.questions[0][0] if self.questions else None


def parse(b):
    try:
        return Msg(b)
    except (Malformed, struct.error, IndexError) as e:
        return "%s: %s" % (type(e).__name__, e)


def scrubbed(m, zone):
    """(the message as --bailiwick scrub must forward it, records removed
    per section)."""
    out = Msg.__new__(Msg)
    out.id, out.flags, out.questions = m.id, m.flags, list(m.questions)
    out.sections, removed = [], []
    for sec in m.sections:
        keep = [r for r in sec if r[1] in (OPT, TSIG) or in_zone(r[0], zone)]
        out.sections.append(keep)
        removed.append(len(sec) - len(keep))
    return out, removed


TYPE_TEXT = dict(ds.QTYPE_NAMES)
TYPE_TEXT.update({OPT: "OPT", TSIG: "TSIG"})


def rr_text(r):
    return "%s %s" % (name_text(r[0]), TYPE_TEXT.get(r[1], r[1]))


# ------------------------------------------------------------ protobuf

def pb_raw_fields(b):
    """[(number, wire type, the field's bytes with its key)] in order."""
    out, off = [], 0
    while off < len(b):
        start = off
        key, off = ds._varint(b, off)
        wt = key & 7
        if wt == 0:
            _v, off = ds._varint(b, off)
        elif wt == 1:
            off += 8
        elif wt == 2:
            ln, off = ds._varint(b, off)
            off += ln
        elif wt == 5:
            off += 4
        else:
            raise ds.PbError("wire type %d" % wt)
        out.append((key >> 3, wt, b[start:off]))
    return out


def pb_varint(n):
    out = b""
    while True:
        c = n & 0x7F
        n >>= 7
        if n:
            out += bytes((c | 0x80,))
        else:
            return out + bytes((c,))


def pb_bytes(num, data):
    return pb_varint(num << 3 | 2) + pb_varint(len(data)) + data


def with_query_zone(frame, zone):
    """The Dnstap frame with its Message's query_zone (field 11) replaced."""
    out = b""
    for num, _wt, raw in pb_raw_fields(frame):
        if num == 14:
            body = ds.pb_fields(frame)[14][-1]
            nb = b"".join(pb_bytes(11, zone) if n == 11 else r for n, _w, r in pb_raw_fields(body))
            out += pb_bytes(14, nb)
        else:
            out += raw
    return out


# ------------------------------------------------------------ the lab

CHILD = ds.loopback_addr_for_53()
if CHILD is None:
    t.skip_part("no 127.x.y.z with port 53 free: the delegation to deleg.example.test is left out")
GLUE = CHILD or "127.255.255.253"   # nothing listens there without the child

PARENT = """$ORIGIN test.
$TTL 3600
@                 IN SOA   ns.test. hostmaster.test. 1 7200 3600 1209600 300
@                 IN NS    ns.test.
ns                IN A     127.0.0.1
www.example       IN CNAME www.other
www.other         IN A     192.0.2.1
mx.example        IN MX    10 mail.other
mx.example        IN MX    20 mail2.other
mx.example        IN MX    30 mx.example
mx.example        IN A     192.0.2.26
mail.other        IN A     192.0.2.25
mail.other        IN AAAA  2001:db8::25
mail2.other       IN A     192.0.2.27
a.example         IN A     192.0.2.2
Mixed.Example     IN A     192.0.2.4
deleg.example     IN NS    ns.other
deleg.example     IN NS    ns1.deleg.example
ns1.deleg.example IN A     {g}
ns.other          IN A     {g}
""".format(g=GLUE)
CHILD_ZONE = """$ORIGIN example.test.
$TTL 3600
@                 IN SOA   ns1.deleg hostmaster 1 7200 3600 1209600 300
@                 IN NS    ns1.deleg
ns1.deleg         IN A     {g}
www.deleg         IN CNAME a
a                 IN A     192.0.2.3
""".format(g=GLUE)

QUESTIONS = [("www.example.test.", "A"), ("mx.example.test.", "MX"), ("nx.example.test.", "A"),
             ("a.example.test.", "TXT"), ("MIXED.example.test.", "A"), ("www.other.test.", "A"),
             ("nx.other.test.", "A"), ("ns.other.test.", "AAAA")]
if CHILD:
    QUESTIONS.append(("www.deleg.example.test.", "A"))

kport = ds.free_port()
knot = ds.Knot(work, {"test.": PARENT}, [("127.0.0.1", kport)], name="knot-parent").start()
knot.wait_zones(["test."])
knot2 = None
if CHILD:
    knot2 = ds.Knot(work, {"example.test.": CHILD_ZONE}, [(CHILD, 53)], name="knot-child").start()
    knot2.wait_zones(["example.test."])
STUBS = {"example.test.": ["127.0.0.1@%d" % kport], "other.test.": ["127.0.0.1@%d" % kport]}
t.info("Knot test. on 127.0.0.1@%d, child %s" % (kport, "example.test. on %s@53" % CHILD if CHILD else "none"))


def ask_all(ub, what):
    answers = ds.ask(ub.port, QUESTIONS)
    lost = [q for q, a in zip(QUESTIONS, answers) if a is None]
    t.check(not lost, "%s: Unbound answered all %d questions" % (what, len(QUESTIONS)), "lost: %s" % lost)
    bad = [q for q, a in zip(QUESTIONS, answers) if a is not None and ds.rcode(a) == 2]
    t.check(not bad, "%s: no SERVFAIL" % what, "SERVFAIL: %s" % bad)
    return answers


# ------------------------------------------------------------ 1. reference

rsock = os.path.join(work, "ref.sock")
ref = ds.FstrmCaptureSink(work, sock=rsock, name="reference").start()
ub = ds.Unbound(work, ds.free_port(), STUBS, dnstap_sock=rsock, name="unbound-ref").start()
t.check(ds.wait_writers(rsock, 1, 10), "reference: Unbound connected to fstrm_capture")
ask_all(ub, "reference")
ds.settle(ref, None)        # Unbound flushes its dnstap queue every second
rc, _ = ub.stop()
t.eq(rc, 0, "reference: Unbound exited 0")
ref.stop()
frames = ref.frames()
srcs = [ds.decode_dnstap(f) for f in frames]
t.check(frames and all(m.mtype == ds.RESOLVER_RESPONSE and m.response for m in srcs),
        "reference: %d frames, all RESOLVER_RESPONSE with a response" % len(frames))
t.check(all(m.query_zone for m in srcs), "reference: every frame carries query_zone")

bad_parse = [(ds.qinfo(m.response), p) for m in srcs for p in [parse(m.response)] if isinstance(p, str)]
t.check(not bad_parse, "reference: every upstream answer parses whole here", bad_parse[:5])
if bad_parse:
    t.done()

cases = []      # (frame, DnstapMsg, parsed original, zone)
for f, m in zip(frames, srcs):
    cases.append((f, m, Msg(m.response), m.query_zone))
zones = collections.Counter(name_text(z) for _f, _m, _p, z in cases)
t.info("reference: query_zone: %s" % dict(zones))
want_zones = {"example.test.", "other.test."} | ({"deleg.example.test."} if CHILD else set())
t.eq(set(zones), want_zones, "reference: the query zones are the stub zones (and the child)")
q_out = [(name_text(p.qname()), name_text(z)) for _f, _m, p, z in cases if not in_zone(p.qname(), z)]
t.eq(q_out, [], "reference: Unbound asked no question outside its query_zone")

removed_by = [0, 0, 0]
for _f, m, p, z in cases:
    _s, rem = scrubbed(p, z)
    removed_by = [a + b for a, b in zip(removed_by, rem)]
    if sum(rem):
        t.info("  %-28s zone %-20s out: %s" % (ds.qinfo(m.response), name_text(z),
               ", ".join(rr_text(r) for sec in p.sections for r in sec
                         if r[1] not in (OPT, TSIG) and not in_zone(r[0], z))))
n_untouched = sum(1 for _f, _m, p, z in cases if not sum(scrubbed(p, z)[1]))
t.check(n_untouched > 0, "reference: %d answers hold nothing out of bailiwick" % n_untouched)
t.check(all(removed_by), "reference: Knot's answers hold records out of bailiwick in the answer, "
        "authority and additional sections (%d, %d, %d)" % tuple(removed_by))


def find(qname, qtype, zone=None):
    for c in cases:
        if ds.qinfo(c[1].response) == "%s %s" % (qname, qtype) and (zone is None or
                                                                   name_text(c[3]) == zone):
            return c
    return None


checks = [("www.example.test.", "A", "example.test.", "www.other.test. A", 0),
          ("mx.example.test.", "MX", "example.test.", "mail.other.test. A", 2),
          ("nx.example.test.", "A", "example.test.", "test. SOA", 1),
          ("deleg.example.test.", "A", "example.test.", "ns.other.test. A", 2),
          ("ns.other.test.", "AAAA", "other.test.", "test. SOA", 1)]
if CHILD:
    checks.append(("www.deleg.example.test.", "A", "deleg.example.test.", "a.example.test. A", 0))
for qn, qt, zone, rec, sec in checks:
    c = find(qn, qt, zone)
    got = c and [rr_text(r) for r in c[2].sections[sec]]
    t.check(c is not None and rec in got, "reference: %s %s (query_zone %s) has %s in its %s section"
            % (qn, qt, zone, rec, ("answer", "authority", "additional")[sec]), repr(got))

c = find("mx.example.test.", "MX")
t.check(c is not None and scrubbed(c[2], c[3])[1][2] == 3 and
        [rr_text(r) for r in scrubbed(c[2], c[3])[0].sections[2]] == ["mx.example.test. A", ". OPT"],
        "reference: mx.example.test. MX: 3 of its 5 additional records are out of bailiwick, "
        "its own A and OPT are not", c and [rr_text(r) for r in c[2].sections[2]])
c = find("www.example.test.", "A")
synthetic = with_query_zone(c[0], ds.wire_name("other.test."))
sm = ds.decode_dnstap(synthetic)
t.check(sm.response == c[1].response and sm.query_zone == ds.wire_name("other.test.") and
        sm.raddr == c[1].raddr, "the synthetic frame decodes: same response, query_zone other.test.")
cases.append((synthetic, sm, Msg(sm.response), sm.query_zone))
rfile = os.path.join(work, "replay.fstrm")
ds.write_fstrm_file(rfile, [c[0] for c in cases])

EXP_REMOVED = []
for _f, _m, p, z in cases:
    EXP_REMOVED.append(scrubbed(p, z)[1])
n_all = len(cases)
n_scrubbed = sum(1 for r in EXP_REMOVED if sum(r))
n_removed = sum(sum(r) for r in EXP_REMOVED)
t.info("replay file: %d frames (1 synthetic); scrub must remove %d records from %d messages"
       % (n_all, n_removed, n_scrubbed))


# ------------------------------------------------------------ 2. replay

def stats_of(run, what):
    st = tt.parse_stats(run.stderr)
    t.check(st is not None, "%s: a stats line" % what, run.stderr[-1500:])
    st = st or {}
    t.info("%s: stats: %s" % (what, " ".join("%s=%s" % kv for kv in sorted(st.items())
                                                if not isinstance(kv[1], int) or kv[1])))
    return st


def check_scrubbed(what, got, pairs):
    """got[i] against pairs[i] = (DnstapMsg, parsed original, zone)."""
    bad = []
    for i, (g, (m, p, z)) in enumerate(zip(got, pairs)):
        exp, rem = scrubbed(p, z)
        want_ns = ds.dnsxfr_of(m)[:12]
        if g[:12] != want_ns:
            bad.append("#%d %s: prefix %r, want %r" % (i, ds.qinfo(m.response), g[:12], want_ns))
            continue
        if not sum(rem):
            if g[12:] != m.response:
                bad.append("#%d %s: nothing to remove, yet not byte-identical" % (i, ds.qinfo(m.response)))
            continue
        q = parse(g[12:])
        if isinstance(q, str):
            bad.append("#%d %s: forwarded message does not parse: %s" % (i, ds.qinfo(m.response), q))
        elif q.key() != exp.key():
            bad.append("#%d %s (zone %s): got %s / want %s" % (
                i, ds.qinfo(m.response), name_text(z),
                [[rr_text(r) for r in s] for s in q.sections],
                [[rr_text(r) for r in s] for s in exp.sections]))
    return bad


def replay(mode):
    coll = tt.TCPCollector()
    r = tt.Run(["--dnstap-file", rfile, "--bailiwick", mode, "--dnstap-types", "resolver-response",
                "-t", "127.0.0.1", str(coll.port)], workdir=work)
    rc = r.wait(30)
    coll.wait_closed(5)
    got = list(coll.messages)
    coll.close()
    what = "replay --bailiwick %s" % mode
    t.eq(rc, 0, "%s: tapxfr exits 0 at the end of the file" % what)
    return what, got, stats_of(r, what)


what, got, st = replay("off")
t.eq(got, [ds.dnsxfr_of(m) for _f, m, _p, _z in cases],
     "%s: all %d messages, byte-identical, in order" % (what, n_all))
t.eq((st.get("forwarded"), st.get("bailiwick_checked"), st.get("bailiwick_scrubbed"),
      st.get("bailiwick_removed")), (n_all, 0, 0, 0),
     "%s: stats forwarded, bailiwick_checked/scrubbed/removed" % what)

what, got, st = replay("check")
t.eq(got, [ds.dnsxfr_of(m) for _f, m, _p, _z in cases[:-1]],
     "%s: the %d Unbound messages byte-identical, the synthetic one dropped" % (what, n_all - 1))
t.eq((st.get("forwarded"), st.get("drop_bailiwick"), st.get("bailiwick_checked"),
      st.get("bailiwick_removed"), st.get("dropped")), (n_all - 1, 1, n_all, 0, 1),
     "%s: stats forwarded, drop_bailiwick, bailiwick_checked, bailiwick_removed, dropped" % what)

what, got, st = replay("scrub")
t.eq(len(got), n_all, "%s: all %d messages forwarded" % (what, n_all))
bad = check_scrubbed(what, got, [(m, p, z) for _f, m, p, z in cases])
t.check(not bad and len(got) == n_all,
        "%s: each message == the original without exactly its out-of-bailiwick records "
        "(record by record, counts, header; untouched ones byte-identical)" % what, "\n".join(bad[:8]))
t.eq((st.get("forwarded"), st.get("bailiwick_checked"), st.get("bailiwick_scrubbed"),
      st.get("bailiwick_removed"), st.get("drop_unparsable"), st.get("dropped")),
     (n_all, n_all, n_scrubbed, n_removed, 0, 0),
     "%s: stats forwarded, bailiwick_checked, bailiwick_scrubbed, bailiwick_removed, "
     "drop_unparsable, dropped" % what)
syn = got[-1] if got else b""
sp = parse(syn[12:])
t.check(not isinstance(sp, str) and [rr_text(r) for r in sp.sections[0]] == ["www.other.test. A"],
        "%s: the synthetic frame (zone other.test.) keeps only www.other.test. A of its answer" % what)
replay_scrub = got[:-1]
again = [g for g in got if not isinstance(parse(g[12:]), str)]
rescrub_bad = [ds.qinfo(g[12:]) for g, (_f, _m, _p, z) in zip(got, cases)
               if sum(scrubbed(parse(g[12:]), z)[1])] if len(again) == len(got) else ["unparsable"]
t.eq(rescrub_bad, [], "%s: nothing out of bailiwick is left in any forwarded message" % what)


# ------------------------------------------------------------ 3. live

class Collect:
    """tapxfr-collect -u 127.0.0.1:0 -f json --pcap FILE in the background."""

    def __init__(self, pcap):
        self.out = os.path.join(work, "collect.json")
        self.errlines, self.port = [], None
        self.ready = threading.Event()
        cmd = [collect, "-u", "127.0.0.1:0", "-f", "json", "--pcap", pcap]
        print("   $ " + " ".join(cmd), flush=True)
        with open(self.out, "wb") as f:
            self.p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.PIPE)
        tt._procs.append(self.p)
        threading.Thread(target=self._read, daemon=True).start()
        self.ready.wait(10)

    def _read(self):
        for raw in self.p.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.errlines.append(line)
            m = re.search(r"listening on udp 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self.ready.set()
        self.ready.set()

    def lines(self):
        with open(self.out, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None

    def summary(self):
        for ln in reversed(self.errlines):
            m = re.match(r"^tapxfr-collect: received (\d+) messages, (\d+) invalid$", ln)
            if m:
                return int(m.group(1)), int(m.group(2))
        return None


pcap = os.path.join(work, "live.pcap")
cj = Collect(pcap)
t.check(cj.port is not None, "live: tapxfr-collect listens on UDP", "\n".join(cj.errlines[-5:]))
coll = tt.TCPCollector()
lsock = os.path.join(work, "live.sock")
live = tt.Run(["--dnstap-socket", lsock, "--bailiwick", "scrub", "--dnstap-types", "resolver-response",
               "-t", "127.0.0.1", str(coll.port), "--collector", "udp://127.0.0.1:%d" % (cj.port or 9)],
              workdir=work)
t.check(ds.wait_until(lambda: ds.unix_socket_state(lsock)[0] or not live.running(), 10) and live.running(),
        "live: tapxfr listens on its dnstap socket", live.stderr[-1500:])
ub = ds.Unbound(work, ds.free_port(), STUBS, dnstap_sock=lsock, name="unbound-live").start()
t.check(ds.wait_writers(lsock, 1, 10), "live: Unbound connected to tapxfr")
ask_all(ub, "live")
n_live = n_all - 1
ds.wait_until(lambda: len(coll.messages) >= n_live, 10)
time.sleep(1.2)                             # anything more would show now
rc, _ = ub.stop()
t.eq(rc, 0, "live: Unbound exited 0")
ds.wait_until(lambda: len(coll.messages) >= n_live, 3)
t.check(live.running(), "live: tapxfr still running after Unbound closed the connection")
t.eq(live.terminate(20), 0, "live: tapxfr exited 0 on SIGTERM")
coll.wait_closed(5)
got = list(coll.messages)
coll.close()
st = stats_of(live, "live")
t.eq(len(got), n_live, "live: %d messages, as many as the reference run's frames" % n_live)

unparsed = [(ds.qinfo(g[12:]), p) for g in got for p in [parse(g[12:])] if isinstance(p, str)]
t.check(not unparsed and all(g.startswith(tt.MAGIC) for g in got),
        "live: every forwarded message parses whole (decompressed names, counts, no trailing byte)",
        unparsed[:5])
want_keys = collections.Counter()
for _f, m, p, z in cases[:-1]:
    want_keys[(ds.dnsxfr_of(m)[8:12], scrubbed(p, z)[0].key(mask_id=True))] += 1
got_keys = collections.Counter((g[8:12], p.key(mask_id=True)) for g in got for p in [parse(g[12:])]
                               if not isinstance(p, str))
miss, extra = want_keys - got_keys, got_keys - want_keys


def keys_text(c):
    return "\n".join("  %s %s" % (name_text(k[1][2][0][0]) if k[1][2] else "?",
                                  [[rr_text(r) for r in s] for s in k[1][3]]) for k in list(c)[:5])


t.check(not miss and not extra,
        "live: the messages == the reference frames scrubbed by this file's parser, record by record "
        "(DNS ID masked, nameserver field included)",
        "missing:\n%s\nunexpected:\n%s" % (keys_text(miss), keys_text(extra)))
missing, unexpected, text = tt.multiset_diff([ds.mask_id(g) for g in got],
                                             [ds.mask_id(g) for g in replay_scrub])
t.check(not missing and not unexpected,
        "live: byte-identical to the replay's scrubbed messages once the DNS ID is masked", text)
t.eq((st.get("received"), st.get("responses"), st.get("forwarded"), st.get("bailiwick_checked"),
      st.get("bailiwick_scrubbed"), st.get("bailiwick_removed"), st.get("drop_unparsable"),
      st.get("drop_bailiwick"), st.get("dropped")),
     (n_live, n_live, 2 * n_live, n_live, sum(1 for r in EXP_REMOVED[:-1] if sum(r)), sum(map(sum, EXP_REMOVED[:-1])),
      0, 0, 0),
     "live: stats received, responses, forwarded (summed over the two collectors), bailiwick_checked, "
     "bailiwick_scrubbed, bailiwick_removed, drop_unparsable, drop_bailiwick, dropped")
cs = tt.coll_stats(live.stderr)
t.eq(sorted((k, v.get("forwarded")) for k, v in cs.items()),
     sorted([("tcp://127.0.0.1:%d" % coll.port, n_live), ("udp://127.0.0.1:%d" % (cj.port or 9), n_live)]),
     "live: each collector's stats line: forwarded %d" % n_live)

# tapxfr-collect's decoder
ds.wait_until(lambda: len(cj.lines()) >= n_live, 5)
time.sleep(0.2)
cj.stop()
t.eq(cj.summary(), (n_live, 0), "tapxfr-collect: received %d messages, 0 invalid" % n_live)
objs, badj = [], []
for ln in cj.lines():
    try:
        objs.append(json.loads(ln))
    except ValueError as e:
        badj.append("%s: %r" % (e, ln[:100]))
t.check(not badj and len(objs) == n_live, "tapxfr-collect: %d JSON lines that parse" % n_live, badj[:3])
parsed = [parse(g[12:]) for g in got]
if not unparsed:
    jf = collections.Counter((o.get("id"), o.get("length"), len(o.get("answers") or []),
                              o.get("authority_count"), o.get("additional_count"),
                              tuple((a.get("name", "").lower(), a.get("type")) for a in o.get("answers") or []))
                             for o in objs)
    pf = collections.Counter((p.id, len(g) - 12) + p.counts() +
                             (tuple((name_text(r[0]).lower(), ds.QTYPE_NAMES.get(r[1], str(r[1])))
                                    for r in p.sections[0]),) for g, p in zip(got, parsed))
    t.check(jf == pf, "tapxfr-collect: id, length, counts and answer names/types of every message "
            "== this file's parser", "json - parser: %s\nparser - json: %s" % (list(jf - pf)[:3],
                                                                         list(pf - jf)[:3]))

# tshark on tapxfr-collect's pcap
tshark = tt.which("tshark")
if not tshark:
    t.skip_part("tshark not installed (Debian package tshark): the Wireshark decode is left out")
else:
    r = subprocess.run([tshark, "-r", pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a",
                        "-E", "aggregator=|", "-e", "dns.id", "-e", "dns.flags.response",
                        "-e", "dns.count.answers", "-e", "dns.count.auth_rr", "-e", "dns.count.add_rr",
                        "-e", "dns.resp.name", "-e", "dns.resp.type", "-e", "_ws.malformed",
                        "-e", "_ws.expert.severity"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    rows = [ln.split("\t") for ln in r.stdout.decode("utf-8", "replace").splitlines()]
    err = [ln for ln in r.stderr.decode("utf-8", "replace").splitlines()
           if ln.strip() and "Running as user" not in ln and "dangerous" not in ln]
    t.check(r.returncode == 0 and not err and len(rows) == n_live,
            "tshark reads the pcap without complaint: %d packets (%d)" % (n_live, len(rows)), "\n".join(err[:5]))
    sev_bad = [row for row in rows if len(row) < 9 or row[7] or
               any(s and int(s, 0) >= 0x00600000 for s in row[8].split("|"))]
    t.check(not sev_bad and all(row[1] in ("1", "True") for row in rows),
            "tshark: every packet a DNS response, no malformed, no warning or error expert info",
            "\n".join("\t".join(row) for row in sev_bad[:5]))
    if not unparsed:     # (then the pcap holds them all: the packets can be compared)
        tf = collections.Counter()
        for row in rows:
            if len(row) < 7:
                continue
            names = [n.lower() for n in row[5].split("|")] if row[5] else []
            types = [int(x) for x in row[6].split("|")] if row[6] else []
            tf[(int(row[0], 0), int(row[2]), int(row[3]), int(row[4]), tuple(zip(names, types)))] += 1
        pf = collections.Counter()
        for p in parsed:
            recs = tuple(("<root>" if r[0] == b"\0" else name_text(r[0])[:-1].lower(), r[1])
                         for s in p.sections for r in s)
            pf[(p.id,) + p.counts() + (recs,)] += 1
        t.check(tf == pf, "tshark: per packet the same id, counts, and record owners and types as this "
                "file's parser", "tshark - parser: %s\nparser - tshark: %s" % (list(tf - pf)[:3],
                                                                               list(pf - tf)[:3]))

for k in (knot2, knot):
    if k:
        k.stop()
t.done()
