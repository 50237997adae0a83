#!/usr/bin/env python3
"""tapxfr -i --match require, live, against blind spoofing.

The test builds its own network as test_live_reassembly does: two network
namespaces (unique names per run, deleted at exit whatever happens) joined
by a veth pair, 10.54.0.1 / fd54::1 on the server end and 10.54.0.2 /
fd54::2 on the client end. No packet leaves the two namespaces.

* Server namespace: Knot DNS (dnstap_servers.Knot's config) serves
  v4.forge.test and v6.forge.test on 10.54.0.1@53 and fd54::1@53.
  A forger (this file run with --forger IFACE, a second process) reads
  the server end of the veth with an AF_PACKET socket and, for every query
  it sees going to Knot, injects forged answers toward the querier as
  Ethernet frames (valid IP and UDP checksums, the real source address
  and port of Knot), each carrying the markers A 203.0.113.66 and TXT
  "tapxfr-forged":
    - 20 with the right destination port and random DNS IDs (never the
      ID of a query seen on that address and port),
    - 3 with the right ID and a wrong destination port,
    - 2 with the right ID and port but another question (same name with
      another type; another name with the same type): these only once
      Knot's real answer has gone out (before it, Unbound would take a
      wrong question as a failed query and ask again, and the forger
      would answer that too).
  It never copies the real ID and port into one forgery with the real
  question: that would be a successful spoof, which no matching can see.
  Its frames bypass the qdisc (PACKET_QDISC_BYPASS) while Knot's answers
  leave through a token bucket (tbf, about 110 ms a packet): the
  random-ID forgeries overtake the real answer and reach Unbound's port
  while it still waits (checked; without tc/tbf only noted).
* Client namespace: Unbound (no dnstap, iterator only, no DNSSEC) on
  127.0.0.1@53 with stub zones to Knot: v4.forge.test over IPv4,
  v6.forge.test over IPv6. kdig asks it 20 + 10 names (A), so Unbound's
  upstream queries and Knot's answers cross the veth.
  Two tapxfr processes capture the client end of the veth at the same
  time (-i VETH, default filter), one with --match require, one with
  --match count, each forwarding over TCP to its TCPCollector (made
  inside the client namespace).

The oracle is independent of tapxfr: tcpdump on the client end of the
veth (what tapxfr sees) records Unbound's queries, Knot's answers and the
forgeries (told apart by the markers; the forger's own counts and the
kinds, classified against the captured queries, must agree with it).

Checks: kdig got the real address for every name, never a forged one
(Unbound rejected every forgery); the capture holds one genuine answer
per upstream query and 25 forgeries per query; --match require forwarded
exactly the genuine answers, each once, byte-identical, in capture order,
no forged marker in any of them; match_matched == genuine,
match_unmatched == drop_unmatched == the forgeries, match_duplicates 0;
--match count forwarded everything (genuine and forged, in capture
order: the forgeries did reach the capture) with the same match_*
counters and drop_unmatched 0.
"""
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

FORGED_A = bytes([203, 0, 113, 66])
FORGED_TXT = b"tapxfr-forged"
N_RANDOM_ID, N_WRONG_PORT, N_WRONG_Q = 20, 3, 2


def is_forged(dns):
    return FORGED_TXT in dns or b"\x00\x04" + FORGED_A in dns


# ------------------------------------------------------------ the forger


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _frame(eth_dst, eth_src, fam, src, dst, sport, dport, payload):
    """An Ethernet frame holding one UDP datagram, checksums right."""
    ulen = 8 + len(payload)
    if fam == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 17, ulen)
    else:
        pseudo = src + dst + struct.pack("!IxxxB", ulen, 17)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = 0xFFFF - _csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    if fam == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, random.randrange(65536), 0, 64, 17, 0,
                         src, dst)
        ip = ip[:10] + struct.pack("!H", 0xFFFF - _csum(ip)) + ip[12:]
        return eth_dst + eth_src + b"\x08\x00" + ip + udp
    ip = struct.pack("!IHBB16s16s", 6 << 28, ulen, 17, 64, src, dst)
    return eth_dst + eth_src + b"\x86\xdd" + ip + udp


