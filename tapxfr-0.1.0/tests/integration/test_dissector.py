#!/usr/bin/env python3
"""The Wireshark dissector contrib/wireshark/dnsxfr.lua on real tapxfr
traffic, decoded by tshark.

tapxfr replays contrib/sample.pcap (real kdig traffic to Knot DNS: 16
responses) into the harness's Python collectors, once over UDP and once
over TCP (the collector sends the banner "dnslogger/DNSXFR01\\r\\n").

* Live (root and tcpdump needed): tcpdump records both runs on lo; tshark
  with the dissector decodes the capture. For each way of recognising the
  traffic -- the heuristics (default), the same in tshark's two-pass mode
  (-2: a first pass without a tree, like Wireshark's), the port
  preferences (-o dnsxfr.udp_port:N -o dnsxfr.tcp_port:N, heuristics off)
  and Decode As (-d udp.port==N,dnsxfr ..., heuristics off) -- the 15 UDP
  datagrams and the 15 TCP messages decode to exactly the nameserver
  field, query name, type and rcode written down below from
  tapxfr-collect's output (README), in capture order; the DNS id and the
  TCP length prefix agree with the bytes the collectors received; the
  banner is "dnslogger/DNSXFR01"; the protocol column says DNSXFR; no
  frame is malformed and no expert item is a warning or an error. With
  heuristics off and no port given, nothing is decoded as DNSXFR01 (so
  the preferences and Decode As did the work).
* Reassembly (no root needed): the TCP messages the collector received
  are written into a capture as a TCP stream cut at awkward places (the
  banner in two segments, a length prefix split in two, messages spanning
  segments, several messages in one segment): the same 15 messages come
  out, each reported in the frame that completes it, without warnings
  (heuristics, port preference, and two passes).
* Errors: a datagram with a wrong magic and one shorter than the header
  (on the UDP port preference) carry the dnsxfr.bad_magic / dnsxfr.short
  expert errors, so the "no warnings" checks above can fail.

Skips (77) when tshark (with Lua) is missing; the live part needs root and
tcpdump and is skipped, with a note, without them.
"""
import os
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

TOP = os.path.dirname(tt.tests_srcdir())
LUA = os.path.join(TOP, "contrib", "wireshark", "dnsxfr.lua")
SAMPLE = os.path.join(TOP, "contrib", "sample.pcap")
BANNER = "dnslogger/DNSXFR01"

# Capture order, hand-written from tapxfr-collect's output for the sample
# (README): nameserver field, query name, query type, rcode.
A, NS, MX, TXT, AAAA, DNSKEY = 1, 2, 15, 16, 28, 48
NOERROR, NXDOMAIN, REFUSED = 0, 3, 5
LOCAL, ZERO = "127.0.0.1", "0.0.0.0"
EXPECTED = [
    (LOCAL, "example.com", A, NOERROR),
    (LOCAL, "example.com", AAAA, NOERROR),
    (LOCAL, "www.example.com", A, NOERROR),
    (LOCAL, "example.com", MX, NOERROR),
    (LOCAL, "example.com", NS, NOERROR),
    (LOCAL, "example.com", TXT, NOERROR),
    (LOCAL, "nope.example.com", A, NXDOMAIN),
    (ZERO, "www.sub.example.com", A, NOERROR),       # referral, not AA
    (ZERO, "example.org", A, REFUSED),
    (ZERO, "example.com", TXT, REFUSED),
    (LOCAL, "big.example.com", TXT, NOERROR),
    (LOCAL, "big.example.com", TXT, NOERROR),         # truncated (TC)
    (ZERO, "example.com", AAAA, NOERROR),             # AA, but over IPv6
    (ZERO, "mail.example.com", A, NOERROR),           # AA, but over IPv6
    (LOCAL, "example.com", A, NOERROR),               # the answer over TCP
    (LOCAL, "example.com", DNSKEY, NOERROR),
]

PI_WARN = 0x00600000           # expert severities: chat, note < warn < error
FIELDS = ["frame.number", "tcp.stream", "dnsxfr.length", "dnsxfr.magic", "dnsxfr.nameserver",
          "dns.id", "dns.qry.name", "dns.qry.type", "dns.flags.rcode", "dnsxfr.banner",
          "_ws.col.Protocol", "_ws.malformed", "_ws.expert.severity", "_ws.expert.message"]
SEP = "|"

if not os.path.isfile(LUA):
    tt.skip("%s missing" % LUA)
