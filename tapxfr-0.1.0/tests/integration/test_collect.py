#!/usr/bin/env python3
"""tapxfr-collect: JSON lines, --pcap output, invalid input.

* The bundled capture (contrib/sample.pcap: kdig querying Knot DNS on port
  53, so the default filter passes it) sent by tapxfr over UDP and over
  TCP into tapxfr-collect (default format: JSON) with --pcap. Every line
  is one JSON object with exactly the documented keys. The header fields
  (id, flags, opcode, rcode, counts, length, nameserver, question) agree
  with the oracle's DNSXFR01 messages, decoded here independently; the
  answers agree with facts written down by hand from tshark's view of the
  capture (e.g. example.com. A 192.0.2.10 TTL 3600 from nameserver
  127.0.0.1); time is RFC 3339 UTC with microseconds, within the run.
* The --pcap file, read by this file's own pcap reader: LINKTYPE_RAW,
  one IPv4/UDP packet per JSON line with a valid header checksum, from
  the nameserver (0.0.0.0 when zero) port 53 to 127.0.0.1 port 53, the
  DNS message as payload, the JSON line's time as timestamp. tcpdump -nr
  and tshark -r (when installed) read it without error and count the same
  packets, and tapxfr -r reads it back into exactly the same DNSXFR01
  messages.
* Messages crafted here and sent straight to the collector: names and
  TXT strings with quotes, backslashes, control and high bytes (the JSON
  must parse and hold dnsprint's escapes), no question, NOTIFY, an
  extended rcode, RDATA in the generic form, a message too long for an
  IPv4 packet (JSON only, counted apart from the pcap file).
* Garbage (short, bad magic, DNS that fails the walk) over UDP and a bad
  frame over TCP: counted as invalid, nothing printed, the summary line
  `tapxfr-collect: received N messages, M invalid` is the last one.
* --format text still prints the one-line summary; bad --format and an
  unwritable --pcap are refused.
"""
import datetime
import json
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

collect = tt.collect_bin()
tapxfr = tt.tapxfr_bin()
t = tt.Test("test_collect")
work = tt.tempdir()

SAMPLE = os.path.join(os.path.dirname(tt.tests_srcdir()), "contrib", "sample.pcap")
ZERO = b"\0\0\0\0"
KEYS = {"time", "sender", "proto", "nameserver", "id", "qr", "aa", "tc", "rd", "ra", "ad", "cd",
        "opcode", "rcode", "question", "answers", "authority_count", "additional_count", "length"}
FLAGS = (("qr", 0x8000), ("aa", 0x0400), ("tc", 0x0200), ("rd", 0x0100), ("ra", 0x0080),
         ("ad", 0x0020), ("cd", 0x0010))
TYPES = {1: "A", 2: "NS", 15: "MX", 16: "TXT", 28: "AAAA", 48: "DNSKEY"}
CLASSES = {1: "IN", 3: "CH"}
RCODES = {0: "NOERROR", 3: "NXDOMAIN", 5: "REFUSED"}
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SUMMARY_RE = re.compile(r"^tapxfr-collect: received (\d+) messages, (\d+) invalid$")


# ------------------------------------------------------------ the collector

class Collector:
    """tapxfr-collect in the background: stdout to a file, stderr read
    line by line (the ports come from its 'listening on' lines)."""

    def __init__(self, name, args):
        self.out = os.path.join(work, name + ".out")
        self.errlines = []
        self.ports = {}
        self.nlisten = sum(1 for a in args if a in ("-u", "-t"))
        cmd = [collect] + args
        print("   $ " + " ".join(cmd), flush=True)
        with open(self.out, "wb") as f:
            self.p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.PIPE)
        tt._procs.append(self.p)
        self.ready = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.ready.wait(10)

    def _read(self):
        for raw in self.p.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.errlines.append(line)
            m = re.search(r"listening on (udp|tcp) 127\.0\.0\.1:(\d+)", line)
            if m:
                self.ports[m.group(1)] = int(m.group(2))
                if len(self.ports) == self.nlisten:
                    self.ready.set()
        self.ready.set()

    def lines(self):
        with open(self.out, "rb") as f:
            return f.read().decode("utf-8", "replace").splitlines()

    def wait_lines(self, n, timeout=15.0):
        """Until n lines are out (the collector flushes every loop turn)."""
        end = time.time() + timeout
        while time.time() < end and len(self.lines()) < n:
            time.sleep(0.05)
        time.sleep(0.2)     # anything unexpected after them
        return self.lines()

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = None
        self.reader.join(5)
        return rc

    def summary(self):
        """(received, invalid) from the last stderr line, or None."""
        m = SUMMARY_RE.match(self.errlines[-1]) if self.errlines else None
        return (int(m.group(1)), int(m.group(2))) if m else None


