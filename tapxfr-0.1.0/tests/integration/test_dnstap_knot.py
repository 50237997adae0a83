#!/usr/bin/env python3
"""tapxfr --dnstap-socket fed by Knot DNS's mod-dnstap (AUTH_RESPONSE).

A real knotd (contrib/dnstap/knot.conf, log-responses only) serves a test
zone on 127.0.0.1 and ::1 (random port) and writes dnstap to tapxfr's
Unix socket. A Python stub asks it a mix of questions: answers with data
(A, AAAA, MX, CNAME, 40 plain A), NXDOMAIN, NODATA, a 1 kB TXT over UDP
with EDNS, the same truncated (TC) without EDNS and over TCP, a referral
(RD clear, below a delegation: AA clear), REFUSED (not our zone: AA
clear), and one question over ::1.

The oracle here needs no dnstap at all: for an authoritative server the
response in AUTH_RESPONSE is the answer the client got, byte for byte. So
the collector must receive exactly (as a multiset) one DNSXFR01 message
per answer: "DNSXFR01" + 127.0.0.1 for AA answers over IPv4 (0.0.0.0 for
the referral, REFUSED and the IPv6 answer) + the answer's bytes (over TCP:
without the length prefix). The stats line agrees (every frame an
AUTH_RESPONSE, received == frames, nothing dropped), knotd stops within
5 s (it waits for tapxfr's FINISH), and tapxfr exits 0 on SIGTERM.

Phase 2: the same traffic into a tapxfr started with --dnstap-types
client-response: nothing is forwarded (AUTH_RESPONSE not selected).

Run with --reference to check the server side and the oracle with
fstrm_capture in place of tapxfr (the captured frames, decoded by the
pure-Python reader, must give exactly the expected messages).
"""
import os
import socket
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402
import dnstap_servers as ds  # noqa: E402

tt.require_root("servers on loopback, like the other server tests")
ds.require("knotd", "knot")
mode = ds.mode_from_argv()
t = tt.Test("test_dnstap_knot" + (" (reference)" if mode == "reference" else ""), limit=110)
work = tt.tempdir()
sock = os.path.join(work, "dt.sock")
port = ds.free_port()
v6 = ds.have_ipv6_loopback()
LOCAL = socket.inet_aton("127.0.0.1")
Z = "tapxfr.test."

listen = [("127.0.0.1", port)] + ([("::1", port)] if v6 else [])
zones = {Z: ds.test_zone(Z, child=("sub", "192.0.2.53"))}

# (what, server, name, type, rd, tcp, edns)
QUERIES = [
    ("www A", "127.0.0.1", "www." + Z, "A", True, False, 1232),
    ("www AAAA", "127.0.0.1", "www." + Z, "AAAA", True, False, 1232),
    ("apex MX", "127.0.0.1", Z, "MX", True, False, 1232),
    ("alias CNAME->A", "127.0.0.1", "alias." + Z, "A", True, False, 1232),
    ("NXDOMAIN", "127.0.0.1", "nonexistent." + Z, "A", True, False, 1232),
    ("NODATA", "127.0.0.1", "www." + Z, "MX", True, False, 1232),
    ("big TXT EDNS 4096", "127.0.0.1", "big." + Z, "TXT", True, False, 4096),
    ("big TXT no EDNS (TC)", "127.0.0.1", "big." + Z, "TXT", True, False, None),
    ("big TXT over TCP", "127.0.0.1", "big." + Z, "TXT", True, True, None),
    ("www A over TCP", "127.0.0.1", "www." + Z, "A", True, True, 1232),
    ("referral (RD clear)", "127.0.0.1", "www.sub." + Z, "A", False, False, 1232),
    ("REFUSED (not our zone)", "127.0.0.1", "example.com.", "A", True, False, 1232),
] + [("h%d A" % i, "127.0.0.1", "h%d.%s" % (i, Z), "A", True, False, 1232) for i in range(40)]
if v6:
    QUERIES.append(("www AAAA over ::1", "::1", "www." + Z, "AAAA", True, False, 1232))


def ask_all():
    """Asks every question; returns [(what, server, proto, answer)]."""
    out = []
    for what, server, name, qt, rd, tcp, edns in QUERIES:
        a = ds.dns_query(server, port, name, qt, rd=rd, tcp=tcp, edns=edns)
        out.append((what, server, tcp, a))
    return out


def expected_of(answers):
    exp = []
    for _what, server, _tcp, a in answers:
        ns = LOCAL if ds.is_aa(a) and ":" not in server else ds.ZERO4
        exp.append(tt.MAGIC + ns + a)
    return exp


# ---------------------------------------------------------------- phase 1
sink = ds.make_sink(mode, work, sock=sock)
sink.start()
knot = ds.Knot(work, zones, listen, dnstap_sock=sock).start()
knot.wait_zones([Z])
t.check(ds.wait_writers(sock, 1, 10), "knotd connected to the dnstap socket")

