#!/bin/bash
# bench/failover/pacemaker.sh: how long a seed-style Pacemaker pair
# (pcmk-pair.sh) leaves its floating address unanswered after a failure.
#
#   bench/failover/pacemaker.sh [-k KILL_RUNS] [-s HANG_RUNS] [-i INTERVAL] [-t TOKEN_MS] [-o DIR]
#     -k  node-death runs (default 20): kill -9 of every process of the
#         active node (corosync, pacemaker, the service) and its link
#         down, at once
#     -s  hung-service runs (default 3): SIGSTOP of the service only,
#         which only the 30 s monitor can find, at a random point of
#         the monitor's cycle
#     -i  probe interval in seconds (default 0.015)
#     -t  Corosync token timeout in ms (default: Corosync's, 3000 in
#         Debian 12; the seed's Corosync 2 defaulted to 1000); also
#         PK_TOKEN=MS when sourced
#     -o  keep the prober outputs and the nodes' logs in DIR
#
# A prober (prober.py) in the client namespace sends SIP OPTIONS to the
# VIP every INTERVAL; the failover time of a run is measured as
# bench/failover/run.sh measures Tandem's: from the failure (the time
# taken just before the kill, bash's $EPOCHREALTIME) to the arrival of
# the first answer at the VIP to a probe sent after it (node death: from
# the other node; hang: the first answer after the silence). Between
# node-death runs the dead node is started again and rejoins
# (stickiness keeps the service where it is: the next run kills the
# other node); between hang runs the failure is cleaned up
# (crm_resource --cleanup).
#
# Sourced (by bench/failover/run.sh), it only defines
#   pcmk_failover_bench KILL_RUNS HANG_RUNS [INTERVAL] [DIR]
# which prints the table, writes DIR/pacemaker.txt ("kill MS" / "stop MS"
# lines, the format of run.sh's results) and sets PCMK_KILL_RUNS_MS /
# PCMK_HANG_RUNS_MS (every run, ms); PCMK_ROUND_HOOK, when set, is called
# with "kill I" / "stop I" before each run.
# It takes no benchmark lock when sourced (the caller holds it); the
# caller's EXIT trap should call pk_teardown (a no-op when nothing is up).

PCMK_BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=pcmk-pair.sh
. "$PCMK_BENCH_DIR/pcmk-pair.sh"

# pcmk_probe_start OUT: prober in the client namespace, in the background
pcmk_probe_start() {
	rm -f "$1.stop" "$1.mark"
	# shellcheck disable=SC2034  # for a caller's cleanup (lib_pcmk.sh)
	PCMK_PROBE_OUT=$1
	PK_CLIENT_TIMEOUT=400 pk_client python3 "$PCMK_BENCH_DIR/prober.py" \
		--target "$PK_VIP:5060" --interval "$PCMK_INTERVAL" --duration 300 \
		--stop-file "$1.stop" --mark-file "$1.mark" --mark-realtime --out "$1" &
	PCMK_PROBER=$!
	sleep 1    # answers before the failure
}
# pcmk_probe_stop OUT: stop the prober and wait for its output
pcmk_probe_stop() {
	touch "$1.stop"
	wait "$PCMK_PROBER"
	PCMK_PROBER=''
}
# pcmk_answered_by NODE: the VIP answers, from NODE
pcmk_answered_by() {
	pk_client python3 - "$PK_VIP" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.3)
msg = ("OPTIONS sip:p@%s SIP/2.0\r\nVia: SIP/2.0/UDP 0.0.0.0:9;branch=z9hG4bKw\r\n"
       "From: <sip:w@x>;tag=w\r\nTo: <sip:p@x>\r\nCall-ID: wait-1@x\r\nCSeq: 1 OPTIONS\r\n"
       "Content-Length: 0\r\n\r\n" % sys.argv[1]).encode()
s.sendto(msg, (sys.argv[1], 5060))
try:
    d = s.recv(4096).decode()
