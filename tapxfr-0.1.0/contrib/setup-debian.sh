#!/bin/sh
# Install every Debian package that building, testing and running tapxfr
# needs. Idempotent: packages already present are left alone.
#   contrib/setup-debian.sh          build + test dependencies
#   contrib/setup-debian.sh --build  build dependencies only
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
  libuv1-dev libpcap-dev libfstrm-dev libprotobuf-c-dev protobuf-c-compiler
  libcmocka-dev"
TEST="python3 tcpdump knot knot-dnsutils knot-module-dnstap unbound fstrm-bin iproute2 procps bind9 pdns-recursor knot-resolver dnsdist
  tshark systemd man-db valgrind golang-github-dnstap-golang-dnstap-cli"

pkgs=$BUILD
[ "${1:-}" = "--build" ] || pkgs="$pkgs $TEST"

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Services from these packages must not start on install: tests start their
# own instances on loopback with their own configuration.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $missing