answers = ask_all()
lost = [w for w, _s, _p, a in answers if a is None]
t.check(not lost, "knotd answered all %d questions" % len(answers), "no answer: %s" % lost)
answers = [x for x in answers if x[3] is not None]
byname = {w: a for w, _s, _p, a in answers}
# Hand-written facts about the answers (what the scenario must contain).
t.check(ds.is_tc(byname["big TXT no EDNS (TC)"]) and ds.ancount(byname["big TXT no EDNS (TC)"]) == 0,
        "the TXT answer without EDNS is truncated (TC, no answer)")
t.check(len(byname["big TXT over TCP"]) > 512 and not ds.is_tc(byname["big TXT over TCP"]),
        "the TXT answer over TCP is whole (%d bytes)" % len(byname["big TXT over TCP"]))
t.check(not ds.is_aa(byname["referral (RD clear)"]) and ds.ancount(byname["referral (RD clear)"]) == 0,
        "the referral has AA clear")
t.eq(ds.rcode(byname["REFUSED (not our zone)"]), 5, "example.com: REFUSED")
t.eq(ds.rcode(byname["NXDOMAIN"]), 3, "nonexistent: NXDOMAIN")
want = expected_of(answers)
n_aa4 = sum(1 for m in want if m[8:12] == LOCAL)
t.info("%d answers, %d of them AA over IPv4 (nameserver field 127.0.0.1)" % (len(want), n_aa4))

sink.wait(count=len(want), timeout=10)
rc, took = knot.stop()
t.eq(rc, 0, "knotd exited 0 on SIGTERM")
t.check(took is not None and took < 5.0, "knotd stopped within 5 s (it waits for the reader's FINISH): %s s"
        % (None if took is None else round(took, 2)))
if mode == "reference":
    sink.stop()
    frames = sink.frames()
    ex = ds.expected_from_frames(frames)
    t.eq(ex.frames, len(want), "reference: one dnstap frame per answer")
    t.eq(dict(ex.by_type), {ds.AUTH_RESPONSE: len(want)}, "reference: every frame is an AUTH_RESPONSE")
    msgs = [ds.decode_dnstap(f) for f in frames]
    t.check(all(m.response is not None and m.query is None for m in msgs),
            "reference: response_message in each, no query_message (responses-with-queries off)")
    t.check(all(m.raddr in (LOCAL, socket.inet_pton(socket.AF_INET6, "::1")) for m in msgs),
            "reference: response_address is Knot's own address")
    t.check(all(m.identity and m.version and m.version.startswith(b"Knot DNS") for m in msgs),
            "reference: identity and version set (%r)" % (msgs[0].version if msgs else None))
    tcp_n = sum(1 for m in msgs if m.proto == ds.TCP)
    t.eq(tcp_n, sum(1 for x in answers if x[2]), "reference: socket_protocol TCP on the TCP answers")
    got = ex.messages
else:
    got = sink.wait(count=len(want), timeout=5)
    rc = sink.stop()
    t.eq(rc, 0, "tapxfr exited 0 on SIGTERM")
    n = len(want)
    st = ds.check_dnstap_stats(t, sink.r.stderr, received=n, responses=n, forwarded=n, frames=n)
    t.eq((st or {}).get("dropped"), 0, "stats: dropped 0")
    sink.close()
missing, unexpected, text = tt.multiset_diff(got, want)
t.check(not missing and not unexpected,
        "collector received exactly one DNSXFR01 per answer, byte-identical (%d expected, %d received)"
        % (len(want), len(got)), text)
t.eq(sum(1 for m in got if m[8:12] == LOCAL), n_aa4, "nameserver field 127.0.0.1 on the AA answers over IPv4")

# ---------------------------------------------------------------- phase 2
if mode == "tapxfr":
    sink2 = ds.make_sink(mode, work, sock=sock, types={ds.CLIENT_RESPONSE})
    sink2.start()
    knot2 = ds.Knot(work, zones, listen, dnstap_sock=sock, name="knot2").start()
    knot2.wait_zones([Z])
    t.check(ds.wait_writers(sock, 1, 10), "phase 2: knotd connected")
    answers2 = [x for x in ask_all() if x[3] is not None]
    knot2.stop()
    sink2.wait(idle=1.0, timeout=3)
    rc = sink2.stop()
    t.eq(rc, 0, "--dnstap-types client-response: tapxfr exited 0")
    t.eq(len(sink2.messages), 0, "--dnstap-types client-response: nothing forwarded from Knot's AUTH_RESPONSEs")
    ds.check_dnstap_stats(t, sink2.r.stderr, received=len(answers2), responses=0, forwarded=0,
                          frames=len(answers2), what="--dnstap-types client-response")
    sink2.close()
t.done()
