#!/usr/bin/env python3
"""tapxfr --dnstap-socket --dnstap-types client-response fed by Knot
Resolver (kresd 5, contrib/dnstap/kresd.conf).

kresd logs only its exchanges with clients (no RESOLVER_RESPONSE at all),
so with the default types tapxfr forwards nothing from it; with
--dnstap-types client-response each answer kresd sent is forwarded. kresd
(random port on 127.0.0.1) stubs tapxfr.test to a Knot DNS on loopback
(policy.STUB); a Python stub asks it the usual mix, then five questions
again (answered from kresd's cache: logged too).

The oracle is the client side: each CLIENT_RESPONSE carries the answer the
client got, so the collector must receive exactly one DNSXFR01 per answer:
"DNSXFR01" + the nameserver field (kresd's own address 127.0.0.1 when the
answer has AA set, which kresd clears on answers it builds itself: see
the count) + the answer's bytes. The CLIENT_QUERY messages kresd sends
(even with log_queries = false: without query bytes) are counted as
queries, never forwarded. Stats: responses == forwarded == answers,
received == all frames. --reference: fstrm_capture in place of tapxfr;
the frames are checked (types, response_address).
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
ds.require("kresd", "knot-resolver")
ds.require("knotd", "knot")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_kresd" + (" (reference)" if mode == "reference" else ""), limit=110)
work = tt.tempdir()
LOCAL = socket.inet_aton("127.0.0.1")
TYPES = {ds.CLIENT_RESPONSE}

lab = ds.AuthLab(work, child=False)
QUESTIONS = [(n, qt, True) for n, qt in lab.queries()]
QUESTIONS += QUESTIONS[:5]          # again: answered from the cache


def start(sock):
    return ds.Kresd(work, ds.free_port(), lab.stub, sock).start()


res = ds.run_resolver(t, mode, work, lab, "kresd", start, QUESTIONS, types=TYPES, capture=False,
                      extra_wait=lambda: len(QUESTIONS))
answers = [a for a in res.answers if a is not None]
want = [tt.MAGIC + (LOCAL if ds.is_aa(a) else ds.ZERO4) + a for a in answers]
missing, unexpected, text = tt.multiset_diff(res.got, want)
t.check(not missing and not unexpected,
        "one DNSXFR01 per answer kresd sent, byte-identical (%d expected, %d received)"
        % (len(want), len(res.got)), text)
n_aa = sum(1 for a in answers if ds.is_aa(a))
t.info("answers with AA set: %d of %d (nameserver field 127.0.0.1 on those)" % (n_aa, len(answers)))
if mode == "reference":
    msgs = [ds.decode_dnstap(f) for f in res.frames]
    types = collections.Counter(ds.TYPE_NAMES.get(m.mtype) for m in msgs)
    t.info("reference: kresd sent %s" % dict(types))
    t.check(set(types) <= {"CLIENT_QUERY", "CLIENT_RESPONSE"}, "reference: only CLIENT_* types")
    cr = [m for m in msgs if m.mtype == ds.CLIENT_RESPONSE]
    t.eq(len(cr), len(answers), "reference: one CLIENT_RESPONSE per answer")
    t.check(all(m.raddr == LOCAL for m in cr), "reference: response_address is kresd's own 127.0.0.1")
    cq = [m for m in msgs if m.mtype == ds.CLIENT_QUERY]
    t.info("reference: CLIENT_QUERY with query bytes: %d of %d" % (sum(1 for m in cq if m.query), len(cq)))
    t.eq(ds.expected_from_frames(res.frames).forwarded, 0,
         "reference: with the default types nothing from kresd would be forwarded")
else:
    n = len(want)
    st = ds.check_dnstap_stats(t, res.stderr, responses=n, forwarded=n)
    if st:
        t.check(st.get("received", 0) >= n, "stats: received %r >= %d answers (plus kresd's CLIENT_QUERY frames)"
                % (st.get("received"), n))
        t.eq(st.get("dropped"), 0, "stats: dropped 0")
lab.stop()
t.done()
