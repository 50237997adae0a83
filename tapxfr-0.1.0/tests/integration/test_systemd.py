#!/usr/bin/env python3
"""The systemd units in contrib/systemd/ and the example contrib/default/tapxfr.

* Contents: tapxfr.service runs /usr/local/sbin/tapxfr $TAPXFR_OPTS in the
  foreground (Type=exec) with EnvironmentFile=-/etc/default/tapxfr,
  RuntimeDirectory=tapxfr, ordered before the DNS servers that write
  dnstap, reloads with SIGHUP, stops with SIGTERM within a TimeoutStopSec
  above tapxfr's default --flush-timeout (read from tapxfr --help), and
  runs as a dynamic user whose capabilities are CAP_NET_RAW and CAP_CHOWN
  at most, with the hardening settings; tapxfr-collect.service likewise,
  without capabilities. Each ExecStart= directory agrees with where
  Makefile.am installs the program (sbin_PROGRAMS: /usr/local/sbin,
  bin_PROGRAMS: /usr/local/bin, the default prefix).
* systemd-analyze verify: on copies of both units in a temp dir, whose
  ExecStart= binaries are replaced by the ones under test ($TAPXFR,
  $TAPXFR_COLLECT) or by stub scripts (verify fails on a command that does
  not exist, and nothing is installed under /usr/local here), with
  MANPATH pointing at copies of doc/tapxfr.8 and doc/tapxfr-collect.1
  (verify also runs man for Documentation=man:...): no output, exit 0. A
  copy with a misspelt key does produce output (the check can fail).
  systemd-analyze security --offline (systemd >= 250) is reported.
* The example options: exactly one TAPXFR_OPTS line, with no quotes
  inside (systemd would pass them on literally). tapxfr-collect with the
  unit's default TAPXFR_COLLECT_OPTS (ports made free, the -o file moved
  into a temp dir) starts and writes a line for a message it receives.
* ExecStartPost= (waits for every --dnstap-socket): run with sh as systemd
  would run it, it returns once both sockets of
  "--dnstap-socket A --dnstap-socket=B" exist, and at once without any.
* As root, with setpriv: tapxfr under test runs as nobody with exactly the
  unit's capabilities, with the example TAPXFR_OPTS (socket moved into a
  temp dir, a group nobody is not in, the test's collector) plus -i lo:
  the socket gets that group and mode 0660, ExecStartPost= returns once it
  exists, a DNS response sent on lo arrives at the collector as DNSXFR01,
  and SIGTERM ends tapxfr with status 0. Without CAP_CHOWN the group
  cannot be set and without CAP_NET_RAW lo cannot be captured: both
  capabilities are needed. Not root: tapxfr starts as the test's user
  with the example options (its own group) and makes the socket.

Skips (77) when systemd-analyze is missing (Debian package: systemd).
"""
import grp
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

TOP = os.path.dirname(tt.tests_srcdir())
UNITS = os.path.join(TOP, "contrib", "systemd")
DEFAULT = os.path.join(TOP, "contrib", "default", "tapxfr")
ANALYZE = tt.require_tool("systemd-analyze")
t = tt.Test("test_systemd", limit=100)
work = tt.tempdir()
os.chmod(work, 0o755)          # nobody runs a copy of tapxfr from here


def parse_unit(path):
    """{section: {key: [values in order]}} of a unit file (continuation
    lines joined, comments dropped)."""
    with open(path) as f:
        text = f.read().replace("\\\n", " ")
    out, sec = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            sec = out.setdefault(line[1:-1], {})
            continue
        k, _, v = line.partition("=")
        sec.setdefault(k.strip(), []).append(v.strip())
    return out


def one(unit, sec, key):
    v = unit.get(sec, {}).get(key, [])
    return v[-1] if v else None


def words(unit, sec, key):
    return [w for v in unit.get(sec, {}).get(key, []) for w in v.split()]


