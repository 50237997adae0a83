#!/usr/bin/env python3
"""fstrm_replay of a generated dnstap file into tapxfr's socket: every
eligible message arrives, in order, and the stats add up.

tests/tools/gen_dnstap.py writes N Dnstap messages (N = 1,000,000 when
TAPXFR_LONG_TESTS=1, as CI sets it, else 20,000): CLIENT_QUERY/RESPONSE,
RESOLVER_QUERY/RESPONSE, AUTH_RESPONSE, IPv4 and IPv6, UDP and TCP. The
pure-Python reader of dnstap_servers decodes the file and computes the
expected DNSXFR01 messages under the contract (default types: the
RESOLVER_RESPONSE and AUTH_RESPONSE ones; nameserver = response_address
for AA over IPv4); its per-type counts must agree with gen_dnstap's own
--stats (an independent check of the oracle).

  tapxfr -t --dnstap-socket SOCK 127.0.0.1 PORT    (TCP collector)
  fstrm_replay -t protobuf:dnstap.Dnstap -u SOCK -r FILE

fstrm_replay exits 0 after tapxfr's FINISH. The collector must receive
the expected messages exactly, in file order (one connection, one queue).
Stats: received == N frames, queries == the *_QUERY frames, responses ==
forwarded == expected, dropped == 0. Then the same file once more with
--dnstap-types client-response: only the CLIENT_RESPONSE ones.
--reference: fstrm_capture in place of tapxfr: the frames it wrote must be
the file's, byte for byte.
"""
import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

LONG = os.environ.get("TAPXFR_LONG_TESTS") == "1"
N = 1000000 if LONG else 20000
ds.require("fstrm_replay", "fstrm-bin")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_replay" + (" (reference)" if mode == "reference" else ""),
            limit=580 if LONG else 110)
work = tt.tempdir()
path = os.path.join(work, "gen.fstrm")
stats_path = os.path.join(work, "gen.json")
t0 = time.time()
r = subprocess.run([sys.executable, "-B", tt.tool_path("gen_dnstap.py"), "--count", str(N), "--seed", "5",
                    "--out", path, "--stats", stats_path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   timeout=300)
if not t.check(r.returncode == 0, "gen_dnstap.py wrote %d messages (%.1f s)" % (N, time.time() - t0),
               r.stdout.decode(errors="replace")):
    t.done()
with open(stats_path) as f:
    gst = json.load(f)
t0 = time.time()
_ct, frames = ds.read_fstrm_file(path)
ex = ds.expected_from_frames(frames)
t.info("oracle (%.1f s): %s" % (time.time() - t0, ex.summary()))
t.eq(ex.frames, N, "the reader finds the %d frames" % N)
names = {ds.TYPE_NAMES[k]: v for k, v in ex.by_type.items()}
t.eq(names, {k: v for k, v in gst.items() if k in names or k.endswith(("_QUERY", "_RESPONSE"))},
     "per-type counts agree with gen_dnstap's --stats")
aa4 = sum(1 for m in ex.messages if m[8:12] != ds.ZERO4)
t.info("expected: %d messages, %d with a nameserver field" % (ex.forwarded, aa4))
allr = ds.expected_from_frames(frames, types={k for k in ds.TYPE_NAMES if k not in ds.QUERY_TYPES})
t.eq(sum(1 for m in allr.messages if m[8:12] != ds.ZERO4), gst.get("responses_aa_inet"),
     "responses with a nameserver field (AA over IPv4, all types) agree with gen_dnstap's count")
cex = ds.expected_from_frames(frames, types={ds.CLIENT_RESPONSE})
t.eq(cex.forwarded, gst.get("CLIENT_RESPONSE"), "client-response: one message per CLIENT_RESPONSE")


def replay(sink, sock):
    t0 = time.time()
    p = subprocess.run(["fstrm_replay", "-t", ds.CONTENT_TYPE.decode(), "-u", sock, "-r", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=500 if LONG else 90)
    t.eq(p.returncode, 0, "fstrm_replay exited 0 (%.1f s)" % (time.time() - t0))
    return p


for what, types, want_ex in (("default types", None, ex), ("client-response", {ds.CLIENT_RESPONSE}, cex)):
    if mode == "reference" and types is not None:
        break
    sock = os.path.join(work, "dt-%d.sock" % (types is None))
    sink = ds.make_sink(mode, work, sock=sock, types=types, tcp=True, name=what.replace(" ", "-"))
    sink.start()
    replay(sink, sock)
    if mode == "reference":
        sink.stop()
        got_frames = sink.frames()
        t.check(got_frames == frames, "reference: fstrm_capture wrote the file's %d frames, byte for byte"
                % len(frames))
        got = ds.expected_from_frames(got_frames).messages
    else:
        t0 = time.time()
        got = sink.wait(count=want_ex.forwarded, timeout=400 if LONG else 60)
        t.info("%s: %d messages at the collector %.1f s after the replay ended" % (what, len(got), time.time() - t0))
        rc = sink.stop(timeout=60)
        t.eq(rc, 0, "%s: tapxfr exited 0 on SIGTERM" % what)
        got = list(sink.messages)
        st = ds.check_dnstap_stats(t, sink.r.stderr, received=N, responses=want_ex.responses,
                                   forwarded=want_ex.forwarded, frames=N, what=what, oracle=want_ex)
        if st:
            t.eq(st.get("dropped"), 0, "%s: stats: dropped 0" % what)
            t.eq(st.get("queries"), want_ex.queries, "%s: stats: queries == the *_QUERY frames" % what)
        t.eq(sink.coll.partial, 0, "%s: no partial message at the collector" % what)
        sink.close()
    t.check(got == want_ex.messages, "%s: the collector received the %d expected messages, in file order"
            % (what, want_ex.forwarded), tt.first_order_diff(got, want_ex.messages))
t.done()