TSHARK = tt.require_tool("tshark")
t = tt.Test("test_dissector", limit=110)
work = tt.tempdir()
# A private home: no personal preferences, profiles or plugins of whoever
# runs the test can change what tshark does.
ENV = dict(os.environ, HOME=work, XDG_CONFIG_HOME=os.path.join(work, ".config"), LC_ALL="C")
version = subprocess.run([TSHARK, "-v"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=ENV).stdout.decode(errors="replace")
if "without Lua" in version or "Lua" not in version:
    tt.skip("tshark is built without Lua")
t.info(version.splitlines()[0])


def tshark(pcap, args=(), fields=FIELDS):
    """Runs tshark with the dissector on pcap. Returns (rows, stderr):
    one dict per frame that has a DNSXFR01 item or a malformed/expert
    warning, values split into lists by occurrence."""
    cmd = [TSHARK, "-n", "-X", "lua_script:" + LUA, "-r", pcap] + list(args) + [
        "-Y", "dnsxfr or _ws.malformed or _ws.expert.severity >= %d" % PI_WARN,
        "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=" + SEP]
    for f in fields:
        cmd += ["-e", f]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=60)
    err = "\n".join(line for line in r.stderr.decode(errors="replace").splitlines()
                    if "This could be dangerous" not in line)
    rows = []
    for line in r.stdout.decode(errors="replace").splitlines():
        cols = line.split("\t")
        rows.append({f: (cols[i].split(SEP) if i < len(cols) and cols[i] else [])
                     for i, f in enumerate(fields)})
    return r.returncode, rows, err


def messages(rows, tcp):
    """The decoded DNSXFR01 messages, in order, as dicts (one per
    message) from the UDP frames or the TCP frames."""
    out = []
    for row in rows:
        if bool(row["tcp.stream"]) != tcp or not row["dnsxfr.magic"]:
            continue
        for i in range(len(row["dnsxfr.magic"])):
            def pick(f):
                v = row[f]
                return v[i] if i < len(v) else None
            out.append({"frame": int(row["frame.number"][0]), "magic": pick("dnsxfr.magic"),
                        "ns": pick("dnsxfr.nameserver"), "id": pick("dns.id"),
                        "qname": pick("dns.qry.name"), "qtype": pick("dns.qry.type"),
                        "rcode": pick("dns.flags.rcode"), "length": pick("dnsxfr.length")})
    return out


def decoded(msgs):
    return [(m["ns"], m["qname"], int(m["qtype"] or -1), int(m["rcode"] or -1)) for m in msgs]


def facts(raw):
    """(nameserver, DNS id, DNSXFR01 length) of the bytes a collector got."""
    return [(socket.inet_ntoa(m[8:12]), struct.unpack_from(">H", m, 12)[0], len(m)) for m in raw]


def check_clean(what, rc, rows, err):
    t.eq(rc, 0, "%s: tshark exited 0" % what)
    t.check(not err.strip(), "%s: tshark printed nothing on stderr (no Lua error)" % what, err[-1500:])
    bad = [r for r in rows if r["_ws.malformed"]
           or any(int(s) >= PI_WARN for s in r["_ws.expert.severity"] if s.isdigit())]
    t.check(not bad, "%s: no malformed frame, no expert warning or error" % what,
            "\n".join("frame %s: %s" % (r["frame.number"], r["_ws.expert.message"]) for r in bad[:10]))


def check_stream(what, msgs, raw, tcp):
    """The decoded messages against the hand-written list and against the
    bytes the collector received."""
    t.eq(len(msgs), len(EXPECTED), "%s: %d DNSXFR01 messages decoded" % (what, len(EXPECTED)))
    t.check(all(m["magic"] == "DNSXFR01" for m in msgs), "%s: every magic is DNSXFR01" % what)
    t.eq(decoded(msgs), EXPECTED, "%s: nameserver, query name, type, rcode of each message, "
         "in capture order" % what)
    got = [(m["ns"], int(m["id"] or "-1", 0)) for m in msgs]
    t.eq(got, [(ns, i) for ns, i, _n in facts(raw)],
         "%s: nameserver and DNS id == the collector's bytes" % what)
    if tcp:
        t.eq([int(m["length"] or -1) for m in msgs], [n for _ns, _i, n in facts(raw)],
             "%s: each length prefix == the DNSXFR01 message length" % what)
    else:
        t.check(all(m["length"] is None for m in msgs), "%s: no length field over UDP" % what)


def banners(rows):
    return [b for r in rows for b in r["dnsxfr.banner"]]


# ---------------------------------------------------------------- run tapxfr
tt.tapxfr_bin()
if not os.path.isfile(SAMPLE):
    tt.skip("%s missing" % SAMPLE)
