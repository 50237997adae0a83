#!/usr/bin/env python3
"""Operations: --pidfile, -d, SIGUSR1, --stats-file (Prometheus text
format, written atomically) and SIGHUP.

Input everywhere: a dnstap socket fed with a gen_dnstap file (the oracle,
dnstap_servers' independent reader, with -D); collectors: the harness's
TCP and UDP collectors.

1. Foreground: `--pidfile P --stats-file F -L 3600 -D`, two collectors
   (tcp:// and udp://).
   * P holds tapxfr's pid and a newline once it runs; F does not exist
     yet (-L 3600: no periodic write before SIGHUP).
   * After the dnstap file: SIGUSR1 logs a new global stats line and one
     line per collector: received == frames, responses and forwarded
     (sum over collectors) as the oracle says, per collector queued +
     drop_queue_full == responses that passed the filters and queued ==
     forwarded + drop_shutdown + drop_send_error.
   * SIGHUP logs "SIGHUP: statistics file rewritten" and writes F. F is
     parsed by a strict parser of the text format (every sample line
     `name{labels} value` has a preceding # TYPE for that name; families
     contiguous, no duplicate series, well-formed labels and numbers, a
     final newline) and every value equals the SIGUSR1 lines' numbers.
   * Atomic writes: while a reader thread reads and strictly parses F in a
     loop, 40 SIGHUPs rewrite it: every read is a complete, valid file,
     the inode changes (a new file renamed over the old one), and no
     temporary file is left in the directory.
   * SIGTERM: exit 0; the exit lines hold the invariants above; F was
     rewritten at exit and matches them; P is removed. The TCP collector
     received exactly the oracle's messages in order; the UDP one too,
     less what its own socket dropped (kernel counter).
2. -d: the parent exits 0, and by then the dnstap socket listens (inputs
   are opened before detaching). The daemon: pidfile holds its pid (not
   the parent's), it leads its own session, stdin/stdout are /dev/null,
   cwd is /; it forwards the dnstap file; with -L 1 the stats file is
   rewritten every second (inode changes twice); SIGUSR1 logs to the
   inherited stderr; SIGTERM: exit status 0 (the test is a child
   subreaper, so it reaps the daemon), pidfile removed.
3. --stats-file without -L: written every 10 s (not before 9.5 s after
   the start; there within 25 s), not logged.
4. -d with relative --pidfile / --stats-file / --dnstap-socket paths,
   started in a temporary directory: the files are where the command line
   said (relative to the directory tapxfr was started in), and the socket
   is removed at exit.
"""
import ctypes
from glob import glob as file_glob
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

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_operations", limit=58)
work = tt.tempdir()

# Reap the daemons of -d (their parent exits): be a child subreaper.
try:
    libc = ctypes.CDLL(None, use_errno=True)
    SUBREAPER = libc.prctl(36, 1, 0, 0, 0) == 0      # PR_SET_CHILD_SUBREAPER
except (OSError, AttributeError):
    SUBREAPER = False


class Daemon:
    """A detached tapxfr known by its pid, in tapxfr_test's cleanup list
    (killed by that pid only, and only while it is still tapxfr)."""

    def __init__(self, pid):
        self.pid, self.rc = pid, None

    def _reap(self, flags):
        if self.rc is not None:
            return True
        if SUBREAPER:
            try:
                pid, status = os.waitpid(self.pid, flags)
            except ChildProcessError:
                self.rc = "?"
                return True
            if pid == self.pid:
                self.rc = os.waitstatus_to_exitcode(status)
                return True
            return False
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                st = f.read().rsplit(")", 1)[1].split()[0]
            if st in ("Z", "X"):
                self.rc = "?"
                return True
            return False
        except OSError:
            self.rc = "?"
            return True

    def poll(self):
        return self.rc if self._reap(os.WNOHANG) else None

    def is_tapxfr(self):
        try:
            with open("/proc/%d/cmdline" % self.pid, "rb") as f:
                return b"tapxfr" in f.read()
        except OSError:
            return False

    def signal(self, sig):
        if self.poll() is None and self.is_tapxfr():
            os.kill(self.pid, sig)

    def kill(self):
        self.signal(signal.SIGKILL)

    def wait(self, timeout=10.0):
        end = time.time() + timeout
        while time.time() < end:
            if self.poll() is not None:
                return self.rc
            time.sleep(0.05)
        return None


