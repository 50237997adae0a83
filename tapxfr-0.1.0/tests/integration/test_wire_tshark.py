#!/usr/bin/env python3
"""tests/tools/gen_wire.py against tshark: the reassembly oracle checked by
an independent reassembler (Wireshark's).

gen_wire.py writes a capture of DNS that needs IP fragment reassembly
(IPv4 and IPv6) and DNS-over-TCP stream reassembly, and the list of DNS
responses a correct sensor must forward (its "oracle", derived from what
it emitted). Here tshark reassembles the same capture:

    tshark -r FILE -o ip.defragment:TRUE -o ipv6.defragment:TRUE
      -o tcp.desegment_tcp_streams:TRUE -o tcp.analyze_sequence_numbers:TRUE
      -o dns.desegment_dns_messages:TRUE [-o tcp.reassemble_out_of_order:TRUE]
      -Y dns.flags.response==1 -T json -x --no-duplicate-keys -J "frame udp tcp dns"

and the DNS responses it dissects (their bytes, dns_raw; over TCP without
the 2-byte length, which must equal the message length) are compared,
case by case, with the oracle. A tshark response is assigned to its case
by the client's port (each exchange in the capture has its own).

Where tshark's rule is ours, the multiset of its responses must equal the
oracle's expected responses of the case EXACTLY (byte for byte, each once,
nothing else from the case's connections or datagrams):

  udp-plain; ip{4,6}-frag-inorder, -reversed, -shuffled, -duplicated,
  -interleaved, -missing (nothing); ip6-frag-atomic; tcp-simple,
  -pipelined, -split, -coalesced, -retransmit, -fastopen, -rst;
  tcp-midstream when the capture starts on a message boundary;
  tcp-loss in the run without out-of-order reassembly (tshark, like the
  oracle, resumes after the gap at the next message);
  tcp-reordered in the run with tcp.reassemble_out_of_order:TRUE (without
  it tshark 4.0 does not reassemble segments that arrive early).

Where tshark differs (reported, not failed):

  ip{4,6}-frag-overlap, -unaligned: tshark reassembles overlapping
  fragments (it keeps the first copy of overlapping bytes and reports a
  conflict) and does not check that non-last fragments are multiples of 8
  bytes; the oracle forwards neither (RFC 5722; RFC 8200 section 4.5).
  Its responses there must be the emitted response or bytes it mixed
  from the fragments, never another case's message.
  tcp-midstream starting inside a response: tshark takes the first
  captured byte as a message start and loses the stream; the oracle
  expects the responses that start after the pick-up.
  tcp-loss with out-of-order reassembly on: tshark waits for the missing
  segment and dissects nothing after it.
  tcp-reordered without it: tshark skips the segments that came early.

Also: the capture is deterministic for a seed; tshark's TCP analysis
sees each TCP case as what it claims (retransmissions, out-of-order and
lost segments, data in a SYN, RSTs, no SYN mid-stream); tshark finds no bad IP or
TCP checksum and no bad UDP checksum except on datagrams it mixed from
conflicting overlaps; no malformed DNS except in mid-stream pick-ups; the
test harness's own oracle (tapxfr_test.oracle, no reassembly) finds
exactly the oracle's "needs: none" responses; and the JSON's counts add
up. Two captures: MTU 1280 (seed 11) and 576 (seed 12).
"""
import collections
import hashlib
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tshark = tt.require_tool("tshark")
t = tt.Test("test_wire_tshark", limit=110)
work = tt.tempdir()

REASSEMBLY = ["-o", "ip.defragment:TRUE", "-o", "ipv6.defragment:TRUE",
              "-o", "tcp.desegment_tcp_streams:TRUE", "-o", "tcp.analyze_sequence_numbers:TRUE",
              "-o", "dns.desegment_dns_messages:TRUE"]
OOO = ["-o", "tcp.reassemble_out_of_order:TRUE"]
CHECKSUMS = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
             "-o", "tcp.check_checksum:TRUE"]

# Cases where tshark follows the oracle's rule in every run.
AGREE = {"udp-plain", "ip6-frag-atomic", "tcp-simple", "tcp-pipelined", "tcp-split",
         "tcp-coalesced", "tcp-retransmit", "tcp-fastopen", "tcp-rst"}
for fam in (4, 6):
    for kind in ("inorder", "reversed", "shuffled", "duplicated", "interleaved", "missing"):
        AGREE.add("ip%d-frag-%s" % (fam, kind))