def parse_json_lines(what, lines):
    """The JSON objects, with one check that every line parses."""
    objs, bad = [], []
    for ln in lines:
        try:
            o = json.loads(ln)
            if not isinstance(o, dict):
                raise ValueError("not an object")
            objs.append(o)
        except ValueError as e:
            bad.append("%s: %r" % (e, ln[:200]))
    t.check(not bad, "%s: all %d lines are JSON objects" % (what, len(lines)), "\n".join(bad[:5]))
    return objs


# ------------------------------------------------------------ independent decoding

def read_qname(dns, off):
    """An uncompressed name as dnsprint prints it (only what the sample
    and the messages below hold: letters, digits, '-' and the escapes
    tested by hand further down)."""
    labels = []
    while True:
        n = dns[off]
        if n == 0:
            return (".".join(labels) + ".") if labels else ".", off + 1
        if n & 0xC0:
            raise ValueError("compressed question name")
        labels.append(dns[off + 1:off + 1 + n].decode("ascii"))
        off += 1 + n


def header_facts(msg):
    """What the JSON must say about a DNSXFR01 message, from its bytes."""
    ns, dns = msg[8:12], msg[12:]
    i, fl, qd, an, nsc, ar = struct.unpack_from(">HHHHHH", dns, 0)
    f = {"id": i, "nameserver": None if ns == ZERO else socket.inet_ntoa(ns),
         "opcode": "QUERY" if (fl >> 11) & 0xF == 0 else None,
         "rcode": RCODES.get(fl & 0xF), "authority_count": nsc, "additional_count": ar,
         "length": len(dns), "n_answers": an}
    for k, bit in FLAGS:
        f[k] = bool(fl & bit)
    if qd:
        name, off = read_qname(dns, 12)
        qt, qc = struct.unpack_from(">HH", dns, off)
        f["question"] = {"name": name, "type": TYPES.get(qt, "TYPE%d" % qt),
                         "class": CLASSES.get(qc, "CLASS%d" % qc)}
    else:
        f["question"] = None
    return f


def json_facts(o):
    f = {k: o.get(k) for k in ("id", "nameserver", "opcode", "rcode", "authority_count",
                               "additional_count", "length", "question")}
    f["n_answers"] = len(o.get("answers") or [])
    for k, _ in FLAGS:
        f[k] = o.get(k)
    return f


