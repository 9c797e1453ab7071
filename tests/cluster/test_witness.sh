#!/bin/bash
# The witness, SIGSTOP (docs/design/cluster.md 6, test 12): namespaces ta,
# tb (tandemd + keepalived), tc (the prober, SIP OPTIONS every 20 ms to the
# VIP and both nodes), tw (tandemd --witness); two_node_takeover = no.
#  - the active holds the witness lease (cluster status: quorum 3 of 3,
#    witness connected, holder = the active);
#  - the witness restarted: the holder is read back from witness.state, the
#    active serves on (the peer's vote) and renews after the quiet lease;
#  - SIGSTOP of the active: the standby takes over with the witness's grant
#    (its log: "witness granted"), without two_node_takeover;
#  - SIGCONT: the resumed node fences (its lease ran out), answers nothing,
#    and comes back as STANDBY; the new active recorded it as outdated at
#    the witness meanwhile, and as current once it caught up;
#    at no 20 ms probe cycle do both answer.
#  - kill -9 of the new active: its FIN ends its lease at the witness at
#    once and the other takes over.
. "$(dirname "$0")/lib_witness.sh"

nn_require
nw_pair
v=$NW_ACTIVE s=$NW_STANDBY
have=$(nn_ctl "$v" cluster status --json | python3 -c 'import json,sys; q=json.load(sys.stdin)["quorum"]; print(q["have"], q["of"], q["witness"]["state"])')
[ "$have" = "3 3 connected" ] || nn_fail "quorum on $v: $have, expected 3 3 connected"
nn_ctl "$v" cluster status | grep -q "^Quorum: 3 of 3; witness $NW_IP:7390 connected, lease held by $v" ||
	nn_fail "cluster status (text) on $v: no quorum line: $(nn_ctl "$v" cluster status | grep Quorum)"
nn_note "ok: $v ACTIVE holds the witness lease, quorum $have"
nn_prober_start 300
sleep 0.5

# the witness restarted: its state file kept the holder; it grants nothing
# for a lease, the active serves on with the peer's vote, then renews
grep -q "^holder $v\$" "$T/dw/witness.state" || nn_fail "witness.state: $(cat "$T/dw/witness.state")"
kill -TERM "$NW_PID"
wait "$NW_PID" 2>/dev/null
nw_start
grep -q "holder $v; granting nothing for 600 ms" "$T/w.log" || nn_fail "the witness forgot its holder"
nn_wait 5 "$v holds the witness lease again" eval '[ "$(nw_status "$v" holder)" = "$v" ]'
nn_is "$v" ACTIVE || nn_fail "$v stopped serving while the witness restarted"
nn_note "ok: witness restarted: holder $v read back from witness.state, lease renewed, $v served on"

k=$(now_ns)
kill -STOP "${NN_TPID[$v]}"
nn_wait 10 "$s ACTIVE after SIGSTOP of $v" nn_is "$s" ACTIVE
nn_wait 5 "the VIP answers from $s" nn_vip_back "$k" "${NN_IP[$s]}"
grep -q 'witness granted' "$T/$s.log" || nn_fail "$s took over without the witness's grant"
grep -q "lease granted to $s" "$T/w.log" || nn_fail "the witness log has no grant to $s"
nn_note "ok: SIGSTOP of $v: $s took over with the witness's grant in $(nn_outage "$k" "${NN_IP[$s]}") ms"

c=$(now_ns)
kill -CONT "${NN_TPID[$v]}"
nn_wait 10 "$v FENCED or back as standby" eval \
	'grep -q "role ACTIVE -> FENCED" "$T/$v.log"'
nn_wait 30 "$v STANDBY again" nn_is "$v" STANDBY
n=$(awk -v ip="${NN_IP[$v]}" -v t="$c" '$4 == ip && $1 >= t' "$T/probe.log" | wc -l)
[ "$n" = 0 ] || nn_fail "$v answered $n probes after SIGCONT"
grep -q "witness: $v is outdated at offset" "$T/w.log" ||
	nn_fail "$s did not record $v as outdated at the witness"
nn_wait 5 "$v current again at the witness" eval \
	'grep -Eq "witness: $v is (current again|in sync again)" "$T/w.log"'
nn_note "ok: SIGCONT: $v fenced without answering, STANDBY again (outdated, then current, at the witness)"

sleep 1
k=$(now_ns)
kill -KILL "${NN_TPID[$s]}"
wait "${NN_TPID[$s]}" 2>/dev/null
nn_wait 10 "$v ACTIVE after kill -9 of $s" nn_is "$v" ACTIVE
nn_wait 5 "the VIP answers from $v" nn_vip_back "$k" "${NN_IP[$v]}"
nn_note "ok: kill -9 of $s: $v took over in $(nn_outage "$k" "${NN_IP[$v]}") ms"

sleep 0.5
nn_prober_stop
read -r nb first < <(nn_both)
[ "$nb" = 0 ] || nn_fail "both nodes answered in $nb probe cycles (first: $first)"
exit 0