except OSError:
    sys.exit(1)
sys.exit(0 if ("\r\nServer: %s\r\n" % sys.argv[2]) in d else 1)
EOF
}
# pcmk_mark OUT: the moment of the failure, for the prober
pcmk_mark() { echo "$EPOCHREALTIME" > "$1.mark"; }
# pcmk_outage FILE NODE|any: ms from the mark to the arrival of the first
# answer to a probe sent after it, from NODE (any: the first answer after
# at least one unanswered probe)
pcmk_outage() {
	awk -v want="$2" '$1 == "mark" { m = $2 } $1 == "probe" { n++; s[n] = $2; w[n] = $3; r[n] = $4 }
		END { if (m == "") exit 1
		      for (i = 1; i <= n; i++) {
			      if (s[i] < m) continue
			      if (w[i] == "-") { miss = 1; continue }
			      if (w[i] == want || (want == "any" && miss)) { printf "%.0f\n", (r[i] - m) * 1000; exit 0 }
		      }
		      exit 1 }' "$1"
}
pcmk_other() { [ "$1" = n1 ] && echo n2 || echo n1; }

# pcmk_run_kill I: one node-death run; the outage (ms) in PCMK_G
# (not echoed: it must run in this shell, PK_PID changes)
pcmk_run_kill() {
	local out=$PCMK_OUT/kill.$1 act oth g
	act=$(pk_active) || { pk_log "no node runs the service"; return 1; }
	oth=$(pcmk_other "$act")
	pcmk_probe_start "$out"
	pcmk_mark "$out"
	pk_node_die "$act"
	pk_until 120 pcmk_answered_by "$oth" || { pcmk_probe_stop "$out"; pk_log "no answer from $oth within 120 s"; return 1; }
	sleep 0.3
	pcmk_probe_stop "$out"
	g=$(pcmk_outage "$out" "$oth") || { pk_log "run $1: no answer from $oth after the mark in $out"; return 1; }
	pk_log "node death $1: $act killed, $oth answers after $g ms"
	PCMK_G=$g
	pk_node_revive "$act"
	pk_wait_settled 180 || { pk_log "the pair did not settle after $act came back"; return 1; }
}

# pcmk_run_hang I: one hung-service run; the outage (ms) in PCMK_G
pcmk_run_hang() {
	local out=$PCMK_OUT/hang.$1 act pid g after
	act=$(pk_active) || { pk_log "no node runs the service"; return 1; }
	pid=$(pk_service_pid "$act") || return 1
	[ -n "$pid" ] || return 1
	pcmk_probe_start "$out"
	# a hang comes at any point of the 30 s monitor cycle: wait a random
	# 0-30 s (the cycle restarted with the last cleanup) before it
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.1f", r % 300 / 10 }')"
	pcmk_mark "$out"
	kill -STOP "$pid"
	pk_until 180 pk_vip_answers || { pcmk_probe_stop "$out"; pk_log "no answer within 180 s of the hang"; return 1; }
	sleep 0.3
	pcmk_probe_stop "$out"
	after=$(awk '$1 == "gap" { n = $6 } END { print n }' "$out")
	g=$(pcmk_outage "$out" any) || { pk_log "run $1: no answer after the mark in $out"; return 1; }
	pk_log "hung service $1: on $act, answers again from $after after $g ms"
	PCMK_G=$g
	kill -KILL "$pid" 2>/dev/null   # if the agent has not (it has, by SIGKILL)
	pk_in "$after" crm_resource --cleanup -r asterisk >/dev/null 2>&1
	pk_wait_settled 180 || { pk_log "the pair did not settle after the cleanup"; return 1; }
}
pk_vip_answers() {
	pk_client python3 "$PCMK_BENCH_DIR/prober.py" --once --target "$PK_VIP:5060" --timeout 0.3
}

