#!/bin/bash
# Partitions with a witness (docs/design/cluster.md 6, test 12): ta, tb
# (tandemd + keepalived), tc (the prober: SIP OPTIONS every 20 ms to the
# VIP and both nodes), tw (tandemd --witness). Cuts are iptables drops in
# one node's namespace; the prober reaches both nodes all along.
#  1. the standby cut from the active AND the witness: the active keeps its
#     lease and serves; the cut standby never answers and never turns
#     ACTIVE (it gives up: witness unreachable); healed: STANDBY again;
#  2. the active cut from the standby AND the witness (the witness reachable
#     from the standby only): the active fences within a lease (its last
#     answer at most lease + 100 ms after the last rule of the cut), the
#     standby takes over
#     with the witness's grant; healed: the fenced node rejoins as STANDBY,
#     both databases' digests equal;
#  at no 20 ms probe cycle do both nodes answer.
. "$(dirname "$0")/lib_witness.sh"

nn_require
nw_pair
v=$NW_ACTIVE s=$NW_STANDBY
nn_prober_start 300
sleep 0.5

# 1. the standby alone
kb=$(nn_ka_count "$s" BACKUP)
k=$(now_ns)
nw_cut "$s" "${NN_IP[$v]}" "$NW_IP"
for i in $(seq 1 30); do
	nn_is "$s" ACTIVE && nn_fail "$s turned ACTIVE, cut from $v and the witness"
	nn_is "$v" ACTIVE || nn_fail "$v stopped being ACTIVE while it holds the lease"
	sleep 0.1
done
n=$(awk -v ip="${NN_IP[$s]}" -v t="$k" '$4 == ip && $1 >= t' "$T/probe.log" | wc -l)
[ "$n" = 0 ] || nn_fail "$s answered $n probes, cut from $v and the witness"
n=$(awk -v ip="${NN_IP[$v]}" -v t="$k" '$4 == ip && $1 >= t' "$T/probe.log" | wc -l)
[ "$n" -gt 0 ] || nn_fail "$v answered nothing while it held the lease"
nn_note "ok: $s cut from $v and the witness: $v serves on ($n answers), $s answers nothing"
h=$(now_ns)
nw_heal "$s"
nn_wait 30 "$s STANDBY after the heal" nn_is "$s" STANDBY
nn_wait 40 "$s's keepalived BACKUP again (eligible: $v heard)" nn_rejoined "$s" "$kb"
nn_wait 40 "the VIP answers from $v after the heal" nn_vip_back "$h" "${NN_IP[$v]}"
nn_note "ok: healed: $s STANDBY, the VIP answers from $v"
sleep 1

# 2. the active alone; the witness sides with the standby
k=$(now_ns)
nw_cut "$v" "${NN_IP[$s]}" "$NW_IP"
kc=$(now_ns)   # the last rule in place (iptables may take 100 ms a call)
nn_wait 10 "$s ACTIVE (witness granted)" nn_is "$s" ACTIVE
nn_wait 10 "$v FENCED" eval 'grep -q "role ACTIVE -> FENCED" "$T/$v.log"'
nn_wait 10 "the VIP answers from $s" nn_vip_back "$k" "${NN_IP[$s]}"
grep -q 'witness granted' "$T/$s.log" || nn_fail "$s took over without the witness's grant"
last=$(awk -v ip="${NN_IP[$v]}" -v t="$k" '$4 == ip && $1 >= t {l = $1} END {print l + 0}' "$T/probe.log")
lease=600
if [ "$last" != 0 ]; then
	ms=$(( (last - kc) / 1000000 ))
	[ "$ms" -le $((lease + 100)) ] || nn_fail "$v answered $ms ms after the cut (lease $lease)"
else
	ms=none
fi
nn_note "ok: $v cut off: its last answer ${ms} ms after the cut; $s took over in $(nn_outage "$k" "${NN_IP[$s]}") ms"
nw_heal "$v"
nn_wait 40 "$v STANDBY after the heal" nn_is "$v" STANDBY
digest() { nn_ctl "$1" cluster digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stores"])'; }
nn_wait 10 "equal digests" eval '[ -n "$(digest a)" ] && [ "$(digest a)" = "$(digest b)" ]'
nn_note "ok: healed: $v rejoined as STANDBY, digests equal"

sleep 0.5
nn_prober_stop
read -r nb first < <(nn_both)
[ "$nb" = 0 ] || nn_fail "both nodes answered in $nb probe cycles (first: $first)"
exit 0
