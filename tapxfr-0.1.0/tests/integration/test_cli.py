#!/usr/bin/env python3
"""tapxfr's command line contract.

* --help exits 0 and mentions every option of the synopsis.
* --version exits 0 and prints the program name and a version number.
* Each bad command line (unknown option, missing HOST PORT, bad port, a
  bad option value, a BPF filter that does not compile, an -r file that
  does not exist) gives exactly one line on stderr and exit status 2,
  and nothing is sent to the collector.
* The same for the newer options: --collector URLs that are not
  udp://HOST:PORT or tcp://HOST:PORT, an unknown -u user or -g group,
  and -T with --collector, -u or -d; the one line names what is wrong.
  --help mentions --collector, -u, -g, --pidfile, -d and --stats-file.
"""
import os
import pwd
import re
import struct
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_cli")
work = tt.tempdir()

# A valid one-response capture (raw IPv4, zero UDP checksum: legal), so
# that each bad case below has only one fault.
dns = bytes.fromhex("123485800001000000000000") + b"\x03www\x07example\x00\x00\x01\x00\x01"
udp = struct.pack(">HHHH", 53, 40000, 8 + len(dns), 0) + dns
hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                  bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
s = sum(struct.unpack(">10H", hdr))
while s >> 16:
    s = (s & 0xFFFF) + (s >> 16)
hdr = hdr[:10] + struct.pack(">H", ~s & 0xFFFF) + hdr[12:]
pcap = os.path.join(work, "one.pcap")
tt.write_pcap(pcap, tt.LT_RAW, [hdr + udp])
t.eq(len(tt.oracle(pcap).messages), 1, "the one-response capture is valid (oracle)")

coll = tt.UDPCollector()
port = str(coll.port)

# ---------------------------------------------------------------- --help
r = tt.run_tapxfr(["--help"], timeout=10)
t.eq(r.rc, 0, "--help: exit status")
text = r.stdout + r.stderr
t.info("--help printed %d lines on stdout, %d on stderr"
       % (len(r.stdout.splitlines()), len(r.stderr.splitlines())))
options = ["-A", "-D", "-t", "-T", "-v", "-i", "-r", "-f", "-L", "-b",
           "--max-size", "--queue-size", "--flush-timeout", "--syslog"]
missing = [o for o in options if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), text)]
t.check(not missing, "--help mentions every option (%s)" % " ".join(options),
        "missing: %s\nhelp text:\n%s" % (" ".join(missing), text[:2000]))
t.check(re.search(r"HOST", text) and re.search(r"PORT", text), "--help mentions HOST and PORT")
new_options = ["--collector", "-u", "-g", "--pidfile", "-d", "--stats-file"]
missing = [o for o in new_options if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), text)]
t.check(not missing, "--help mentions the newer options (%s)" % " ".join(new_options),
        "missing: %s" % " ".join(missing))

# ---------------------------------------------------------------- --version
r = tt.run_tapxfr(["--version"], timeout=10)
t.eq(r.rc, 0, "--version: exit status")
v = (r.stdout + r.stderr).strip()
t.check("tapxfr" in v and re.search(r"\d+\.\d+", v), "--version prints the name and a version: %r" % v[:80])

# ---------------------------------------------------------------- bad lines
bad = [
    ("unknown short option", ["-Z", "-r", pcap, "127.0.0.1", port]),
    ("unknown long option", ["--no-such-option", "-r", pcap, "127.0.0.1", port]),
    ("no arguments at all", []),
    ("missing HOST PORT", ["-r", pcap]),
    ("missing PORT", ["-r", pcap, "127.0.0.1"]),
    ("extra argument", ["-r", pcap, "127.0.0.1", port, "extra"]),
    ("port out of range (65536)", ["-r", pcap, "127.0.0.1", "65536"]),
    ("port not a number (12ab)", ["-r", pcap, "127.0.0.1", "12ab"]),
    ("empty port", ["-r", pcap, "127.0.0.1", ""]),
    ("option without its argument (-r)", ["127.0.0.1", port, "-r"]),
    ("--max-size not a number", ["--max-size", "big", "-r", pcap, "127.0.0.1", port]),
    ("--queue-size not a number", ["--queue-size", "x1", "-r", pcap, "127.0.0.1", port]),
    ("-L not a number", ["-L", "often", "-r", pcap, "127.0.0.1", port]),
    ("BPF filter that does not compile", ["-f", "udp port and and (", "-r", pcap, "127.0.0.1", port]),
    ("nonexistent -r file", ["-r", os.path.join(work, "no-such-file.pcap"), "127.0.0.1", port]),
]
for what, args in bad:
    r = tt.run_tapxfr(args, timeout=10)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    ok = r.rc == 2 and len(lines) == 1 and "stats:" not in lines[0]
    t.check(ok, "%s: exit 2 and one stderr line: rc=%r, %r"
            % (what, r.rc, lines[0] if len(lines) == 1 else "%d lines" % len(lines)),
            None if ok else "stderr:\n" + r.stderr[:1500])

