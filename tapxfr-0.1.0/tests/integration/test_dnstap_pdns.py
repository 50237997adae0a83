#!/usr/bin/env python3
"""tapxfr --dnstap-socket fed by PowerDNS Recursor (RESOLVER_RESPONSE),
with contrib/dnstap/recursor.lua (dnstapFrameStreamServer, responses
only).

pdns_recursor (random port on 127.0.0.1) sends tapxfr.test to a Knot DNS
on loopback (forward-zones: queries without RD, as to an authoritative
server). A Python stub asks it answers, NXDOMAIN, NODATA, a CNAME, an
empty non-terminal, a 1.5 kB TXT (truncated over UDP, retried over TCP)
and 30 plain names. Each answer Knot sent (tcpdump capture on lo, UDP and
reassembled TCP) must arrive once as DNSXFR01, byte-identical, with
nameserver 127.0.0.1 on AA answers; the stats agree (received == frames
== upstream answers, all forwarded). --reference: fstrm_capture in place
of tapxfr, and the frames are checked (only RESOLVER_RESPONSE, from Knot's
address and port).
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
ds.require("pdns_recursor", "pdns-recursor")
ds.require("knotd", "knot")
ds.require("tcpdump", "tcpdump")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_pdns" + (" (reference)" if mode == "reference" else ""), limit=110)
work = tt.tempdir()
LOCAL = socket.inet_aton("127.0.0.1")

lab = ds.AuthLab(work, child=False)
QUESTIONS = [(n, qt, True) for n, qt in lab.queries()]


def start(sock):
    return ds.PdnsRecursor(work, ds.free_port(), lab.forward, sock).start()


# pdns_recursor dies of SIGTERM (no handler: status -15) without flushing
# its dnstap queues: the run waits until everything arrived first (in
# reference mode a fixed time longer than its flush interval).
res = ds.run_resolver(t, mode, work, lab, "pdns", start, QUESTIONS, settle_fallback=3.0,
                      ok_rc=(0, -15))
want = res.upstream
t.check(len(want) >= len(QUESTIONS), "the capture holds %d answers of Knot for %d questions"
        % (len(want), len(QUESTIONS)))
missing, unexpected, text = tt.multiset_diff(res.got, want)
t.check(not missing and not unexpected,
        "one DNSXFR01 per Knot answer, byte-identical to the capture (%d expected, %d received)"
        % (len(want), len(res.got)), text)
ns = collections.Counter(socket.inet_ntoa(m[8:12]) for m in res.got)
t.eq(ns.get("127.0.0.1", 0), sum(1 for m in want if ds.is_aa(m[12:])),
     "nameserver 127.0.0.1 on every AA answer")
t.check(any(ds.is_tc(m[12:]) for m in res.got) and any(len(m) - 12 > 1232 for m in res.got),
        "the truncated answer and the 1.5 kB TCP answer both arrive")
if mode == "reference":
    msgs = [ds.decode_dnstap(f) for f in res.frames]
    types = collections.Counter(ds.TYPE_NAMES.get(m.mtype) for m in msgs)
    t.info("reference: pdns_recursor sent %s" % dict(types))
    t.eq(set(types), {"RESOLVER_RESPONSE"}, "reference: only RESOLVER_RESPONSE")
    t.check(all(m.raddr == LOCAL and m.rport == lab.port for m in msgs),
            "reference: response_address:port is Knot's 127.0.0.1@%d" % lab.port)
    zones = collections.Counter(ds.read_name(m.query_zone, 0)[0] if m.query_zone else None for m in msgs)
    t.info("reference: query_zone: %s; identity %r version %r"
           % (dict(zones), msgs[0].identity if msgs else None, msgs[0].version if msgs else None))
else:
    n = len(want)
    st = ds.check_dnstap_stats(t, res.stderr, received=n, responses=n, forwarded=n, frames=n)
    t.eq((st or {}).get("dropped"), 0, "stats: dropped 0")
lab.stop()
t.done()
