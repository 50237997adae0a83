#!/usr/bin/env python3
"""-u USER [-g GROUP]: tapxfr opens its inputs and sockets as root, then
runs as USER with nothing left to regain (skipped unless run as root with
a user `nobody`).

Every check of the process's credentials reads /proc/PID/task/*/status,
i.e. every thread of the process (capability bounding sets and
no_new_privs are per thread), once tapxfr logged "running as user".

1. `-u nobody`, inputs a dnstap socket and a pcap file (-r), both in a
   root-only (0700) directory, so the file could only have been opened
   before the switch: Uid and Gid (real, effective, saved, fs) all 65534,
   Groups 65534 only, CapEff / CapPrm / CapInh / CapBnd / CapAmb all 0,
   NoNewPrivs 1; no "running as root" warning. Records still flow: a
   dnstap writer connects and sends a gen_dnstap file after the switch;
   the TCP collector receives exactly the oracle's messages of the pcap
   file plus those of the dnstap file (multiset), and tapxfr exits 0 on
   SIGTERM.
2. `-u nobody -g daemon` (or nogroup) with a live interface `-i lo` (a
   BPF filter on two random ports) and a dnstap socket: Uid 65534, Gid
   and Groups that group; CapEff == CapPrm == CapBnd == 0x2000
   (CAP_NET_RAW only, bit 13), CapInh == CapAmb == 0, NoNewPrivs 1. Both
   inputs still deliver after the switch: DNS responses sent over lo to
   the filtered ports, and a dnstap file.
3. `-u nobody` with the collector given by host name (`localhost`): the
   resolver runs on libuv's thread pool, whose threads exist before the
   switch; every one of them must have the same credentials as in 1.
4. As root without -u: the warning "running as root" is logged.
"""
import grp
import os
import pwd
import re
import socket
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("-u switches from root to another user")
try:
    NOBODY = pwd.getpwnam("nobody")
except KeyError:
    tt.skip("no user 'nobody'")
tapxfr = tt.tapxfr_bin()
t = tt.Test("test_privdrop", limit=58)
work = tt.tempdir()
os.chmod(work, 0o700)
UID, GID = NOBODY.pw_uid, NOBODY.pw_gid

# ------------------------------------------------------------ data

