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
# shellcheck source=lib_pcmk.sh
. "$(dirname "$0")/lib_pcmk.sh"
# shellcheck disable=SC2034  # read by pcmk-pair.sh, pacemaker.sh, lib_pcmk.sh
PK_QNETD=1 PCMK_INTERVAL=0.02 TP_NOQUORUM=stop
tp_init ss corosync-qnetd corosync-qdevice corosync-qnetd-certutil corosync-qdevice-net-certutil
fail() { tp_fail "$@"; }
tp_fail_extra() {
	local n
	for n in n1 n2; do
		[ -n "${PK_PID[$n]:-}" ] || continue
		echo "---- corosync-quorumtool on $n" >&2; pk_in "$n" corosync-quorumtool -s 2>&1 | tail -n 8 >&2
	done
}
tp_files

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
regs_kept() { [ "$(tp_regs_on "$1")" = 100-tfg ]; }
cut() { ip -n "${PK}n1" route "$1" blackhole "$PK_NET.2/32" && ip -n "${PK}n2" route "$1" blackhole "$PK_NET.1/32"; }

T0=$(date +%s)
note "files in $W"
pk_setup "$D" || fail "the pair did not come up (see $D)"
pk_until 60 tp_unpromoted_on n1 || fail "tandem-clone did not settle (one promoted, one unpromoted)"
pk_in n1 corosync-quorumtool -s | grep -q 'Flags:.*Quorate.*Qdevice' ||
	fail "n1's quorum has no Qdevice vote: $(pk_in n1 corosync-quorumtool -s)"
act=$(pk_active) || fail "no promoted node"
if [ "$act" = n1 ]; then  # make n2 the promoted node: n1 then has to take over
	pk_in n1 pcs node standby n1 || fail "pcs node standby n1"
	pk_until 60 promoted_on n2 || fail "n2 not promoted after pcs node standby n1"
	pk_in n1 pcs node unstandby n1 || fail "pcs node unstandby n1"
	pk_until 60 tp_unpromoted_on n1 || fail "n1 does not run an unpromoted instance after unstandby"
fi
promoted_on n2 || fail "n2 is not the promoted node"
note "ok: n2 promoted, n1 unpromoted, 3 votes (n1, n2, qnetd) ($(( $(date +%s) - T0 )) s)"

tp_register 100-tfg
pk_until 10 regs_kept n1 || fail "n1 (unpromoted) does not list 100-tfg: $(tp_regs_on n1)"

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
awk '$1 == "probe" && $3 ~ /node_n2\)$/ { f = 1 } END { exit !f }' "$W/probe" ||
	fail "the prober never saw n2 before the cut (probe file $W/probe)"
awk '$1 == "probe" && $3 != "-" { l = $3 } END { exit l !~ /node_n1\)$/ }' "$W/probe" ||
	fail "the last answer on the address did not come from n1"
g=$(awk '$1 == "gap" && $4 > m { m = $4 } END { printf "%.3f", m + 0 }' "$W/probe")
regs_kept n1 || fail "after the cut: n1 lists '$(tp_regs_on n1)', want 100-tfg"
note "ok: cut: n1 (2 votes of 3) promoted $(awk -v a="$t_cut" -v b="$t_prom" 'BEGIN { printf "%.1f", b - a }') s after the cut, the address answered again after $g s; n2 (no quorum) stopped tandemd and the address; never two active; 100-tfg kept"

# ---- the link back: n2 rejoins as the unpromoted node, n1 keeps the service
cut del || fail "removing the blackhole routes"
pk_until 90 tp_unpromoted_on n1 || fail "n2 did not rejoin unpromoted after the link came back"
promoted_on n1 || fail "the service moved after the link came back (stickiness INFINITY)"
tp_no_sanitizer_reports
note "ok: link back: n2 unpromoted again, n1 keeps the service"
note "ok: all ($(( $(date +%s) - T0 )) s)"
