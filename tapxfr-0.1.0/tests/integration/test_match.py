#!/usr/bin/env python3
"""tapxfr -r FILE --match off|count|require: query/response matching
(RFC 5452) against the oracle of tests/tools/gen_spoof.py.

gen_spoof.py (seed 5) writes a capture of clients querying resolvers
over UDP and TCP, IPv4 and IPv6, with genuine responses mixed with
spoofed ones of every kind (wrong ID, client port, server address,
question name, type or class, transport; before the query; a second
response; a response after the timeout; QDCOUNT-0 NOERROR), and with
responses that must match although they look odd (0x20 case change,
pipelined TCP answered out of order, QDCOUNT-0 FORMERR/SERVFAIL/NOTIMP/
REFUSED on the key alone), and unanswered queries. It reads its own
pcap back, applies the matching rules (see its docstring) and writes,
per mode, the DNSXFR01 messages that must reach a collector, in capture
order, and the exact counters. The DNSXFR01 message is "DNSXFR01" +
the responder's IPv4 address when AA is set and it came over IPv4, else
0.0.0.0, + the DNS message.

Runs, each to a TCP collector (--match-timeout is left at its default,
10 s of packet time):

  1. --match require: exactly the genuine (matched) responses, in order,
     byte-identical; match_queries, match_matched, match_unmatched,
     match_duplicates, match_unanswered, match_evicted (0),
     drop_unmatched (= unmatched + duplicates), responses, forwarded,
     queries exactly as expected; forwarded + dropped == responses.
  2. --match count: every response, in order; the same match_* counters
     as (1), drop_unmatched 0.
  3. --match off, and 4. no --match (the default): every response, in
     order; match_* and drop_unmatched 0 or absent.
"""
import collections
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_match")
work = tt.tempdir()
QUEUE = ["--queue-size", str(32 << 20)]
MATCH_KEYS = ("match_queries", "match_matched", "match_unmatched", "match_duplicates",
              "match_unanswered", "match_evicted", "drop_unmatched")


