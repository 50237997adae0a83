#!/bin/sh
# run.sh: fuzzes one target for a while, then reports what it did.
#
# Usage: tests/fuzz/run.sh TARGET SECONDS [-- LIBFUZZER_OPTION...]
#   TARGET   packet, dns, frame, dnstap, dnstap_scan, collect, ipfrag or tcpdns
#   SECONDS  -max_total_time of each worker
#
# Environment:
#   FUZZ_BIN      directory of the fuzz_TARGET binaries (tests/fuzz/build.sh
#                 or `make fuzz`); default tests/fuzz/bin under the current
#                 directory (the top build directory for `make fuzz`)
#   FUZZ_WORKERS  parallel workers (default 2, one per core of a 2-core
#                 machine); 1 runs a single process without -jobs
#   FUZZ_WORK     working directory (default: a new one under $TMPDIR, kept)
#
# The checked-in corpus tests/fuzz/corpus/TARGET is only read: libFuzzer
# writes what it finds to FUZZ_WORK/corpus, crashes to FUZZ_WORK/artifacts.
# At the end it prints, per worker, the last status line (execs, cov:,
# ft:, corp:, exec/s), the total execs, the coverage of the seed corpus
# and new inputs together, and every crash with its input in hex.
# Exit status: 0 when nothing crashed, 1 when something did, 2 on usage.
set -u

usage() {
    echo "usage: $0 TARGET SECONDS [-- LIBFUZZER_OPTION...]" >&2
    exit 2
}
[ $# -ge 2 ] || usage
target=$1
secs=$2
shift 2
[ "${1:-}" = "--" ] && shift
case $secs in ''|*[!0-9]*) usage ;; esac

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
bin=${FUZZ_BIN:-tests/fuzz/bin}
fuzzer="$(cd "$bin" 2>/dev/null && pwd)/fuzz_$target"
seeds="$srcdir/tests/fuzz/corpus/$target"
workers=${FUZZ_WORKERS:-2}
work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")}

if [ ! -x "$fuzzer" ]; then
    echo "$0: no $bin/fuzz_$target: build it with tests/fuzz/build.sh $bin" >&2
    exit 2
fi
[ -d "$seeds" ] || { echo "$0: no corpus $seeds" >&2; exit 2; }
mkdir -p "$work/corpus" "$work/artifacts"
work=$(cd "$work" && pwd)
dict=
[ -f "$srcdir/tests/fuzz/$target.dict" ] && dict="-dict=$srcdir/tests/fuzz/$target.dict"

echo "fuzzing $target for ${secs}s with $workers worker(s) in $work"
cd "$work" || exit 2
rm -f fuzz-*.log
# Inputs up to 64 KiB: Frame Streams sessions and DNS messages can be
# that long, and short ones are still preferred by libFuzzer.
set -- -max_total_time="$secs" -print_final_stats=1 -max_len=65536 \
    -artifact_prefix="$work/artifacts/" ${dict:+"$dict"} "$@"
if [ "$workers" -gt 1 ]; then
    "$fuzzer" -jobs="$workers" -workers="$workers" "$@" \
        "$work/corpus" "$seeds" > fuzz-parent.log 2>&1
else
    "$fuzzer" "$@" "$work/corpus" "$seeds" > fuzz-0.log 2>&1
fi

echo "--- $target: last status per worker"
total=0
for log in fuzz-[0-9]*.log; do
    [ -f "$log" ] || continue
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    total=$((total + ${execs:-0}))
    echo "$log: $last"
    echo "$log: execs=${execs:-?} $(sed -n 's/^stat::\(peak_rss_mb\|new_units_added\|average_exec_per_sec\): */\1=/p' "$log" | tr '\n' ' ')"
done
echo "--- $target: total execs $total"

# Coverage of everything now known: the seeds plus what was found.
"$fuzzer" -runs=0 -max_len=65536 "$seeds" "$work/corpus" > coverage.log 2>&1
echo "--- $target: corpus coverage: $(grep -E 'INITED|DONE' coverage.log | tail -n 1)"
echo "--- $target: $(find "$work/corpus" -type f | wc -l) new inputs in $work/corpus"
echo "    to keep them: $fuzzer -merge=1 $seeds $work/corpus"

status=0
for a in "$work"/artifacts/*; do
    [ -f "$a" ] || continue
    status=1
    echo "=== $target: $(basename "$a") ($(wc -c < "$a") bytes): $a"
    od -An -tx1 -v "$a" | tr -d ' \n' | fold -w 128
    echo
    # The report of the worker that wrote it.
    for log in fuzz-[0-9]*.log; do
        grep -q "$(basename "$a")" "$log" 2>/dev/null || continue
        sed -n '/^==[0-9]*==ERROR\|invariant violated\|runtime error/,/^SUMMARY\|^MS:/p' "$log" | head -n 60
    done
done
exit $status
