#!/usr/bin/env python3
"""bench.py - the tapxfr benchmark (`make bench`; run through run.sh, which
compiles the helper programs). Python 3 standard library only.

Scenarios (each timed --runs times, tapxfr and its anchors alternating;
medians are reported):
  pcap-udp     pcap file -> UDP collector; anchors: libpcap read limit
               (pcapcount, same BPF filter), tcpdump -r -w /dev/null (same
               filter), raw sendmmsg limit (rawsend: the datagrams tapxfr
               sent, same sizes, batches of 256 as tapxfr's sender), and the 2004
               dnslogger-forward's reference rate; tapxfr --match count (target
               1.15x of the same without matching); tapxfr --no-reassembly
               too (against the same sendmmsg anchor, and as an anchor of
               tapxfr's default: the cost of reassembly on plain traffic).
  pcap-mix     pcap file with a realistic mix (gen_wire.py: about 5% of the
               responses over TCP, 2% in IP fragments, the rest plain UDP)
               -> UDP collector; anchor: raw sendmmsg limit (as pcap-udp).
  dnstap-sock  dnstap over a Unix socket fed by fstrm_blast.py -> UDP
               collector; anchors: fstrm_capture -w /dev/null (framing only)
               and golang `dnstap -u SOCK -q` (decoding). Timed from the
               first byte sent to the last message counted by the collector
               (the anchors: to the FINISH frame, i.e. all read).
  dnstap-file  --dnstap-file -> UDP collector; anchor: raw sendmmsg limit.
  pcap-tcp     pcap file -> TCP collector (-t); anchor: raw TCP send limit.
  memory       peak RSS at --count and --big-count inputs, and with a TCP
               collector that sends the banner and never reads (stall).
  callgrind    instructions per forwarded record on --cg-count inputs (pcap,
               the pcap mix, dnstap file).

Every tapxfr run is checked: exit status 0, its final stats line found,
forwarded == responses, pending == 0, the collector counted exactly
`forwarded` well-formed messages (and forwarded_bytes), the kernel dropped
nothing at the collector, and `responses` agrees with the generator's own
counts. Any failure makes the benchmark exit 1. Unmet speed/memory targets
are reported (met / NOT met); with --strict they fail the run too.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# tapxfr's default capture filter on Ethernet (PCAPIN_FILTER_ETHER_REASM in
# src/input/pcapin.h): DNS over UDP and TCP/53 and the fragments that carry
# no port, bare or inside one or two VLAN tags. The libpcap and tcpdump
# anchors use it, so that they read what tapxfr reads.
_REASM = "(udp port 53 or tcp port 53 or (ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44))"
DEFAULT_BPF = "%s or (vlan and %s) or (vlan and %s)" % (_REASM, _REASM, _REASM)
# With --no-reassembly tapxfr uses the old filter (PCAPIN_FILTER_ETHER):
# UDP port 53 only.
NO_REASM_BPF = "udp port 53 or (vlan and udp port 53) or (vlan and udp port 53)"
CT_DNSTAP = "protobuf:dnstap.Dnstap"
MIB = 1024 * 1024

# Reference figures (shared tools README; 2 cores, idle, medians of 5, for
# 1M packets or frames). Scaled linearly when --count is not 1M.
REF = {
    "pcapcount": 0.16,
    "tcpdump": 0.25,
    "sendmmsg_per_dgram": 2.0 / 1e6,     # 150 B datagrams, sendmmsg of 64
    "fstrm_capture": 0.82,
    "golang_dnstap_q": 7.65,
}
# The 2004 dnslogger-forward (offline shim) on the 1M gen_pcap file:
# about 0.31 M messages forwarded (512 B limit) in 1.75 s.
DNSLOGGER_FORWARDED = 0.31e6
DNSLOGGER_SECONDS = 1.75

# Datagrams per sendmmsg(), as tapxfr's sender (SENDER_BATCH in
# src/output/sender.h): the raw send limit is measured the same way.
UDP_BATCH = 256

# The realistic mix (pcap-mix): gen_wire.py with --repeat R --plain P. One
# repeat of its cases makes about 227 frames and 44.5 expected responses
# (31.5 over TCP, 13 reassembled from fragments); one plain exchange about
# 1.96 frames and 0.97 responses. P = 603.4 R gives 5% of the responses over
# TCP and 2% from fragments; R = count / 1412 gives about `count` frames.
WIRE_FRAMES_PER_REPEAT = 1412
WIRE_PLAIN_PER_REPEAT = 603.4
WIRE_MTU = 1280


def wire_params(count):
    r = max(1, round(count / WIRE_FRAMES_PER_REPEAT))
    return r, round(r * WIRE_PLAIN_PER_REPEAT)


ALL_SCENARIOS = ["pcap-udp", "pcap-mix", "dnstap-sock", "dnstap-file", "pcap-tcp", "memory", "callgrind"]


def log(msg=""):
    print(msg, flush=True)


class BenchError(Exception):
    pass


LIVE = []   # every process started, so that none outlives the harness


def popen(argv, **kw):
    p = subprocess.Popen(argv, **kw)
    LIVE.append(p)
    return p


def kill_leftovers():
    for p in LIVE:
        if p.returncode is None and p.poll() is None:
            p.kill()
            p.wait()


# ------------------------------------------------------------------ processes

def reap(p, timeout):
    """Waits for Popen p (blocking wait4, so the exit time is exact); kills
    it after timeout seconds. Returns (t_exit, exit code, info): info has
    "cpu" (user + system seconds) and "rss_kb" (peak RSS), both from the
    rssrun wrapper when p was started through Harness.spawn(measure=True),
    else cpu from wait4 and no rss (a child of Python starts with the
    interpreter's peak RSS: Linux keeps it across exec)."""
    killed = []

    def kill():
        killed.append(1)
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    t = threading.Timer(timeout, kill)
    t.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        t.cancel()
    t_exit = time.time()
    rc = os.waitstatus_to_exitcode(status)
    p.returncode = rc
    if killed:
        raise BenchError("%s: killed after %d s (timeout)" % (" ".join(p.args)[:200], timeout))
    info = {"cpu": ru.ru_utime + ru.ru_stime, "rss_kb": None}
    rf = getattr(p, "rssfile", None)
    if rf:
        try:
            with open(rf) as f:
                kv = parse_kv(f.read())
            os.unlink(rf)
            info = {"cpu": kv["utime"] + kv["stime"], "rss_kb": kv["maxrss_kb"]}
        except (OSError, KeyError) as e:
            raise BenchError("no rssrun result for %s: %s" % (p.args[2:3], e))
    return t_exit, rc, info


def parse_kv(text):
    return {k: (float(v) if "." in v else int(v)) for k, v in re.findall(r"(\w+)=([0-9.]+)", text)}


def parse_stats(text):
    """tapxfr's final stats line (the last one starting with received=)."""
    lines = re.findall(r"^tapxfr: stats: (received=.*)$", text, re.M)
    if not lines:
        return None
    return parse_kv(lines[-1])


def wait_unix_listen(path, timeout=10.0):
    """Until a Unix socket bound to path is listening (/proc/net/unix flag
    __SO_ACCEPTCON), so that no probe connection disturbs the listener."""
    end = time.time() + timeout
    while time.time() < end:
        with open("/proc/net/unix") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 8 and parts[7] == path and parts[3] == "00010000":
                    return
        time.sleep(0.005)
    raise BenchError("nothing listening on %s after %g s" % (path, timeout))


def mib(kb):
    return kb / 1024.0


# ------------------------------------------------------------------ harness

class Harness:
    def __init__(self, a):
        self.a = a
        self.build = os.path.abspath(a.build)
        self.tools = os.path.abspath(a.tools)
        self.bindir = os.path.abspath(a.bin)
        self.tapxfr = os.path.join(self.build, "src", "tapxfr")
        self.cache = os.path.abspath(a.cache)
        self.out = os.path.abspath(a.out)
        os.makedirs(self.cache, exist_ok=True)
        os.makedirs(self.out, exist_ok=True)
        self.logdir = os.path.join(self.out, "logs")
        shutil.rmtree(self.logdir, ignore_errors=True)
        os.makedirs(self.logdir)
        self.tmp = tempfile.mkdtemp(prefix="tapxfr-bench-")
        self.failures = []
        self.rows = []          # the speed table
        self.mem_rows = []
        self.cg_rows = []
        self.summary = {"scenarios": {}, "targets": [], "memory": {}, "callgrind": {}}
        self.nlog = 0
        self.data = {}
        self.rss_1m = {}        # path -> list of maxrss KB at --count
        self.scale = a.count / 1e6

    def bin(self, name):
        return os.path.join(self.bindir, name)

    def spawn(self, argv, measure=True, **kw):
        """Popen, through rssrun when measure (peak RSS and CPU of the
        command itself; signals are forwarded)."""
        rf = None
        if measure:
            self.nspawn = getattr(self, "nspawn", 0) + 1
            rf = os.path.join(self.tmp, "rss.%d" % self.nspawn)
            argv = [self.bin("rssrun"), rf] + list(argv)
        p = popen(argv, stdin=subprocess.DEVNULL, **kw)
        p.rssfile = rf
        return p

    def logfile(self, label):
        self.nlog += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
        return os.path.join(self.logdir, "%03d-%s.log" % (self.nlog, safe))

    def fail(self, label, msg):
        line = "%s: %s" % (label, msg)
        self.failures.append(line)
        log("  FAIL " + line)

    # -------------------------------------------------------------- data
    def gen_hash(self, script):
        h = hashlib.sha256()
        for name in (script, "dnsgen.py"):
            with open(os.path.join(self.tools, name), "rb") as f:
                h.update(f.read())
        return h.hexdigest()[:10]

    def data_path(self, kind, count):
        script = {"pcap": "gen_pcap.py", "dnstap": "gen_dnstap.py", "wire": "gen_wire.py"}[kind]
        ext = "fstrm" if kind == "dnstap" else "pcap"
        base = "%s-%d-s%d-%s" % (kind, count, self.a.seed, self.gen_hash(script))
        if kind == "wire":
            r, pl = wire_params(count)
            base = "%s-%d-r%d-p%d-m%d-s%d-%s" % (kind, count, r, pl, WIRE_MTU, self.a.seed,
                                                self.gen_hash(script))
        return script, os.path.join(self.cache, base + "." + ext), os.path.join(self.cache, base + ".json")

    def gen_argv(self, script, kind, count, path, stats):
        if kind != "wire":
            return [sys.executable, os.path.join(self.tools, script), "--count", str(count),
                    "--seed", str(self.a.seed), "--out", path + ".tmp", "--stats", stats + ".tmp"]
        r, pl = wire_params(count)
        return [sys.executable, os.path.join(self.tools, script), "--repeat", str(r), "--plain", str(pl),
                "--mtu", str(WIRE_MTU), "--seed", str(self.a.seed), "--out", path + ".tmp",
                "--expected", wire_oracle(stats) + ".tmp"]

    def generate(self, needs):
        """needs: list of (kind, count). Generates what is not cached, two
        at a time (2 cores), into a temporary name renamed when complete."""
        todo = []
        for kind, count in needs:
            script, path, stats = self.data_path(kind, count)
            self.data[(kind, count)] = (path, stats)
            if not (os.path.exists(path) and os.path.exists(stats)):
                todo.append((script, path, stats, kind, count))
        running = []
        t0 = time.time()
        while todo or running:
            while todo and len(running) < 2:
                script, path, stats, kind, count = todo.pop(0)
                log("  generating %s %d (seed %d) -> %s" % (kind, count, self.a.seed, path))
                argv = self.gen_argv(script, kind, count, path, stats)
                p = popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                running.append((p, path, stats, kind, time.time()))
            p, path, stats, kind, t1 = running.pop(0)
            _, err = p.communicate()
            if p.returncode != 0:
                raise BenchError("generator failed for %s: %s" % (path, err.decode(errors="replace")))
            if kind == "wire":
                # The oracle (every response, in hex) is large: its counts
                # go to the small stats file the benchmark reads.
                ora = wire_oracle(stats)
                os.rename(ora + ".tmp", ora)
                with open(ora) as f:
                    ex = json.load(f)
                with open(stats + ".tmp", "w") as f:
                    json.dump(wire_summary(ex, time.time() - t1), f, indent=1)
                    f.write("\n")
                del ex
            os.rename(stats + ".tmp", stats)
            os.rename(path + ".tmp", path)
        if time.time() - t0 > 1:
            log("  generation took %.0f s" % (time.time() - t0))
        for key, (path, stats) in self.data.items():
            with open(stats) as f:
                self.data[key] = (path, json.load(f))

    def expect(self, kind, count, reassembly=True):
        """(low, high) bounds on tapxfr's `responses` from the generator's
        own counts. dnstap: AUTH_RESPONSE + RESOLVER_RESPONSE exactly (the
        default --dnstap-types). pcap: every valid UDP response and, with
        reassembly (tapxfr's default), every DNS over TCP response (each a
        whole message in one segment), plus at most the deliberately broken
        packets that still look like one. wire (gen_wire.py): exactly the
        responses its oracle expects (with reassembly)."""
        gs = self.data[(kind, count)][1]
        if kind == "dnstap":
            n = gs.get("AUTH_RESPONSE", 0) + gs.get("RESOLVER_RESPONSE", 0) + gs.get("FORWARDER_RESPONSE", 0)
            return n, n
        if kind == "wire":
            n = gs["counts"]["expected"] if reassembly else gs["counts"]["expected_plain"]
            return n, n
        lo = gs["dns_udp_responses"] + (gs.get("tcp_dns_response", 0) if reassembly else 0)
        return lo, lo + sum(v for k, v in gs.items() if k.startswith("malformed_"))

    def records(self, kind, count):
        """Input records (packets, frames) of a generated input."""
        gs = self.data[(kind, count)][1]
        if kind == "wire":
            return gs["counts"]["frames"]
        return gs.get("packets", count)

    # -------------------------------------------------------------- collector
    def collector(self, mode, stall=False, sizes=None):
        return Collector(self, mode, stall, sizes)

    # -------------------------------------------------------------- checks
    def check(self, label, rc, stats, col, expect, errtext):
        probs = []
        if rc != 0:
            probs.append("tapxfr exited with %d" % rc)
        if stats is None:
            probs.append("no final stats line from tapxfr")
            self.report(label, probs, errtext)
            return
        fwd, resp = stats.get("forwarded", -1), stats.get("responses", -1)
        if fwd != resp:
            probs.append("LOSS: tapxfr forwarded %d of %d eligible responses (dropped=%d: %s)" % (
                fwd, resp, stats.get("dropped", -1),
                " ".join("%s=%d" % (k, v) for k, v in stats.items() if k.startswith("drop_") and v)))
        if stats.get("pending", 0) != 0:
            probs.append("tapxfr exited with pending=%d" % stats["pending"])
        if col is not None:
            if col["kdrops"]:
                probs.append("the collector's socket dropped %d datagrams (receive buffer overflow: "
                             "this run proves nothing; raise --rcvbuf)" % col["kdrops"])
            if col["count"] != fwd:
                why = ""
                if col["kdrops"] and col["count"] + col["kdrops"] >= fwd:
                    why = " (the collector's own socket dropped them)"
                probs.append("%s: the collector counted %d messages, tapxfr says forwarded=%d%s" % (
                    "MISMATCH" if why else "LOSS", col["count"], fwd, why))
            elif col["bytes"] != stats.get("forwarded_bytes", col["bytes"]):
                probs.append("the collector counted %d bytes, tapxfr says forwarded_bytes=%d" % (
                    col["bytes"], stats["forwarded_bytes"]))
            if col["bad"]:
                probs.append("the collector got %d malformed DNSXFR01 messages" % col["bad"])
        if expect is not None:
            lo, hi = expect
            if not lo <= resp <= hi:
                probs.append("LOSS: tapxfr saw responses=%d, the generator made %s eligible" % (
                    resp, str(lo) if lo == hi else "%d..%d" % (lo, hi)))
        self.report(label, probs, errtext)

    def report(self, label, probs, errtext):
        for p in probs:
            self.fail(label, p)
        if probs and errtext:
            tail = [l for l in errtext.splitlines() if "warning: running as root" not in l][-5:]
            for l in tail:
                log("       | " + l)

    # -------------------------------------------------------------- single runs
    def run_simple(self, label, argv, timeout=None):
        """A process timed from spawn to exit (pcapcount, tcpdump)."""
        lf = self.logfile(label)
        with open(lf, "w+") as f:
            t0 = time.time()
            p = self.spawn(argv, stdout=f, stderr=subprocess.STDOUT)
            t_exit, rc, ru = reap(p, timeout or self.a.timeout)
            f.seek(0)
            text = f.read()
        if rc != 0:
            self.fail(label, "%s exited with %d: %s" % (argv[0], rc, text.strip()[-300:]))
        return {"wall": t_exit - t0, "cpu": ru["cpu"], "out": text}

    def run_tapxfr_file(self, label, inargs, mode, expect, sizes=None, extra=(), timeout=None,
                        wrapper=()):
        """tapxfr with file inputs, exiting by itself; timed from spawn to
        max(exit, last message counted by the collector)."""
        col = self.collector(mode, sizes=sizes)
        argv = list(wrapper) + [self.tapxfr] + (["-t"] if mode == "t" else []) + list(extra) + \
            list(inargs) + ["127.0.0.1", str(col.port)]
        lf = self.logfile(label)
        try:
            with open(lf, "w+") as f:
                t0 = time.time()
                p = self.spawn(argv, measure=not wrapper, stdout=subprocess.DEVNULL, stderr=f)
                t_exit, rc, ru = reap(p, timeout or self.a.timeout)
                f.seek(0)
                err = f.read()
        finally:
            c = col.finish()
        stats = parse_stats(err)
        self.check(label, rc, stats, c, expect, err)
        end = max(t_exit, c["last"])
        return {"wall": end - t0, "cpu": ru["cpu"], "rss_kb": ru["rss_kb"],
                "forwarded": (stats or {}).get("forwarded"), "responses": (stats or {}).get("responses"),
                "received": (stats or {}).get("received"), "collector": c["count"], "log": lf}

    def blast(self, label, sock, fname, timeout=None):
        argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "blast_timed.py"),
                os.path.join(self.tools, "fstrm_blast.py"), sock, fname]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout or self.a.timeout)
        if p.returncode != 0:
            raise BenchError("%s: fstrm_blast.py failed: %s" % (label, p.stderr.strip()[-300:]))
        return json.loads(p.stdout.strip().splitlines()[-1])

    def run_tapxfr_sock(self, label, fname, expect):
        """tapxfr --dnstap-socket fed by fstrm_blast.py; timed from the first
        byte sent to the last message counted by the collector."""
        col = self.collector("u")
        sock = os.path.join(self.tmp, "tapxfr.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        argv = [self.tapxfr, "--dnstap-socket", sock, "127.0.0.1", str(col.port)]
        lf = self.logfile(label)
        b = None
        with open(lf, "w+") as f:
            p = self.spawn(argv, stdout=subprocess.DEVNULL, stderr=f)
            try:
                wait_unix_listen(sock)
                b = self.blast(label, sock, fname)
            except (BenchError, subprocess.TimeoutExpired) as e:
                self.fail(label, str(e))
            finally:
                try:
                    p.send_signal(signal.SIGTERM)
                    t_exit, rc, ru = reap(p, self.a.timeout)
                finally:
                    c = col.finish()
            f.seek(0)
            err = f.read()
        stats = parse_stats(err)
        self.check(label, rc, stats, c, expect, err)
        wall = (c["last"] - b["t0"]) if b and c["last"] else float("nan")
        return {"wall": wall, "cpu": ru["cpu"], "rss_kb": ru["rss_kb"],
                "to_finish": (b["t_finish"] - b["t0"]) if b else None,
                "forwarded": (stats or {}).get("forwarded"), "responses": (stats or {}).get("responses"),
                "collector": c["count"], "log": lf}

    def run_reader(self, label, argv_fn, fname):
        """An anchor reader on a Unix socket (fstrm_capture, golang dnstap),
        fed by fstrm_blast.py; timed from the first byte to FINISH."""
        sock = os.path.join(self.tmp, "anchor.sock")
        if os.path.exists(sock):
            os.unlink(sock)
        lf = self.logfile(label)
        wall = float("nan")
        with open(lf, "w") as f:
            p = self.spawn(argv_fn(sock), measure=False, stdout=subprocess.DEVNULL, stderr=f)
            try:
                wait_unix_listen(sock)
                b = self.blast(label, sock, fname)
                wall = b["t_finish"] - b["t0"]
            except (BenchError, subprocess.TimeoutExpired) as e:
                self.fail(label, str(e))
            finally:
                p.send_signal(signal.SIGTERM)
                reap(p, 30)
        return {"wall": wall}

    def run_rawsend(self, label, mode, sizes, n_expected):
        col = self.collector(mode)
        argv = [self.bin("rawsend"), "-" + mode] + (["-n", str(UDP_BATCH)] if mode == "u" else []) + \
            ["127.0.0.1", str(col.port), sizes]
        try:
            t0 = time.time()
            p = self.spawn(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out = p.stdout.read().decode(errors="replace")
            t_exit, rc, ru = reap(p, self.a.timeout)
        finally:
            c = col.finish()
        if rc != 0:
            self.fail(label, "rawsend exited with %d: %s" % (rc, out.strip()))
        if c["count"] != n_expected or c["bad"] or c["kdrops"]:
            self.fail(label, "the collector counted %d messages (%d bad, %d kernel drops) of %d sent" % (
                c["count"], c["bad"], c["kdrops"], n_expected))
        return {"wall": max(t_exit, c["last"]) - t0, "cpu": ru["cpu"]}

    # -------------------------------------------------------------- rounds
    def rounds(self, contenders):
        """contenders: [(key, fn(i))]; tapxfr first. Runs --runs rounds,
        reversing the order every other round."""
        res = {k: [] for k, _ in contenders}
        for i in range(self.a.runs):
            order = contenders if i % 2 == 0 else contenders[::-1]
            for key, fn in order:
                res[key].append(fn(i))
            log("  round %d/%d: %s" % (i + 1, self.a.runs, "  ".join(
                "%s %.3fs" % (k, res[k][-1]["wall"]) for k, _ in contenders)))
        return res

    def row(self, scen, anchor, t_runs, a_runs, ref=None, target=None, note=""):
        """One line of the speed table. t_runs, a_runs: lists of runs (or
        a_runs a number of seconds, for a reference figure). target: the
        upper bound on ratio = median tapxfr time / median anchor time."""
        t_med = med(t_runs)
        a_med = a_runs if isinstance(a_runs, (int, float)) else med(a_runs)
        ratio = t_med / a_med if a_med and a_med == a_med and t_med == t_med else float("nan")
        met = None
        if target is not None and ratio == ratio:
            met = ratio <= target
        r = {"scenario": scen, "anchor": anchor, "tapxfr_s": t_med, "anchor_s": a_med, "ratio": ratio,
             "tapxfr_cpu_s": med_cpu(t_runs),
             "anchor_cpu_s": None if isinstance(a_runs, (int, float)) else med_cpu(a_runs),
             "ref_s": ref, "target_ratio_max": target, "met": met, "note": note}
        self.rows.append(r)
        if target is not None:
            self.summary["targets"].append({"name": "%s vs %s" % (scen, anchor), "ratio": ratio,
                                            "max": target, "met": met, "note": note})
        return r

    # -------------------------------------------------------------- scenarios
    def sc_pcap_udp(self):
        pcap, _ = self.data[("pcap", self.a.count)]
        exp = self.expect("pcap", self.a.count)
        sizes = os.path.join(self.tmp, "pcap.sizes")
        log("  calibration (and warm-up): tapxfr run recording datagram sizes")
        cal = self.run_tapxfr_file("pcap-udp calibration", ["-r", pcap], "u", exp, sizes=sizes)
        ndg = os.path.getsize(sizes) // 2
        self.sizes_pcap = (sizes, ndg)
        have_tcpdump = shutil.which("tcpdump")
        exp_nr = self.expect("pcap", self.a.count, reassembly=False)
        contenders = [
            ("tapxfr", lambda i: self.run_tapxfr_file("pcap-udp tapxfr #%d" % i, ["-r", pcap], "u", exp)),
            ("tapxfr_noreasm", lambda i: self.run_tapxfr_file(
                "pcap-udp tapxfr --no-reassembly #%d" % i, ["-r", pcap], "u", exp_nr,
                extra=["--no-reassembly"])),
            ("tapxfr_match", lambda i: self.run_tapxfr_file(
                "pcap-udp tapxfr --match count #%d" % i, ["-r", pcap], "u", exp,
                extra=["--match", "count"])),
            ("pcapcount", lambda i: self.run_simple("pcap-udp pcapcount #%d" % i,
                                                    [self.bin("pcapcount"), pcap, DEFAULT_BPF])),
            ("sendmmsg", lambda i: self.run_rawsend("pcap-udp rawsend #%d" % i, "u", sizes, ndg)),
        ]
        if have_tcpdump:
            contenders.insert(2, ("tcpdump", lambda i: self.run_simple(
                "pcap-udp tcpdump #%d" % i, ["tcpdump", "-r", pcap, "-w", "/dev/null", DEFAULT_BPF])))
        res = self.rounds(contenders)
        self.rss_1m.setdefault("pcap -> UDP", []).extend(r["rss_kb"] for r in res["tapxfr"])
        fwd = cal["forwarded"] or 0
        pkt = parse_kv(res["pcapcount"][0]["out"]).get("packets")
        if pkt is not None and cal["received"] is not None and pkt != cal["received"]:
            log("  note: pcapcount passed %d packets through the filter, tapxfr received=%d" % (
                pkt, cal["received"]))
        scen = "pcap file -> UDP (%s pkts, %d fwd)" % (human(self.a.count), fwd)
        self.row(scen, "libpcap read (pcap_dispatch + BPF)", res["tapxfr"], res["pcapcount"],
                 ref=REF["pcapcount"] * self.scale)
        if have_tcpdump:
            self.row(scen, "tcpdump -r F -w /dev/null BPF", res["tapxfr"], res["tcpdump"],
                     ref=REF["tcpdump"] * self.scale)
        else:
            log("  tcpdump not installed: its anchor is skipped (apt-get install tcpdump)")
        self.row(scen, "sendmmsg x%d limit, %d dgrams" % (UDP_BATCH, ndg), res["tapxfr"], res["sendmmsg"],
                 ref=REF["sendmmsg_per_dgram"] * ndg, target=1 / 0.8, note=">= 80% of the sendmmsg rate")
        dl = fwd / (DNSLOGGER_FORWARDED / DNSLOGGER_SECONDS)
        self.row(scen, "dnslogger-forward 2004 (ref figure)", res["tapxfr"], dl, ref=dl, target=0.5,
                 note=">= 2x its rate per forwarded message (reference figure %.2fM in %.2fs, "
                      "scaled to %d)" % (DNSLOGGER_FORWARDED / 1e6, DNSLOGGER_SECONDS, fwd))
        # Reassembly on plain traffic: the same file with --no-reassembly
        # (UDP only: the old filter, no TCP; so a few fewer forwarded),
        # against the same sendmmsg anchor, and as the anchor of the default.
        fwd_nr = res["tapxfr_noreasm"][0]["forwarded"] or 0
        scen_nr = "pcap -> UDP --no-reassembly (%s pkts, %d fwd)" % (human(self.a.count), fwd_nr)
        self.row(scen_nr, "sendmmsg x%d limit, %d dgrams" % (UDP_BATCH, ndg), res["tapxfr_noreasm"],
                 res["sendmmsg"], ref=REF["sendmmsg_per_dgram"] * ndg, target=1 / 0.8,
                 note=">= 80%% of the sendmmsg rate (the anchor sends the default's %d datagrams)" % ndg)
        self.row(scen, "tapxfr --no-reassembly (%d fwd)" % fwd_nr, res["tapxfr"], res["tapxfr_noreasm"],
                 note="no target (information: the cost of reassembly on plain traffic)")
        # Matching (RFC 5452) on the same file: --match count forwards the
        # same records and holds every response to its query.
        self.row("pcap -> UDP --match count (%s pkts, %d fwd)" % (human(self.a.count), fwd),
                 "the same without matching", res["tapxfr_match"], res["tapxfr"], target=1.15,
                 note="--match count within 1.15x of no matching")
        self.summary["scenarios"]["pcap-udp"] = scen_summary(res, {"forwarded": fwd, "datagrams": ndg,
                                                                   "bpf_packets": pkt,
                                                                   "forwarded_no_reassembly": fwd_nr,
                                                                   "bpf": DEFAULT_BPF,
                                                                   "bpf_no_reassembly": NO_REASM_BPF})

    def sc_pcap_mix(self):
        """gen_wire.py's capture (about 5% of the responses over TCP, 2% in
        IP fragments) -> UDP collector, against the raw sendmmsg limit of
        the same datagrams."""
        pcap, gs = self.data[("wire", self.a.count)]
        exp = self.expect("wire", self.a.count)
        mix = gs["mix"]
        log("  capture: %d frames (gen_wire.py --repeat %d --plain %d --mtu %d --seed %d); %d responses "
            "expected: %.2f%% over TCP, %.2f%% from IP fragments, %.2f%% plain UDP; %d withheld (broken "
            "on purpose)" % (gs["counts"]["frames"], gs["options"]["repeat"], gs["options"]["plain"],
                             gs["options"]["mtu"], gs["options"]["seed"], gs["counts"]["expected"],
                             mix["tcp_pct"], mix["ipfrag_pct"], mix["plain_pct"], gs["counts"]["withheld"]))
        sizes = os.path.join(self.tmp, "mix.sizes")
        log("  calibration (and warm-up): tapxfr run recording datagram sizes")
        cal = self.run_tapxfr_file("pcap-mix calibration", ["-r", pcap], "u", exp, sizes=sizes)
        ndg = os.path.getsize(sizes) // 2
        res = self.rounds([
            ("tapxfr", lambda i: self.run_tapxfr_file("pcap-mix tapxfr #%d" % i, ["-r", pcap], "u", exp)),
            ("sendmmsg", lambda i: self.run_rawsend("pcap-mix rawsend #%d" % i, "u", sizes, ndg)),
        ])
        fwd = cal["forwarded"] or 0
        scen = "pcap mix -> UDP (%s pkts, %d fwd)" % (human(gs["counts"]["frames"]), fwd)
        self.row(scen, "sendmmsg x%d limit, %d dgrams" % (UDP_BATCH, ndg), res["tapxfr"], res["sendmmsg"],
                 ref=REF["sendmmsg_per_dgram"] * ndg,
                 note="no target (information: %.1f%% TCP, %.1f%% fragmented)" % (mix["tcp_pct"],
                                                                                  mix["ipfrag_pct"]))
        self.summary["scenarios"]["pcap-mix"] = scen_summary(res, {
            "forwarded": fwd, "datagrams": ndg, "expected": gs["counts"]["expected"],
            "frames": gs["counts"]["frames"], "mix": mix, "gen_wire": gs["options"]})

    def sc_dnstap_sock(self):
        fst, _ = self.data[("dnstap", self.a.count)]
        exp = self.expect("dnstap", self.a.count)
        contenders = [("tapxfr", lambda i: self.run_tapxfr_sock("dnstap-sock tapxfr #%d" % i, fst, exp))]
        have_fc = shutil.which("fstrm_capture")
        have_go = shutil.which("dnstap")
        if have_fc:
            contenders.append(("fstrm_capture", lambda i: self.run_reader(
                "dnstap-sock fstrm_capture #%d" % i,
                lambda s: ["fstrm_capture", "-t", CT_DNSTAP, "-u", s, "-w", "/dev/null"], fst)))
        else:
            log("  fstrm_capture not installed (apt-get install fstrm-bin): anchor skipped")
        if have_go and not self.a.no_golang:
            contenders.append(("golang_dnstap", lambda i: self.run_reader(
                "dnstap-sock golang-dnstap #%d" % i, lambda s: ["dnstap", "-u", s, "-q"], fst)))
        elif not have_go:
            log("  golang dnstap not installed (apt-get install golang-github-dnstap-golang-dnstap-cli, "
                "which provides /usr/bin/dnstap): anchor skipped")
        res = self.rounds(contenders)
        self.rss_1m.setdefault("dnstap socket -> UDP", []).extend(r["rss_kb"] for r in res["tapxfr"])
        fwd = res["tapxfr"][0]["forwarded"] or 0
        scen = "dnstap socket -> UDP (%s frames, %d fwd)" % (human(self.a.count), fwd)
        if have_fc:
            self.row(scen, "fstrm_capture -w /dev/null", res["tapxfr"], res["fstrm_capture"],
                     ref=REF["fstrm_capture"] * self.scale, target=1 / 0.6,
                     note=">= 60% of fstrm_capture's framing-only rate")
        if "golang_dnstap" in res:
            self.row(scen, "golang dnstap -u S -q (decoding)", res["tapxfr"], res["golang_dnstap"],
                     ref=REF["golang_dnstap_q"] * self.scale, target=0.2,
                     note=">= 5x golang dnstap's decoding rate")
        self.summary["scenarios"]["dnstap-sock"] = scen_summary(res, {
            "forwarded": fwd, "tapxfr_to_finish_median_s": statistics.median(
                [r["to_finish"] for r in res["tapxfr"] if r["to_finish"] is not None] or [float("nan")])})

    def sc_dnstap_file(self):
        fst, _ = self.data[("dnstap", self.a.count)]
        exp = self.expect("dnstap", self.a.count)
        sizes = os.path.join(self.tmp, "dnstap.sizes")
        log("  calibration (and warm-up): tapxfr run recording datagram sizes")
        cal = self.run_tapxfr_file("dnstap-file calibration", ["--dnstap-file", fst], "u", exp, sizes=sizes)
        ndg = os.path.getsize(sizes) // 2
        res = self.rounds([
            ("tapxfr", lambda i: self.run_tapxfr_file("dnstap-file tapxfr #%d" % i, ["--dnstap-file", fst],
                                                      "u", exp)),
            ("sendmmsg", lambda i: self.run_rawsend("dnstap-file rawsend #%d" % i, "u", sizes, ndg)),
        ])
        self.rss_1m.setdefault("dnstap file -> UDP", []).extend(r["rss_kb"] for r in res["tapxfr"])
        fwd = cal["forwarded"] or 0
        self.row("dnstap file -> UDP (%s frames, %d fwd)" % (human(self.a.count), fwd),
                 "sendmmsg x%d limit, %d dgrams" % (UDP_BATCH, ndg), res["tapxfr"], res["sendmmsg"],
                 ref=REF["sendmmsg_per_dgram"] * ndg, note="no target (information)")
        self.summary["scenarios"]["dnstap-file"] = scen_summary(res, {"forwarded": fwd, "datagrams": ndg})

    def sc_pcap_tcp(self):
        pcap, _ = self.data[("pcap", self.a.count)]
        exp = self.expect("pcap", self.a.count)
        if not getattr(self, "sizes_pcap", None):
            sizes = os.path.join(self.tmp, "pcap.sizes")
            log("  calibration: tapxfr run recording message sizes")
            self.run_tapxfr_file("pcap-tcp calibration", ["-r", pcap], "t", exp, sizes=sizes)
            self.sizes_pcap = (sizes, os.path.getsize(sizes) // 2)
        sizes, n = self.sizes_pcap
        res = self.rounds([
            ("tapxfr", lambda i: self.run_tapxfr_file("pcap-tcp tapxfr #%d" % i, ["-r", pcap], "t", exp)),
            ("tcp_raw", lambda i: self.run_rawsend("pcap-tcp rawsend #%d" % i, "t", sizes, n)),
        ])
        self.rss_1m.setdefault("pcap -> TCP", []).extend(r["rss_kb"] for r in res["tapxfr"])
        fwd = res["tapxfr"][0]["forwarded"] or 0
        self.row("pcap file -> TCP (%s pkts, %d fwd)" % (human(self.a.count), fwd),
                 "raw TCP send limit, 64 msgs/write", res["tapxfr"], res["tcp_raw"],
                 note="no target (information)")
        self.summary["scenarios"]["pcap-tcp"] = scen_summary(res, {"forwarded": fwd})

    def sc_memory(self):
        a = self.a
        pcap1, _ = self.data[("pcap", a.count)]
        fst1, _ = self.data[("dnstap", a.count)]
        paths = {
            "pcap -> UDP": lambda kind_count, lbl: self.run_tapxfr_file(
                lbl, ["-r", self.data[("pcap", kind_count)][0]], "u", self.expect("pcap", kind_count)),
            "dnstap file -> UDP": lambda kind_count, lbl: self.run_tapxfr_file(
                lbl, ["--dnstap-file", self.data[("dnstap", kind_count)][0]], "u",
                self.expect("dnstap", kind_count)),
            "dnstap socket -> UDP": lambda kind_count, lbl: self.run_tapxfr_sock(
                lbl, self.data[("dnstap", kind_count)][0], self.expect("dnstap", kind_count)),
        }
        # baseline: a tiny input
        tiny = self.run_tapxfr_file("memory baseline (tiny pcap)", ["-r", self.data[("pcap", TINY)][0]],
                                    "u", self.expect("pcap", TINY))
        base_kb = tiny["rss_kb"]
        log("  baseline peak RSS on a %d-packet pcap: %.1f MiB" % (TINY, mib(base_kb)))
        mem = {"baseline_kb": base_kb, "paths": {}, "stall": {}}
        limit_mib = a.rss_limit_mib
        for name, fn in paths.items():
            small = self.rss_1m.get(name)
            if not small:
                small = [fn(a.count, "memory %s %s" % (name, human(a.count)))["rss_kb"]]
            r_small = statistics.median(small)
            if a.big_count:
                r = fn(a.big_count, "memory %s %s" % (name, human(a.big_count)))
                r_big = r["rss_kb"]
                growth = r_big - r_small
                flat = growth <= max(a.flat_mib * 1024, 0.10 * r_small)
            else:
                r_big, growth, flat = None, None, None
            under = max(r_small, r_big or 0) < limit_mib * 1024
            met = under and (flat is not False)
            log("  %-22s peak RSS %s: %.1f MiB, %s: %s" % (
                name, human(a.count), mib(r_small), human(a.big_count) if a.big_count else "-",
                "%.1f MiB" % mib(r_big) if r_big else "skipped"))
            self.mem_rows.append({"what": "%s, %s vs %s input" % (name, human(a.count),
                                                                  human(a.big_count) if a.big_count else "-"),
                                  "rss_a_mib": mib(r_small), "rss_b_mib": mib(r_big) if r_big else None,
                                  "target": "< %d MiB, flat (+<= max(%g MiB, 10%%))" % (limit_mib, a.flat_mib),
                                  "met": met})
            mem["paths"][name] = {"rss_kb_count": r_small, "rss_kb_big": r_big, "growth_kb": growth,
                                  "flat": flat, "under_limit": under, "met": met}
            self.summary["targets"].append({"name": "peak RSS %s" % name, "met": met,
                                            "rss_mib": [mib(r_small), mib(r_big) if r_big else None]})
        # stall: a TCP collector that sends the banner and never reads
        bound_kb = a.queue_mib * 1024 + a.overhead_mib * 1024
        for name, inargs in (("pcap -> TCP", ["-r", pcap1]), ("dnstap file -> TCP", ["--dnstap-file", fst1]),
                             ("dnstap socket -> TCP", None)):
            st = self.run_stall("memory stall %s" % name, inargs, fst1)
            met = st["rss_kb"] < bound_kb if st["stalled"] else None
            log("  stalled collector, %-20s peak RSS %.1f MiB (bound %.0f MiB), %d messages queued at stop, "
                "%d dropped for a full queue" % (name, mib(st["rss_kb"]), mib(bound_kb), st["queued_at_stop"],
                                                 st["drop_queue_full"] or 0))
            self.mem_rows.append({"what": "%s, collector never reads (%gs)" % (name, a.stall_seconds),
                                  "rss_a_mib": mib(st["rss_kb"]), "rss_b_mib": None,
                                  "target": "< queue %g MiB + overhead %g MiB" % (a.queue_mib, a.overhead_mib),
                                  "met": met})
            mem["stall"][name] = dict(st, bound_kb=bound_kb, met=met)
            self.summary["targets"].append({"name": "stall RSS %s" % name, "met": met,
                                            "rss_mib": mib(st["rss_kb"]), "bound_mib": mib(bound_kb)})
        self.summary["memory"] = mem

    def run_stall(self, label, inargs, fstrm):
        col = self.collector("t", stall=True)
        sock = None
        blaster = None
        argv = [self.tapxfr, "-t", "--flush-timeout", "1"]
        if inargs is None:
            sock = os.path.join(self.tmp, "stall.sock")
            if os.path.exists(sock):
                os.unlink(sock)
            argv += ["--dnstap-socket", sock]
        else:
            argv += inargs
        argv += ["127.0.0.1", str(col.port)]
        lf = self.logfile(label)
        exited_early = False
        with open(lf, "w+") as f:
            p = self.spawn(argv, stdout=subprocess.DEVNULL, stderr=f)
            try:
                if sock:
                    wait_unix_listen(sock)
                    blaster = popen(
                        [sys.executable, os.path.join(self.tools, "fstrm_blast.py"), sock, fstrm],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                end = time.time() + self.a.stall_seconds
                while time.time() < end and not exited(p):
                    time.sleep(0.1)
                exited_early = exited(p)
            finally:
                try:
                    if not exited(p):
                        p.send_signal(signal.SIGTERM)
                    t_exit, rc, ru = reap(p, 60)
                finally:
                    if blaster:
                        blaster.kill()
                        blaster.wait()
                    col.finish()
            f.seek(0)
            err = f.read()
        stats = parse_stats(err) or {}
        queued = stats.get("drop_shutdown", 0) + stats.get("pending", 0)
        full = stats.get("drop_queue_full", 0)
        if exited_early:
            log("  note: %s: tapxfr exited (rc %d) before the stall period ended: the input fit in "
                "the queue and the kernel's socket buffers, so the bound was not exercised" % (label, rc))
        elif queued == 0 and full == 0:
            log("  note: %s: nothing was left queued at stop and nothing dropped for a full queue: "
                "the bound was not exercised" % label)
        return {"rss_kb": ru["rss_kb"], "rc": rc, "queued_at_stop": queued,
                "stalled": not exited_early and (queued > 0 or full > 0),
                "forwarded": stats.get("forwarded"), "drop_queue_full": stats.get("drop_queue_full"),
                "log": lf}

    def sc_callgrind(self):
        if not shutil.which("valgrind"):
            self.fail("callgrind", "valgrind is not installed (apt-get install valgrind)")
            return
        cg = {}
        for name, kind, opt in (("pcap file -> UDP", "pcap", "-r"), ("pcap mix -> UDP", "wire", "-r"),
                                ("dnstap file -> UDP", "dnstap", "--dnstap-file")):
            res = {}
            for count in (TINY, self.a.cg_count):
                outf = os.path.join(self.out, "callgrind.%s.%d.out" % (kind, count))
                r = self.run_tapxfr_file(
                    "callgrind %s %d" % (kind, count), [opt, self.data[(kind, count)][0]], "u",
                    self.expect(kind, count), timeout=900,
                    wrapper=["valgrind", "--tool=callgrind", "--callgrind-out-file=" + outf])
                r["ir"] = callgrind_total(outf)
                r["outfile"] = outf
                res[count] = r
            big, tiny = res[self.a.cg_count], res[TINY]
            fwd = big["forwarded"] or 0
            per = big["ir"] / fwd if fwd and big["ir"] else float("nan")
            dfw = fwd - (tiny["forwarded"] or 0)
            marg = (big["ir"] - tiny["ir"]) / dfw if dfw > 0 and big["ir"] and tiny["ir"] else float("nan")
            top = callgrind_top(big["outfile"], 8)
            with open(os.path.join(self.out, "callgrind.%s.annotate.txt" % kind), "w") as f:
                f.write(callgrind_annotate(big["outfile"]))
            nrec = self.records(kind, self.a.cg_count)
            self.cg_rows.append({"path": name, "records": nrec, "forwarded": fwd, "ir": big["ir"],
                                 "ir_per_fwd": per, "ir_startup": tiny["ir"], "ir_per_fwd_marginal": marg,
                                 "top": top})
            cg[name] = {"input_records": nrec, "forwarded": fwd, "instructions": big["ir"],
                        "instructions_per_forwarded": per, "startup_instructions_%d" % TINY: tiny["ir"],
                        "marginal_instructions_per_forwarded": marg, "top_self": top,
                        "callgrind_out": big["outfile"]}
        self.summary["callgrind"] = cg

    # -------------------------------------------------------------- output
    def print_tables(self):
        log("")
        log("== speed (wall seconds, medians of %d runs; ratio = tapxfr time / anchor time; 'ref s': the "
            "anchor's reference figure on an idle machine; 'cpu s': user+system, tapxfr/anchor)" % self.a.runs)
        hdr = "%-50s %-35s %9s %9s %8s %7s  %-14s %-8s %s" % ("scenario", "anchor", "tapxfr s", "anchor s",
                                                           "ref s", "ratio", "target", "met?", "cpu s")
        log(hdr)
        log("-" * len(hdr))
        for r in self.rows:
            tgt = "ratio <= %.3g" % r["target_ratio_max"] if r["target_ratio_max"] else "-"
            met = fmt_met(r["met"])
            cpu = "%.2f/%s" % (r["tapxfr_cpu_s"] or 0, "%.2f" % r["anchor_cpu_s"] if r["anchor_cpu_s"]
                                else "-")
            log("%-50s %-35s %9.3f %9.3f %8s %7.3f  %-14s %-8s %s" % (
                r["scenario"][:50], r["anchor"][:35], r["tapxfr_s"], r["anchor_s"],
                "%.3f" % r["ref_s"] if r["ref_s"] else "-", r["ratio"], tgt, met, cpu))
        for r in self.rows:
            if r["target_ratio_max"]:
                log("   %s vs %s: %s" % (r["scenario"].split(" (")[0], r["anchor"], r["note"]))
        if self.mem_rows:
            log("")
            log("== memory (peak RSS, wait4 ru_maxrss / VmHWM)")
            hdr = "%-58s %9s %9s  %-40s %s" % ("what", "RSS MiB", "RSS MiB", "target", "met?")
            log(hdr)
            log("-" * len(hdr))
            for r in self.mem_rows:
                log("%-58s %9.1f %9s  %-40s %s" % (r["what"][:58], r["rss_a_mib"],
                                                   "%.1f" % r["rss_b_mib"] if r["rss_b_mib"] else "-",
                                                   r["target"], fmt_met(r["met"])))
        if self.cg_rows:
            log("")
            log("== CPU cost (valgrind --tool=callgrind, instructions executed, all threads)")
            hdr = "%-22s %9s %9s %14s %10s %10s %14s %16s" % ("path", "records", "forwarded", "instructions",
                                                          "Ir/record", "Ir/fwd", "startup Ir",
                                                          "marginal Ir/fwd")
            log(hdr)
            log("-" * len(hdr))
            for r in self.cg_rows:
                log("%-22s %9d %9d %14d %10.0f %10.0f %14d %16.0f" % (
                    r["path"], r["records"], r["forwarded"], r["ir"] or 0, (r["ir"] or 0) / r["records"],
                    r["ir_per_fwd"], r["ir_startup"] or 0, r["ir_per_fwd_marginal"]))
            log("   (startup Ir: the same path on a %d-record input; marginal Ir/fwd: the difference per "
                "additional forwarded record)" % TINY)
            for r in self.cg_rows:
                log("   %s, top functions (self Ir per forwarded record):" % r["path"])
                for fn, ir in r["top"]:
                    log("     %8.0f  %s" % (ir / r["forwarded"] if r["forwarded"] else 0, fn))


class Collector:
    def __init__(self, h, mode, stall, sizes):
        argv = [h.bin("bcollect"), "-" + mode, "-b", str(h.a.rcvbuf)]
        if stall:
            argv.append("-s")
        if sizes:
            argv += ["-S", sizes]
        self.p = popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        if not line.startswith("port "):
            self.p.kill()
            raise BenchError("bcollect did not start: %s" % self.p.stderr.read())
        self.port = int(line.split()[1])

    def finish(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        out, err = self.p.communicate(timeout=60)
        if err.strip():
            log("  bcollect: " + err.strip())
        m = re.search(r"^count=.*$", out, re.M)
        if not m:
            raise BenchError("bcollect gave no result (rc %s): %s" % (self.p.returncode, err))
        return parse_kv(m.group(0))


# ------------------------------------------------------------------ helpers

TINY = 1000


def wire_oracle(stats):
    """gen_wire.py's full oracle (kept next to the summary the benchmark reads)."""
    return stats[:-len(".json")] + ".expected.json"


def wire_summary(ex, seconds):
    """The counts of gen_wire.py's oracle and the mix they make."""
    c = ex["counts"]
    n = c["expected"] or 1
    tcp = c["expected_tcp"]
    frag = sum(1 for e in ex["responses"] if e["needs"] == "ipfrag")
    return {"generator": "gen_wire.py", "options": ex["options"], "counts": c, "cases": ex["cases"],
            "mix": {"tcp": tcp, "ipfrag": frag, "plain": c["expected_plain"],
                    "tcp_pct": 100.0 * tcp / n, "ipfrag_pct": 100.0 * frag / n,
                    "plain_pct": 100.0 * c["expected_plain"] / n},
            "seconds": round(seconds, 1)}


def med(runs):
    vals = [r["wall"] for r in runs if r["wall"] == r["wall"]]
    return statistics.median(vals) if vals else float("nan")


def med_cpu(runs):
    vals = [r["cpu"] for r in runs if r.get("cpu") is not None]
    return statistics.median(vals) if vals else None


def scen_summary(res, extra):
    d = dict(extra)
    for k, runs in res.items():
        d[k] = {"median_s": med(runs), "runs_s": [r["wall"] for r in runs]}
        cpus = [r["cpu"] for r in runs if r.get("cpu") is not None]
        if cpus:
            d[k]["cpu_median_s"] = statistics.median(cpus)
        rss = [r["rss_kb"] for r in runs if r.get("rss_kb")]
        if rss:
            d[k]["peak_rss_kb_median"] = statistics.median(rss)
    return d


def human(n):
    if not n:
        return "-"
    if n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


def fmt_met(m):
    return "-" if m is None else ("met" if m else "NOT met")


def exited(p):
    """Whether p has ended, without reaping it (reap() does)."""
    return os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def callgrind_total(path):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def callgrind_annotate(path):
    if not shutil.which("callgrind_annotate"):
        return "callgrind_annotate not found\n"
    p = subprocess.run(["callgrind_annotate", path], capture_output=True, text=True)
    return p.stdout + p.stderr


def callgrind_top(path, n):
    """Self cost per function, from callgrind_annotate's listing."""
    text = callgrind_annotate(path)
    top = []
    for line in text.splitlines():
        m = re.match(r"^\s*([0-9,]+)\s+(?:\([^)]*\)\s+)?(\S.*?)\s*$", line)
        if m and ":" in m.group(2) and "PROGRAM TOTALS" not in line:
            top.append((m.group(2), int(m.group(1).replace(",", ""))))
        if len(top) >= n:
            break
    return top


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True, help="tapxfr build directory (src/tapxfr)")
    ap.add_argument("--tools", required=True, help="directory of gen_pcap.py, gen_dnstap.py, gen_wire.py, fstrm_blast.py")
    ap.add_argument("--bin", required=True, help="directory of the compiled helpers")
    ap.add_argument("--cache", default=os.environ.get("TAPXFR_BENCH_CACHE"), help="generated data cache "
                    "(default $TAPXFR_BENCH_CACHE or BUILD/tests/bench/data)")
    ap.add_argument("--out", help="results directory (default BUILD/tests/bench/results)")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("TAPXFR_BENCH_RUNS", "5")))
    ap.add_argument("--count", type=int, default=1000000, help="packets / frames (default 1M)")
    ap.add_argument("--big-count", type=int, default=5000000, help="memory flatness input (default 5M; 0: skip)")
    ap.add_argument("--cg-count", type=int, default=100000, help="callgrind input (default 100k)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", help="comma-separated scenarios: " + ",".join(ALL_SCENARIOS))
    ap.add_argument("--skip", help="comma-separated scenarios to skip")
    ap.add_argument("--no-golang", action="store_true", help="skip the golang dnstap anchor (slowest)")
    ap.add_argument("--rcvbuf", type=int, default=256 * MIB, help="collector UDP receive buffer (bytes)")
    ap.add_argument("--timeout", type=float, default=300, help="per run, seconds")
    ap.add_argument("--stall-seconds", type=float, default=4)
    ap.add_argument("--queue-mib", type=float, default=8, help="tapxfr's default --queue-size")
    ap.add_argument("--overhead-mib", type=float, default=8, help="fixed overhead allowed over the queue bound")
    ap.add_argument("--rss-limit-mib", type=float, default=32)
    ap.add_argument("--flat-mib", type=float, default=2, help="allowed RSS growth from --count to --big-count")
    ap.add_argument("--strict", action="store_true", help="unmet targets fail the run too")
    ap.add_argument("--json", help="also write the JSON summary here")
    a = ap.parse_args()
    a.cache = a.cache or os.path.join(a.build, "tests", "bench", "data")
    a.out = a.out or os.path.join(a.build, "tests", "bench", "results")
    only = ALL_SCENARIOS if not a.only else [s.strip() for s in a.only.split(",")]
    skip = [s.strip() for s in a.skip.split(",")] if a.skip else []
    bad = [s for s in only + skip if s not in ALL_SCENARIOS]
    if bad:
        ap.error("unknown scenario(s): %s" % ", ".join(bad))
    scen = [s for s in ALL_SCENARIOS if s in only and s not in skip]   # canonical order

    h = Harness(a)
    if not os.access(h.tapxfr, os.X_OK):
        sys.exit("bench: %s not built" % h.tapxfr)
    t_start = time.time()
    load0 = open("/proc/loadavg").read().split()[:3]
    log("== tapxfr benchmark: %s" % subprocess.run([h.tapxfr, "--version"], capture_output=True,
                                                     text=True).stdout.strip())
    log("   %d cores, load average at start %s; runs %d; inputs %s (memory %s, callgrind %s), seed %d" % (
        os.cpu_count(), " ".join(load0), a.runs, human(a.count), human(a.big_count), human(a.cg_count), a.seed))
    log("   data cache %s; results %s" % (h.cache, h.out))
    needs = set()
    if set(scen) & {"pcap-udp", "pcap-tcp", "memory"}:
        needs.add(("pcap", a.count))
    if "pcap-mix" in scen:
        needs.add(("wire", a.count))
    if set(scen) & {"dnstap-sock", "dnstap-file", "memory"}:
        needs.add(("dnstap", a.count))
    if "memory" in scen:
        needs.add(("pcap", TINY))
        if a.big_count:
            needs |= {("pcap", a.big_count), ("dnstap", a.big_count)}
    if "callgrind" in scen:
        needs |= {("pcap", a.cg_count), ("dnstap", a.cg_count), ("pcap", TINY), ("dnstap", TINY),
                  ("wire", a.cg_count), ("wire", TINY)}
    log("== data")
    h.generate(sorted(needs, key=lambda x: x[1]))

    fns = {"pcap-udp": h.sc_pcap_udp, "pcap-mix": h.sc_pcap_mix, "dnstap-sock": h.sc_dnstap_sock, "dnstap-file": h.sc_dnstap_file,
           "pcap-tcp": h.sc_pcap_tcp, "memory": h.sc_memory, "callgrind": h.sc_callgrind}
    timings = {}
    for s in scen:
        t = time.time()
        log("== %s" % s)
        try:
            fns[s]()
        except (BenchError, subprocess.TimeoutExpired, OSError) as e:
            h.fail(s, "aborted: %s" % e)
        timings[s] = time.time() - t
        log("   (%s took %.0f s)" % (s, timings[s]))

    h.print_tables()
    load1 = open("/proc/loadavg").read().split()[:3]
    unmet = [t["name"] for t in h.summary["targets"] if t.get("met") is False]
    h.summary.update({
        "tapxfr": h.tapxfr, "runs": a.runs, "count": a.count, "big_count": a.big_count,
        "cg_count": a.cg_count, "seed": a.seed, "cores": os.cpu_count(),
        "loadavg_start": load0, "loadavg_end": load1, "seconds": time.time() - t_start,
        "scenario_seconds": timings,
        "table": h.rows, "memory_table": h.mem_rows,
        "targets_unmet": unmet, "failures": h.failures,
        "ok": not h.failures and not (a.strict and unmet),
        "busy": max(float(load0[0]), float(load1[0])) > 0.5 * (os.cpu_count() or 1),
    })
    js = json.dumps(nan_to_none(h.summary), indent=1)
    with open(os.path.join(h.out, "bench.json"), "w") as f:
        f.write(js + "\n")
    if a.json:
        with open(a.json, "w") as f:
            f.write(js + "\n")
    log("")
    log("load average at end %s (at start %s); total %.0f s; logs in %s" % (
        " ".join(load1), " ".join(load0), time.time() - t_start, h.logdir))
    if h.summary["busy"]:
        log("WARNING: the machine was busy (load average above %.1f on %d cores during the run): "
            "the timings above are noisy; compare CPU seconds, or run again on an idle machine" % (
                0.5 * (os.cpu_count() or 1), os.cpu_count() or 1))
    short = {k: v for k, v in h.summary.items() if k not in ("table", "memory_table", "callgrind", "memory")}
    short["callgrind"] = {k: {kk: vv for kk, vv in v.items() if kk not in ("top_self", "callgrind_out")}
                          for k, v in h.summary["callgrind"].items()}
    short["memory"] = {k: v for k, v in h.summary["memory"].items()}
    log("== JSON summary (one line; the full one is in %s)" % os.path.join(h.out, "bench.json"))
    log(json.dumps(nan_to_none(short), separators=(",", ":")))
    shutil.rmtree(h.tmp, ignore_errors=True)
    if h.failures:
        log("bench: FAILED (%d problem(s)):" % len(h.failures))
        for f in h.failures:
            log("  " + f)
        return 1
    if a.strict and unmet:
        log("bench: FAILED (--strict): targets not met: %s" % "; ".join(unmet))
        return 1
    log("bench: OK: nothing lost; %d of %d targets met%s" % (
        sum(1 for t in h.summary["targets"] if t.get("met")), len(h.summary["targets"]),
        ("; not met: " + "; ".join(unmet)) if unmet else ""))
    return 0


def nan_to_none(o):
    if isinstance(o, float) and o != o:
        return None
    if isinstance(o, dict):
        return {str(k): nan_to_none(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [nan_to_none(v) for v in o]
    return o


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        kill_leftovers()