def gen(seed):
    pcap, js = os.path.join(work, "spoof.pcap"), os.path.join(work, "spoof.json")
    tool = tt.tool_path("gen_spoof.py")
    cmd = [sys.executable, "-B", tool, "--seed", str(seed), "--out", pcap, "--expected", js]
    print("   $ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if not t.check(r.returncode == 0, "gen_spoof.py exits 0 (its oracle agrees with the construction)",
                   r.stdout.decode(errors="replace")):
        t.done()
    t.info(r.stdout.decode(errors="replace").strip())
    r = subprocess.run([sys.executable, "-B", tool, "--check", "--out", pcap, "--expected", js],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    t.check(r.returncode == 0, "gen_spoof.py --check: the pcap read back gives the same expectations",
            r.stdout.decode(errors="replace"))
    with open(js) as f:
        return pcap, json.load(f)


pcap, ex = gen(5)
resp = ex["responses"]
case_of = collections.defaultdict(list)
for e in resp:
    case_of[bytes.fromhex(e["dnsxfr"])].append("%s/%s (frame %d)" % (e["case"], e["verdict"], e["frame"]))
t.info("cases: " + ", ".join("%s=%d" % (k, v["occurrences"]) for k, v in ex["cases"].items()))
for mode in ("require", "count"):
    t.info("%s expects: %s" % (mode, " ".join("%s=%d" % kv for kv in ex["modes"][mode]["counters"].items())))

# The data holds every case the feature needs, with the verdicts it needs.
need = {"wrong-id", "wrong-port", "wrong-server", "wrong-qname", "wrong-qtype", "wrong-qclass",
        "wrong-transport", "before-query", "duplicate", "late", "unanswered", "case-0x20", "qd0-rcode",
        "qd0-noerror", "tcp-simple", "tcp-pipelined", "udp-plain"}
t.check(need <= set(ex["cases"]), "the capture holds every case", sorted(need - set(ex["cases"])))
rc_ = ex["modes"]["require"]["counters"]
t.check(all(rc_[k] > 0 for k in ("match_matched", "match_unmatched", "match_duplicates", "match_unanswered"))
        and rc_["match_matched"] < rc_["responses"],
        "the expectations exercise matched, unmatched, duplicate and unanswered")

# Cross-check with the harness's own (independent) decoder: in off mode
# tapxfr forwards what the harness oracle sees.
ho = tt.oracle(pcap)
off_fwd = [bytes.fromhex(h) for h in ex["modes"]["off"]["forward"]]
if collections.Counter(ho.messages) == collections.Counter(off_fwd):
    t.check(ho.queries == ex["modes"]["off"]["counters"]["queries"],
            "the harness oracle agrees: same responses, %d queries" % ho.queries)
else:
    t.info("note: the harness oracle (tapxfr_test.oracle) sees %d responses, gen_spoof %d (its TCP view "
           "differs; informational)" % (len(ho.messages), len(off_fwd)))


def describe(m):
    return "%s [%s]" % (tt.describe(m), "; ".join(case_of.get(m, ["not in the capture"])))


def check_messages(what, got, want):
    if got == want:
        return t.check(True, "%s: the collector received exactly the expected %d messages, in order"
                       % (what, len(want)))
    missing, unexpected, _ = tt.multiset_diff(got, want)
    lines = []
    i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    lines.append("first difference at message %d of %d received, %d expected" % (i, len(got), len(want)))
    if i < len(want):
        lines.append("  expected: " + describe(want[i]))
    if i < len(got):
        lines.append("  received: " + describe(got[i]))
    for m, n in list(missing.items())[:8]:
        lines.append("missing x%d: %s" % (n, describe(m)))
    for m, n in list(unexpected.items())[:8]:
        lines.append("unexpected x%d: %s" % (n, describe(m)))
    if not missing and not unexpected:
        lines.append("(same messages, another order)")
    byc = collections.Counter(c.split(" ")[0] for m in missing.elements() for c in case_of.get(m, ["?"])[:1])
    byu = collections.Counter(c.split(" ")[0] for m in unexpected.elements() for c in case_of.get(m, ["?"])[:1])
    if byc:
        lines.append("missing by case: " + ", ".join("%s=%d" % kv for kv in sorted(byc.items())))
    if byu:
        lines.append("unexpected by case: " + ", ".join("%s=%d" % kv for kv in sorted(byu.items())))
    return t.check(False, "%s: the collector received exactly the expected %d messages, in order (got %d)"
                   % (what, len(want), len(got)), "\n".join(lines))


def run(what, mode):
    """Runs tapxfr on the capture; returns its stats (None when it failed)."""
    exp = ex["modes"][mode or "off"]
    want = [bytes.fromhex(h) for h in exp["forward"]]
    coll = tt.TCPCollector()
    args = QUEUE + ["-r", pcap] + (["--match", mode] if mode else []) + \
        ["--collector", "tcp://127.0.0.1:%d" % coll.port]
    r = tt.Run(args)
    rc = r.wait(40)
    if rc != 0:
        coll.kill()
        t.check(False, "%s: tapxfr exited 0 by itself (rc=%r)" % (what, rc), r.stderr[-1500:])
        return None
    t.check(True, "%s: tapxfr exited 0 by itself" % what)
    closed = coll.wait_closed(10)
    coll.kill()
    t.check(closed, "%s: tapxfr closed its connection" % what)
    check_messages(what, coll.messages, want)
    t.eq(coll.partial, 0, "%s: no incomplete message at the end of the stream" % what)
    st = r.stats
    if not t.check(st is not None, "%s: a 'tapxfr: stats:' line" % what, r.stderr[-1500:]):
        return None
    for k, v in exp["counters"].items():
        if mode in (None, "off") and k in MATCH_KEYS:
            t.check(st.get(k, 0) == 0, "%s: stats: %s is 0 or absent (got %r)" % (what, k, st.get(k)))
        else:
            t.eq(st.get(k), v, "%s: stats: %s" % (what, k))
    t.check(st.get("forwarded", 0) + st.get("dropped", 0) == st.get("responses"),
            "%s: stats: forwarded + dropped == responses (%r + %r, %r)"
            % (what, st.get("forwarded"), st.get("dropped"), st.get("responses")))
    t.info("%s: stats line: %s" % (what, " ".join("%s=%s" % kv for kv in st.items())))
    return st


st_req = run("--match require", "require")
st_cnt = run("--match count", "count")
if st_req is not None and st_cnt is not None:
    same = [k for k in MATCH_KEYS if k != "drop_unmatched"]
    t.eq({k: st_cnt.get(k) for k in same}, {k: st_req.get(k) for k in same},
         "count and require: the same match_* counters")
run("--match off", "off")
run("no --match (default off)", None)

t.done()
