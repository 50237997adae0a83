#!/bin/sh
# run.sh BUILD_DIR TOOLS_DIR [bench.py options...] - the tapxfr benchmark
# (`make bench`). Compiles the helper programs of this directory with cc
# into BUILD_DIR/tests/bench/bin, then runs bench.py. See bench.py --help
# for the options (e.g. --runs 3, --count 100000, --only pcap-udp,memory).
# Generated data is cached in $TAPXFR_BENCH_CACHE, else
# BUILD_DIR/tests/bench/data; results go to BUILD_DIR/tests/bench/results.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR TOOLS_DIR [bench.py options...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
tools=$(cd "$2" && pwd)
shift 2
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/tests/bench/bin"
CC=${CC:-cc}
PYTHON3=${PYTHON3:-python3}

if [ ! -x "$build/src/tapxfr" ]; then
    echo "run.sh: $build/src/tapxfr is not built (make all first)" >&2
    exit 1
fi
mkdir -p "$bin"
# Rebuild a helper when its source is newer than the binary.
build_helper() {
    name=$1
    shift
    if [ ! -x "$bin/$name" ] || [ "$here/$name.c" -nt "$bin/$name" ]; then
        echo "run.sh: cc $name.c"
        $CC -std=gnu11 -O2 -Wall -Wextra -o "$bin/$name" "$here/$name.c" "$@"
    fi
}
build_helper bcollect
build_helper rawsend
build_helper rssrun
build_helper pcapcount -lpcap

missing=
for t in tcpdump fstrm_capture dnstap valgrind; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "run.sh: not installed:$missing (their anchors or scenarios are skipped or fail;" \
        "Debian: tcpdump fstrm-bin golang-github-dnstap-golang-dnstap-cli valgrind)" >&2
fi

exec "$PYTHON3" "$here/bench.py" --build "$build" --tools "$tools" --bin "$bin" "$@"
