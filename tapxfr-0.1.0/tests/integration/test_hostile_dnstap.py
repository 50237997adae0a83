#!/usr/bin/env python3
"""Hostile dnstap writers on the socket of a running tapxfr, next to a
well-behaved one. Each hostile connection must be closed (or its bad
frames skipped) with the counter and the warning that name the reason,
and nothing else may change: the good writer keeps being served between
and during the cases and, at the end, tapxfr has forwarded exactly its
messages (in order) plus those of the hostile writers' valid frames.

Setup: tapxfr --dnstap-socket S --dnstap-timeout 1 -t to a Python TCP
collector. Two gen_dnstap files: A for the good writer (a bidirectional
Frame Streams session that sends A's frames at a steady pace, never past
a limit the test raises between the cases), B for the valid frames of
the hostile writers (only frames that yield a message; no message of B
is one of A's). Before each case the good writer is idle and everything
it sent has arrived; SIGUSR1 gives the input's counters before and after
the case (after: once tapxfr has closed the connection, seen in
/proc/net/unix), and every counter must change by exactly the case's
amount; the warning "closing a writer connection: REASON" must appear
exactly once more. Then the good writer sends more, and all of it
arrives: tapxfr still serves it.

Cases (reason names as tapxfr logs them):
  garbage           an HTTP request: data_before_start, handshake failure
  bad escape        a control frame of length 2: bad_escape
  data first        a valid data frame before any handshake: data_before_start
  READY wrong type  content_type;  START wrong type (unidirectional): content_type
  undecodable       a READY with an unknown field type: control_decode
  writer's ACCEPT   a control frame only a reader may send: unexpected_control
  control 513       a READY of 513 bytes: control_size (handshake failure)
  control 512       a READY of exactly 512 bytes naming ours among three
                    content types: ACCEPT (with our type), the session
                    works, its frames arrive
  after START       (START confirmed by a delivered frame first) a 513-byte
                    control frame: control_size; a second START:
                    unexpected_control; STOP then a byte: after_stop; all
                    protocol_errors
  same read         START, a frame and a 513-byte control frame in one
                    write: the error comes after START, so it is a
                    protocol error too, and the frame is delivered
  malformed frames  after START, three data frames that are not protobuf
                    (malformed, the connection stays), then a valid one
                    (delivered)
  oversize          a data frame of --dnstap-max-frame + 1 bytes (skipped,
                    oversize), one of exactly 256 KiB (not oversize:
                    decoded, malformed), then valid frames (delivered)
  4 GiB             a data frame header 0xffffffff and its 4 GiB - 1 bytes,
                    streamed while VmRSS is sampled (must grow by less
                    than 8 MiB: nothing is buffered),
                    then valid frames, STOP, FINISH: delivered, oversize 1
  silent            connects and never speaks: closed after the 1 s
                    handshake timeout ("no handshake within 1000 ms")
  slow handshake    READY one byte per 100 ms: closed by the same timeout
  slowloris         a fast handshake, then two frames and STOP one byte
                    every 20 ms: its frames arrive; meanwhile the good
                    writer's messages keep arriving
  1000 at once      1000 connections open together, each READY / ACCEPT /
                    START / 3 frames / STOP / FINISH: all accepted, all
                    3000 messages delivered
  1100 at once      1100 connections open together (plus the good writer):
                    exactly 1024 - 1 get ACCEPT, the other 77 are closed
                    at once and counted in rejected_connections (one
                    warning "more than 1024 writers"); the accepted ones
                    send 3 frames each, which all arrive
At the end the good writer sends STOP and gets FINISH; SIGTERM: exit 0.
The exit stats of the input are the sums of all of the above, exactly
(connections, rejected_connections, frames, bytes, oversize, malformed,
accepted, the messages by type, and handshake_failures + protocol_errors:
which of the two each error counts in is checked case by case), and the
global line has responses == forwarded == the expected count, dropped 0.
"""
import collections
import os
import re
import selectors
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

MAX_FRAME = 256 * 1024          # tapxfr's default --dnstap-max-frame
MAX_WRITERS = 1024
STEP = 150                      # good-writer frames between cases

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_hostile_dnstap", limit=88)
work = tt.tempdir()

