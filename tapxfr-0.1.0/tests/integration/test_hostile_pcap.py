#!/usr/bin/env python3
"""Hostile pcap files: broken records and broken packets next to a good
capture. tapxfr must report and skip each bad record or packet with the
counter that names the reason, keep reading the other files, deliver
every eligible message of the good file exactly, and exit 0.

Files (written here, except the good one, which is gen_pcap output):

  good.pcap    gen_pcap (Ethernet, VLAN tags, IPv4 options, IPv6), kept
               to the frames the oracle decodes as UDP port 53 (so that
               every pkt_ counter below comes from the hostile files).
  lengths.pcap raw IP (LINKTYPE_RAW): absurd IPv4 header lengths (IHL 4,
               IHL 15 in a short packet), bad header checksum, total
               length below the header and far beyond the capture, UDP
               length 0, 7, 65535 and one byte over, a UDP header cut to
               4 bytes, IPv6 payload length beyond the capture, IPv6
               zero UDP checksum, an IP version of 5, a 10-byte packet,
               an IPv4 fragment, TCP; and the boundaries that must still
               be forwarded (IHL 15 with 40 bytes of valid options, a
               UDP length shorter than the IP payload).
  snaplen.pcap Ethernet records captured with a 64-byte snaplen (caplen <
               origlen): cut inside the Ethernet header, the IPv4 header,
               the IPv4 payload, the IPv6 payload; a small response that
               fits is forwarded.
  snaphdr.pcap full records in a file whose header says snaplen 48:
               libpcap hands out only the first 48 bytes of each record.
  ext6.pcap    IPv6 extension header chains (hop-by-hop, destination
               options, routing with no segments left, AH) of 0 to 12
               headers: up to 8 are skipped and the response forwarded,
               more are refused as pkt_ext_headers (the documented limit,
               PKT_MAX_EXT_HEADERS; the Python oracle has no limit, so the
               test applies it); a header longer than the payload, a
               chain cut before a header's length, a chain ending in a
               fragment header and one ending in "no next header".
  cut_data.pcap / cut_hdr.pcap / caplen.pcap: gen-like records, the file
               cut in the middle of a record's data, in the middle of a
               record header, and a record header claiming a capture
               length of 0xffffffff: libpcap reports a read error, tapxfr
               logs "FILE: read error: ..." once, keeps every record
               before it and treats the file as ended.

The expected verdict of every constructed packet is written next to it
and cross-checked against the oracle of tapxfr_test.py (MALFORMED,
FRAGMENT, NOT_UDP or forwarded), then the DNSXFR01 messages come from
the oracle. A permissive filter (-f "greater 0") hands every record to
the decoder: the default filter would drop some of the broken packets in
BPF already (and never matches IPv6 extension headers), which would make
the counts depend on libpcap's filter code instead of tapxfr.

Runs:
 1. files only, TCP collector: tapxfr exits 0 by itself; the collector
    received exactly the expected messages (the good file's in order);
    the stats line: received, malformed (= the sum of the pkt_ reasons
    but fragment and not_udp), ignored, every pkt_<reason> exactly,
    responses == forwarded == expected, dropped 0; one read-error
    warning per cut file and none for the others.
 2. the same files plus a dnstap socket (a live input, so tapxfr keeps
    running): once everything arrived, SIGTERM: exit 0, same counters.
 3. a file cut inside its 24-byte file header next to the good file:
    a startup error, exit 2, naming the file; nothing sent.
 4. IPv6 with a type 2 routing header with segments left (RFC 8200 8.1:
    the UDP checksum covers the final destination, the routing header's
    last address; the oracle implements it): must be forwarded.
"""
import collections
import os
import re
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_hostile_pcap", limit=85)
work = tt.tempdir()
FILTER = "greater 0"
MAX_EXT = 8   # PKT_MAX_EXT_HEADERS
NOT_COUNTED_MALFORMED = ("fragment", "not_udp")   # counted as "ignored"



