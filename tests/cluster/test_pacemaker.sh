#!/bin/bash
# Tandem under Pacemaker for real (docs/pacemaker.md): Debian 12's Corosync
# + Pacemaker on two nodes in network + mount + UTS namespaces
# (bench/failover/pcmk-pair.sh), tandemd on each through the agent
# ocf:tandem:tandemd as a promotable clone (engine = pacemaker), the
# floating address (IPaddr2) colocated with the promoted instance, a SIP
# OPTIONS prober in the client namespace. Each move:
#   kill -9 of the promoted tandemd, SIGSTOP of it, death of its node (its
#   link down, every process kill -9'd: Corosync's token and consensus
#   run out before Pacemaker acts), `pcs node standby` of its node (then
#   `unstandby`, which must not move it back: stickiness);
# after each, the other node is promoted and answers on the address, and
# every REGISTER (SIPp, to the address) made before the move is listed by
# the new active node. The time from the failure to the first answer from
# the address is printed (the prober's longest gap).
# Test settings: monitor 1 s promoted / 2 s unpromoted, migration-threshold
# 1 (a failed node is not promoted again until `pcs resource cleanup`),
# no fencing (stonith-enabled=false; see docs/pacemaker.md for why
# production wants fencing or a quorum device: test_pacemaker_fence.sh and
# test_pacemaker_qdevice.sh run each on this pair).
# Needs root, pcs, corosync, pacemaker, resource-agents, sipp; exit 77
# (skip) without them. TP_PAUSE=SECS keeps the pair up that long after a
# failure, for a look inside (pk_in-style: nsenter -t $(cat DIR/n1.pid) ...).
set -u
set -o pipefail
TP_DIR=$(cd "$(dirname "$0")" && pwd)
TANDEM_SRC=${TANDEM_SRC:-$(cd "$TP_DIR/../.." && pwd)}
TANDEM_BUILD=${TANDEM_BUILD:-$TANDEM_SRC/build}
TANDEMD=$(realpath "${TANDEMD:-$TANDEM_BUILD/tandemd}" 2>/dev/null)
TANDEMCTL=$(realpath "${TANDEMCTL:-$TANDEM_BUILD/tandemctl}" 2>/dev/null)
SIPP_DIR=$TANDEM_SRC/tests/e2e/sipp