# The newer options: (what, args, a word the one line must contain).
try:
    me = pwd.getpwuid(os.getuid()).pw_name      # a user that exists, so -g is the fault
except KeyError:
    me = str(os.getuid())
bad_new = [
    ("--collector with another scheme (http://)",
     ["--collector", "http://127.0.0.1:" + port, "-r", pcap], "http://"),
    ("--collector without scheme", ["--collector", "127.0.0.1:" + port, "-r", pcap], "--collector"),
    ("--collector without port", ["--collector", "tcp://127.0.0.1", "-r", pcap], "--collector"),
    ("--collector with empty port", ["--collector", "tcp://127.0.0.1:", "-r", pcap], "--collector"),
    ("--collector with empty host", ["--collector", "tcp://:" + port, "-r", pcap], "--collector"),
    ("--collector with nothing after the scheme", ["--collector", "udp://", "-r", pcap], "--collector"),
    ("--collector with port 0", ["--collector", "udp://127.0.0.1:0", "-r", pcap], "--collector"),
    ("--collector with port 65536", ["--collector", "udp://127.0.0.1:65536", "-r", pcap], "--collector"),
    ("--collector with port not a number", ["--collector", "tcp://127.0.0.1:12ab", "-r", pcap],
     "--collector"),
    ("--collector with a path after the port", ["--collector", "udp://127.0.0.1:%s/x" % port, "-r", pcap],
     "--collector"),
    ("--collector with an unclosed IPv6 bracket", ["--collector", "tcp://[::1:" + port, "-r", pcap],
     "--collector"),
    ("--collector with no colon after the IPv6 bracket", ["--collector", "tcp://[::1]" + port, "-r", pcap],
     "--collector"),
    ("--collector empty", ["--collector", "", "-r", pcap], "--collector"),
    ("a bad --collector after a good one",
     ["--collector", "udp://127.0.0.1:" + port, "--collector", "tcp//127.0.0.1:" + port, "-r", pcap],
     "tcp//"),
    ("--collector without its argument", ["-r", pcap, "--collector"], "--collector"),
    ("unknown -u user", ["-u", "no-such-user-tapxfr", "-r", pcap, "127.0.0.1", port],
     "no-such-user-tapxfr"),
    ("unknown -g group", ["-u", me, "-g", "no-such-group-tapxfr", "-r", pcap, "127.0.0.1", port],
     "no-such-group-tapxfr"),
    ("-T with --collector", ["-T", "--collector", "udp://127.0.0.1:" + port], "-T"),
    ("-T with -u", ["-T", "-u", me], "-T"),
    ("-T with -d", ["-T", "-d"], "-T"),
]
for what, args, needle in bad_new:
    r = tt.run_tapxfr(args, timeout=10)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    ok = r.rc == 2 and len(lines) == 1 and "stats:" not in lines[0] and needle in lines[0]
    t.check(ok, "%s: exit 2 and one stderr line naming %r: rc=%r, %r"
            % (what, needle, r.rc, lines[0] if len(lines) == 1 else "%d lines" % len(lines)),
            None if ok else "stderr:\n" + r.stderr[:1500])

coll.wait(idle=0.3, timeout=2)
t.eq(len(coll.messages), 0, "nothing was sent to the collector by any bad command line")
coll.close()

# The same one-response file with a good command line does get through,
# so the bad cases above failed for the reason given.
coll = tt.UDPCollector()
r = tt.run_tapxfr(["-r", pcap, "127.0.0.1", str(coll.port)], timeout=15)
t.eq(r.rc, 0, "control: the good command line exits 0")
coll.wait(count=1, idle=1.0, timeout=5)
t.eq(len(coll.messages), 1, "control: the good command line forwards the one response")
coll.close()
t.done()