def check_objects(what, objs, proto, port_of_sender=None, t0=None, t1=None):
    """Key set, types and formats of every object."""
    bad = []
    for o in objs:
        if set(o) != KEYS:
            bad.append("keys: %s" % sorted(set(o) ^ KEYS))
            continue
        if not (isinstance(o["time"], str) and TIME_RE.match(o["time"])):
            bad.append("time %r" % o["time"])
        elif t0 is not None:
            ts = datetime.datetime.strptime(o["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
            ts = ts.replace(tzinfo=datetime.timezone.utc).timestamp()
            if not t0 - 1 <= ts <= t1 + 1:
                bad.append("time %s outside the run" % o["time"])
        if o["proto"] != proto:
            bad.append("proto %r" % o["proto"])
        if not re.match(r"^127\.0\.0\.1:\d+$", o["sender"]):
            bad.append("sender %r" % o["sender"])
        for k, _ in FLAGS:
            if not isinstance(o[k], bool):
                bad.append("%s %r" % (k, o[k]))
        for k in ("id", "authority_count", "additional_count", "length"):
            if type(o[k]) is not int:
                bad.append("%s %r" % (k, o[k]))
        if not isinstance(o["answers"], list):
            bad.append("answers %r" % o["answers"])
            continue
        for a in o["answers"]:
            if set(a) != {"name", "ttl", "class", "type", "data"} or type(a["ttl"]) is not int \
                    or not all(isinstance(a[k], str) for k in ("name", "class", "type", "data")):
                bad.append("answer %r" % a)
    t.check(not bad, "%s: every object has the documented keys, types and formats" % what,
            "\n".join(bad[:5]))


# Hand-written from tshark's view of contrib/sample.pcap (not from the
# collector): (qname, qtype, qclass, tc) -> (answers as (name, ttl, class,
# type, data), and a few header fields).
A_, AAAA_ = "192.0.2.10", "2001:db8::10"
SAMPLE_FACTS = {
    ("example.com.", "A", "IN", False):
        ([("example.com.", 3600, "IN", "A", A_)], {"aa": True, "rcode": "NOERROR"}),
    ("example.com.", "AAAA", "IN", False):
        ([("example.com.", 3600, "IN", "AAAA", AAAA_)], {"aa": True}),
    ("www.example.com.", "A", "IN", False):
        ([("www.example.com.", 3600, "IN", "CNAME", "example.com."),
          ("example.com.", 3600, "IN", "A", A_)], {}),
    ("example.com.", "MX", "IN", False):
        ([("example.com.", 3600, "IN", "MX", "10 mail.example.com.")], {}),
    ("example.com.", "NS", "IN", False):
        ([("example.com.", 3600, "IN", "NS", "ns1.example.com."),
          ("example.com.", 3600, "IN", "NS", "ns2.example.com.")], {"additional_count": 2}),
    ("example.com.", "TXT", "IN", False):
        ([("example.com.", 3600, "IN", "TXT", '"v=spf1 ip4:192.0.2.0/24 -all"')], {}),
    ("nope.example.com.", "A", "IN", False): ([], {"rcode": "NXDOMAIN", "authority_count": 1}),
    ("www.sub.example.com.", "A", "IN", False):
        ([], {"aa": False, "nameserver": None, "authority_count": 1}),
    ("example.org.", "A", "IN", False): ([], {"rcode": "REFUSED", "aa": False, "nameserver": None}),
    ("example.com.", "TXT", "CH", False): ([], {"rcode": "REFUSED", "nameserver": None}),
    ("big.example.com.", "TXT", "IN", True): ([], {"tc": True}),
    ("mail.example.com.", "A", "IN", False):
        ([("mail.example.com.", 3600, "IN", "A", "192.0.2.25")], {"nameserver": None}),
    ("example.com.", "DNSKEY", "IN", False): ([], {"rcode": "NOERROR", "authority_count": 1}),
}
BIG_TXT_RE = re.compile(r'^"a+" "b+" "c+"$')


def check_sample(what, objs, ex, ordered):
    want = [header_facts(m) for m in ex.messages]
    got = [json_facts(o) for o in objs]
    key = lambda f: json.dumps(f, sort_keys=True)  # noqa: E731
    if ordered:
        t.eq(got, want, "%s: header fields, nameserver and question of all %d messages == the "
             "oracle's, in capture order" % (what, len(want)))
    else:
        t.eq(sorted(got, key=key), sorted(want, key=key),
             "%s: header fields, nameserver and question of all %d messages == the oracle's"
             % (what, len(want)))
    seen, bad = set(), []
    for o in objs:
        q = o["question"]
        k = (q["name"], q["type"], q["class"], o["tc"]) if q else None
        if k == ("big.example.com.", "TXT", "IN", False):
            ans = o["answers"]
            if not (len(ans) == 1 and ans[0]["type"] == "TXT" and BIG_TXT_RE.match(ans[0]["data"])):
                bad.append("big TXT: %r" % ans)
            seen.add(k)
            continue
        if k not in SAMPLE_FACTS:
            bad.append("unexpected question %r" % (k,))
            continue
        seen.add(k)
        answers, fields = SAMPLE_FACTS[k]
        got_a = [(a["name"], a["ttl"], a["class"], a["type"], a["data"]) for a in o["answers"]]
        if got_a != answers:
            bad.append("%r answers: %r, want %r" % (k, got_a, answers))
        for f, v in fields.items():
            if o[f] != v:
                bad.append("%r %s: %r, want %r" % (k, f, o[f], v))
    t.check(not bad, "%s: answers decoded as tshark shows them (A, AAAA, CNAME, MX, NS, TXT), "
            "flags and counts as written down" % what, "\n".join(bad[:8]))
    t.eq(len(seen), len(SAMPLE_FACTS) + 1, "%s: every hand-written question was seen" % what)
    a = [o for o in objs if o["question"] == {"name": "example.com.", "type": "A", "class": "IN"}]
    t.check(a and a[0]["nameserver"] == "127.0.0.1" and a[0]["answers"][0]["data"] == A_,
            "%s: example.com. A: data 192.0.2.10 from nameserver 127.0.0.1" % what,
            json.dumps(a[:1]))
    aaaa = sorted((o["nameserver"] or "") for o in objs if o["question"] and o["question"]["type"] == "AAAA")
    t.eq(aaaa, ["", "127.0.0.1"], "%s: the AAAA answer over IPv4 has nameserver 127.0.0.1, "
         "over IPv6 null" % what)


# ------------------------------------------------------------ pcap checks

def check_pcap(what, path, objs, ordered):
    try:
        linktype, recs = tt.read_pcap(path)
    except (OSError, tt.PcapError) as e:
        t.check(False, "%s: the pcap file reads" % what, str(e))
        return
    with open(path, "rb") as f:
        raw = f.read()
    t.eq(raw[:4], b"\xd4\xc3\xb2\xa1", "%s: pcap magic a1b2c3d4, little-endian, microseconds" % what)
    t.eq(linktype, 101, "%s: pcap link type LINKTYPE_RAW" % what)
    t.eq(len(recs), len(objs), "%s: one packet per JSON line" % what)
    bad, payloads = [], []
    off = 24
    for i, (caplen, origlen, data) in enumerate(recs):
        sec, usec = struct.unpack_from("<II", raw, off)
        off += 16 + caplen
        if caplen != origlen or len(data) < 28:
            bad.append("record %d: caplen %d origlen %d" % (i, caplen, origlen))
            continue
        ip, udp, dns = data[:20], data[20:28], data[28:]
        if ip[0] != 0x45 or struct.unpack_from(">H", ip, 2)[0] != len(data) or ip[9] != 17:
            bad.append("record %d: IPv4 header %s" % (i, ip.hex()))
        if tt.ones_sum(ip) != 0xFFFF:
            bad.append("record %d: IPv4 header checksum" % i)
        if ip[16:20] != bytes([127, 0, 0, 1]):
            bad.append("record %d: destination %s" % (i, socket.inet_ntoa(ip[16:20])))
        if struct.unpack(">HHHH", udp) != (53, 53, 8 + len(dns), 0):
            bad.append("record %d: UDP header %s" % (i, udp.hex()))
        payloads.append((ip[12:16], dns, sec, usec))
    t.check(not bad, "%s: every packet IPv4 (checksum right) and UDP 53 -> 127.0.0.1:53, checksum 0"
            % what, "\n".join(bad[:5]))
    if ordered and len(payloads) == len(objs):
        bad = []
        for (src, dns, sec, usec), o in zip(payloads, objs):
            ns = o["nameserver"]
            if src != (socket.inet_aton(ns) if ns else ZERO):
                bad.append("source %s, nameserver %r" % (socket.inet_ntoa(src), ns))
            if len(dns) != o["length"] or struct.unpack_from(">H", dns, 0)[0] != o["id"]:
                bad.append("DNS length/id %d/%d vs %d/%d" % (len(dns), struct.unpack_from(">H", dns, 0)[0],
                                                           o["length"], o["id"]))
            ts = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
            if "%s.%06dZ" % (ts.strftime("%Y-%m-%dT%H:%M:%S"), usec) != o["time"]:
                bad.append("timestamp %d.%06d vs %s" % (sec, usec, o["time"]))
        t.check(not bad, "%s: packet i is JSON line i: source = nameserver (0.0.0.0 for null), "
                "same DNS id and length, same time to the microsecond" % what, "\n".join(bad[:5]))
    return [src + dns for src, dns, _s, _u in payloads]


def check_readers(what, path, n):
    """tcpdump and tshark, when installed, read the file and count n packets."""
    for tool, args in (("tcpdump", ["-nr", path]), ("tshark", ["-r", path])):
        exe = tt.which(tool)
        if not exe:
            t.skip_part("%s: the %s cross-check (%s not installed)" % (what, tool, tool))
            continue
        r = subprocess.run([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = [ln for ln in r.stderr.decode("utf-8", "replace").splitlines()
               if ln.strip() and not ln.startswith("reading from file")
               and "Running as user" not in ln and "dangerous" not in ln]
        t.check(r.returncode == 0 and not err, "%s: %s %s exits 0 without complaint"
                % (what, tool, " ".join(args[:-1])), "rc=%d\n%s" % (r.returncode, "\n".join(err[:5])))
        t.eq(len(r.stdout.splitlines()), n, "%s: %s shows %d packets" % (what, tool, n))
    tshark = tt.which("tshark")
    if tshark:
        r = subprocess.run([tshark, "-r", path, "-Y", "dns.flags.response == 1 && !_ws.malformed"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
        t.eq(len(r.stdout.splitlines()), n, "%s: tshark decodes all %d as well-formed DNS responses"
             % (what, n))


# ------------------------------------------------------------ the sample, UDP and TCP

if not os.path.isfile(SAMPLE):
    tt.skip("%s not found" % SAMPLE)
ex = tt.oracle(SAMPLE)
t.info("oracle for sample.pcap: %s" % ex.summary())
t.check(ex.forwarded == 16, "sample.pcap: the oracle expects 16 messages, one over TCP (%d)"
        % ex.forwarded)

for proto in ("udp", "tcp"):
    what = "sample over " + proto
    pcap_out = os.path.join(work, "sample-%s.pcap" % proto)
    c = Collector("sample-" + proto, ["-" + proto[0], "127.0.0.1:0", "--pcap", pcap_out])
    if not t.check(proto in c.ports, "%s: 'listening on %s 127.0.0.1:PORT'" % (what, proto),
                   "\n".join(c.errlines[:5])):
        continue
    t0 = time.time()
    r = tt.run_tapxfr((["-t"] if proto == "tcp" else []) + ["-r", SAMPLE, "127.0.0.1", str(c.ports[proto])])
    t.eq(r.rc, 0, "%s: tapxfr exits 0" % what)
    lines = c.wait_lines(ex.forwarded)
    t1 = time.time()
    t.eq(c.stop(), 0, "%s: the collector exits 0 on SIGTERM" % what)
    t.eq(c.summary(), (ex.forwarded, 0), "%s: last stderr line 'received 16 messages, 0 invalid'" % what)
    objs = parse_json_lines(what, lines)
    t.eq(len(objs), ex.forwarded, "%s: one JSON line per message" % what)
    check_objects(what, objs, proto, t0=t0, t1=t1)
    check_sample(what, objs, ex, ordered=(proto == "tcp"))
    got = check_pcap(what + ", --pcap", pcap_out, objs, ordered=True)
    if got is not None:
        want = [m[8:] for m in ex.messages]   # nameserver (as source) + DNS
        if proto == "tcp":
            t.eq(got == want, True, "%s, --pcap: the packets are the 16 messages, in capture order" % what)
        else:
            t.eq(sorted(got) == sorted(want), True, "%s, --pcap: the packets are the 16 messages" % what)
    check_readers(what + ", --pcap", pcap_out, ex.forwarded)
    if proto == "tcp":
        # tapxfr puts the source address of an AA answer over IPv4 into
        # the nameserver field, so the file replays into the same messages.
        uc = tt.UDPCollector()
        r = tt.run_tapxfr(["-r", pcap_out, "127.0.0.1", str(uc.port)])
        back = uc.wait(len(ex.messages), idle=2.0)
        uc.close()
        t.eq(r.rc, 0, "%s, --pcap: tapxfr -r on it exits 0" % what)
        t.eq(sorted(back) == sorted(ex.messages), True,
             "%s, --pcap: tapxfr -r on it forwards the same 16 DNSXFR01 messages" % what)


# ------------------------------------------------------------ crafted messages

def name(*labels):
    return b"".join(bytes([len(x)]) + x for x in labels) + b"\0"


def dns_msg(ident, flags, question=None, answers=(), ns=0, extra=b"", arcount=0):
    """A DNS message: question (name bytes, type, class), answers (owner
    bytes, type, class, ttl, rdata)."""
    out = struct.pack(">HHHHHH", ident, flags, 1 if question else 0, len(answers), ns, arcount)
    if question:
        out += question[0] + struct.pack(">HH", question[1], question[2])
    for owner, ty, cl, ttl, rd in answers:
        out += owner + struct.pack(">HHIH", ty, cl, ttl, len(rd)) + rd
    return out + extra


ODD = name(b'a"\\ \x00\x7f\xff', b"x")
ODD_TEXT = r'a\"\\\032\000\127\255.x.'
TXT = b'q"b\\s\n\xff\t '
TXT_TEXT = r'"q\"b\\s\010\255\009 "'
OPT_BADVERS = b"\0" + struct.pack(">HHIH", 41, 1232, 0x01000000, 0)   # ext rcode 1 -> 16
CRAFTED = [
    # (DNSXFR01 nameserver, DNS message, checks on the JSON object)
    (bytes([192, 0, 2, 53]),
     dns_msg(1, 0x8400, (ODD, 16, 1), [(b"\xc0\x0c", 16, 1, 60, bytes([len(TXT)]) + TXT)]),
     {"nameserver": "192.0.2.53", "question": {"name": ODD_TEXT, "type": "TXT", "class": "IN"},
      "answers": [{"name": ODD_TEXT, "ttl": 60, "class": "IN", "type": "TXT", "data": TXT_TEXT}]}),
    (ZERO, dns_msg(2, 0xA400), {"question": None, "opcode": "NOTIFY", "answers": [], "aa": True,
                                "nameserver": None, "length": 12}),
    (ZERO, dns_msg(3, 0x8000, (name(b"v"), 1, 1), extra=OPT_BADVERS, arcount=1),
     {"rcode": "BADVERS", "additional_count": 1}),
    (ZERO, dns_msg(4, 0x8180, (name(b"h"), 65, 1),
                   [(b"\xc0\x0c", 65, 1, 5, b"\x00\x01\x00"), (b"\xc0\x0c", 65280, 3, 7, b"\xde\xad")]),
     {"question": {"name": "h.", "type": "HTTPS", "class": "IN"},
      "answers": [{"name": "h.", "ttl": 5, "class": "IN", "type": "HTTPS", "data": "\\# 3 000100"},
                  {"name": "h.", "ttl": 7, "class": "CH", "type": "TYPE65280", "data": "\\# 2 DEAD"}],
      "ra": True, "rd": True}),
]
# Over TCP a frame may hold up to 65523 bytes of DNS; an IPv4 packet only 65507.
BIG_RD = bytes(range(256)) * 255 + bytes(200)
BIG = dns_msg(5, 0x8400, (name(b"big"), 65280, 1), [(b"\xc0\x0c", 65280, 1, 1, BIG_RD)])
GARBAGE_UDP = [
    b"",                                         # empty datagram
    b"hello",                                    # shorter than the header
    b"DNSXFR02" + ZERO + dns_msg(9, 0x8000),     # bad magic
    b"DNSXFR01" + ZERO + b"\x00\x01\x80",        # DNS shorter than its header
    b"DNSXFR01" + ZERO + dns_msg(9, 0x8000, (b"\xc0\x0e\x00", 1, 1)),   # forward pointer
    b"DNSXFR01" + ZERO + dns_msg(9, 0x8000)[:4] + b"\x00\x05" + bytes(6),  # counts lie
]


def tcp_send(port, frames):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    banner = b""
    while not banner.endswith(b"\n"):
        chunk = s.recv(100)
        if not chunk:
            break
        banner += chunk
    for fr in frames:
        s.sendall(struct.pack(">H", len(fr)) + fr)
    return s, banner


what = "crafted"
pcap_out = os.path.join(work, "crafted.pcap")
c = Collector("crafted", ["-u", "127.0.0.1:0", "-t", "127.0.0.1:0", "--pcap", pcap_out, "-v"])
if t.check(len(c.ports) == 2, "%s: listening on udp and tcp" % what, "\n".join(c.errlines[:5])):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for g in GARBAGE_UDP:
        u.sendto(g, ("127.0.0.1", c.ports["udp"]))
    for ns, dns, _checks in CRAFTED:
        u.sendto(b"DNSXFR01" + ns + dns, ("127.0.0.1", c.ports["udp"]))
    u.close()
    c.wait_lines(len(CRAFTED))
    s, banner = tcp_send(c.ports["tcp"], [b"DNSXFR01" + ZERO + BIG])
    t.eq(banner, tt.BANNER, "%s: TCP banner" % what)
    c.wait_lines(len(CRAFTED) + 1)
    s.close()
    # A bad frame: the connection is closed, one invalid.
    s, _ = tcp_send(c.ports["tcp"], [b"XFRDNS01" + ZERO + dns_msg(9, 0x8000)])
    s.settimeout(10)
    try:
        closed = s.recv(10) == b""
    except OSError:
        closed = True
    s.close()
    t.check(closed, "%s: a TCP frame with a bad magic closes the connection" % what)
    time.sleep(0.3)
    lines = c.lines()
    t.eq(c.stop(), 0, "%s: the collector exits 0 on SIGTERM" % what)
    ninvalid = len(GARBAGE_UDP) + 1
    t.eq(c.summary(), (len(CRAFTED) + 1, ninvalid),
         "%s: last stderr line 'received %d messages, %d invalid'" % (what, len(CRAFTED) + 1, ninvalid))
    dbg = [ln for ln in c.errlines if "invalid message from" in ln or "protocol error from" in ln]
    t.eq(len(dbg), ninvalid, "%s: one debug line per invalid message (-v)" % what)
    t.check(any("not in the pcap file" in ln for ln in c.errlines[:-1]),
            "%s: a line counts the message too long for the pcap file, before the summary" % what,
            "\n".join(c.errlines[-4:]))
    objs = parse_json_lines(what, lines)
    t.eq(len(objs), len(CRAFTED) + 1, "%s: only the valid messages are printed" % what)
    check_objects(what, objs[:len(CRAFTED)], "udp")
    check_objects(what + " (TCP)", objs[len(CRAFTED):], "tcp")
    for (ns, dns, checks), o in zip(CRAFTED, objs):
        sub = {k: o.get(k) for k in checks}
        t.eq(sub, checks, "%s: message id %d: %s" % (what, struct.unpack_from(">H", dns)[0],
                                                      ", ".join(sorted(checks))))
    if len(objs) == len(CRAFTED) + 1:
        big = objs[-1]
        want = "\\# %d %s" % (len(BIG_RD), BIG_RD.hex().upper())
        t.check(big["length"] == len(BIG) and big["answers"][0]["data"] == want,
                "%s: a %d-byte message over TCP, its %d-byte RDATA in the generic form"
                % (what, len(BIG), len(BIG_RD)))
    got = check_pcap(what + ", --pcap", pcap_out, objs[:len(CRAFTED)], ordered=True)
    if got is not None:
        t.eq(got, [ns + dns for ns, dns, _ in CRAFTED],
             "%s, --pcap: the messages that fit, as sent; the long one left out" % what)
    check_readers(what + ", --pcap", pcap_out, len(CRAFTED))

# ------------------------------------------------------------ text format, CLI

c = Collector("text", ["-u", "127.0.0.1:0", "--format", "text"])
if t.check("udp" in c.ports, "text: listening"):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"DNSXFR01" + bytes([192, 0, 2, 53]) + CRAFTED[0][1], ("127.0.0.1", c.ports["udp"]))
    u.close()
    lines = c.wait_lines(1)
    t.eq(c.stop(), 0, "text: exits 0 on SIGTERM")
    want = (r"^127\.0\.0\.1:\d+ udp ns=192\.0\.2\.53 %s TXT NOERROR flags=qr,aa an=1 len=%d$"
            % (re.escape(ODD_TEXT), len(CRAFTED[0][1])))
    t.check(len(lines) == 1 and re.match(want, lines[0]),
            "text: --format text prints the one-line summary", "\n".join(lines))

for args, rc, what in (
        (["-u", "127.0.0.1:0", "--format", "yaml"], 2, "--format yaml is refused"),
        (["-u", "127.0.0.1:0", "--pcap", ""], 2, "an empty --pcap name is refused"),
        (["-u", "127.0.0.1:0", "--pcap", os.path.join(work, "no", "such", "dir.pcap")], 1,
         "an unwritable --pcap file is a runtime error")):
    r = subprocess.run([collect] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    err = r.stderr.decode("utf-8", "replace").strip().splitlines()
    t.check(r.returncode == rc and err, "cli: %s (exit %d, %r)" % (what, r.returncode, err[:1]))

t.done()
