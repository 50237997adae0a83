#!/usr/bin/env python3
"""make_corpus.py - write the raw seed inputs of the fuzz targets.

Usage: make_corpus.py OUTDIR

Writes OUTDIR/<target>/ for packet, dns, frame, dnstap and collect, from
the repository's own test data: the conformance cases
(tests/conformance/cases/*.in), the real capture tests/data/kdig-knot.pcap,
small gen_pcap.py and gen_dnstap.py samples, and hand-built Frame Streams
sessions. The seeds are many and redundant; the checked-in corpora are
what libFuzzer keeps of them, e.g.

    tests/fuzz/build.sh /tmp/fz
    tests/fuzz/make_corpus.py /tmp/seeds
    /tmp/fz/fuzz_packet -merge=1 tests/fuzz/corpus/packet /tmp/seeds/packet

Input layouts (see the comment at the top of each fuzz_<target>.c):
  packet   selector byte (link type index) + captured packet
  dns      filter byte + DNS message
  frame    control byte + chunk sizes + Frame Streams byte stream
  dnstap   one dnstap protobuf (a Frame Streams data frame)
  collect  one DNSXFR01 message
Standard library only.
"""

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
TOOLS = os.path.join(TESTS, "tools")

# Link type index = selector % 10, in fuzz_packet.c's table order.
SEL_NULL, SEL_EN10MB, SEL_RAW, SEL_RAW_ALT, SEL_LOOP = 0, 1, 2, 3, 4
SEL_SLL, SEL_IPV4, SEL_IPV6, SEL_SLL2, SEL_UNSUPPORTED = 5, 6, 7, 8, 9

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"
READY, ACCEPT, START, STOP, FINISH = 4, 1, 2, 3, 5


