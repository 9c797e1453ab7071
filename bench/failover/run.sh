#!/bin/bash
# bench/failover/run.sh: how long the floating address stops answering SIP
# when the active node dies (kill -9) or hangs (SIGSTOP), for Tandem and
# for the seed-style Pacemaker pair, in one invocation, and the ratios
# Pacemaker / Tandem (the main result). Method: bench/README.md.
#
#   sudo bench/failover/run.sh                 # 20 rounds of each: about 40 minutes
#   sudo ROUNDS=2 OUT=/tmp/fo bench/failover/run.sh   # a quick check of the script
#
# Engines (ENGINES, default "tandem witness pacemaker"), one after the
# other, each in namespaces of its own that it removes:
#   tandem     Tandem + keepalived (tests/cluster/lib_netns.sh: ta, tb,
#              client tc on a bridge; keepalived with the configuration
#              tandemd generates; two_node_takeover = yes)
#   witness    the same with a witness (tests/cluster/lib_witness.sh: tw
#              runs tandemd --witness; two_node_takeover = no)
#   pacemaker  the seed-style pair (pacemaker.sh, pcmk-pair.sh: Debian 12's
#              Corosync 3.1 with its default token, Pacemaker 2.1, IPaddr2
#              and a SIP responder as the service, monitor 30 s)
# In each, a prober in the client namespace sends SIP OPTIONS to the
# floating address every 20 ms; a round's outage is the time from the
# failure (taken just before the signal) to the arrival of the first
# answer at the address to a probe sent after it: from the other node
# (Tandem's kill -9 and SIGSTOP, Pacemaker's node death), or the first
# answer after the silence (Pacemaker's hung service, restarted where it
# was). kill -9: Tandem's tandemd on the active node; Pacemaker: the
# whole active node (its link down, corosync, pacemaker and the service
# kill -9'd), the case Pacemaker handles fastest (a killed service alone
# waits for the 30 s monitor). SIGSTOP: tandemd / the service.
# ROUNDS rounds of each (default 20), victim alternating.
#
# Knobs: ROUNDS (20; N is the old name), ENGINES, SIGS ("KILL STOP", for
# the Tandem engines), PK_TOKEN (Corosync token ms; default Corosync's),
# TANDEM_BUILD (<repo>/build; a Release build is what RESULTS.md uses),
# TANDEM_COMMIT (what host.txt names, when SRC is an export, not a clone),
# OUT (results folder, default bench/failover/results), LOCK_WAIT (1800).
# Writes OUT/tandem.txt, tandem-witness.txt, pacemaker.txt ("kill MS" /
# "stop MS" lines), load.txt (the 1-minute load average at each round),
# host.txt and summary.txt (the table and the ratios, also printed).
# Fails if both Tandem nodes ever answer in the same 20 ms probe cycle.
# Needs root, keepalived, python3, iproute2, corosync, pacemaker, pcs,
# resource-agents (scripts/install-deps.sh bench).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-${N:-20}}
RES=${OUT:-$HERE/results}
export ROUNDS RES

# ---------------------------------------------------------------- Tandem
# tandem_phase tandem|witness: every round of both signals, in this
# process (lib_netns.sh, sourced at the top level, exits on failure and
# cleans up on exit)
tandem_phase() {
	local out=tandem.txt
	[ "$1" = witness ] && out=tandem-witness.txt
	nn_require
	if [ "$1" = witness ]; then
		nw_pair    # up, in sync, the active holding the lease
	else
		nn_net
		nn_conf a
		nn_conf b
		nn_start a
		nn_start b
		nn_wait 30 "one node ACTIVE" nn_one_active
	fi
	nn_prober_start 7200
	sleep 1
	: > "$RES/$out.new"
	local sig i word
	for sig in ${SIGS:-KILL STOP}; do
		word=$([ "$sig" = KILL ] && echo kill || echo stop)
		for i in $(seq 1 "$ROUNDS"); do
			echo "$1 $word $(cut -d' ' -f1 /proc/loadavg)" >> "$RES/load.txt"
			tandem_round "$sig"
			echo "$word $ROUND_MS" >> "$RES/$out.new"
			nn_note "$1 $word $i/$ROUNDS: $ROUND_MS ms"
		done
	done
	nn_prober_stop
	read -r nb first < <(nn_both)
	[ "$nb" = 0 ] || nn_fail "both nodes answered in $nb probe cycles (first $first)"
	mv "$RES/$out.new" "$RES/$out"
}

