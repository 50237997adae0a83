"""dnstap_servers.py - real dnstap emitters for the tapxfr integration tests
(Python 3 standard library only; builds on tapxfr_test.py).

What is here:

* An independent dnstap ORACLE: a Frame Streams file reader, a minimal
  protobuf wire-format reader and a dnstap decoder written from
  dnstap.proto and the Frame Streams spec (no protobuf-c, no libfstrm,
  no code shared with tapxfr or with tests/tools/gen_dnstap.py), and the
  contract of tapxfr's dnstap input: which dnstap messages become which
  DNSXFR01 messages (expected_from_frames).
* A second, dnstap-free oracle for resolvers: a tcpdump capture on `lo`
  of the upstream servers' answers (UDP and TCP, reassembled), turned into
  the DNSXFR01 messages that the resolver's RESOLVER_RESPONSE messages
  must produce (the bytes the resolver received from its upstream, and
  the upstream's address as nameserver field for AA answers over IPv4).
* A DNS stub client (UDP/TCP, IPv4/IPv6, RD on or off).
* Real servers, each started on loopback with random ports and its own
  configuration in a temporary directory: Knot DNS (optionally with
  mod-dnstap), Unbound, BIND 9, PowerDNS Recursor, Knot Resolver and
  dnsdist. Every start waits for a log line or a listening socket,
  never a fixed sleep; every process is killed at exit (tapxfr_test's
  cleanup), and every config names only loopback addresses: root hints
  point at an unused loopback address and security polling is off, so
  no packet ever leaves the host.
* Dnstap sinks with one interface: tapxfr itself (--dnstap-socket or
  --dnstap-listen into a Python collector) or, in reference mode,
  fstrm_capture (what was captured is turned into DNSXFR01 messages by
  the oracle, so each test's server side and expected sets can be checked
  without tapxfr).

The dnstap snippets in contrib/dnstap/ are what the servers here load:
each test copies the server's snippet with the socket path replaced, so
the documented configuration is the tested one.

Contract of tapxfr's dnstap input that the oracle implements:
  A Frame Streams data frame is one Dnstap protobuf. A Dnstap of type
  MESSAGE whose Message type is selected (default RESOLVER_RESPONSE,
  FORWARDER_RESPONSE, AUTH_RESPONSE; --dnstap-types) and that carries
  response_message yields the record: "DNSXFR01" + nameserver + the
  response_message bytes exactly, where nameserver is response_address
  when the response has AA set, socket_family is INET (4-byte address)
  and the address is not 0.0.0.0, else 0.0.0.0. The record then passes
  the checks of the pcap path (tapxfr_test.dns_verdict: header sanity,
  QR, -D, -A, --max-size). *_QUERY messages are never forwarded.
"""

import collections
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

CONTENT_TYPE = b"protobuf:dnstap.Dnstap"

# ------------------------------------------------------------ dnstap.proto

AUTH_QUERY, AUTH_RESPONSE, RESOLVER_QUERY, RESOLVER_RESPONSE = 1, 2, 3, 4
CLIENT_QUERY, CLIENT_RESPONSE, FORWARDER_QUERY, FORWARDER_RESPONSE = 5, 6, 7, 8
STUB_QUERY, STUB_RESPONSE, TOOL_QUERY, TOOL_RESPONSE = 9, 10, 11, 12
UPDATE_QUERY, UPDATE_RESPONSE = 13, 14
TYPE_NAMES = {
    1: "AUTH_QUERY", 2: "AUTH_RESPONSE", 3: "RESOLVER_QUERY", 4: "RESOLVER_RESPONSE",
    5: "CLIENT_QUERY", 6: "CLIENT_RESPONSE", 7: "FORWARDER_QUERY", 8: "FORWARDER_RESPONSE",
    9: "STUB_QUERY", 10: "STUB_RESPONSE", 11: "TOOL_QUERY", 12: "TOOL_RESPONSE",
    13: "UPDATE_QUERY", 14: "UPDATE_RESPONSE",
}
QUERY_TYPES = {t for t in TYPE_NAMES if t % 2 == 1}
DEFAULT_TYPES = frozenset((RESOLVER_RESPONSE, FORWARDER_RESPONSE, AUTH_RESPONSE))
INET, INET6 = 1, 2
UDP, TCP = 1, 2
PROTO_NAMES = {1: "UDP", 2: "TCP", 3: "DOT", 4: "DOH", 5: "DNSCryptUDP", 6: "DNSCryptTCP", 7: "DOQ"}


def type_arg(types):
    """--dnstap-types value for a set of types: 'resolver-response,...'."""
    return ",".join(TYPE_NAMES[t].lower().replace("_", "-") for t in sorted(types))


# ------------------------------------------------------------ protobuf reader

class PbError(Exception):
    pass


def _varint(b, off):
    n = shift = 0
    while True:
        if off >= len(b):
            raise PbError("truncated varint")
        c = b[off]
        off += 1
        n |= (c & 0x7F) << shift
        if not c & 0x80:
            return n, off
        shift += 7
        if shift > 63:
            raise PbError("varint too long")


def pb_fields(b):
    """The fields of one protobuf message: {number: [value, ...]}. Values:
    int for varint, bytes for length-delimited, fixed32/fixed64 as int
    (little endian). Groups (wire types 3, 4) are an error."""
    out = collections.defaultdict(list)
    off, n = 0, len(b)
    while off < n:
        key, off = _varint(b, off)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise PbError("field number 0")
        if wt == 0:
            v, off = _varint(b, off)
        elif wt == 1:
            if off + 8 > n:
                raise PbError("truncated fixed64")
            v = struct.unpack_from("<Q", b, off)[0]
            off += 8
        elif wt == 2:
            ln, off = _varint(b, off)
            if off + ln > n:
                raise PbError("truncated bytes field")
            v = bytes(b[off:off + ln])
            off += ln
        elif wt == 5:
            if off + 4 > n:
                raise PbError("truncated fixed32")
            v = struct.unpack_from("<I", b, off)[0]
            off += 4
        else:
            raise PbError("wire type %d" % wt)
        out[num].append(v)
    return out


class DnstapMsg:
    """One decoded Dnstap frame (only what the tests look at)."""
    __slots__ = ("identity", "version", "dtype", "mtype", "family", "proto", "qaddr", "raddr",
                 "qport", "rport", "query", "query_zone", "response", "qtime", "rtime", "has_msg")

    def __repr__(self):
        return "<%s %s %s %s>" % (TYPE_NAMES.get(self.mtype, self.mtype), PROTO_NAMES.get(self.proto),
                                  addr_text(self.raddr), qinfo(self.response or self.query or b""))


def decode_dnstap(frame):
    """Decodes one data frame (a Dnstap protobuf). Raises PbError."""
    top = pb_fields(frame)
    m = DnstapMsg()
    one = lambda d, k, dflt=None: d[k][-1] if k in d else dflt  # noqa: E731
    m.identity = one(top, 1)
    m.version = one(top, 2)
    m.dtype = one(top, 15)
    body = one(top, 14)
    m.has_msg = body is not None
    f = pb_fields(body) if body is not None else {}
    m.mtype = one(f, 1)
    m.family = one(f, 2)
    m.proto = one(f, 3)
    m.qaddr = one(f, 4)
    m.raddr = one(f, 5)
    m.qport = one(f, 6)
    m.rport = one(f, 7)
    m.query = one(f, 10)
    m.query_zone = one(f, 11)
    m.response = one(f, 14)
    m.qtime = (one(f, 8), one(f, 9))
    m.rtime = (one(f, 12), one(f, 13))
    return m