note() { echo "[$(date +%T.%3N)] test_pacemaker: $*"; }
skip() { echo "test_pacemaker: SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network and mount namespaces)"
for t in ip nsenter unshare corosync pacemakerd pcs crm_mon crm_resource sipp python3; do
	command -v "$t" >/dev/null 2>&1 ||
		skip "needs $t (Debian: pacemaker corosync pcs resource-agents sip-tester iproute2)"
done
[ -r /usr/lib/ocf/resource.d/heartbeat/IPaddr2 ] || skip "needs resource-agents (IPaddr2)"
[ -x "$TANDEMD" ] && [ -x "$TANDEMCTL" ] || skip "no tandemd/tandemctl in $TANDEM_BUILD"

# shellcheck source=../../bench/failover/pacemaker.sh
. "$TANDEM_SRC/bench/failover/pacemaker.sh"
# shellcheck disable=SC2034  # read by pcmk-pair.sh and pacemaker.sh
PK_SERVICE=tandem PK_SERVICE_ROLE=Promoted PK_CONFIGURE=tp_configure
PCMK_INTERVAL=0.02
W=$(mktemp -d /tmp/tandem-pcmk.XXXXXX) || exit 1
# shellcheck disable=SC2034
PCMK_OUT=$W
D=$W/pair
KEEP=0
cleanup() {
	local rc=$?
	pk_teardown
	if [ $rc = 0 ] && [ "$KEEP" = 0 ]; then rm -rf "$W"; else note "files kept in $W"; fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
fail() {
	echo "[$(date +%T.%3N)] test_pacemaker: FAIL: $*" >&2
	local n
	for n in n1 n2; do
		[ -n "${PK_PID[$n]:-}" ] || continue
		echo "---- crm_mon on $n" >&2; pk_in "$n" crm_mon -1 2>&1 | tail -n 25 >&2
	done
	for n in n1 n2; do
		echo "---- $n: tandemd.log (last 15)" >&2; tail -n 15 "$D/$n/data/tandemd.log" 2>/dev/null >&2
	done
	[ -n "${TP_PAUSE:-}" ] && { note "pausing $TP_PAUSE s before the teardown (TP_PAUSE)"; sleep "$TP_PAUSE"; }
	exit 1
}

# ---- the nodes' files: our agent over resource.d, one DATADIR per node
mkdir -p "$D/resource.d" "$D/data" "$D/n1/data" "$D/n2/data" "$W/conf"
cp -a /usr/lib/ocf/resource.d/. "$D/resource.d/"
mkdir -p "$D/resource.d/tandem"
install -m 755 "$TANDEM_SRC/packaging/ocf/tandemd" "$D/resource.d/tandem/tandemd"
C=$W/conf
printf '[general]\nudpbindaddr=0.0.0.0:5060\n\n' > "$C/sip.conf"
for u in 100 101 102 103 104 105; do
	printf '[%s-tfg]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\n\n' "$u" >> "$C/sip.conf"
done
printf '[default]\nexten => 1,1,Hangup()\n' > "$C/extensions.conf"
openssl rand -hex 32 > "$C/cluster.key" && chmod 600 "$C/cluster.key"
cat > "$C/tandem.conf" <<EOF
[cluster]
name = tp
node = n1,$PK_NET.1
node = n2,$PK_NET.2
keyfile = cluster.key
engine = pacemaker
EOF
# a daemonized tandemd's stderr is /dev/null: sanitizer reports to files
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$W/sanitizer
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$W/sanitizer

# the commands of docs/pacemaker.md, with the test's short intervals
tp_configure() {
	local n=$1 f=/run/tp-cib.xml
	pk_in "$n" pcs property set stonith-enabled=false || return 1
	pk_in "$n" pcs property set no-quorum-policy=ignore || return 1
	pk_in "$n" pcs resource defaults update resource-stickiness=INFINITY >/dev/null || return 1
	pk_in "$n" pcs cluster cib "$f" || return 1
	pk_in "$n" pcs -f "$f" resource create tandem ocf:tandem:tandemd \
		confdir="$C" datadir="$D/data" binary="$TANDEMD" \
		op monitor interval=1s role=Promoted timeout=10s \
		op monitor interval=2s role=Unpromoted timeout=10s \
		op start timeout=30s op stop timeout=10s op promote timeout=30s op demote timeout=30s \
		meta migration-threshold=1 \
		promotable promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true ||
		return 1
	pk_in "$n" pcs -f "$f" resource create VirtualIP ocf:heartbeat:IPaddr2 \
		ip="$PK_VIP" cidr_netmask=24 nic=eth0 op monitor interval=5s || return 1
	pk_in "$n" pcs -f "$f" constraint colocation add VirtualIP with Promoted tandem-clone INFINITY || return 1
	pk_in "$n" pcs -f "$f" constraint order promote tandem-clone "then" start VirtualIP >/dev/null || return 1
	pk_in "$n" pcs cluster cib-push "$f" || return 1
}

# both instances running, one promoted with the address, the address answers
tp_unpromoted_on() {
	pk_mon "$1" | python3 -c '
import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read())
n = sum(1 for res in r.iter("resource") if res.get("id") == "tandem" and
        res.get("role") in ("Unpromoted", "Slave") and res.get("failed") != "true")
sys.exit(0 if n == 1 else 1)'
}
tp_settled() { pk_wait_settled 120 && pk_until 60 tp_unpromoted_on n1; }

nctl() { local n=$1; shift; pk_in "$n" "$TANDEMCTL" -D "$D/data" "$@"; }
regs_on() {  # NODE: the registered peer names, sorted, one line
	nctl "$1" registrations --json | python3 -c '
import json, sys
print(" ".join(sorted(set(r["peer"] for r in json.load(sys.stdin)["registrations"]))))'
}
REGS=""
register() {  # USER: SIPp in the client namespace registers USER at the address
	local u=$1
	printf 'SEQUENTIAL\n%s;tf2020\n' "$u" > "$W/$u.csv"
	( cd "$W" && PK_CLIENT_TIMEOUT=40 pk_client sipp -nostdin -trace_err -error_file "$W/sipp.$u.err" \
		-sf "$SIPP_DIR/register_auth.xml" -inf "$W/$u.csv" -i "$PK_NET.10" -p 5070 \
		-m 1 -r 1 -timeout 20 "$PK_VIP:5060" ) > "$W/sipp.$u.out" 2>&1 ||
		fail "SIPp REGISTER of $u to $PK_VIP: $(tail -n 5 "$W/sipp.$u.err" 2>/dev/null)"
	REGS=$(echo "$REGS $u" | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ' | sed 's/ $//')
}
regs_kept() { [ "$(regs_on "$1")" = "$REGS" ]; }

T0=$(date +%s)
note "files in $W"
pk_setup "$D" || fail "the pair did not come up (see $D)"
tp_settled || fail "tandem-clone did not settle (one promoted with the address, one unpromoted)"
act=$(pk_active) || fail "no promoted node"
note "ok: promotable clone up: $act promoted with $PK_VIP, $(pcmk_other "$act") unpromoted ($(( $(date +%s) - T0 )) s)"

FIG=""
# move WHAT CMD...: REGISTER, then run CMD against the promoted node; the
# other node must be promoted, answer on the address and list every REGISTER
move() {
	local what=$1 user=$2 old new g out=$W/$1
	shift 2
	old=$(pk_active) || fail "no promoted node before $what"
	new=$(pcmk_other "$old")
	register "$user"
	pk_until 10 regs_kept "$new" || fail "$new (unpromoted) does not list $REGS before $what: $(regs_on "$new")"
	pcmk_probe_start "$out"
	"$@" "$old"
	pk_until 60 tp_promoted_is "$new" || { pcmk_probe_stop "$out"; fail "$new not promoted after $what of $old"; }
	pk_until 30 pk_vip_answers || { pcmk_probe_stop "$out"; fail "the address does not answer after $what"; }
	sleep 0.5
	pcmk_probe_stop "$out"
	g=$(awk '$1 == "gap" && $4 > m { m = $4 } END { if (m == "") exit 1; printf "%.3f\n", m }' "$out") ||
		fail "$what: no gap in the prober's log $out"
	regs_kept "$new" || fail "after $what: $new lists '$(regs_on "$new")', want '$REGS'"
	note "ok: $what of $old: $new promoted, the address answered again after $g s; registrations kept: $REGS"
	FIG="$FIG$(printf '%-28s %s -> %s %8s s' "$what" "$old" "$new" "$g")\n"
}
tp_promoted_is() { [ "$(pk_active1 2>/dev/null)" = "$1" ]; }

kill9() { pk_in "$1" sh -c 'kill -KILL "$(head -n1 "$0/tandemd.pid")"' "$D/data"; }
sigstop() { pk_in "$1" sh -c 'kill -STOP "$(head -n1 "$0/tandemd.pid")"' "$D/data"; }
standby() { pk_in "$1" pcs node standby "$1"; }
# after a failure: clear it so the failed node runs an unpromoted instance
recover() {
	pk_in n1 crm_resource --cleanup -r tandem >/dev/null 2>&1
	tp_settled || fail "tandem-clone did not settle after $1"
}

move "kill -9" 100-tfg kill9
recover "kill -9"
move "SIGSTOP" 101-tfg sigstop
recover "SIGSTOP"
move "node death" 104-tfg pk_node_die
pk_node_revive "$(pcmk_other "$(pk_active)")" || fail "the dead node did not start again"
recover "the node's return"
move "pcs node standby" 102-tfg standby
standby_node=$(pcmk_other "$(pk_active)")
pk_in "$standby_node" pcs node unstandby "$standby_node" || fail "pcs node unstandby"
pk_until 60 tp_unpromoted_on n1 || fail "$standby_node does not run an unpromoted instance after unstandby"
now=$(pk_active)
[ "$now" != "$standby_node" ] || fail "unstandby moved the service back (stickiness INFINITY)"
register 105-tfg
pk_until 10 regs_kept "$standby_node" || fail "$standby_node does not catch up after unstandby: $(regs_on "$standby_node")"
note "ok: pcs node unstandby $standby_node: unpromoted again, in sync ($REGS), service stays on $now"

ls "$W"/sanitizer* >/dev/null 2>&1 && fail "sanitizer reports: $(head -n 20 "$W"/sanitizer*)"
echo
echo "Tandem under Pacemaker: $(pacemakerd --version | head -n1), $(corosync -v | sed -n "s/.*version '\(.*\)'.*/corosync \1/p"), monitor 1 s/2 s, probe every ${PCMK_INTERVAL}s"
printf "%b" "$FIG"
note "ok: all moves ($(( $(date +%s) - T0 )) s)"
