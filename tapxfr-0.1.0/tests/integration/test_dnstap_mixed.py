#!/usr/bin/env python3
"""One tapxfr, two kinds of input, one collector: a dnstap socket fed by a
real Unbound and a pcap file (tests/data/kdig-knot.pcap with
-f "udp port 57911", see tests/data/README.md), at the same time.

  tapxfr --dnstap-socket SOCK -r kdig-knot.pcap -f "udp port 57911" 127.0.0.1 PORT

With a socket input tapxfr keeps running after the file is done; Unbound
(stub zone to a Knot DNS on loopback, contrib/dnstap/unbound.conf) then
resolves the usual mix. The collector must receive both sets, each
exactly: the 9 UDP responses of the capture (the pcap oracle of
tapxfr_test, nameserver 127.0.0.1 on AA over IPv4) and one DNSXFR01 per
upstream answer Unbound received (tcpdump capture on lo, byte-identical).
Stats: responses == forwarded == 9 + upstream answers, nothing dropped,
received == the pcap packets the filter passes + dnstap frames.
--reference: fstrm_capture takes the dnstap side (the pcap side is then
only checked through the oracle).
"""
import os
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("tcpdump on lo")
ds.require("unbound", "unbound")
ds.require("knotd", "knot")
ds.require("tcpdump", "tcpdump")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_mixed" + (" (reference)" if mode == "reference" else ""), limit=110)
work = tt.tempdir()
raw = tt.data_path("kdig-knot.pcap")
if not os.path.exists(raw):
    tt.skip("%s missing" % raw)
KNOT_PORT = 57911
pex = tt.oracle(raw, port=KNOT_PORT)
t.eq(pex.forwarded, 9, "pcap oracle: the 9 UDP responses of the capture")
lt, frames = tt.read_pcap(raw)
n_pcap_udp = sum(1 for f in frames if not isinstance(tt.decode_frame(lt, f[2]), str))
t.info("pcap: %d UDP packets on port %d (what the filter passes)" % (n_pcap_udp, KNOT_PORT))

lab = ds.AuthLab(work, child=False)
QUESTIONS = [(n, qt, True) for n, qt in lab.queries()]


def start(sock):
    return ds.Unbound(work, ds.free_port(), lab.stub, dnstap_sock=sock).start()


res = ds.run_resolver(t, mode, work, lab, "mixed", start, QUESTIONS,
                      sink_extra=["-r", raw, "-f", "udp port %d" % KNOT_PORT],
                      extra_wait=lambda: pex.forwarded if mode == "tapxfr" else 0)
want_dt = res.upstream
want = want_dt + (pex.messages if mode == "tapxfr" else [])
t.check(len(want_dt) >= len(QUESTIONS), "loopback capture: %d upstream answers" % len(want_dt))
missing, unexpected, text = tt.multiset_diff(res.got, want)
t.check(not missing and not unexpected,
        "collector: exactly the %d dnstap messages%s (%d received)"
        % (len(want_dt), " and the 9 pcap messages" if mode == "tapxfr" else "", len(res.got)), text)
if mode == "tapxfr":
    got = set(res.got)
    t.check(all(m in got for m in pex.messages), "all 9 messages of the pcap file arrived")
    t.check(all(m in got for m in want_dt), "all dnstap messages arrived")
    n = len(want)
    st = ds.check_dnstap_stats(t, res.stderr, responses=n, forwarded=n, frames=len(want_dt),
                               received=n_pcap_udp + len(want_dt))
    t.eq((st or {}).get("dropped"), 0, "stats: dropped 0")
lab.stop()
t.done()