# ------------------------------------------------------------ Frame Streams

class FstrmError(Exception):
    pass


FS_ACCEPT, FS_START, FS_STOP, FS_READY, FS_FINISH = 1, 2, 3, 4, 5


def read_fstrm_file(path, allow_truncated=False):
    """Reads a Frame Streams file (START with content type, data frames,
    STOP). Returns (content_types, [frame bytes]). With allow_truncated a
    file cut short (a writer that was killed) yields what is complete."""
    with open(path, "rb") as f:
        raw = f.read()
    off, frames, ctypes, stopped = 0, [], [], False
    n = len(raw)
    while off + 4 <= n:
        ln = struct.unpack_from(">I", raw, off)[0]
        off += 4
        if ln:
            if off + ln > n:
                break
            frames.append(raw[off:off + ln])
            off += ln
            continue
        if off + 4 > n:
            break
        cl = struct.unpack_from(">I", raw, off)[0]
        off += 4
        if off + cl > n or cl < 4:
            break
        body = raw[off:off + cl]
        off += cl
        ct = struct.unpack_from(">I", body, 0)[0]
        p = 4
        while p + 8 <= len(body):
            ft, fl = struct.unpack_from(">II", body, p)
            p += 8
            if ft == 1:
                ctypes.append(bytes(body[p:p + fl]))
            p += fl
        if ct == FS_STOP:
            stopped = True
            break
    if not stopped and not allow_truncated:
        raise FstrmError("%s: no STOP frame (offset %d of %d)" % (path, off, n))
    return ctypes, frames


def fstrm_control(ctype, *content_types):
    """A control frame with one CONTENT_TYPE field per content type given
    (None: none)."""
    body = struct.pack(">I", ctype)
    for c in content_types:
        if c is not None:
            body += struct.pack(">II", 1, len(c)) + c
    return struct.pack(">II", 0, len(body)) + body


def fstrm_data(frame):
    """A data frame: its 32-bit big-endian length, then the frame."""
    return struct.pack(">I", len(frame)) + frame


def recv_exact(s, n):
    """n bytes from socket s, or fewer if the peer closed first."""
    buf = b""
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            break
        buf += c
    return buf


class LimitWriter(threading.Thread):
    """A bidirectional Frame Streams session on Unix socket `path` sending
    `frames`, never past self.limit, in ticks of 20 every 10 ms; STOP /
    FINISH once self.end is set and all up to the limit are out."""

    def __init__(self, path, frames):
        super().__init__(daemon=True)
        self.path, self.frames = path, frames
        self.limit, self.sent = 0, 0
        self.end = self.finished = False
        self.error = None
        self.connected = threading.Event()

    def run(self):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(self.path)
            s.sendall(fstrm_control(FS_READY, CONTENT_TYPE))
            accept = fstrm_control(FS_ACCEPT, CONTENT_TYPE)
            got = recv_exact(s, len(accept))
            if got != accept:
                raise OSError("no ACCEPT: %r" % got)
            s.sendall(fstrm_control(FS_START, CONTENT_TYPE))
            self.connected.set()
            n = len(self.frames)
            while True:
                upto = min(n, self.limit, self.sent + 20)
                if upto > self.sent:
                    s.sendall(b"".join(fstrm_data(f) for f in self.frames[self.sent:upto]))
                    self.sent = upto
                elif self.end and self.sent >= min(n, self.limit):
                    break
                time.sleep(0.01)
            s.sendall(fstrm_control(FS_STOP))
            finish = fstrm_control(FS_FINISH)
            if recv_exact(s, len(finish)) != finish:
                raise OSError("no FINISH")
            s.close()
            self.finished = True
        except OSError as e:
            self.error = "%s: %s" % (type(e).__name__, e)
            self.connected.set()


def write_fstrm_file(path, frames, content_type=CONTENT_TYPE):
    with open(path, "wb") as f:
        f.write(fstrm_control(FS_START, content_type))
        for fr in frames:
            f.write(struct.pack(">I", len(fr)))
            f.write(fr)
        f.write(fstrm_control(FS_STOP))


# ------------------------------------------------------------ the contract

ZERO4 = b"\0\0\0\0"


def dnsxfr_of(m):
    """The DNSXFR01 message for a dnstap message with a response."""
    r = m.response
    aa = len(r) >= 4 and (r[2] & 0x04)
    ns = ZERO4
    if aa and m.family == INET and m.raddr is not None and len(m.raddr) == 4 and m.raddr != ZERO4:
        ns = m.raddr
    return tt.MAGIC + ns + r


class DnstapExpected:
    """What tapxfr must forward for a list of dnstap frames.

    messages   DNSXFR01 messages, in frame order
    sources    the DnstapMsg of each message
    frames     data frames seen
    by_type    Counter of Message types (all frames)
    selected   frames of a selected type that carry a response_message
               (the dnstap "responses")
    queries    frames of a *_QUERY type
    unselected response-type frames not selected
    no_response frames of a selected type without response_message
    malformed  frames that do not decode
    responses  selected frames past the DNS header checks (the pcap
               path's "responses"); drops: Counter of -A/-D/size drops
    """

    def __init__(self):
        self.messages, self.sources = [], []
        self.frames = self.selected = self.queries = self.unselected = 0
        self.no_response = self.malformed = self.responses = self.dns_error = 0
        self.not_message = 0
        self.by_type = collections.Counter()
        self.drops = collections.Counter()

    @property
    def forwarded(self):
        return len(self.messages)

    @property
    def dropped(self):
        return sum(self.drops.values())

    def summary(self):
        return ("frames=%d selected=%d responses=%d forwarded=%d dropped=%d queries=%d unselected=%d "
                "no_response=%d malformed=%d dns_error=%d types={%s}"
                % (self.frames, self.selected, self.responses, self.forwarded, self.dropped, self.queries,
                   self.unselected, self.no_response, self.malformed, self.dns_error,
                   ", ".join("%s: %d" % (TYPE_NAMES.get(k, k), v) for k, v in sorted(self.by_type.items()))))


def expected_from_frames(frames, types=DEFAULT_TYPES, auth_only=False, drop_empty=False,
                         max_size=tt.DEFAULT_MAX_SIZE):
    ex = DnstapExpected()
    for fr in frames:
        ex.frames += 1
        try:
            m = decode_dnstap(fr)
        except PbError:
            ex.malformed += 1
            continue
        if m.dtype != 1 or not m.has_msg:
            ex.not_message += 1
            continue
        ex.by_type[m.mtype] += 1
        if m.mtype in QUERY_TYPES:
            ex.queries += 1
            continue
        if m.mtype not in types:
            ex.unselected += 1
            continue
        if m.response is None:
            ex.no_response += 1
            continue
        ex.selected += 1
        v = tt.dns_verdict(m.response, auth_only, drop_empty, max_size)
        if v in ("dns_short", "dns_header", "query"):
            ex.dns_error += 1
            continue
        ex.responses += 1
        if v == "forward":
            ex.messages.append(dnsxfr_of(m))
            ex.sources.append(m)
        else:
            ex.drops[v] += 1
    return ex


def expected_from_file(path, **kw):
    _ct, frames = read_fstrm_file(path)
    return expected_from_frames(frames, **kw)


# ------------------------------------------------------------ DNS helpers

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
          "SRV": 33, "DS": 43, "DNSKEY": 48, "ANY": 255}
