#!/bin/sh
# Automake test: replays every fuzz target's checked-in corpus through
# its replayer (fuzz_TARGET.c linked with replay.c, no libFuzzer), so the
# inputs that found bugs, and the coverage the corpora reach, stay tested
# in every `make check` (and under ASan/UBSan in `make check-asan`).
#
# Environment (set by AM_TESTS_ENVIRONMENT in Makefile.am):
#   TESTS_SRCDIR  absolute path of the tests/ source directory
# The replayers are taken from tests/fuzz/ under the current directory,
# which is the top build directory when make runs the test.
# Exit status: 0 when every replayer ran its corpus, 1 when one failed or
# crashed, 99 when a replayer or a corpus is missing.

: "${TESTS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"

status=0
for t in packet dns frame dnstap dnstap_scan collect ipfrag tcpdns bailiwick match; do
    r=tests/fuzz/replay_$t
    c=$TESTS_SRCDIR/fuzz/corpus/$t
    if [ ! -x "$r" ]; then
        echo "run_replay.sh: $r not built" >&2
        exit 99
    fi
    if [ ! -d "$c" ]; then
        echo "run_replay.sh: no corpus $c" >&2
        exit 99
    fi
    if ! "$r" "$c"; then
        echo "FAIL: $r $c" >&2
        status=1
    fi
done
exit $status
