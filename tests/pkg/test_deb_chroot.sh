#!/bin/bash
# The .deb in a clean Debian 12: scripts/make-deb.sh builds it, debootstrap
# makes a minimal bookworm (--variant=minbase, from the host's configured
# apt mirror), apt installs the .deb inside (chroot; Depends from the
# mirror, the postinst makes the user tandem), then tandemd runs in the
# chroot as the service would (`tandemd -C /etc/tandem -D /var/lib/tandem
# -f` as tandem; systemd does not run in a chroot) in a network namespace
# of its own, on the packaged configuration plus one peer, and:
#   tandemctl status (in the chroot) succeeds;
#   SIPp, run from outside the chroot in that namespace, REGISTERs the peer
#   with digest authentication, and `tandemctl registrations` lists it.
# NOT in ctest (slow: downloads ~50 MB, a few minutes). Run as root:
#   tests/pkg/test_deb_chroot.sh            (MIRROR=URL to override)
# Needs debootstrap (scripts/install-deps.sh bench), sipp, iproute2.
set -u
set -o pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
note() { echo "[$(date +%T)] test_deb_chroot: $*"; }
fail() { echo "[$(date +%T)] test_deb_chroot: FAIL: $*" >&2; exit 1; }
skip() { echo "test_deb_chroot: SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, network namespace)"
for t in debootstrap sipp ip unshare chroot; do
	command -v "$t" >/dev/null 2>&1 || skip "needs $t (scripts/install-deps.sh bench; sip-tester)"
done
if [ -z "${MIRROR:-}" ]; then
	MIRROR=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
	[ -n "$MIRROR" ] || MIRROR=$(sed -n 's/^deb[[:space:]]\+\([^[:space:]]*\)[[:space:]]\+bookworm[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n1)
fi
[ -n "$MIRROR" ] || fail "no Debian mirror found in /etc/apt/sources.list(.d); set MIRROR=URL"

W=$(mktemp -d /tmp/tandem-debchroot.XXXXXX) || exit 1
R=$W/root NS=tdeb$$ TPID=""
cleanup() {
	local rc=$?
	local p
	# every process in our namespace (runuser leaves tandemd as its child)
	for p in $(ip netns pids "$NS" 2>/dev/null) $TPID; do kill -KILL "$p" 2>/dev/null; done
	[ -n "$TPID" ] && wait "$TPID" 2>/dev/null
	for _ in $(seq 1 50); do [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break; sleep 0.1; done
	ip netns del "$NS" 2>/dev/null
	if [ $rc = 0 ]; then rm -rf "$W"; else note "files kept in $W"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
T0=$(date +%s)

# ---- the package
timeout 900 sh "$SRC/scripts/make-deb.sh" "$W/build-deb" > "$W/make-deb.log" 2>&1 ||
	fail "make-deb.sh: $(tail -n 5 "$W/make-deb.log")"
DEB=$(ls "$W"/build-deb/tandem_*.deb | head -n1)
note "built $(basename "$DEB") ($(( $(date +%s) - T0 )) s)"

# ---- a clean bookworm
t=$(date +%s)
timeout 1200 debootstrap --variant=minbase bookworm "$R" "$MIRROR" > "$W/debootstrap.log" 2>&1 ||
	fail "debootstrap from $MIRROR: $(tail -n 5 "$W/debootstrap.log")"
note "debootstrap --variant=minbase bookworm from $MIRROR: $(( $(date +%s) - t )) s, $(du -sm "$R" | cut -f1) MB"

# in a mount namespace of our own: /proc for apt and tandemd, gone with it
inroot() { unshare -m --propagation private sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$R" "$@"; }

# ---- install the .deb with apt inside
t=$(date +%s)
cp "$DEB" "$R/tmp/"
inroot env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update > "$W/apt.log" 2>&1 ||
	fail "apt-get update in the chroot: $(tail -n 5 "$W/apt.log")"
inroot env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y --no-install-recommends \
	"/tmp/$(basename "$DEB")" >> "$W/apt.log" 2>&1 ||
	fail "apt-get install of the .deb in the chroot: $(tail -n 8 "$W/apt.log")"
inroot id tandem > /dev/null || fail "the postinst made no user tandem"
for f in /usr/sbin/tandemd /usr/bin/tandemctl /etc/tandem/sip.conf /usr/lib/ocf/resource.d/tandem/tandemd \
	/usr/lib/systemd/system/tandemd.service; do
	[ -e "$R$f" ] || fail "$f not installed"
done
note "apt installed the .deb and its dependencies in the chroot ($(( $(date +%s) - t )) s)"

# ---- tandemd as the service runs it, in a network namespace
ExecStart=$(sed -n 's/^ExecStart=//p' "$R/usr/lib/systemd/system/tandemd.service")
User=$(sed -n 's/^User=//p' "$R/usr/lib/systemd/system/tandemd.service")
note "the unit: User=${User:-root} ExecStart=$ExecStart"
case $ExecStart in *" -f"*) ;; *) fail "ExecStart without -f: $ExecStart" ;; esac
CTL=/usr/bin/tandemctl
[ -x "$R$CTL" ] || CTL=/usr/sbin/tandemctl
printf '\n[100-tfg]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\n' >> "$R/etc/tandem/sip.conf"
ip netns add "$NS" && ip -n "$NS" link set lo up || fail "cannot make a network namespace"
# shellcheck disable=SC2086
ip netns exec "$NS" unshare -m --propagation private sh -c \
	'mount -t proc proc "$0/proc" && exec chroot "$0" runuser -u "$1" -- '"$ExecStart" \
	"$R" "${User:-root}" > "$W/tandemd.log" 2>&1 &
TPID=$!
ok=0
for _ in $(seq 1 100); do
	kill -0 "$TPID" 2>/dev/null || fail "tandemd exited: $(tail -n 10 "$W/tandemd.log")"
	if ip netns exec "$NS" unshare -m sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" runuser -u "$1" -- "$2" -D /var/lib/tandem status' \
		"$R" "${User:-root}" "$CTL" > "$W/status.out" 2>&1; then ok=1; break; fi
	sleep 0.2
done
[ $ok = 1 ] || fail "tandemctl status in the chroot: $(tail -n 3 "$W/status.out"); tandemd: $(tail -n 5 "$W/tandemd.log")"
note "tandemd runs in the chroot (pid $TPID); tandemctl status: $(head -n 1 "$W/status.out")"

# ---- SIPp from outside the chroot
printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$W/users.csv"
( cd "$W" && timeout -k 3 30 ip netns exec "$NS" sipp -nostdin -trace_err -error_file "$W/sipp.err" \
	-sf "$SRC/tests/e2e/sipp/register_auth.xml" -inf "$W/users.csv" -i 127.0.0.1 -p 5070 \
	-m 1 -r 1 127.0.0.1:5060 ) > "$W/sipp.out" 2>&1 || fail "SIPp REGISTER: $(tail -n 5 "$W/sipp.err" 2>/dev/null)"
ip netns exec "$NS" unshare -m sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" runuser -u "$1" -- "$2" -D /var/lib/tandem registrations' \
	"$R" "${User:-root}" "$CTL" > "$W/regs.out" 2>&1 || fail "tandemctl registrations: $(cat "$W/regs.out")"
grep -q "100-tfg" "$W/regs.out" || fail "100-tfg not registered: $(cat "$W/regs.out")"
note "SIPp REGISTER (digest) of 100-tfg from outside the chroot: registered"
grep -Eiq "AddressSanitizer|runtime error" "$W/tandemd.log" && fail "sanitizer output: $(head "$W/tandemd.log")"
P=$(cat "$R/var/lib/tandem/tandemd.pid" 2>/dev/null)
note "ok: the .deb installs and tandemd (pid ${P:-?}) serves in a clean bookworm ($(( $(date +%s) - T0 )) s in all)"