pcap = tt.gen_pcap(work, count=3000, seed=5)
ex_pcap = tt.oracle(pcap)
dtfile = os.path.join(work, "dt.fstrm")
r = subprocess.run([sys.executable, "-B", tt.tool_path("gen_dnstap.py"), "--count", "1500",
                    "--seed", "9", "--pool", "2000", "--out", dtfile],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
if not t.check(r.returncode == 0, "gen_dnstap.py ran", r.stdout.decode(errors="replace")):
    t.done()
ex_dt = ds.expected_from_file(dtfile)
t.info("pcap oracle: %s" % ex_pcap.summary())
t.info("dnstap oracle: %s" % ex_dt.summary())
os.chmod(pcap, 0o600)

# ------------------------------------------------------------ helpers


def wait_until(cond, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def task_status(pid):
    """{tid: {field: value}} for every thread of pid."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                d = {}
                for line in f:
                    k, _, v = line.partition(":")
                    d[k] = v.strip()
                out[int(tid)] = d
        except OSError:
            pass
    return out


def check_creds(what, pid, uid, gid, caps, bnd):
    """Every thread: Uid/Gid (4 fields each), Groups, CapInh 0, CapPrm ==
    CapEff == caps, CapBnd == bnd, CapAmb 0, NoNewPrivs 1."""
    st = task_status(pid)
    if not t.check(bool(st), "%s: /proc/%d/task/*/status readable" % (what, pid)):
        return
    want = {
        "Uid": "%d %d %d %d" % (uid, uid, uid, uid),
        "Gid": "%d %d %d %d" % (gid, gid, gid, gid),
        "Groups": "%d" % gid,
        "CapInh": 0, "CapPrm": caps, "CapEff": caps, "CapBnd": bnd, "CapAmb": 0,
        "NoNewPrivs": "1",
    }
    t.info("%s: %d thread(s)" % (what, len(st)))
    for key, w in want.items():
        bad = {}
        for tid, d in sorted(st.items()):
            v = d.get(key)
            if isinstance(w, int):
                got = int(v, 16) if v is not None else None
            else:
                got = " ".join(v.split()) if v is not None else None
            if got != w:
                bad[tid] = v
        t.check(not bad, "%s: %s == %s in every thread" % (what, key, hex(w) if isinstance(w, int) else w),
                "threads that differ: %s" % ", ".join("%d: %s" % kv for kv in bad.items()))


def blast(sock, path):
    """Sends a dnstap file into the socket (bidirectional handshake)."""
    r = subprocess.run([sys.executable, "-B", tt.tool_path("fstrm_blast.py"), sock, path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return r.returncode == 0, r.stdout.decode(errors="replace")


def started(run, coll):
    return wait_until(lambda: not run.running() or ("running as user" in run.stderr and coll.connections >= 1),
                      15) and run.running()


# ------------------------------------------------------------ 1. -u nobody

t.info("--- 1. -u nobody: dnstap socket + pcap file")
coll = tt.TCPCollector()
sock = os.path.join(work, "dt1.sock")
run = tt.Run(["-u", "nobody", "-L", "0", "--dnstap-socket", sock, "-r", pcap,
              "--collector", "tcp://127.0.0.1:%d" % coll.port], workdir=work)
if t.check(started(run, coll), "tapxfr started, logged 'running as user' and connected",
           run.stderr[-1500:]):
    t.check(re.search(r"running as user nobody", run.stderr), "the log names the user")
    check_creds("-u nobody", run.proc.pid, UID, GID, 0, 0)
    t.check("running as root" not in run.stderr, "no 'running as root' warning with -u")
    ok, out = blast(sock, dtfile)
    t.check(ok, "a dnstap writer connected and sent its file after the switch", out)
    want = ex_pcap.messages + ex_dt.messages
    t.check(wait_until(lambda: len(coll.messages) >= len(want), 20),
            "the collector received %d messages (want %d)" % (len(coll.messages), len(want)))
    rc = run.terminate(15)
    t.eq(rc, 0, "exit status after SIGTERM")
    coll.wait_closed(5)
    missing, unexpected, text = tt.multiset_diff(coll.messages, want)
    t.check(not missing and not unexpected,
            "the collector received exactly the pcap file's and the dnstap file's messages "
            "(%d + %d)" % (len(ex_pcap.messages), len(ex_dt.messages)), text)
    st = run.stats
    t.check(st is not None and st.get("forwarded") == len(want),
            "stats: forwarded == %d (%r)" % (len(want), st and st.get("forwarded")))
coll.kill()

# ------------------------------------------------------------ 2. -i lo

t.info("--- 2. -u nobody -g GROUP -i lo: CAP_NET_RAW only")
group = None
for g in ("daemon", "nogroup"):
    try:
        group = grp.getgrnam(g)
        break
    except KeyError:
        pass
gargs, ggid = (["-g", group.gr_name], group.gr_gid) if group else ([], GID)
ps, pd = tt.reserve_port(socket.SOCK_DGRAM), tt.reserve_port(socket.SOCK_DGRAM)
while pd == ps:
    pd = tt.reserve_port(socket.SOCK_DGRAM)
coll = tt.TCPCollector()
sock = os.path.join(work, "dt2.sock")
run = tt.Run(["-u", "nobody"] + gargs + ["-L", "0", "-i", "lo", "-f",
                                         "udp and src port %d and dst port %d" % (ps, pd),
                                         "--dnstap-socket", sock,
                                         "--collector", "tcp://127.0.0.1:%d" % coll.port], workdir=work)
if not started(run, coll) and not run.running() and "cannot open capture device lo" in run.stderr:
    t.skip_part("part 2 (capture on lo is not available here): %s" % run.stderr.strip()[-300:])
    run.wait(5)
elif t.check(run.running(), "tapxfr -i lo started and connected", run.stderr[-1500:]):
    check_creds("-u nobody %s-i lo" % ("-g %s " % group.gr_name if group else ""), run.proc.pid,
                UID, ggid, 1 << 13, 1 << 13)
    # DNS responses over lo: distinct ids, QR set, AA clear.
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", pd))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.bind(("127.0.0.1", ps))
    sent = []
    for i in range(50):
        dns = struct.pack(">HHHHHH", 0x4000 + i, 0x8180, 1, 0, 0, 0) + \
            b"\x07privtst\x04test\x00\x00\x01\x00\x01"
        tx.sendto(dns, ("127.0.0.1", pd))
        sent.append(tt.MAGIC + b"\0\0\0\0" + dns)
    tx.close()
    rx.close()
    t.check(wait_until(lambda: len(coll.messages) >= len(sent), 15),
            "the collector received the %d responses captured on lo after the switch (%d)"
            % (len(sent), len(coll.messages)))
    ok, out = blast(sock, dtfile)
    t.check(ok, "a dnstap writer connected and sent its file after the switch", out)
    want = sent + ex_dt.messages
    wait_until(lambda: len(coll.messages) >= len(want), 20)
    rc = run.terminate(15)
    t.eq(rc, 0, "exit status after SIGTERM")
    coll.wait_closed(5)
    missing, unexpected, text = tt.multiset_diff(coll.messages, want)
    t.check(not missing and not unexpected,
            "the collector received exactly the lo responses and the dnstap file's messages "
            "(%d + %d)" % (len(sent), len(ex_dt.messages)), text)
coll.kill()

# ------------------------------------------------------------ 3. host name

t.info("--- 3. -u nobody, collector by host name (resolver threads)")
coll = tt.TCPCollector()
sock = os.path.join(work, "dt3.sock")
run = tt.Run(["-u", "nobody", "-L", "0", "--dnstap-socket", sock,
              "--collector", "tcp://localhost:%d" % coll.port], workdir=work)
if t.check(wait_until(lambda: not run.running() or "running as user" in run.stderr, 15) and run.running(),
           "tapxfr started and logged 'running as user'", run.stderr[-1500:]):
    # the resolver ran (connected, or gave up on this address): its threads exist
    wait_until(lambda: coll.connections >= 1 or "cannot" in run.stderr, 10)
    check_creds("-u nobody, collector localhost", run.proc.pid, UID, GID, 0, 0)
    rc = run.terminate(15)
    t.eq(rc, 0, "exit status after SIGTERM")
coll.kill()

# ------------------------------------------------------------ 4. root

t.info("--- 4. as root without -u")
coll = tt.TCPCollector()
r = tt.run_tapxfr(["-r", pcap, "--collector", "tcp://127.0.0.1:%d" % coll.port], timeout=20)
t.eq(r.rc, 0, "as root, -r FILE: exit status")
t.check(re.search(r"running as root", r.stderr), "as root without -u: the 'running as root' warning",
        r.stderr[-1000:])
coll.kill()
t.done()
