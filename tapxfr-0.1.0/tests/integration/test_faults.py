#!/usr/bin/env python3
"""Faults around a running tapxfr: a collector that is not there, a
collector that stops reading under load, SIGTERM under load, and the
dnstap socket file deleted.

1. Collector down at start (TCP, file input): tapxfr logs "cannot
   connect: connection refused (retrying)", keeps trying (with -v every
   attempt is logged; the test waits for three) and keeps every record
   queued (SIGUSR1: pending == expected); once the collector listens on
   the port, everything arrives, in order, on one connection, and tapxfr
   exits 0 by itself. Stats: forwarded == expected, dropped 0, connects 1.

2. A TCP collector that accepts, sends its banner and never reads, while
   a live dnstap writer sends (eligible frames only, so every frame is a
   response): first as fast as it can until the queue (--queue-size 8M)
   is full (SIGUSR1: drop_queue_full > 0), then at a steady pace for
   ~10 s (60 s with TAPXFR_LONG_TESTS=1). Meanwhile:
   * tapxfr's VmRSS (/proc/PID/status), sampled every 0.5 s, stays under
     the queue size + 24 MiB;
   * its CPU time (/proc/PID/stat utime + stime) over 5 s under that load
     and over 5 s with no input at all is under 10% of one core (a stuck
     collector must not make tapxfr spin);
   * tapxfr keeps reading the writer (its frames counter catches up with
     what the writer sent) and drops what does not fit: over the paced
     window drop_queue_full grows by exactly the number of messages
     accepted from the writer (nothing drains);
3. ... and then SIGTERM under that load (--flush-timeout 2): tapxfr exits
   0 within the flush timeout + 2 s, logs "N messages still queued at the
   flush deadline", and at exit forwarded + dropped == responses, dropped
   == drop_queue_full + drop_shutdown, drop_shutdown == N > 0, pending 0,
   responses == the input's accepted == its frames. The collector then
   reads what the kernel still holds: exactly `forwarded` whole messages,
   in the order the writer sent them (a subsequence of its stream),
   followed at most by the first bytes of the message tapxfr was writing
   when the deadline came (counted in drop_shutdown).

4. The dnstap socket file deleted under a running tapxfr: a writer
   connected before keeps being served; new writers cannot connect
   (ENOENT); a SIGHUP while a regular file sits at the path refuses to
   remove it ("cannot re-create the socket"); once the path is free, a
   SIGHUP re-creates the socket ("socket re-created"), a new writer
   connects and all its frames arrive; SIGTERM: exit 0, and the socket
   file is removed. (A SIGHUP while the socket is intact changes nothing.)
"""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

LONG = os.environ.get("TAPXFR_LONG_TESTS") == "1"
WINDOW = 60.0 if LONG else 10.0
QUEUE = 8 << 20
RSS_SLACK = 24 << 20
FLUSH = 2
PACE = 2000                     # frames per second in the steady window

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_faults", limit=150 if LONG else 88)
work = tt.tempdir()
CLK = os.sysconf("SC_CLK_TCK")


def wait_until(cond, timeout, step=0.02):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def usr1(run, lines=1):
    """SIGUSR1; (global line, {input name: line}) of that one statistics
    dump, as dicts. A dump is `lines` lines: the global one, then one per
    dnstap input."""
    rx = "tapxfr: stats: "
    before = run.stderr.count(rx)
    run.proc.send_signal(signal.SIGUSR1)
    if not wait_until(lambda: run.stderr.count(rx) >= before + lines, 15):
        return None, {}
    return ds.parse_stats_all(run.stderr)


ctl, data, recv_exact = ds.fstrm_control, ds.fstrm_data, ds.recv_exact
CT = ds.CONTENT_TYPE
READY, START, STOP = ctl(ds.FS_READY, CT), ctl(ds.FS_START, CT), ctl(ds.FS_STOP)
ACCEPT, FINISH = ctl(ds.FS_ACCEPT, CT), ctl(ds.FS_FINISH)