def _udp_of(f):
    """(family, src, dst, sport, dport, payload) of an Ethernet frame with
    an unfragmented UDP datagram, or None."""
    if len(f) < 14:
        return None
    et = struct.unpack_from("!H", f, 12)[0]
    p = f[14:]
    if et == 0x0800 and len(p) >= 20 and p[9] == 17 and not struct.unpack_from("!H", p, 6)[0] & 0x3FFF:
        ihl = (p[0] & 15) * 4
        fam, src, dst, l4 = 4, p[12:16], p[16:20], p[ihl:struct.unpack_from("!H", p, 2)[0]]
    elif et == 0x86DD and len(p) >= 40 and p[6] == 17:
        fam, src, dst, l4 = 6, p[8:24], p[24:40], p[40:40 + struct.unpack_from("!H", p, 4)[0]]
    else:
        return None
    if len(l4) < 8:
        return None
    sport, dport, ulen = struct.unpack_from("!HHH", l4)
    return fam, bytes(src), bytes(dst), sport, dport, bytes(l4[8:ulen])


def _question(dns):
    """(qname wire, qtype, qclass) of the first question (no pointers)."""
    pos = 12
    while dns[pos]:
        pos += 1 + dns[pos]
    name = dns[12:pos + 1]
    qtype, qclass = struct.unpack_from("!HH", dns, pos + 1)
    return name, qtype, qclass


def _forged_dns(qid, rd, name, qtype, qclass):
    """A forged answer: AA, A 203.0.113.66 and TXT "tapxfr-forged"."""
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | (0x0100 if rd else 0), 1, 1, 0, 1)
    q = name + struct.pack("!HH", qtype, qclass)
    an = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 86400, 4) + FORGED_A
    ar = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 86400, 1 + len(FORGED_TXT)) + \
        bytes([len(FORGED_TXT)]) + FORGED_TXT
    return hdr + q + an + ar