QTYPE_NAMES = {v: k for k, v in QTYPES.items()}


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes((len(label),)) + label.encode("ascii")
    return out + b"\0"


def build_query(name, qtype, rd=True, edns=1232, qid=None):
    qid = random.getrandbits(16) if qid is None else qid
    flags = 0x0100 if rd else 0
    ar = 1 if edns else 0
    q = struct.pack(">HHHHHH", qid, flags, 1, 0, 0, ar) + wire_name(name) + \
        struct.pack(">HH", QTYPES.get(qtype, qtype) if isinstance(qtype, str) else qtype, 1)
    if edns:
        q += b"\0" + struct.pack(">HHIH", 41, edns, 0, 0)
    return q


def read_name(b, off):
    """(name text, offset after the name in place); follows pointers."""
    labels, jumped, end, hops = [], False, off, 0
    while True:
        if off >= len(b) or hops > 64:
            raise ValueError("bad name")
        c = b[off]
        if c == 0:
            off += 1
            break
        if c & 0xC0 == 0xC0:
            if off + 1 >= len(b):
                raise ValueError("bad pointer")
            if not jumped:
                end = off + 2
            jumped = True
            off = ((c & 0x3F) << 8) | b[off + 1]
            hops += 1
            continue
        labels.append(bytes(b[off + 1:off + 1 + c]).decode("ascii", "replace"))
        off += 1 + c
    return ".".join(labels).lower() + ".", (end if jumped else off)


def qinfo(dns):
    """'name TYPE' of a DNS message's first question, or '?'."""
    try:
        if len(dns) < 12 or struct.unpack_from(">H", dns, 4)[0] == 0:
            return "?"
        name, off = read_name(dns, 12)
        qt = struct.unpack_from(">H", dns, off)[0]
        return "%s %s" % (name, QTYPE_NAMES.get(qt, qt))
    except (ValueError, struct.error):
        return "?"


def rcode(dns):
    return dns[3] & 0x0F


def flags_of(dns):
    return struct.unpack_from(">H", dns, 2)[0]


def is_aa(dns):
    return bool(dns[2] & 0x04)


def is_tc(dns):
    return bool(dns[2] & 0x02)


def ancount(dns):
    return struct.unpack_from(">H", dns, 6)[0]


def dns_query(server, port, name, qtype="A", rd=True, tcp=False, edns=1232, timeout=2.0, tries=3):
    """Sends one query and returns the response bytes (None after `tries`
    timeouts). IPv6 when server contains ':'."""
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    for _ in range(tries):
        q = build_query(name, qtype, rd=rd, edns=edns)
        try:
            if tcp:
                with socket.socket(fam, socket.SOCK_STREAM) as s:
                    s.settimeout(timeout)
                    s.connect((server, port))
                    s.sendall(struct.pack(">H", len(q)) + q)
                    buf = b""
                    while len(buf) < 2 or len(buf) < 2 + struct.unpack_from(">H", buf)[0]:
                        c = s.recv(65536)
                        if not c:
                            break
                        buf += c
                    if len(buf) >= 2:
                        n = struct.unpack_from(">H", buf)[0]
                        if len(buf) >= 2 + n and buf[2:4] == q[:2]:
                            return buf[2:2 + n]
            else:
                with socket.socket(fam, socket.SOCK_DGRAM) as s:
                    s.settimeout(timeout)
                    s.sendto(q, (server, port))
                    end = time.time() + timeout
                    while time.time() < end:
                        data, _ = s.recvfrom(65536)
                        if data[:2] == q[:2]:
                            return data
        except (socket.timeout, ConnectionError, OSError):
            continue
    return None


def mask_id(msg):
    """A DNSXFR01 message with the DNS ID zeroed (to compare two runs of
    the same traffic: resolvers pick random IDs)."""
    return msg[:12] + b"\0\0" + msg[14:]


def addr_text(a):
    if a is None:
        return "-"
    if len(a) == 4:
        return socket.inet_ntop(socket.AF_INET, a)
    if len(a) == 16:
        return socket.inet_ntop(socket.AF_INET6, a)
    return a.hex()


def describe(msg):
    """One line about a DNSXFR01 message (question, rcode, flags)."""
    if len(msg) < 24 or not msg.startswith(tt.MAGIC):
        return tt.describe(msg)
    dns = msg[12:]
    return "%s %s rcode=%d aa=%d tc=%d an=%d len=%d ns=%s" % (
        qinfo(dns), "", rcode(dns), is_aa(dns), is_tc(dns), ancount(dns), len(dns),
        socket.inet_ntoa(msg[8:12]))


# ------------------------------------------------------------ ports, sockets

def free_port():
    """A 127.0.0.1 port currently free for both UDP and TCP."""
    for _ in range(50):
        p = tt.reserve_port(socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            u.close()
    raise RuntimeError("no free port")


def have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def loopback_addr_for_53():
    """A random 127.x.y.z (not 127.0.0.x) on which port 53 is free for
    UDP and TCP (needs root), or None."""
    for _ in range(20):
        a = "127.%d.%d.%d" % (random.randint(1, 254), random.randint(0, 255), random.randint(2, 254))
        socks = []
        try:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((a, 53))
            return a
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    return None


# An address on which nothing listens: every config's root hints point
# here, so a resolver that wants the root never sends a packet off-host.
BLACKHOLE = "127.255.255.254"


def unix_socket_state(path):
    """(listening, connected) for a Unix socket path, from /proc/net/unix:
    whether some socket listens on it, and how many accepted connections
    carry that path (each writer connected to a listener adds one)."""
    listening, connected = False, 0
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                cols = line.split()
                if len(cols) < 8 or cols[7] != path:
                    continue
                flags, st = int(cols[3], 16), cols[5]
                if flags & 0x10000:
                    listening = True
                elif st == "03":
                    connected += 1
    except OSError:
        pass
    return listening, connected


def tcp_listening(port, addr="127.0.0.1"):
    want = "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(addr))[0], port)
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                cols = line.split()
                if cols[1] == want and cols[3] == "0A":
                    return True
    except OSError:
        pass
    return False


def tcp_established(port, addr="127.0.0.1"):
    """Number of established TCP connections whose local end is addr:port."""
    want = "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(addr))[0], port)
    n = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                cols = line.split()
                if cols[1] == want and cols[3] == "01":
                    n += 1
    except OSError:
        pass
    return n


def wait_until(cond, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def wait_listening(path, timeout=10.0):
    return wait_until(lambda: unix_socket_state(path)[0], timeout)


def wait_writers(path, n=1, timeout=10.0):
    """Waits until at least n writers are connected to the socket path."""
    return wait_until(lambda: unix_socket_state(path)[1] >= n, timeout)


# ------------------------------------------------------------ processes

class Proc:
    """A background process with its stdout+stderr in a log file, killed
    at exit by tapxfr_test's cleanup."""

    def __init__(self, name, args, workdir, env=None, cwd=None):
        self.name = name
        self.args = list(args)
        self.log = os.path.join(workdir, "%s-%d.log" % (name, int(time.time() * 1000) % 10000000))
        self._f = open(self.log, "wb")
        print("   $ " + " ".join(tt._shq(a) for a in self.args), flush=True)
        self.t0 = time.time()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self._f,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd or workdir,
                                     start_new_session=True)
        tt._procs.append(self.proc)
        self.rc = None

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, regex, timeout=10.0, count=1):
        """Waits until regex matched `count` lines of the log; False if the
        process exited or the time ran out."""
        rx = re.compile(regex)
        end = time.time() + timeout
        while True:
            n = sum(1 for line in self.text().splitlines() if rx.search(line))
            if n >= count:
                return True
            if time.time() > end or not self.running():
                return False
            time.sleep(0.05)

    def count_log(self, regex):
        rx = re.compile(regex)
        return sum(1 for line in self.text().splitlines() if rx.search(line))

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Signals and waits; SIGKILL after timeout. Returns (rc, seconds
        it took to exit after the signal, or None when it was killed)."""
        t = time.time()
        took = None
        if self.running():
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
        try:
            self.rc = self.proc.wait(timeout)
            took = time.time() - t
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.rc = self.proc.wait(5)
        self._f.close()
        return self.rc, took

    def tail(self, n=2000):
        return self.text()[-n:]


def require(prog, pkg=None):
    """Path of a program, or skip the test naming the Debian package."""
    p = tt.which(prog)
    if p is None:
        tt.skip("%s not installed%s" % (prog, " (Debian package %s)" % pkg if pkg else ""))
    return p


def contrib_snippet(name, sock_path):
    """The text of contrib/dnstap/NAME with the socket path replaced."""
    p = os.path.join(os.path.dirname(tt.tests_srcdir()), "contrib", "dnstap", name)
    with open(p) as f:
        text = f.read()
    if SNIPPET_SOCKET not in text:
        raise RuntimeError("%s does not name %s" % (p, SNIPPET_SOCKET))
    return text.replace(SNIPPET_SOCKET, sock_path)


SNIPPET_SOCKET = "/run/tapxfr/dnstap.sock"


def _mkdir(base, name):
    d = os.path.join(base, name)
    os.makedirs(d, exist_ok=True)
    return d


# ------------------------------------------------------------ zones

HUGE_TXT = "".join('huge IN TXT "%s"\n' % (chr(65 + i) * 250) for i in range(6))


def test_zone(origin="tapxfr.test.", child=None, extra=""):
    """A small zone for resolver tests. child = (label, nsaddr): delegate
    LABEL.origin to ns1.LABEL.origin with glue nsaddr."""
    z = """$ORIGIN {o}
