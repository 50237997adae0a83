#!/usr/bin/env python3
"""tapxfr -i, live: IP fragments (IPv4 and IPv6) and DNS over TCP.

The test builds its own network: two network namespaces (unique names per
run, deleted at exit whatever happens) joined by a veth pair with MTU
1280, 10.53.0.1 / fd53::1 on the server end and 10.53.0.2 / fd53::2 on
the client end. TCP segmentation offload is turned off on both ends, so
TCP goes over the wire in MSS-sized segments as on a real link, and the
server namespace has net.ipv4.ip_no_pmtu_disc=1 (no DF: the kernel
fragments big UDP answers). No packet leaves the two namespaces.

* Server namespace: Knot DNS (its config as in dnstap_servers.Knot, plus
  udp-max-payload: 4096) serves live.test with TXT RRsets whose answers
  are about 1,300, 2,000, 3,000 and 4,000 bytes (over UDP: fragmented,
  3 to 4 IPv4 or IPv6 fragments each at MTU 1280) and one of 6,000 bytes.
* Client namespace: kdig asks each of the four names over UDP
  (+bufsize=4096 +notcp) and over TCP (+tcp), and the 6,000-byte one over
  UDP with +bufsize=4096: Knot answers truncated (TC, no records) and kdig
  retries over TCP. All of it over IPv4 and over IPv6: 20 answers.
  tcpdump records the client end of the veth; tapxfr runs there too
  (-i VETH, default capture filter, --max-size 65523 so that the 6,000
  byte answer is not dropped as oversize) and forwards over TCP to a
  TCPCollector whose socket is made inside the client namespace (on its
  loopback).

The oracle is independent of tapxfr: tshark reassembles the capture (IP
defragmentation, TCP desegmentation) and exports the DNS messages; each
response gives "DNSXFR01" + 10.53.0.1 (AA, IPv4) or 0.0.0.0 (IPv6) + the
DNS bytes. It is cross-checked against what kdig printed (DNS id,
transport, size and answer count of every answer, and the truncation
warnings) and against a scan of the raw capture (the exact number of
IPv4 and IPv6 fragments that MTU 1280 makes of the UDP answers, TCP
answers in several segments, no frame above the MTU).

Checks: the collector received exactly the responses kdig received,
byte-identical, in capture order, each once, nothing else (no query);
per kind (IPv4/IPv6 x fragmented UDP / whole UDP (TC) / TCP); tapxfr's
exit stats line: responses and forwarded == the number of answers,
dropped 0, queries == the number of queries kdig sent.
"""
import ctypes
import fcntl
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("network namespaces, a veth pair, live capture")
IP = tt.require_tool("ip")
KDIG = tt.require_tool("kdig")
TCPDUMP = tt.require_tool("tcpdump")
TSHARK = tt.require_tool("tshark")
ds.require("knotd", "knot")
tapxfr = tt.tapxfr_bin()
t = tt.Test("test_live_reassembly", limit=75)
work = tt.tempdir()

MTU = 1280
SRV4, CLI4, SRV6, CLI6 = "10.53.0.1", "10.53.0.2", "fd53::1", "fd53::2"
Z = "live.test."
MAX_SIZE = 65523

# ------------------------------------------------------------ namespaces

Netns = tt.Netns
tt.fail_on_signals()

SIOCETHTOOL, ETHTOOL_GTSO, ETHTOOL_STSO, ETHTOOL_GGSO, ETHTOOL_SGSO = 0x8946, 0x1E, 0x1F, 0x23, 0x24


