#!/usr/bin/env python3
"""tapxfr --dnstap-socket / --dnstap-listen fed by a real Unbound resolver
(RESOLVER_RESPONSE).

Set-up (all loopback, random ports): Knot DNS serves tapxfr.test on
127.0.0.1 and, when a random 127.x.y.z has port 53 free, the delegated
child sub.tapxfr.test there (so Unbound follows a referral). Unbound
resolves through a stub zone, with contrib/dnstap/unbound.conf (resolver
responses only). A Python stub asks it: answers, AAAA (qname
minimisation asks A first), MX, a CNAME, NXDOMAIN, NODATA, an empty
non-terminal, a 1.5 kB TXT (truncated over UDP at EDNS 1232: Unbound logs
the TC answer, then retries over TCP), names below the delegation, and
30 plain names.

Two independent oracles:
1. The reference run: Unbound once more, fresh, the same questions, with
   fstrm_capture as the dnstap reader; the frames are decoded by the
   pure-Python reader (dnstap_servers) and turned into the expected
   DNSXFR01 messages by the contract. The collector's messages must equal
   them as a multiset once the DNS ID is masked (Unbound picks random
   IDs; everything else is the same traffic).
2. A tcpdump capture on lo of what the authoritative servers answered
   during the run under test (UDP, and TCP reassembled): the collector
   must have received exactly one DNSXFR01 per upstream answer,
   byte-identical, with the answering server's address (127.0.0.1, or the
   child's 127.x.y.z) as nameserver field on AA answers and 0.0.0.0 on the
   referral.

Then the same over TCP (Unbound's dnstap-ip, dnstap-tls: no, into
--dnstap-listen). tapxfr exits 0 on SIGTERM with a stats line that agrees.
Unbound closes without waiting for FINISH: tapxfr must take that as a
normal close.

--reference: fstrm_capture stands in for tapxfr in the run under test too.
"""
import collections
import os
import socket
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("tcpdump on lo, an authoritative server on port 53")
ds.require("unbound", "unbound")
ds.require("knotd", "knot")
ds.require("tcpdump", "tcpdump")
ds.require("fstrm_capture", "fstrm-bin")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_unbound" + (" (reference)" if mode == "reference" else ""), limit=110)
work = tt.tempdir()
LOCAL = socket.inet_aton("127.0.0.1")

lab = ds.AuthLab(work)
t.info("auth1 127.0.0.1@%d, child %s" % (lab.port, "%s@53" % lab.child if lab.child else
                                         "none (no free port 53 on a 127.x address)"))
QUERIES = lab.queries()


def answered(answers, what):
    lost = [q for q, a in zip(QUERIES, answers) if a is None]
    t.check(not lost, "%s: Unbound answered all %d questions" % (what, len(answers)), "no answer: %s" % lost)
    bad = [q for q, a in zip(QUERIES, answers) if a is not None and ds.rcode(a) == 2]
    t.check(not bad, "%s: no SERVFAIL" % what, "SERVFAIL: %s" % bad)


# ---------------------------------------------------------------- reference run
rsock = os.path.join(work, "ref.sock")
ref = ds.FstrmCaptureSink(work, sock=rsock, name="reference").start()
ub = ds.Unbound(work, ds.free_port(), lab.stub, dnstap_sock=rsock, name="unbound-ref").start()
t.check(ds.wait_writers(rsock, 1, 10), "reference: Unbound connected to fstrm_capture")
answered(ds.ask(ub.port, QUERIES), "reference")
# Unbound flushes its dnstap queue every second (or every 32 messages) and
# drops what is still queued when it stops: let the timer run first.
ds.settle(ref, None)
rc, took = ub.stop()
t.eq(rc, 0, "reference: Unbound exited 0")
ref.stop()
ref_frames = ref.frames()
ref_ex = ds.expected_from_frames(ref_frames)
ref_msgs = [ds.decode_dnstap(f) for f in ref_frames]
t.info("reference: %s" % ref_ex.summary())
t.check(ref_ex.frames > 0 and set(ref_ex.by_type) == {ds.RESOLVER_RESPONSE},
        "reference: Unbound logged only RESOLVER_RESPONSE (%d frames)" % ref_ex.frames)
t.eq(ref_ex.forwarded, ref_ex.frames, "reference: every frame gives a DNSXFR01 message")
zones = collections.Counter(ds.read_name(m.query_zone, 0)[0] if m.query_zone else None for m in ref_msgs)
want_zones = {ds.ZONE} | ({"sub." + ds.ZONE} if lab.child else set())
t.check(set(zones) <= want_zones | {"test.", "."} and ds.ZONE in zones,
        "reference: query_zone (bailiwick) set: %s" % dict(zones))