def wait_until(cond, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


# ------------------------------------------------------------ packet builders


def csum(data):
    s = 0
    for i in range(0, len(data) - 1, 2):
        s += (data[i] << 8) | data[i + 1]
    if len(data) & 1:
        s += data[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def dns_resp(qid, aa=True, an=1):
    flags = 0x8000 | (0x0400 if aa else 0) | 0x0100 | 0x0080
    q = b"\x07hostile\x04test\x00\x00\x01\x00\x01"
    a = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\xc0\x00\x02\x01" * an
    return struct.pack(">HHHHHH", qid, flags, 1, an, 0, 0) + q + a


def udp4(src, dst, payload, ulen=None, zero=False):
    n = 8 + len(payload)
    ulen = n if ulen is None else ulen
    seg = struct.pack(">HHHH", 53, 40000, ulen, 0) + payload
    pseudo = src + dst + struct.pack(">BBH", 0, 17, ulen)
    c = 0 if zero else (csum(pseudo + seg[:max(8, min(ulen, n))]) or 0xFFFF)
    return seg[:6] + struct.pack(">H", c) + seg[8:]


def udp6(src, dst, payload, zero=False):
    ulen = 8 + len(payload)
    seg = struct.pack(">HHHH", 53, 40000, ulen, 0) + payload
    c = 0 if zero else (csum(src + dst + struct.pack(">IxxxB", ulen, 17) + seg) or 0xFFFF)
    return seg[:6] + struct.pack(">H", c) + seg[8:]


def ip4(src, dst, seg, proto=17, frag=0x4000, options=b"", ihl=None, total=None, version=4,
        bad_csum=False):
    ihl = 5 + len(options) // 4 if ihl is None else ihl
    total = 20 + len(options) + len(seg) if total is None else total
    h = struct.pack(">BBHHHBBH4s4s", (version << 4) | ihl, 0, total, 1, frag, 64, proto, 0, src, dst)
    h += options
    hl = min(max(ihl * 4, 20), len(h))
    c = csum(h[:hl])
    if bad_csum:
        c ^= 0x5555
    h = h[:10] + struct.pack(">H", c) + h[12:]
    return h + seg


def ip6(src, dst, seg, nh=17, ext=b"", plen=None):
    plen = len(ext) + len(seg) if plen is None else plen
    return struct.pack(">IHBB16s16s", 0x60000000, plen, nh, 64, src, dst) + ext + seg


S4, D4 = bytes([192, 0, 2, 53]), bytes([10, 0, 0, 1])
S6 = socket.inet_pton(socket.AF_INET6, "2001:db8::53")
D6 = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
ETH = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02"
qid = [0x4000]


def resp(**kw):
    """A fresh response (distinct id), so every forwarded message is unique."""
    qid[0] += 1
    return dns_resp(qid[0], **kw)


# ------------------------------------------------------------ the files

# Each entry: (frame, expected verdict, oracle class). The verdict is
# "forward" or a pkt_ reason name (tapxfr's pkt_reason_name); the oracle
# class is what tapxfr_test.decode_frame must say: "forward" (a
# datagram), MALFORMED, FRAGMENT or NOT_UDP. They differ in two places:
# an IP version nibble other than 4 or 6 on a raw IP link is NOT_UDP for
# the oracle ("not IP") and pkt_ip_version (malformed) for tapxfr; a
# chain of more than 8 IPv6 extension headers is a datagram for the
# oracle, which has no limit.
def E_(frame, want, oclass=None):
    if oclass is None:
        oclass = {"forward": "forward", "fragment": tt.FRAGMENT, "not_udp": tt.NOT_UDP,
                  "ip_version": tt.NOT_UDP}.get(want, tt.MALFORMED)
    return (frame, want, oclass)


def build_lengths():
    L = []
    m = resp()
    L.append(E_(ip4(S4, D4, udp4(S4, D4, m)), "forward"))
    L.append(E_(ip6(S6, D6, udp6(S6, D6, resp())), "forward"))
    # IHL 15 with 40 bytes of options (NOPs, then EOL): forwarded
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp()), options=b"\x01" * 39 + b"\x00"), "forward"))
    # IHL 4: below the minimum
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp()), ihl=4), "ip_hdr_len"))
    # IHL 15 (60 bytes) in a 40-byte packet
    L.append(E_(ip4(S4, D4, udp4(S4, D4, b"\0" * 12), ihl=15)[:40], "ip_hdr_len"))
    # header checksum wrong
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp()), bad_csum=True), "ip_checksum"))
    # total length below the header length (checksum right)
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp()), total=12), "ip_total_len"))
    # total length 65535, far beyond the captured bytes
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp()), total=65535), "ip_truncated"))
    # the UDP header cut to 4 bytes (total length says so)
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp())[:4]), "udp_short"))
    # UDP length 0 and 7
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp(), ulen=0, zero=True)), "udp_len"))
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp(), ulen=7, zero=True)), "udp_len"))
    # UDP length 65535, and one byte more than the IP payload
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp(), ulen=65535, zero=True)), "udp_truncated"))
    m = resp()
    L.append(E_(ip4(S4, D4, udp4(S4, D4, m, ulen=8 + len(m) + 1, zero=True)), "udp_truncated"))
    # UDP length shorter than the IP payload: 5 trailing bytes ignored
    m = resp()
    seg = udp4(S4, D4, m) + b"TRAIL"
    L.append(E_(ip4(S4, D4, seg), "forward"))
    # IPv6 payload length beyond the capture; IPv6 zero UDP checksum
    L.append(E_(ip6(S6, D6, udp6(S6, D6, resp()), plen=60000), "ip_truncated"))
    L.append(E_(ip6(S6, D6, udp6(S6, D6, resp(), zero=True)), "udp_checksum"))
    # a wrong UDP checksum
    seg = bytearray(udp4(S4, D4, resp()))
    seg[6] ^= 0x10
    L.append(E_(ip4(S4, D4, bytes(seg)), "udp_checksum"))
    # IP version 5, a 10-byte packet, a 30-byte "IPv6" packet
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp()), version=5), "ip_version"))
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp()))[:10], "ip_short"))
    L.append(E_(ip6(S6, D6, udp6(S6, D6, resp()))[:30], "ip_short"))
    # an IPv4 fragment (MF) and TCP: ignored, not malformed
    L.append(E_(ip4(S4, D4, udp4(S4, D4, resp()), frag=0x2000), "fragment"))
    L.append(E_(ip4(S4, D4, b"\0" * 20, proto=6), "not_udp"))
    return L


