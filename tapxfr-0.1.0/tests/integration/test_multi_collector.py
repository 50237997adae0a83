#!/usr/bin/env python3
"""Two collectors (--collector, repeatable), one of which is killed and
restarted mid-run: the live one receives everything; the other receives
everything sent while it was up plus what its queue held; the counters
say exactly how many were dropped where.

Setup: a gen_dnstap file (the oracle: dnstap_servers' independent
protobuf/Frame Streams reader computes the DNSXFR01 messages tapxfr must
forward, all distinct, so each received message has one position in the
expected sequence). tapxfr listens on a dnstap socket (a LIVE input:
records that do not fit a collector's queue are dropped and counted per
collector) and sends to two Python TCP collectors, A and B, with
--queue-messages Q (small; the bound applies to every collector's queue,
A's never fills because A keeps reading). A Frame Streams writer thread
in this test sends the frames at a steady pace over one connection
(bidirectional handshake, STOP, FINISH); it never goes past a limit the
test sets, so each phase starts on a condition, not after a sleep:

1. limit 25%: A and B both receive all expected messages of that part.
2. limit 65%; once the writer is sending again, B turns slow (small
   reads, long pauses) until tapxfr has forwarded (written into the
   socket) 200 messages more than B has read, then B is killed (both of
   its sockets closed at once: the kernel resets the connection and what
   B had not read is lost) while frames keep flowing. Wait for tapxfr's "connection lost" for B, then poll the
   per-collector stats with SIGUSR1 until B's drop_queue_full > 0 (B's
   queue overflowed while it was down).
3. B is restarted on the same port; once tapxfr logged B "connected" a
   second time, the limit goes to 100%.
4. The writer finishes (STOP, FINISH); A has every expected message, B's
   queue is empty (SIGUSR1: queued - forwarded - drops == 0) and B is
   quiet; then SIGTERM: exit 0.

Checks:
* A received exactly the expected messages, in order, on one connection.
* Counters of A (exit line `tapxfr: stats: tcp://...:A: ...`): queued ==
  forwarded == expected, forwarded_bytes == their size, every drop_* 0,
  connects 1, disconnects 0.
* Counters of B: queued + drop_queue_full == expected; queued ==
  forwarded + drop_shutdown + drop_send_error; drop_queue_full > 0;
  drop_shutdown == drop_send_error == 0; connects 2, disconnects 1.
* What B received, in expected-sequence positions: its first connection
  got a prefix of the expected sequence (everything while it was up);
  then a gap of L messages that tapxfr counted as forwarded but that were
  lost in the killed connection's socket buffers: L == forwarded -
  received (0 < L, and L's bytes fit in the kernel's TCP buffers); its
  second connection got exactly two contiguous runs: the Q messages its
  queue held (starting right after the lost ones), then, after a gap of
  exactly drop_queue_full messages, everything to the end.
* Global line: forwarded == A's + B's forwarded, responses == expected;
  dnstap input line: frames == all frames, accepted == expected.
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

QUEUE_MESSAGES = 1024
FRAMES = 16000
PACE = 3000            # frames per second while the writer runs

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_multi_collector", limit=58)
work = tt.tempdir()

# ------------------------------------------------------------ the oracle

dtfile = os.path.join(work, "dt.fstrm")
r = subprocess.run([sys.executable, "-B", tt.tool_path("gen_dnstap.py"), "--count", str(FRAMES),
                    "--seed", "21", "--pool", "4000", "--out", dtfile],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
if r.returncode != 0:
    t.check(False, "gen_dnstap.py ran", r.stdout.decode(errors="replace"))
    t.done()
_ct, frames = ds.read_fstrm_file(dtfile)
ex = ds.expected_from_frames(frames)
want = ex.messages
E = len(want)
pos = {m: i for i, m in enumerate(want)}
# cum[i]: expected messages among frames[:i]
cum = [0]
for fr in frames:
    cum.append(cum[-1] + ds.expected_from_frames([fr]).forwarded)
t.info("oracle: %s" % ex.summary())
n1, n2 = len(frames) // 4, len(frames) * 65 // 100
if not t.check(len(pos) == E and cum[-1] == E and cum[n2] - cum[n1] > 2 * QUEUE_MESSAGES,
               "oracle: %d distinct expected messages out of %d frames (%d of them while B may be "
               "down: more than twice --queue-messages %d)"
               % (E, len(frames), cum[n2] - cum[n1], QUEUE_MESSAGES)):
    t.done()

# ------------------------------------------------------------ helpers


def fs_control(ctype, content_type=None):
    return ds.fstrm_control(ctype, content_type)


class Writer(threading.Thread):
    """A Frame Streams writer on a Unix socket: READY / ACCEPT / START, the
    data frames at a steady pace (never past self.limit), STOP / FINISH."""

    def __init__(self, path, frames, pace):
        super().__init__(daemon=True)
        self.path, self.frames = path, frames
        self.per_tick = max(1, pace // 100)
        self.limit = 0
        self.sent = 0
        self.finished = False
        self.error = None
        self.stop = False

    def _read_control(self, s):
        hdr = b""
        while len(hdr) < 8:
            c = s.recv(8 - len(hdr))
            if not c:
                raise OSError("connection closed by tapxfr")
            hdr += c
        esc, ln = struct.unpack(">II", hdr)
        if esc != 0:
            raise OSError("expected a control frame")
        body = b""
        while len(body) < ln:
            c = s.recv(ln - len(body))
            if not c:
                raise OSError("connection closed by tapxfr")
            body += c
        return struct.unpack(">I", body[:4])[0]

    def run(self):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(20)
            s.connect(self.path)
            s.sendall(fs_control(ds.FS_READY, ds.CONTENT_TYPE))
            got = self._read_control(s)
            if got != ds.FS_ACCEPT:
                raise OSError("expected ACCEPT, got control type %d" % got)
            s.sendall(fs_control(ds.FS_START, ds.CONTENT_TYPE))
            n = len(self.frames)
            while self.sent < n and not self.stop:
                upto = min(n, self.limit, self.sent + self.per_tick)
                if upto > self.sent:
                    s.sendall(b"".join(struct.pack(">I", len(f)) + f
                                       for f in self.frames[self.sent:upto]))
                    self.sent = upto
                time.sleep(0.01)
            if self.stop:
                s.close()
                return
            s.sendall(fs_control(ds.FS_STOP))
            got = self._read_control(s)
            if got != ds.FS_FINISH:
                raise OSError("expected FINISH, got control type %d" % got)
            s.close()
            self.finished = True
        except OSError as e:
            self.error = str(e)


def wait_until(cond, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def usr1(run, name, timeout=10.0):
    """Asks for the statistics (SIGUSR1) and returns the new line of
    collector `name` as a dict (None on timeout)."""
    rx = "tapxfr: stats: %s: " % name
    before = run.stderr.count(rx)
    run.proc.send_signal(signal.SIGUSR1)
    if not wait_until(lambda: run.stderr.count(rx) > before, timeout):
        return None
    return tt.coll_stats(run.stderr).get(name)


def pending(st):
    return st["queued"] - st["forwarded"] - st["drop_shutdown"] - st["drop_send_error"]


def runs_of(idx):
    """Splits a list of positions into runs of consecutive positions:
    [(first, last), ...]."""
    out = []
    for i in idx:
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return [tuple(x) for x in out]


# ------------------------------------------------------------ the run

A = tt.TCPCollector()
B1 = tt.TCPCollector()
pa, pb = A.port, B1.port
name_a, name_b = "tcp://127.0.0.1:%d" % pa, "tcp://127.0.0.1:%d" % pb
sock = os.path.join(work, "dt.sock")
run = tt.Run(["--dnstap-socket", sock, "--collector", name_a, "--collector", name_b,
              "--queue-messages", str(QUEUE_MESSAGES)], workdir=work)


def connected_count(name):
    return len(re.findall(r"tapxfr: %s: connected" % re.escape(name), run.stderr))


ok = t.check(wait_until(lambda: ds.unix_socket_state(sock)[0] and connected_count(name_a) >= 1
                        and connected_count(name_b) >= 1 or not run.running(), 15)
             and run.running(),
             "tapxfr listens on the dnstap socket and is connected to both collectors",
             run.stderr[-2000:])
if not ok:
    t.done()

w = Writer(sock, frames, PACE)
w.limit = n1
w.start()
t0 = time.time()

# 1. both up
ok = wait_until(lambda: w.sent >= n1 and len(A.messages) >= cum[n1] and len(B1.messages) >= cum[n1]
                or w.error is not None, 20)
t.check(ok and w.error is None,
        "phase 1: the writer sent %d frames; A and B received the %d expected messages of them "
        "(A %d, B %d)" % (n1, cum[n1], len(A.messages), len(B1.messages)), w.error)

# 2. B killed while frames keep flowing
w.limit = n2
wait_until(lambda: w.sent >= n1 + 3 * w.per_tick or w.error is not None, 10)
# B turns slow first (4 KiB reads, 0.5 s apart), so that what tapxfr has
# written (and counted as forwarded) piles up in the socket buffers:
# the kill then loses it, and the counters must account for it.
B1.chunk, B1.read_delay = 4096, 0.5
backlog = {}


def b_behind():
    st = usr1(run, name_b)
    if st is None:
        return False
    backlog["n"] = st["forwarded"] - len(B1.messages)
    return backlog["n"] >= 200


t.check(wait_until(b_behind, 15, step=0.1),
        "B reads slowly: tapxfr has forwarded %s messages more than B has read" % backlog.get("n"))
sent_at_kill = w.sent
B1.kill()
t.info("B killed at %.1f s, writer at frame %d of %d; B had received %d"
       % (time.time() - t0, sent_at_kill, len(frames), len(B1.messages)))
t.check(wait_until(lambda: re.search(r"%s: connection lost" % re.escape(name_b), run.stderr), 10),
        "tapxfr noticed that B went away ('connection lost')", run.stderr[-1500:])
st_b = None


def b_overflowed():
    global st_b
    st_b = usr1(run, name_b)
    return st_b is not None and st_b.get("drop_queue_full", 0) > 0


ok = wait_until(b_overflowed, 20, step=0.2)
t.check(ok, "while B is down its queue overflows: SIGUSR1 shows B drop_queue_full > 0 (%s)"
        % (st_b and st_b.get("drop_queue_full")), run.stderr[-1500:])
t.info("B down, writer at frame %d (limit %d)" % (w.sent, n2))

# 3. B back on the same port
B2 = None
for _ in range(50):
    try:
        B2 = tt.TCPCollector(port=pb)
        break
    except OSError:
        time.sleep(0.1)
if not t.check(B2 is not None, "B restarted on port %d" % pb):
    t.done()
t.info("B restarted at %.1f s, writer at frame %d" % (time.time() - t0, w.sent))
t.check(wait_until(lambda: connected_count(name_b) >= 2, 15),
        "tapxfr reconnected to B (a second 'connected' line; backoff at most 5 s)",
        run.stderr[-1500:])
w.limit = len(frames)

# 4. the end
t.check(wait_until(lambda: w.finished or w.error is not None, 30) and w.finished,
        "the writer sent all %d frames, STOP, and got FINISH" % len(frames), w.error)
t.check(wait_until(lambda: len(A.messages) >= E, 15),
        "A received %d messages (want %d)" % (len(A.messages), E))
def b_drained():
    st = usr1(run, name_b)
    if st is None or pending(st) != 0:
        return False
    # and B has read what tapxfr wrote: nothing new for a moment
    return time.time() - B2.last > 0.3


t.check(wait_until(b_drained, 15, step=0.2), "B's queue is empty and B is quiet")
rc = run.terminate(15)
w.stop = True
w.join(5)
t.eq(rc, 0, "tapxfr exits 0 on SIGTERM")
A.kill()
B2.kill()

# ------------------------------------------------------------ checks

text = run.stderr
cs = tt.coll_stats(text)
sa, sb = cs.get(name_a), cs.get(name_b)
if not t.check(sa is not None and sb is not None,
               "one exit stats line per collector (%s, %s)" % (name_a, name_b), text[-2000:]):
    t.done()
t.info("A: " + " ".join("%s=%d" % kv for kv in sa.items()))
t.info("B: " + " ".join("%s=%d" % kv for kv in sb.items()))

# A: everything
t.check(A.messages == want, "A received exactly the expected messages, in order (%d)" % E,
        tt.first_order_diff(A.messages, want))
t.eq((A.connections, A.partial), (1, 0), "A: one connection, no partial message")
t.eq(sa["queued"], E, "A: queued == expected")
t.eq(sa["forwarded"], E, "A: forwarded == expected")
t.eq(sa["forwarded_bytes"], sum(len(m) for m in want), "A: forwarded_bytes == size of the expected messages")
t.eq((sa["drop_queue_full"], sa["drop_shutdown"], sa["drop_send_error"]), (0, 0, 0),
     "A: drop_queue_full, drop_shutdown, drop_send_error")
t.eq((sa["connects"], sa["disconnects"]), (1, 0), "A: connects, disconnects")

# B: the counters
dqf, dsh, dse = sb["drop_queue_full"], sb["drop_shutdown"], sb["drop_send_error"]
t.eq(sb["queued"] + dqf, E, "B: queued + drop_queue_full == expected")
t.eq(sb["queued"], sb["forwarded"] + dsh + dse, "B: queued == forwarded + drop_shutdown + drop_send_error")
t.check(dqf > 0, "B: drop_queue_full > 0 (%d): the queue overflowed while B was down" % dqf)
t.eq((dsh, dse), (0, 0), "B: drop_shutdown, drop_send_error (B was up and drained at the end)")
t.eq((sb["connects"], sb["disconnects"]), (2, 1), "B: connects, disconnects")

# B: what arrived where
c1, c2 = B1.messages, B2.messages
stray = [m for m in c1 + c2 if m not in pos]
t.check(not stray, "B received only expected messages (%d + %d)" % (len(c1), len(c2)),
        "\n".join(tt.describe(m) for m in stray[:5]))
i1 = [pos[m] for m in c1 if m in pos]
i2 = [pos[m] for m in c2 if m in pos]
t.check(all(a < b for a, b in zip(i1 + i2, (i1 + i2)[1:])),
        "B received a subsequence of the expected messages, in order, nothing twice")
t.check(i1 == list(range(len(i1))) and len(i1) >= cum[n1],
        "B's first connection received a prefix of the expected sequence: everything while it was "
        "up (%d messages, at least the %d of phase 1)" % (len(i1), cum[n1]))
t.eq(B2.partial, 0, "no partial message at the end of B's second connection")
received = len(c1) + len(c2)
lost = sb["forwarded"] - received
t.check(lost > 0, "B: received (%d) < forwarded (%d): what B had not read when it was killed is lost"
        % (received, sb["forwarded"]))
if i2:
    gap = i2[0] - len(i1)
    t.eq(gap, lost, "B: the messages between its two connections == forwarded - received "
                    "(lost in the killed connection's socket buffers)")
    lost_bytes = sum(len(m) + 2 for m in want[len(i1):i2[0]])
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            wmax = int(f.read().split()[2])
        with open("/proc/sys/net/ipv4/tcp_rmem") as f:
            rmax = int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        wmax = rmax = 64 << 20
    t.check(lost_bytes <= wmax + rmax, "B: the lost messages (%d, %d bytes) fit in the kernel's TCP "
            "buffers (%d + %d)" % (lost, lost_bytes, wmax, rmax))
    rr = runs_of(i2)
    t.info("B's second connection: runs of expected positions %s (expected 0..%d)" % (rr, E - 1))
    ok = len(rr) == 2
    t.check(ok, "B's second connection received exactly two contiguous runs: what its queue held, "
            "then everything after the reconnect", "runs: %s" % rr)
    if ok:
        (h0, h1), (s0, s1) = rr
        t.eq(h1 - h0 + 1, QUEUE_MESSAGES, "B: the first run is what its full queue held (--queue-messages)")
        t.eq(s0 - h1 - 1, dqf, "B: the gap between the two runs == drop_queue_full")
        t.eq(s1, E - 1, "B: the second run reaches the last expected message")
else:
    t.check(False, "B's second connection received something")

# global and input lines
glob, inputs = ds.parse_stats_all(text)
if t.check(glob is not None, "a global stats line"):
    t.eq(glob.get("forwarded"), sa["forwarded"] + sb["forwarded"], "global forwarded == A's + B's")
    t.eq(glob.get("responses"), E, "global responses == expected")
    t.eq(glob.get("drop_queue_full"), dqf, "global drop_queue_full == B's")
dt = inputs.get("dnstap-socket " + sock)
if t.check(dt is not None, "a dnstap-socket stats line", "inputs: %s" % list(inputs)):
    t.eq((dt.get("connections"), dt.get("frames"), dt.get("accepted")), (1, len(frames), E),
         "dnstap input: connections, frames, accepted")
t.done()
