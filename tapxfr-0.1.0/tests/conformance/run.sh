#!/bin/sh
# Automake test: the dnslogger-forward compatibility suite (cases/*.in and
# *.expected, copied from the shared conformance suite) run against the
# tapxfr binary by the suite's own runner.
#
# Environment (set by AM_TESTS_ENVIRONMENT in Makefile.am):
#   TAPXFR        path of the tapxfr binary under test
#   TESTS_SRCDIR  absolute path of the tests/ source directory
#   PYTHON3       optional, the interpreter (default python3)
# Exit status: the runner's (0 all cases passed, 1 a case failed),
# 77 (SKIP) when TAPXFR is unset or python3 is missing (1 under CI=true),
# 99 (hard error) when TAPXFR is not an executable.

: "${TESTS_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PYTHON3:=python3}"

# Under CI=true a skip would hide a missing install step: it fails.
skip() {
    if [ "${CI:-}" = true ]; then
        echo "run.sh: FAIL (CI=true, would skip): $1" >&2
        exit 1
    fi
    echo "run.sh: $1: SKIP" >&2
    exit 77
}

if [ -z "$TAPXFR" ]; then
    skip "TAPXFR is not set (path of the tapxfr binary)"
fi
if [ ! -x "$TAPXFR" ]; then
    echo "run.sh: TAPXFR=$TAPXFR is not an executable file" >&2
    exit 99
fi
if ! command -v "$PYTHON3" >/dev/null 2>&1; then
    skip "$PYTHON3 not found"
fi

echo "running: $PYTHON3 $TESTS_SRCDIR/conformance/run --cases $TESTS_SRCDIR/conformance/cases $TAPXFR"
"$PYTHON3" "$TESTS_SRCDIR/conformance/run" --cases "$TESTS_SRCDIR/conformance/cases" "$TAPXFR"
exit $?