def build_snaplen():
    """Ethernet frames and the capture length a 64-byte snaplen leaves."""
    L = []
    big4 = ETH + b"\x08\x00" + ip4(S4, D4, udp4(S4, D4, resp(an=3)))
    big6 = ETH + b"\x86\xdd" + ip6(S6, D6, udp6(S6, D6, resp(an=3)))
    L.append(E_((big4[:64], len(big4)), "ip_truncated"))
    L.append(E_((big6[:64], len(big6)), "ip_truncated"))
    L.append(E_((big4[:10], len(big4)), "link_truncated"))
    L.append(E_((big4[:30], len(big4)), "ip_short"))
    # fits: 14 + 20 + 8 + 12 (a header-only DNS response) = 54 bytes
    qid[0] += 1
    small = struct.pack(">HHHHHH", qid[0], 0x8580, 0, 0, 0, 0)
    fr = ETH + b"\x08\x00" + ip4(S4, D4, udp4(S4, D4, small))
    L.append(E_((fr, len(fr)), "forward"))
    return L


def ext_header(kind, nxt, i):
    """One extension header of the given type, of varying size."""
    if kind == 51:    # AH: payload length in 32-bit words minus 2; 12 + 4 bytes ICV
        return bytes([nxt, 2, 0, 0]) + struct.pack(">II", 0x100 + i, i) + b"\0" * 4
    if kind == 43:    # routing type 4 (segment routing), no segments left
        return bytes([nxt, 2, 4, 0, 0, 0, 0, 0]) + S6
    units = i % 3     # hop-by-hop / destination options: PadN to 8, 16 or 24 bytes
    body = bytes([1, 4 + 8 * units]) + b"\0" * (4 + 8 * units)
    return bytes([nxt, units]) + body