live = os.geteuid() == 0 and tt.which("tcpdump") is not None
ucoll, tcoll = tt.UDPCollector(), tt.TCPCollector()
cap = os.path.join(work, "dnsxfr.pcap")
td = None
if live:
    # -Z root: the file is opened after tcpdump drops privileges, and the
    # temp directory belongs to root. --immediate-mode: every packet is
    # written before SIGINT ends the capture.
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root",
                           "-w", cap, "udp port %d or tcp port %d" % (ucoll.port, tcoll.port)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tt._procs.append(td)
    first = td.stderr.readline().decode(errors="replace")
    t.check("listening on lo" in first, "tcpdump is listening on lo", first)

r = tt.run_tapxfr(["-r", SAMPLE, "127.0.0.1", str(ucoll.port)], timeout=20)
got_udp = ucoll.wait(count=len(EXPECTED), idle=0.5, timeout=5)
t.eq(r.rc, 0, "UDP: tapxfr exited 0")
t.eq(len(got_udp), len(EXPECTED), "UDP: the collector received the 16 responses")
r = tt.run_tapxfr(["-t", "-r", SAMPLE, "127.0.0.1", str(tcoll.port)], timeout=20)
tcoll.wait_closed(5)
t.eq(r.rc, 0, "TCP: tapxfr exited 0")
got_tcp = list(tcoll.messages)
t.eq(len(got_tcp), len(EXPECTED), "TCP: the collector received the 16 responses")
t.eq(got_tcp, got_udp, "TCP and UDP carried the same messages")

# ---------------------------------------------------------------- live capture
if live:
    time.sleep(0.3)
    td.send_signal(signal.SIGINT)
    try:
        _, tail = td.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        td.kill()
        _, tail = td.communicate()
    tail = tail.decode(errors="replace")
    t.check(re.search(r"^0 packets dropped by kernel", tail, re.M),
            "tcpdump: no packet dropped by the kernel", tail)
    t.info("tcpdump: " + " / ".join(line for line in tail.splitlines() if "packets" in line))
    uport, tport = str(ucoll.port), str(tcoll.port)
    off = ["--disable-heuristic", "dnsxfr_udp", "--disable-heuristic", "dnsxfr_tcp"]
    ways = [
        ("heuristics", []),
        ("heuristics, two passes", ["-2"]),
        ("port preferences", off + ["-o", "dnsxfr.udp_port:" + uport, "-o", "dnsxfr.tcp_port:" + tport]),
        ("Decode As", off + ["-d", "udp.port==%s,dnsxfr" % uport, "-d", "tcp.port==%s,dnsxfr" % tport]),
    ]
    for what, args in ways:
        rc, rows, err = tshark(cap, args)
        check_clean(what, rc, rows, err)
        check_stream(what + ", UDP", messages(rows, tcp=False), got_udp, tcp=False)
        check_stream(what + ", TCP", messages(rows, tcp=True), got_tcp, tcp=True)
        t.eq(banners(rows), [BANNER], "%s: the collector's banner line, once" % what)
        udp_frames = [r for r in rows if not r["tcp.stream"] and r["dnsxfr.magic"]]
        t.eq(len(udp_frames), len(EXPECTED), "%s: one UDP datagram per message" % what)
        cols = sorted(set(c for r in rows if r["dnsxfr.magic"] or r["dnsxfr.banner"]
                          for c in r["_ws.col.Protocol"]))
        t.eq(cols, ["DNSXFR"], "%s: protocol column of the DNSXFR01 frames" % what)
    rc, rows, err = tshark(cap, off)
    t.eq((rc, len(rows)), (0, 0), "heuristics off, no port: nothing decoded as DNSXFR01")
else:
    t.skip_part("live capture part (needs root and tcpdump)")

# ---------------------------------------------------------------- reassembly
CLIENT, SERVER = ("127.0.0.1", 40001), ("127.0.0.1", 5999)


def csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip_frame(src, dst, proto, l4):
    """An Ethernet/IPv4 frame with right checksums around the L4 bytes
    (whose checksum field is computed here too)."""
    sa, da = socket.inet_aton(src[0]), socket.inet_aton(dst[0])
    pseudo = sa + da + struct.pack(">BBH", 0, proto, len(l4))
    l4 = bytearray(l4)
    pos = 16 if proto == 6 else 6
    l4[pos:pos + 2] = struct.pack(">H", csum(pseudo + bytes(l4)) or (0xFFFF if proto == 17 else 0))
    ip = bytearray(struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0, sa, da))
    ip[10:12] = struct.pack(">H", csum(bytes(ip)))
    return b"\0" * 12 + b"\x08\x00" + bytes(ip) + bytes(l4)


