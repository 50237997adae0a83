#!/usr/bin/env python3
"""tapxfr -r FILE over UDP, against the oracle.

A capture from tests/tools/gen_pcap.py (20000 packets, seed 7: IPv4/IPv6,
VLAN/QinQ, IPv4 options, zero UDP checksums, ~1% broken packets, non-DNS
UDP, TCP with DNS over TCP, mDNS, ICMP, ARP) is sent by tapxfr to a
Python UDP collector. For each set of flags:

* tapxfr exits 0 by itself;
* the multiset of received datagrams equals the oracle's expected
  DNSXFR01 messages EXACTLY (same bytes, same multiplicities);
* the stats line: forwarded == expected count, forwarded + dropped ==
  responses, responses == the oracle's, drop_<reason> == the oracle's.

Flag sets: none, -A, -D, --max-size 512, -A -D --max-size 512; inputs:
the file, the file twice (-r F -r F), the file on stdin (-r -), and the
same traffic converted to the other link types tapxfr decodes (raw IP,
BSD NULL and LOOP, Linux SLL and SLL2). Secondary: tapxfr-collect
(--format hex) receives the same messages in one run.
"""
import os
import re
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_pcap_udp")
work = tt.tempdir()
QUEUE = ["--queue-size", str(32 << 20)]

pcap = tt.gen_pcap(work, count=20000, seed=7)
linktype, frames = tt.read_pcap(pcap)


def run_case(what, args, ex, stdin=None, mult=1):
    """Runs tapxfr with args into a fresh collector; checks against ex
    (whose messages are expected `mult` times)."""
    want = ex.messages * mult
    coll = tt.UDPCollector()
    r = tt.Run(QUEUE + args + ["127.0.0.1", str(coll.port)], stdin=stdin)
    rc = r.wait(40)
    got = coll.wait(count=len(want), idle=1.0, timeout=15)
    drops = coll.drops()
    coll.close()
    t.eq(rc, 0, "%s: tapxfr exited 0 by itself (%.1f s)" % (what, r.elapsed))
    if not tt.check_udp_received(t, what, got, want, drops):
        t.info("stderr tail:\n" + r.stderr[-1500:])
    elif got != want and not drops:
        t.info("%s: note: same multiset, different order" % what)
    st = r.stats
    if mult == 1:
        tt.check_stats(t, st, ex, what)
    elif t.check(st is not None, "%s: a stats line" % what):
        t.eq(st.get("forwarded"), len(want), "%s: stats: forwarded" % what)
        t.eq(st.get("responses"), ex.responses * mult, "%s: stats: responses" % what)
        t.check(st.get("forwarded", 0) + st.get("dropped", 0) == st.get("responses"),
                "%s: stats: forwarded + dropped == responses" % what)
    return r


variants = [
    ("default", [], {}),
    ("-A", ["-A"], {"auth_only": True}),
    ("-D", ["-D"], {"drop_empty": True}),
    ("--max-size 512", ["--max-size", "512"], {"max_size": 512}),
    ("-A -D --max-size 512", ["-A", "-D", "--max-size", "512"],
     {"auth_only": True, "drop_empty": True, "max_size": 512}),
]
expect = {}
for what, flags, kw in variants:
    ex = tt.oracle_frames(linktype, frames, **kw)
    expect[what] = ex
    t.info("oracle %s: %s" % (what, ex.summary()))
    run_case(what, flags + ["-r", pcap], ex)

# The oracle's variants really differ (else the flag runs prove nothing).
t.check(len({e.forwarded for e in expect.values()}) == len(expect),
        "the flag variants expect different numbers of messages: %s"
        % ", ".join("%s=%d" % (k, e.forwarded) for k, e in expect.items()))

ex = expect["default"]
run_case("-r F -r F", ["-r", pcap, "-r", pcap], ex, mult=2)
with open(pcap, "rb") as f:
    run_case("-r - (stdin)", ["-r", "-"], ex, stdin=f)

# ---------------------------------------------------------------- link types
# Strip the Ethernet header (and any VLAN tags) of every IP frame and put
# the other link layers in front. Ethernet padding stays: the IP length
# must bound the packet.


def ip_part(f):
    et, off = (f[12] << 8) | f[13], 14
    while et in (0x8100, 0x88A8, 0x9100) and len(f) >= off + 4:
        et, off = (f[off + 2] << 8) | f[off + 3], off + 4
    if et in (0x0800, 0x86DD):
        return et, f[off:]
    return None, None


def sll(et, ip):
    return struct.pack(">HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01\0\0", et) + ip


def sll2(et, ip):
    return struct.pack(">HHIHBB8s", et, 0, 1, 1, 0, 6, b"\x02\0\0\0\0\x01\0\0") + ip