def ethtool_value(ifname, cmd, data=0):
    """A legacy SIOCETHTOOL get/set of one ethtool_value (ethtool itself
    need not be installed); the caller is inside the namespace."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        buf = ctypes.create_string_buffer(struct.pack("II", cmd, data), 8)
        ifr = struct.pack("16sP", ifname.encode(), ctypes.addressof(buf)).ljust(40, b"\0")
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
        return struct.unpack("II", buf.raw[:8])[1]
    finally:
        s.close()


def write_sysctl(path, value):
    with open(os.path.join("/proc/sys", path), "w") as f:
        f.write(str(value))


tag = "%d%03d" % (os.getpid(), random.randrange(1000))
srv = Netns("tapxfr-live-srv-" + tag)
cli = Netns("tapxfr-live-cli-" + tag)
VS, VC = ("txs" + tag)[:15], ("txc" + tag)[:15]
t.info("namespaces %s (server, %s) and %s (client, %s)" % (srv.name, VS, cli.name, VC))
subprocess.run([IP, "link", "add", VC, "netns", cli.name, "type", "veth", "peer", "name", VS,
                "netns", srv.name], check=True, timeout=10)
for ns, dev, a4, a6 in ((srv, VS, SRV4, SRV6), (cli, VC, CLI4, CLI6)):
    ns.ip("link", "set", "lo", "up")
    ns.ip("link", "set", dev, "mtu", str(MTU), "up")
    ns.ip("addr", "add", a4 + "/24", "dev", dev)
    ns.ip("addr", "add", a6 + "/64", "dev", dev, "nodad")
    with ns.inside():
        tso_off = True
        try:
            ethtool_value(dev, ETHTOOL_STSO, 0)
            ethtool_value(dev, ETHTOOL_SGSO, 0)
            tso_off = ethtool_value(dev, ETHTOOL_GTSO) == 0 and ethtool_value(dev, ETHTOOL_GGSO) == 0
        except OSError as e:
            tso_off = False
            t.info("%s: cannot turn TSO/GSO off: %s" % (dev, e))
        if ns is srv:
            write_sysctl("net/ipv4/ip_no_pmtu_disc", 1)
    t.check(tso_off, "%s: TSO and GSO off (TCP leaves in MSS-sized segments)" % dev)

# ------------------------------------------------------------ zone, Knot


def txt_rrset(label, size):
    """TXT records at LABEL whose answer to a TXT query with EDNS (no
    options) is exactly SIZE bytes: header 12, question len(label)+1+
    len(Z)+1+4, OPT 11, each record 2 (pointer) + 10 + 1 + string."""
    body = size - 12 - (len(label) + 1 + len(Z) + 1 + 4) - 11
    out, i = [], 0
    while body > 0:
        rr = min(body, 253)
        if 0 < body - rr < 20:
            rr = body - 20
        s = ("%03d" % i + "abcdefghijklmnopqrstuvwxyz" * 10)[:rr - 13]
        out.append('%s IN TXT "%s"\n' % (label, s))
        body -= rr
        i += 1
    return "".join(out)


# label -> answer size over UDP with EDNS (over TCP without EDNS: 11 less)
SIZES = {"t1300": 1300, "t2000": 2000, "t3000": 3000, "t4000": 4000, "t6000": 6000}
BIG = "t6000"
zone = """$ORIGIN {o}
$TTL 300
@   IN SOA ns.{o} hostmaster.{o} 2026010101 3600 600 86400 300
@   IN NS  ns.{o}
ns  IN A   {a4}
ns  IN AAAA {a6}
""".format(o=Z, a4=SRV4, a6=SRV6) + "".join(txt_rrset(k, v) for k, v in SIZES.items())


class NsKnot(ds.Knot):
    """dnstap_servers.Knot (no dnstap), udp-max-payload 4096, run inside a
    namespace."""

    def __init__(self, ns, *a, **kw):
        super().__init__(*a, **kw)
        self.ns = ns
        with open(self.conf) as f:
            conf = f.read()
        with open(self.conf, "w") as f:
            f.write(conf.replace("server:\n", "server:\n    udp-max-payload: 4096\n", 1))

    def start(self, timeout=15):
        self.p = ds.Proc("knotd", self.ns.cmd([self.knotd, "-c", self.conf]), self.dir)
        if not self.p.wait_log(r"server started", timeout):
            raise RuntimeError("knotd did not start:\n" + self.p.tail())
        return self


knot = NsKnot(srv, work, {Z: zone}, [(SRV4, 53), (SRV6, 53)])
knot.start()
knot.wait_zones([Z])
t.check(knot.p.running(), "knotd runs in %s on %s@53 and %s@53" % (srv.name, SRV4, SRV6))

# ------------------------------------------------------------ capture, tapxfr

pcap = os.path.join(work, "client.pcap")
dump = ds.Proc("tcpdump", cli.cmd([TCPDUMP, "-i", VC, "-n", "-s", "0", "-U", "--immediate-mode",
                                   "-B", "8192", "-w", pcap]), work)
if not dump.wait_log(r"listening on", 10):
    raise RuntimeError("tcpdump did not start:\n" + dump.tail())

with cli.inside():
    coll = tt.TCPCollector()       # 127.0.0.1 of the client namespace
run = tt.Run(["netns", "exec", cli.name, tapxfr, "-i", VC, "--max-size", str(MAX_SIZE),
              "-t", "127.0.0.1", str(coll.port)], binary=IP, workdir=work)
t.check(ds.wait_until(lambda: coll.connections >= 1 or not run.running(), 10) and run.running(),
        "tapxfr -i %s started and connected to the collector" % VC, run.stderr[-1500:])

# ------------------------------------------------------------ queries

QUERIES = []          # (family, server, label, mode)
for fam, server in ((4, SRV4), (6, SRV6)):
    for label in ("t1300", "t2000", "t3000", "t4000"):
        QUERIES.append((fam, server, label, "udp"))
    for label in ("t1300", "t2000", "t3000", "t4000"):
        QUERIES.append((fam, server, label, "tcp"))
    QUERIES.append((fam, server, BIG, "udp-then-tcp"))

KDIG_ARGS = {"udp": ["+bufsize=4096", "+notcp"], "tcp": ["+tcp"], "udp-then-tcp": ["+bufsize=4096"]}


def kdig(server, label, mode):
    args = [KDIG, "@" + server, "-p", "53", "+retry=0", "+timeout=3"] + KDIG_ARGS[mode] + \
        [label + "." + Z, "TXT"]
    r = subprocess.run(cli.cmd(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=15)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


# What kdig printed: one entry per answer it received,
# (DNS id, transport, size or "TC", ANCOUNT).
kdig_seen = []
kdig_fail = []
for fam, server, label, mode in QUERIES:
    rc, out, err = kdig(server, label, mode)
    m_id = re.search(r"->>HEADER<<-.*\bid: (\d+)", out)
    m_sz = re.search(r"^;; Received (\d+) B", out, re.M)
    m_from = re.search(r"^;; From \S+\((UDP|TCP)\)", out, re.M)
    m_an = re.search(r"\bANSWER: (\d+)", out)
    if rc != 0 or not (m_id and m_sz and m_from and m_an):
        kdig_fail.append("%s %s %s: rc=%d\n%s%s" % (server, label, mode, rc, out[-600:], err[-300:]))
        continue
    qid = int(m_id.group(1))
    if re.search(r"truncated reply from \S+\(UDP\), retrying over TCP", out + err):
        kdig_seen.append((qid, "udp", "TC", 0))
    kdig_seen.append((qid, m_from.group(1).lower(), int(m_sz.group(1)), int(m_an.group(1))))
t.check(not kdig_fail, "kdig got an answer to each of the %d questions" % len(QUERIES), "\n".join(kdig_fail))
t.eq(sum(1 for k in kdig_seen if k[2] == "TC"), 2,
     "kdig: the %s answer over UDP was truncated and retried over TCP (IPv4, IPv6)" % BIG)

time.sleep(0.3)
dump.stop(signal.SIGINT, 10)
m = re.search(r"(\d+) packets? dropped by kernel", dump.text())
t.eq(int(m.group(1)) if m else None, 0, "tcpdump: no packet dropped by the kernel")

# ------------------------------------------------------------ the oracle


def tshark_dns(path):
    """The DNS messages in a capture, reassembled by tshark, in the order
    it completed them: [(frame, family, src bytes, transport, dns)]."""
    cmd = [TSHARK, "-n", "-r", path, "-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE",
           "-o", "tcp.desegment_tcp_streams:TRUE", "-Y", "dns", "-T", "json", "-x", "--no-duplicate-keys"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("tshark failed: %s" % r.stderr.decode(errors="replace")[-1000:])
    out = []
    for pkt in json.loads(r.stdout.decode() or "[]"):
        lay = pkt["_source"]["layers"]
        frame = int(lay["frame"]["frame.number"])
        one = lambda v: v[0] if isinstance(v, list) else v  # noqa: E731
        if "ipv6" in lay:
            fam, src = 6, socket.inet_pton(socket.AF_INET6, one(one(lay["ipv6"])["ipv6.src"]))
        else:
            fam, src = 4, socket.inet_aton(one(one(lay["ip"])["ip.src"]))
        proto = "tcp" if "tcp" in lay else "udp"
        raws = lay.get("dns_raw", [])
        if raws and not isinstance(raws[0], list):
            raws = [raws]
        for raw in raws:
            b = bytes.fromhex(raw[0])
            if proto == "tcp":
                if len(b) < 2 or struct.unpack_from(">H", b)[0] != len(b) - 2:
                    raise RuntimeError("frame %d: DNS over TCP without its length prefix" % frame)
                b = b[2:]
            out.append((frame, fam, src, proto, b))
    return out


msgs = tshark_dns(pcap)
resp = [x for x in msgs if len(x[4]) >= 12 and x[4][2] & 0x80]
queries = [x for x in msgs if len(x[4]) >= 12 and not x[4][2] & 0x80]


def hdr(dns):
    qid, fl, _qd, an = struct.unpack_from(">HHHH", dns)
    return qid, fl, an


def oracle_key(x):
    qid, fl, an = hdr(x[4])
    return (qid, x[3], "TC" if fl & tt.TC else len(x[4]), an)


t.eq(len(queries), len(QUERIES) + 2, "tshark: %d queries (one per question, plus the 2 TCP retries)"
     % (len(QUERIES) + 2))
t.eq(sorted(oracle_key(x) for x in resp), sorted(kdig_seen),
     "tshark's reassembled responses == what kdig printed (id, transport, size, answers) (%d)"
     % len(kdig_seen))

LOCAL4 = socket.inet_aton(SRV4)
want = []
kinds = {}                  # kind -> list of expected messages
for frame, fam, src, proto, dns in resp:
    qid, fl, an = hdr(dns)
    ns = src if fam == 4 and fl & tt.AA else b"\0\0\0\0"
    msg = tt.MAGIC + ns + dns
    want.append(msg)
    kind = "IPv%d %s" % (fam, "TCP" if proto == "tcp" else
                         "UDP truncated (TC)" if fl & tt.TC else "UDP fragmented")
    kinds.setdefault(kind, []).append(msg)

# Hand-written facts about the scenario.
ok_sizes, ok_ns = True, True
for frame, fam, src, proto, dns in resp:
    qid, fl, an = hdr(dns)
    label = dns[13:18].decode(errors="replace")
    want_len = SIZES.get(label, -1) - (11 if proto == "tcp" and label != BIG else 0)
    if fl & tt.TC:
        ok_sizes &= proto == "udp" and label == BIG and an == 0
    else:
        ok_sizes &= len(dns) == want_len and (proto == "tcp" or len(dns) <= 4096)
    ok_ns &= bool(fl & tt.AA) and src == (LOCAL4 if fam == 4 else socket.inet_pton(socket.AF_INET6, SRV6))
t.check(ok_sizes, "the answers are 1,300/2,000/3,000/4,000 bytes (UDP, EDNS; over TCP 11 less) and the "
        "6,000-byte one TC over UDP, whole over TCP")
t.check(ok_ns, "every answer comes from Knot (AA set, source %s or %s)" % (SRV4, SRV6))
t.eq({k: len(v) for k, v in sorted(kinds.items())},
     {"IPv4 TCP": 5, "IPv4 UDP fragmented": 4, "IPv4 UDP truncated (TC)": 1,
      "IPv6 TCP": 5, "IPv6 UDP fragmented": 4, "IPv6 UDP truncated (TC)": 1},
     "the answers by kind")

# The raw capture: fragments and segments really were on the wire.
lt, frames = tt.read_pcap(pcap)
frag4 = frag6 = 0
for _c, _o, f in frames:
    if tt.decode_frame(lt, f) == tt.FRAGMENT:
        et = struct.unpack_from(">H", f, 12)[0]
        frag4 += et == 0x0800
        frag6 += et == 0x86DD
want4 = sum(-(-(len(x[4]) + 8) // ((MTU - 20) & ~7)) for x in resp
            if x[1] == 4 and x[3] == "udp" and len(x[4]) + 28 > MTU)
want6 = sum(-(-(len(x[4]) + 8) // ((MTU - 48) & ~7)) for x in resp
            if x[1] == 6 and x[3] == "udp" and len(x[4]) + 48 > MTU)
t.eq(frag4, want4, "capture: IPv4 fragments of the UDP answers at MTU %d" % MTU)
t.eq(frag6, want6, "capture: IPv6 fragments of the UDP answers at MTU %d" % MTU)
segs = {}
for _c, _o, f in frames:
    s = ds._ip_tcp(lt, f)
    if s and s[3] == 53 and s[7]:
        segs[(s[1], s[4])] = segs.get((s[1], s[4]), 0) + 1
t.check(len(segs) == 10 and all(n >= 2 for n in segs.values()),
        "capture: each of the 10 TCP answers came in several segments (%s)" % sorted(segs.values()))
big = [len(f) for _c, _o, f in frames if len(f) > MTU + 14]
t.check(not big, "capture: no frame larger than the MTU (%d frames)" % len(frames), "sizes: %s" % big[:10])
t.info("oracle: %d responses (%d bytes of DNS), %d queries, %d IPv4 + %d IPv6 fragments, "
       "%d TCP segments with answer bytes" % (len(resp), sum(len(x[4]) for x in resp), len(queries),
                                              frag4, frag6, sum(segs.values())))

# ------------------------------------------------------------ tapxfr's side

ds.wait_until(lambda: len(coll.messages) >= len(want), 10)
time.sleep(0.3)                               # room for anything extra
rc = run.terminate(15)
coll.wait_closed(5)
coll.kill()
t.eq(rc, 0, "tapxfr exited 0 on SIGTERM")
got = list(coll.messages)
t.eq(coll.partial, 0, "collector: no partial message")
for kind, msgs_k in sorted(kinds.items()):
    have = [m for m in msgs_k if m in got]
    t.check(len(have) == len(msgs_k), "%s: the collector got all %d answers, byte-identical (%d)"
            % (kind, len(msgs_k), len(have)))
missing, unexpected, text = tt.multiset_diff(got, want)
t.check(not missing and not unexpected,
        "the collector received exactly the %d answers kdig received, each once, byte-identical "
        "(%d received)" % (len(want), len(got)), text)
t.check(got == want, "... in capture order", tt.first_order_diff(got, want))
t.check(all(len(m) >= 24 and m[12 + 2] & 0x80 for m in got), "no query forwarded")
st = run.stats
if t.check(st is not None, "a 'tapxfr: stats:' line on stderr", run.stderr[-1500:]):
    t.eq(st.get("responses"), len(want), "stats: responses")
    t.eq(st.get("forwarded"), len(want), "stats: forwarded")
    t.eq(st.get("dropped"), 0, "stats: dropped")
    nq_tcp = sum(1 for x in queries if x[3] == "tcp")
    t.eq(st.get("queries"), len(queries), "stats: queries: every query kdig sent (%d over UDP, %d over TCP)"
         % (len(queries) - nq_tcp, nq_tcp))
    keys = ("received", "reassembled", "malformed", "ignored", "held", "dns_error", "queries", "responses")
    if t.check(all(isinstance(st.get(k), int) for k in keys), "stats: has " + " ".join(keys)):
        t.eq(st["received"] + st["reassembled"],
             sum(st[k] for k in keys[2:]),
             "stats: received + reassembled == malformed + ignored + held + dns_error + queries + responses")
    t.info("stats line: %s" % " ".join("%s=%s" % kv for kv in st.items()))
    t.info("for comparison: %d UDP answers came in fragments, %d DNS messages over TCP (answers "
           "and queries)" % (sum(len(v) for k, v in kinds.items() if "fragmented" in k),
                             sum(1 for x in msgs if x[3] == "tcp")))
if t.failed:
    t.info("tapxfr's stderr (end):\n" + run.stderr[-1500:])
knot.stop()
t.done()
