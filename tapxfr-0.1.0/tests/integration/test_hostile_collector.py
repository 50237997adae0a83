#!/usr/bin/env python3
"""Hostile TCP collectors: tapxfr -t must refuse a bad banner, give up on
a silent collector, survive a collector that closes in the middle of a
message, reconnect with backoff each time, and, once the collector
behaves, deliver everything it queued meanwhile, exactly, in order, as
whole messages. tapxfr exits 0 on SIGTERM after each run.

A scripted collector listens on one port and treats the connections
tapxfr opens one after the other, each by its plan:

  endless   sends 'x' without a line feed until tapxfr goes away (tapxfr
            reads at most 1023 bytes of banner: "banner line too long")
  line N    a banner line of N bytes, line feed included (1023 is the
            longest tapxfr takes; 1024 is too long)
  silent    accepts and never sends a byte (--banner-timeout 1: "no
            banner line from the collector")
  stall     sends the banner, then never reads (the test closes it)
  good      the banner "dnslogger/DNSXFR01\\r\\n", then reads everything

For every connection it records when it was accepted and closed, and
every byte tapxfr sent on it (there must be none before a complete
banner).

Inputs: a pcap file (-r; its messages are the oracle's) and a dnstap
socket (a live input, so that tapxfr runs until SIGTERM).

1. endless, endless, line 1024, line 1023: tapxfr closes each of the first
   three connections without sending a byte, logs "banner line too long
   (retrying)" once (later failures of the series are debug messages),
   waits at least the backoff between attempts (100 ms doubling), and
   takes the 1023-byte banner (logged as "connected: " + its characters,
   as many as fit in a log line). Everything arrives on that connection, in order; stats:
   connects 1, disconnects 0, forwarded == expected, dropped 0.
2. --banner-timeout 1: silent, silent, good: each silent connection is
   closed by tapxfr after at least 1 s, without a byte sent; "no banner
   line from the collector (retrying)" once; everything arrives on the
   third connection; connects 1.
3. A collector that closes mid-write: stall (small receive buffer) with a
   file larger than the kernel can buffer. Once tapxfr's socket is full
   and idle, the bytes tapxfr has written (what the collector read + its
   receive queue + tapxfr's send queue, from /proc/net/tcp) are F whole
   messages and P bytes of message F+1, 0 < P < its size (so the write
   really stopped inside a message; if it happens to stop on a boundary,
   the collector reads a little and the test looks again), and the stats
   say forwarded == F. The collector then closes with a reset. tapxfr
   logs "connection lost", reconnects, and the next connection receives
   exactly messages F+1 .. end: the cut message again, whole, first;
   nothing partial. Stats: forwarded == expected (the cut message counted
   once), dropped 0, connects 2, disconnects 1.
"""
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_hostile_collector", limit=85)
work = tt.tempdir()