DIFFER = {"ip4-frag-overlap", "ip6-frag-overlap", "ip4-frag-unaligned", "ip6-frag-unaligned"}
# Per run: the cases (or case/label) whose rule is ours only in that run.
RUN_AGREE = {"default": {"tcp-loss", "tcp-midstream/boundary"},
             "out-of-order": {"tcp-reordered", "tcp-midstream/boundary"}}
RUN_DIFFER = {"default": {"tcp-reordered", "tcp-midstream/inside"},
              "out-of-order": {"tcp-loss", "tcp-midstream/inside"}}


def sh(cmd):
    print("   $ " + " ".join(tt._shq(a) for a in cmd), flush=True)


def gen(name, seed, mtu):
    pcap, js = os.path.join(work, name + ".pcap"), os.path.join(work, name + ".json")
    cmd = [sys.executable, "-B", tt.tool_path("gen_wire.py"), "--seed", str(seed), "--mtu", str(mtu),
           "--out", pcap, "--expected", js]
    sh(cmd)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if not t.check(r.returncode == 0, "%s: gen_wire.py exits 0" % name, r.stdout.decode(errors="replace")):
        return None, None
    t.info(r.stdout.decode(errors="replace").strip())
    with open(js) as f:
        return pcap, json.load(f)


def subcase(e):
    """The key a message is compared under: its case, or case/variant for
    mid-stream pick-ups."""
    if e["case"] == "tcp-midstream":
        return "tcp-midstream/" + ("boundary" if "boundary" in e["labels"] else "inside")
    return e["case"]


def one(v):
    return v[0] if isinstance(v, list) else v


def tshark_responses(pcap, extra):
    """[(frame number, transport, client port, DNS message bytes or None)]
    for every DNS response tshark dissects (None: a TCP PDU whose length
    prefix does not match its bytes)."""
    cmd = [tshark, "-r", pcap] + REASSEMBLY + extra + ["-Y", "dns.flags.response==1", "-T", "json",
                                                      "-x", "--no-duplicate-keys", "-J", "frame udp tcp dns"]
    sh(cmd)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if not t.check(r.returncode == 0, "tshark exits 0", r.stderr.decode(errors="replace")[-800:]):
        return []
    out = []
    for pkt in json.loads(r.stdout.decode("utf-8", "replace") or "[]"):
        lay = pkt["_source"]["layers"]
        fn = int(one(lay["frame"]["frame.number"]))
        if "tcp" in lay:
            transport, port = "tcp", int(one(lay["tcp"]["tcp.dstport"]))
        else:
            transport, port = "udp", int(one(lay["udp"]["udp.dstport"]))
        raws = lay.get("dns_raw", [])
        if raws and isinstance(raws[0], str):
            raws = [raws]
        for raw in raws:
            b = bytes.fromhex(raw[0])
            if transport == "tcp":
                b = b[2:] if len(b) >= 2 and (b[0] << 8 | b[1]) == len(b) - 2 else None
            out.append((fn, transport, port, b))
    return out


