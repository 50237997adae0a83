#!/usr/bin/env python3
"""tapxfr on a real capture: kdig querying Knot DNS on loopback
(tests/data/kdig-knot.pcap, port 57911; see tests/data/README.md).

On loopback the kernel leaves UDP checksums unfinished (TX checksum
offload): every UDP checksum field in the file holds only the pseudo-header
sum, which tapxfr accepts unverified and counts (csum_offloaded). With
-f "udp port 57911":

* UDP, default / --max-size 512 / -A / -D: the received multiset equals
  the oracle's (port 57911) exactly, the stats line agrees, and hand-written
  facts hold (from kdig's own output, not from the oracle): the 9 UDP
  responses by DNS ID and size; the nameserver field is 127.0.0.1 for the 7
  AA answers over IPv4 and 0.0.0.0 for the REFUSED (non-AA) one and the
  IPv6 one; the 635-byte TXT answer is there by default and not with
  --max-size 512; -A drops only the REFUSED answer; -D drops NXDOMAIN,
  NODATA and REFUSED but keeps the empty truncated (TC) answer; the answer
  that went over TCP is never forwarded; csum_offloaded counts the 18 UDP
  packets.
* The same file with its UDP checksums completed (a copy in a temp dir):
  the same messages, nothing counted as offloaded.
* TCP (-t): the same messages, in capture order.
* Without -f (default filter: port 53 only) nothing is forwarded.
"""
import os
import socket
import struct
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_kdig_capture")
work = tt.tempdir()

KNOT_PORT = 57911
FILTER = ["-f", "udp port %d" % KNOT_PORT]
LOCAL = socket.inet_aton("127.0.0.1")
ZERO = b"\0\0\0\0"

# Hand-written from kdig's output (tests/data/README.md), capture order:
# DNS id -> (what, DNS size, AA, TC, ancount, IPv6)
RESPONSES = [
    (49599, "www A", 65, True, False, 2, False),
    (62046, "www AAAA", 61, True, False, 1, False),
    (55677, "@ MX", 104, True, False, 2, False),
    (62416, "nonexistent A (NXDOMAIN)", 92, True, False, 0, False),
    (41056, "big TXT bufsize 4096", 635, True, False, 4, False),
    (55363, "big TXT no EDNS (TC)", 33, True, True, 0, False),
    (57896, "www MX (NODATA)", 84, True, False, 0, False),
    (43385, "example.com A (REFUSED)", 29, False, False, 0, False),
    (54265, "www AAAA over ::1", 61, True, False, 1, True),
]
TCP_ID = 21753          # mail A +tcp: must never be forwarded
BIG_ID, TC_ID, REFUSED_ID, V6_ID = 41056, 55363, 43385, 54265
NO_ANSWER_IDS = {62416, 57896, 43385}   # ANCOUNT 0 and TC clear
ALL_IDS = [r[0] for r in RESPONSES]

raw = tt.data_path("kdig-knot.pcap")
if not os.path.exists(raw):
    tt.skip("%s missing" % raw)


def complete_udp_checksums(src, dst):
    """Writes a copy of an Ethernet pcap with every UDP checksum recomputed
    (RFC 768 / RFC 8200 pseudo-header). Returns the number fixed."""
    lt, frames = tt.read_pcap(src)
    assert lt == tt.LT_ETHERNET
    out, n = [], 0
    for caplen, orig, f in frames:
        f = bytearray(f)
        et = (f[12] << 8) | f[13]
        if et == 0x0800 and f[14 + 9] == 17:
            ihl = (f[14] & 15) * 4
            u = 14 + ihl
            ulen = (f[u + 4] << 8) | f[u + 5]
            pseudo = bytes(f[14 + 12:14 + 20]) + struct.pack(">BBH", 0, 17, ulen)
        elif et == 0x86DD and f[14 + 6] == 17:
            u = 14 + 40
            ulen = (f[u + 4] << 8) | f[u + 5]
            pseudo = bytes(f[14 + 8:14 + 40]) + struct.pack(">IxxxB", ulen, 17)
        else:
            out.append((bytes(f), orig))
            continue
        f[u + 6:u + 8] = b"\0\0"
        data = pseudo + bytes(f[u:u + ulen])
        if len(data) & 1:
            data += b"\0"
        s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        c = (~s) & 0xFFFF
        f[u + 6:u + 8] = struct.pack(">H", c or 0xFFFF)
        out.append((bytes(f), orig))
        n += 1
    tt.write_pcap(dst, lt, out)
    return n


fixed = os.path.join(work, "kdig-knot-csum.pcap")
nfix = complete_udp_checksums(raw, fixed)
t.eq(nfix, 18, "checksums completed on the 18 UDP packets of the copy")


def dns_id(m):
    return struct.unpack_from(">H", m, 12)[0]


