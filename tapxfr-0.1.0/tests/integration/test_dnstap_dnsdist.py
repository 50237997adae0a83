#!/usr/bin/env python3
"""tapxfr --dnstap-socket --dnstap-types client-response fed by dnsdist
(contrib/dnstap/dnsdist.conf: DnstapLogResponseAction on responses and
cache hits).

dnsdist logs only its answers to clients (CLIENT_RESPONSE), so with the
default types tapxfr forwards nothing from it; with --dnstap-types
client-response each answer it relayed is forwarded. dnsdist (random port
on 127.0.0.1) load-balances to one backend, a Knot DNS on loopback, and
relays Knot's answers as they are (AA set). A Python stub asks the usual
mix, then five questions again.

The oracle is the client side: each CLIENT_RESPONSE carries the answer the
client got, so the collector must receive exactly one DNSXFR01 per answer:
"DNSXFR01" + dnsdist's own address (127.0.0.1: response_address of a
CLIENT_RESPONSE is the server's side, not Knot's) when AA is set + the
answer's bytes. dnsdist buffers dnstap for up to a second and loses what is
buffered when it stops, so the test waits for everything before stopping
it. Stats: received == responses == forwarded == answers.
--reference: fstrm_capture in place of tapxfr; the frames are checked.
"""
import collections
import os
import socket
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("servers on loopback, like the other server tests")
ds.require("dnsdist", "dnsdist")
ds.require("knotd", "knot")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_dnsdist" + (" (reference)" if mode == "reference" else ""), limit=110)
work = tt.tempdir()
LOCAL = socket.inet_aton("127.0.0.1")
TYPES = {ds.CLIENT_RESPONSE}

lab = ds.AuthLab(work, child=False)
QUESTIONS = [(n, qt, True) for n, qt in lab.queries()]
QUESTIONS += QUESTIONS[:5]          # again


def start(sock):
    return ds.Dnsdist(work, ds.free_port(), ("127.0.0.1", lab.port), sock).start()


res = ds.run_resolver(t, mode, work, lab, "dnsdist", start, QUESTIONS, types=TYPES, capture=False,
                      extra_wait=lambda: len(QUESTIONS), settle_fallback=2.5, ok_rc=(0, -15))
answers = [a for a in res.answers if a is not None]
want = [tt.MAGIC + (LOCAL if ds.is_aa(a) else ds.ZERO4) + a for a in answers]
missing, unexpected, text = tt.multiset_diff(res.got, want)
t.check(not missing and not unexpected,
        "one DNSXFR01 per answer dnsdist sent, byte-identical (%d expected, %d received)"
        % (len(want), len(res.got)), text)
n_aa = sum(1 for a in answers if ds.is_aa(a))
t.check(n_aa > 0, "answers with AA set (relayed from Knot): %d of %d" % (n_aa, len(answers)))
t.eq(sum(1 for m in res.got if m[8:12] == LOCAL), n_aa, "nameserver field 127.0.0.1 on exactly those")
if mode == "reference":
    msgs = [ds.decode_dnstap(f) for f in res.frames]
    types = collections.Counter(ds.TYPE_NAMES.get(m.mtype) for m in msgs)
    t.info("reference: dnsdist sent %s" % dict(types))
    t.check(set(types) <= {"CLIENT_QUERY", "CLIENT_RESPONSE"}, "reference: only CLIENT_* types")
    cr = [m for m in msgs if m.mtype == ds.CLIENT_RESPONSE]
    t.eq(len(cr), len(answers), "reference: one CLIENT_RESPONSE per answer")
    t.check(all(m.raddr == LOCAL for m in cr), "reference: response_address is dnsdist's own 127.0.0.1")
    t.eq(types.get("CLIENT_QUERY", 0), 0, "reference: no CLIENT_QUERY (the snippet logs responses only)")
    t.eq(ds.expected_from_frames(res.frames).forwarded, 0,
         "reference: with the default types nothing from dnsdist would be forwarded")
else:
    n = len(want)
    st = ds.check_dnstap_stats(t, res.stderr, responses=n, forwarded=n)
    if st:
        t.eq(st.get("received"), n, "stats: received == answers (dnsdist logs responses only)")
        t.eq(st.get("dropped"), 0, "stats: dropped 0")
lab.stop()
t.done()