def check_capture(name, seed, mtu):
    pcap, ex = gen(name, seed, mtu)
    if pcap is None:
        return
    # ---- the generator itself
    again = os.path.join(work, name + "-again.pcap")
    subprocess.run([sys.executable, "-B", tt.tool_path("gen_wire.py"), "--seed", str(seed), "--mtu",
                    str(mtu), "--out", again], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)

    def digest(p):
        with open(p, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    t.check(os.path.exists(again) and digest(again) == digest(pcap),
            "%s: the capture is the same for the same seed" % name)
    resp, wh, cases, counts = ex["responses"], ex["withheld"], ex["cases"], ex["counts"]
    t.eq(counts["expected"], len(resp), "%s: counts.expected == len(responses)" % name)
    t.eq(counts["withheld"], len(wh), "%s: counts.withheld == len(withheld)" % name)
    t.eq(sum(c["expected"] for c in cases.values()), len(resp), "%s: cases' expected add up" % name)
    t.eq(sum(c["withheld"] for c in cases.values()), len(wh), "%s: cases' withheld add up" % name)
    t.check(all(c["occurrences"] == 3 for k, c in cases.items() if k != "udp-plain") and len(cases) == 28,
            "%s: 27 cases, each 3 times, plus udp-plain" % name, json.dumps(cases))
    broken = [k for k in cases if k.rsplit("-", 1)[1] in ("missing", "overlap", "unaligned")]
    t.check(len(broken) == 6 and all(cases[k]["expected"] == 0 and cases[k]["withheld"] == 3 for k in broken),
            "%s: the broken fragment cases expect nothing (6 cases, 3 withheld each)" % name)
    t.check(all(c["expected"] > 0 for k, c in cases.items() if k not in broken),
            "%s: every other case expects responses" % name)
    t.check(len({e["hex"] for e in resp}) == len(resp), "%s: the expected messages are distinct" % name)
    t.check(all(e["frame"] and 1 <= e["frame"] <= counts["frames"] for e in resp),
            "%s: each expected response names the frame that completes it" % name)
    sizes = [e["len"] for e in resp + wh if e["needs"] == "ipfrag" and e["case"] != "ip6-frag-atomic"]
    t.check(sizes and min(sizes) >= 1300 and max(sizes) <= 4000,
            "%s: fragmented responses are 1,300..4,000 bytes (%d..%d)" % (name, min(sizes), max(sizes)))
    for kind, n in (("tcp-loss", 1), ("tcp-midstream", 1)):
        t.check(cases[kind]["withheld"] >= 3 * n, "%s: %s withholds a response in each occurrence" % (name, kind))

    # ---- the harness's oracle (no reassembly) sees exactly the plain ones
    ho = tt.oracle(pcap, reassembly=False)
    plain = sorted(bytes.fromhex(e["hex"]) for e in resp if e["needs"] == "none")
    t.eq(sorted(m[12:] for m in ho.messages), plain,
         "%s: tapxfr_test.oracle (no reassembly) forwards exactly the 'needs: none' responses" % name)
    t.eq(ho.responses, counts["expected_plain"], "%s: ... and counts as many responses" % name)

    # ---- the case of every client port
    case_of = {}
    for e in resp + wh:
        case_of[(e["transport"], e["client_port"])] = subcase(e)
    want = collections.defaultdict(collections.Counter)
    withheld = collections.defaultdict(set)
    for e in resp:
        want[subcase(e)][bytes.fromhex(e["hex"])] += 1
    for e in wh:
        withheld[subcase(e)].add(bytes.fromhex(e["hex"]))
    allcases = set(case_of.values())

    # ---- checksums and malformed packets
    cmd = [tshark, "-r", pcap] + REASSEMBLY + CHECKSUMS + [
        "-Y", "ip.checksum.status==0 || udp.checksum.status==0 || tcp.checksum.status==0 || _ws.malformed",
        "-T", "fields", "-E", "separator=,", "-e", "frame.number", "-e", "udp.dstport", "-e", "tcp.dstport",
        "-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status", "-e", "_ws.malformed"]
    sh(cmd)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    bad = collections.Counter()
    for line in r.stdout.decode().splitlines():
        f = line.split(",")
        udp = f[1] and int(f[1].split(";")[0])
        tcp = f[2] and int(f[2].split(";")[0])
        c = case_of.get(("udp", udp)) if udp else case_of.get(("tcp", tcp)) if tcp else None
        kind = "udp-checksum" if "0" in f[4].split(";") else "malformed" if len(f) > 6 and f[6] else "other"
        if "0" in f[3].split(";") or "0" in f[5].split(";"):
            kind = "ip/tcp-checksum"
        bad[(kind, c)] += 1
    allowed = {(k, c) for k, c in bad if (k == "udp-checksum" and c in ("ip4-frag-overlap", "ip6-frag-overlap"))
               or (k == "malformed" and c == "tcp-midstream/inside")}
    t.check(set(bad) <= allowed, "%s: tshark: checksums right, no malformed DNS (except tshark's own "
            "overlap mixes and mid-stream pick-ups)" % name,
            "\n".join("%s in %s: %d frames" % (k, c, n) for (k, c), n in sorted(bad.items(), key=str)
                      if (k, c) not in allowed))
    if bad:
        t.info("%s: tshark flags (expected): %s" % (name, ", ".join(
            "%s/%s=%d" % (k, c, n) for (k, c), n in sorted(bad.items(), key=str))))

    # ---- each TCP case is what it claims to be, by tshark's own analysis
    flags = ["tcp.analysis.retransmission", "tcp.analysis.out_of_order", "tcp.analysis.lost_segment"]
    cmd = [tshark, "-r", pcap] + REASSEMBLY + ["-Y", "tcp", "-T", "fields", "-E", "separator=,",
                                             "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.syn",
                                             "-e", "tcp.flags.reset", "-e", "tcp.len"] + \
        [a for f in flags for a in ("-e", f)]
    sh(cmd)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    seen = collections.defaultdict(collections.Counter)
    for line in r.stdout.decode().splitlines():
        f = line.split(",")
        c = case_of.get(("tcp", int(f[1]) if f[0] == "53" else int(f[0])), "?").split("/")[0]
        seen[c]["syn"] += f[2] == "1"
        seen[c]["syn-data"] += f[2] == "1" and f[4] not in ("", "0")
        seen[c]["rst"] += f[3] == "1"
        for i, fl in enumerate(flags):
            seen[c][fl.rsplit(".", 1)[1]] += bool(f[5 + i])
        # a segment that arrives late is "out of order" or, after tshark's
        # time threshold, a "retransmission"
        seen[c]["late"] += bool(f[5] or f[6])
    for c, what, n in (("tcp-retransmit", "retransmission", 3), ("tcp-reordered", "late", 3),
                       ("tcp-loss", "lost_segment", 3), ("tcp-fastopen", "syn-data", 3),
                       ("tcp-rst", "rst", 3)):
        t.check(seen[c][what] >= n, "%s: tshark's TCP analysis: %s has %s in each connection (%d)"
                % (name, c, what, seen[c][what]))
    t.eq(seen["tcp-midstream"]["syn"], 0, "%s: tshark's TCP analysis: no SYN in tcp-midstream" % name)
    t.check(all(seen[c]["syn"] == 6 for c in seen if c not in ("tcp-midstream", "?")),
            "%s: tshark's TCP analysis: the other connections have a SYN and a SYN-ACK" % name,
            repr({c: seen[c]["syn"] for c in seen}))

    # ---- the reassembled responses, per run
    for run, extra in (("default", []), ("out-of-order", OOO)):
        got = collections.defaultdict(collections.Counter)
        stray = []
        for fn, transport, port, b in tshark_responses(pcap, extra):
            c = case_of.get((transport, port))
            if c is None or b is None:
                stray.append((fn, transport, port, b is None))
                continue
            got[c][b] += 1
        t.check(not stray, "%s/%s: every tshark response belongs to an exchange of the capture, "
                "TCP length prefixes match" % (name, run), repr(stray[:10]))
        agree = (AGREE | RUN_AGREE[run]) & allcases
        differ = (DIFFER | RUN_DIFFER[run]) & allcases
        t.check(agree | differ == allcases and not agree & differ,
                "%s/%s: every case is listed as agreeing or differing" % (name, run),
                "unlisted: %s" % sorted(allcases - agree - differ))
        total_ok = 0
        for c in sorted(agree):
            g, w = got[c], want[c]
            if t.check(g == w, "%s/%s: %s: tshark == oracle, byte for byte (%d expected, %d from tshark)"
                       % (name, run, c, sum(w.values()), sum(g.values())),
                       "missing: %d, extra: %d, duplicated: %d\n" % (
                           sum((w - g).values()), sum((g - w).values()),
                           sum(n - 1 for n in g.values() if n > 1)) +
                       "\n".join(tt.describe(b"DNSXFR01\0\0\0\0" + m) for m in list((w - g) + (g - w))[:5])):
                total_ok += sum(w.values())
        t.info("%s/%s: tshark agrees on %d of %d expected responses" % (name, run, total_ok, len(resp)))
        for c in sorted(differ):
            g, w = got[c], want[c]
            same = sum((g & w).values())
            known = sum(n for m, n in g.items() if m in withheld[c])
            other = sum(g.values()) - same - known
            t.info("%s/%s: %s (tshark differs): oracle expects %d, tshark gives %d of them, "
                   "%d withheld ones, %d other" % (name, run, c, sum(w.values()), same, known, other))
            t.check(not any(m in want[o] or m in withheld[o] for m in g for o in allcases if o != c),
                    "%s/%s: %s: tshark's responses there are not another case's" % (name, run, c))
        # The summary line: tshark forwards none of the broken fragment cases
        # only where it should; say what it does there.
        missing = [c for c in agree if c.endswith("-missing")]
        t.check(all(not got[c] for c in missing), "%s/%s: tshark reassembles no datagram with a missing "
                "fragment" % (name, run))


check_capture("mtu1280", 11, 1280)
check_capture("mtu576", 12, 576)
t.done()