def chain(n, final_nh=17):
    """(first next-header, the chain bytes) of n headers ending in final_nh."""
    kinds = [0] + [(60, 43, 51)[i % 3] for i in range(max(0, n - 1))]
    kinds = kinds[:n]
    out = b""
    for i in range(n - 1, -1, -1):
        nxt = final_nh if i == n - 1 else kinds[i + 1]
        out = ext_header(kinds[i], nxt, i) + out
    return (kinds[0] if n else final_nh), out


def build_ext6():
    L = []
    for n in range(0, 13):
        nh, ext = chain(n)
        fr = ip6(S6, D6, udp6(S6, D6, resp()), nh=nh, ext=ext)
        L.append(E_(fr, "forward", "forward") if n <= MAX_EXT else E_(fr, "ext_headers", "forward"))
    # a header whose length goes past the payload
    nh, ext = chain(3)
    bad = bytearray(ext)
    bad[1] = 200                                   # hop-by-hop: (200 + 1) * 8 bytes
    L.append(E_(ip6(S6, D6, udp6(S6, D6, resp()), nh=nh, ext=bytes(bad)), "ext_headers"))
    # the payload ends one byte into the third header (left < 2 there)
    nh, ext = chain(3)
    first2 = len(ext_header(0, 60, 0)) + len(ext_header(60, 43, 1))
    fr = ip6(S6, D6, b"", nh=nh, ext=ext[:first2 + 1])
    L.append(E_(fr, "ext_headers"))
    # chains ending in a fragment header and in "no next header"
    nh, ext = chain(2, final_nh=44)
    L.append(E_(ip6(S6, D6, b"\x11\0\0\x01\0\0\0\x07" + udp6(S6, D6, resp()), nh=nh, ext=ext), "fragment"))
    nh, ext = chain(2, final_nh=59)
    L.append(E_(ip6(S6, D6, b"", nh=nh, ext=ext), "not_udp"))
    return L


def frames_of(entries):
    return [e[0] for e in entries]


def verdict_ok(linktype, entries, what):
    """Cross-checks each expected verdict with the oracle's decoder: its
    class (forwarded, MALFORMED, FRAGMENT, NOT_UDP) must be the one the
    entry names."""
    bad = []
    for i, (fr, want, oclass) in enumerate(entries):
        data = fr[0] if isinstance(fr, tuple) else fr
        d = tt.decode_frame(linktype, data)
        ok = isinstance(d, tt.Datagram) if oclass == "forward" else d == oclass
        if not ok:
            bad.append("#%d want %s (oracle class %s), oracle %r"
                       % (i, want, oclass, d if isinstance(d, str) else "datagram"))
    return t.check(not bad, "%s: the oracle agrees with every constructed packet's verdict "
                   "(%d packets)" % (what, len(entries)), "\n".join(bad))


# gen_pcap, kept to the frames decoded as port-53 UDP
gen = tt.gen_pcap(work, count=6000, seed=41)
lt_gen, gframes = tt.read_pcap(gen)
ex_all = tt.oracle_frames(lt_gen, gframes, reassembly=False)
keep = [fr for fr, v in zip(gframes, ex_all.verdicts) if v not in (None, tt.MALFORMED, tt.FRAGMENT)]
good = os.path.join(work, "good.pcap")
tt.write_pcap(good, lt_gen, [(d, o) for _c, o, d in keep])
ex_good = tt.oracle(good, port=53, reassembly=False)
t.info("good.pcap: %s" % ex_good.summary())

files = {}   # name -> (path, linktype, the entries libpcap hands out, snaplen cut or None)


def add(name, linktype, entries, snaplen=262144, trim=None):
    path = os.path.join(work, name)
    tt.write_pcap(path, linktype, frames_of(entries), snaplen=snaplen)
    files[name] = (path, linktype, entries, trim)


