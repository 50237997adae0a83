#!/usr/bin/env python3
"""tapxfr -r FILE with IP fragment and DNS-over-TCP reassembly, against
the oracle of tests/tools/gen_wire.py.

NOT in INTEGRATION_TESTS yet: it describes what tapxfr must do once it
reassembles (IPv4/IPv6 fragments, DNS over TCP/53 from pcap input); until
then it runs and fails cleanly. Add it to Makefile.am with that work.

gen_wire.py writes a capture (seed 11, MTU 1280; and seed 12, MTU 576)
and the DNS responses a correct sensor forwards, each exactly once: the
ordinary UDP ones, whole fragmented datagrams (in order, reversed,
shuffled, duplicated, interleaved; an IPv6 atomic fragment), and DNS
over TCP (pipelined, split, coalesced, reordered, retransmitted, Fast
Open, RST, mid-stream pick-up, capture loss); never broken datagrams
(missing, overlapping, misaligned fragments), responses cut by a gap or
an RST, or the tail of a response before a mid-stream pick-up. See
gen_wire.py for the exact rules. The DNSXFR01 message of each is
"DNSXFR01" + the IPv4 source address when AA is set and the response came
over IPv4, else 0.0.0.0, + the DNS message (the same rule for TCP).

The default capture filter must let what reassembly needs through (IPv4
fragments without a UDP header, IPv6 fragment headers, TCP port 53): no
-f is given here.

Runs, each: tapxfr exits 0 by itself; what the collector received equals
the expected DNSXFR01 messages as a multiset, EXACTLY (each once, none
extra; a TCP collector: no bytes left over); the stats line: responses ==
the number of expected responses (broken datagrams and unforwardable TCP
messages are never decoded, so they are not responses), forwarded == the
same, forwarded + dropped == responses.

  1. -r CAPTURE --collector udp://127.0.0.1:PORT
  2. -r CAPTURE --collector tcp://127.0.0.1:PORT
  3. the MTU 576 capture, over UDP
  4. --no-reassembly (the option that turns it off): only the responses
     that need no reassembly ("needs": "none"), which are also exactly
     what the harness's oracle (tapxfr_test.oracle, no reassembly) expects;
     the atomic fragment counts as a fragment here, as in the contract
     the harness implements ("a fragment header (44) skips the packet").
  5. -T (one raw IP packet, no state): the first and a later fragment of
     fragmented responses (IPv4, IPv6) and a TCP segment that carries a
     whole response are not forwarded; a plain UDP response is (control).
"""
import collections
import json
import os
import socket
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_reassembly")
work = tt.tempdir()
QUEUE = ["--queue-size", str(32 << 20)]


