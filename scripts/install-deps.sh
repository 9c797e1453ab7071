#!/bin/sh
# Install the Debian 12 packages Tandem needs.
#   scripts/install-deps.sh          build and run
#   scripts/install-deps.sh test     also everything the test suite uses
#   scripts/install-deps.sh bench    also what the benchmarks use
set -eu
BUILD="build-essential cmake pkg-config libssl-dev libsqlite3-dev libjansson-dev sqlite3
       libmariadb-dev libsndfile1-dev libspandsp-dev libmicrohttpd-dev
       asterisk-core-sounds-es-wav asterisk-core-sounds-en-wav asterisk-moh-opsound-wav"
TEST="clang libclang-rt-14-dev libcmocka-dev sip-tester baresip-core kamailio
      kamailio-sqlite-modules python3 iproute2 procps fail2ban strace sox mariadb-server mariadb-client espeak-ng python3-numpy
      tftp-hpa atftp curl prometheus chromium keepalived iptables resource-agents libxml2-utils
      pacemaker corosync pcs corosync-qnetd corosync-qdevice faketime tcpdump"
BENCH="$TEST rtpengine-daemon crmsh debootstrap"
case "${1:-build}" in
	build) PKGS="$BUILD" ;;
	test)  PKGS="$BUILD $TEST" ;;
	bench) PKGS="$BUILD $BENCH" ;;
	*) echo "usage: $0 [build|test|bench]" >&2; exit 1 ;;
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