lengths = build_lengths()
snapl = build_snaplen()
ext6 = build_ext6()
verdict_ok(tt.LT_RAW, lengths, "lengths.pcap")
verdict_ok(tt.LT_ETHERNET, snapl, "snaplen.pcap")
verdict_ok(tt.LT_RAW, ext6, "ext6.pcap")
add("lengths.pcap", tt.LT_RAW, lengths)
add("snaplen.pcap", tt.LT_ETHERNET, snapl, snaplen=64)
add("ext6.pcap", tt.LT_RAW, ext6)

# full records in a file whose header says snaplen 48: libpcap cuts them
SNAP = 48
hdr_entries = []
for _ in range(4):
    fr = ETH + b"\x08\x00" + ip4(S4, D4, udp4(S4, D4, resp()))
    hdr_entries.append(E_(fr, "ip_truncated"))
fr = ETH + b"\x86\xdd" + ip6(S6, D6, udp6(S6, D6, resp()))
hdr_entries.append(E_(fr, "ip_short"))      # 48 - 14 = 34 bytes < 40
add("snaphdr.pcap", tt.LT_ETHERNET, hdr_entries, snaplen=SNAP, trim=SNAP)

# cut files: 12 good records each; cut inside record 8 (data / header),
# or record 8's header claims caplen 0xffffffff
CUT_AT = 7


def cut_records():
    return [E_(ip4(S4, D4, udp4(S4, D4, resp())), "forward") for _ in range(12)]


