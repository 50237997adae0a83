"""tapxfr_test.py - shared support for the tapxfr integration tests
(Python 3 standard library only).

What is here:

* Locating what is under test: $TAPXFR, $TAPXFR_COLLECT, $TESTS_SRCDIR.
* Test bookkeeping with automake exit codes: 0 pass, 1 fail, 77 skip, plus
  a watchdog so that no test runs longer than about a minute, and cleanup
  of every process a test started.
* An ORACLE: an independent pcap reader, link/IP/UDP decoder and DNS
  header checks, written from the RFCs (791, 768, 8200, 1071, 1035) and
  from the rules of tapxfr's contract. It shares no code with tapxfr (or
  with the test data generators) and computes, for a pcap file and a set
  of flags, the exact DNSXFR01 messages tapxfr must forward, in capture
  order, and the counts its stats line must show.
* Collectors that record exactly the bytes they receive: a UDP one and a
  TCP one (sends the banner line, reassembles length-prefixed messages,
  can read slowly and be killed mid-stream).
* Running tapxfr with a timeout and parsing its `tapxfr: stats:` line.

The contract the oracle implements (see the tapxfr manual):

  link     Ethernet (up to 4 tags 0x8100 / 0x88a8 / 0x9100), Linux SLL
           and SLL2, raw IP (101, 228, 229), BSD NULL (host byte order)
           and LOOP (network byte order).
  IPv4     version 4, IHL >= 5, header checksum right, total length
           >= header and <= captured bytes (link padding beyond it is
           ignored), fragments (MF or offset) skipped, options skipped.
  IPv6     payload length bounds the packet; extension headers 0, 43, 60
           and 51 skipped; a fragment header (44) skips the packet.
  UDP      8 <= length <= IP payload; checksum verified over the
           pseudo-header (IPv4: 0 = none; IPv6: 0 = invalid); a checksum
           field holding exactly the folded pseudo-header sum (what a
           capture on the sending host sees with TX checksum offload) is
           accepted unverified; the DNS message is the UDP length minus 8
           bytes.
  filter   sport or dport == the DNS port (53 unless the test says
           otherwise: the default BPF filter passes nothing else).
  DNS      < 12 bytes: dropped; QDCOUNT >= 16 or AN/NS/ARCOUNT >= 1024:
           dropped; QR clear: a query, never forwarded. The rest are the
           "responses"; of those -D drops ANCOUNT == 0 with TC clear, then
           -A drops AA clear, then a message longer than max_size (4096
           unless told) is dropped.
  DNSXFR01 "DNSXFR01" + the IPv4 source address when AA is set and the
           packet is IPv4, else 0.0.0.0 + the DNS message as received.
"""

import array
import atexit
import collections
import contextlib
import ctypes
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

EXIT_PASS, EXIT_FAIL, EXIT_SKIP, EXIT_HARD = 0, 1, 77, 99

MAGIC = b"DNSXFR01"
BANNER = b"dnslogger/DNSXFR01\r\n"

# ------------------------------------------------------------ environment

HERE = os.path.dirname(os.path.abspath(__file__))


def tests_srcdir():
    """The tests/ source directory: $TESTS_SRCDIR, else this file's parent."""
    return os.environ.get("TESTS_SRCDIR") or os.path.dirname(HERE)


def tool_path(name):
    """A file in tests/tools (the data generators)."""
    return os.path.join(tests_srcdir(), "tools", name)


def data_path(name):
    """A file in tests/data."""
    return os.path.join(tests_srcdir(), "data", name)


def _binary(var, name):
    path = os.environ.get(var)
    if not path:
        skip("%s is not set (path of the %s binary under test)" % (var, name))
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        print("ERROR: %s=%s is not an executable file" % (var, path), flush=True)
        _cleanup()
        os._exit(EXIT_HARD)
    return path


def tapxfr_bin():
    return _binary("TAPXFR", "tapxfr")


def collect_bin():
    return _binary("TAPXFR_COLLECT", "tapxfr-collect")


def which(prog):
    for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin", "/sbin"]:
        p = os.path.join(d, prog)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


# ------------------------------------------------------------ bookkeeping

def ci():
    """True under CI=true, where a skip would hide a missing install step
    (contrib/setup-debian.sh) behind a green run."""
    return os.environ.get("CI") == "true"


def skip(why):
    """Ends the test as SKIPPED (automake: exit 77); under CI=true as FAILED."""
    if ci():
        print("FAIL (CI=true, would skip): " + why, flush=True)
        _cleanup()
        os._exit(EXIT_FAIL)
    print("SKIP: " + why, flush=True)
    _cleanup()
    os._exit(EXIT_SKIP)


def require_tool(prog):
    """Returns the path of prog, or skips the test when it is missing."""
    p = which(prog)
    if p is None:
        skip("%s not found" % prog)
    return p


def require_root(why=""):
    if os.geteuid() != 0:
        skip("needs root" + (" (%s)" % why if why else ""))


_procs = []
_tmpdirs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass
    _procs.clear()
    for d in _tmpdirs:
        try:
            d.cleanup()
        except Exception:
            pass
    _tmpdirs.clear()