def install_dir(program):
    """Where `make install` puts src/PROGRAM with the default prefix,
    from Makefile.am, or None."""
    try:
        with open(os.path.join(TOP, "Makefile.am")) as f:
            am = f.read().replace("\\\n", " ")
    except OSError:
        return None
    for m in re.finditer(r"^(s?bin)_PROGRAMS\s*\+?=(.*)$", am, re.M):
        if "src/" + program in m.group(2).split():
            return "/usr/local/" + m.group(1)
    return None


tx_path = os.path.join(UNITS, "tapxfr.service")
tc_path = os.path.join(UNITS, "tapxfr-collect.service")
tx, tc = parse_unit(tx_path), parse_unit(tc_path)

# ---------------------------------------------------------------- contents
S = "Service"
t.check(one(tx, S, "Type") in ("simple", "exec"), "tapxfr: Type=simple or exec (foreground)")
t.eq(one(tx, S, "ExecStart"), "/usr/local/sbin/tapxfr $TAPXFR_OPTS", "tapxfr: ExecStart")
t.eq(one(tx, S, "EnvironmentFile"), "-/etc/default/tapxfr", "tapxfr: EnvironmentFile (optional)")
t.eq(one(tx, S, "RuntimeDirectory"), "tapxfr", "tapxfr: RuntimeDirectory (/run/tapxfr)")
before = words(tx, "Unit", "Before")
for u in ("unbound.service", "knot.service", "named.service", "kresd@1.service"):
    t.check(u in before, "tapxfr: Before=%s" % u)
t.check(re.search(r"\bkill -HUP \$MAINPID$", one(tx, S, "ExecReload") or ""),
        "tapxfr: ExecReload sends SIGHUP to $MAINPID")
t.eq(one(tx, S, "KillSignal"), "SIGTERM", "tapxfr: KillSignal")
helptext = ""
if os.environ.get("TAPXFR"):
    helptext = subprocess.run([tt.tapxfr_bin(), "--help"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT).stdout.decode(errors="replace")
m = re.search(r"--flush-timeout.*\(default (\d+)\)", helptext)
flush = int(m.group(1)) if m else 5
stop = re.fullmatch(r"(\d+)s?", one(tx, S, "TimeoutStopSec") or "")
t.check(stop and flush < int(stop.group(1)) <= flush + 30,
        "tapxfr: TimeoutStopSec (%s) a bit above the default flush timeout (%d s)"
        % (one(tx, S, "TimeoutStopSec"), flush))
caps = set(words(tx, S, "CapabilityBoundingSet"))
t.check(caps <= {"CAP_NET_RAW", "CAP_CHOWN"} and "CAP_NET_RAW" in caps,
        "tapxfr: capabilities CAP_NET_RAW (capture) and at most CAP_CHOWN: %s" % sorted(caps))
t.eq(set(words(tx, S, "AmbientCapabilities")), caps,
     "tapxfr: AmbientCapabilities == CapabilityBoundingSet")
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
             "PrivateTmp": "yes", "PrivateDevices": "yes", "DynamicUser": "yes",
             "ProtectKernelTunables": "yes", "ProtectControlGroups": "yes",
             "RestrictNamespaces": "yes", "MemoryDenyWriteExecute": "yes",
             "SystemCallArchitectures": "native"}
for name, unit in (("tapxfr", tx), ("tapxfr-collect", tc)):
    bad = ["%s=%s" % (k, one(unit, S, k)) for k, v in HARDENING.items() if one(unit, S, k) != v]
    t.check(not bad, "%s: hardening settings (%s)" % (name, ", ".join(sorted(HARDENING))),
            "differ: " + " ".join(bad))
t.eq(sorted(words(tx, S, "RestrictAddressFamilies")),
     sorted(["AF_UNIX", "AF_INET", "AF_INET6", "AF_PACKET", "AF_NETLINK"]),
     "tapxfr: RestrictAddressFamilies")
t.eq(one(tc, S, "ExecStart"), "/usr/local/bin/tapxfr-collect $TAPXFR_COLLECT_OPTS",
     "tapxfr-collect: ExecStart")
t.eq(words(tc, S, "CapabilityBoundingSet"), [], "tapxfr-collect: no capability")
for prog, unit, name in (("tapxfr", tx, "tapxfr"), ("tapxfr-collect", tc, "tapxfr-collect")):
    d = install_dir(prog)
    t.eq(os.path.dirname(one(unit, S, "ExecStart").split()[0]), d,
         "%s.service: ExecStart directory == where Makefile.am installs src/%s" % (name, prog))