class Stream:
    """Both directions of one TCP connection, as frames."""

    def __init__(self):
        self.frames = []
        self.seq = {CLIENT: 1000, SERVER: 5000}

    def seg(self, src, flags, data=b""):
        dst = SERVER if src == CLIENT else CLIENT
        ack = self.seq[dst] if flags != 0x02 else 0
        tcp = struct.pack(">HHIIBBHHH", src[1], dst[1], self.seq[src], ack, 5 << 4, flags,
                          65535, 0, 0) + data
        self.frames.append(ip_frame(src, dst, 6, tcp))
        self.seq[src] += len(data) + (1 if flags & 0x03 else 0)   # SYN, FIN


SYN, FIN, PSH_ACK, ACK, SYN_ACK, FIN_ACK = 0x02, 0x01, 0x18, 0x10, 0x12, 0x11
s = Stream()
s.seg(CLIENT, SYN)
s.seg(SERVER, SYN_ACK)
s.seg(CLIENT, ACK)
banner = (BANNER + "\r\n").encode()
s.seg(SERVER, PSH_ACK, banner[:7])                 # the banner in two pieces
s.seg(SERVER, PSH_ACK, banner[7:])
s.seg(CLIENT, ACK)
stream = b"".join(struct.pack(">H", len(m)) + m for m in got_tcp)
cuts = [1, 4, 9, 3, 60, 2, 200, 1, 1, 500, 7]      # then the rest in one piece
pos, completes = 0, []
for n in cuts + [len(stream)]:
    piece = stream[pos:pos + n]
    if not piece:
        break
    s.seg(CLIENT, PSH_ACK, piece)
    s.seg(SERVER, ACK)
    pos += len(piece)
s.seg(CLIENT, FIN_ACK)
s.seg(SERVER, FIN_ACK)
s.seg(CLIENT, ACK)
t.eq(pos, len(stream), "reassembly: the whole stream is in the capture")
seg_pcap = os.path.join(work, "segments.pcap")
tt.write_pcap(seg_pcap, tt.LT_ETHERNET, s.frames)
for what, args in [("reassembly, heuristics", []),
                   ("reassembly, two passes", ["-2"]),
                   ("reassembly, port preference", ["--disable-heuristic", "dnsxfr_tcp",
                                                    "-o", "dnsxfr.tcp_port:%d" % SERVER[1]])]:
    rc, rows, err = tshark(seg_pcap, args)
    check_clean(what, rc, rows, err)
    msgs = messages(rows, tcp=True)
    check_stream(what, msgs, got_tcp, tcp=True)
    t.eq(banners(rows), [BANNER], "%s: the banner, reassembled from two segments" % what)
    # Each message is reported in the frame that carries its last byte.
    ends, acc = [], 0
    for m in got_tcp:
        acc += 2 + len(m)
        ends.append(acc)
    # Frame numbers of the client's data segments, with their end offsets.
    bounds, off, fno = [], 0, 7            # frames 1-6: handshake, banner, ACK
    for n in cuts + [len(stream)]:
        piece = stream[off:off + n]
        if not piece:
            break
        off += len(piece)
        bounds.append((fno, off))
        fno += 2                           # a data segment, then its ACK
    want_frames = [next(f for f, e in bounds if e >= end) for end in ends]
    t.eq([m["frame"] for m in msgs], want_frames,
         "%s: each message is decoded in the frame that completes it" % what)

# ---------------------------------------------------------------- errors
bad = [ip_frame(("127.0.0.1", 40002), ("127.0.0.1", 5998), 17,
                struct.pack(">HHHH", 40002, 5998, 8 + len(p), 0) + p)
       for p in (b"DNSXFR00" + got_udp[0][8:], b"DNSXF")]
bad_pcap = os.path.join(work, "bad.pcap")
tt.write_pcap(bad_pcap, tt.LT_ETHERNET, bad)
rc, rows, err = tshark(bad_pcap, ["-o", "dnsxfr.udp_port:5998"])
t.eq(rc, 0, "errors: tshark exited 0")
msgs_by_frame = {int(r["frame.number"][0]): r["_ws.expert.message"] for r in rows}
t.check(any("bad magic" in m for m in msgs_by_frame.get(1, [])),
        "errors: a wrong magic is an expert error (dnsxfr.bad_magic)", rows)
t.check(any("Too short" in m for m in msgs_by_frame.get(2, [])),
        "errors: a 5-byte datagram is an expert error (dnsxfr.short)", rows)
t.eq(len(messages(rows, tcp=False)), 1, "errors: only the wrong magic shows a magic field")

ucoll.close()
tcoll.kill()
t.done()