def forger_main(ifname, servers_arg, out_path):
    servers = {socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)
               for a in servers_arg.split(",")}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    # Straight to the device: the forgeries skip the shaper that delays
    # Knot's answers (below), so that most of them reach Unbound while it
    # still waits for the real one.
    try:
        s.setsockopt(263, 20, 1)              # SOL_PACKET, PACKET_QDISC_BYPASS
    except OSError:
        pass
    s.settimeout(0.2)
    rng = random.SystemRandom()
    seen = set()          # (client, port, id) of every query seen
    pending = {}          # (client, port, id) -> frames to send after the real answer
    counts = {"queries": 0, "answers": 0, "random_id": 0, "wrong_port": 0, "wrong_question": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("forger: ready on %s" % ifname, flush=True)
    while not stop:
        try:
            f, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        d = _udp_of(f)
        if d is None:
            continue
        fam, src, dst, sport, dport, dns = d
        if len(dns) < 12 or is_forged(dns):
            continue
        qid, flags = struct.unpack_from("!HH", dns)
        if dport == 53 and dst in servers and not flags & 0x8000 and addr[2] != socket.PACKET_OUTGOING:
            try:
                name, qtype, qclass = _question(dns)
            except (IndexError, struct.error):
                continue
            counts["queries"] += 1
            seen.add((src, sport, qid))
            mac_cli, mac_srv = f[6:12], f[0:6]
            rd = flags & 0x0100

            def frame(i, port, n=name, t=qtype):
                return _frame(mac_cli, mac_srv, fam, dst, src, 53, port, _forged_dns(i, rd, n, t, qclass))
            for _ in range(N_RANDOM_ID):
                i = rng.randrange(65536)
                while (src, sport, i) in seen:
                    i = rng.randrange(65536)
                s.send(frame(i, sport))
                counts["random_id"] += 1
            for _ in range(N_WRONG_PORT):
                p = rng.randrange(1024, 65536)
                while p == sport or (src, p, qid) in seen:
                    p = rng.randrange(1024, 65536)
                s.send(frame(qid, p))
                counts["wrong_port"] += 1
            other_name = b"\x06forged" + name
            pending[(src, sport, qid)] = [frame(qid, sport, t=16 if qtype != 16 else 1),
                                          frame(qid, sport, n=other_name)]
        elif sport == 53 and src in servers and flags & 0x8000 and addr[2] == socket.PACKET_OUTGOING:
            counts["answers"] += 1
            for fr in pending.pop((dst, dport, qid), []):
                s.send(fr)
                counts["wrong_question"] += 1
    counts["pending_left"] = len(pending)
    with open(out_path, "w") as fo:
        json.dump(counts, fo)
    print("forger: done %s" % json.dumps(counts), flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["--forger"]:
    forger_main(*sys.argv[2:5])
    sys.exit(0)

# ------------------------------------------------------------ the test

import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("network namespaces, a veth pair, live capture, AF_PACKET injection")
IP = tt.require_tool("ip")
KDIG = tt.require_tool("kdig")
TCPDUMP = tt.require_tool("tcpdump")
ds.require("knotd", "knot")
UNBOUND = ds.require("unbound", "unbound")
tapxfr = tt.tapxfr_bin()
t = tt.Test("test_live_match", limit=75)
work = tt.tempdir()

SRV4, CLI4, SRV6, CLI6 = "10.54.0.1", "10.54.0.2", "fd54::1", "fd54::2"
Z4, Z6 = "v4.forge.test.", "v6.forge.test."
N4, N6 = 20, 10

# ------------------------------------------------------------ namespaces

Netns = tt.Netns
tt.fail_on_signals()

tag = "%d%03d" % (os.getpid(), random.randrange(1000))
srv = Netns("tapxfr-forge-srv-" + tag)
cli = Netns("tapxfr-forge-cli-" + tag)
VS, VC = ("tfs" + tag)[:15], ("tfc" + tag)[:15]
t.info("namespaces %s (server, %s) and %s (client, %s)" % (srv.name, VS, cli.name, VC))
subprocess.run([IP, "link", "add", VC, "netns", cli.name, "type", "veth", "peer", "name", VS,
                "netns", srv.name], check=True, timeout=10)
for ns, dev, a4, a6 in ((srv, VS, SRV4, SRV6), (cli, VC, CLI4, CLI6)):
    ns.ip("link", "set", "lo", "up")
    ns.ip("link", "set", dev, "up")
    ns.ip("addr", "add", a4 + "/24", "dev", dev)
    ns.ip("addr", "add", a6 + "/64", "dev", dev, "nodad")

# Knot's answers leave the server end through a token bucket (about 110
# ms a packet once the 256-byte burst is spent), so that the forger's
# frames, which bypass it, overtake them: then Unbound still waits on the
# port the forgeries hit. Not having tbf only weakens that part.
TC = tt.which("tc")
r = subprocess.run(srv.cmd([TC, "qdisc", "add", "dev", VS, "root", "tbf", "rate", "8kbit", "burst", "256",
                            "latency", "2s"]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   timeout=10) if TC else None
SHAPED = r is not None and r.returncode == 0
if not SHAPED:
    t.info("NOTE: no tc, or no tbf qdisc on %s (%s): Knot's answers are not delayed"
           % (VS, r.stdout.decode(errors="replace").strip() if r else "tc not found"))

# ------------------------------------------------------------ Knot


def zone(origin, net):
    return """$ORIGIN {o}
$TTL 300
@   IN SOA ns.{o} hostmaster.{o} 2026010101 3600 600 86400 300
@   IN NS  ns.{o}
ns  IN A   {a4}
ns  IN AAAA {a6}
""".format(o=origin, a4=SRV4, a6=SRV6) + "".join("n%02d IN A 10.54.%d.%d\n" % (i, net, i + 1)
                                                 for i in range(N4))


class NsKnot(ds.Knot):
    """dnstap_servers.Knot (no dnstap), run inside a namespace."""

    def __init__(self, ns, *a, **kw):
        super().__init__(*a, **kw)
        self.ns = ns

    def start(self, timeout=15):
        self.p = ds.Proc("knotd", self.ns.cmd([self.knotd, "-c", self.conf]), self.dir)
        if not self.p.wait_log(r"server started", timeout):
            raise RuntimeError("knotd did not start:\n" + self.p.tail())
        return self


knot = NsKnot(srv, work, {Z4: zone(Z4, 1), Z6: zone(Z6, 2)}, [(SRV4, 53), (SRV6, 53)])
knot.start()
knot.wait_zones([Z4, Z6])
t.check(knot.p.running(), "knotd runs in %s on %s@53 and %s@53" % (srv.name, SRV4, SRV6))

# ------------------------------------------------------------ Unbound

udir = os.path.join(work, "unbound")
os.mkdir(udir)
with open(os.path.join(udir, "root.hints"), "w") as f:
    f.write(".  3600000 IN NS a.root-servers.invalid.\n"
            "a.root-servers.invalid. 3600000 IN A %s\n" % ds.BLACKHOLE)
uconf = os.path.join(udir, "unbound.conf")
with open(uconf, "w") as f:
    f.write("""server:
    verbosity: 1
    interface: 127.0.0.1@53
    port: 53
    do-ip4: yes
    do-ip6: yes
    num-threads: 1
    so-reuseport: no
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: "{d}/unbound.pid"
    logfile: ""
    use-syslog: no
    log-time-ascii: yes
    module-config: "iterator"
    root-hints: "{d}/root.hints"
    do-not-query-localhost: no
    local-zone: "test." nodefault
    access-control: 127.0.0.0/8 allow
    prefetch: no
    qname-minimisation: no
    edns-buffer-size: 1232
    # Knot's answers come late (the shaper): no retransmission for that.
    infra-cache-min-rtt: 1500
stub-zone:
    name: "{z4}"
    stub-addr: {a4}
stub-zone:
    name: "{z6}"
    stub-addr: {a6}
""".format(d=udir, z4=Z4, z6=Z6, a4=SRV4, a6=SRV6))
unbound = ds.Proc("unbound", cli.cmd([UNBOUND, "-d", "-c", uconf]), udir)
t.check(unbound.wait_log(r"start of service", 15), "unbound runs in %s on 127.0.0.1@53" % cli.name,
        unbound.tail())

# ------------------------------------------------------------ capture, forger, tapxfr

pcap = os.path.join(work, "client.pcap")
dump = ds.Proc("tcpdump", cli.cmd([TCPDUMP, "-i", VC, "-n", "-s", "0", "-U", "--immediate-mode",
                                   "-B", "8192", "-w", pcap, "udp"]), work)
if not dump.wait_log(r"listening on", 10):
    raise RuntimeError("tcpdump did not start:\n" + dump.tail())

forger_out = os.path.join(work, "forger.json")
forger = ds.Proc("forger", srv.cmd([sys.executable, os.path.abspath(__file__), "--forger", VS,
                                    SRV4 + "," + SRV6, forger_out]), work)
t.check(forger.wait_log(r"forger: ready", 10), "the forger reads %s (AF_PACKET)" % VS, forger.tail())

runs = {}
for mode in ("require", "count"):
    with cli.inside():
        coll = tt.TCPCollector()       # 127.0.0.1 of the client namespace
    r = tt.Run(["netns", "exec", cli.name, tapxfr, "-i", VC, "--match", mode,
                "-t", "127.0.0.1", str(coll.port)], binary=IP, workdir=work)
    runs[mode] = (r, coll)
for mode, (r, coll) in runs.items():
    t.check(ds.wait_until(lambda: coll.connections >= 1 or not r.running(), 10) and r.running(),
            "tapxfr -i %s --match %s started and connected to its collector" % (VC, mode), r.stderr[-1500:])
time.sleep(0.3)          # pcap handles open and filtered

# ------------------------------------------------------------ queries

NAMES = [("n%02d.%s" % (i, Z4), "10.54.1.%d" % (i + 1)) for i in range(N4)] + \
        [("n%02d.%s" % (i, Z6), "10.54.2.%d" % (i + 1)) for i in range(N6)]
bad = []
forged_seen = []
for name, addr in NAMES:
    r = subprocess.run(cli.cmd([KDIG, "@127.0.0.1", "-p", "53", "+retry=1", "+timeout=5", name, "A"]),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    out = r.stdout.decode(errors="replace")
    ans = re.findall(r"^\S+\s+\d+\s+IN\s+A\s+(\S+)$", out, re.M)
    if "203.0.113.66" in out or "tapxfr-forged" in out:
        forged_seen.append(name)
    if r.returncode != 0 or "status: NOERROR" not in out or ans != [addr]:
        bad.append("%s: rc=%d answers %s\n%s" % (name, r.returncode, ans, out[-500:]))
t.check(not bad, "kdig via Unbound: each of the %d names has its real address, only it" % len(NAMES),
        "\n".join(bad[:5]))
t.check(not forged_seen, "kdig via Unbound: no forged record in any answer (Unbound rejected every "
        "forgery)", forged_seen)

time.sleep(0.5)
forger.stop(signal.SIGTERM, 10)
try:
    with open(forger_out) as f:
        fc = json.load(f)
except (OSError, ValueError):
    fc = {}
t.check(bool(fc), "the forger wrote its counts", forger.tail())
time.sleep(0.3)
dump.stop(signal.SIGINT, 10)
m = re.search(r"(\d+) packets? dropped by kernel", dump.text())
t.eq(int(m.group(1)) if m else None, 0, "tcpdump: no packet dropped by the kernel")

# ------------------------------------------------------------ the oracle

SRV = {socket.inet_aton(SRV4), socket.inet_pton(socket.AF_INET6, SRV6)}
lt, frames = tt.read_pcap(pcap)
upq, genuine, forged = [], [], []        # genuine/forged: (family, src, dns)
for _c, _o, fr in frames:
    d = tt.decode_frame(lt, fr)
    if isinstance(d, str):
        continue
    if len(d.payload) < 12:
        continue
    qr = d.payload[2] & 0x80
    if not qr and d.dport == 53 and d.dst in SRV:
        upq.append(d)
    elif qr and d.sport == 53 and d.src in SRV:
        (forged if is_forged(d.payload) else genuine).append(d)
nq = len(upq)
t.check(nq >= len(NAMES), "capture: %d upstream queries from Unbound for %d names" % (nq, len(NAMES)))
t.check(any(q.family == 6 for q in upq) and any(q.family == 4 for q in upq),
        "capture: upstream queries over IPv4 (%d) and IPv6 (%d)"
        % (sum(q.family == 4 for q in upq), sum(q.family == 6 for q in upq)))
qkeys = sorted((q.src, q.sport, struct.unpack_from(">H", q.payload)[0]) for q in upq)
akeys = sorted((a.dst, a.dport, struct.unpack_from(">H", a.payload)[0]) for a in genuine)
t.check(qkeys == akeys, "capture: one genuine answer from Knot per upstream query (%d answers)"
        % len(genuine))
PER_QUERY = N_RANDOM_ID + N_WRONG_PORT + N_WRONG_Q
nf6 = sum(x.family == 6 for x in forged)
t.check(nf6 == PER_QUERY * sum(q.family == 6 for q in upq) > 0, "capture: forgeries over IPv6 too (%d)" % nf6)
t.eq(len(forged), (N_RANDOM_ID + N_WRONG_PORT + N_WRONG_Q) * nq,
     "capture: %d forgeries per upstream query" % (N_RANDOM_ID + N_WRONG_PORT + N_WRONG_Q))
t.eq((fc.get("queries"), fc.get("answers"), fc.get("random_id"), fc.get("wrong_port"),
      fc.get("wrong_question"), fc.get("pending_left")),
     (nq, len(genuine), N_RANDOM_ID * nq, N_WRONG_PORT * nq, N_WRONG_Q * nq, 0),
     "forger: queries, answers, random-ID, wrong-port, wrong-question forgeries it made, nothing left")
# The forger never copied ID+port+question of a real query.
qinfo = {(q.src, q.sport, struct.unpack_from(">H", q.payload)[0]): ds.qinfo(q.payload) for q in upq}
qports = {(a, p) for a, p, _i in qinfo}
asked = {}
for q in upq:
    asked[ds.qinfo(q.payload).lower()] = asked.get(ds.qinfo(q.payload).lower(), 0) + 1
extra = {k: v for k, v in asked.items() if v > 1 or k not in {(n + " A").lower() for n, _a in NAMES}}
if extra:
    t.info("capture: upstream questions besides one per name: %s" % extra)
kinds = {"random_id": 0, "wrong_port": 0, "wrong_question": 0, "spoof": 0}
for x in forged:
    k = (x.dst, x.dport, struct.unpack_from(">H", x.payload)[0])
    if k not in qinfo:
        kinds["random_id" if (x.dst, x.dport) in qports else "wrong_port"] += 1
    elif ds.qinfo(x.payload).lower() != qinfo[k].lower():
        kinds["wrong_question"] += 1
    else:
        kinds["spoof"] += 1
t.eq(kinds, {"random_id": N_RANDOM_ID * nq, "wrong_port": N_WRONG_PORT * nq,
             "wrong_question": N_WRONG_Q * nq, "spoof": 0},
     "capture: the forgeries by kind (none with the real ID, port and question)")

# Where the forgeries fell relative to Knot's answer: with the shaper,
# the random-ID ones reach Unbound's port while it waits (without it Knot
# answers before the forger's first frame); the wrong-question ones
# always come after the answer, by design.
order = []
for _c, _o, fr in frames:
    x = tt.decode_frame(lt, fr)
    if not isinstance(x, str) and len(x.payload) >= 12 and x.payload[2] & 0x80 and x.sport == 53 \
            and x.src in SRV:
        order.append((x.dst, x.dport, is_forged(x.payload)))
answered_ports, early = set(), 0
for dst, dport, f_ in order:
    if not f_:
        answered_ports.add((dst, dport))
    elif (dst, dport) in qports and (dst, dport) not in answered_ports:
        early += 1
if SHAPED:
    t.check(early > 0, "capture: %d forgeries to a query's port arrived before Knot's answer to it" % early)
else:
    t.info("capture: %d forgeries to a query's port arrived before Knot's answer to it" % early)

want_req = [ds.dnsxfr_of_upstream(x.family, x.src, x.payload) for x in genuine]
want_cnt = [ds.dnsxfr_of_upstream(x.family, x.src, x.payload)
            for _c, _o, fr in frames for x in [tt.decode_frame(lt, fr)]
            if not isinstance(x, str) and len(x.payload) >= 12 and x.payload[2] & 0x80 and
            x.sport == 53 and x.src in SRV]

# ------------------------------------------------------------ tapxfr's side

for mode, (r, coll) in runs.items():
    n = len(want_req) if mode == "require" else len(want_cnt)
    ds.wait_until(lambda: len(coll.messages) >= n, 10)
time.sleep(0.3)
stats = {}
for mode, (r, coll) in runs.items():
    rc = r.terminate(15)
    coll.wait_closed(5)
    coll.kill()
    t.eq(rc, 0, "--match %s: tapxfr exited 0 on SIGTERM" % mode)
    got = list(coll.messages)
    want = want_req if mode == "require" else want_cnt
    t.eq(coll.partial, 0, "--match %s: collector: no partial message" % mode)
    if mode == "require":
        bad = [m for m in got if is_forged(m[12:])]
        t.check(not bad, "--match require: no forwarded message carries a forged marker (%d of %d do)"
                % (len(bad), len(got)))
    missing, unexpected, text = tt.multiset_diff(got, want)
    t.check(not missing and not unexpected,
            "--match %s: the collector got exactly the %d %s, each once, byte-identical (%d received)"
            % (mode, len(want), "genuine answers" if mode == "require" else
               "answers, genuine (%d) and forged (%d)" % (len(genuine), len(forged)), len(got)), text)
    t.check(got == want, "--match %s: ... in capture order" % mode, tt.first_order_diff(got, want))
    st = r.stats
    stats[mode] = st
    if not t.check(st is not None, "--match %s: a 'tapxfr: stats:' line on stderr" % mode, r.stderr[-1500:]):
        continue
    t.info("--match %s: stats line: %s" % (mode, " ".join("%s=%s" % kv for kv in st.items())))
    nf = len(forged)
    t.eq(st.get("responses"), len(genuine) + nf, "--match %s: stats: responses (genuine + forged)" % mode)
    t.eq(st.get("queries"), nq, "--match %s: stats: queries" % mode)
    t.eq(st.get("match_matched"), len(genuine), "--match %s: stats: match_matched == genuine answers" % mode)
    t.eq(st.get("match_unmatched"), nf, "--match %s: stats: match_unmatched == forgeries" % mode)
    t.eq(st.get("match_duplicates"), 0, "--match %s: stats: match_duplicates" % mode)
    t.eq(st.get("match_unanswered"), 0, "--match %s: stats: match_unanswered" % mode)
    if mode == "require":
        t.eq(st.get("drop_unmatched"), nf, "--match require: stats: drop_unmatched == forgeries")
        t.eq(st.get("forwarded"), len(genuine), "--match require: stats: forwarded == genuine answers")
    else:
        t.eq(st.get("drop_unmatched", 0), 0, "--match count: stats: drop_unmatched")
        t.eq(st.get("forwarded"), len(genuine) + nf, "--match count: stats: forwarded == all answers")
    if t.failed:
        t.info("--match %s: tapxfr's stderr (end):\n%s" % (mode, r.stderr[-1500:]))
if stats.get("require") and stats.get("count"):
    # match_latency_sum_us: the two pcap handles stamp the packets apart.
    keys = [k for k in stats["require"] if k.startswith("match_") and k != "match_latency_sum_us"]
    t.eq({k: stats["require"].get(k) for k in keys}, {k: stats["count"].get(k) for k in keys},
         "require and count (the same packets): the same match_* counters")
t.info("oracle: %d upstream queries, %d genuine answers, %d forgeries (%s)"
       % (nq, len(genuine), len(forged), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
unbound.stop()
knot.stop()
t.done()
