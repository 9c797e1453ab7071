#!/bin/bash
# bench/failover/run.sh: how long the floating address stops answering SIP
# when the active node dies (kill -9) or hangs (SIGSTOP), Tandem + keepalived
# in network namespaces (tests/cluster/lib_netns.sh: ta, tb, client tc on a
# bridge; keepalived with the configuration tandemd generates).
#
# A prober in tc sends SIP OPTIONS to the VIP every 20 ms; the outage of one
# round is the time from the signal to the first 200 from the other node at
# the VIP for a probe sent after the signal (both on one host clock).
# N rounds of each (default 20), alternating the victim; the killed node is
# restarted and waits until it is STANDBY again, the stopped one gets
# SIGCONT and must step down. Prints median and worst and writes
# bench/failover/results/tandem.txt ("kill MS" / "stop MS" lines).
#
# The Pacemaker baseline (bench/failover/pacemaker*, another harness) writes
# the same format to results/pacemaker.txt; when it is there the summary
# gives the ratio Tandem / Pacemaker.
#
# WITNESS=1: with a witness in its own namespace (tests/cluster/
# lib_witness.sh; two_node_takeover = no), SIGSTOP rounds only by default:
# the standby takes over with the witness's grant. Writes
# results/tandem-witness.txt.
#
# Needs root, keepalived, python3, iproute2 and a build (TANDEM_BUILD).
#   sudo N=20 TANDEM_BUILD=build bench/failover/run.sh
#   sudo N=20 WITNESS=1 TANDEM_BUILD=build bench/failover/run.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
NN_NAME=bench_failover
WITNESS=${WITNESS:-0}
if [ "$WITNESS" = 1 ]; then
	. "$HERE/../../tests/cluster/lib_witness.sh"
	SIGS=${SIGS:-STOP}
	OUT=tandem-witness.txt
else
	. "$HERE/../../tests/cluster/lib_netns.sh"
	SIGS=${SIGS:-KILL STOP}
	OUT=tandem.txt
fi
N=${N:-20}
RES=$HERE/results
mkdir -p "$RES"

nn_require
if [ "$WITNESS" = 1 ]; then
	nw_net
	nw_conf a
	nw_conf b
	nw_start
else
	nn_net
	nn_conf a
	nn_conf b
fi
nn_start a
nn_start b
nn_wait 30 "one node ACTIVE" nn_one_active
nn_prober_start 3600
sleep 1
: > "$RES/$OUT.new"

round() {  # SIGNAL: ROUND_MS = the outage; the pair restored (no subshell:
	   # nn_start must update NN_TPID here)
	local sig=$1 v s k kb
	v=$(nn_active)
	[ -n "$v" ] || nn_fail "no active node"
	s=$([ "$v" = a ] && echo b || echo a)
	k=$(now_ns)
	kill "-$sig" "${NN_TPID[$v]}"
	nn_wait 10 "the VIP answers from $s after $sig of $v" \
		nn_vip_back "$k" "${NN_IP[$s]}"
	ROUND_MS=$(nn_outage "$k" "${NN_IP[$s]}")
	kb=$(nn_ka_count "$v" BACKUP)
	if [ "$sig" = KILL ]; then
		wait "${NN_TPID[$v]}" 2>/dev/null
		nn_start "$v"
	else
		sleep 0.3
		kill -CONT "${NN_TPID[$v]}"
	fi
	nn_wait 30 "$v STANDBY again" nn_is "$v" STANDBY
	nn_wait 10 "$v's keepalived BACKUP again" nn_rejoined "$v" "$kb"
	nn_wait 10 "$s ACTIVE" nn_is "$s" ACTIVE
	sleep 0.5
}

for sig in $SIGS; do
	for i in $(seq 1 "$N"); do
		round "$sig"
		word=$([ "$sig" = KILL ] && echo kill || echo stop)
		echo "$word $ROUND_MS" >> "$RES/$OUT.new"
		nn_note "$word $i/$N: $ROUND_MS ms"
	done
done
nn_prober_stop
read -r nb first < <(nn_both)
[ "$nb" = 0 ] || nn_fail "both nodes answered in $nb probe cycles (first $first)"
mv "$RES/$OUT.new" "$RES/$OUT"
python3 "$HERE/summary.py" "$RES"
exit 0
