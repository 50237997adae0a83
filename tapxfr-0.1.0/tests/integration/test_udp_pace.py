#!/usr/bin/env python3
"""A dnstap writer faster than UDP sending: tapxfr sends UDP on a thread
of its own, decodes faster than the kernel sends, and makes a dnstap
connection wait (stops reading) while a UDP collector's queue is short
of room, rather than dropping. A TCP collector that stops reading never
makes the input wait: its own queue overflows, counted, and the UDP
collector still gets everything.

Input: a gen_dnstap file (the oracle: dnstap_servers' own protobuf
reader computes the DNSXFR01 messages to expect), sent at full speed by
fstrm_blast.py (sendfile in large chunks) into --dnstap-socket, with a
small queue (--queue-size 256K, so that the queue would overflow within
a few reads if the input did not wait).

1. One UDP collector: it receives exactly the expected messages, in
   order; stats: forwarded == expected, drop_queue_full 0, dropped 0;
   the input line: frames == all frames, accepted == expected, pauses > 0
   (the input did wait). Exit 0 on SIGTERM.
2. The same input to a UDP collector and a TCP collector that sends its
   banner and never reads: the UDP collector receives exactly the
   expected messages in order; the input read every frame (FINISH came
   back to the writer); the TCP collector's line: drop_queue_full > 0 and
   queued + drop_queue_full == expected; the UDP collector's line:
   forwarded == expected, no drops. Exit 0 on SIGTERM (--flush-timeout 1:
   the TCP queue is dropped at the deadline, counted as drop_shutdown).
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

FRAMES = 60000
QUEUE = "256K"

t = tt.Test("test_udp_pace", limit=100)
work = tt.tempdir()

dtfile = os.path.join(work, "dt.fstrm")
r = subprocess.run([sys.executable, "-B", tt.tool_path("gen_dnstap.py"), "--count", str(FRAMES),
                    "--seed", "31", "--out", dtfile],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
if not t.check(r.returncode == 0, "gen_dnstap.py ran", r.stdout.decode(errors="replace")):
    t.done()
_ct, frames = ds.read_fstrm_file(dtfile)
ex = ds.expected_from_frames(frames)
want = ex.messages
E = len(want)
t.info("oracle: %s" % ex.summary())
t.check(sum(len(m) for m in want) > 8 * 256 * 1024,
        "the expected messages are far more than the queue holds (%d bytes)" % sum(len(m) for m in want))

def blast(sock):
    r = subprocess.run([sys.executable, "-B", tt.tool_path("fstrm_blast.py"), sock, dtfile],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return t.check(r.returncode == 0, "the whole file was sent and FINISH came back (fstrm_blast.py)",
                   r.stdout.decode(errors="replace")[-400:])


def check_udp(what, udp, run, name):
    got = udp.wait(count=E, idle=3.0, timeout=60)
    t.eq(len(got), E, "%s: the UDP collector received every expected message" % what)
    t.check(got == want, "%s: ... exactly the expected messages, in order" % what,
            tt.first_order_diff(got, want) if got != want else None)
    t.eq(udp.drops(), 0, "%s: the collector's socket dropped nothing" % what)
    # One collector: the global line is its line.
    cs = tt.coll_stats(run.stderr).get(name) if name else run.stats
    cs = cs or {}
    t.eq(cs.get("forwarded"), E, "%s: %s forwarded == expected" % (what, name or "stats"))
    t.eq(cs.get("drop_queue_full"), 0, "%s: %s drop_queue_full == 0" % (what, name or "stats"))
    return cs


def input_line(run, sock):
    return ds.parse_stats_all(run.stderr)[1].get("dnstap-socket " + sock) or {}


# ------------------------------------------------------------ 1. UDP only
t.info("--- 1. one UDP collector, --queue-size %s" % QUEUE)
udp = tt.UDPCollector()
sock = os.path.join(work, "dt1.sock")
run = tt.Run(["--queue-size", QUEUE, "--dnstap-socket", sock, "127.0.0.1", str(udp.port)], workdir=work)
if t.check(ds.wait_listening(sock), "tapxfr listens on the dnstap socket"):
    blast(sock)
    got = udp.wait(count=E, idle=3.0, timeout=60)
t.eq(run.terminate(15), 0, "1: tapxfr exits 0 on SIGTERM")
check_udp("1", udp, run, None)
st = run.stats or {}
t.eq(st.get("forwarded"), E, "1: stats forwarded == expected")
t.eq(st.get("dropped"), 0, "1: stats dropped == 0")
inl = input_line(run, sock)
t.eq(inl.get("frames"), len(frames), "1: the input read every frame")
t.eq(inl.get("accepted"), E, "1: the input accepted every expected message")
t.check((inl.get("pauses") or 0) > 0, "1: the input waited for room (pauses=%s)" % inl.get("pauses"))
udp.close()


# ------------------------------------------------------------ 2. UDP + stuck TCP
t.info("--- 2. a UDP collector and a TCP collector that never reads")
udp = tt.UDPCollector()
stuck = tt.StuckCollector()
sock = os.path.join(work, "dt2.sock")
uname, tname = "udp://127.0.0.1:%d" % udp.port, "tcp://127.0.0.1:%d" % stuck.port
run = tt.Run(["--queue-size", QUEUE, "--flush-timeout", "1", "--dnstap-socket", sock,
              "--collector", uname, "--collector", tname], workdir=work)
if t.check(ds.wait_listening(sock), "tapxfr listens on the dnstap socket"):
    t.check(ds.wait_until(lambda: len(stuck.conns) > 0, 10), "2: tapxfr connected to the TCP collector")
    blast(sock)
    udp.wait(count=E, idle=3.0, timeout=60)
t.eq(run.terminate(15), 0, "2: tapxfr exits 0 on SIGTERM")
check_udp("2", udp, run, uname)
tc = tt.coll_stats(run.stderr).get(tname) or {}
t.check(tc.get("drop_queue_full", 0) > 0, "2: the TCP collector's queue overflowed (drop_queue_full=%s)"
        % tc.get("drop_queue_full"))
t.eq((tc.get("queued") or 0) + (tc.get("drop_queue_full") or 0), E,
     "2: TCP collector: queued + drop_queue_full == expected")
inl = input_line(run, sock)
t.eq(inl.get("frames"), len(frames), "2: the input read every frame")
t.eq(inl.get("accepted"), E, "2: the input accepted every expected message")
udp.close()
stuck.close()
t.done()
