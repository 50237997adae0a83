#!/usr/bin/env python3
"""tapxfr -t keeps its records while the collector is down, reconnects,
and resumes after the collector dies mid-stream.

1. A port is reserved (bound, then closed): the collector is DOWN when
   tapxfr -t -r FILE starts; tapxfr must keep running (it reconnects with
   backoff and pauses its file input: backpressure, no drops).
2. After ~1 s a slow collector starts on that port (small receive buffer,
   small reads with pauses), so the stream is still going when, after a
   part of the messages arrived, the collector is killed: both sockets
   closed at once (the kernel resets the connection).
3. ~0.5 s later a fast collector starts on the same port.

At the end: tapxfr exited 0 by itself; every message either collector
received is one of the oracle's expected messages; the second collector
received the last expected message (the stream resumed); the first one
did not receive everything (the kill really was mid-stream); the stats
line: forwarded + dropped == responses, responses == the oracle's count,
forwarded == the oracle's expected count (nothing dropped from a file).
"""
import collections
import os
import sys
import time

sys.dont_write_bytecode = True  # never write into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tapxfr_test as tt  # noqa: E402

tapxfr = tt.tapxfr_bin()
t = tt.Test("test_tcp_reconnect")
work = tt.tempdir()

# The stream must outlast what the kernel can buffer: the sender's socket
# buffer grows up to tcp_wmem's maximum, and whatever sits there when the
# collector dies is lost. So the capture is sized to carry well more than
# that (gen_pcap: about 80 bytes of DNSXFR01 per packet). tapxfr leaves
# its TCP socket buffer to autotuning (no SO_SNDBUF), bounded by tcp_wmem.
try:
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        wmem_max = int(f.read().split()[2])
except (OSError, ValueError, IndexError):
    wmem_max = 4 << 20
count = min(400000, max(40000, int((2 * wmem_max + (1 << 20)) / 80)))
t.info("tcp_wmem max %d bytes: generating %d packets" % (wmem_max, count))
pcap = tt.gen_pcap(work, count=count, seed=11)
ex = tt.oracle(pcap)
want = ex.messages
wantset = set(want)
total_bytes = sum(len(m) + 2 for m in want)
t.info("oracle: %s (%d bytes on the wire)" % (ex.summary(), total_bytes))

port = tt.reserve_port()
r = tt.Run(["-t", "-L", "1", "-r", pcap, "127.0.0.1", str(port)])
time.sleep(1.0)
t.check(r.running(), "tapxfr keeps running while the collector is down (1 s)",
        "exit status %r, stderr:\n%s" % (r.proc.poll(), r.stderr[-1500:]))

# Slow collector: 4 KiB reads, 10 ms apart (~400 KB/s), 8 KiB buffer.
c1 = tt.TCPCollector(port=port, read_delay=0.01, chunk=4096, rcvbuf=8192)
t.info("slow collector up on port %d at %.1f s" % (port, time.time() - r.t0))
deadline = time.time() + 20
target = min(total_bytes // 5, 512 << 10)
while time.time() < deadline and c1.bytes < target and r.running():
    time.sleep(0.02)
n1 = len(c1.messages)
t.check(c1.connections >= 1, "tapxfr connected to the collector after it came up (at %s s)"
        % ", ".join("%.1f" % (x - r.t0) for x in c1.connect_times))
t.check(r.running(), "tapxfr still running when the collector is killed (stream in progress)")
c1.kill()
t.info("killed the collector after %d of %d messages" % (n1, len(want)))
t.check(0 < n1 < len(want), "the kill was mid-stream: %d of %d messages received before it" % (n1, len(want)))

time.sleep(0.5)
c2 = tt.TCPCollector(port=port)
t.info("fast collector up at %.1f s" % (time.time() - r.t0))
rc = r.wait(45)
c2.wait_closed(10)
c2.kill()

t.eq(rc, 0, "tapxfr exited 0 by itself (%.1f s)" % r.elapsed)
t.check(c2.connections >= 1, "tapxfr reconnected after the collector came back (at %s s)"
        % ", ".join("%.1f" % (x - r.t0) for x in c2.connect_times))
got = c1.messages + c2.messages
stray = [m for m in got if m not in wantset]
t.check(not stray, "every received message is an expected one (%d received in all)" % len(got),
        "\n".join(tt.describe(m) for m in stray[:5]))
t.check(bool(c2.messages) and c2.messages[-1] == want[-1],
        "the last expected message arrived last, on the new connection (stream resumed)",
        "second collector: %d messages, last: %s" % (len(c2.messages), tt.describe(c2.messages[-1])
                                                     if c2.messages else "-"))
t.eq(c2.partial, 0, "no incomplete message at the end of the resumed stream")

# Informational: how much was lost in flight (kernel buffers at the kill)
# or sent twice (a retransmitted message).
cnt = collections.Counter(got)
lost = sum(1 for m in wantset if m not in cnt)
dup = sum(n - 1 for n in cnt.values() if n > 1)
pos = [want.index(m) for m in c2.messages[:1]]
t.info("lost in flight: %d, received twice: %d, resumed at expected index %s"
       % (lost, dup, pos[0] if pos else "-"))
# The resumed stream is in capture order.
idx = {m: i for i, m in enumerate(want)}
seq = [idx[m] for m in c2.messages if m in idx]
t.check(all(a < b for a, b in zip(seq, seq[1:])), "the resumed stream is in capture order")

st = r.stats
if t.check(st is not None, "a 'tapxfr: stats:' line on stderr"):
    fw, dr, rs = st.get("forwarded"), st.get("dropped"), st.get("responses")
    t.check(None not in (fw, dr, rs) and fw + dr == rs,
            "stats: forwarded + dropped == responses (%r + %r, %r)" % (fw, dr, rs))
    t.eq(rs, ex.responses, "stats: responses == the oracle's response count")
    t.eq(fw, ex.forwarded, "stats: forwarded == the oracle's expected count (no drops from a file)")
    t.info("stats line: " + " ".join("%s=%s" % kv for kv in st.items()))
    t.info("stats lines in all (-L 1): %d" % sum(1 for ln in r.stderr.splitlines() if "stats:" in ln))
t.done()