$TTL 3600
@       IN SOA  ns1.{o} hostmaster.{o} 2024010101 7200 3600 1209600 300
@       IN NS   ns1.{o}
@       IN MX   10 mail.{o}
ns1     IN A    127.0.0.1
www     IN A    192.0.2.80
www     IN A    192.0.2.81
www     IN AAAA 2001:db8::80
mail    IN A    192.0.2.25
alias   IN CNAME www.{o}
x.deep  IN A    192.0.2.99
big     IN TXT  "{t1}"
big     IN TXT  "{t2}"
big     IN TXT  "{t3}"
big     IN TXT  "{t4}"
""".format(o=origin, t1="v=spf1 " + "ip4:192.0.2.0/24 " * 10 + "-all",
           t2="This TXT set is larger than 512 bytes so that it needs EDNS or TCP. " * 2,
           t3="0123456789abcdefghijklmnopqrstuvwxyz" * 4, t4="ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 5)
    for i in range(40):
        z += "h%d IN A 198.51.100.%d\n" % (i, i + 1)
    z += HUGE_TXT        # about 1.5 kB: truncated over UDP at EDNS 1232
    if child:
        label, nsaddr = child
        z += "%s IN NS ns1.%s.%s\nns1.%s IN A %s\n" % (label, label, origin, label, nsaddr)
    return z + extra


def child_zone(origin):
    return """$ORIGIN {o}
$TTL 3600
@       IN SOA  ns1.{o} hostmaster.{o} 2024010101 7200 3600 1209600 300
@       IN NS   ns1.{o}
www     IN A    203.0.113.80
www     IN AAAA 2001:db8::180
""".format(o=origin)


# ------------------------------------------------------------ Knot DNS

class Knot:
    """knotd serving zones {name: text} on listen [(addr, port)], with
    mod-dnstap into dnstap_sock (from contrib/dnstap/knot.conf) when set."""

    def __init__(self, work, zones, listen, dnstap_sock=None, name="knot", snippet="knot.conf"):
        self.knotd = require("knotd", "knot")
        self.dir = _mkdir(work, name)
        self.listen = listen
        for d in ("run", "db"):
            _mkdir(self.dir, d)
        zconf = ""
        for zn, text in zones.items():
            fn = zn.rstrip(".") + ".zone"
            with open(os.path.join(self.dir, fn), "w") as f:
                f.write(text)
            zconf += '  - domain: %s\n    storage: "%s"\n    file: "%s"\n' % (zn, self.dir, fn)
        lst = ", ".join("%s@%d" % a for a in listen)
        conf = """server:
    rundir: "{d}/run"
    listen: [ {lst} ]
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "{d}/db"
log:
  - target: stderr
    any: info
