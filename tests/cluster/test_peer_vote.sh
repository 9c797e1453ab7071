#!/bin/bash
# The peer's vote is a lease (docs/design/cluster.md 6): the standby's PONG
# grants it; the active holds it until the send time of the PING that the
# PONG answered + 0.95 x lease, and the standby promises not to promote,
# nor ask the witness, before its last grant + lease. The netns cluster of
# lib_witness.sh (ta, tb, tc: the prober, tw: the witness) with
# peer_timeout = 2s, so that a link still "up" (not yet closed for
# silence) no longer stands for the vote:
#  1. the active cut from the witness serves on, on the standby's vote
#     (renewed by every PONG) for 2 s;
#  2. the standby SIGSTOPped meanwhile: the active fences within a lease of
#     the stop (its last answer at most lease + 100 ms after it), long
#     before the link is closed for silence (2 s); its log names the vote;
#     SIGCONT and the witness back: one node serves, the other rejoins;
#  3. the active cut from the standby AND the witness: the standby holds
#     the address (keepalived) before its promise ends and waits it out
#     (its log says so) before asking the witness, which grants; the cut
#     node's last answer at most lease + 100 ms after the cut;
#  at no 20 ms probe cycle do both nodes answer; digests equal at the end.
# Needs root, keepalived, iptables. Label: cluster.
. "$(dirname "$0")/lib_witness.sh"
LEASE=600

nn_require
nw_net
for n in a b; do
	nw_conf "$n"
	printf 'peer_timeout = 2s\n' >> "$T/c$n/tandem.conf"
done
nw_start
nn_start a
nn_start b
nn_wait 30 "one node ACTIVE with the VIP" nn_one_active
v=$(nn_active)
s=$([ "$v" = a ] && echo b || echo a)
nn_wait 20 "$s STANDBY (in sync)" nn_is "$s" STANDBY
nn_wait 5 "$v holds the witness lease" eval '[ "$(nw_status "$v" holder)" = "$v" ]'
nn_prober_start 300
sleep 0.5

# last_answer NODE SINCE_NS: ms from SINCE_NS to NODE's last answer ("none")
last_answer() {
	awk -v ip="${NN_IP[$1]}" -v t="$2" '$4 == ip && $1 >= t {l = $1} END {
		if (l) printf "%d\n", (l - t) / 1000000; else print "none" }' "$T/probe.log"
}

# 1. the witness cut from the active: the standby's vote carries it
nw_cut "$v" "$NW_IP"
sleep 2
nn_is "$v" ACTIVE || nn_fail "$v is $(nn_state "$v") with the standby's vote (PONG grants)"
grep -q "role ACTIVE -> FENCED" "$T/$v.log" && nn_fail "$v fenced with the standby's vote"
nn_note "ok: $v cut from the witness serves on the vote of $s ($(nw_status "$v" state))"

# 2. the standby stopped: the vote runs out within a lease
k=$(now_ns)
kill -STOP "${NN_TPID[$s]}"
nn_wait 10 "$v FENCED" grep -q "role ACTIVE -> FENCED" "$T/$v.log"
grep -q "votes lost: the vote of peer $s ran out and the witness lease ran out" "$T/$v.log" ||
	nn_fail "fence reason: $(grep -o 'role ACTIVE -> FENCED.*' "$T/$v.log")"
sleep 0.5
ms=$(last_answer "$v" "$k")
[ "$ms" != none ] || nn_fail "$v answered nothing after the stop (the prober?)"
[ "$ms" -le $((LEASE + 100)) ] || nn_fail "$v answered $ms ms after $s stopped (lease $LEASE ms)"
awk -v re="replication link .*peer silent for" '/role ACTIVE -> FENCED/ {exit 0}
	$0 ~ re {exit 1}' "$T/$v.log" || nn_fail "$v fenced only once the link to $s closed"
nn_note "ok: $s stopped, $v cut from the witness: $v's last answer $ms ms after the stop; FENCED"
kill -CONT "${NN_TPID[$s]}"
nw_heal "$v"
nn_wait 30 "one node ACTIVE after SIGCONT and the heal" nn_one_active
v=$(nn_active)
s=$([ "$v" = a ] && echo b || echo a)
nn_wait 40 "$s STANDBY" nn_is "$s" STANDBY
nn_wait 10 "$v holds the witness lease" eval '[ "$(nw_status "$v" holder)" = "$v" ]'
nn_note "ok: $v ACTIVE, $s STANDBY again"
sleep 1

# 3. the active cut from both: the standby waits out its promise
p0=$(grep -c "holds this node's vote for" "$T/$s.log")
f0=$(grep -c "role ACTIVE -> FENCED" "$T/$v.log")
g0=$(grep -c "witness granted the lease" "$T/$s.log")
k=$(now_ns)
nw_cut "$v" "${NN_IP[$s]}" "$NW_IP"
kc=$(now_ns)
nn_wait 15 "$s ACTIVE (witness granted)" nn_is "$s" ACTIVE
nn_wait 10 "$v FENCED" eval '[ "$(grep -c "role ACTIVE -> FENCED" "$T/$v.log")" -gt "$f0" ]'
[ "$(grep -c "holds this node's vote for" "$T/$s.log")" -gt "$p0" ] ||
	nn_fail "$s did not wait out the vote it granted"
[ "$(grep -c "witness granted the lease" "$T/$s.log")" -gt "$g0" ] ||
	nn_fail "$s took over without the witness's grant"
nn_wait 10 "the VIP answers from $s" nn_vip_back "$k" "${NN_IP[$s]}"
ms=$(last_answer "$v" "$kc")
[ "$ms" = none ] || [ "$ms" -le $((LEASE + 100)) ] ||
	nn_fail "$v answered $ms ms after the cut (lease $LEASE ms)"
nn_note "ok: $v cut off: its last answer $ms ms after the cut; $s: $(grep -o "holds this node's vote for [0-9]* ms" "$T/$s.log" | tail -1), then the witness granted; ACTIVE after $(nn_outage "$k" "${NN_IP[$s]}") ms"
nw_heal "$v"
nn_wait 40 "$v STANDBY after the heal" nn_is "$v" STANDBY
digest() { nn_ctl "$1" cluster digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stores"])'; }
nn_wait 10 "equal digests" eval '[ -n "$(digest a)" ] && [ "$(digest a)" = "$(digest b)" ]'
nn_note "ok: healed: $v STANDBY, digests equal"
sleep 0.5
nn_prober_stop
read -r nb first < <(nn_both)
[ "$nb" = 0 ] || nn_fail "both nodes answered in $nb probe cycles (first: $first)"
if grep -l 'runtime error\|Sanitizer' "$T"/a.log "$T"/b.log "$T"/w.log 2>/dev/null; then
	nn_fail "sanitizer output in the daemons' logs"
fi
exit 0