# tandem_round SIGNAL: ROUND_MS = the outage; the pair restored (no
# subshell: nn_start must update NN_TPID here)
tandem_round() {
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

# ---------------------------------------------------------------- Pacemaker
# pacemaker_phase: ROUNDS node deaths, then ROUNDS hung services
pacemaker_phase() {
	trap pk_teardown EXIT
	trap 'exit 130' INT TERM HUP
	local d
	d=$(mktemp -d /tmp/bench-failover-pcmk.XXXXXX) || return 1
	pcmk_failover_bench "$ROUNDS" "$ROUNDS" 0.02 "$d" ||
		{ echo "the pair's files and logs are kept in $d" >&2; return 1; }
	mv "$d/pacemaker.txt" "$RES/pacemaker.txt"
	rm -rf "$d"   # the nodes' logs, hundreds of MB after 40 rounds
}

# ---------------------------------------------------------------- driver
# (main is a function and the dispatch one compound command: bash has read
# the whole file before it runs them, so an edit of the file while it runs
# changes nothing)
main() {
	. "$SRC/bench/lib.sh"
	ENGINES=${ENGINES:-"tandem witness pacemaker"}
	case $ROUNDS in ''|*[!0-9]*|0) die "ROUNDS=$ROUNDS: a whole number of rounds, at least 1" ;; esac
	for e in $ENGINES; do case $e in tandem|witness|pacemaker) ;; *) die "unknown engine $e (tandem witness pacemaker)" ;; esac; done
	[ "$(id -u)" = 0 ] || die "run as root (network and mount namespaces)"
	need_tools ip nsenter unshare keepalived python3 flock
	case " $ENGINES " in *" pacemaker "*) need_tools corosync pacemakerd pcs crm_mon crm_resource ;; esac
	[ -x "${TANDEM_BUILD:-$SRC/build}/tandemd" ] || die "no tandemd in ${TANDEM_BUILD:-$SRC/build} (build first, or TANDEM_BUILD=)"
	mkdir -p "$RES" || die "cannot make $RES"
	bench_lock "${LOCK_WAIT:-1800}"
	: > "$RES/load.txt"
	{
		host_info
		echo "tandem: ${TANDEM_COMMIT:-$(cd "$SRC" && git rev-parse --short HEAD 2>/dev/null)} ${TANDEM_BUILD:-$SRC/build}/tandemd"
		echo "keepalived: $(keepalived --version 2>&1 | head -n1)"
		echo "ROUNDS=$ROUNDS ENGINES=$ENGINES SIGS=${SIGS:-KILL STOP} PK_TOKEN=${PK_TOKEN:-}"
	} > "$RES/host.txt"
	cat "$RES/host.txt" >&2
	rc=0
	for e in $ENGINES; do
		log "engine $e: $ROUNDS rounds of each failure"
		# a failed engine leaves its earlier results file alone; the others go on
		bash "$0" --phase "$e" || { log "engine $e FAILED"; rc=1; }
	done
	echo "end: $(date -Is), load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$RES/host.txt"
	python3 "$HERE/summary.py" "$RES" | tee "$RES/summary.txt"
	exit $rc
}

case ${1:-} in
--phase)   # one engine's rounds, as a child of main (the libs are sourced
	   # at the top level: their declare -A are global)
	case ${2:-} in
	tandem) NN_NAME=bench_failover; . "$SRC/tests/cluster/lib_netns.sh"; tandem_phase tandem; exit 0 ;;
	witness) NN_NAME=bench_failover; . "$SRC/tests/cluster/lib_witness.sh"; tandem_phase witness; exit 0 ;;
	pacemaker)
		. "$HERE/pacemaker.sh"
		# the load at each round
		pcmk_round_hook() { echo "pacemaker $1 $(cut -d' ' -f1 /proc/loadavg)" >> "$RES/load.txt"; }
		# shellcheck disable=SC2034  # read by pacemaker.sh
		PCMK_ROUND_HOOK=pcmk_round_hook
		pacemaker_phase; exit ;;
	esac
	echo "unknown phase ${2:-}" >&2; exit 2 ;;
-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) main; exit ;;
esac