# ---------------------------------------------------------------- verify
bindir = os.path.join(work, "bin")
os.mkdir(bindir)


def stub(name):
    p = os.path.join(bindir, name)
    with open(p, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(p, 0o755)
    return p


binaries = {
    "/usr/local/sbin/tapxfr": os.environ.get("TAPXFR") or stub("tapxfr"),
    "/usr/local/bin/tapxfr-collect": os.environ.get("TAPXFR_COLLECT") or stub("tapxfr-collect"),
}
unitdir = os.path.join(work, "units")
os.mkdir(unitdir)
copies = []
for src in (tx_path, tc_path):
    with open(src) as f:
        text = f.read()
    for installed, here in binaries.items():
        text = text.replace(installed + " ", here + " ")
    dst = os.path.join(unitdir, os.path.basename(src))
    with open(dst, "w") as f:
        f.write(text)
    copies.append(dst)
    t.check("/usr/local/" not in re.sub(r"(?m)^#.*$", "", text),
            "%s: the copy runs the binaries under test" % os.path.basename(src))
mandir = os.path.join(work, "man")
for page in ("tapxfr.8", "tapxfr-collect.1"):
    d = os.path.join(mandir, "man" + page[-1])
    os.makedirs(d, exist_ok=True)
    shutil.copy(os.path.join(TOP, "doc", page), d)
env = dict(os.environ, MANPATH=mandir, SYSTEMD_PAGER="", SYSTEMD_COLORS="0", LC_ALL="C")
man_opt = [] if tt.which("man") else ["--man=no"]
if man_opt:
    t.skip_part("the check of the units' Documentation= man pages (man not installed)")


def verify(paths):
    r = subprocess.run([ANALYZE, "verify"] + man_opt + paths, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, env=env, cwd=unitdir, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace")


rc, out = verify(copies)
t.check(rc == 0 and not out.strip(), "systemd-analyze verify: both units, no output, exit 0",
        "exit %d:\n%s" % (rc, out))
broken = os.path.join(unitdir, "broken.service")
with open(copies[0]) as f:
    text = f.read()
with open(broken, "w") as f:
    f.write(text.replace("Type=exec", "Tpye=exec"))
rc, out = verify([broken])
t.check("Tpye" in out, "systemd-analyze verify: a misspelt key is reported (control)", out)
os.unlink(broken)
r = subprocess.run([ANALYZE, "security", "--offline=true"] + copies, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, env=env, cwd=unitdir, timeout=60)
for line in r.stdout.decode(errors="replace").splitlines():
    if "Overall exposure" in line:
        t.info(line.strip())

# ---------------------------------------------------------------- options
with open(DEFAULT) as f:
    opts_lines = [line for line in f if line.startswith("TAPXFR_OPTS=")]
t.eq(len(opts_lines), 1, "default/tapxfr: exactly one active TAPXFR_OPTS line")
m = re.fullmatch(r'TAPXFR_OPTS="([^"]*)"\n?', opts_lines[0] if opts_lines else "")
t.check(m and "'" not in m.group(1), "default/tapxfr: TAPXFR_OPTS=\"...\" without quotes inside")
OPTS = m.group(1).split() if m else []
t.check("--dnstap-socket" in OPTS and "/run/tapxfr/dnstap.sock" in OPTS,
        "default/tapxfr: the dnstap socket is /run/tapxfr/dnstap.sock (RuntimeDirectory)")

# ---------------------------------------------------------------- ExecStartPost
post = one(tx, S, "ExecStartPost") or ""
argv = shlex.split(post)
t.check(len(argv) == 3 and argv[:2] == ["/bin/sh", "-c"], "tapxfr: ExecStartPost=/bin/sh -c '...'")
SCRIPT = argv[2].replace("$$", "$") if len(argv) == 3 else "exit 1"


def run_post(opts, timeout=15):
    """Runs ExecStartPost's script as systemd would. Returns (status,
    seconds)."""
    t0 = time.time()
    r = subprocess.run(["/bin/sh", "-c", SCRIPT], env=dict(os.environ, TAPXFR_OPTS=opts),
                       timeout=timeout)
    return r.returncode, time.time() - t0


def listen_later(path, delay, keep):
    def go():
        time.sleep(delay)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        keep.append(s)
    th = threading.Thread(target=go, daemon=True)
    th.start()
    return th


sa, sb, keep = os.path.join(work, "a.sock"), os.path.join(work, "b.sock"), []
listen_later(sa, 0.3, keep)
listen_later(sb, 0.8, keep)
rc, secs = run_post("--dnstap-socket %s -L 5 --dnstap-socket=%s 127.0.0.1 5300" % (sa, sb))
t.check(rc == 0 and 0.7 < secs < 5 and os.path.exists(sa) and os.path.exists(sb),
        "ExecStartPost: returns once both sockets exist (%.1f s, status %d)" % (secs, rc))
rc, secs = run_post("-i eth0 127.0.0.1 5300")
t.check(rc == 0 and secs < 0.5, "ExecStartPost: returns at once without --dnstap-socket "
        "(%.2f s)" % secs)
for s in keep:
    s.close()

# ---------------------------------------------------------------- tapxfr-collect
env_opts = [v for v in tc.get(S, {}).get("Environment", []) if "TAPXFR_COLLECT_OPTS=" in v]
COPTS = shlex.split(env_opts[-1])[0].split("=", 1)[1].split() if env_opts else []
t.check("-o" in COPTS and COPTS[COPTS.index("-o") + 1].startswith("/var/log/tapxfr-collect/")
        and one(tc, S, "LogsDirectory") == "tapxfr-collect",
        "tapxfr-collect: default options write into its LogsDirectory")
if os.environ.get("TAPXFR_COLLECT"):
    # The unit's default options, on free ports and a file in the temp dir.
    lines = os.path.join(work, "messages.log")
    o = [lines if w.startswith("/var/log/") else re.sub(r":\d+$", ":0", w) for w in COPTS]
    c = tt.Run(o, binary=tt.collect_bin(), workdir=work)
    port = None
    for _ in range(50):
        m = re.search(r"listening on udp 127\.0\.0\.1:(\d+)", c.stderr)
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.1)
    t.check(port, "tapxfr-collect: starts with the unit's options (%s)" % " ".join(COPTS),
            c.stderr[-600:])
    if port:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        q = b"\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
        u.sendto(tt.MAGIC + bytes(4) + struct.pack(">HHHHHH", 1, 0x8180, 1, 0, 0, 0) + q,
                 ("127.0.0.1", port))
        u.close()
        for _ in range(50):
            if os.path.exists(lines) and os.path.getsize(lines):
                break
            time.sleep(0.1)
    c.terminate()
    with open(lines) if os.path.exists(lines) else open(os.devnull) as f:
        got = f.read()
    t.check(got.count("\n") == 1 and "example.com" in got,
            "tapxfr-collect: a message arrives as one line in the -o file", got[:300])

# ---------------------------------------------------------------- capabilities
setpriv = tt.which("setpriv")
if os.geteuid() != 0 or not setpriv or not os.environ.get("TAPXFR"):
    t.skip_part("capability part (needs root, setpriv and $TAPXFR)")
    if os.environ.get("TAPXFR"):
        # At least the example options, as this user, with a group it is in.
        o = list(OPTS)
        sock = os.path.join(work, "dnstap.sock")
        o[o.index("--dnstap-socket") + 1] = sock
        if "--dnstap-socket-group" in o:
            o[o.index("--dnstap-socket-group") + 1] = grp.getgrgid(os.getegid()).gr_name
        coll = tt.UDPCollector()
        r = tt.Run(o[:-2] + ["127.0.0.1", str(coll.port)], workdir=work)
        rc, secs = run_post(" ".join(o))
        t.check(rc == 0 and os.path.exists(sock) and r.running(),
                "tapxfr starts with the example options and makes the socket", r.stderr[-600:])
        t.eq(r.terminate(), 0, "tapxfr with the example options: SIGTERM, exit status 0")
        coll.close()
    t.done()

nobody = pwd.getpwnam("nobody")
# A group nobody is not in: only CAP_CHOWN lets tapxfr hand the socket to it.
group = None
for g in ("unbound", "daemon", "sys", "adm"):
    try:
        e = grp.getgrnam(g)
    except KeyError:
        continue
    if e.gr_gid != nobody.pw_gid and "nobody" not in e.gr_mem:
        group = e
        break
tapxfr = os.path.join(bindir, "tapxfr-under-test")
shutil.copy(tt.tapxfr_bin(), tapxfr)          # the build tree may be closed to nobody
os.chmod(tapxfr, 0o755)
rundir = os.path.join(work, "run")
os.mkdir(rundir)
os.chown(rundir, nobody.pw_uid, nobody.pw_gid)
sock = os.path.join(rundir, "dnstap.sock")
dnsport = tt.reserve_port(socket.SOCK_DGRAM)


def unit_opts(coll_port):
    """The example TAPXFR_OPTS, moved to the test's socket, group and
    collector, plus a capture on lo."""
    o = list(OPTS)
    o[o.index("--dnstap-socket") + 1] = sock
    if "--dnstap-socket-group" in o:
        o[o.index("--dnstap-socket-group") + 1] = group.gr_name
    o = o[:-2] + ["-v", "-i", "lo", "-f", "udp port %d" % dnsport, "127.0.0.1", str(coll_port)]
    return o


def run_as_unit(capset, coll_port):
    spec = ",".join(["-all"] + ["+" + c[4:].lower() for c in sorted(capset)])
    cmd = [setpriv, "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups",
           "--inh-caps=" + spec, "--ambient-caps=" + spec, "--bounding-set=" + spec,
           "--no-new-privs", tapxfr] + unit_opts(coll_port)
    return tt.Run(cmd[1:], binary=cmd[0], workdir=work)


def dns_response():
    # id 0x7a11, QR AA RD, one question example.com A IN, no answer
    q = b"\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
    return struct.pack(">HHHHHH", 0x7A11, 0x8500, 1, 0, 0, 0) + q


if group is None:
    t.skip_part("capability part (no group found that nobody is not in)")
    t.done()
t.info("running tapxfr as nobody with %s, socket group %s" % (" ".join(sorted(caps)), group.gr_name))
coll = tt.UDPCollector()
r = run_as_unit(caps, coll.port)
rc, secs = run_post(" ".join(unit_opts(coll.port)))
t.check(rc == 0 and os.path.exists(sock), "as the unit: ExecStartPost returned once tapxfr "
        "made the socket (%.1f s)" % secs, r.stderr[-800:])
st = os.stat(sock) if os.path.exists(sock) else None
t.check(st and stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
        and st.st_gid == group.gr_gid and st.st_uid == nobody.pw_uid,
        "as the unit: socket owned by nobody, group %s, mode 0660" % group.gr_name,
        "stat: %r" % (st,))
want = tt.MAGIC + socket.inet_aton("127.0.0.1") + dns_response()
tx_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("127.0.0.1", dnsport))
deadline = time.time() + 10
while time.time() < deadline and not coll.messages and r.running():
    tx_sock.sendto(dns_response(), ("127.0.0.1", dnsport))
    time.sleep(0.3)
t.check(want in coll.messages, "as the unit: a DNS response captured on lo arrives as DNSXFR01",
        r.stderr[-800:])
t.eq(r.terminate(), 0, "as the unit: SIGTERM, exit status 0")
coll.close()
for cap in sorted(caps):
    less = caps - {cap}
    coll = tt.UDPCollector()
    if os.path.exists(sock):
        os.unlink(sock)
    r = run_as_unit(less, coll.port)
    rc = r.wait(5)
    coll.close()
    err = r.stderr
    t.check(rc not in (None, 0) and ("permission" in err.lower() or "not permitted" in err),
            "without %s tapxfr cannot start with these options (status %r)" % (cap, rc), err[-600:])
tx_sock.close()
sink.close()
t.done()
