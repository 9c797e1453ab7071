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
# the new active node, and so is the call record of every call (SIPp, to
# the address, answered by the dialplan) made before a move, each once. The time from the failure to the first answer from
# the address is printed (the prober's longest gap).
# Test settings: monitor 1 s promoted / 2 s unpromoted, migration-threshold
# 1 (a failed node is not promoted again until `pcs resource cleanup`),
# no fencing (stonith-enabled=false; see docs/pacemaker.md for why
# production wants fencing or a quorum device: test_pacemaker_fence.sh and
# test_pacemaker_qdevice.sh run each on this pair).
# Needs root, pcs, corosync, pacemaker, resource-agents, sipp; exit 77
# (skip) without them. TP_PAUSE=SECS keeps the pair up that long after a
# failure, for a look inside (pk_in-style: nsenter -t $(cat DIR/n1.pid) ...).
# shellcheck source=lib_pcmk.sh
. "$(dirname "$0")/lib_pcmk.sh"
# shellcheck disable=SC2034  # read by lib_pcmk.sh
TP_USERS="100 101 102 103 104 105" TP_NOQUORUM=ignore TP_META=migration-threshold=1
PCMK_INTERVAL=0.02
tp_init
fail() { tp_fail "$@"; }
tp_fail_extra() {
	local n
	for n in n1 n2; do
		echo "---- $n: tandemd.log (last 15)" >&2; tail -n 15 "$D/$n/data/tandemd.log" 2>/dev/null >&2
	done
	[ -n "${TP_PAUSE:-}" ] && { note "pausing $TP_PAUSE s before the teardown (TP_PAUSE)"; sleep "$TP_PAUSE"; }
}
tp_files
tp_settled() { pk_wait_settled 120 && pk_until 60 tp_unpromoted_on n1; }

regs_on() { tp_regs_on "$1"; }
REGS=""
register() {  # USER: REGISTER at the address, remembered in REGS
	local u=$1
	tp_register "$u"
	REGS=$(echo "$REGS $u" | tr ' ' '\n' | grep . | sort -u | tr '\n' ' ' | sed 's/ $//')
}
regs_kept() { [ "$(regs_on "$1")" = "$REGS" ]; }
CDRS=""
call() {  # USER: a call at the address; its record (src:uniqueid) in CDRS
	local u=$1 before after new
	before=$(tp_cdrs_on "$(pk_active)")
	tp_call "$u"
	after=$(tp_cdrs_on "$(pk_active)")
	new=$(comm -13 <(echo "$before" | tr ' ' '\n') <(echo "$after" | tr ' ' '\n') | grep .)
	[ "$(echo "$new" | grep -c "^$u:")" = 1 ] || fail "the call from $u left '$new' on the active"
	CDRS=$(echo "$CDRS $new" | tr ' ' '\n' | grep . | sort | tr '\n' ' ' | sed 's/ $//')
}
cdrs_kept() { [ "$(tp_cdrs_on "$1")" = "$CDRS" ]; }

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
	call "$user"
	pk_until 10 regs_kept "$new" || fail "$new (unpromoted) does not list $REGS before $what: $(regs_on "$new")"
	pk_until 10 cdrs_kept "$new" || fail "$new (unpromoted) lacks call records before $what: $(tp_cdrs_on "$new")"
	pcmk_probe_start "$out"
	"$@" "$old"
	pk_until 60 tp_promoted_is "$new" || { pcmk_probe_stop "$out"; fail "$new not promoted after $what of $old"; }
	pk_until 30 pk_vip_answers || { pcmk_probe_stop "$out"; fail "the address does not answer after $what"; }
	sleep 0.5
	pcmk_probe_stop "$out"
	g=$(awk '$1 == "gap" && $4 > m { m = $4 } END { if (m == "") exit 1; printf "%.3f\n", m }' "$out") ||
		fail "$what: no gap in the prober's log $out"
	regs_kept "$new" || fail "after $what: $new lists '$(regs_on "$new")', want '$REGS'"
	cdrs_kept "$new" || fail "after $what: $new's call records '$(tp_cdrs_on "$new")', want '$CDRS'"
	note "ok: $what of $old: $new promoted, the address answered again after $g s; registrations kept: $REGS; $(echo "$CDRS" | wc -w) call records, each once"
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

tp_no_sanitizer_reports
echo
echo "Tandem under Pacemaker: $(pacemakerd --version | head -n1), $(corosync -v | sed -n "s/.*version '\(.*\)'.*/corosync \1/p"), monitor 1 s/2 s, probe every ${PCMK_INTERVAL}s"
printf "%b" "$FIG"
note "ok: all moves ($(( $(date +%s) - T0 )) s)"