def write(outdir, target, data):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def pcap_packets(path):
    """(linktype, packet bytes) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        buf = f.read()
    magic = buf[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a pcap file" % path)
    linktype = struct.unpack(e + "I", buf[20:24])[0]
    off = 24
    out = []
    while off + 16 <= len(buf):
        incl = struct.unpack(e + "I", buf[off + 8:off + 12])[0]
        out.append((linktype, buf[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def eth_ip(frame):
    """(ethertype, IP packet) behind an Ethernet header and VLAN tags."""
    off = 12
    while off + 2 <= len(frame):
        et = struct.unpack(">H", frame[off:off + 2])[0]
        if et in (0x8100, 0x88A8, 0x9100):
            off += 4
            continue
        return et, frame[off + 2:]
    return None, b""


def udp_payload(ip):
    """The UDP payload of an IPv4/IPv6 packet (no extension headers), or
    None. Checksums are not checked: the seeds need not be valid."""
    if not ip:
        return None
    v = ip[0] >> 4
    if v == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17 or len(ip) < ihl + 8:
            return None
        u = ip[ihl:]
    elif v == 6 and len(ip) >= 48:
        if ip[6] != 17:
            return None
        u = ip[40:]
    else:
        return None
    ulen = struct.unpack(">H", u[4:6])[0]
    if ulen < 8 or ulen > len(u):
        return None
    return u[8:ulen]


def relink(ethertype, ip):
    """The same IP packet under the other link types: (selector, bytes)."""
    v6 = ethertype == 0x86DD
    fam_null = 30 if v6 else 2    # BSD AF_INET6 varies: 24, 28 or 30
    fam_loop = 24 if v6 else 2
    sll = struct.pack(">HHH8sH", 0, 772, 6, b"\0" * 8, ethertype)
    sll2 = struct.pack(">HHIHBB8s", ethertype, 0, 1, 772, 0, 6, b"\0" * 8)
    return [
        (SEL_NULL, struct.pack("<I", fam_null) + ip),
        (SEL_NULL, struct.pack(">I", fam_null) + ip),
        (SEL_RAW_ALT, ip),
        (SEL_LOOP, struct.pack(">I", fam_loop) + ip),
        (SEL_SLL, sll + ip),
        (SEL_SLL, sll[:14] + struct.pack(">HHH", 0x8100, 5, ethertype) + ip),
        (SEL_SLL2, sll2 + ip),
        (SEL_IPV6 if v6 else SEL_IPV4, ip),
        (SEL_UNSUPPORTED, ip),
    ]


def dns_seeds(outdir, dns, aa_ns=b"\0\0\0\0"):
    """A DNS message for the dns and collect targets."""
    for filt in (0x00, 0x03, 0x0c):
        write(outdir, "dns", bytes((filt,)) + dns)
    write(outdir, "collect", b"DNSXFR01" + aa_ns + dns)


def control(ctype, content_type=True):
    body = struct.pack(">I", ctype)
    if content_type:
        body += struct.pack(">II", 1, len(CONTENT_TYPE)) + CONTENT_TYPE
    return struct.pack(">II", 0, len(body)) + body


def fstrm_frames(stream):
    """The data frames of a Frame Streams byte stream."""
    off, out = 0, []
    while off + 4 <= len(stream):
        n = struct.unpack(">I", stream[off:off + 4])[0]
        if n == 0:
            clen = struct.unpack(">I", stream[off + 4:off + 8])[0]
            off += 8 + clen
            continue
        out.append(stream[off + 4:off + 4 + n])
        off += 4 + n
    return out


def frame_input(stream, max_frame_sel=2, sizes=(), take=False):
    head = max_frame_sel | len(sizes) << 3 | (0x80 if take else 0)
    return bytes((head,)) + bytes(sizes) + stream


def run_tool(name, args):
    subprocess.run([sys.executable, os.path.join(TOOLS, name)] + args,
                   check=True, stdout=subprocess.DEVNULL)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    tmp = tempfile.mkdtemp()

    # packet, dns, collect: the conformance cases (raw IPv4).
    cases = os.path.join(TESTS, "conformance", "cases")
    for name in sorted(os.listdir(cases)):
        if not name.endswith(".in"):
            continue
        with open(os.path.join(cases, name), "rb") as f:
            ip = f.read()
        write(outdir, "packet", bytes((SEL_RAW,)) + ip)
        dns = udp_payload(ip)
        if dns is not None:
            dns_seeds(outdir, dns, ip[12:16])

    # The real capture, and small synthetic ones with every kind of packet
    # gen_pcap.py makes (VLAN, QinQ, IPv6, options, broken ones).
    pcaps = [os.path.join(TESTS, "data", "kdig-knot.pcap")]
    for seed in (1, 2, 3):
        p = os.path.join(tmp, "gen%d.pcap" % seed)
        run_tool("gen_pcap.py", ["--count", "300", "--seed", str(seed),
                                 "--pool", "100", "--out", p])
        pcaps.append(p)
    for path in pcaps:
        for i, (lt, pkt) in enumerate(pcap_packets(path)):
            assert lt == 1, "%s: link type %d" % (path, lt)
            write(outdir, "packet", bytes((SEL_EN10MB,)) + pkt)
            et, ip = eth_ip(pkt)
            if et in (0x0800, 0x86DD):
                dns = udp_payload(ip)
                if dns is not None:
                    dns_seeds(outdir, dns)
                if i % 10 == 0:
                    for sel, b in relink(et, ip):
                        write(outdir, "packet", bytes((sel,)) + b)

    # dnstap and frame: gen_dnstap.py files are unidirectional sessions
    # (START ... STOP); their data frames are dnstap seeds.
    for seed, count in ((1, 40), (2, 5), (3, 1)):
        p = os.path.join(tmp, "gen%d.fstrm" % seed)
        run_tool("gen_dnstap.py", ["--count", str(count), "--seed", str(seed),
                                   "--pool", "100", "--out", p])
        with open(p, "rb") as f:
            stream = f.read()
        frames = fstrm_frames(stream)
        for fr in frames:
            write(outdir, "dnstap", fr)
        if count > 5:
            continue
        # Whole, byte by byte, in odd chunks, with replies taken or not.
        write(outdir, "frame", frame_input(stream))
        write(outdir, "frame", frame_input(stream, 0, (1,)))
        write(outdir, "frame", frame_input(stream, 1, (3, 0, 7, 64), True))
        # Bidirectional: READY (with and without content type), START.
        data = b"".join(struct.pack(">I", len(fr)) + fr for fr in frames)
        bidi = control(READY) + control(START) + data + control(STOP, False)
        write(outdir, "frame", frame_input(bidi, 2, (5, 11), True))
        bidi = control(READY, False) + control(START, False) + data + \
            control(STOP, False)
        write(outdir, "frame", frame_input(bidi, 7, (2,)))
        # Oversize frames skipped (max_frame 100 and 16).
        write(outdir, "frame", frame_input(stream, 6, (40, 9)))
        write(outdir, "frame", frame_input(stream, 5))
    # Protocol errors, one of each.
    d = struct.pack(">I", 3) + b"abc"
    for s in (d,                                              # before START
              control(START) + control(STOP, False) + b"x",   # after STOP
              control(READY) + control(READY),                 # unexpected
              control(START) + control(ACCEPT),                # writer's ACCEPT
              struct.pack(">II", 0, 2) + b"ab",                # bad escape
              struct.pack(">II", 0, 600) + b"\0" * 600,        # control size
              struct.pack(">II", 0, 8) + b"\0\0\0\x02\0\0\0\x07",  # decode
              struct.pack(">II", 0, 16) + struct.pack(">III", 2, 1, 4) + b"nope"):
        write(outdir, "frame", frame_input(s))
        write(outdir, "frame", frame_input(s, 0, (1,)))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
