#!/usr/bin/env python3
"""tapxfr --dnstap-socket fed by BIND 9 (RESOLVER_RESPONSE and
AUTH_RESPONSE), with contrib/dnstap/named.conf.

named (random port on 127.0.0.1) forwards tapxfr.test to a Knot DNS on
loopback (forward only: BIND 9.18 logs the forwarder's answers as
RESOLVER_RESPONSE) and is itself primary for local.test. Questions:
- tapxfr.test names with RD set (answers, NXDOMAIN, NODATA, CNAME, a
  1.5 kB TXT that is truncated over UDP and retried over TCP, ...): each
  answer Knot sent must arrive once, byte-identical to a tcpdump capture
  on lo of Knot's answers (UDP and reassembled TCP), nameserver 127.0.0.1
  on AA answers;
- local.test names with RD clear: BIND logs them as AUTH_RESPONSE; each
  must arrive as "DNSXFR01" + 127.0.0.1 + the answer the client got;
- local.test names with RD set: BIND logs them as CLIENT_RESPONSE, which
  the snippet does not enable: nothing arrives for them.
Stats: received == the frames BIND sent (upstream + auth answers), all
forwarded. --reference: fstrm_capture in place of tapxfr, and the frames
are checked (only RESOLVER_RESPONSE and AUTH_RESPONSE, response_address =
Knot for the former, BIND's own address for the latter).
"""
import collections
import os
import socket
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("tcpdump on lo")
ds.require("named", "bind9")
ds.require("knotd", "knot")
ds.require("tcpdump", "tcpdump")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_bind" + (" (reference)" if mode == "reference" else ""), limit=110)
work = tt.tempdir()
LOCAL = socket.inet_aton("127.0.0.1")
LZ = "local.test."

lab = ds.AuthLab(work, child=False)
RD = [(n, qt, True) for n, qt in lab.queries()]
AUTH = [("www." + LZ, "A", False), ("www." + LZ, "AAAA", False), (LZ, "MX", False),
        ("nonexistent." + LZ, "A", False), ("www." + LZ, "MX", False)]
CLIENT = [("mail." + LZ, "A", True), ("h1." + LZ, "A", True)]
QUESTIONS = RD + AUTH + CLIENT


def start(sock):
    b = ds.Bind(work, ds.free_port(), lab.forward, {LZ: ds.test_zone(LZ)}, sock)
    return b.start()


res = ds.run_resolver(t, mode, work, lab, "bind", start, QUESTIONS, extra_wait=lambda: len(AUTH))
ans = dict(zip(QUESTIONS, res.answers))
auth_want = [tt.MAGIC + (LOCAL if ds.is_aa(ans[q]) else ds.ZERO4) + ans[q] for q in AUTH if ans[q]]
t.check(all(ds.is_aa(ans[q]) for q in AUTH if ans[q]), "BIND's own answers (RD clear) have AA set")
want = res.upstream + auth_want
t.check(len(res.upstream) >= len(RD), "the capture holds %d answers of Knot for %d RD questions"
        % (len(res.upstream), len(RD)))
missing, unexpected, text = tt.multiset_diff(res.got, want)
t.check(not missing and not unexpected,
        "one DNSXFR01 per Knot answer (byte-identical to the capture) and per AUTH answer "
        "(%d + %d expected, %d received)" % (len(res.upstream), len(auth_want), len(res.got)), text)
client_qs = {ds.qinfo(ans[q]) for q in CLIENT if ans[q]}
t.check(not any(ds.qinfo(m[12:]) in client_qs for m in res.got),
        "nothing for the RD=1 questions BIND answered itself (CLIENT_RESPONSE, not enabled)")
ns = collections.Counter(socket.inet_ntoa(m[8:12]) for m in res.got)
t.info("nameserver fields: %s" % dict(ns))
t.check(any(ds.is_tc(m[12:]) for m in res.got) and any(len(m) - 12 > 1232 for m in res.got),
        "the truncated answer and the 1.5 kB TCP answer of Knot both arrive")

if mode == "reference":
    msgs = [ds.decode_dnstap(f) for f in res.frames]
    types = collections.Counter(ds.TYPE_NAMES.get(m.mtype) for m in msgs)
    t.info("reference: BIND sent %s" % dict(types))
    t.eq(set(types), {"RESOLVER_RESPONSE", "AUTH_RESPONSE"}, "reference: only the types the snippet enables")
    rr = [m for m in msgs if m.mtype == ds.RESOLVER_RESPONSE]
    ar = [m for m in msgs if m.mtype == ds.AUTH_RESPONSE]
    t.check(all(m.raddr == LOCAL and m.rport == lab.port for m in rr),
            "reference: RESOLVER_RESPONSE response_address:port is Knot's 127.0.0.1@%d" % lab.port)
    t.eq(len(ar), len(AUTH), "reference: one AUTH_RESPONSE per RD=0 question")
    t.check(all(m.raddr == LOCAL for m in ar), "reference: AUTH_RESPONSE response_address is BIND's own")
    zones = collections.Counter(ds.read_name(m.query_zone, 0)[0] if m.query_zone else None for m in rr)
    t.info("reference: query_zone of the RESOLVER_RESPONSEs: %s" % dict(zones))
else:
    n = len(want)
    st = ds.check_dnstap_stats(t, res.stderr, received=n, responses=n, forwarded=n, frames=n)
    t.eq((st or {}).get("dropped"), 0, "stats: dropped 0")
lab.stop()
t.done()
