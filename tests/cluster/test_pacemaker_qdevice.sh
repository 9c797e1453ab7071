#!/bin/bash
# A quorum device under Pacemaker on one host (docs/pacemaker.md,
# "A quorum device"): the pair of test_pacemaker.sh (Debian 12 Corosync +
# Pacemaker, two nodes in network + mount + UTS namespaces,
# bench/failover/pcmk-pair.sh; tandemd as the promotable clone
# ocf:tandem:tandemd, IPaddr2 with the promoted instance) with PK_QNETD=1:
# corosync-qnetd in a third namespace (10.77.0.3), corosync-qdevice on
# both nodes (model net, algorithm ffsplit, TLS: the NSS databases made
# with corosync-qnetd-certutil / corosync-qdevice-net-certutil in the
# test's own /etc/corosync views), two_node off, no-quorum-policy=stop,
# no fencing (test_pacemaker_fence.sh has it).
# The move: the link between the nodes is cut (a blackhole route to the
# other node in each; both still reach qnetd and the client). ffsplit
# gives its vote to one half (tie-breaker: the lowest node ID, n1), so n1
# has two votes of three and n2 one. The test first makes n2 the promoted
# node (pcs node standby/unstandby n1 when needed), so n1 must take the
# service and n2 must stop its promoted instance. Checked:
#   - n1 promoted, answers on the address, lists the REGISTER (SIPp) made
#     before the cut;
#   - n2 reports no quorum, runs no tandemd and holds no floating address;
#   - the prober (SIP OPTIONS to the address every 20 ms from the client
#     namespace) never got an answer from n2 after n1's first: never two
#     active;
#   - when the link is back, n2 rejoins unpromoted and n1 keeps the service.
# Needs root, pcs, corosync, pacemaker, corosync-qnetd, corosync-qdevice,
# resource-agents, sipp; exit 77 (skip) without them.
set -u
set -o pipefail
TP_DIR=$(cd "$(dirname "$0")" && pwd)
TANDEM_SRC=${TANDEM_SRC:-$(cd "$TP_DIR/../.." && pwd)}
TANDEM_BUILD=${TANDEM_BUILD:-$TANDEM_SRC/build}
TANDEMD=$(realpath "${TANDEMD:-$TANDEM_BUILD/tandemd}" 2>/dev/null)
TANDEMCTL=$(realpath "${TANDEMCTL:-$TANDEM_BUILD/tandemctl}" 2>/dev/null)
SIPP_DIR=$TANDEM_SRC/tests/e2e/sipp