""".format(d=self.dir, lst=lst)
        if dnstap_sock:
            if not os.path.exists("/usr/lib/x86_64-linux-gnu/knot/modules-3.2/dnstap.so") and \
                    not any(os.path.exists(os.path.join(r, "dnstap.so"))
                            for r in _knot_module_dirs()):
                tt.skip("Knot's dnstap module is not installed (Debian package knot-module-dnstap)")
            snip = os.path.join(self.dir, "dnstap.conf")
            with open(snip, "w") as f:
                f.write(contrib_snippet(snippet, dnstap_sock))
            conf += 'include: "%s"\n' % snip
        conf += "zone:\n" + zconf
        self.conf = os.path.join(self.dir, "knot.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.p = None

    def start(self, timeout=15):
        self.p = Proc("knotd", [self.knotd, "-c", self.conf], self.dir)
        if not self.p.wait_log(r"server started", timeout):
            raise RuntimeError("knotd did not start:\n" + self.p.tail())
        # Zones load in the background: wait until each is served.
        return self

    def wait_zones(self, zones, timeout=10):
        for z in zones:
            if not self.p.wait_log(r"\[%s\] loaded" % re.escape(z.rstrip(".") + "."), timeout):
                raise RuntimeError("knotd did not load %s:\n%s" % (z, self.p.tail()))

    def stop(self, timeout=15):
        return self.p.stop(timeout=timeout) if self.p else (None, None)


def _knot_module_dirs():
    out = []
    for base in ("/usr/lib/x86_64-linux-gnu/knot", "/usr/lib/knot", "/usr/lib64/knot",
                 "/usr/lib/aarch64-linux-gnu/knot"):
        if os.path.isdir(base):
            out += [os.path.join(base, d) for d in os.listdir(base)]
    return out


# ------------------------------------------------------------ Unbound

class Unbound:
    """unbound resolving via stub zones {zone: ["addr@port", ...]} with
    dnstap (contrib/dnstap/unbound.conf) to a Unix socket, or over TCP to
    dnstap_ip ("addr@port")."""

    def __init__(self, work, port, stubs, dnstap_sock=None, dnstap_ip=None, name="unbound",
                 extra_server="", extra_dnstap=""):
        self.bin = require("unbound", "unbound")
        self.dir = _mkdir(work, name)
        self.port = port
        hints = os.path.join(self.dir, "root.hints")
        with open(hints, "w") as f:
            f.write(".  3600000 IN NS a.root-servers.invalid.\n"
                    "a.root-servers.invalid. 3600000 IN A %s\n" % BLACKHOLE)
        conf = """server:
    verbosity: 2
    interface: 127.0.0.1@{port}
    port: {port}
    do-ip6: no
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
    root-hints: "{hints}"
    do-not-query-localhost: no
    local-zone: "test." nodefault
    access-control: 127.0.0.0/8 allow
    prefetch: no
    edns-buffer-size: 1232
{extra}""".format(port=port, d=self.dir, hints=hints, extra=extra_server)
        for z, addrs in stubs.items():
            conf += "stub-zone:\n    name: \"%s\"\n" % z
            for a in addrs:
                conf += "    stub-addr: %s\n" % a
        snip = os.path.join(self.dir, "dnstap.conf")
        text = contrib_snippet("unbound.conf", dnstap_sock or "/nonexistent")
        if dnstap_ip:
            text = re.sub(r'(?m)^(\s*)dnstap-socket-path:.*$',
                          r'\1dnstap-ip: "%s"\n\1dnstap-tls: no' % dnstap_ip, text)
        text += extra_dnstap
        with open(snip, "w") as f:
            f.write(text)
        conf += 'include: "%s"\n' % snip
        self.conf = os.path.join(self.dir, "unbound.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.p = None

    def start(self, timeout=15):
        self.p = Proc("unbound", [self.bin, "-d", "-c", self.conf], self.dir)
        if not self.p.wait_log(r"start of service", timeout):
            raise RuntimeError("unbound did not start:\n" + self.p.tail())
        return self

    def connected_count(self):
        return self.p.count_log(r"dnstap io: connected to")

    def stop(self, timeout=15):
        return self.p.stop(timeout=timeout) if self.p else (None, None)


# ------------------------------------------------------------ BIND 9

class Bind:
    """named recursing for `forwards` {zone: [(addr, port)]} (forward only)
    and authoritative for `zones` {zone: text}; dnstap from
    contrib/dnstap/named.conf."""

    def __init__(self, work, port, forwards, zones, dnstap_sock, name="named"):
        self.bin = require("named", "bind9")
        self.dir = _mkdir(work, name)
        self.port = port
        with open(os.path.join(self.dir, "root.hint"), "w") as f:
            f.write(".  3600000 IN NS a.root-servers.invalid.\n"
                    "a.root-servers.invalid. 3600000 IN A %s\n" % BLACKHOLE)
        snip = os.path.join(self.dir, "dnstap.conf")
        with open(snip, "w") as f:
            f.write(contrib_snippet("named.conf", dnstap_sock))
        conf = """options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-query {{ 127.0.0.0/8; }};
    allow-recursion {{ 127.0.0.0/8; }};
    dnssec-validation no;
    notify no;
    minimal-responses no;
    include "{snip}";
}};
controls {{ }};
zone "." {{ type hint; file "{d}/root.hint"; }};
""".format(d=self.dir, port=port, snip=snip)
        for z, addrs in forwards.items():
            conf += 'zone "%s" { type forward; forward only; forwarders { %s }; };\n' % (
                z, " ".join("%s port %d;" % a for a in addrs))
        for z, text in zones.items():
            fn = os.path.join(self.dir, z.rstrip(".") + ".zone")
            with open(fn, "w") as f:
                f.write(text)
            conf += 'zone "%s" { type primary; file "%s"; };\n' % (z, fn)
        self.conf = os.path.join(self.dir, "named.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.p = None

    def start(self, timeout=20):
        self.p = Proc("named", [self.bin, "-g", "-c", self.conf], self.dir)
        if not self.p.wait_log(r"\brunning\b", timeout):
            raise RuntimeError("named did not start:\n" + self.p.tail())
        return self

    def stop(self, timeout=15):
        return self.p.stop(timeout=timeout) if self.p else (None, None)


# ------------------------------------------------------------ PowerDNS Recursor

class PdnsRecursor:
    """pdns_recursor with forward-zones {zone: [(addr, port)]} and
    contrib/dnstap/recursor.lua as its Lua configuration."""

    def __init__(self, work, port, forwards, dnstap_sock, name="pdns"):
        self.bin = require("pdns_recursor", "pdns-recursor")
        self.dir = _mkdir(work, name)
        self.port = port
        with open(os.path.join(self.dir, "root.hint"), "w") as f:
            f.write(".  3600000 IN NS a.root-servers.invalid.\n"
                    "a.root-servers.invalid. 3600000 IN A %s\n" % BLACKHOLE)
        lua = os.path.join(self.dir, "recursor.lua")
        with open(lua, "w") as f:
            f.write(contrib_snippet("recursor.lua", dnstap_sock))
        fz = ",".join("%s=%s" % (z.rstrip("."), ";".join("%s:%d" % a for a in addrs))
                      for z, addrs in forwards.items())
        conf = """local-address=127.0.0.1
local-port={port}
allow-from=127.0.0.0/8
daemon=no
disable-syslog=yes
log-timestamp=yes
loglevel=6
socket-dir={d}
write-pid=no
threads=1
dnssec=off
security-poll-suffix=
hint-file={d}/root.hint
query-local-address=127.0.0.1
forward-zones={fz}
lua-config-file={lua}
""".format(d=self.dir, port=port, fz=fz, lua=lua)
        with open(os.path.join(self.dir, "recursor.conf"), "w") as f:
            f.write(conf)
        self.p = None

    def start(self, timeout=20):
        self.p = Proc("pdns_recursor", [self.bin, "--config-dir=" + self.dir], self.dir)
        if not self.p.wait_log(r"Enabled multiplexer|Done priming cache|Listening for queries.*TCP",
                               timeout):
            raise RuntimeError("pdns_recursor did not start:\n" + self.p.tail())
        return self

    def stop(self, timeout=15):
        return self.p.stop(timeout=timeout) if self.p else (None, None)


# ------------------------------------------------------------ Knot Resolver

class Kresd:
    """kresd stubbing `stubs` {zone: ["addr@port"]} with
    contrib/dnstap/kresd.conf loaded."""

    def __init__(self, work, port, stubs, dnstap_sock, name="kresd"):
        self.bin = require("kresd", "knot-resolver")
        self.dir = _mkdir(work, name)
        self.port = port
        snip = os.path.join(self.dir, "dnstap.lua")
        with open(snip, "w") as f:
            f.write(contrib_snippet("kresd.conf", dnstap_sock))
        conf = """-- test instance: loopback only, no root, no trust anchor
net.ipv6 = false
net.listen('127.0.0.1', {port}, {{ kind = 'dns' }})
trust_anchors.remove('.')
modules.unload('detect_time_skew')
modules.unload('priming')
modules.load('hints > iterate')
hints.root({{['a.root-servers.invalid.'] = '{bh}'}})
cache.size = 10 * MB
dofile('{snip}')
""".format(port=port, bh=BLACKHOLE, snip=snip)
        for z, addrs in stubs.items():
            conf += "policy.add(policy.suffix(policy.STUB({%s}), {todname('%s')}))\n" % (
                ", ".join("'%s'" % a for a in addrs), z)
        self.conf = os.path.join(self.dir, "kresd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.p = None

    def start(self, timeout=20):
        self.p = Proc("kresd", [self.bin, "-n", "-c", self.conf, self.dir], self.dir)
        # kresd logs nothing when it is ready: wait for its UDP+TCP port.
        if not wait_until(lambda: tcp_listening(self.port) or not self.p.running(), timeout) \
                or not self.p.running():
            raise RuntimeError("kresd did not start:\n" + self.p.tail())
        return self

    def stop(self, timeout=15):
        return self.p.stop(timeout=timeout) if self.p else (None, None)


# ------------------------------------------------------------ dnsdist

class Dnsdist:
    """dnsdist on 127.0.0.1:port forwarding to `backend` (addr, port) with
    contrib/dnstap/dnsdist.conf loaded (dnstap of client responses)."""

    def __init__(self, work, port, backend, dnstap_sock, name="dnsdist"):
        self.bin = require("dnsdist", "dnsdist")
        self.dir = _mkdir(work, name)
        self.port = port
        snip = os.path.join(self.dir, "dnstap.lua")
        with open(snip, "w") as f:
            f.write(contrib_snippet("dnsdist.conf", dnstap_sock))
        conf = """setSecurityPollSuffix('')