def gen_frames(seed, count):
    path = os.path.join(work, "dt-%d.fstrm" % seed)
    r = subprocess.run([sys.executable, "-B", tt.tool_path("gen_dnstap.py"), "--count", str(count),
                        "--seed", str(seed), "--pool", "20000", "--out", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if r.returncode != 0:
        t.check(False, "gen_dnstap.py ran", r.stdout.decode(errors="replace"))
        t.done()
    return ds.read_fstrm_file(path)[1]


def eligible(frames):
    """[(frame, its DNSXFR01 message)] for the frames that yield one."""
    out = []
    for fr in frames:
        e = ds.expected_from_frames([fr])
        if e.forwarded == 1:
            out.append((fr, e.messages[0]))
    return out


def vmrss(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[11]) + int(rest[12])     # utime, stime (fields 14, 15)
    except (OSError, IndexError, ValueError):
        return None


def cpu_share(pid, secs):
    """Fraction of one core tapxfr used over `secs` seconds."""
    c0, t0 = cpu_ticks(pid), time.time()
    time.sleep(secs)
    c1, t1 = cpu_ticks(pid), time.time()
    if c0 is None or c1 is None:
        return None
    return (c1 - c0) / CLK / (t1 - t0)


# ------------------------------------------------------------ 1. collector down at start
t.info("--- 1. collector down at start (TCP, file input)")
pcap = tt.gen_pcap(work, count=8000, seed=71)
ex = tt.oracle(pcap)
want = ex.messages
E = len(want)
t.info("oracle: %s" % ex.summary())
port = tt.reserve_port()
name = "tcp://127.0.0.1:%d" % port
run = tt.Run(["-v", "-t", "-r", pcap, "127.0.0.1", str(port)], workdir=work)
t.check(wait_until(lambda: re.search(r"%s: cannot connect: connection refused \(retrying\)"
                                     % re.escape(name), run.stderr) or not run.running(), 20),
        "down: tapxfr logs 'cannot connect: connection refused (retrying)'", run.stderr[-1000:])
t.check(wait_until(lambda: len(re.findall(r"%s: cannot connect: connection refused"
                                          % re.escape(name), run.stderr)) >= 3
                   or not run.running(), 20) and run.running(),
        "down: tapxfr keeps running and trying (3 attempts logged with -v)", run.stderr[-1000:])
st = None


def all_queued():
    global st
    st = usr1(run)[0]
    return st is not None and st.get("pending") == E


t.check(wait_until(all_queued, 30, step=0.2),
        "down: every record of the file is queued meanwhile (pending %s, want %d)"
        % (st and st.get("pending"), E))
coll = tt.TCPCollector(port=port)
rc = run.wait(60)
t.eq(rc, 0, "down: once the collector is up, tapxfr delivers the file and exits 0 by itself")
wait_until(lambda: len(coll.messages) >= E, 15)
coll.wait_closed(10)
coll.kill()
t.check(coll.messages == want, "down: the collector received exactly the expected messages, in order "
        "(%d)" % E, tt.first_order_diff(coll.messages, want))
t.eq((coll.connections, coll.partial), (1, 0), "down: one connection, no partial message")
st = run.stats or {}
t.eq((st.get("responses"), st.get("forwarded"), st.get("dropped"), st.get("connects"),
      st.get("disconnects")), (ex.responses, E, 0, 1, 0),
     "down: stats responses, forwarded, dropped, connects, disconnects")

# ------------------------------------------------------------ 2/3. stuck collector under load
t.info("--- 2. a collector that stops reading, under load from a live dnstap writer (%d s window)"
       % WINDOW)
pool = eligible(gen_frames(72, 30000))
t.info("writer pool: %d eligible frames (cycled)" % len(pool))


class LoadWriter(threading.Thread):
    """Sends the pool's frames over and over: in bursts of 500 while
    self.rate is 0, else self.rate frames per second (ticks of 10 ms).
    Stops on self.stop or when tapxfr closes the connection."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.rate = 0
        self.sent = 0
        self.stop = False
        self.error = None
        self.closed = False

    def run(self):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(self.path)
            s.sendall(READY)
            if recv_exact(s, len(ACCEPT)) != ACCEPT:
                raise OSError("no ACCEPT")
            s.sendall(START)
            n = len(pool)
            carry = 0.0
            last = time.time()
            while not self.stop:
                if self.rate:
                    now = time.time()
                    carry += (now - last) * self.rate
                    last = now
                    k = int(carry)
                    carry -= k
                    if not k:
                        time.sleep(0.01)
                        continue
                else:
                    k = 500
                    last = time.time()
                i = self.sent % n
                batch = [pool[(i + j) % n][0] for j in range(k)]
                s.sendall(b"".join(data(f) for f in batch))
                self.sent += k
                if self.rate:
                    time.sleep(0.01)
            s.close()
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True
        except OSError as e:
            self.error = "%s: %s" % (type(e).__name__, e)

    def message(self, k):
        return pool[k % len(pool)][1]


stuck = tt.StuckCollector()
sock = os.path.join(work, "load.sock")
IN = "dnstap-socket " + sock
run = tt.Run(["--dnstap-socket", sock, "-t", "--queue-size", "8M", "--flush-timeout", str(FLUSH),
              "127.0.0.1", str(stuck.port)], workdir=work)
ok = t.check(wait_until(lambda: ds.unix_socket_state(sock)[0] and "connected:" in run.stderr
                        or not run.running(), 20) and run.running(),
             "load: tapxfr listens and is connected to the collector", run.stderr[-1000:])
if not ok:
    t.done()
pid = run.proc.pid
rss0 = vmrss(pid)
lw = LoadWriter(sock)
lw.start()
st = None


def queue_full():
    global st
    st = usr1(run, 2)[0]
    return st is not None and st.get("drop_queue_full", 0) > 0


t.check(wait_until(queue_full, 60, step=0.3),
        "load: the queue fills up while the collector reads nothing (drop_queue_full %s after %d frames)"
        % (st and st.get("drop_queue_full"), lw.sent), lw.error)
lw.rate = PACE
# settle into the paced mode, then take the window's starting counters
wait_until(lambda: False, 0.5)
g0, i0 = usr1(run, 2)
in0 = i0.get(IN)
rss_max = vmrss(pid) or 0
t_end = time.time() + WINDOW
cpu_load = None
while time.time() < t_end:
    if cpu_load is None and time.time() > t_end - WINDOW + 2:
        cpu_load = cpu_share(pid, 5.0)         # 5 s under the paced load
    time.sleep(0.5)
    r_ = vmrss(pid)
    if r_:
        rss_max = max(rss_max, r_)
sent_window_end = lw.sent
t.check(wait_until(lambda: (usr1(run, 2)[1].get(IN) or {}).get("frames", -1) >= sent_window_end, 20,
                   step=0.3),
        "load: tapxfr keeps reading the writer although the collector is stuck (it has read the %d "
        "frames sent so far)" % sent_window_end)
g1, i1 = usr1(run, 2)
in1 = i1.get(IN)
t.info("load: VmRSS %.1f MiB at start, at most %.1f MiB during the window"
       % ((rss0 or 0) / 1048576.0, rss_max / 1048576.0))
t.check(rss_max < QUEUE + RSS_SLACK, "load: VmRSS stays under --queue-size + 24 MiB (%.1f MiB < %.1f MiB)"
        % (rss_max / 1048576.0, (QUEUE + RSS_SLACK) / 1048576.0))
t.check(cpu_load is not None and cpu_load < 0.10,
        "load: CPU over 5 s with a stuck collector and %d frames/s in: %s of one core (< 10%%)"
        % (PACE, "%.1f%%" % (100 * cpu_load) if cpu_load is not None else "?"))
if in0 and in1 and g0 and g1:
    d_acc = in1["accepted"] - in0["accepted"]
    d_frames = in1["frames"] - in0["frames"]
    d_dqf = g1["drop_queue_full"] - g0["drop_queue_full"]
    t.check(d_acc > 0 and d_acc == d_frames, "load: every frame of the window was accepted (%d frames, "
            "%d accepted)" % (d_frames, d_acc))
    d_fw = g1["forwarded"] - g0["forwarded"]
    d_pend = g1["pending"] - g0["pending"]
    t.eq(d_fw, 0, "load: nothing was forwarded during the window (the collector reads nothing)")
    t.eq(d_dqf + d_pend, d_acc, "load: every message accepted in the window was dropped as queue_full "
         "(%d) or fit into the last free bytes of the queue (%d)" % (d_dqf, d_pend))
    t.check(d_dqf > 0 and d_pend <= 64, "load: the queue was full: all but %d of them were dropped"
            % d_pend)
else:
    t.check(False, "load: counters before and after the window")

# no input at all: tapxfr must sleep
lw.rate = 1e-9
cpu_idle = cpu_share(pid, 5.0)
t.check(cpu_idle is not None and cpu_idle < 0.10,
        "load: CPU over 5 s with a stuck collector and no input: %s of one core (< 10%%)"
        % ("%.1f%%" % (100 * cpu_idle) if cpu_idle is not None else "?"))

# ------------------------------------------------------------ 3. SIGTERM under load
t.info("--- 3. SIGTERM under load (--flush-timeout %d)" % FLUSH)
lw.rate = PACE
wait_until(lambda: False, 0.5)
t_sig = time.time()
run.proc.send_signal(signal.SIGTERM)
rc = run.wait(FLUSH + 30)
elapsed = time.time() - t_sig
lw.stop = True
lw.join(10)
t.eq(rc, 0, "sigterm: tapxfr exits 0 under load")
t.check(elapsed <= FLUSH + 2, "sigterm: it exits within the flush timeout + 2 s (%.1f s)" % elapsed)
got, partial = stuck.drain()
stuck.close()
st = run.stats or {}
fin = ds.parse_stats_all(run.stderr)[1].get(IN) or {}
m = re.search(r"(\d+) messages still queued at the flush deadline", run.stderr)
left = int(m.group(1)) if m else None
fw, dr, rs = st.get("forwarded"), st.get("dropped"), st.get("responses")
t.info("sigterm: stats %s" % " ".join("%s=%s" % kv for kv in st.items() if not kv[0].startswith("pkt_")))
t.check(None not in (fw, dr, rs) and fw + dr == rs, "sigterm: forwarded + dropped == responses "
        "(%s + %s, %s)" % (fw, dr, rs))
t.eq(dr, st.get("drop_queue_full", 0) + st.get("drop_shutdown", 0),
     "sigterm: dropped == drop_queue_full + drop_shutdown")
t.check(left is not None and left > 0 and st.get("drop_shutdown") == left,
        "sigterm: drop_shutdown == the %s messages 'still queued at the flush deadline'" % left)
t.eq(st.get("pending"), 0, "sigterm: pending 0 at exit")
t.eq((fin.get("accepted"), fin.get("frames")), (rs, rs),
     "sigterm: the input's accepted and frames == responses (every frame eligible)")
t.eq(len(got), fw, "sigterm: the collector then reads exactly `forwarded` whole messages")
# The message tapxfr was writing when the deadline came is cut: its first
# bytes are in the socket, it is counted in drop_shutdown.
t.check(partial == 0 or (partial < 2 + 12 + 4096), "sigterm: at most the beginning of one more message "
        "after them (%d bytes: the one being written at the deadline, counted in drop_shutdown)" % partial)
# in the writer's order: a subsequence of its (cycled) stream
k, ok = 0, True
for msg in got:
    while k < lw.sent and lw.message(k) != msg:
        k += 1
    if k >= lw.sent:
        ok = False
        break
    k += 1
t.check(ok, "sigterm: what arrived is a subsequence of what the writer sent, in order")

# ------------------------------------------------------------ 4. socket deleted
t.info("--- 4. the dnstap socket file deleted under a running tapxfr")
fr4 = eligible(gen_frames(73, 3000))
half = len(fr4) // 2
w1_frames, w2_frames = [f for f, _m in fr4[:half]], [f for f, _m in fr4[half:]]
w1_msgs, w2_msgs = [m for _f, m in fr4[:half]], [m for _f, m in fr4[half:]]
coll = tt.TCPCollector()
sock = os.path.join(work, "del.sock")
IN = "dnstap-socket " + sock
run = tt.Run(["--dnstap-socket", sock, "-t", "127.0.0.1", str(coll.port)], workdir=work)
t.check(wait_until(lambda: ds.unix_socket_state(sock)[0] and "connected:" in run.stderr, 20),
        "deleted: tapxfr listens", run.stderr[-1000:])
w1 = ds.LimitWriter(sock, w1_frames)
w1.start()
w1.connected.wait(20)


def w1_served(n):
    w1.limit = min(len(w1_frames), w1.limit + n)
    return wait_until(lambda: w1.sent >= w1.limit
                      and len([m for m in coll.messages if m in w1_set]) >= w1.limit, 20)


w1_set = set(w1_msgs)
t.check(w1_served(100), "deleted: writer 1 connected and served", w1.error)
ino0 = os.stat(sock).st_ino
n_hup = run.stderr.count("SIGHUP: statistics file rewritten, dnstap sockets checked")
run.proc.send_signal(signal.SIGHUP)
t.check(wait_until(lambda: run.stderr.count("SIGHUP: statistics file rewritten, dnstap sockets checked")
                   > n_hup, 10) and "socket re-created" not in run.stderr and os.stat(sock).st_ino == ino0,
        "deleted: a SIGHUP with the socket in place leaves it alone")
os.unlink(sock)
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.close()
    refused = None
except OSError as e:
    refused = e
t.check(isinstance(refused, FileNotFoundError), "deleted: a new writer cannot connect (%r)" % refused)
t.check(w1_served(200), "deleted: writer 1, connected before, is still served", w1.error)
with open(sock, "w") as f:
    f.write("not a socket\n")
n_hup = run.stderr.count("SIGHUP: statistics file rewritten")
run.proc.send_signal(signal.SIGHUP)
t.check(wait_until(lambda: run.stderr.count("SIGHUP: statistics file rewritten") > n_hup, 10)
        and re.search(r"%s: cannot re-create the socket: refusing to remove %s: not a socket"
                      % (re.escape(IN), re.escape(sock)), run.stderr),
        "deleted: SIGHUP with a regular file at the path: 'cannot re-create the socket ... not a "
        "socket'", run.stderr[-800:])
with open(sock) as f:
    t.eq(f.read(), "not a socket\n", "deleted: the regular file is left alone")
os.unlink(sock)
n_hup = run.stderr.count("SIGHUP: statistics file rewritten")
run.proc.send_signal(signal.SIGHUP)
t.check(wait_until(lambda: run.stderr.count("%s: socket re-created" % IN) == 1
                   and ds.unix_socket_state(sock)[0], 10),
        "deleted: SIGHUP re-creates it ('socket re-created', listening again)", run.stderr[-800:])
w2 = ds.LimitWriter(sock, w2_frames)
w2.limit = len(w2_frames)
w2.end = True
w2.start()
t.check(wait_until(lambda: w2.finished or w2.error is not None, 30) and w2.finished,
        "deleted: a new writer connects, sends %d frames, STOP, gets FINISH" % len(w2_frames), w2.error)
t.check(w1_served(len(w1_frames)), "deleted: writer 1 is served to the end", w1.error)
w1.end = True
t.check(wait_until(lambda: w1.finished or w1.error is not None, 30) and w1.finished,
        "deleted: writer 1 ends with FINISH", w1.error)
want4 = w1_msgs + w2_msgs
t.check(wait_until(lambda: len(coll.messages) >= len(want4), 20),
        "deleted: %d messages arrived (want %d)" % (len(coll.messages), len(want4)))
time.sleep(0.3)
rc = run.terminate(20)
t.eq(rc, 0, "deleted: tapxfr exits 0 on SIGTERM")
coll.wait_closed(10)
coll.kill()
got = coll.messages
missing, unexpected, text = tt.multiset_diff(got, want4)
t.check(not missing and not unexpected, "deleted: received multiset == both writers' messages", text)
t.eq([m for m in got if m in w1_set], w1_msgs, "deleted: writer 1's messages, in order")
t.eq([m for m in got if m not in w1_set], w2_msgs, "deleted: writer 2's messages, in order")
fin = ds.parse_stats_all(run.stderr)[1].get(IN) or {}
t.eq((fin.get("connections"), fin.get("frames"), fin.get("accepted"), fin.get("handshake_failures")),
     (2, len(fr4), len(fr4), 0), "deleted: input stats connections, frames, accepted, handshake_failures")
t.check(not os.path.exists(sock), "deleted: the re-created socket file is removed at exit")
t.done()
