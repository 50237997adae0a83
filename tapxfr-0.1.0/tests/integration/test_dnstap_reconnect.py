#!/usr/bin/env python3
"""Reconnects both ways between Unbound and tapxfr's dnstap socket.

Unbound resolves through a stub zone served by Knot DNS on loopback, with
contrib/dnstap/unbound.conf. Each batch is 20 names nobody asked before
(one RESOLVER_RESPONSE each, NXDOMAIN from Knot), so what arrived is told
apart by question name.

1. tapxfr #1 listens, Unbound starts and connects; batch A. All of A
   arrives (the test waits for it), then tapxfr #1 gets SIGTERM: exit 0.
2. Batch G while no reader exists: Unbound queues it.
3. tapxfr #2 starts on the same path (it removes the stale socket file);
   Unbound reconnects by itself (its backoff is at most 1 s; the test
   allows 10 s) and sends its backlog: G arrives at tapxfr #2. Batch B:
   arrives.
4. Unbound is stopped (it closes without waiting for FINISH) while
   tapxfr #2 runs: tapxfr keeps running. Unbound #2 starts, connects,
   batch C: arrives. Unbound #2 stops, tapxfr #2 gets SIGTERM: exit 0.

Checks: every batch arrives complete at the right tapxfr, nothing twice,
nothing unexpected, nameserver field 127.0.0.1; the stats of tapxfr #2
count two connections (when the per-input counters show connections) and
received == what it forwarded. --reference: fstrm_capture in place of
tapxfr (the waits become fixed settle times).
"""
import collections
import time
import os
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("servers on loopback, like the other server tests")
ds.require("unbound", "unbound")
ds.require("knotd", "knot")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_reconnect" + (" (reference)" if mode == "reference" else ""), limit=110)
work = tt.tempdir()
sock = os.path.join(work, "dt.sock")
lab = ds.AuthLab(work, child=False)
B = {tag: lab.batch(tag) for tag in "AGBC"}


def names(msgs):
    return collections.Counter(ds.qinfo(m[12:]).split()[0] for m in msgs)


def ask_batch(u, tag):
    ans = ds.ask(u.port, B[tag])
    t.check(all(a is not None and ds.rcode(a) == 3 for a in ans),
            "batch %s: Unbound answered all %d questions (NXDOMAIN)" % (tag, len(ans)))


def wait_batch(sink, tags):
    """Waits until sink has every name of the batches (reference: a settle
    time longer than Unbound's 1 s flush timer)."""
    want = {n for tag in tags for n, _qt in B[tag]}
    if not sink.live:
        ds.settle(sink, None)
        return True
    return ds.wait_until(lambda: want <= set(names(sink.messages)), 15)


def check_got(what, msgs, tags):
    c = names(msgs)
    want = collections.Counter(n for tag in tags for n, _qt in B[tag])
    missing = want - c
    extra = c - want
    t.check(not missing, "%s: every name of batch %s arrived (%d)" % (what, "+".join(tags), sum(want.values())),
            "missing: %s" % sorted(missing)[:10])
    t.check(not extra, "%s: nothing else and nothing twice" % what, "extra: %s" % dict(extra))
    t.check(all(m[8:12] == b"\x7f\0\0\x01" for m in msgs), "%s: nameserver field 127.0.0.1 (AA answers)" % what)


# 1. tapxfr #1, Unbound, batch A
s1 = ds.make_sink(mode, work, sock=sock, name="first").start()
u1 = ds.Unbound(work, ds.free_port(), lab.stub, dnstap_sock=sock, name="unbound1").start()
t.check(ds.wait_writers(sock, 1, 10), "Unbound connected to the first reader")
ask_batch(u1, "A")
t.check(wait_batch(s1, "A"), "batch A arrived at the first reader")
rc = s1.stop()
t.eq(rc, 0, "first reader exited 0 on SIGTERM")
t.check(u1.p.wait_log(r"dnstap io: output closed by the other side|dnstap io: .*(closed|reset|broken)", 5),
        "Unbound noticed the reader went away")

# 2. batch G while nobody listens
ask_batch(u1, "G")

# 3. tapxfr #2 on the same path: Unbound reconnects and sends its backlog
s2 = ds.make_sink(mode, work, sock=sock, name="second").start()
t0 = time.time()
t.check(ds.wait_writers(sock, 1, 10), "Unbound reconnected to the second reader by itself (%.1f s)"
        % (time.time() - t0))
t.check(u1.p.wait_log(r"dnstap io: connected to", 5, count=2), "Unbound logged a second 'connected'")
wait_batch(s2, "G")
ask_batch(u1, "B")
t.check(wait_batch(s2, "GB"), "the backlog G and batch B arrived at the second reader")

# 4. Unbound restarted while tapxfr #2 runs
rc, took = u1.stop()
t.eq(rc, 0, "Unbound #1 exited 0")
t.check(s2.running(), "the second reader keeps running after Unbound closed its connection")
u2 = ds.Unbound(work, ds.free_port(), lab.stub, dnstap_sock=sock, name="unbound2").start()
t.check(ds.wait_writers(sock, 1, 10), "Unbound #2 connected to the running reader")
ask_batch(u2, "C")
t.check(wait_batch(s2, "GBC"), "batch C arrived")
rc, took = u2.stop()
t.eq(rc, 0, "Unbound #2 exited 0")
t.check(s2.running(), "the second reader still running after Unbound #2 left")

if mode == "reference":
    s2.stop()
    got1, got2 = s1.messages, s2.messages
else:
    got1 = list(s1.messages)
    got2 = list(s2.wait(count=60, timeout=5))
    rc = s2.stop()
    t.eq(rc, 0, "second tapxfr exited 0 on SIGTERM")
    st, inputs = ds.parse_stats_all(s2.r.stderr)
    ds.check_dnstap_stats(t, s2.r.stderr, received=len(got2), responses=len(got2), forwarded=len(got2),
                          what="second tapxfr")
    dc = ds.dnstap_counters(st, inputs)
    if "connections" in dc:
        t.eq(dc["connections"], 2, "second tapxfr: dnstap connections (Unbound #1, then #2)")
    ds.check_dnstap_stats(t, s1.r.stderr, received=len(got1), responses=len(got1), forwarded=len(got1),
                          what="first tapxfr")
    s1.close()
    s2.close()
check_got("first reader", got1, "A")
check_got("second reader", got2, "GBC")
lab.stop()
t.done()