import resource  # noqa: E402

# 1100 writers need more than 1024 descriptors, in this process and in
# tapxfr (which inherits the limit).
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft != resource.RLIM_INFINITY and soft < 4096:
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (4096 if hard == resource.RLIM_INFINITY else min(4096, hard), hard))
    except (ValueError, OSError):
        pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
if soft != resource.RLIM_INFINITY and soft < 2400:
    tt.skip("RLIMIT_NOFILE %d: 1100 writers need about 2400 descriptors (test and tapxfr)" % soft)

# ------------------------------------------------------------ data


def gen(seed, count):
    path = os.path.join(work, "dt-%d.fstrm" % seed)
    r = subprocess.run([sys.executable, "-B", tt.tool_path("gen_dnstap.py"), "--count", str(count),
                        "--seed", str(seed), "--pool", "20000", "--out", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if r.returncode != 0:
        t.check(False, "gen_dnstap.py ran", r.stdout.decode(errors="replace"))
        t.done()
    return ds.read_fstrm_file(path)[1]


framesA = gen(61, 4000)
exA = ds.expected_from_frames(framesA)
wantA = exA.messages
setA = set(wantA)
cumA = [0]
for fr in framesA:
    cumA.append(cumA[-1] + ds.expected_from_frames([fr]).forwarded)
t.info("good writer (A): %s" % exA.summary())

framesB_all = gen(62, 20000)
B = []                           # (frame, message): eligible, distinct, not in A
seenB = set()
for fr in framesB_all:
    e = ds.expected_from_frames([fr])
    if e.forwarded == 1 and e.messages[0] not in setA and e.messages[0] not in seenB:
        seenB.add(e.messages[0])
        B.append((fr, e.messages[0]))
t.info("hostile writers' valid frames (B): %d eligible, distinct" % len(B))
need_B = 3 * 1000 + 3 * (MAX_WRITERS - 1) + 100
if not t.check(len(setA) == len(wantA) and len(B) >= need_B,
               "oracle: A's %d messages distinct; %d B frames (need %d)" % (len(wantA), len(B), need_B)):
    t.done()
b_next = [0]


def take_b(n):
    """The next n valid B frames; their messages are expected."""
    out = B[b_next[0]:b_next[0] + n]
    b_next[0] += n
    return out


ctl, data, recv_exact = ds.fstrm_control, ds.fstrm_data, ds.recv_exact


CT = ds.CONTENT_TYPE
READY, START, STOP = ctl(ds.FS_READY, CT), ctl(ds.FS_START, CT), ctl(ds.FS_STOP)
ACCEPT_LEN = len(ctl(ds.FS_ACCEPT, CT))
FINISH = ctl(ds.FS_FINISH)

# ------------------------------------------------------------ tapxfr

coll = tt.TCPCollector()
sock = os.path.join(work, "dt.sock")
run = tt.Run(["--dnstap-socket", sock, "--dnstap-timeout", "1", "-t", "127.0.0.1", str(coll.port)],
             workdir=work)
IN = "dnstap-socket " + sock
KEYS = ("connections", "rejected_connections", "handshake_failures", "protocol_errors", "frames",
        "bytes", "oversize", "malformed", "accepted")


def wait_until(cond, timeout, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


if not t.check(wait_until(lambda: ds.unix_socket_state(sock)[0] and "connected:" in run.stderr
                          or not run.running(), 20) and run.running(),
               "tapxfr listens on the dnstap socket and is connected to the collector",
               run.stderr[-1500:]):
    t.done()


def in_stats():
    """SIGUSR1, then the new per-input line as a dict."""
    rx = "tapxfr: stats: %s: " % IN
    before = run.stderr.count(rx)
    run.proc.send_signal(signal.SIGUSR1)
    if not wait_until(lambda: run.stderr.count(rx) > before, 15):
        return None
    return ds.parse_stats_all(run.stderr)[1].get(IN)


def warnings(reason):
    return run.stderr.count("%s: closing a writer connection: %s" % (IN, reason))


def server_conns():
    return ds.unix_socket_state(sock)[1]


def closed_by_peer(s, timeout=15.0):
    """Reads until tapxfr closes the connection; True when it did."""
    s.settimeout(0.5)
    end = time.time() + timeout
    while time.time() < end:
        try:
            c = s.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
        except OSError:
            return False
        if not c:
            return True
    return False


def good_msgs():
    return [m for m in coll.messages if m in setA]


good = ds.LimitWriter(sock, framesA)
good.start()
wait_until(lambda: server_conns() >= 1, 10)


def advance_good(what, n=STEP):
    """Lets the good writer send n more frames; True once all it sent has
    arrived at the collector."""
    good.limit = min(len(framesA), good.limit + n)
    ok = wait_until(lambda: good.sent >= good.limit and len(good_msgs()) >= cumA[good.limit]
                    or good.error is not None, 30)
    return t.check(ok and good.error is None,
                   "%s: the good writer is still served (%d frames sent, %d of its messages arrived)"
                   % (what, good.sent, len(good_msgs())), good.error)


advance_good("start")
expected_msgs = list()           # B messages that must arrive
totals = collections.Counter()   # what the whole run must add to the counters
warn_total = collections.Counter()
base = in_stats()
if not t.check(base is not None, "SIGUSR1 logs the input's counters", run.stderr[-1000:]):
    t.done()
t.info("baseline: %s" % " ".join("%s=%s" % (k, base.get(k)) for k in KEYS))
good_conn = base.get("connections", 0)
t.eq(good_conn, 1, "baseline: one connection (the good writer)")


def wait_idle(timeout=20):
    """Until only the good writer is connected (tapxfr closed the rest)."""
    return wait_until(lambda: server_conns() <= 1, timeout)


def good_delta(a, b):
    """The counters the good writer's frames a..b-1 add."""
    return {"frames": b - a, "bytes": sum(len(f) for f in framesA[a:b]), "accepted": cumA[b] - cumA[a]}


def case(what, fn, delta, warn=None, good_during=False):
    """Runs a hostile case and checks the changes of the input's counters
    exactly: the case's own (delta), plus, when the good writer sent
    during the case (good_during), what its frames add. Only the case's
    own changes go into the totals checked at exit."""
    t.info("--- %s" % what)
    w0 = {r: warnings(r) for r in (warn or {})}
    g0 = good.sent
    before = in_stats()
    res = fn()
    t.check(wait_idle(), "%s: tapxfr has closed the connection(s)" % what,
            "still connected: %d" % server_conns())
    wait_until(lambda: set(expected_msgs[-50:]) <= got_set(), 20)
    after = in_stats()
    if before is None or after is None:
        t.check(False, "%s: counters before and after the case" % what)
        return res
    got = {k: after.get(k, 0) - before.get(k, 0) for k in KEYS}
    want = {k: delta.get(k, 0) for k in KEYS}
    for k in KEYS:
        totals[k] += want[k]
    if good_during:
        for k, v in good_delta(g0, good.sent).items():
            want[k] += v
    t.eq(got, want, "%s: counter changes" % what)
    for r, n in (warn or {}).items():
        t.eq(warnings(r) - w0[r], n, "%s: warning 'closing a writer connection: %s'" % (what, r))
        warn_total[r] += n
    advance_good(what)
    return res


def got_set():
    return set(coll.messages)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(sock)
    return s


def frames_delta(frames):
    return {"frames": len(frames), "bytes": sum(len(f) for f in frames)}


# ------------------------------------------------------------ handshake-phase cases


def c_garbage():
    s = connect()
    s.sendall(b"GET / HTTP/1.1\r\nHost: tapxfr\r\n\r\n")
    t.check(closed_by_peer(s), "garbage: tapxfr closed the connection")
    s.close()


case("garbage (an HTTP request)", c_garbage, {"connections": 1, "handshake_failures": 1},
     {"data_before_start": 1})


def c_escape():
    s = connect()
    s.sendall(struct.pack(">II", 0, 2) + b"xx")
    t.check(closed_by_peer(s), "bad escape: tapxfr closed the connection")
    s.close()


case("a control frame of length 2", c_escape, {"connections": 1, "handshake_failures": 1},
     {"bad_escape": 1})


def c_data_first():
    s = connect()
    fr, _m = B[-1]                     # never expected to arrive
    s.sendall(data(fr))
    t.check(closed_by_peer(s), "data first: tapxfr closed the connection")
    s.close()


case("a data frame before the handshake", c_data_first, {"connections": 1, "handshake_failures": 1},
     {"data_before_start": 1})


def c_wrong_ready():
    s = connect()
    s.sendall(ctl(ds.FS_READY, b"protobuf:not.Dnstap"))
    t.check(closed_by_peer(s), "READY with a wrong content type: closed without ACCEPT")
    s.close()
    s = connect()
    s.sendall(ctl(ds.FS_START, b"protobuf:not.Dnstap"))
    t.check(closed_by_peer(s), "START with a wrong content type: closed")
    s.close()


case("wrong content type (READY, START)", c_wrong_ready, {"connections": 2, "handshake_failures": 2},
     {"content_type": 2})

def c_undecodable():
    s = connect()
    body = struct.pack(">III", ds.FS_READY, 99, 3) + b"abc"       # an unknown field type
    s.sendall(struct.pack(">II", 0, len(body)) + body)
    t.check(closed_by_peer(s), "READY with an unknown field: closed")
    s.close()


case("a control frame that does not decode", c_undecodable, {"connections": 1, "handshake_failures": 1},
     {"control_decode": 1})


def c_writer_accept():
    s = connect()
    s.sendall(ctl(ds.FS_ACCEPT, CT))      # ACCEPT is the reader's frame
    t.check(closed_by_peer(s), "ACCEPT from a writer: closed")
    s.close()


case("an ACCEPT from the writer", c_writer_accept, {"connections": 1, "handshake_failures": 1},
     {"unexpected_control": 1})

PAD1, PAD2 = b"a" * 230, b"b" * 232          # 4 + (8+22) + (8+230) + (8+232) = 512
READY512 = ctl(ds.FS_READY, CT, PAD1, PAD2)
READY513 = ctl(ds.FS_READY, CT, PAD1, PAD2 + b"c")
assert len(READY512) == 8 + 512 and len(READY513) == 8 + 513


def c_ready513():
    s = connect()
    s.sendall(READY513)
    t.check(closed_by_peer(s), "READY of 513 bytes: closed without ACCEPT")
    s.close()


case("a control frame of 513 bytes", c_ready513, {"connections": 1, "handshake_failures": 1},
     {"control_size": 1})

fb = take_b(2)


def c_ready512():
    s = connect()
    s.sendall(READY512)
    acc = recv_exact(s, ACCEPT_LEN)
    t.eq(acc, ctl(ds.FS_ACCEPT, CT), "READY of 512 bytes: ACCEPT naming our content type")
    s.sendall(START + b"".join(data(f) for f, _m in fb) + STOP)
    t.eq(recv_exact(s, len(FINISH)), FINISH, "READY of 512 bytes: the session ends with FINISH")
    s.close()


expected_msgs += [m for _f, m in fb]
case("a control frame of exactly 512 bytes", c_ready512,
     dict(connections=1, accepted=2, **frames_delta([f for f, _m in fb])), {"control_size": 0})

# ------------------------------------------------------------ after START


def started_session(bidi=True):
    """A connection past START whose first frame has arrived (so tapxfr
    has processed START before anything else is sent)."""
    (fr, m), = take_b(1)
    s = connect()
    if bidi:
        s.sendall(READY)
        recv_exact(s, ACCEPT_LEN)
    s.sendall(START + data(fr))
    expected_msgs.append(m)
    ok = wait_until(lambda: m in got_set(), 20)
    t.check(ok, "the session's first frame arrived (START processed)")
    return s, fr


def c_ctl_after_start():
    s, _fr = started_session()
    s.sendall(struct.pack(">II", 0, 513) + bytes(513))
    t.check(closed_by_peer(s), "513-byte control frame after START: closed")
    s.close()


def c_second_start():
    s, _fr = started_session(bidi=False)
    s.sendall(START)
    t.check(closed_by_peer(s), "a second START: closed")
    s.close()


def c_after_stop():
    s, _fr = started_session(bidi=False)
    s.sendall(STOP + b"x")
    t.check(closed_by_peer(s), "a byte after STOP: closed")
    s.close()


for what, fn, reason in (("a control frame of 513 bytes after START", c_ctl_after_start, "control_size"),
                         ("a second START", c_second_start, "unexpected_control"),
                         ("a byte after STOP", c_after_stop, "after_stop")):
    nxt = B[b_next[0]][0]        # the frame started_session sends
    case(what, fn, dict(connections=1, protocol_errors=1, accepted=1, frames=1, bytes=len(nxt)),
         {reason: 1})

# The same violation with START, a frame and the bad control frame in
# ONE write: the error still comes after START in the stream.
(fr_same, m_same), = take_b(1)


def c_same_read():
    s = connect()
    s.sendall(START + data(fr_same) + struct.pack(">II", 0, 513) + bytes(513))
    t.check(closed_by_peer(s), "START + frame + 513-byte control frame in one write: closed")
    s.close()


expected_msgs.append(m_same)
case("START, a frame and a 513-byte control frame in one write", c_same_read,
     dict(connections=1, protocol_errors=1, accepted=1, frames=1, bytes=len(fr_same)),
     {"control_size": 1})

# malformed data frames: the connection stays
BAD_FRAMES = [b"\xff" * 100, b"\x0a\xff\xff\xff\x0f" + b"\0" * 20, b"\x08"]
(fr_after, m_after), = take_b(1)


def c_malformed():
    s, _fr = started_session(bidi=True)
    s.sendall(b"".join(data(b) for b in BAD_FRAMES))
    s.sendall(data(fr_after) + STOP)
    t.eq(recv_exact(s, len(FINISH)), FINISH, "malformed frames: the session goes on and ends with FINISH")
    s.close()


nxt = B[b_next[0]][0]
expected_msgs.append(m_after)
case("three malformed data frames, then a valid one", c_malformed,
     dict(connections=1, accepted=2, malformed=3, frames=5,
          bytes=len(nxt) + len(fr_after) + sum(len(b) for b in BAD_FRAMES)),
     {})

# ------------------------------------------------------------ oversize

fo = take_b(3)


def c_oversize():
    s = connect()
    s.sendall(READY)
    recv_exact(s, ACCEPT_LEN)
    s.sendall(START + data(fo[0][0]))
    s.sendall(struct.pack(">I", MAX_FRAME + 1) + b"\x01" * (MAX_FRAME + 1))
    s.sendall(data(fo[1][0]))
    s.sendall(struct.pack(">I", MAX_FRAME) + b"\xff" * MAX_FRAME)     # not oversize: malformed
    s.sendall(data(fo[2][0]) + STOP)
    t.eq(recv_exact(s, len(FINISH)), FINISH, "oversize: the session goes on and ends with FINISH")
    s.close()


expected_msgs += [m for _f, m in fo]
case("a frame of max-frame + 1 bytes, one of exactly max-frame", c_oversize,
     dict(connections=1, accepted=3, oversize=1, malformed=1, frames=4,
          bytes=MAX_FRAME + sum(len(f) for f, _m in fo)), {})


def vmrss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


f4 = take_b(3)
rss = {}


def c_4gib():
    s = connect()
    s.sendall(READY)
    recv_exact(s, ACCEPT_LEN)
    s.sendall(START + data(f4[0][0]))
    ok = wait_until(lambda: f4[0][1] in got_set(), 20)
    t.check(ok, "4 GiB: the first frame arrived")
    rss["start"] = vmrss(run.proc.pid)
    s.sendall(b"\xff\xff\xff\xff")
    chunk = bytes(4 << 20)
    left = 0xFFFFFFFF
    t0 = time.time()
    n = 0
    peak = rss["start"] or 0
    while left:
        k = min(left, len(chunk))
        s.sendall(chunk if k == len(chunk) else chunk[:k])
        left -= k
        n += 1
        if n % 32 == 0:
            r = vmrss(run.proc.pid)
            if r:
                peak = max(peak, r)
    rss["peak"] = peak
    rss["secs"] = time.time() - t0
    s.sendall(data(f4[1][0]) + data(f4[2][0]) + STOP)
    t.eq(recv_exact(s, len(FINISH)), FINISH, "4 GiB: the session goes on after the frame and ends "
         "with FINISH")
    s.close()


expected_msgs += [m for _f, m in f4]
case("a data frame of length 0xffffffff (4 GiB), streamed", c_4gib,
     dict(connections=1, accepted=3, oversize=1, frames=3, bytes=sum(len(f) for f, _m in f4)), {})
t.info("4 GiB streamed in %.1f s; VmRSS %s kB before, peak %s kB while streaming"
       % (rss.get("secs", 0), rss.get("start"), rss.get("peak")))
t.check(rss.get("start") and rss["peak"] - rss["start"] < 8 * 1024,
        "4 GiB: tapxfr's VmRSS grew by less than 8 MiB while 4 GiB streamed by (%s -> %s kB)"
        % (rss.get("start"), rss.get("peak")))

# ------------------------------------------------------------ timeouts


def c_silent():
    s = connect()
    t0 = time.time()
    closed = closed_by_peer(s, 20)
    dt = time.time() - t0
    t.check(closed and dt >= 0.9, "silent writer: closed by tapxfr after the 1 s handshake timeout "
            "(%.1f s)" % dt)
    s.close()


case("a connection that never speaks (--dnstap-timeout 1)", c_silent,
     {"connections": 1, "handshake_failures": 1}, {"no handshake within 1000 ms": 1})


def c_slow_handshake():
    s = connect()
    t0 = time.time()
    closed = False
    for b in READY:
        try:
            s.sendall(bytes([b]))
        except OSError:
            closed = True
            break
        time.sleep(0.1)
    if not closed:
        closed = closed_by_peer(s, 20)
    t.check(closed and time.time() - t0 >= 0.9,
            "slow handshake (READY one byte per 100 ms): closed by the handshake timeout")
    s.close()


case("a handshake one byte per 100 ms", c_slow_handshake,
     {"connections": 1, "handshake_failures": 1}, {"no handshake within 1000 ms": 1})

# ------------------------------------------------------------ slowloris

fs = sorted(take_b(40), key=lambda x: len(x[0]))[:2]    # the two shortest of 40
b_slow = b"".join(data(f) for f, _m in fs) + STOP
slow = {"done": False, "error": None, "good_during": 0}


def slowloris():
    try:
        s = connect()
        s.settimeout(30)
        s.sendall(READY)
        recv_exact(s, ACCEPT_LEN)
        s.sendall(START)
        for i in range(len(b_slow)):
            s.sendall(b_slow[i:i + 1])
            time.sleep(0.02)
        if recv_exact(s, len(FINISH)) != FINISH:
            raise OSError("no FINISH")
        s.close()
        slow["done"] = True
    except OSError as e:
        slow["error"] = str(e)


def c_slowloris():
    th = threading.Thread(target=slowloris, daemon=True)
    g0 = len(good_msgs())
    th.start()
    # meanwhile the good writer goes on
    good.limit = min(len(framesA), good.limit + 2 * STEP)
    t.check(wait_until(lambda: good.sent >= good.limit and len(good_msgs()) >= cumA[good.limit], 30),
            "slowloris: while it trickles, the good writer's messages keep arriving (%d more)"
            % (len(good_msgs()) - g0))
    slow["good_during"] = not slow["done"]
    th.join(60)
    t.check(slow["done"], "slowloris: its session (%d bytes, one every 20 ms) ends with FINISH"
            % len(b_slow), slow["error"])
    t.check(slow["good_during"], "slowloris: the good writer was served while it was still trickling")


# the 40 taken: only the two sent are expected; the others are dropped
expected_msgs += [m for _f, m in fs]
case("slowloris: two frames and STOP one byte every 20 ms", c_slowloris,
     dict(connections=1, accepted=2, frames=2, bytes=sum(len(f) for f, _m in fs)), {},
     good_during=True)

# ------------------------------------------------------------ many writers


class Mass:
    """n writers connected at once, driven by one epoll loop: READY, then
    (on ACCEPT) START and their frames; STOP only when every writer is
    connected and answered, so all are open together; then FINISH."""

    def __init__(self, n, per):
        self.n, self.per = n, per
        self.accepted, self.rejected, self.finished, self.errors = 0, 0, 0, []
        self.sent_frames = []

    def run(self):
        sel = selectors.DefaultSelector()
        st = {}
        socks = []

        def pump(timeout):
            for key, _ev in sel.select(timeout):
                s = key.fileobj
                d = st[s]
                try:
                    c = s.recv(4096)
                except (ConnectionResetError, BrokenPipeError):
                    c = b""
                except BlockingIOError:
                    continue
                if not c:
                    sel.unregister(s)
                    if d["state"] == "ready":
                        self.rejected += 1
                        d["state"] = "rejected"
                    elif d["state"] != "finished":
                        self.errors.append("closed in state %s" % d["state"])
                        d["state"] = "error"
                    continue
                d["buf"] += c
                if d["state"] == "ready" and len(d["buf"]) >= ACCEPT_LEN:
                    if d["buf"][:ACCEPT_LEN] != ctl(ds.FS_ACCEPT, CT):
                        self.errors.append("not an ACCEPT")
                    d["buf"] = d["buf"][ACCEPT_LEN:]
                    fr = take_b(self.per)
                    self.sent_frames += fr
                    s.setblocking(True)
                    s.sendall(START + b"".join(data(f) for f, _m in fr))
                    s.setblocking(False)
                    d["state"] = "started"
                    self.accepted += 1
                elif d["state"] == "stopped" and len(d["buf"]) >= len(FINISH):
                    d["state"] = "finished" if d["buf"][:len(FINISH)] == FINISH else "error"
                    self.finished += d["state"] == "finished"
                    sel.unregister(s)

        for _ in range(self.n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            end = time.time() + 30
            while True:
                try:
                    s.connect(sock)
                    break
                except BlockingIOError:
                    # tapxfr's listen backlog is full: answer the writers
                    # already connected meanwhile, then try again
                    if time.time() > end:
                        raise
                    pump(0.01)
            s.setblocking(True)
            try:
                s.sendall(READY)
            except OSError:
                pass                # already closed: a rejected writer
            s.setblocking(False)
            st[s] = {"state": "ready", "buf": b""}
            sel.register(s, selectors.EVENT_READ)
            socks.append(s)
            pump(0)
        end = time.time() + 40
        while time.time() < end and any(d["state"] == "ready" for d in st.values()):
            pump(0.2)
        # every writer is connected and was accepted or rejected: STOP
        for s in socks:
            if st[s]["state"] == "started":
                s.setblocking(True)
                s.sendall(STOP)
                s.setblocking(False)
                st[s]["state"] = "stopped"
        end = time.time() + 40
        while time.time() < end and any(d["state"] == "stopped" for d in st.values()):
            pump(0.2)
        for s in socks:
            s.close()
        sel.close()
        self.states = collections.Counter(d["state"] for d in st.values())


m1000 = Mass(1000, 3)


def c_1000():
    m1000.run()
    t.eq((m1000.accepted, m1000.rejected, m1000.finished, m1000.errors), (1000, 0, 1000, []),
         "1000 at once: accepted (ACCEPT), rejected, finished (FINISH), errors")
    expected_msgs.extend(m for _f, m in m1000.sent_frames)


nb = b_next[0]
case("1000 writers at once, 3 frames each", c_1000,
     dict(connections=1000, accepted=3000, frames=3000,
          bytes=sum(len(f) for f, _m in B[nb:nb + 3000])), {})
t.check(wait_until(lambda: all(m in got_set() for _f, m in m1000.sent_frames), 30),
        "1000 at once: all 3000 messages arrived")

m1100 = Mass(1100, 3)
rej_warn0 = run.stderr.count("more than %d writers; closing new connections" % MAX_WRITERS)
n_ok = MAX_WRITERS - 1            # the good writer holds one place
nb = b_next[0]


def c_1100():
    m1100.run()
    t.eq((m1100.accepted, m1100.rejected, m1100.finished, m1100.errors), (n_ok, 1100 - n_ok, n_ok, []),
         "1100 at once (+ the good writer): accepted, rejected, finished, errors")
    expected_msgs.extend(m for _f, m in m1100.sent_frames)


case("1100 writers at once, 3 frames each", c_1100,
     dict(connections=n_ok, rejected_connections=1100 - n_ok, accepted=3 * n_ok, frames=3 * n_ok,
          bytes=sum(len(f) for f, _m in B[nb:nb + 3 * n_ok])), {})
t.check(wait_until(lambda: all(m in got_set() for _f, m in m1100.sent_frames), 30),
        "1100 at once: the %d messages of the accepted writers arrived" % (3 * n_ok))
t.eq(run.stderr.count("more than %d writers; closing new connections" % MAX_WRITERS) - rej_warn0, 1,
     "1100 at once: one warning 'more than 1024 writers'")

# ------------------------------------------------------------ the end

good.limit = len(framesA)
good.end = True
t.check(wait_until(lambda: good.finished or good.error is not None, 30) and good.finished,
        "the good writer sent all %d frames, STOP, and got FINISH" % len(framesA), good.error)
want_all = wantA + expected_msgs
t.check(wait_until(lambda: len(coll.messages) >= len(want_all), 30),
        "the collector received %d messages (want %d)" % (len(coll.messages), len(want_all)))
time.sleep(0.3)
rc = run.terminate(20)
t.eq(rc, 0, "tapxfr exits 0 on SIGTERM")
coll.wait_closed(10)
coll.kill()

got = coll.messages
missing, unexpected, text = tt.multiset_diff(got, want_all)
t.check(not missing and not unexpected, "received multiset == expected (%d messages: %d of the good "
        "writer, %d of hostile writers' valid frames)" % (len(want_all), len(wantA), len(expected_msgs)),
        text)
g = [m for m in got if m in setA]
t.check(g == wantA, "the good writer's messages: all, exactly once, in order",
        tt.first_order_diff(g, wantA))

glob, inputs = ds.parse_stats_all(run.stderr)
fin = inputs.get(IN)
if t.check(fin is not None and glob is not None, "exit stats: the global and the input line"):
    want_fin = {k: totals[k] for k in KEYS}
    want_fin["connections"] += good_conn
    for k, v in good_delta(0, len(framesA)).items():
        want_fin[k] += v
    # Which of the two a connection-level error counts in is checked case
    # by case above; here: every such error counted once.
    fails = ("handshake_failures", "protocol_errors")
    want_sum = sum(want_fin.pop(k) for k in fails)
    got_fin = {k: fin.get(k) for k in KEYS if k not in fails}
    t.eq(got_fin, want_fin, "exit stats of the input: every counter but the two below")
    t.eq(sum(fin.get(k, 0) for k in fails), want_sum,
         "exit stats of the input: handshake_failures + protocol_errors")
    t.eq((fin.get("queries"), fin.get("not_selected")), (exA.queries, exA.unselected),
         "exit stats of the input: queries, not_selected (the good writer's)")
    t.eq((glob.get("responses"), glob.get("forwarded"), glob.get("dropped"), glob.get("malformed")),
         (len(want_all), len(want_all), 0, totals["malformed"]),
         "global: responses, forwarded, dropped, malformed")
    # <type>=N: every decoded Message by type (names with a hyphen, which
    # parse_stats_all's key pattern does not take whole)
    line = [ln for ln in run.stderr.splitlines() if ("tapxfr: stats: %s: " % IN) in ln][-1]
    got_types = {k: int(v) for k, v in re.findall(r" ([a-z]+-[a-z]+)=(\d+)", line)}
    b_type = {m: ds.decode_dnstap(f).mtype for f, m in B}
    want_types = collections.Counter(exA.by_type) + collections.Counter(b_type[m] for m in expected_msgs)
    t.eq(got_types, {ds.TYPE_NAMES[k].lower().replace("_", "-"): v for k, v in want_types.items()},
         "exit stats of the input: messages by type")
    t.info("input: %s" % line.split(": ", 3)[-1])
    for r, n in sorted(warn_total.items()):
        t.eq(warnings(r), n, "whole run: warnings '%s'" % r)
t.done()