def qname(m):
    """The question name of a DNSXFR01 message (text, lower case)."""
    dns, off, labels = m[12:], 12, []
    while off < len(dns) and dns[off]:
        n = dns[off]
        labels.append(dns[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels).lower()


def facts(what, msgs, want_ids):
    ids = [dns_id(m) for m in msgs]
    t.eq(sorted(ids), sorted(want_ids), "%s: the responses received, by DNS id" % what)
    byid = {dns_id(m): m for m in msgs}
    sizes = {r[0]: r[2] for r in RESPONSES}
    t.check(all(len(m) - 12 == sizes.get(dns_id(m)) for m in msgs),
            "%s: each DNS message has the size kdig reported" % what)
    t.check(all(m[:8] == b"DNSXFR01" for m in msgs), "%s: every message starts with DNSXFR01" % what)
    want_ns = {r[0]: (LOCAL if r[3] and not r[6] else ZERO) for r in RESPONSES}
    bad = ["id %d: %s" % (i, socket.inet_ntoa(byid[i][8:12])) for i in byid
           if byid[i][8:12] != want_ns.get(i)]
    t.check(not bad, "%s: nameserver 127.0.0.1 on AA answers over IPv4, 0.0.0.0 on the "
            "REFUSED and the IPv6 ones" % what, "\n".join(bad))
    t.check(TCP_ID not in ids and "mail.tapxfr.test" not in [qname(m) for m in msgs],
            "%s: the answer that went over TCP is not forwarded" % what)


variants = [
    ("default", [], {}, ALL_IDS),
    ("--max-size 512", ["--max-size", "512"], {"max_size": 512}, [i for i in ALL_IDS if i != BIG_ID]),
    ("-A", ["-A"], {"auth_only": True}, [i for i in ALL_IDS if i != REFUSED_ID]),
    ("-D", ["-D"], {"drop_empty": True}, [i for i in ALL_IDS if i not in NO_ANSWER_IDS]),
]
exr = tt.oracle(raw, port=KNOT_PORT)
t.eq(exr.csum_offloaded, 18, "as captured: all 18 UDP packets carry offloaded (pseudo-header) checksums")
t.eq(tt.oracle(fixed, port=KNOT_PORT).csum_offloaded, 0, "the completed copy has none")

for what, flags, kw, want_ids in variants:
    ex = tt.oracle(raw, port=KNOT_PORT, **kw)
    t.eq(ex.responses, 9, "%s: oracle sees the 9 UDP responses" % what)
    t.eq(sorted(dns_id(m) for m in ex.messages), sorted(want_ids),
         "%s: oracle agrees with the hand-written facts" % what)
    coll = tt.UDPCollector()
    r = tt.run_tapxfr(FILTER + flags + ["-r", raw, "127.0.0.1", str(coll.port)], timeout=20)
    got = coll.wait(count=len(ex.messages), idle=0.5, timeout=5)
    coll.close()
    t.eq(r.rc, 0, "%s: tapxfr exited 0" % what)
    missing, unexpected, text = tt.multiset_diff(got, ex.messages)
    t.check(not missing and not unexpected,
            "%s: received multiset == oracle's (%d messages)" % (what, len(ex.messages)),
            text + "\nstderr:\n" + r.stderr[-1000:])
    facts(what, got, want_ids)
    if what == "default":
        t.check(any(dns_id(m) == BIG_ID and len(m) - 12 == 635 for m in got),
                "default: the 635-byte TXT answer (> 512) is forwarded")
        t.check(any(dns_id(m) == TC_ID for m in got), "default: the empty TC answer is forwarded")
    tt.check_stats(t, r.stats, ex, what)
    if r.stats and "csum_offloaded" in r.stats:
        t.eq(r.stats["csum_offloaded"], 18, "%s: stats: csum_offloaded" % what)

# The copy with completed checksums: same messages, verified this time.
ex = tt.oracle(fixed, port=KNOT_PORT)
coll = tt.UDPCollector()
r = tt.run_tapxfr(FILTER + ["-r", fixed, "127.0.0.1", str(coll.port)], timeout=20)
got = coll.wait(count=len(ex.messages), idle=0.5, timeout=5)
coll.close()
t.eq(r.rc, 0, "completed checksums: tapxfr exited 0")
t.check(sorted(got) == sorted(ex.messages) and sorted(got) == sorted(exr.messages),
        "completed checksums: the same 9 messages as from the file as captured")
tt.check_stats(t, r.stats, ex, "completed checksums")
if r.stats and "csum_offloaded" in r.stats:
    t.eq(r.stats["csum_offloaded"], 0, "completed checksums: stats: csum_offloaded")

# TCP transport: same messages, capture order.
ex = exr
coll = tt.TCPCollector()
r = tt.run_tapxfr(["-t"] + FILTER + ["-r", raw, "127.0.0.1", str(coll.port)], timeout=20)
coll.wait_closed(5)
coll.kill()
t.eq(r.rc, 0, "-t: tapxfr exited 0")
t.check(coll.messages == ex.messages, "-t: received list == oracle's, in capture order",
        tt.first_order_diff(coll.messages, ex.messages))
t.eq([dns_id(m) for m in coll.messages], ALL_IDS, "-t: DNS ids in capture order (hand-written)")

# The default filter passes port 53 only: nothing here.
coll = tt.UDPCollector()
r = tt.run_tapxfr(["-r", raw, "127.0.0.1", str(coll.port)], timeout=20)
coll.wait(idle=0.5, timeout=3)
coll.close()
t.eq(r.rc, 0, "no -f: tapxfr exited 0")
t.eq(len(coll.messages), 0, "no -f: nothing forwarded (the default filter is port 53)")
st = r.stats or {}
t.eq(st.get("forwarded"), 0, "no -f: stats forwarded")

t.done()
