#!/bin/bash
# Cold starts decided by position and by the witness (docs/design/cluster.md
# 5, 6; docs/failover.md). The netns cluster of lib_witness.sh (ta, tb, tw:
# the witness; tc unused). Positions are made to differ with `tandemctl db
# put` on the active while the standby is stopped (the active goes on
# alone: the witness records the standby outdated).
#  1. both stopped, the node behind (recorded outdated) started alone: it
#     asks the witness after 2 s, is refused, never serves;
#  2. the node ahead started too: both cold, the one with the higher
#     (epoch, offset) promotes, the other syncs (the key written alone is
#     on it);
#  3. both stopped (the standby first: the active goes alone again, ahead),
#     the node ahead started alone: the witness grants it, it serves (the
#     VIP answers tandemctl status through SIP... checked by role and
#     address); the other started: STANDBY, digests equal.
# Needs root, keepalived, iptables. Label: cluster.
. "$(dirname "$0")/lib_witness.sh"

nn_require
nw_net
nw_conf a
nw_conf b
nw_start
nn_start a
nn_start b
nn_wait 30 "one node ACTIVE with the VIP" nn_one_active
v=$(nn_active)
s=$([ "$v" = a ] && echo b || echo a)
nn_wait 20 "$s STANDBY (in sync)" nn_is "$s" STANDBY
nn_ctl "$v" db put cold k1 both > /dev/null || nn_fail "db put on $v"

# stop NODE: SIGTERM tandemd, wait for it (keepalived stays: FAULT)
stop() {
	kill -TERM "${NN_TPID[$1]}"
	for i in $(seq 1 100); do kill -0 "${NN_TPID[$1]}" 2>/dev/null || break; sleep 0.1; done
	kill -0 "${NN_TPID[$1]}" 2>/dev/null && nn_fail "tandemd $1 did not stop"
	wait "${NN_TPID[$1]}" 2>/dev/null
	return 0
}
digest() { nn_ctl "$1" cluster digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stores"])'; }

# v ahead of s: s stopped, v writes alone (recorded at the witness)
stop "$s"
nn_wait 10 "$v records $s outdated" grep -q "witness recorded $s as outdated" "$T/$v.log"
nn_ctl "$v" db put cold k2 alone > /dev/null || nn_fail "db put on $v alone"
sleep 0.5
stop "$v"
nn_note "ok: $v ahead of $s (k2 written alone), both stopped"

# 1. the node behind, alone: refused by the witness
n0=$(grep -c 'cold start: peer' "$T/$s.log")
nn_start "$s"
nn_wait 10 "$s asks the witness" eval '[ "$(grep -c "cold start: peer $v not heard" "$T/$s.log")" -gt "$n0" ]'
nn_wait 5 "the witness refuses $s" grep -q "not taking over: witness denied: $s is outdated" "$T/$s.log"
for i in $(seq 1 20); do
	nn_is "$s" ACTIVE && nn_fail "$s serves alone at a cold start, behind $v"
	sleep 0.1
done
nn_has_vip "$s" && nn_fail "$s holds the VIP"
nn_note "ok: $s alone at a cold start: $(grep -o "not taking over: witness denied.*" "$T/$s.log" | tail -1)"

# 2. both cold: the one ahead promotes
nn_start "$v"
nn_wait 30 "$v ACTIVE" nn_is "$v" ACTIVE
grep -q "both were cold and this node is ahead" "$T/$v.log" || nn_fail "$v: $(grep -o 'role STARTING -> PROMOTING.*' "$T/$v.log" | tail -1)"
nn_wait 30 "$s STANDBY" nn_is "$s" STANDBY
[ "$(nn_ctl "$s" db get cold k2 2>/dev/null)" = alone ] || nn_fail "$s lacks k2 after syncing"
nn_wait 10 "equal digests" eval '[ -n "$(digest a)" ] && [ "$(digest a)" = "$(digest b)" ]'
nn_note "ok: both cold: $v (ahead) ACTIVE, $s STANDBY with k2"

# 3. the node ahead alone: granted
stop "$s"
nn_ctl "$v" db put cold k3 alone-again > /dev/null || nn_fail "db put on $v alone again"
sleep 0.5
stop "$v"
g0=$(grep -c "cold start: the witness granted" "$T/$v.log")
c=$(now_ns)
nn_start "$v"
nn_wait 20 "$v ACTIVE alone" nn_is "$v" ACTIVE
[ "$(grep -c "cold start: the witness granted" "$T/$v.log")" -gt "$g0" ] || nn_fail "$v serves without the witness's grant"
grep -q "cold start, peer not heard: witness granted" "$T/$v.log" || nn_fail "$v: $(grep -o 'role STARTING -> PROMOTING.*' "$T/$v.log" | tail -1)"
nn_has_vip "$v" || nn_fail "$v ACTIVE without the VIP"
ms=$(( ($(now_ns) - c) / 1000000 ))
[ "$(nn_ctl "$v" db get cold k3 2>/dev/null)" = alone-again ] || nn_fail "$v lost k3"
nn_note "ok: $v alone at a cold start: the witness granted, ACTIVE with the VIP ($ms ms after its start)"
nn_start "$s"
nn_wait 30 "$s STANDBY" nn_is "$s" STANDBY
nn_wait 10 "equal digests" eval '[ -n "$(digest a)" ] && [ "$(digest a)" = "$(digest b)" ]'
nn_note "ok: $s rejoined as STANDBY, digests equal"
if grep -l 'runtime error\|Sanitizer' "$T"/a.log "$T"/b.log "$T"/w.log 2>/dev/null; then
	nn_fail "sanitizer output in the daemons' logs"
fi
exit 0