setLocal('127.0.0.1:{port}')
newServer({{address = '{ba}:{bp}', healthCheckMode = 'up'}})
dofile('{snip}')
""".format(port=port, ba=backend[0], bp=backend[1], snip=snip)
        self.conf = os.path.join(self.dir, "dnsdist.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.p = None

    def start(self, timeout=20):
        self.p = Proc("dnsdist", [self.bin, "--supervised", "--disable-syslog", "-C", self.conf],
                      self.dir)
        if not self.p.wait_log(r"Marking downstream .* as 'up'|Listening on", timeout) or \
                not wait_until(lambda: tcp_listening(self.port), timeout):
            raise RuntimeError("dnsdist did not start:\n" + self.p.tail())
        return self

    def stop(self, timeout=15):
        return self.p.stop(timeout=timeout) if self.p else (None, None)


# ------------------------------------------------------------ loopback capture

class LoopbackCapture:
    """tcpdump -i lo -U -w FILE of a filter (packet-buffered: the file can
    be read while it grows)."""

    def __init__(self, work, bpf, name="lo"):
        self.bin = require("tcpdump", "tcpdump")
        self.path = os.path.join(work, "%s-%d.pcap" % (name, int(time.time() * 1000) % 10000000))
        self.p = Proc("tcpdump", [self.bin, "-i", "lo", "-n", "-s", "0", "-U", "--immediate-mode", "-B", "8192",
                                  "-w", self.path, bpf], work)
        if not self.p.wait_log(r"listening on", 10):
            raise RuntimeError("tcpdump did not start:\n" + self.p.tail())

    def stop(self):
        self.p.stop(signal.SIGINT, 10)
        m = re.search(r"(\d+) packets? dropped by kernel", self.p.text())
        self.kernel_drops = int(m.group(1)) if m else None
        return self.path


def read_pcap_tolerant(path):
    """Like tapxfr_test.read_pcap, but a record cut short at the end (the
    writer is still running) is ignored."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 24:
        return tt.LT_ETHERNET, []
    e = "<" if struct.unpack_from("<I", raw, 0)[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    lt = struct.unpack_from(e + "I", raw, 20)[0] & 0x0FFFFFFF
    off, recs = 24, []
    while off + 16 <= len(raw):
        _s, _u, caplen, orig = struct.unpack_from(e + "IIII", raw, off)
        if off + 16 + caplen > len(raw):
            break
        recs.append((caplen, orig, raw[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return lt, recs


def _ip_tcp(linktype, f):
    """(family, src, dst, sport, dport, seq, flags, payload) of a TCP
    segment in an Ethernet/raw frame, or None. Checksums are not checked
    (on lo they are left to offload)."""
    r = tt.link_strip(linktype, f)
    if isinstance(r, str):
        return None
    ver, off = r
    p = f[off:]
    if ver == 4:
        if len(p) < 20:
            return None
        ihl = (p[0] & 15) * 4
        tot = struct.unpack_from(">H", p, 2)[0]
        if p[9] != 6 or tot > len(p):
            return None
        src, dst, l4 = p[12:16], p[16:20], p[ihl:tot]
    else:
        if len(p) < 40 or p[6] != 6:
            return None
        src, dst, l4 = p[8:24], p[24:40], p[40:40 + struct.unpack_from(">H", p, 4)[0]]
    if len(l4) < 20:
        return None
    sport, dport, seq = struct.unpack_from(">HHI", l4, 0)
    doff = (l4[12] >> 4) * 4
    return ver, bytes(src), bytes(dst), sport, dport, seq, l4[13], bytes(l4[doff:])


def upstream_responses(pcap_path, servers):
    """The DNS responses that the servers [(addr, port)] sent, from a
    loopback capture, in capture order: [(family, src bytes, proto, dns)],
    proto UDP or TCP (TCP streams reassembled, length prefixes removed)."""
    lt, frames = read_pcap_tolerant(pcap_path)
    want = {(socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a), p)
            for a, p in servers}
    out = []
    streams = {}          # (src, sport, dst, dport) -> [isn, {seq: data}, done_offset]
    for _c, _o, f in frames:
        d = tt.decode_frame(lt, f)
        if not isinstance(d, str):
            if (d.src, d.sport) in want and len(d.payload) >= 12 and d.payload[2] & 0x80:
                out.append((d.family, d.src, UDP, d.payload))
            continue
        s = _ip_tcp(lt, f)
        if s is None:
            continue
        ver, src, dst, sport, dport, seq, fl, data = s
        if (src, sport) not in want:
            continue
        key = (src, sport, dst, dport)
        if fl & 0x02:                                   # SYN(-ACK): initial sequence
            streams[key] = [seq + 1, {}, bytearray(), 0, ver]
            continue
        st = streams.get(key)
        if st is None or not data:
            continue
        rel = (seq - st[0]) & 0xFFFFFFFF
        st[1].setdefault(rel, data)
        # Append what is contiguous, then cut messages.
        buf = st[2]
        while True:
            nxt = st[1].pop(len(buf) + st[3], None)
            if nxt is None:
                break
            buf += nxt
        while len(buf) >= 2:
            n = struct.unpack_from(">H", buf, 0)[0]
            if len(buf) < 2 + n:
                break
            msg = bytes(buf[2:2 + n])
            if len(msg) >= 12 and msg[2] & 0x80:
                out.append((ver, src, TCP, msg))
            del buf[:2 + n]
            st[3] += 2 + n
    return out


def dnsxfr_of_upstream(family, src, dns):
    ns = src if family == 4 and is_aa(dns) and src != ZERO4 else ZERO4
    return tt.MAGIC + ns + dns


# ------------------------------------------------------------ sinks

class FstrmCaptureSink:
    """Reference sink: fstrm_capture on a Unix socket (or TCP addr:port);
    what it captured is turned into DNSXFR01 messages by the oracle."""

    kind = "fstrm_capture"
    live = False

    def __init__(self, work, sock=None, tcp=None, types=DEFAULT_TYPES, name="capture"):
        self.bin = require("fstrm_capture", "fstrm-bin")
        self.work, self.sock, self.tcp, self.types, self.name = work, sock, tcp, types, name
        self.files = []
        self.p = None
        self.stats = None
        self.rc = None

    def start(self):
        path = os.path.join(self.work, "%s-%d.fstrm" % (self.name, len(self.files)))
        args = [self.bin, "-t", CONTENT_TYPE.decode(), "-w", path]
        if self.sock:
            if os.path.exists(self.sock):
                os.unlink(self.sock)
            args += ["-u", self.sock]
        else:
            args += ["-a", self.tcp[0], "-p", str(self.tcp[1])]
        self.p = Proc("fstrm_capture", args, self.work)
        self.files.append(path)
        ok = wait_listening(self.sock) if self.sock else wait_until(
            lambda: tcp_listening(self.tcp[1], self.tcp[0]), 10)
        if not ok:
            raise RuntimeError("fstrm_capture did not listen:\n" + self.p.tail())
        return self

    def running(self):
        return self.p is not None and self.p.running()

    def stop(self):
        self.rc, _ = self.p.stop(signal.SIGTERM, 10)
        return self.rc

    def frames(self):
        out = []
        for f in self.files:
            if os.path.exists(f):
                out += read_fstrm_file(f, allow_truncated=True)[1]
        return out

    def expected(self, **kw):
        return expected_from_frames(self.frames(), types=self.types, **kw)

    @property
    def messages(self):
        return self.expected().messages

    def wait(self, count=None, idle=1.0, timeout=10.0):
        return None

    def close(self):
        if self.p and self.p.running():
            self.stop()


class TapxfrSink:
    """tapxfr with --dnstap-socket SOCK (or --dnstap-listen ADDR:PORT) into
    a Python collector (UDP by default, TCP with tcp=True)."""

    kind = "tapxfr"
    live = True

    def __init__(self, work, sock=None, tcp_listen=None, types=None, tcp=False, extra=(),
                 collector=None):
        self.work, self.sock, self.tcp_listen, self.types = work, sock, tcp_listen, types
        self.tcp, self.extra = tcp, list(extra)
        self.coll = collector or (tt.TCPCollector() if tcp else tt.UDPCollector())
        self.runs = []
        self.r = None

    def start(self):
        args = []
        if self.sock:
            args += ["--dnstap-socket", self.sock]
        if self.tcp_listen:
            args += ["--dnstap-listen", "%s:%d" % self.tcp_listen]
        if self.types is not None:
            args += ["--dnstap-types", type_arg(self.types)]
        if self.tcp:
            args.append("-t")
        args += self.extra + ["127.0.0.1", str(self.coll.port)]
        self.r = tt.Run(args, workdir=self.work)
        self.runs.append(self.r)
        ok = wait_until(lambda: (unix_socket_state(self.sock)[0] if self.sock else
                                 tcp_listening(self.tcp_listen[1], self.tcp_listen[0]))
                        or not self.r.running(), 10)
        if not ok or not self.r.running():
            raise RuntimeError("tapxfr did not listen (rc %r):\n%s" % (self.r.proc.poll(),
                                                                      self.r.stderr[-2000:]))
        return self

    def running(self):
        return self.r is not None and self.r.running()

    def stop(self, timeout=20):
        return self.r.terminate(timeout)

    @property
    def rc(self):
        return self.r.rc if self.r else None

    @property
    def stats(self):
        return self.r.stats if self.r else None

    @property
    def messages(self):
        return self.coll.messages

    def wait(self, count=None, idle=1.0, timeout=10.0):
        """Waits for `count` messages at the collector (or idle)."""
        if self.tcp:
            end = time.time() + timeout
            while time.time() < end:
                if count is not None and len(self.coll.messages) >= count:
                    time.sleep(0.2)
                    break
                if count is None and time.time() - self.coll.last >= idle:
                    break
                time.sleep(0.05)
            return self.coll.messages
        return self.coll.wait(count=count, idle=idle if count is None else 1e9, timeout=timeout)

    def close(self):
        if self.r and self.r.running():
            self.stop()
        self.coll.close()


def tapxfr_has_dnstap():
    """True when the tapxfr under test knows --dnstap-socket."""
    try:
        r = subprocess.run([tt.tapxfr_bin(), "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=10)
        return b"--dnstap-socket" in r.stdout
    except (OSError, subprocess.SubprocessError):
        return False


def mode_from_argv(t=None):
    """'reference' when the test was run with --reference (fstrm_capture
    stands in for tapxfr: checks the servers and the expected sets), else
    'tapxfr' (skips when the binary has no dnstap input)."""
    if "--reference" in sys.argv[1:]:
        print("   REFERENCE MODE: fstrm_capture stands in for tapxfr", flush=True)
        return "reference"
    tt.tapxfr_bin()
    if not tapxfr_has_dnstap():
        tt.skip("the tapxfr under test has no dnstap input (--dnstap-socket)")
    return "tapxfr"


def make_sink(mode, work, sock=None, tcp_listen=None, types=None, tcp=False, extra=(), name="capture"):
    if mode == "reference":
        return FstrmCaptureSink(work, sock=sock, tcp=tcp_listen,
                                types=DEFAULT_TYPES if types is None else types, name=name)
    return TapxfrSink(work, sock=sock, tcp_listen=tcp_listen, types=types, tcp=tcp, extra=extra)


STATS_LINE_RE = re.compile(r"tapxfr: stats: (.*)$")


def _kv(text):
    out = {}
    for k, v in re.findall(r"([A-Za-z_][\w.]*)=(\S*)", text):
        try:
            out[k] = int(v)
        except ValueError:
            out[k] = v
    return out


def parse_stats_all(text):
    """(global, inputs): the last global `tapxfr: stats: k=v ...` line as
    a dict, and the last per-input line of each input (`tapxfr: stats:
    NAME: k=v ...`, e.g. 'dnstap-socket /path') as {NAME: dict}."""
    glob, inputs = None, {}
    for line in text.splitlines():
        m = STATS_LINE_RE.search(line)
        if not m:
            continue
        body = m.group(1)
        mm = re.match(r"^([^=]*?):\s+(\w+=.*)$", body)
        if mm and "=" not in mm.group(1):
            inputs[mm.group(1)] = _kv(mm.group(2))
        else:
            glob = _kv(body)
    return glob, inputs


def dnstap_counters(glob, inputs):
    """The dnstap counters wherever tapxfr logs them: dnstap_* keys of the
    global line (without the prefix), else the per-input dnstap lines
    summed."""
    out = collections.Counter()
    for k, v in (glob or {}).items():
        if k.startswith("dnstap_") and isinstance(v, int):
            out[k[7:]] += v
    if not out:
        for name, d in inputs.items():
            if name.startswith("dnstap"):
                for k, v in d.items():
                    if isinstance(v, int):
                        out[k] += v
    return out


def check_dnstap_stats(t, run_stderr, received=None, responses=None, forwarded=None, frames=None,
                       what="", oracle=None):
    """The stats checks (tapxfr mode only): the line exists with its keys
    and dnstap counters, forwarded + dropped == responses, and each of
    received / responses / forwarded (global) and frames (dnstap
    counters) equals the given number unless it is None. Returns the
    global stats dict (or None)."""
    pre = (what + ": ") if what else ""
    st, inputs = parse_stats_all(run_stderr)
    if not t.check(st is not None, pre + "a 'tapxfr: stats:' line on stderr", run_stderr[-1500:]):
        return None
    keys = ("received", "responses", "forwarded", "dropped")
    t.check(all(k in st for k in keys), pre + "stats has the keys " + " ".join(keys),
            "missing: " + " ".join(k for k in keys if k not in st))
    dc = dnstap_counters(st, inputs)
    t.check(bool(dc), pre + "dnstap counters in the stats (dnstap_* keys or a per-input line)")
    fw, dr, rs = st.get("forwarded"), st.get("dropped"), st.get("responses")
    t.check(isinstance(fw, int) and isinstance(dr, int) and isinstance(rs, int) and fw + dr == rs,
            pre + "stats: forwarded + dropped == responses (%r + %r, %r)" % (fw, dr, rs))
    for key, want in (("received", received), ("responses", responses), ("forwarded", forwarded)):
        if want is not None:
            t.eq(st.get(key), want, pre + "stats: %s" % key)
    if frames is not None and "frames" in dc:
        t.eq(dc["frames"], frames, pre + "dnstap counters: frames")
    t.info(pre + "stats line: %s" % " ".join("%s=%s" % kv for kv in st.items()))
    for name, d in inputs.items():
        t.info(pre + "input %s: %s" % (name, " ".join("%s=%s" % kv for kv in d.items())))
    if oracle is not None:
        t.info(pre + "oracle:     %s" % oracle.summary())
    return st


# ------------------------------------------------------------ resolver lab

ZONE = "tapxfr.test."


class AuthLab:
    """The authoritative side of the resolver tests, all Knot DNS without
    dnstap: tapxfr.test on 127.0.0.1@<random port> and, when a random
    127.x.y.z has port 53 free (root), the delegated child sub.tapxfr.test
    on that address at port 53 (resolvers follow referrals to port 53
    only). So a resolver sees AA answers from two addresses and a
    referral (AA clear)."""

    def __init__(self, work, child=True):
        self.work = work
        self.port = free_port()
        self.child = loopback_addr_for_53() if child else None
        cz = ("sub", self.child) if self.child else None
        self.k1 = Knot(work, {ZONE: test_zone(ZONE, child=cz)}, [("127.0.0.1", self.port)],
                       name="auth1").start()
        self.k1.wait_zones([ZONE])
        self.k2 = None
        if self.child:
            self.k2 = Knot(work, {"sub." + ZONE: child_zone("sub." + ZONE)}, [(self.child, 53)],
                           name="auth2").start()
            self.k2.wait_zones(["sub." + ZONE])
        self.servers = [("127.0.0.1", self.port)] + ([(self.child, 53)] if self.child else [])
        self.stub = {ZONE: ["127.0.0.1@%d" % self.port]}
        self.forward = {ZONE: [("127.0.0.1", self.port)]}
        self.bpf = " or ".join("(host %s and port %d)" % s for s in self.servers)

    def queries(self, tag=""):
        """(name, type) questions for a resolver: answers, NXDOMAIN,
        NODATA, CNAME, an empty non-terminal (qname minimisation), a 1.5 kB
        TXT (truncated over UDP: the resolver retries over TCP) and, with
        the child, a name below the delegation. tag makes names unique
        per batch (h<tag>N: NXDOMAIN unless tag is '')."""
        q = [("www." + ZONE, "A"), ("www." + ZONE, "AAAA"), (ZONE, "MX"), ("alias." + ZONE, "A"),
             ("nonexistent%s.%s" % (tag, ZONE), "A"), ("mail." + ZONE, "MX"),
             ("big." + ZONE, "TXT"), ("huge." + ZONE, "TXT"), ("x.deep." + ZONE, "A")]
        if self.child:
            q += [("www.sub." + ZONE, "A"), ("www.sub." + ZONE, "AAAA")]
        q += [("h%d.%s" % (i, ZONE), "A") for i in range(30)]
        return q

    def batch(self, tag, n=20):
        """n names nobody asked before (answered NXDOMAIN by auth1)."""
        return [("b%s-%d.%s" % (tag.lower(), i, ZONE), "A") for i in range(n)]

    def capture(self, name="lo"):
        return LoopbackCapture(self.work, self.bpf, name=name)

    def expected(self, pcap_path):
        """DNSXFR01 messages the resolver's RESOLVER_RESPONSEs must give,
        from the upstream answers in a loopback capture."""
        return [dnsxfr_of_upstream(fam, src, dns)
                for fam, src, _proto, dns in upstream_responses(pcap_path, self.servers)]

    def upstream(self, pcap_path):
        return upstream_responses(pcap_path, self.servers)

    def stop(self):
        for k in (self.k2, self.k1):
            if k:
                k.stop()


def ask(port, queries, server="127.0.0.1", **kw):
    """Asks a resolver each (name, type); returns the answers (None for
    a timeout)."""
    return [dns_query(server, port, n, qt, **kw) for n, qt in queries]


def settle(sink, want_fn, timeout=15.0, fallback=1.6):
    """Waits until a live sink received at least len(want_fn()) messages
    (want_fn is re-evaluated: the loopback capture grows), or, for the
    reference sink (no live view), `fallback` seconds: longer than the
    emitters' 1 s flush timers."""
    if not sink.live:
        time.sleep(fallback)
        return True
    end = time.time() + timeout
    while time.time() < end:
        if len(sink.messages) >= len(want_fn()):
            time.sleep(0.2)
            if len(sink.messages) >= len(want_fn()):
                return True
        time.sleep(0.1)
    return False


class ResolverRun:
    """The result of run_resolver(): answers (per question), got (what
    the sink delivered: collector messages, or in reference mode the
    oracle's messages from the captured frames), upstream (the loopback
    capture's upstream answers as DNSXFR01), frames (reference mode),
    stderr (tapxfr mode), rc (the sink's exit status)."""
    answers = got = upstream = frames = None
    stderr = ""
    rc = None


def run_resolver(t, mode, work, lab, what, start_server, questions, types=None, extra_wait=None,
                 settle_fallback=1.6, ok_rc=(0,), capture=True, sink_extra=(), tcp=False):
    """Sink (tapxfr or fstrm_capture) on a fresh Unix socket, a loopback
    capture of the upstream servers, then start_server(sock) -> a started
    server with .port and .stop(); asks questions [(name, type, rd)],
    waits until the sink has the upstream answers plus extra_wait()
    more messages (reference: a fixed settle time), stops the server,
    then the sink."""
    res = ResolverRun()
    cap = lab.capture(what) if capture else None
    upstream = (lambda: lab.expected(cap.path)) if capture else (lambda: [])
    sock = os.path.join(work, what + ".sock")
    sink = make_sink(mode, work, sock=sock, types=types, name=what, extra=sink_extra, tcp=tcp).start()
    srv = start_server(sock)
    t.check(wait_writers(sock, 1, 15), "%s: the server connected to the dnstap socket" % what)
    res.answers = [dns_query("127.0.0.1", srv.port, n, qt, rd=rd) for n, qt, rd in questions]
    lost = [q for q, a in zip(questions, res.answers) if a is None]
    t.check(not lost, "%s: the server answered all %d questions" % (what, len(questions)),
            "no answer: %s" % lost)
    bad = [q for q, a in zip(questions, res.answers) if a is not None and rcode(a) == 2]
    t.check(not bad, "%s: no SERVFAIL" % what, "SERVFAIL: %s" % bad)
    extra = extra_wait or (lambda: 0)
    settle(sink, lambda: [None] * (len(upstream()) + extra()), fallback=settle_fallback)
    rc, _took = srv.stop()
    t.check(rc in ok_rc, "%s: the server exited on SIGTERM with %r (ok: %s)" % (what, rc, ok_rc))
    if cap:
        cap.stop()
    res.upstream = upstream()
    if mode == "reference":
        sink.stop()
        res.frames = sink.frames()
        res.got = expected_from_frames(res.frames, types=sink.types).messages
    else:
        res.got = list(sink.wait(count=len(res.upstream) + extra(), timeout=10))
        t.check(sink.running(), "%s: tapxfr still running after the server closed" % what)
        res.rc = sink.stop()
        t.eq(res.rc, 0, "%s: tapxfr exited 0 on SIGTERM" % what)
        res.stderr = sink.r.stderr
        sink.close()
    return res