def gen(name, seed, mtu):
    pcap, js = os.path.join(work, name + ".pcap"), os.path.join(work, name + ".json")
    cmd = [sys.executable, "-B", tt.tool_path("gen_wire.py"), "--seed", str(seed), "--mtu", str(mtu),
           "--out", pcap, "--expected", js]
    print("   $ " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if r.returncode != 0:
        t.check(False, "%s: gen_wire.py exits 0" % name, r.stdout.decode(errors="replace"))
        t.done()
    t.info(r.stdout.decode(errors="replace").strip())
    with open(js) as f:
        return pcap, json.load(f)


def dnsxfr(e):
    msg = bytes.fromhex(e["hex"])
    aa = struct.unpack_from(">H", msg, 2)[0] & 0x0400
    ns = socket.inet_aton(e["server"]) if aa and e["family"] == 4 else b"\0\0\0\0"
    return tt.MAGIC + ns + msg


def by_case(msgs, ex):
    """A short per-case account of the missing and unexpected messages."""
    case = {dnsxfr(e): e["case"] for e in ex["responses"]}
    case.update({dnsxfr(e): e["case"] + " (withheld: %s)" % e["why"] for e in ex["withheld"]})
    c = collections.Counter(case.get(m, "unknown") for m in msgs)
    return ", ".join("%s=%d" % kv for kv in sorted(c.items()))


def check_received(what, got, want, ex, drops=0):
    missing, unexpected, text = tt.multiset_diff(got, want)
    if missing:
        text += "\nmissing by case: " + by_case(list(missing.elements()), ex)
    if unexpected:
        text += "\nunexpected by case: " + by_case(list(unexpected.elements()), ex)
    if drops:
        return tt.check_udp_received(t, what, got, want, drops)
    return t.check(not missing and not unexpected,
                   "%s: received == expected, each once, none extra (%d expected, %d received)"
                   % (what, len(want), len(got)), text)


def check_stats(what, r, n):
    st = r.stats
    if not t.check(st is not None, "%s: a 'tapxfr: stats:' line" % what, r.stderr[-1500:]):
        return
    t.eq(st.get("responses"), n, "%s: stats: responses == expected responses" % what)
    t.eq(st.get("forwarded"), n, "%s: stats: forwarded" % what)
    t.check(st.get("forwarded", 0) + st.get("dropped", 0) == st.get("responses"),
            "%s: stats: forwarded + dropped == responses" % what)
    t.info("%s: stats line: %s" % (what, " ".join("%s=%s" % kv for kv in st.items())))


def run_udp(what, pcap, want, ex, n, extra=()):
    coll = tt.UDPCollector()
    r = tt.Run(QUEUE + list(extra) + ["-r", pcap, "--collector", "udp://127.0.0.1:%d" % coll.port])
    rc = r.wait(40)
    got = coll.wait(count=len(want), idle=1.0, timeout=15)
    drops = coll.drops()
    coll.close()
    if not t.eq(rc, 0, "%s: tapxfr exited 0 by itself" % what):
        t.info("stderr tail:\n" + r.stderr[-1500:])
    check_received(what, got, want, ex, drops)
    check_stats(what, r, n)


def run_tcp(what, pcap, want, ex, n):
    coll = tt.TCPCollector()
    r = tt.Run(QUEUE + ["-r", pcap, "--collector", "tcp://127.0.0.1:%d" % coll.port])
    rc = r.wait(40)
    closed = coll.wait_closed(10)
    coll.kill()
    if not t.eq(rc, 0, "%s: tapxfr exited 0 by itself" % what):
        t.info("stderr tail:\n" + r.stderr[-1500:])
    t.check(closed, "%s: tapxfr closed its connection" % what)
    check_received(what, coll.messages, want, ex)
    t.eq(coll.partial, 0, "%s: no incomplete message at the end of the stream" % what)
    check_stats(what, r, n)


pcap, ex = gen("mtu1280", 11, 1280)
want = [dnsxfr(e) for e in ex["responses"]]
t.check(len(set(want)) == len(want), "the expected DNSXFR01 messages are distinct (so 'each once' is exact)")
t.info("cases: " + ", ".join("%s=%d/%d" % (k, c["expected"], c["withheld"]) for k, c in ex["cases"].items()))

run_udp("udp", pcap, want, ex, len(want))
run_tcp("tcp", pcap, want, ex, len(want))

pcap576, ex576 = gen("mtu576", 12, 576)
want576 = [dnsxfr(e) for e in ex576["responses"]]
run_udp("udp, MTU 576", pcap576, want576, ex576, len(want576))

# ---- --no-reassembly: what the harness's oracle expects
plain = [dnsxfr(e) for e in ex["responses"] if e["needs"] == "none"]
ho = tt.oracle(pcap, reassembly=False)
t.check(collections.Counter(ho.messages) == collections.Counter(plain),
        "--no-reassembly: the harness's oracle expects exactly the 'needs: none' responses (%d, %d)"
        % (len(ho.messages), len(plain)))
run_udp("--no-reassembly", pcap, plain, ex, len(plain), ["--no-reassembly"])

# ---- -T: one packet, no reassembly state
linktype, frames = tt.read_pcap(pcap)


def ip_of(f):
    return f[14:]


def classify(f):
    """('frag4-first' | 'frag4-later' | 'frag6-first' | 'frag6-later' |
    'tcp-data' | None, DNS port)"""
    et = f[12] << 8 | f[13]
    if et == 0x0800:
        fo = (f[20] << 8 | f[21])
        if fo & 0x3FFF:
            return ("frag4-first" if fo & 0x1FFF == 0 else "frag4-later"), None
        ihl = (f[14] & 15) * 4
        if f[23] == 6:
            tcp = f[14 + ihl:]
            doff = (tcp[12] >> 4) * 4
            tot = f[16] << 8 | f[17]
            if (tcp[0] << 8 | tcp[1]) == 53 and tot - ihl - doff > 2:
                return "tcp-data", tcp[doff:tot - ihl]
    elif et == 0x86DD:
        if f[20] == 44:
            fo = f[56] << 8 | f[57]
            if fo == 0:
                return None, None          # atomic: not a fragment of anything
            return ("frag6-first" if fo & 0xFFF8 == 0 else "frag6-later"), None
        if f[20] == 6:
            tcp = f[54:]
            doff = (tcp[12] >> 4) * 4
            plen = f[18] << 8 | f[19]
            if (tcp[0] << 8 | tcp[1]) == 53 and plen - doff > 2:
                return "tcp-data", tcp[doff:plen]
    return None, None


whole_tcp = {bytes.fromhex(e["hex"]) for e in ex["responses"] if e["transport"] == "tcp"}
picked = collections.defaultdict(list)
for caplen, orig, f in frames:
    kind, payload = classify(f)
    if kind == "tcp-data":
        # a segment that holds exactly one whole response (length + message)
        n = payload[0] << 8 | payload[1]
        if n == len(payload) - 2 and payload[2:] in whole_tcp and len(picked[kind]) < 3:
            picked[kind].append(f)
    elif kind and len(picked[kind]) < 2:
        picked[kind].append(f)
control = [e for e in ex["responses"] if e["case"] == "udp-plain" and e["len"] <= 512][:2]
t.check(all(len(picked[k]) >= 2 for k in ("frag4-first", "frag4-later", "frag6-first", "frag6-later",
                                          "tcp-data")) and control,
        "-T: found fragments, TCP segments with a whole response and plain responses to try",
        repr({k: len(v) for k, v in picked.items()}))


def run_T(f):
    p = subprocess.run([tapxfr, "-T"], input=ip_of(f), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    out = p.stdout.decode(errors="replace")
    got = [ln.split(": ", 2)[-1].strip() for ln in out.splitlines() if "Received data:" in ln]
    return p.returncode, got


for e in control:
    rc, got = run_T(frames[e["frame"] - 1][2])
    t.check(rc == 0 and got == [dnsxfr(e).hex()], "-T: a plain UDP response is forwarded (control, %d bytes)"
            % e["len"], "rc=%r got=%r" % (rc, got))
for kind in sorted(picked):
    for f in picked[kind]:
        rc, got = run_T(f)
        t.check(rc == 0 and not got, "-T: %s: not forwarded" % kind, "rc=%r got=%r" % (rc, got))

t.done()
