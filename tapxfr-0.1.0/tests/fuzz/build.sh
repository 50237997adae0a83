#!/bin/sh
# build.sh: builds the libFuzzer binaries of the fuzz targets.
#
# Usage: tests/fuzz/build.sh OUTDIR [TARGET...]
#   TARGET is packet, dns, frame, dnstap, dnstap_scan, collect, ipfrag, tcpdns or bailiwick
#   (default: all); each becomes OUTDIR/fuzz_TARGET.
#
# Needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev), protoc-c
# and the fstrm and protobuf-c development files. Works from the source
# tree alone, without a configured build: the dnstap schema is compiled
# with protoc-c into a temporary directory, and the codecs, which need no
# configure result, get a config.h of their own there.
#
# Environment: CC (default clang), FUZZ_CFLAGS (added to the compiler
# flags, e.g. -O2), PROTOC_C (default protoc-c).
set -eu

usage() {
    echo "usage: $0 OUTDIR [packet|dns|frame|dnstap|dnstap_scan|collect|ipfrag|tcpdns|bailiwick ...]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
out=$1
shift
targets=${*:-packet dns frame dnstap dnstap_scan collect ipfrag tcpdns bailiwick match}

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
CC=${CC:-clang}
PROTOC_C=${PROTOC_C:-protoc-c}

for t in $targets; do
    [ -f "$srcdir/tests/fuzz/fuzz_$t.c" ] || { echo "$0: no target '$t'" >&2; usage; }
done
command -v "$CC" >/dev/null 2>&1 || { echo "$0: $CC not found" >&2; exit 1; }
command -v "$PROTOC_C" >/dev/null 2>&1 || { echo "$0: $PROTOC_C not found" >&2; exit 1; }

if pkg-config --exists libfstrm libprotobuf-c 2>/dev/null; then
    dep_cflags=$(pkg-config --cflags libfstrm libprotobuf-c)
    dep_libs=$(pkg-config --libs libfstrm libprotobuf-c)
else
    dep_cflags=
    dep_libs="-lfstrm -lprotobuf-c"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tapxfr-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/proto" "$out"
out=$(cd "$out" && pwd)

"$PROTOC_C" --proto_path="$srcdir/proto" --c_out="$tmp/proto" \
    "$srcdir/proto/dnstap.proto"
# What configure would define that the codecs rely on: nothing but the
# feature macros.
printf '#define _GNU_SOURCE 1\n' > "$tmp/config.h"

# Coverage feedback everywhere; ASan and UBSan abort on the first report
# so that every finding is a crash libFuzzer keeps.
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer $san \
 -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
 -I$tmp -I$tmp/proto -I$srcdir/src $dep_cflags ${FUZZ_CFLAGS:-}"

# The codec library once, instrumented, then one link per target.
objs=
for src in "$srcdir"/src/codec/*.c "$tmp/proto/dnstap.pb-c.c"; do
    obj="$tmp/$(basename "$src" .c).o"
    # shellcheck disable=SC2086
    $CC $cflags -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
    objs="$objs $obj"
done
for t in $targets; do
    # shellcheck disable=SC2086
    $CC $cflags -fsanitize=fuzzer "$srcdir/tests/fuzz/fuzz_$t.c" $objs \
        $dep_libs -o "$out/fuzz_$t"
    echo "built $out/fuzz_$t"
done