LINKS = [
    ("raw IP (101)", tt.LT_RAW, lambda et, ip: ip),
    ("BSD NULL (0)", tt.LT_NULL, lambda et, ip: struct.pack("<I", 2 if et == 0x0800 else 24) + ip),
    ("BSD LOOP (108)", tt.LT_LOOP, lambda et, ip: struct.pack(">I", 2 if et == 0x0800 else 24) + ip),
    ("Linux SLL (113)", tt.LT_SLL, sll),
    ("Linux SLL2 (276)", tt.LT_SLL2, sll2),
]
tcpdump = tt.which("tcpdump")
if not tcpdump:
    t.skip_part("the tcpdump cross-check of each link type (tcpdump not installed)")
for what, lt, wrap in LINKS:
    conv = []
    for caplen, orig, f in frames:
        et, ip = ip_part(f)
        if et is not None:
            conv.append((wrap(et, ip), orig - caplen + len(wrap(et, ip))))
    path = os.path.join(work, "lt%d.pcap" % lt)
    tt.write_pcap(path, lt, conv)
    ex = tt.oracle(path)
    t.eq(ex.forwarded, expect["default"].forwarded, "%s: the converted file expects the same count" % what)
    if tcpdump:
        # Cross-check of the file itself: libpcap's own 'udp port 53'
        # sees every packet the oracle decodes on port 53.
        p = subprocess.run([tcpdump, "-n", "-r", path, "udp port 53"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=30)
        exu = tt.oracle(path, reassembly=False)  # the UDP ones
        n53 = sum(1 for v in exu.verdicts if v in ("forward", "query", "dns_short", "dns_header"))
        t.check(len(p.stdout.splitlines()) >= n53,
                "%s: tcpdump 'udp port 53' sees %d packets >= oracle's %d decoded"
                % (what, len(p.stdout.splitlines()), n53))
    run_case(what, ["-r", path], ex)

# ---------------------------------------------------------------- tapxfr-collect
# Secondary: the C collector in one run. It prints only the messages its
# DNS walker accepts (it counts the others as invalid), and loopback UDP
# may drop at its socket, so the exact accounting is: every hex line is an
# expected message, and printed + invalid + kernel drops == expected.
if os.environ.get("TAPXFR_COLLECT"):
    collect = tt.collect_bin()
    ex = expect["default"]
    cmd = [collect, "-u", "127.0.0.1:0", "--format", "hex"]
    print("   $ " + " ".join(cmd), flush=True)
    outp = os.path.join(work, "collect.out")
    with open(outp, "wb") as out:
        cp = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
    tt._procs.append(cp)
    errlines = []
    port = [None]
    ready = threading.Event()

    def reader():
        for raw in cp.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            errlines.append(line)
            m = re.search(r"listening on udp 127\.0\.0\.1:(\d+)", line)
            if m:
                port[0] = int(m.group(1))
                ready.set()
        ready.set()

    rt = threading.Thread(target=reader, daemon=True)
    rt.start()
    ready.wait(10)
    if t.check(port[0] is not None, "tapxfr-collect: prints 'listening on udp 127.0.0.1:PORT'",
               "\n".join(errlines[:10])):
        r = tt.Run(QUEUE + ["-r", pcap, "127.0.0.1", str(port[0])])
        t.eq(r.wait(40), 0, "tapxfr-collect run: tapxfr exited 0")
        end, size, since = time.time() + 15, -1, time.time()
        while time.time() < end:            # until its output stops growing
            now = os.path.getsize(outp)
            if now != size:
                size, since = now, time.time()
            elif time.time() - since > 1.0:
                break
            time.sleep(0.1)
        drops = tt.udp_port_drops(port[0]) or 0
        cp.terminate()
        t.eq(cp.wait(10), 0, "tapxfr-collect: exits 0 on SIGTERM")
        rt.join(5)
        with open(outp, "rb") as f:
            out = f.read().decode("utf-8", "replace")
        got = [bytes.fromhex(ln.strip()) for ln in out.splitlines()
               if re.fullmatch(r"(?:[0-9a-f]{2})+", ln.strip())]
        summ = [re.search(r"received (\d+) messages, (\d+) invalid", ln) for ln in errlines]
        summ = [m for m in summ if m]
        if t.check(summ, "tapxfr-collect: prints 'received N messages, M invalid' at exit",
                   "\n".join(errlines[-5:])):
            nrecv, ninv = int(summ[-1].group(1)), int(summ[-1].group(2))
            t.info("tapxfr-collect: %d printed, %d invalid (DNS it cannot walk), %d dropped by the "
                   "kernel at its socket" % (nrecv, ninv, drops))
            t.eq(len(got), nrecv, "tapxfr-collect: one hex line per valid message")
            missing, unexpected, text = tt.multiset_diff(got, ex.messages)
            t.check(not unexpected, "tapxfr-collect: every hex line is an expected message", text)
            t.eq(nrecv + ninv + drops, ex.forwarded,
                 "tapxfr-collect: printed + invalid + kernel drops == expected count")
else:
    t.skip_part("tapxfr-collect check (TAPXFR_COLLECT not set)")

t.done()
