#!/usr/bin/env python3
"""The README's quick start: contrib/quickstart.sh runs tapxfr on the bundled
capture into tapxfr-collect and shows the records that arrived. Its output
must be the 16 responses of contrib/sample.pcap (real kdig traffic to Knot),
with the nameserver field set exactly for the authoritative IPv4 answers."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

SRC = os.environ.get("TESTS_SRCDIR", os.path.join(os.path.dirname(__file__), ".."))
TAPXFR = os.environ.get("TAPXFR")

# (question, type, nameserver field) of every response in the sample, in
# capture order, as kdig printed them when the capture was recorded.
EXPECTED = [
    ("example.com.", "A", "127.0.0.1"),
    ("example.com.", "AAAA", "127.0.0.1"),
    ("www.example.com.", "A", "127.0.0.1"),
    ("example.com.", "MX", "127.0.0.1"),
    ("example.com.", "NS", "127.0.0.1"),
    ("example.com.", "TXT", "127.0.0.1"),
    ("nope.example.com.", "A", "127.0.0.1"),   # NXDOMAIN, AA
    ("www.sub.example.com.", "A", "0"),        # referral: AA clear
    ("example.org.", "A", "0"),                # REFUSED
    ("example.com.", "TXT", "0"),              # CHAOS class: REFUSED
    ("big.example.com.", "TXT", "127.0.0.1"),  # 743 bytes over EDNS
    ("big.example.com.", "TXT", "127.0.0.1"),  # truncated (TC), no EDNS
    ("example.com.", "AAAA", "0"),             # over IPv6: never an address
    ("mail.example.com.", "A", "0"),           # over IPv6
    ("example.com.", "A", "127.0.0.1"),        # over TCP (kdig +tcp)
    ("example.com.", "DNSKEY", "127.0.0.1"),
]


def main():
    if not TAPXFR:
        tt.skip("TAPXFR not set")
    env = dict(os.environ, TAPXFR_BIN=os.path.dirname(TAPXFR))
    script = os.path.join(SRC, "..", "contrib", "quickstart.sh")
    p = subprocess.run(["sh", script], env=env, capture_output=True, text=True, timeout=60)
    print(p.stdout)
    failed = 0
    if p.returncode != 0:
        print("FAIL - quickstart.sh exited %d: %s" % (p.returncode, p.stderr))
        return 1
    records = [l.split() for l in p.stdout.splitlines()
               if l and l[0].isdigit() and " udp ns=" in l]
    got = [(r[3], r[4], r[2][3:]) for r in records]
    if got == EXPECTED:
        print("ok   - the collector shows the sample's 16 responses, in order, with the "
              "right nameserver field")
    else:
        failed += 1
        print("FAIL - records differ:\n  got  %s\n  want %s" % (got, EXPECTED))
    summary = [l for l in p.stdout.splitlines() if l.startswith("tapxfr-collect: received")]
    if summary == ["tapxfr-collect: received 16 messages, 0 invalid"]:
        print("ok   - the collector's summary: 16 messages, 0 invalid")
    else:
        failed += 1
        print("FAIL - summary line: %s" % summary)
    stats = [l for l in p.stderr.splitlines() if "tapxfr: stats: received=" in l]
    if stats and "responses=16 forwarded=16 dropped=0" in stats[-1]:
        print("ok   - tapxfr: responses=16 forwarded=16 dropped=0")
    else:
        failed += 1
        print("FAIL - tapxfr stats: %s" % stats)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