upaddrs = {socket.inet_aton(a) for a, _p in lab.servers}
t.check(all(m.raddr in upaddrs and m.family == ds.INET for m in ref_msgs),
        "reference: response_address is the upstream server that answered")
t.check(any(m.proto == ds.TCP for m in ref_msgs) and
        any(ds.is_tc(m.response) and m.proto == ds.UDP for m in ref_msgs),
        "reference: the truncated UDP answer and its TCP retry are both logged")
t.check(all(m.identity and m.version and m.version.startswith(b"unbound") for m in ref_msgs),
        "reference: identity and version sent (%r)" % (ref_msgs[0].version if ref_msgs else None))


def run(what, sink_args, unbound_kw):
    """One run under test: returns (received messages, expected from the
    loopback capture, the sink)."""
    cap = lab.capture(what)
    sink = ds.make_sink(mode, work, name=what, **sink_args)
    sink.start()
    u = ds.Unbound(work, ds.free_port(), lab.stub, name="unbound-" + what, **unbound_kw).start()
    if "sock" in sink_args:
        t.check(ds.wait_writers(sink_args["sock"], 1, 10), "%s: Unbound connected" % what)
    else:
        t.check(ds.wait_until(lambda: ds.tcp_established(sink_args["tcp_listen"][1]) >= 1, 10),
                "%s: Unbound connected over TCP" % what)
    answered(ds.ask(u.port, QUERIES), what)
    ds.settle(sink, lambda: lab.expected(cap.path))
    rc, took = u.stop()
    t.eq(rc, 0, "%s: Unbound exited 0" % what)
    cap.stop()
    want = lab.expected(cap.path)
    if cap.kernel_drops:
        t.info("%s: NOTE tcpdump dropped %d packets" % (what, cap.kernel_drops))
    if mode == "reference":
        sink.stop()
        got = sink.messages
    else:
        got = sink.wait(count=len(want), timeout=10)
        got = list(got)
        t.check(sink.running(), "%s: tapxfr still running after Unbound closed the connection" % what)
        t.eq(sink.stop(), 0, "%s: tapxfr exited 0 on SIGTERM" % what)
        n = len(want)
        st = ds.check_dnstap_stats(t, sink.r.stderr, received=n, responses=n, forwarded=n, frames=n,
                                   what=what)
        t.eq((st or {}).get("dropped"), 0, "%s: stats: dropped 0" % what)
        drops = sink.coll.drops()
        if drops:
            t.info("%s: NOTE collector socket drops: %d" % (what, drops))
        sink.close()
    return got, want


for what, sink_args, ukw in (
        ("unix", {"sock": os.path.join(work, "dt.sock")}, None),
        ("tcp", {"tcp_listen": ("127.0.0.1", ds.free_port())}, None)):
    if "sock" in sink_args:
        ukw = {"dnstap_sock": sink_args["sock"]}
    else:
        ukw = {"dnstap_ip": "127.0.0.1@%d" % sink_args["tcp_listen"][1]}
    got, want = run(what, sink_args, ukw)
    t.check(len(want) > len(QUERIES), "%s: the capture holds %d upstream answers for %d questions"
            % (what, len(want), len(QUERIES)))
    missing, unexpected, text = tt.multiset_diff(got, want)
    t.check(not missing and not unexpected,
            "%s: one DNSXFR01 per upstream answer, byte-identical to the capture (%d expected, %d received)"
            % (what, len(want), len(got)), text)
    missing, unexpected, text = tt.multiset_diff([ds.mask_id(m) for m in got],
                                                 [ds.mask_id(m) for m in ref_ex.messages])
    t.check(not missing and not unexpected,
            "%s: the same messages as the reference run (DNS ID masked; %d reference)"
            % (what, len(ref_ex.messages)), text)
    ns = collections.Counter(socket.inet_ntoa(m[8:12]) for m in got)
    n_aa1 = sum(1 for m in want if m[8:12] == LOCAL)
    t.check(ns.get("127.0.0.1", 0) == n_aa1 and n_aa1 > 0,
            "%s: nameserver 127.0.0.1 on the %d AA answers of auth1" % (what, n_aa1))
    if lab.child:
        t.check(ns.get(lab.child, 0) > 0, "%s: nameserver %s on the child's AA answers (%d)"
                % (what, lab.child, ns.get(lab.child, 0)))
        t.check(any(m[8:12] == ds.ZERO4 and not ds.is_aa(m[12:]) and "sub." in ds.qinfo(m[12:])
                    for m in got), "%s: the referral to the child is forwarded with nameserver 0.0.0.0"
                % what)
    t.check(any(ds.is_tc(m[12:]) for m in got) and
            any(len(m) - 12 > 1232 for m in got),
            "%s: the truncated answer and the 1.5 kB TCP answer both arrive" % what)
    t.info("%s: nameserver fields: %s" % (what, dict(ns)))

lab.stop()
t.done()
