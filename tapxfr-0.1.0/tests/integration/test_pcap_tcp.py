#!/usr/bin/env python3
"""tapxfr -t -r FILE over TCP, against the oracle.

A capture from tests/tools/gen_pcap.py (20000 packets, seed 7) is sent by
tapxfr -t to a Python TCP collector that sends the banner line
`dnslogger/DNSXFR01\\r\\n` and reassembles the 2-byte length prefixed
messages. For each set of flags:

* tapxfr exits 0 by itself, after closing its connection;
* the list of received messages equals the oracle's expected list
  EXACTLY and IN ORDER (capture order), with no bytes left over;
* the stats line: forwarded == expected count, forwarded + dropped ==
  responses, responses == the oracle's, drop_<reason> == the oracle's.

A last run has the collector send its banner late and in two pieces:
tapxfr must not send anything before it has read the whole line.
"""
import os
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_pcap_tcp")
work = tt.tempdir()

pcap = tt.gen_pcap(work, count=20000, seed=7)
linktype, frames = tt.read_pcap(pcap)


def run_case(what, args, ex, **collector_kw):
    want = ex.messages
    coll = tt.TCPCollector(**collector_kw)
    r = tt.Run(["-t"] + args + ["-r", pcap, "127.0.0.1", str(coll.port)])
    rc = r.wait(40)
    closed = coll.wait_closed(10)
    coll.kill()
    t.eq(rc, 0, "%s: tapxfr exited 0 by itself (%.1f s)" % (what, r.elapsed))
    t.check(closed, "%s: tapxfr closed its connection" % what)
    t.eq(coll.connections, 1, "%s: one connection" % what)
    t.check(coll.messages == want,
            "%s: received list == expected list, in capture order (%d expected, %d received)"
            % (what, len(want), len(coll.messages)),
            tt.first_order_diff(coll.messages, want) + "\n" + tt.multiset_diff(coll.messages, want)[2]
            + "\nstderr tail:\n" + r.stderr[-1500:])
    t.eq(coll.partial, 0, "%s: no incomplete message at the end of the stream" % what)
    tt.check_stats(t, r.stats, ex, what)
    return coll


variants = [
    ("default", [], {}),
    ("-D", ["-D"], {"drop_empty": True}),
    ("-A --max-size 512", ["-A", "--max-size", "512"], {"auth_only": True, "max_size": 512}),
]
for what, flags, kw in variants:
    ex = tt.oracle_frames(linktype, frames, **kw)
    t.info("oracle %s: %s" % (what, ex.summary()))
    run_case(what, flags, ex)

ex = tt.oracle_frames(linktype, frames)
coll = run_case("late banner in two pieces", [], ex, banner_delay=0.4)
t.eq(coll.early_bytes, 0, "late banner: tapxfr sent nothing before the whole banner line")
t.done()