def wait_until(cond, timeout, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


class Conn:
    def __init__(self, kind, sock):
        self.kind, self.sock = kind, sock
        self.accepted = time.time()
        self.closed_at = None
        self.peer_closed = False    # tapxfr closed (EOF or reset), not us
        self.data = bytearray()     # every byte tapxfr sent
        self.messages = []
        self.partial = 0
        self.kill = False
        self.read_more = 0          # stall: read this many bytes, then stall again


class ScriptedCollector:
    def __init__(self, plan, rcvbuf=None):
        self.plan = list(plan)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.conns = []
        self.stop = False
        self.th = threading.Thread(target=self._run, daemon=True)
        self.th.start()

    def _run(self):
        while not self.stop:
            r, _, _ = select.select([self.lsock], [], [], 0.1)
            if not r:
                continue
            s, _ = self.lsock.accept()
            i = len(self.conns)
            kind = self.plan[i] if i < len(self.plan) else "good"
            c = Conn(kind, s)
            self.conns.append(c)
            try:
                self._serve(c)
            except OSError:
                c.peer_closed = True
            c.closed_at = time.time()
            try:
                s.close()
            except OSError:
                pass

    def _recv(self, c, n=65536):
        """One read; False when tapxfr closed the connection."""
        try:
            d = c.sock.recv(n)
        except (ConnectionResetError, BrokenPipeError):
            c.peer_closed = True
            return False
        if not d:
            c.peer_closed = True
            return False
        c.data += d
        return True

    def _serve(self, c):
        s, kind = c.sock, c.kind
        if kind == "endless":
            chunk = b"x" * 4096
            sent = 0
            while not self.stop and sent < (64 << 20):
                r, w, _ = select.select([s], [s], [], 0.1)
                if r and not self._recv(c):
                    return
                if w:
                    try:
                        sent += s.send(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        c.peer_closed = True
                        return
            return
        if isinstance(kind, tuple):              # ("line", n)
            s.sendall(b"y" * (kind[1] - 1) + b"\n")
        elif kind in ("good", "stall"):
            s.sendall(tt.BANNER)
        # silent: nothing
        while not self.stop and not c.kill:
            if kind == "stall" and c.read_more <= 0:
                time.sleep(0.02)
                continue
            r, _, _ = select.select([s], [], [], 0.1)
            if not r:
                continue
            n0 = len(c.data)
            if not self._recv(c, c.read_more if kind == "stall" else 65536):
                break
            if kind == "stall":
                c.read_more -= len(c.data) - n0
        if c.kill:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._parse(c)

    @staticmethod
    def _parse(c):
        buf, pos = bytes(c.data), 0
        while len(buf) - pos >= 2:
            n = (buf[pos] << 8) | buf[pos + 1]
            if len(buf) - pos - 2 < n:
                break
            c.messages.append(buf[pos + 2:pos + 2 + n])
            pos += 2 + n
        c.partial = len(buf) - pos

    def messages_now(self, c):
        """Parses what a connection has received so far."""
        tmp = Conn(c.kind, None)
        tmp.data = c.data
        self._parse(tmp)
        return tmp.messages

    def close(self):
        self.stop = True
        self.th.join(5)
        self.lsock.close()


def start(args, coll, extra=()):
    sock = os.path.join(work, "dt-%d.sock" % coll.port)
    r = tt.Run(["-t", "--dnstap-socket", sock] + list(extra) + args + ["127.0.0.1", str(coll.port)],
               workdir=work)
    return r


def name_of(coll):
    return "tcp://127.0.0.1:%d" % coll.port


def finish(what, r, coll, want, conn_index, total=None):
    """Waits for the messages `want` on connection conn_index, SIGTERMs,
    and checks what arrived there and the counters (total: the expected
    count for the whole run, default len(want))."""
    E = len(want)
    T = E if total is None else total
    ok = wait_until(lambda: len(coll.conns) > conn_index
                    and len(coll.messages_now(coll.conns[conn_index])) >= E, 60)
    t.check(ok, "%s: connection %d received %d messages" % (what, conn_index + 1, E),
            r.stderr[-1500:])
    time.sleep(0.3)
    rc = r.terminate(20)
    t.eq(rc, 0, "%s: tapxfr exits 0 on SIGTERM" % what)
    wait_until(lambda: coll.conns[-1].closed_at is not None, 10)
    coll.close()
    c = coll.conns[conn_index]
    t.check(c.messages == want, "%s: exactly the expected messages, in order, on connection %d"
            % (what, conn_index + 1), tt.first_order_diff(c.messages, want))
    t.eq(c.partial, 0, "%s: no partial message" % what)
    st = r.stats or {}
    t.eq((st.get("responses"), st.get("forwarded"), st.get("dropped"), st.get("pending")), (T, T, 0, 0),
         "%s: stats responses, forwarded, dropped, pending" % what)
    return st


# ------------------------------------------------------------ 1. endless banner
t.info("--- 1. endless banner, a 1024-byte banner line, then a 1023-byte one")
pcap = tt.gen_pcap(work, count=6000, seed=51)
ex = tt.oracle(pcap)
want = ex.messages
t.info("oracle: %s" % ex.summary())
coll = ScriptedCollector(["endless", "endless", ("line", 1024), ("line", 1023)])
r = start(["-r", pcap], coll)
st = finish("endless banner", r, coll, want, 3)
bad = coll.conns[:3]
t.eq([c.kind for c in coll.conns], ["endless", "endless", ("line", 1024), ("line", 1023)],
     "endless banner: four connections, as planned")
t.check(all(c.peer_closed for c in bad), "endless banner: tapxfr closed each of the first three "
        "connections")
t.eq([len(c.data) for c in bad], [0, 0, 0], "endless banner: tapxfr sent nothing before a whole banner")
gaps = [b.accepted - a.accepted for a, b in zip(coll.conns, coll.conns[1:])]
t.check(all(g >= 0.09 * 2 ** i for i, g in enumerate(gaps)),
        "endless banner: attempts at least the backoff apart (100 ms doubling): %s"
        % ", ".join("%.2f s" % g for g in gaps))
n = name_of(coll)
t.eq(len(re.findall(r"%s: banner line too long \(retrying\)" % re.escape(n), r.stderr)), 1,
     "endless banner: one warning 'banner line too long (retrying)' (the rest of the series: debug)")
# A log line holds at most 1023 characters, so the logged banner may be cut.
logged = re.findall(r"%s: connected: (y*)$" % re.escape(n), r.stderr, re.M)
t.check(len(logged) == 1 and 0 < len(logged[0]) <= 1022,
        "endless banner: 'connected: ' + the 1023-byte banner line (%s of its 1022 characters fit "
        "in the log line), once" % (len(logged[0]) if logged else None))
t.eq((st.get("connects"), st.get("disconnects")), (1, 0), "endless banner: stats connects, disconnects")

# ------------------------------------------------------------ 2. no banner
t.info("--- 2. no banner (--banner-timeout 1)")
coll = ScriptedCollector(["silent", "silent", "good"])
r = start(["-r", pcap], coll, ["--banner-timeout", "1"])
st = finish("no banner", r, coll, want, 2)
bad = coll.conns[:2]
t.eq([c.kind for c in coll.conns], ["silent", "silent", "good"], "no banner: three connections, as planned")
t.check(all(c.peer_closed for c in bad), "no banner: tapxfr closed both silent connections")
t.eq([len(c.data) for c in bad], [0, 0], "no banner: tapxfr sent nothing on them")
held = [c.closed_at - c.accepted for c in bad if c.closed_at]
t.check(len(held) == 2 and all(h >= 0.9 for h in held),
        "no banner: each silent connection held for the 1 s banner timeout (%s)"
        % ", ".join("%.2f s" % h for h in held))
n = name_of(coll)
t.eq(len(re.findall(r"%s: no banner line from the collector \(retrying\)" % re.escape(n), r.stderr)), 1,
     "no banner: one warning 'no banner line from the collector (retrying)'")
t.eq(len(re.findall(r"%s: connected: dnslogger/DNSXFR01" % re.escape(n), r.stderr)), 1,
     "no banner: 'connected: dnslogger/DNSXFR01' once")
t.eq((st.get("connects"), st.get("disconnects")), (1, 0), "no banner: stats connects, disconnects")

# ------------------------------------------------------------ 3. closes mid-write
t.info("--- 3. a collector that closes in the middle of a message")
# Big and varied responses: more than the kernel's socket buffers hold
# (tapxfr's send buffer grows up to tcp_wmem's maximum).
try:
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        wmem_max = int(f.read().split()[2])
except (OSError, ValueError, IndexError):
    wmem_max = 4 << 20


def csum(data):
    s = 0
    for i in range(0, len(data) - 1, 2):
        s += (data[i] << 8) | data[i + 1]
    if len(data) & 1:
        s += data[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def packet(i):
    """A raw IPv4/UDP DNS response of 100 to 1400 bytes (TXT answer)."""
    txt = (b"%06d" % i) * (((i * 7919) % 1300) // 6 + 10)
    rd = b""
    while txt:
        rd += bytes([min(255, len(txt))]) + txt[:255]
        txt = txt[255:]
    q = b"\x03big\x04test\x00\x00\x10\x00\x01"
    dns = struct.pack(">HHHHHH", i & 0xFFFF, 0x8580, 1, 1, 0, 0) + q + \
        b"\xc0\x0c\x00\x10\x00\x01\x00\x00\x0e\x10" + struct.pack(">H", len(rd)) + rd
    src, dst = bytes([192, 0, 2, 1 + i % 200]), bytes([10, 0, 0, 1])
    udp = struct.pack(">HHHH", 53, 40000, 8 + len(dns), 0) + dns        # checksum 0: none
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack(">H", csum(ip)) + ip[12:]
    return ip + udp


frames, total = [], 0
while total < 2 * wmem_max + (1 << 20):
    p = packet(len(frames))
    frames.append(p)
    total += len(p) + 2 - 28 + 12
big = os.path.join(work, "big.pcap")
tt.write_pcap(big, tt.LT_RAW, frames)
exb = tt.oracle(big)
wantb = exb.messages
t.info("big.pcap: %d responses, %d bytes of DNSXFR01 on the wire" % (len(wantb), total))
t.check(len(set(wantb)) == len(wantb) == len(frames), "big.pcap: every packet is a distinct expected message")
offs = [0]
for m in wantb:
    offs.append(offs[-1] + 2 + len(m))

coll = ScriptedCollector(["stall", "good"], rcvbuf=16384)
r = start(["-r", big], coll)
t.check(wait_until(lambda: coll.conns, 20), "mid-write: tapxfr connected")
c1 = coll.conns[0] if coll.conns else None
port = coll.port


def tcp_queues():
    """(collector's receive queue, tapxfr's send queue) of the established
    connection, from /proc/net/tcp."""
    rx = tx = None
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                col = line.split()
                if col[3] != "01":
                    continue
                lp = int(col[1].rsplit(":", 1)[1], 16)
                rp = int(col[2].rsplit(":", 1)[1], 16)
                q_tx, q_rx = (int(x, 16) for x in col[4].split(":"))
                if lp == port:
                    rx = q_rx
                elif rp == port:
                    tx = q_tx
    except OSError:
        pass
    return rx, tx


def usr1_global():
    before = r.stderr.count("tapxfr: stats: received=")
    r.proc.send_signal(signal.SIGUSR1)
    if not wait_until(lambda: r.stderr.count("tapxfr: stats: received=") > before, 15):
        return None
    return tt.parse_stats(r.stderr)


def written():
    """Bytes tapxfr has written into the connection, once stable."""
    last = None
    end = time.time() + 30
    while time.time() < end:
        rx, tx = tcp_queues()
        if rx is not None and tx is not None:
            w = len(c1.data) + rx + tx
            if w == last and w > 0:
                return w
            last = w
        time.sleep(0.3)
    return None


cut = None
for attempt in range(6):
    if c1 is None:
        break
    w = written()
    g = usr1_global()
    if w is None or g is None:
        break
    F = g["forwarded"]
    if written() != w:       # still moving: look again
        continue
    P = w - offs[F] if F < len(wantb) else -1
    t.info("mid-write: tapxfr wrote %d bytes; forwarded %d; %d bytes into message %d (of %d bytes)"
           % (w, F, P, F + 1, offs[F + 1] - offs[F] if F < len(wantb) else 0))
    if F < len(wantb) and 0 < P < offs[F + 1] - offs[F]:
        cut = (w, F, P)
        break
    c1.read_more = 777       # stopped on a boundary: let it write a little more
    wait_until(lambda: c1.read_more <= 0, 10)
t.check(cut is not None, "mid-write: tapxfr's socket is full and its last write stopped inside a message "
        "(F whole messages and 0 < P < size bytes of the next)")
if cut is None:
    t.done()
w, F, P = cut
t.check(F < len(wantb) - 1000, "mid-write: tapxfr's queue still holds messages (%d of %d forwarded)"
        % (F, len(wantb)))
read1 = coll.messages_now(c1)
c1.kill = True               # the collector closes with a reset
t.check(wait_until(lambda: re.search(r"%s: connection lost" % re.escape(name_of(coll)), r.stderr), 15),
        "mid-write: tapxfr logs 'connection lost'", r.stderr[-1000:])
rest = wantb[F:]
st = finish("mid-write", r, coll, rest, 1, total=len(wantb))
c2 = coll.conns[1]
t.check(c2.messages[:1] == [wantb[F]], "mid-write: the message cut in half (%d of its %d bytes sent) is "
        "the first one of the new connection, whole" % (P, offs[F + 1] - offs[F]))
t.check(c1.messages == wantb[:len(c1.messages)] and len(c1.messages) <= F,
        "mid-write: what the first connection read is a prefix of the expected messages (%d, "
        "%d bytes of a partial one)" % (len(c1.messages), c1.partial))
t.eq(len(coll.conns), 2, "mid-write: two connections")
t.eq((st.get("connects"), st.get("disconnects")), (2, 1), "mid-write: stats connects, disconnects")
lost = F - len(c1.messages)
t.info("mid-write: %d messages written into the first connection but never read by the collector "
       "(lost with the reset, counted as forwarded)" % lost)
t.done()