# pcmk_stats "MS..." -> "median worst best" (ms)
pcmk_stats() {
	echo "$1" | tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f %.0f %.0f\n", m, v[NR], v[1] }'
}

pcmk_failover_bench() {
	local kruns=$1 hruns=$2 i g
	PCMK_INTERVAL=${3:-0.015}
	PCMK_OUT=${4:-$(mktemp -d /tmp/pcmk-bench.XXXXXX)}
	PCMK_KILL_RUNS_MS="" PCMK_HANG_RUNS_MS=""
	mkdir -p "$PCMK_OUT"
	: > "$PCMK_OUT/pacemaker.txt"
	pk_setup "$PCMK_OUT/pair" || { pk_teardown; return 1; }
	for i in $(seq 1 "$kruns"); do
		"${PCMK_ROUND_HOOK:-:}" kill "$i"
		pcmk_run_kill "$i" || { pk_log "node-death run $i failed"; pk_teardown; return 1; }
		PCMK_KILL_RUNS_MS="$PCMK_KILL_RUNS_MS $PCMK_G"
		echo "kill $PCMK_G" >> "$PCMK_OUT/pacemaker.txt"
	done
	for i in $(seq 1 "$hruns"); do
		"${PCMK_ROUND_HOOK:-:}" stop "$i"
		pcmk_run_hang "$i" || { pk_log "hang run $i failed"; pk_teardown; return 1; }
		PCMK_HANG_RUNS_MS="$PCMK_HANG_RUNS_MS $PCMK_G"
		echo "stop $PCMK_G" >> "$PCMK_OUT/pacemaker.txt"
	done
	pk_teardown
	# shellcheck disable=SC2046
	set -- $(pcmk_stats "$PCMK_KILL_RUNS_MS") $(pcmk_stats "$PCMK_HANG_RUNS_MS")
	echo
	echo "Seed-style Pacemaker pair: $(corosync -v | sed -n "s/.*version '\(.*\)'.*/corosync \1/p") (knet, token ${PK_TOKEN:-3000 (default)} ms)," \
		"$(pacemakerd --version | head -n1 | tr P p), IPaddr2 + service monitor 30 s, no STONITH"
	echo "probe: SIP OPTIONS to the VIP every ${PCMK_INTERVAL}s from a client namespace"
	printf '%-34s %5s %10s %10s %10s\n' "failure" runs median_ms worst_ms best_ms
	printf '%-34s %5s %10s %10s %10s\n' "node death (kill -9, link down)" "$kruns" "$1" "$2" "$3"
	printf '%-34s %5s %10s %10s %10s\n' "hung service (SIGSTOP)" "$hruns" "$4" "$5" "$6"
	echo "runs (ms): death:$PCMK_KILL_RUNS_MS"
	echo "           hang:$PCMK_HANG_RUNS_MS"
	echo "files: $PCMK_OUT"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	kruns=20 hruns=3 interval=0.015 outdir=""
	while getopts k:s:i:o:t:h o; do
		case $o in
		k) kruns=$OPTARG ;; s) hruns=$OPTARG ;; i) interval=$OPTARG ;; o) outdir=$OPTARG ;;
		t) PK_TOKEN=$OPTARG ;;
		*) sed -n '2,16p' "$0"; exit 2 ;;
		esac
	done
	[ "$(id -u)" = 0 ] || { echo "run as root (network and mount namespaces)" >&2; exit 1; }
	case ${PK_TOKEN:-1}$kruns$hruns in *[!0-9]*) echo "-t, -k, -s take whole numbers" >&2; exit 2 ;; esac
	. "$PCMK_BENCH_DIR/../lib.sh"
	need_tools ip nsenter unshare corosync pacemakerd pcs python3 crm_mon
	trap pk_teardown EXIT
	trap 'exit 130' INT TERM HUP
	bench_lock "${PCMK_LOCK_WAIT:-1800}"
	pcmk_failover_bench "$kruns" "$hruns" "$interval" "$outdir"
fi