note() { echo "[$(date +%T.%3N)] test_pacemaker_qdevice: $*"; }
skip() { echo "test_pacemaker_qdevice: SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network and mount namespaces)"
for t in ip ss nsenter unshare corosync pacemakerd pcs crm_mon corosync-qnetd corosync-qdevice \
	corosync-qnetd-certutil corosync-qdevice-net-certutil sipp python3; do
	command -v "$t" >/dev/null 2>&1 ||
		skip "needs $t (Debian: pacemaker corosync corosync-qnetd corosync-qdevice pcs resource-agents sip-tester iproute2)"
done
[ -r /usr/lib/ocf/resource.d/heartbeat/IPaddr2 ] || skip "needs resource-agents (IPaddr2)"
[ -x "$TANDEMD" ] && [ -x "$TANDEMCTL" ] || skip "no tandemd/tandemctl in $TANDEM_BUILD"

# shellcheck source=../../bench/failover/pacemaker.sh
. "$TANDEM_SRC/bench/failover/pacemaker.sh"
# shellcheck disable=SC2034  # read by pcmk-pair.sh and pacemaker.sh
PK_SERVICE=tandem PK_SERVICE_ROLE=Promoted PK_CONFIGURE=tq_configure PK_QNETD=1
# shellcheck disable=SC2034
PCMK_INTERVAL=0.02
W=$(mktemp -d /tmp/tandem-qdev.XXXXXX) || exit 1
# shellcheck disable=SC2034
PCMK_OUT=$W
D=$W/pair
cleanup() {
	local rc=$?
	[ -n "${PCMK_PROBER:-}" ] && { touch "$W/probe.stop"; wait "$PCMK_PROBER" 2>/dev/null; }
	pk_teardown
	if [ $rc = 0 ]; then rm -rf "$W"; else note "files kept in $W"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
fail() {
	echo "[$(date +%T.%3N)] test_pacemaker_qdevice: FAIL: $*" >&2
	local n
	for n in n1 n2; do
		[ -n "${PK_PID[$n]:-}" ] || continue
		echo "---- crm_mon on $n" >&2; pk_in "$n" crm_mon -1 2>&1 | tail -n 25 >&2
		echo "---- corosync-quorumtool on $n" >&2; pk_in "$n" corosync-quorumtool -s 2>&1 | tail -n 8 >&2
	done
	exit 1
}

# ---- the nodes' files: our agent over resource.d, one DATADIR per node
mkdir -p "$D/resource.d/tandem" "$D/data" "$D/n1/data" "$D/n2/data" "$W/conf"
cp -a /usr/lib/ocf/resource.d/. "$D/resource.d/"
install -m 755 "$TANDEM_SRC/packaging/ocf/tandemd" "$D/resource.d/tandem/tandemd"
C=$W/conf
printf '[general]\nudpbindaddr=0.0.0.0:5060\n\n[100-tfg]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\n' > "$C/sip.conf"
printf '[default]\nexten => 1,1,Hangup()\n' > "$C/extensions.conf"
openssl rand -hex 32 > "$C/cluster.key" && chmod 600 "$C/cluster.key"
printf '[cluster]\nname = tp\nnode = n1,%s\nnode = n2,%s\nkeyfile = cluster.key\nengine = pacemaker\n' \
	"$PK_NET.1" "$PK_NET.2" > "$C/tandem.conf"
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$W/sanitizer
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$W/sanitizer

# as test_pacemaker.sh (docs/pacemaker.md), with no-quorum-policy=stop
tq_configure() {
	local n=$1 f=/run/tq-cib.xml
	pk_in "$n" pcs property set stonith-enabled=false || return 1
	pk_in "$n" pcs property set no-quorum-policy=stop || return 1
	pk_in "$n" pcs resource defaults update resource-stickiness=INFINITY >/dev/null || return 1
	pk_in "$n" pcs cluster cib "$f" || return 1
	pk_in "$n" pcs -f "$f" resource create tandem ocf:tandem:tandemd \
		confdir="$C" datadir="$D/data" binary="$TANDEMD" \
		op monitor interval=1s role=Promoted timeout=10s \
		op monitor interval=2s role=Unpromoted timeout=10s \
		op start timeout=30s op stop timeout=10s op promote timeout=30s op demote timeout=30s \
		promotable promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true ||
		return 1
	pk_in "$n" pcs -f "$f" resource create VirtualIP ocf:heartbeat:IPaddr2 \
		ip="$PK_VIP" cidr_netmask=24 nic=eth0 op monitor interval=5s || return 1
	pk_in "$n" pcs -f "$f" constraint colocation add VirtualIP with Promoted tandem-clone INFINITY || return 1
	pk_in "$n" pcs -f "$f" constraint order promote tandem-clone "then" start VirtualIP >/dev/null || return 1
	pk_in "$n" pcs cluster cib-push "$f" || return 1
}
tq_unpromoted_on() {  # NODE's view: exactly one unpromoted instance
	pk_mon "$1" | python3 -c '
import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read())
n = sum(1 for res in r.iter("resource") if res.get("id") == "tandem" and
        res.get("role") in ("Unpromoted", "Slave") and res.get("failed") != "true")
sys.exit(0 if n == 1 else 1)'
}
# promoted_on NODE: NODE sees itself promoted, with the address
promoted_on() { local w; w=$(pk_where "$1") && set -- $w "$1" && [ "$2" = "$4" ] && [ "$3" = "$4" ]; }
# no_quorum NODE: NODE's Pacemaker says its partition has no quorum
no_quorum() { pk_mon "$1" | grep -q 'with_quorum="false"'; }
# tandemd_pids NODE: tandemd processes in NODE's network namespace
tandemd_pids() {
	local p
	for p in $(pk_ns_pids "$PK$1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = tandemd ] && echo "$p"
	done
}
n2_stopped() { [ -z "$(tandemd_pids n2)" ] && ! ip -n "${PK}n2" -o addr show dev eth0 | grep -q "$PK_VIP/"; }
regs_on() {
	pk_in "$1" "$TANDEMCTL" -D "$D/data" registrations --json | python3 -c '
import json, sys
print(" ".join(sorted(set(r["peer"] for r in json.load(sys.stdin)["registrations"]))))'
}
regs_kept() { [ "$(regs_on "$1")" = 100-tfg ]; }
cut() { ip -n "${PK}n1" route "$1" blackhole "$PK_NET.2/32" && ip -n "${PK}n2" route "$1" blackhole "$PK_NET.1/32"; }

T0=$(date +%s)
note "files in $W"
pk_setup "$D" || fail "the pair did not come up (see $D)"
pk_until 60 tq_unpromoted_on n1 || fail "tandem-clone did not settle (one promoted, one unpromoted)"
pk_in n1 corosync-quorumtool -s | grep -q 'Flags:.*Quorate.*Qdevice' ||
	fail "n1's quorum has no Qdevice vote: $(pk_in n1 corosync-quorumtool -s)"
act=$(pk_active) || fail "no promoted node"
if [ "$act" = n1 ]; then  # make n2 the promoted node: n1 then has to take over
	pk_in n1 pcs node standby n1 || fail "pcs node standby n1"
	pk_until 60 promoted_on n2 || fail "n2 not promoted after pcs node standby n1"
	pk_in n1 pcs node unstandby n1 || fail "pcs node unstandby n1"
	pk_until 60 tq_unpromoted_on n1 || fail "n1 does not run an unpromoted instance after unstandby"
fi
promoted_on n2 || fail "n2 is not the promoted node"
note "ok: n2 promoted, n1 unpromoted, 3 votes (n1, n2, qnetd) ($(( $(date +%s) - T0 )) s)"

printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$W/u.csv"
( cd "$W" && PK_CLIENT_TIMEOUT=40 pk_client sipp -nostdin -trace_err -error_file "$W/sipp.err" \
	-sf "$SIPP_DIR/register_auth.xml" -inf "$W/u.csv" -i "$PK_NET.10" -p 5070 \
	-m 1 -r 1 -timeout 20 "$PK_VIP:5060" ) > "$W/sipp.out" 2>&1 ||
	fail "SIPp REGISTER to $PK_VIP: $(tail -n 5 "$W/sipp.err" 2>/dev/null)"
pk_until 10 regs_kept n1 || fail "n1 (unpromoted) does not list 100-tfg: $(regs_on n1)"

# ---- the cut: n1 and n2 no longer hear each other, both still reach qnetd
pcmk_probe_start "$W/probe"
note "cutting the link between n1 and n2 (both keep qnetd)"
t_cut=$(date +%s.%N)
cut add || fail "blackhole routes"
pk_until 60 promoted_on n1 || { pcmk_probe_stop "$W/probe"; fail "n1 (qnetd's vote) not promoted after the cut"; }
t_prom=$(date +%s.%N)
pk_until 30 no_quorum n2 || { pcmk_probe_stop "$W/probe"; fail "n2 does not report a partition without quorum"; }
pk_until 30 n2_stopped || { pcmk_probe_stop "$W/probe"; fail "n2 still runs tandemd ($(tandemd_pids n2 | tr '\n' ' ')) or holds $PK_VIP"; }
pk_until 30 pk_vip_answers || { pcmk_probe_stop "$W/probe"; fail "the address does not answer after the cut"; }
sleep 1
pcmk_probe_stop "$W/probe"
# the prober's NODE is tandemd's Server header, "Tandem/VERSION (node N)"
# with blanks as _: never two active: once n1 answered, n2 never again
awk '$1 == "probe" && $3 != "-" { if ($3 ~ /node_n1\)$/) s = 1; else if (s) { print; bad = 1 } }
	END { exit bad }' "$W/probe" > "$W/probe.bad" ||
	fail "another node answered on the address after n1 did: $(head -n 3 "$W/probe.bad")"
grep -q '^probe .*node_n2)$' "$W/probe" || fail "the prober never saw n2 before the cut (probe file $W/probe)"
grep '^probe ' "$W/probe" | awk '$3 != "-"' | tail -n 1 | grep -q 'node_n1)$' ||
	fail "the last answer on the address did not come from n1"
g=$(awk '$1 == "gap" && $4 > m { m = $4 } END { printf "%.3f", m + 0 }' "$W/probe")
regs_kept n1 || fail "after the cut: n1 lists '$(regs_on n1)', want 100-tfg"
note "ok: cut: n1 (2 votes of 3) promoted $(awk -v a="$t_cut" -v b="$t_prom" 'BEGIN { printf "%.1f", b - a }') s after the cut, the address answered again after $g s; n2 (no quorum) stopped tandemd and the address; never two active; 100-tfg kept"

# ---- the link back: n2 rejoins as the unpromoted node, n1 keeps the service
cut del || fail "removing the blackhole routes"
pk_until 90 tq_unpromoted_on n1 || fail "n2 did not rejoin unpromoted after the link came back"
promoted_on n1 || fail "the service moved after the link came back (stickiness INFINITY)"
ls "$W"/sanitizer* >/dev/null 2>&1 && fail "sanitizer reports: $(head -n 20 "$W"/sanitizer*)"
note "ok: link back: n2 unpromoted again, n1 keeps the service"
note "ok: all ($(( $(date +%s) - T0 )) s)"
