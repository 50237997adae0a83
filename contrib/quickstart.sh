#!/bin/sh
# Runs tapxfr on a capture (default: contrib/sample.pcap, real kdig traffic
# to a Knot DNS server) into a local tapxfr-collect, and shows what arrived.
#   contrib/quickstart.sh [CAPTURE] [tapxfr options...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${TAPXFR_BIN:-$top/src}
sample=${1:-$top/contrib/sample.pcap}
[ $# -gt 0 ] && shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tapxfr-quickstart.XXXXXX")
cpid=""
cleanup() { [ -n "$cpid" ] && kill "$cpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

"$bin/tapxfr-collect" --format text -u 127.0.0.1:0 >"$tmp/records" 2>"$tmp/collect.err" &
cpid=$!
port=""
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  port=$(sed -n 's/.*listening on udp 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/collect.err")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/collect.err" >&2; exit 1; }

echo "== tapxfr -r $sample $* 127.0.0.1 $port"
"$bin/tapxfr" -r "$sample" "$@" 127.0.0.1 "$port"
sleep 0.3
kill -TERM "$cpid"; wait "$cpid" || true; cpid=""
echo "== what the collector received (sender, nameserver field, question, rcode, flags)"
cat "$tmp/records"
tail -n 1 "$tmp/collect.err"