def wait_until(cond, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


# ------------------------------------------------------------ the parser

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE_RE = re.compile(r"^(%s)(?:\{(.*)\})? (\S+)$" % NAME)
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
VALUE_RE = re.compile(r"^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


class PromError(Exception):
    pass


def parse_prom(text):
    """Strict parser of the Prometheus text format as tapxfr writes it.
    Returns ({(name, frozenset(labels.items())): value}, {name: type}).
    Raises PromError on anything off."""
    if text is None:
        raise PromError("no file")
    if not text.endswith("\n"):
        raise PromError("no final newline (truncated?)")
    types, helps, samples = {}, set(), {}
    current, closed = None, set()

    def enter(name, lineno):
        nonlocal current
        if name != current:
            if name in closed:
                raise PromError("line %d: lines of %s are not contiguous" % (lineno, name))
            if current is not None:
                closed.add(current)
            current = name

    for lineno, line in enumerate(text[:-1].split("\n"), 1):
        if not line:
            raise PromError("line %d: empty line" % lineno)
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % NAME, line)
            if not m:
                raise PromError("line %d: a comment that is not HELP or TYPE: %r" % (lineno, line))
            kind, name, rest = m.groups()
            enter(name, lineno)
            if kind == "TYPE":
                if name in types:
                    raise PromError("line %d: second TYPE for %s" % (lineno, name))
                if any(k[0] == name for k in samples):
                    raise PromError("line %d: TYPE for %s after its samples" % (lineno, name))
                if rest not in TYPES:
                    raise PromError("line %d: unknown type %r" % (lineno, rest))
                types[name] = rest
            else:
                if name in helps:
                    raise PromError("line %d: second HELP for %s" % (lineno, name))
                if not rest.strip():
                    raise PromError("line %d: empty HELP" % lineno)
                helps.add(name)
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise PromError("line %d: not a sample line: %r" % (lineno, line))
        name, lab, val = m.groups()
        # A histogram's samples are BASE_bucket, BASE_sum and BASE_count
        # of the family BASE.
        family = name
        hm = re.match(r"^(.*)_(bucket|sum|count)$", name)
        if name not in types and hm and types.get(hm.group(1)) == "histogram":
            family = hm.group(1)
        if family not in types:
            raise PromError("line %d: sample %s without a preceding # TYPE" % (lineno, name))
        enter(family, lineno)
        labels = {}
        if lab is not None:
            pos = 0
            while pos < len(lab):
                lm = LABEL_RE.match(lab, pos)
                if not lm:
                    raise PromError("line %d: bad labels %r" % (lineno, lab))
                if lm.group(1) in labels:
                    raise PromError("line %d: label %s twice" % (lineno, lm.group(1)))
                labels[lm.group(1)] = re.sub(r'\\(.)', lambda x: "\n" if x.group(1) == "n" else x.group(1),
                                             lm.group(2))
                pos = lm.end()
                if pos < len(lab):
                    if lab[pos] != ",":
                        raise PromError("line %d: bad labels %r" % (lineno, lab))
                    pos += 1
                    if pos == len(lab):
                        raise PromError("line %d: trailing comma in labels" % lineno)
            if not labels:
                raise PromError("line %d: empty label set {}" % lineno)
        if not VALUE_RE.match(val):
            raise PromError("line %d: bad value %r" % (lineno, val))
        v = float(val)
        if types[family] in ("counter", "histogram") and not v >= 0:
            raise PromError("line %d: negative counter" % lineno)
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise PromError("line %d: duplicate series %s" % (lineno, line))
        samples[key] = int(v) if v == int(v) else v
    return samples, types


def sample(samples, name, **labels):
    return samples.get(("tapxfr_" + name, frozenset(labels.items())))


# ------------------------------------------------------------ stats lines

def stat_lines(text):
    """(global, {collector: dict}, {input: dict}) from the last lines."""
    glob, colls, inputs = None, {}, {}
    for line in (text or "").splitlines():
        m = re.search(r"tapxfr: stats: (.*)$", line)
        if not m:
            continue
        body = m.group(1)
        kv = lambda s: {k: int(v) for k, v in re.findall(r"([\w-]+)=(\d+)", s)}  # noqa: E731
        if body.startswith("received="):
            glob = kv(body)
            continue
        mm = re.match(r"^((?:tcp|udp)://\S+): (queued=.*)$", body)
        if mm:
            colls[mm.group(1)] = kv(mm.group(2))
            continue
        mm = re.match(r"^(dnstap-\S+ .*?): (connections=.*)$", body)
        if mm:
            inputs[mm.group(1)] = kv(mm.group(2))
    return glob, colls, inputs


def check_invariants(what, glob, colls, ex):
    """The per-collector invariants and the global sum."""
    passed = ex.responses - ex.dropped
    for name, c in sorted(colls.items()):
        t.eq(c["queued"] + c["drop_queue_full"], passed,
             "%s: %s: queued + drop_queue_full == responses past the filters" % (what, name))
        t.eq(c["queued"], c["forwarded"] + c["drop_shutdown"] + c["drop_send_error"],
             "%s: %s: queued == forwarded + drop_shutdown + drop_send_error" % (what, name))
    t.eq(glob.get("forwarded"), sum(c["forwarded"] for c in colls.values()),
         "%s: global forwarded == sum over the collectors" % what)


def check_prom(what, text, glob, colls, inputs, ex=None):
    """Parses the file strictly and compares every value with the lines."""
    try:
        s, types = parse_prom(text)
    except PromError as e:
        t.check(False, "%s: the statistics file parses (strict text format)" % what, str(e))
        return None
    t.check(True, "%s: the statistics file parses (strict text format): %d samples, %d families"
            % (what, len(s), len(types)))
    bad = []

    def cmp(name, want, **labels):
        got = sample(s, name, **labels)
        if got != want:
            bad.append("%s%s: file %r, stats line %r" % (name, labels or "", got, want))

    for name, key in (("received_total", "received"), ("malformed_total", "malformed"),
                      ("ignored_total", "ignored"), ("dns_errors_total", "dns_error"),
                      ("queries_total", "queries"), ("responses_total", "responses"),
                      ("csum_offloaded_total", "csum_offloaded"), ("kernel_drops_total", "kernel_drops")):
        cmp(name, glob.get(key))
    for cname, c in colls.items():
        cmp("forwarded_total", c["forwarded"], collector=cname)
        cmp("forwarded_bytes_total", c["forwarded_bytes"], collector=cname)
        for r in ("queue_full", "shutdown", "send_error"):
            cmp("dropped_total", c["drop_" + r], collector=cname, reason=r)
        cmp("connects_total", c["connects"], collector=cname)
        cmp("disconnects_total", c["disconnects"], collector=cname)
        cmp("queued_messages", c["queued"] - c["forwarded"] - c["drop_shutdown"] - c["drop_send_error"],
            collector=cname)
        if sample(s, "collector_up", collector=cname) not in (0, 1):
            bad.append("collector_up{%s}: %r" % (cname, sample(s, "collector_up", collector=cname)))
    for iname, d in inputs.items():
        for name, key in (("connections", "connections"), ("handshake_failures", "handshake_failures"),
                          ("protocol_errors", "protocol_errors"), ("frames", "frames"), ("bytes", "bytes"),
                          ("oversize", "oversize"), ("malformed", "malformed"), ("accepted", "accepted")):
            cmp("dnstap_%s_total" % name, d.get(key), input=iname)
        for typ in ("auth-response", "auth-query", "resolver-query", "resolver-response", "client-query",
                    "client-response"):
            if d.get(typ):
                cmp("dnstap_messages_total", d[typ], input=iname, type=typ)
    if ex is not None:
        for r in ("no_answer", "not_auth", "oversize"):
            got = sample(s, "filtered_total", reason=r)
            if got != ex.drops.get(r, 0):
                bad.append("filtered_total{reason=%s}: file %r, oracle %r" % (r, got, ex.drops.get(r, 0)))
    fsum = sum(v for (n, _l), v in s.items() if n == "tapxfr_forwarded_total")
    if fsum != glob.get("forwarded"):
        bad.append("sum of forwarded_total %r, global forwarded %r" % (fsum, glob.get("forwarded")))
    want_types = {"tapxfr_received_total": "counter", "tapxfr_forwarded_total": "counter",
                  "tapxfr_dropped_total": "counter", "tapxfr_queued_messages": "gauge",
                  "tapxfr_collector_up": "gauge"}
    for n, ty in want_types.items():
        if types.get(n) != ty:
            bad.append("# TYPE %s: %r (want %s)" % (n, types.get(n), ty))
    t.check(not bad, "%s: every value in the file equals the stats lines (%d collectors, %d inputs)"
            % (what, len(colls), len(inputs)), "\n".join(bad))
    return s


def check_names(what, text, glob, colls, inputs):
    """The stats lines and the file list the same counters: every series
    of the file names, in its HELP text "(stats line: KEY)", the key of
    its scope's line (global, the collector's, the input's) that holds the
    same value, and every key of every line is such a series, except the
    global sums: a collector key summed over the collectors, dropped (the
    sum of the global drop_*) and pending (the sum of queued_messages)."""
    try:
        s, _types = parse_prom(text)
    except PromError as e:
        t.check(False, "%s: the statistics file parses" % what, str(e))
        return
    helps = dict(re.findall(r"^# HELP (\S+) .*\(stats line: ([^)]+)\)$", text, re.M))
    lines = {("global", ""): glob}
    lines.update({("collector", n): d for n, d in colls.items()})
    lines.update({("input", n): d for n, d in inputs.items()})
    seen, bad = set(), []
    for (name, labels), v in sorted(s.items()):
        lab = dict(labels)
        hm = re.match(r"^(.*)_(bucket|sum|count)$", name)
        if name not in helps and hm and _types.get(hm.group(1)) == "histogram":
            # The line has BASE_count and BASE_sum_us; the buckets are the
            # file's alone (cumulative, +Inf == the count).
            base = helps.get(hm.group(1), "").split(",")[0].strip()[:-len("_count")]
            line = glob
            if hm.group(2) == "count":
                key, want = base + "_count", v
            elif hm.group(2) == "sum":
                key, want = base + "_sum_us", int(round(v * 1e6))
            else:
                if lab.get("le") == "+Inf" and v != glob.get(base + "_count"):
                    bad.append("%s{le=+Inf} %r, %s_count %r" % (name, v, base, glob.get(base + "_count")))
                continue
            if abs(line.get(key, -10) - want) > 1:
                bad.append("%s: %r in the file, %s=%r in the line" % (name, v, key, line.get(key)))
            else:
                seen.add((("global", ""), key))
            continue
        key = helps.get(name)
        if key is None:
            bad.append("%s: no '(stats line: KEY)' in its HELP" % name)
            continue
        m = re.search(r"<(\w+)>", key)
        if m:
            key = key.replace(m.group(0), lab.pop(m.group(1), "?"))
        scope = ("global", "")
        for sl in ("collector", "input"):
            if sl in lab:
                scope = (sl, lab.pop(sl))
        line = lines.get(scope)
        if lab:
            bad.append("%s%s: labels %s unexplained" % (name, dict(labels), sorted(lab)))
        elif line is None or key not in line:
            bad.append("%s%s: no key %s in the %s stats line" % (name, dict(labels), key, scope))
        elif line[key] != v:
            bad.append("%s%s: %r in the file, %s=%r in the line" % (name, dict(labels), v, key, line[key]))
        else:
            seen.add((scope, key))
    for scope, line in sorted(lines.items()):
        for key, v in sorted(line.items()):
            if (scope, key) in seen:
                continue
            if scope[0] != "global":
                bad.append("%s %s: %s=%r has no series in the file" % (scope[0], scope[1], key, v))
            elif key == "dropped":
                want = sum(x for k, x in glob.items() if k.startswith("drop_"))
                if v != want:
                    bad.append("global dropped=%r, sum of drop_* %r" % (v, want))
            elif key == "pending":
                want = sum(d.get("queued_messages", 0) for d in colls.values())
                if v != want:
                    bad.append("global pending=%r, sum of queued_messages %r" % (v, want))
            elif all(key in d for d in colls.values()) and colls:
                if v != sum(d[key] for d in colls.values()):
                    bad.append("global %s=%r is not the sum over the collectors" % (key, v))
            else:
                bad.append("global %s=%r has no series in the file and is no collector sum" % (key, v))
    t.check(not bad, "%s: the stats lines and the file list the same counters (%d series, %d keys)"
            % (what, len(s), sum(len(x) for x in lines.values())), "\n".join(bad))


# ------------------------------------------------------------ data

dtfile = os.path.join(work, "dt.fstrm")
r = subprocess.run([sys.executable, "-B", tt.tool_path("gen_dnstap.py"), "--count", "3000",
                    "--seed", "17", "--pool", "2000", "--out", dtfile],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
if not t.check(r.returncode == 0, "gen_dnstap.py ran", r.stdout.decode(errors="replace")):
    t.done()
_ct, frames = ds.read_fstrm_file(dtfile)
ex = ds.expected_from_frames(frames, drop_empty=True)
want = ex.messages
t.info("oracle (-D): %s" % ex.summary())


def blast(sock):
    r = subprocess.run([sys.executable, "-B", tt.tool_path("fstrm_blast.py"), sock, dtfile],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return t.check(r.returncode == 0, "the dnstap file was sent (fstrm_blast.py)",
                   r.stdout.decode(errors="replace"))


# ------------------------------------------------------------ 3. started first

udp3 = tt.UDPCollector()
prom3 = os.path.join(work, "default.prom")
sock3 = os.path.join(work, "dt3.sock")
run3 = tt.Run(["--stats-file", prom3, "--dnstap-socket", sock3,
               "--collector", "udp://127.0.0.1:%d" % udp3.port], workdir=work)
t0_3 = run3.t0
seen3 = {}


def watch3():
    while "t" not in seen3 and not seen3.get("stop"):
        if os.path.exists(prom3):
            seen3["t"] = time.time() - t0_3
        time.sleep(0.05)


th3 = threading.Thread(target=watch3, daemon=True)
th3.start()
t.check(wait_until(lambda: ds.unix_socket_state(sock3)[0] or not run3.running(), 10) and run3.running(),
        "default interval: tapxfr --stats-file (no -L) is running")
early = time.time() - t0_3
if early < 9.5:
    t.check(not os.path.exists(prom3), "default interval: no statistics file %.1f s after the start" % early)

# ------------------------------------------------------------ 1. foreground

t.info("--- 1. foreground: --pidfile, SIGUSR1, --stats-file -L 3600, SIGHUP")
tcp = tt.TCPCollector()
udp = tt.UDPCollector()
pidf = os.path.join(work, "tapxfr.pid")
sdir = os.path.join(work, "metrics")
os.mkdir(sdir)
prom = os.path.join(sdir, "tapxfr.prom")
sock = os.path.join(work, "dt1.sock")
name_t, name_u = "tcp://127.0.0.1:%d" % tcp.port, "udp://127.0.0.1:%d" % udp.port
run = tt.Run(["-D", "--pidfile", pidf, "--stats-file", prom, "-L", "3600", "--dnstap-socket", sock,
              "--collector", name_t, "--collector", name_u], workdir=work)
ok = wait_until(lambda: not run.running() or (ds.unix_socket_state(sock)[0] and tcp.connections >= 1
                                              and read(pidf)), 15) and run.running()
if not t.check(ok, "tapxfr runs, listens, is connected and wrote its pidfile", run.stderr[-1500:]):
    t.done()
pidtext = read(pidf)
t.eq(pidtext, "%d\n" % run.proc.pid, "the pidfile holds tapxfr's pid and a newline")
t.check(not os.path.exists(prom), "no statistics file before the first interval (-L 3600) or SIGHUP")

blast(sock)
t.check(wait_until(lambda: len(tcp.messages) >= len(want), 15),
        "the TCP collector received %d messages (want %d)" % (len(tcp.messages), len(want)))


def usr1(r, timeout=10.0):
    """SIGUSR1; waits for a new global line and a new line of the last
    collector (logged after it); returns (ok, stat_lines())."""
    pat_g, pat_c = "tapxfr: stats: received=", "tapxfr: stats: %s: " % name_u
    text = r.stderr
    bg, bc = text.count(pat_g), text.count(pat_c)
    r.proc.send_signal(signal.SIGUSR1)
    got = wait_until(lambda: r.stderr.count(pat_g) > bg and r.stderr.count(pat_c) > bc, timeout)
    return got, stat_lines(r.stderr)


def settled():
    got, (g, c, i) = usr1(run)
    return got and g and g.get("pending") == 0 and len(c) == 2


t.check(wait_until(settled, 15, step=0.2), "SIGUSR1 logs the statistics; nothing pending any more")
got, (g1, c1, i1) = usr1(run)
t.check(got and g1 is not None and set(c1) == {name_t, name_u},
        "SIGUSR1: a global line and one line per collector (%s)" % ", ".join(sorted(c1)))
if g1 and set(c1) == {name_t, name_u}:
    t.eq((g1.get("received"), g1.get("responses")), (len(frames), ex.responses),
         "SIGUSR1: received, responses")
    t.eq((c1[name_t]["forwarded"], c1[name_u]["forwarded"]), (len(want), len(want)),
         "SIGUSR1: forwarded per collector")
    check_invariants("SIGUSR1", g1, c1, ex)
t.check(not os.path.exists(prom), "no statistics file before SIGHUP (-L 3600)")

# SIGHUP writes the file now
nhup = run.stderr.count("SIGHUP: statistics file rewritten")
run.proc.send_signal(signal.SIGHUP)
t.check(wait_until(lambda: run.stderr.count("SIGHUP: statistics file rewritten") > nhup, 10),
        "SIGHUP: 'SIGHUP: statistics file rewritten' logged")
t.check(os.path.exists(prom), "SIGHUP: the statistics file exists")
if g1:
    check_prom("SIGHUP", read(prom), g1, c1, i1, ex)

# atomic rewrites under a reader
reads = {"n": 0, "bad": [], "inodes": set()}
stop_reader = threading.Event()


def reader():
    while not stop_reader.is_set():
        try:
            ino = os.stat(prom).st_ino
            with open(prom, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError as e:
            reads["bad"].append("read: %s" % e)
            continue
        reads["n"] += 1
        reads["inodes"].add(ino)
        try:
            parse_prom(text)
        except PromError as e:
            reads["bad"].append(str(e))


th = threading.Thread(target=reader, daemon=True)
th.start()
base = run.stderr.count("SIGHUP: statistics file rewritten")
for i in range(40):
    run.proc.send_signal(signal.SIGHUP)
    if not wait_until(lambda: run.stderr.count("SIGHUP: statistics file rewritten") > base + i, 10, step=0.01):
        break
stop_reader.set()
th.join(5)
n_hup = run.stderr.count("SIGHUP: statistics file rewritten") - base
t.eq(n_hup, 40, "40 more SIGHUPs, 40 more 'rewritten' lines")
t.check(reads["n"] > 0 and not reads["bad"],
        "every one of %d reads during the rewrites was a complete, valid file" % reads["n"],
        "\n".join(reads["bad"][:5]))
t.check(len(reads["inodes"]) >= 2, "the file is replaced, not rewritten in place (%d inodes seen)"
        % len(reads["inodes"]))
left = sorted(set(os.listdir(sdir)) - {"tapxfr.prom"})
t.check(not left, "no temporary file left next to the statistics file", "left: %s" % left)

# SIGTERM
rc = run.terminate(15)
t.eq(rc, 0, "SIGTERM: exit status")
g, c, i = stat_lines(run.stderr)
if t.check(g is not None and set(c) == {name_t, name_u} and len(i) == 1,
           "exit: global, per-collector and dnstap-socket stats lines", run.stderr[-1500:]):
    check_invariants("exit", g, c, ex)
    t.eq(c[name_t]["forwarded"], len(want), "exit: TCP collector forwarded == expected")
    t.eq(i.get("dnstap-socket " + sock, {}).get("frames"), len(frames), "exit: dnstap input frames")
    check_prom("exit", read(prom), g, c, i, ex)
    check_names("exit", read(prom), g, c, i)
t.check(not os.path.exists(pidf), "the pidfile is removed at exit")
tcp.wait_closed(5)
t.check(tcp.messages == want, "TCP collector: exactly the expected messages, in order",
        tt.first_order_diff(tcp.messages, want))
udp.wait(count=len(want), idle=0.5, timeout=5)
tt.check_udp_received(t, "UDP collector", udp.messages, want, udp.drops())
tcp.kill()
udp.close()

# ------------------------------------------------------------ 2. -d

t.info("--- 2. -d: detach (subreaper: %s)" % SUBREAPER)
tcp = tt.TCPCollector()
pidf2 = os.path.join(work, "d.pid")
prom2 = os.path.join(work, "d.prom")
sock2 = os.path.join(work, "dt2.sock")
name2 = "tcp://127.0.0.1:%d" % tcp.port
parent = tt.Run(["-d", "-D", "--pidfile", pidf2, "--stats-file", prom2, "-L", "1", "--dnstap-socket", sock2,
                 "--collector", name2], workdir=work)
prc = parent.wait(15)
listening = ds.unix_socket_state(sock2)[0]
t.eq(prc, 0, "-d: the parent exits 0")
t.check(listening, "-d: the dnstap socket listens when the parent has exited (inputs opened first)")
pid_at_exit = read(pidf2)
if not pid_at_exit:
    t.info("NOTE: -d: the pidfile did not exist yet when the parent exited (written by the child after "
           "the fork: a race for init scripts that read it then)")
t.check(wait_until(lambda: bool(read(pidf2)), 10), "-d: the pidfile appears")
try:
    dpid = int((read(pidf2) or "").strip())
except ValueError:
    dpid = None
if t.check(dpid is not None and dpid != parent.proc.pid, "-d: the pidfile holds the daemon's pid (%r, parent %d)"
           % (dpid, parent.proc.pid)):
    d = Daemon(dpid)
    tt._procs.append(d)
    t.check(d.is_tapxfr(), "-d: pid %d is a running tapxfr" % dpid)
    try:
        with open("/proc/%d/stat" % dpid) as f:
            sid = int(f.read().rsplit(")", 1)[1].split()[3])
    except (OSError, ValueError, IndexError):
        sid = None
    t.eq(sid, dpid, "-d: the daemon leads its own session (setsid)")
    fds = []
    for fd in (0, 1):
        try:
            fds.append(os.readlink("/proc/%d/fd/%d" % (dpid, fd)))
        except OSError:
            fds.append(None)
    t.eq(fds, ["/dev/null", "/dev/null"], "-d: stdin and stdout are /dev/null")
    try:
        cwd = os.readlink("/proc/%d/cwd" % dpid)
    except OSError:
        cwd = None
    t.eq(cwd, "/", "-d: the daemon's working directory")
    t.check(wait_until(lambda: tcp.connections >= 1, 10), "-d: the daemon connected to the collector")
    blast(sock2)
    t.check(wait_until(lambda: len(tcp.messages) >= len(want), 15),
            "-d: the collector received %d messages (want %d)" % (len(tcp.messages), len(want)))
    inodes = set()

    def rewritten_twice():
        try:
            inodes.add(os.stat(prom2).st_ino)
        except OSError:
            pass
        return len(inodes) >= 3

    t.check(wait_until(rewritten_twice, 10, step=0.1),
            "-d, -L 1: the statistics file is written every second (%d versions seen)" % len(inodes))
    try:
        parse_prom(read(prom2))
        t.check(True, "-d: the periodic statistics file parses")
    except PromError as e:
        t.check(False, "-d: the periodic statistics file parses", str(e))
    before = parent.stderr.count("tapxfr: stats: received=")
    d.signal(signal.SIGUSR1)
    t.check(wait_until(lambda: parent.stderr.count("tapxfr: stats: received=") > before, 10),
            "-d: SIGUSR1 logs the statistics (to the stderr it inherited)")
    d.signal(signal.SIGTERM)
    drc = d.wait(15)
    if SUBREAPER:
        t.eq(drc, 0, "-d: the daemon exits 0 on SIGTERM")
    else:
        t.check(drc is not None, "-d: the daemon exits on SIGTERM")
    g, c, i = stat_lines(parent.stderr)
    t.check(g is not None and g.get("forwarded") == len(want), "-d: exit stats: forwarded == %d (%r)"
            % (len(want), g and g.get("forwarded")))
    t.check(not os.path.exists(pidf2), "-d: the pidfile is removed at exit")
    t.check(tcp.messages == want, "-d: exactly the expected messages, in order",
            tt.first_order_diff(tcp.messages, want))
tcp.kill()

# ------------------------------------------------------------ 4. relative paths

t.info("--- 4. -d with relative paths")
rdir = os.path.join(work, "rel")
os.mkdir(rdir)
tag = "tapxfr-test-%d" % os.getpid()
rel = {"pid": tag + ".pid", "prom": tag + ".prom", "sock": tag + ".sock"}
udp4 = tt.UDPCollector()
old = os.getcwd()
os.chdir(rdir)
try:
    parent = tt.Run(["-d", "--pidfile", rel["pid"], "--stats-file", rel["prom"], "-L", "1",
                     "--dnstap-socket", rel["sock"], "--collector", "udp://127.0.0.1:%d" % udp4.port],
                    workdir=work)
finally:
    os.chdir(old)
t.eq(parent.wait(15), 0, "relative paths, -d: the parent exits 0")
where = {}


def found():
    for k, v in rel.items():
        for base in (rdir, "/"):
            if os.path.exists(os.path.join(base, v)):
                where[k] = base
    return "pid" in where and "prom" in where


wait_until(found, 10)
t.eq(where.get("pid"), rdir, "relative --pidfile is written in the directory tapxfr was started in")
t.eq(where.get("prom"), rdir, "relative --stats-file is written in the directory tapxfr was started in")
dpid = None
for base in (rdir, "/"):
    try:
        dpid = int((read(os.path.join(base, rel["pid"])) or "").strip())
        break
    except ValueError:
        pass
if dpid:
    d = Daemon(dpid)
    tt._procs.append(d)
    d.signal(signal.SIGTERM)
    t.check(d.wait(15) is not None, "relative paths: the daemon exits on SIGTERM")
t.check(not os.path.exists(os.path.join(rdir, rel["sock"])),
        "relative --dnstap-socket: the socket is removed at exit")
for v in file_glob(os.path.join("/", tag + ".*")):   # whatever landed in / is ours
    try:
        os.unlink(v)
    except OSError:
        pass
udp4.close()

# ------------------------------------------------------------ 3. default interval

t.info("--- 3. --stats-file without -L: every 10 s")
t.check(wait_until(lambda: "t" in seen3, max(1.0, t0_3 + 25 - time.time())),
        "the statistics file appears within 25 s of the start")
seen3["stop"] = True
th3.join(2)
if "t" in seen3:
    t.check(seen3["t"] >= 9.5, "... not before the 10 s interval (first seen %.1f s after the start)"
            % seen3["t"])
    try:
        parse_prom(read(prom3))
        t.check(True, "default interval: the file parses")
    except PromError as e:
        t.check(False, "default interval: the file parses", str(e))
t.check(run3.running(), "tapxfr (default interval) still running")
rc = run3.terminate(15)
t.eq(rc, 0, "default interval: exit 0 on SIGTERM")
t.eq(len(re.findall(r"tapxfr: stats: received=", run3.stderr)), 1,
     "default interval: the periodic write is not logged (only the exit line)")
udp3.close()
t.done()