for name in ("cut_data.pcap", "cut_hdr.pcap", "caplen.pcap"):
    ent = cut_records()
    path = os.path.join(work, name)
    tt.write_pcap(path, tt.LT_RAW, frames_of(ent))
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    off = 24 + sum(16 + len(fr) for fr, _v, _o in ent[:CUT_AT])   # record CUT_AT's header
    if name == "cut_data.pcap":
        raw = raw[:off + 16 + 20]          # header and 20 bytes of its data
    elif name == "cut_hdr.pcap":
        raw = raw[:off + 7]
    else:
        struct.pack_into("<I", raw, off + 8, 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(raw)
    files[name] = (path, tt.LT_RAW, ent[:CUT_AT], None)
READ_ERROR = {"cut_data.pcap": r"truncated dump file",
              "cut_hdr.pcap": r"truncated dump file",
              "caplen.pcap": r"invalid packet capture length"}

# ------------------------------------------------------------ expectations

want_msgs = list(ex_good.messages)
want_reasons = collections.Counter()
received = len(keep)
for name, (path, lt, ent, trim) in files.items():
    fr = []
    for e, v, _o in ent:
        data, orig = e if isinstance(e, tuple) else (e, len(e))
        if trim is not None:
            data = data[:trim]
        fr.append((len(data), orig, data))
        if v not in ("forward",):
            want_reasons[v] += 1
    ex = tt.oracle_frames(lt, fr, reassembly=False)
    received += len(fr)
    msgs = [m for m, i in zip(ex.messages, ex.index) if ent[i][1] == "forward"]
    nfw = sum(1 for _e, v, _o in ent if v == "forward")
    t.eq(len(msgs), nfw, "%s: the oracle forwards exactly the packets marked forward" % name)
    want_msgs += msgs
E = len(want_msgs)
want_malformed = sum(n for r, n in want_reasons.items() if r not in NOT_COUNTED_MALFORMED)
want_ignored = sum(n for r, n in want_reasons.items() if r in NOT_COUNTED_MALFORMED)
t.check(len(set(want_msgs)) == E, "all %d expected messages are distinct" % E)
t.info("expected: received=%d malformed=%d ignored=%d forwarded=%d %s"
       % (received, want_malformed, want_ignored, E,
          " ".join("pkt_%s=%d" % kv for kv in sorted(want_reasons.items()))))
good_set = set(ex_good.messages)

ALL_REASONS = ("link_unsupported", "link_truncated", "not_ip", "ip_short", "ip_version",
               "ip_hdr_len", "ip_checksum", "ip_total_len", "ip_truncated", "fragment",
               "ext_headers", "not_udp", "udp_short", "udp_len", "udp_truncated", "udp_checksum")


def check_run(what, run, coll):
    st = run.stats
    if not t.check(st is not None, "%s: a stats line" % what, run.stderr[-1500:]):
        return
    t.info("%s: stats: %s" % (what, " ".join("%s=%s" % kv for kv in st.items())))
    got = coll.messages
    t.eq(len(got), E, "%s: the collector received %d messages" % (what, E))
    missing, unexpected, text = tt.multiset_diff(got, want_msgs)
    t.check(not missing and not unexpected, "%s: received multiset == expected" % what, text)
    g = [m for m in got if m in good_set]
    t.check(g == ex_good.messages, "%s: the good file's %d messages, exactly and in order"
            % (what, len(ex_good.messages)), tt.first_order_diff(g, ex_good.messages))
    t.eq(coll.partial, 0, "%s: no partial message at the collector" % what)
    t.eq(st.get("received"), received, "%s: stats received" % what)
    t.eq(st.get("malformed"), want_malformed, "%s: stats malformed (pkt_ reasons but fragment, not_udp)"
         % what)
    t.eq(st.get("ignored"), want_ignored, "%s: stats ignored (fragment + not_udp)" % what)
    t.eq({r: st.get("pkt_" + r, 0) for r in ALL_REASONS},
         {r: want_reasons.get(r, 0) for r in ALL_REASONS},
         "%s: every pkt_<reason> counter" % what)
    t.eq(sorted(k for k in st if k.startswith("pkt_") and k[4:] not in ALL_REASONS), [],
         "%s: no unknown pkt_ keys" % what)
    t.eq((st.get("responses"), st.get("forwarded"), st.get("dropped")),
         (ex_good.responses + E - ex_good.forwarded, E, 0),
         "%s: responses, forwarded, dropped" % what)
    t.eq((st.get("queries"), st.get("dns_error")), (ex_good.queries, ex_good.dns_error),
         "%s: queries, dns_error (from the good file)" % what)
    for name, rx in READ_ERROR.items():
        n = len(re.findall(r"tapxfr: warning: %s: read error: %s" % (re.escape(files[name][0]), rx),
                           run.stderr))
        t.eq(n, 1, "%s: %s: one read-error warning ('%s')" % (what, name, rx))
    others = [n for n in files if n not in READ_ERROR] + ["good.pcap"]
    t.check(not any(re.search(r"%s: read error" % re.escape(os.path.join(work, n)), run.stderr)
                    for n in others), "%s: no read error for the intact files" % what)


# The decoder's verdicts (pkt_<reason>, fragment and not_udp ignored) are
# those of whole UDP datagrams: reassembly, on by default, takes fragments
# and TCP (run 5 and test_hostile_reassembly.py cover it).
NOREASM = ["--no-reassembly"]
inputs = ["-r", good]
for name in files:
    inputs += ["-r", files[name][0]]

# ------------------------------------------------------------ run 1: files only
t.info("--- run 1: files only, tapxfr exits by itself")
c1 = tt.TCPCollector()
r1 = tt.Run(["-t", "-f", FILTER] + NOREASM + inputs + ["127.0.0.1", str(c1.port)], workdir=work)
rc = r1.wait(60)
wait_until(lambda: len(c1.messages) >= E, 10)
c1.wait_closed(10)
t.eq(rc, 0, "run 1: tapxfr exits 0 by itself once the files are read")
check_run("run 1", r1, c1)
c1.kill()

# ------------------------------------------------------------ run 2: + live input, SIGTERM
t.info("--- run 2: the same files and a dnstap socket; SIGTERM")
c2 = tt.TCPCollector()
sock = os.path.join(work, "dt.sock")
r2 = tt.Run(NOREASM + ["-t", "-f", FILTER, "--dnstap-socket", sock] + inputs + ["127.0.0.1", str(c2.port)],
            workdir=work)
wait_until(lambda: len(c2.messages) >= E or not r2.running(), 60)
t.check(r2.running() and len(c2.messages) >= E, "run 2: tapxfr runs on (live input) and delivered %d "
        "messages (want %d)" % (len(c2.messages), E), r2.stderr[-1500:])
time.sleep(0.3)   # anything extra would show up now
rc = r2.terminate(20)
t.eq(rc, 0, "run 2: tapxfr exits 0 on SIGTERM")
c2.wait_closed(10)
check_run("run 2", r2, c2)
c2.kill()

# ------------------------------------------------------------ run 3: cut file header
t.info("--- run 3: a file cut inside its file header")
stub = os.path.join(work, "cut_filehdr.pcap")
with open(files["lengths.pcap"][0], "rb") as f:
    head = f.read(10)
with open(stub, "wb") as f:
    f.write(head)
c3 = tt.TCPCollector()
r3 = tt.run_tapxfr(NOREASM + ["-t", "-f", FILTER, "-r", good, "-r", stub, "127.0.0.1", str(c3.port)], timeout=30)
t.eq(r3.rc, 2, "run 3: a pcap file cut inside its header is a startup error: exit 2")
t.check(re.search(r"cannot read %s: .*truncated" % re.escape(stub), r3.stderr),
        "run 3: the error names the file and says it is truncated", r3.stderr[-800:])
t.eq(len(c3.messages), 0, "run 3: nothing was sent")
c3.kill()

# ------------------------------------------------------------ run 5: reassembly on
t.info("--- run 5: the same files with reassembly (the default)")
c5 = tt.TCPCollector()
r5 = tt.Run(["-t", "-f", FILTER] + inputs + ["127.0.0.1", str(c5.port)], workdir=work)
rc = r5.wait(60)
c5.wait_closed(10)
st5 = r5.stats or {}
t.eq(rc, 0, "run 5: tapxfr exits 0 by itself")
t.check(st5.get("forwarded") == len(c5.messages) and st5.get("responses") == st5.get("forwarded"),
        "run 5: forwarded == responses == what the collector got (%r, %r, %d)"
        % (st5.get("responses"), st5.get("forwarded"), len(c5.messages)))
t.check(set(c1.messages) <= set(c5.messages),
        "run 5: every message of run 1 is forwarded with reassembly too")
t.eq(st5.get("received", 0) + st5.get("reassembled", 0),
     sum(st5.get(k, 0) for k in ("malformed", "ignored", "held", "dns_error", "queries", "responses")),
     "run 5: received + reassembled == malformed + ignored + held + dns_error + queries + responses")
c5.kill()

# ------------------------------------------------------------ run 4: routing header
t.info("--- run 4: IPv6 routing header type 2 with segments left (RFC 8200 8.1)")
m = resp()
rt = b"\x11\x02\x02\x01\0\0\0\0" + S6      # type 2, segments left 1, final destination S6
fr_rt = ip6(S6, D6, udp6(S6, S6, m), nh=43, ext=rt)
rh = os.path.join(work, "routing6.pcap")
tt.write_pcap(rh, tt.LT_RAW, [fr_rt])
ex_rh = tt.oracle(rh, reassembly=False)
t.eq(ex_rh.messages, [tt.MAGIC + b"\0\0\0\0" + m], "run 4: the oracle forwards it")
c4 = tt.TCPCollector()
r4 = tt.run_tapxfr(NOREASM + ["-t", "-f", FILTER, "-r", rh, "127.0.0.1", str(c4.port)], timeout=30)
c4.wait_closed(5)
st4 = r4.stats or {}
t.eq(r4.rc, 0, "run 4: exit 0")
t.check(c4.messages == ex_rh.messages and st4.get("forwarded") == 1,
        "run 4: tapxfr forwards it (UDP checksum over the routing header's final destination)",
        "BUG: got %d messages, stats %s" % (len(c4.messages),
                                            " ".join("%s=%s" % kv for kv in st4.items()
                                                     if kv[0] in ("forwarded", "malformed")
                                                     or kv[0].startswith("pkt_"))))
c4.kill()
t.done()
