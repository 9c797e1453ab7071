#!/bin/bash
# witness = none, two_node_takeover = no (docs/design/cluster.md 6, test 11
# first half): the standby takes over on a signalled death, never on
# silence. keepalived in ta, tb; prober in tc (lib_netns.sh).
#  - kill -9 of the active (its link closes with a FIN): the other answers
#    at the VIP;
#  - SIGSTOP of the active: the other does NOT take over: it answers
#    nothing, says why (`not_eligible_why`: peer silent, not taking over
#    without a witness) and keepalived drops the address it briefly got;
#  - SIGCONT: service comes back at the VIP, never two nodes answering.
. "$(dirname "$0")/lib_netns.sh"
export NN_TWO_NODE=no

nn_require
nn_net
nn_conf a
nn_conf b
nn_start a
nn_start b
nn_wait 30 "one node ACTIVE with the VIP" nn_one_active
v=$(nn_active)
s=$([ "$v" = a ] && echo b || echo a)
nn_wait 10 "$s STANDBY (in sync)" nn_is "$s" STANDBY
nn_prober_start 300
sleep 0.5

v=$(nn_active)
s=$([ "$v" = a ] && echo b || echo a)
k=$(now_ns)
kill -KILL "${NN_TPID[$v]}"
nn_wait 10 "the VIP answers from $s after kill -9 of $v" nn_vip_back "$k" "${NN_IP[$s]}"
wait "${NN_TPID[$v]}" 2>/dev/null
nn_note "ok: kill -9 of $v (FIN): $s took over in $(nn_outage "$k" "${NN_IP[$s]}") ms"
kb=$(nn_ka_count "$v" BACKUP)
nn_start "$v"
nn_wait 30 "$v back as STANDBY" nn_is "$v" STANDBY
nn_wait 10 "$v's keepalived BACKUP again" nn_rejoined "$v" "$kb"

v=$(nn_active)
s=$([ "$v" = a ] && echo b || echo a)
k=$(now_ns)
kill -STOP "${NN_TPID[$v]}"
sleep 3
n=$(awk -v ip="${NN_IP[$s]}" -v t="$k" '$4 == ip && $1 >= t' "$T/probe.log" | wc -l)
[ "$n" = 0 ] || nn_fail "$s answered $n probes while $v was only silent"
nn_is "$s" STANDBY || nn_fail "$s is $(nn_state "$s"), expected STANDBY"
nn_has_vip "$s" && nn_fail "$s kept the VIP"
nn_ctl "$s" cluster status --json > "$T/st.json" || nn_fail "cluster status on $s"
grep -q 'not taking over without a witness' "$T/st.json" ||
	grep -q 'not taking over without a witness' "$T/$s.log" ||
	nn_fail "$s does not say why it does not take over"
nn_note "ok: SIGSTOP of $v: $s did not take over and says why"

c=$(now_ns)
kill -CONT "${NN_TPID[$v]}"
nn_wait 20 "the VIP answers again after SIGCONT" nn_one_active
a=$(nn_active)
nn_wait 10 "the VIP answers from $a" nn_vip_back "$c" "${NN_IP[$a]}"
nn_note "ok: SIGCONT: $a serves again after $(nn_outage "$c" "${NN_IP[$a]}") ms"
sleep 0.5
nn_prober_stop
read -r nb first < <(nn_both)
[ "$nb" = 0 ] || nn_fail "both nodes answered in $nb probe cycles (first: $first)"
exit 0