atexit.register(_cleanup)


def tempdir():
    """A temporary directory removed at exit (tests never write elsewhere)."""
    d = tempfile.TemporaryDirectory(prefix="tapxfr-test-")
    _tmpdirs.append(d)
    return d.name


# ------------------------------------------------------------ namespaces

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


class Netns:
    """A network namespace made with `ip netns add`, deleted at exit (it
    sits in the cleanup list, which runs on every way out: done, skip,
    watchdog, an exception, a signal: see fail_on_signals())."""

    def __init__(self, name):
        self.ip_bin = require_tool("ip")
        self.name = name
        self.path = "/run/netns/" + name
        _tmpdirs.append(self)
        r = subprocess.run([self.ip_bin, "netns", "add", name], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        if r.returncode != 0:
            raise RuntimeError("ip netns add %s: %s" % (name, r.stdout.decode(errors="replace")))
        self.made = True

    def cmd(self, args):
        return [self.ip_bin, "netns", "exec", self.name] + list(args)

    def ip(self, *args):
        r = subprocess.run([self.ip_bin, "-n", self.name] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        if r.returncode != 0:
            raise RuntimeError("ip -n %s %s: %s" % (self.name, " ".join(args),
                                                     r.stdout.decode(errors="replace")))

    @contextlib.contextmanager
    def inside(self):
        """Runs the block with this thread in the namespace: sockets made
        there stay in it."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            _setns(fd)
            try:
                yield
            finally:
                _setns(own)
        finally:
            os.close(fd)
            os.close(own)

    def cleanup(self):
        if getattr(self, "made", False):
            subprocess.run([self.ip_bin, "netns", "del", self.name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10)
            self.made = False


def _bye(signum, frame):
    print("FAIL: signal %d" % signum, flush=True)
    _cleanup()
    os._exit(EXIT_FAIL)


def fail_on_signals():
    """A test that builds namespaces fails on SIGTERM, SIGINT and SIGHUP
    after its cleanup, so no namespace outlives it."""
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, _bye)


class Test:
    """Counts checks, prints each one, and exits with automake's codes.

    t = Test("name", limit=55)   # arms a watchdog: fail after `limit` s
    t.check(cond, "what")        # ok/FAIL line
    t.eq(got, want, "what")
    t.done()                     # exit 0, or 1 when a check failed
    """

    def __init__(self, name, limit=55):
        self.name = name
        self.failed = 0
        self.passed = 0
        self.t0 = time.time()
        print("== %s" % name, flush=True)

        def watchdog(signum, frame):
            print("FAIL: %s: watchdog: still running after %d s" % (name, limit), flush=True)
            _cleanup()
            os._exit(EXIT_FAIL)

        signal.signal(signal.SIGALRM, watchdog)
        signal.alarm(limit)

    def info(self, msg):
        print("   " + msg, flush=True)

    def skip_part(self, why):
        """A part of the test that cannot run here: a NOTE, but under
        CI=true a failed check, as for skip()."""
        if ci():
            self.failed += 1
            print("FAIL (CI=true, would skip): " + why, flush=True)
        else:
            print("   NOTE: skipped: " + why, flush=True)

    def check(self, cond, what, detail=None):
        if cond:
            self.passed += 1
            print("ok   - " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL - " + what, flush=True)
            if detail:
                for line in str(detail).splitlines():
                    print("       " + line, flush=True)
        return bool(cond)

    def eq(self, got, want, what):
        if _short(got) and _short(want):
            return self.check(got == want, "%s: %r (want %r)" % (what, got, want))
        return self.check(got == want, what,
                          None if got == want else "got:  %s\nwant: %s" % (_clip(got), _clip(want)))

    def done(self):
        signal.alarm(0)
        _cleanup()
        print("%s: %d checks passed, %d failed (%.1f s)"
              % (self.name, self.passed, self.failed, time.time() - self.t0), flush=True)
        sys.stdout.flush()
        os._exit(EXIT_FAIL if self.failed or not self.passed else EXIT_PASS)


def _short(v):
    return len(repr(v)) <= 60


def _clip(v, n=400):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


# ------------------------------------------------------------ pcap reader

class PcapError(Exception):
    pass


def read_pcap(path):
    """Reads a classic libpcap file (either byte order, micro- or
    nanosecond magic). Returns (linktype, [(caplen, origlen, data), ...])."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 24:
        raise PcapError("%s: shorter than a pcap file header" % path)
    magic_le = struct.unpack_from("<I", raw, 0)[0]
    if magic_le in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic_le in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    elif magic_le == 0x0A0D0D0A:
        raise PcapError("%s: pcapng is not supported by the test oracle" % path)
    else:
        raise PcapError("%s: not a pcap file (magic %08x)" % (path, magic_le))
    _major, _minor, _zone, _sigfigs, _snaplen, network = struct.unpack_from(e + "HHiIII", raw, 4)
    linktype = network & 0x0FFFFFFF
    recs = []
    off = 24
    hdr = struct.Struct(e + "IIII")
    while off < len(raw):
        if off + 16 > len(raw):
            raise PcapError("%s: truncated record header at offset %d" % (path, off))
        _sec, _frac, caplen, origlen = hdr.unpack_from(raw, off)
        off += 16
        if off + caplen > len(raw):
            raise PcapError("%s: truncated record at offset %d" % (path, off))
        recs.append((caplen, origlen, raw[off:off + caplen]))
        off += caplen
    return linktype, recs


def write_pcap(path, linktype, frames, snaplen=262144):
    """Writes a little-endian microsecond pcap file of the given frames
    (bytes, or (data, origlen) tuples) with made-up timestamps."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        t = 1700000000
        for i, fr in enumerate(frames):
            data, orig = (fr, len(fr)) if isinstance(fr, (bytes, bytearray)) else fr
            f.write(struct.pack("<IIII", t + i // 1000, (i % 1000) * 1000, len(data), orig))
            f.write(data)


# ------------------------------------------------------------ decoder

LT_NULL, LT_ETHERNET, LT_RAW, LT_LOOP, LT_SLL, LT_IPV4, LT_IPV6, LT_SLL2 = 0, 1, 101, 108, 113, 228, 229, 276
ETH_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
MAX_VLAN_TAGS = 4
# AF_INET6 as written by the various BSD NULL/LOOP producers (Linux,
# NetBSD/OpenBSD, FreeBSD, Darwin).
AF_INET6_VALUES = (10, 24, 28, 30)

# Verdicts of decode_frame(): the packet is a decoded UDP datagram, or it
# is not one (fine, just not ours), or it is broken.
NOT_UDP = "not_udp"          # not IP, not UDP, or an unsupported link type
FRAGMENT = "fragment"        # an IPv4 fragment or an IPv6 fragment header
MALFORMED = "malformed"      # broken: lengths, checksums, truncation


class Datagram:
    __slots__ = ("family", "src", "dst", "sport", "dport", "payload", "offloaded", "transport")

    def __init__(self, family, src, dst, sport, dport, payload, offloaded=False):
        self.family, self.src, self.dst = family, src, dst
        self.sport, self.dport, self.payload = sport, dport, payload
        self.offloaded = offloaded   # checksum field = pseudo-header sum only
        self.transport = "udp"


def ones_sum(data):
    """RFC 1071 one's-complement sum of 16-bit words, folded to 16 bits.
    Summed in native byte order: the result of a verification (0xffff)
    does not depend on byte order (RFC 1071, section 2 (B))."""
    if len(data) & 1:
        data = bytes(data) + b"\x00"
    s = sum(array.array("H", bytes(data)))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def be_sum(data):
    """The folded one's-complement sum of big-endian 16-bit words (the
    value as it would appear in a checksum field before complementing)."""
    if len(data) & 1:
        data = bytes(data) + b"\x00"
    a = array.array("H", bytes(data))
    if sys.byteorder == "little":
        a.byteswap()
    s = sum(a)
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _be16(b, o):
    return (b[o] << 8) | b[o + 1]


def link_strip(linktype, f):
    """Returns (ip_version or None, offset of the IP header) or a verdict
    string."""
    n = len(f)
    if linktype == LT_ETHERNET:
        if n < 14:
            return MALFORMED
        et, off = _be16(f, 12), 14
        tags = 0
        while et in ETH_VLAN_TYPES:
            if tags == MAX_VLAN_TAGS:
                return NOT_UDP
            if n < off + 4:
                return MALFORMED
            et, off = _be16(f, off + 2), off + 4
            tags += 1
        return (4, off) if et == 0x0800 else (6, off) if et == 0x86DD else NOT_UDP
    if linktype == LT_SLL:                    # 16-byte Linux cooked header
        if n < 16:
            return MALFORMED
        et = _be16(f, 14)
        return (4, 16) if et == 0x0800 else (6, 16) if et == 0x86DD else NOT_UDP
    if linktype == LT_SLL2:                   # 20-byte Linux cooked v2 header
        if n < 20:
            return MALFORMED
        et = _be16(f, 0)
        return (4, 20) if et == 0x0800 else (6, 20) if et == 0x86DD else NOT_UDP
    if linktype in (LT_NULL, LT_LOOP):
        if n < 4:
            return MALFORMED
        if linktype == LT_LOOP:
            fams = (struct.unpack_from(">I", f, 0)[0],)
        else:                                 # host byte order of the writer
            fams = struct.unpack_from("<I", f, 0) + struct.unpack_from(">I", f, 0)
        for fam in fams:
            if fam == 2:
                return (4, 4)
            if fam in AF_INET6_VALUES:
                return (6, 4)
        return NOT_UDP
    if linktype == LT_RAW:
        if n < 1:
            return MALFORMED
        v = f[0] >> 4
        return (v, 0) if v in (4, 6) else NOT_UDP
    if linktype == LT_IPV4:
        return (4, 0)
    if linktype == LT_IPV6:
        return (6, 0)
    return NOT_UDP


def decode_ipv4(p):
    """p: bytes from the IPv4 header on. Returns (src, dst, l4 bytes) or a
    verdict."""
    if len(p) < 20 or p[0] >> 4 != 4:
        return MALFORMED
    ihl = (p[0] & 0x0F) * 4
    tot = _be16(p, 2)
    if ihl < 20 or tot < ihl or tot > len(p):
        return MALFORMED
    if ones_sum(p[:ihl]) != 0xFFFF:
        return MALFORMED
    if _be16(p, 6) & 0x3FFF:                  # MF set or fragment offset
        return FRAGMENT
    if p[9] != 17:
        return NOT_UDP
    return p[12:16], p[16:20], p[ihl:tot]


def decode_ipv6(p):
    """p: bytes from the IPv6 header on. Returns (src, dst for the
    pseudo-header, l4 bytes) or a verdict."""
    if len(p) < 40 or p[0] >> 4 != 6:
        return MALFORMED
    end = 40 + _be16(p, 4)
    if end > len(p):
        return MALFORMED
    src, dst = p[8:24], p[24:40]
    nh, off = p[6], 40
    while nh != 17:
        if nh in (0, 43, 60, 51):
            if off + 8 > end:
                return MALFORMED
            if nh == 51:
                hlen = (p[off + 1] + 2) * 4
            else:
                hlen = (p[off + 1] + 1) * 8
            if off + hlen > end:
                return MALFORMED
            if nh == 43 and p[off + 3] > 0 and p[off + 2] in (0, 2) and hlen >= 24:
                # RFC 8200 8.1: the pseudo-header uses the final
                # destination, the last address of a type 0/2 routing
                # header that still has segments left.
                dst = p[off + hlen - 16:off + hlen]
            nh = p[off]
            off += hlen
        elif nh == 44:
            return FRAGMENT
        else:
            return NOT_UDP
    return src, dst, p[off:end]


def decode_frame(linktype, frame):
    """Decodes one captured frame. Returns a Datagram or a verdict string."""
    r = link_strip(linktype, frame)
    if isinstance(r, str):
        return r
    ver, off = r
    p = memoryview(frame)[off:]
    if ver == 4:
        r = decode_ipv4(p)
    else:
        r = decode_ipv6(p)
    if isinstance(r, str):
        return r
    src, dst, l4 = r
    if len(l4) < 8:
        return MALFORMED
    ulen = _be16(l4, 4)
    if ulen < 8 or ulen > len(l4):
        return MALFORMED
    ck = _be16(l4, 6)
    if ck == 0 and ver == 6:
        return MALFORMED                      # RFC 8200 8.1: mandatory
    offloaded = False
    if ck != 0:
        if ver == 4:
            pseudo = bytes(src) + bytes(dst) + struct.pack(">BBH", 0, 17, ulen)
        else:
            pseudo = bytes(src) + bytes(dst) + struct.pack(">IxxxB", ulen, 17)
        if ones_sum(pseudo + bytes(l4[:ulen])) != 0xFFFF:
            # TX checksum offload seen from the sending host: the kernel
            # left the folded pseudo-header sum for the NIC to finish.
            if ck != be_sum(pseudo):
                return MALFORMED
            offloaded = True
    return Datagram(ver, bytes(src), bytes(dst), _be16(l4, 0), _be16(l4, 2), bytes(l4[8:ulen]),
                    offloaded)


def _ip_layer(linktype, frame):
    """(version, src, dst, proto, l4 bytes) of an unfragmented IPv4 or IPv6
    packet without extension headers, or None."""
    r = link_strip(linktype, frame)
    if isinstance(r, str):
        return None
    ver, off = r
    p = bytes(memoryview(frame)[off:])
    if ver == 4:
        if len(p) < 20 or p[0] >> 4 != 4 or ones_sum(p[:(p[0] & 0x0F) * 4]) != 0xFFFF:
            return None
        ihl, tot = (p[0] & 0x0F) * 4, _be16(p, 2)
        if ihl < 20 or tot < ihl or tot > len(p) or _be16(p, 6) & 0x3FFF:
            return None
        return 4, p[12:16], p[16:20], p[9], p[ihl:tot]
    if len(p) < 40 or p[0] >> 4 != 6 or 40 + _be16(p, 4) > len(p):
        return None
    return 6, p[8:24], p[24:40], p[6], p[40:40 + _be16(p, 4)]


def tcp_dns(linktype, frame, port=53):
    """What tapxfr's DNS over TCP reassembly makes of one captured segment
    that is a connection of its own, as gen_pcap writes them (a whole
    length-prefixed message, no SYN): a Datagram (transport "tcp") when
    the segment is on the port, its checksum right, and its payload one
    whole message of at least a DNS header with plausible counts and QR
    as the direction says (responses from the port, queries to it);
    MALFORMED for a wrong TCP checksum on the port; None otherwise."""
    ip = _ip_layer(linktype, frame)
    if ip is None or ip[3] != 6 or len(ip[4]) < 20:
        return None
    ver, src, dst, _proto, seg = ip
    sport, dport = _be16(seg, 0), _be16(seg, 2)
    if port not in (sport, dport):
        return None
    hl = (seg[12] >> 4) * 4
    if hl < 20 or hl > len(seg):
        return MALFORMED
    if ver == 4:
        pseudo = src + dst + struct.pack(">BBH", 0, 6, len(seg))
    else:
        pseudo = src + dst + struct.pack(">IxxxB", len(seg), 6)
    offloaded = False
    if ones_sum(pseudo + seg) != 0xFFFF:
        # The same TX offload rule as for UDP: the field holds only the
        # pseudo-header sum on the sending host.
        if _be16(seg, 16) != be_sum(pseudo):
            return MALFORMED
        offloaded = True
    data = seg[hl:]
    if len(data) < 14 or _be16(data, 0) != len(data) - 2:
        return None
    msg = data[2:]
    _flags, qd, an, ns, ar = struct.unpack_from(">HHHHH", msg, 2)
    if qd >= 16 or an >= 1024 or ns >= 1024 or ar >= 1024:
        return None
    if bool(msg[2] & 0x80) != (sport == port):
        return None   # codec/tcpdns.c's hunt: responses from the port, queries to it
    d = Datagram(ver, bytes(src), bytes(dst), sport, dport, bytes(msg), offloaded)
    d.transport = "tcp"
    return d


# ------------------------------------------------------------ DNS + oracle

QR, AA, TC = 0x8000, 0x0400, 0x0200
DEFAULT_MAX_SIZE = 4096


def dns_verdict(msg, auth_only=False, drop_empty=False, max_size=DEFAULT_MAX_SIZE):
    """The checks in the 2004 program's order. Returns "forward" or a drop
    reason: dns_short, dns_header, query (these three: not a response),
    no_answer, not_auth, oversize (responses that are dropped)."""
    if len(msg) < 12:
        return "dns_short"
    flags, qd, an, ns, ar = struct.unpack_from(">HHHHH", msg, 2)
    if qd >= 16 or an >= 1024 or ns >= 1024 or ar >= 1024:
        return "dns_header"
    if not flags & QR:
        return "query"
    if drop_empty and an == 0 and not flags & TC:
        return "no_answer"
    if auth_only and not flags & AA:
        return "not_auth"
    if len(msg) > max_size:
        return "oversize"
    return "forward"


def dnsxfr(dg):
    """The DNSXFR01 message tapxfr must send for a forwarded datagram."""
    aa = struct.unpack_from(">H", dg.payload, 2)[0] & AA
    ns = dg.src if aa and dg.family == 4 else b"\x00\x00\x00\x00"
    return MAGIC + ns + dg.payload


class Expected:
    """What tapxfr must do with one pcap file and one set of flags.

    messages    DNSXFR01 messages (bytes) in capture order
    index       for each message, the 0-based index of its frame
    responses   DNS responses past the header checks (before -A/-D/size)
    queries     QR clear (header checks passed)
    malformed   packets that failed decoding (approximate: tapxfr only
                sees what its BPF filter passes)
    dns_error   port-matching datagrams that failed the DNS header checks
                (dns_short, dns_header)
    drops       Counter of drop reasons among responses (no_answer, ...)
    csum_offloaded  port-matching datagrams whose UDP checksum field held
                only the pseudo-header sum (accepted unverified)
    verdicts    per frame (index in the file): the verdict string, for
                frames that were on the DNS port or broken; the others
                are None
    """

    def __init__(self):
        self.messages = []
        self.index = []
        self.responses = self.queries = self.malformed = self.fragments = 0
        self.dns_error = 0
        self.csum_offloaded = 0   # port-matching datagrams accepted unverified
        self.drops = collections.Counter()
        self.verdicts = []
        self.frames = 0

    @property
    def forwarded(self):
        return len(self.messages)

    @property
    def dropped(self):
        return sum(self.drops.values())

    def summary(self):
        return ("frames=%d responses=%d forwarded=%d dropped=%d queries=%d malformed=%d "
                "dns_error=%d csum_offloaded=%d %s"
                % (self.frames, self.responses, self.forwarded, self.dropped, self.queries,
                   self.malformed, self.dns_error, self.csum_offloaded,
                   " ".join("drop_%s=%d" % kv for kv in sorted(self.drops.items()))))


def oracle_frames(linktype, frames, auth_only=False, drop_empty=False,
                  max_size=DEFAULT_MAX_SIZE, port=53, reassembly=True):
    """The oracle over frames [(caplen, origlen, data)]. See Expected.
    With reassembly (tapxfr's default), DNS over TCP segments as gen_pcap
    writes them are records too (tcp_dns())."""
    ex = Expected()
    for i, (_caplen, _orig, data) in enumerate(frames):
        ex.frames += 1
        d = decode_frame(linktype, data)
        if d == NOT_UDP and reassembly and port == 53:
            d = tcp_dns(linktype, data, port) or NOT_UDP
        if isinstance(d, str):
            # Broken packets count as malformed only when they would have
            # reached tapxfr at all; approximated, informational only.
            if d == MALFORMED:
                ex.malformed += 1
            elif d == FRAGMENT:
                ex.fragments += 1
            ex.verdicts.append(d if d != NOT_UDP else None)
            continue
        if d.sport != port and d.dport != port:
            ex.verdicts.append(None)
            continue
        ex.csum_offloaded += d.offloaded and d.transport == "udp"
        v = dns_verdict(d.payload, auth_only, drop_empty, max_size)
        ex.verdicts.append(v)
        if v in ("dns_short", "dns_header"):
            ex.dns_error += 1
        elif v == "query":
            ex.queries += 1
        else:
            ex.responses += 1
            if v == "forward":
                ex.messages.append(dnsxfr(d))
                ex.index.append(i)
            else:
                ex.drops[v] += 1
    return ex


def oracle(pcap_path, **kw):
    """The oracle for a pcap file: Expected for these flags (auth_only=-A,
    drop_empty=-D, max_size=--max-size, port=the DNS port the filter
    passes)."""
    linktype, frames = read_pcap(pcap_path)
    return oracle_frames(linktype, frames, **kw)


def describe(msg):
    """One line about a DNSXFR01 message, for failure reports."""
    if len(msg) < 24 or not msg.startswith(MAGIC):
        return "%d bytes: %s" % (len(msg), msg[:32].hex())
    dns = msg[12:]
    i, fl, qd, an, ns, ar = struct.unpack_from(">HHHHHH", dns, 0)
    return ("ns=%s id=%04x flags=%04x qd=%d an=%d ns=%d ar=%d len=%d"
            % (socket.inet_ntoa(msg[8:12]), i, fl, qd, an, ns, ar, len(dns)))


def multiset_diff(got, want, limit=5):
    """Returns (missing, unexpected, text): messages wanted but not received
    (counted), received but not wanted, and a short report."""
    g, w = collections.Counter(got), collections.Counter(want)
    missing, unexpected = w - g, g - w
    lines = []
    for title, c in (("missing", missing), ("unexpected", unexpected)):
        if c:
            lines.append("%s: %d message(s), e.g.:" % (title, sum(c.values())))
            for m in list(c)[:limit]:
                lines.append("  " + describe(m))
    return missing, unexpected, "\n".join(lines)


def first_order_diff(got, want):
    """Text about the first index where two ordered lists differ."""
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return "first difference at index %d:\n  got:  %s\n  want: %s" % (i, describe(a), describe(b))
    if len(got) != len(want):
        return "lists agree on the first %d; got %d, want %d" % (min(len(got), len(want)), len(got), len(want))
    return "identical"


# ------------------------------------------------------------ pcap making

def gen_pcap(outdir, count=20000, seed=7, name=None, extra=()):
    """Runs tests/tools/gen_pcap.py into outdir; returns the file path."""
    path = os.path.join(outdir, name or "gen-%d-%d.pcap" % (count, seed))
    cmd = [sys.executable, "-B", tool_path("gen_pcap.py"), "--count", str(count), "--seed", str(seed),
           "--out", path] + list(extra)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("gen_pcap.py failed: %s" % r.stdout.decode(errors="replace"))
    return path


# ------------------------------------------------------------ UDP collector

def udp_socket_drops(sock):
    """The kernel's drop counter of a UDP socket (receive buffer overflow),
    from /proc/net/udp{,6}; None when it cannot be read."""
    ino = os.fstat(sock.fileno()).st_ino
    for fn in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if len(cols) >= 13 and cols[9] == str(ino):
                        return int(cols[-1])
        except OSError:
            pass
    return None


def udp_port_drops(port):
    """Sum of drop counters of the UDP sockets bound to a local port."""
    total, found = 0, False
    for fn in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if len(cols) >= 13 and int(cols[1].rsplit(":", 1)[1], 16) == port:
                        total += int(cols[-1])
                        found = True
        except OSError:
            pass
    return total if found else None


def _set_rcvbuf(sock, size):
    try:
        sock.setsockopt(socket.SOL_SOCKET, 33, size)    # SO_RCVBUFFORCE (root)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


class UDPCollector:
    """Receives datagrams on 127.0.0.1:<ephemeral> in a thread and keeps
    each one's bytes, in arrival order (self.messages)."""

    def __init__(self, host="127.0.0.1", rcvbuf=32 << 20):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rcvbuf = _set_rcvbuf(self.sock, rcvbuf)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.messages = []
        self.last = time.time()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        buf = bytearray(70000)
        mv = memoryview(buf)
        recv_into, msgs = self.sock.recv_into, self.messages
        while not self._stop:
            r, _, _ = select.select([self.sock], [], [], 0.1)
            if not r:
                continue
            while True:                                 # drain in a tight loop
                try:
                    n = recv_into(buf)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    return
                msgs.append(bytes(mv[:n]))
            self.last = time.time()

    def wait(self, count=None, idle=1.0, timeout=30.0):
        """Waits until `count` messages arrived (then a short grace period
        for extra ones) or nothing arrived for `idle` seconds."""
        end = time.time() + timeout
        while time.time() < end:
            if count is not None and len(self.messages) >= count:
                time.sleep(0.2)
                break
            if time.time() - self.last >= idle:
                break
            time.sleep(0.05)
        return self.messages

    def drops(self):
        return udp_socket_drops(self.sock)

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


# ------------------------------------------------------------ TCP collector

def reserve_port(kind=socket.SOCK_STREAM):
    """A currently free 127.0.0.1 port (bound to port 0, then closed)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TCPCollector:
    """A DNSXFR01 TCP collector on 127.0.0.1:port (0 = ephemeral).

    For each connection it sends the banner line, then reads the stream of
    2-byte big-endian length prefixed messages and appends each message
    (without prefix) to self.messages. Connections are served one after
    the other, as tapxfr opens them. Bytes of an incomplete message at the
    end of a connection are counted in self.partial.

    read_delay / chunk make a slow reader: `chunk` bytes per read, then
    sleep `read_delay` seconds; rcvbuf shrinks the kernel buffers so that
    the sender feels it. kill() closes everything at once (unread data
    makes the kernel send a reset), as a crashing collector would.
    """

    def __init__(self, port=0, banner=BANNER, read_delay=0.0, chunk=65536, rcvbuf=None,
                 banner_delay=0.0):
        self.banner, self.read_delay, self.chunk = banner, read_delay, chunk
        self.banner_delay = banner_delay
        self.early_bytes = 0      # bytes the peer sent before the whole banner
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.messages = []
        self.connections = 0
        self.closed_connections = 0
        self.partial = 0
        self.bytes = 0
        self.conn = None
        self.connect_times = []   # time.time() of each accepted connection
        self.last = time.time()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                r, _, _ = select.select([self.lsock], [], [], 0.1)
            except (OSError, ValueError):
                return
            if not r:
                continue
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            self.conn = conn
            self.connect_times.append(time.time())
            self.connections += 1
            self.last = time.time()
            try:
                self._serve(conn)
            except OSError:
                pass
            self.closed_connections += 1
            self.conn = None
            try:
                conn.close()
            except OSError:
                pass

    def _serve(self, conn):
        buf = bytearray()
        if self.banner_delay:
            # Send the banner late and in two pieces: a sender that does not
            # wait for the whole line shows up in early_bytes.
            half = len(self.banner) // 2
            for piece in (self.banner[:half], self.banner[half:]):
                time.sleep(self.banner_delay)
                r, _, _ = select.select([conn], [], [], 0)
                if r:
                    try:
                        early = conn.recv(65536, socket.MSG_PEEK)
                    except OSError:
                        early = b""
                    self.early_bytes = max(self.early_bytes, len(early))
                conn.sendall(piece)
        elif self.banner:
            conn.sendall(self.banner)
        while not self._stop:
            r, _, _ = select.select([conn], [], [], 0.1)
            if not r:
                continue
            data = conn.recv(self.chunk)
            if not data:
                break
            self.bytes += len(data)
            self.last = time.time()
            buf += data
            pos = 0
            while len(buf) - pos >= 2:
                n = (buf[pos] << 8) | buf[pos + 1]
                if len(buf) - pos - 2 < n:
                    break
                self.messages.append(bytes(buf[pos + 2:pos + 2 + n]))
                pos += 2 + n
            del buf[:pos]
            if self.read_delay:
                time.sleep(self.read_delay)
        self.partial += len(buf)

    def wait_closed(self, timeout=30.0):
        """Waits until the current connection (if any) was closed by the
        peer and nothing arrived for a moment."""
        end = time.time() + timeout
        while time.time() < end:
            if self.conn is None and self.connections and time.time() - self.last > 0.2:
                return True
            time.sleep(0.05)
        return False

    def kill(self):
        """Stops at once: closes the listening and the connected socket."""
        self._stop = True
        c = self.conn
        if c is not None:
            try:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self._thread.join(3)
        for s in (c, self.lsock):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass

    close = kill


# ------------------------------------------------------------ running tapxfr

STATS_RE = re.compile(r"tapxfr: stats: (.*)$")


def parse_stats(text):
    """The last process-wide `tapxfr: stats: received=... ` line of text as
    a dict (ints where the value is a number), or None when there is none.
    Per-input and per-collector lines (`tapxfr: stats: NAME: k=v ...`)
    are skipped."""
    last = None
    for line in text.splitlines():
        m = STATS_RE.search(line)
        if m and m.group(1).startswith("received="):
            last = m.group(1)
    if last is None:
        return None
    out = {}
    for k, v in re.findall(r"([A-Za-z_][\w.]*)=(\S*)", last):
        try:
            out[k] = int(v)
        except ValueError:
            out[k] = v
    return out


class StuckCollector:
    """Accepts, sends the banner, and reads nothing until drain()."""

    def __init__(self):
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(4)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.th = threading.Thread(target=self._accept, daemon=True)
        self.th.start()

    def _accept(self):
        while True:
            try:
                s, _ = self.lsock.accept()
            except OSError:
                return
            s.sendall(BANNER)
            self.conns.append(s)

    def drain(self, timeout=30):
        """Reads every connection to its end; returns the messages."""
        out, partial = [], 0
        for s in self.conns:
            buf = bytearray()
            s.settimeout(timeout)
            while True:
                try:
                    d = s.recv(1 << 20)
                except OSError:
                    break
                if not d:
                    break
                buf += d
            pos = 0
            while len(buf) - pos >= 2:
                n = (buf[pos] << 8) | buf[pos + 1]
                if len(buf) - pos - 2 < n:
                    break
                out.append(bytes(buf[pos + 2:pos + 2 + n]))
                pos += 2 + n
            partial += len(buf) - pos
        return out, partial

    def close(self):
        self.lsock.close()
        for s in self.conns:
            s.close()



COLL_LINE = re.compile(r"tapxfr: stats: ((?:tcp|udp)://\S+): (queued=.*)$")


def coll_stats(text):
    """{collector name: {counter: int}} from the last per-collector lines."""
    out = {}
    for line in text.splitlines():
        m = COLL_LINE.search(line)
        if m:
            out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return out


class Run:
    """A tapxfr process started in the background; stderr goes to a file
    (so it can never block on a full pipe)."""

    def __init__(self, args, stdin=None, binary=None, workdir=None):
        self.args = [binary or tapxfr_bin()] + list(args)
        self.workdir = workdir or tempdir()
        self.errpath = os.path.join(self.workdir, "stderr-%d-%d.txt" % (os.getpid(), id(self)))
        self.outpath = self.errpath.replace("stderr", "stdout")
        self._err = open(self.errpath, "wb")
        self._out = open(self.outpath, "wb")
        print("   $ " + " ".join(_shq(a) for a in self.args), flush=True)
        self.t0 = time.time()
        self.proc = subprocess.Popen(self.args, stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err)
        _procs.append(self.proc)
        self.rc = None
        self.elapsed = None

    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout=30.0):
        """Waits for exit; kills and returns None on timeout, else the exit
        status (negative: killed by that signal)."""
        try:
            self.rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            self.rc = None
        self.elapsed = time.time() - self.t0
        self._err.close()
        self._out.close()
        return self.rc

    def terminate(self, timeout=10.0):
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    @property
    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def stdout(self):
        with open(self.outpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    @property
    def stats(self):
        return parse_stats(self.stderr)


def run_tapxfr(args, timeout=30.0, stdin=None):
    """Runs tapxfr to completion (killed after timeout). Returns the Run
    (rc is None when it had to be killed)."""
    r = Run(args, stdin=stdin)
    r.wait(timeout)
    return r


def _shq(a):
    return a if re.match(r"^[\w./:=+-]+$", a) else "'" + a.replace("'", "'\\''") + "'"


def check_stats(t, stats, ex, what=""):
    """The stats checks every forwarding test makes against the oracle."""
    pre = (what + ": ") if what else ""
    if not t.check(stats is not None, pre + "a 'tapxfr: stats:' line on stderr"):
        return
    keys = ("received", "responses", "forwarded", "dropped", "queries", "malformed")
    t.check(all(k in stats for k in keys), pre + "stats has the keys " + " ".join(keys),
            "missing: " + " ".join(k for k in keys if k not in stats))
    fw, dr, rs = stats.get("forwarded"), stats.get("dropped"), stats.get("responses")
    t.check(isinstance(fw, int) and isinstance(dr, int) and isinstance(rs, int) and fw + dr == rs,
            pre + "stats: forwarded + dropped == responses (%r + %r, %r)" % (fw, dr, rs))
    t.eq(rs, ex.responses, pre + "stats: responses == oracle's")
    t.eq(fw, ex.forwarded, pre + "stats: forwarded == oracle's expected count")
    for reason, n in sorted(ex.drops.items()):
        t.eq(stats.get("drop_" + reason), n, pre + "stats: drop_%s" % reason)
    t.eq(stats.get("queries"), ex.queries, pre + "stats: queries == oracle's")
    if "dns_error" in stats:
        t.eq(stats["dns_error"], ex.dns_error, pre + "stats: dns_error (short or bad header counts)")
    # Informational: the oracle's malformed count ignores what the BPF
    # filter would not have passed.
    t.info(pre + "stats line: %s" % " ".join("%s=%s" % kv for kv in stats.items()))
    t.info(pre + "oracle:     %s" % ex.summary())
    if stats.get("malformed") != ex.malformed:
        t.info(pre + "note: stats malformed=%r, oracle %d (approximate)" % (stats.get("malformed"), ex.malformed))


def check_udp_received(t, what, got, want, drops):
    """Exact multiset comparison of what a UDP collector received with the
    expected messages. Loopback UDP has no flow control: when the kernel
    reports that the collector's own socket dropped datagrams (receive
    buffer full; drops from /proc/net/udp), the received messages must be
    a sub-multiset of the expected ones and exactly `drops` short."""
    missing, unexpected, text = multiset_diff(got, want)
    nmiss = sum(missing.values())
    if not drops:
        return t.check(not missing and not unexpected,
                       "%s: received multiset == expected (%d expected, %d received)"
                       % (what, len(want), len(got)), text)
    t.info("%s: NOTE: the kernel dropped %d datagrams at the collector's socket (receive "
           "buffer too small for the burst; raise net.core.rmem_max or run as root)" % (what, drops))
    return t.check(not unexpected and nmiss == drops,
                   "%s: received multiset == expected minus the %d kernel drops at the collector "
                   "(%d expected, %d received, %d missing)" % (what, drops, len(want), len(got), nmiss),
                   text)
