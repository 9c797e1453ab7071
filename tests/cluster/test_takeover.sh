#!/bin/bash
# A planned takeover asked on the standby (docs/design/cluster.md 8.5,
# docs/failover.md): `tandemctl cluster takeover` without --force under
# engine = keepalived, the mirror of `cluster standby` on the active. The
# netns cluster of lib_witness.sh (ta, tb, tc, tw); SIPp in tc registers
# users u3000-u3999 through the VIP all along (REG_RATE per second), the
# prober sends OPTIONS every 20 ms to the VIP and both nodes.
#  1. takeover on the standby, twice (there and back): the standby asks the
#     active over the link (FAILOVER), the active waits until the standby
#     ACKed the journal's head, drops its eligibility, keepalived moves the
#     address; tandemctl says "done: this node is ACTIVE"; the old active is
#     STANDBY, not admin standby;
#  2. the standby cut from the active: takeover is refused, naming the link,
#     and nothing moves; healed, it is STANDBY again;
#  3. the standby SIGSTOPped until the active went on alone, the active's
#     TCP to it dropped, SIGCONT: it reads the PINGs saying "alone", its
#     link still up (peer_timeout = 5s); takeover on it is refused as not in
#     sync; healed, it is STANDBY again;
#  at the end every user whose REGISTER got a 200 is registered on the
#  final active with that REGISTER's Call-ID, the digests are equal, and at
#  no 20 ms probe cycle did both nodes answer.
# Needs root, keepalived, iptables, sipp. Label: cluster.
. "$(dirname "$0")/lib_witness.sh"
REG_RATE=${REG_RATE:-20}
command -v sipp > /dev/null || nn_skip "needs sipp"

nn_require
nw_net
for n in a b; do
	nw_conf "$n"
	printf 'peer_timeout = 5s\n' >> "$T/c$n/tandem.conf"
	{
		printf '[general]\nudpbindaddr=0.0.0.0:5060\nrealm=tandem\n\n'
		for p in $(seq -f 'u%g' 3000 3999); do
			printf '[%s]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\nqualify=no\n\n' "$p"
		done
	} > "$T/c$n/sip.conf"
done
nw_start
nn_start a
nn_start b
nn_wait 30 "one node ACTIVE with the VIP" nn_one_active
v=$(nn_active)
s=$([ "$v" = a ] && echo b || echo a)
nn_wait 20 "$s STANDBY (in sync)" nn_is "$s" STANDBY
nn_prober_start 400

nn_reg_load 300
nn_wait 10 "REGISTERs answered 200 through the VIP" eval '[ "$(nn_regs)" -gt 5 ]'
sleep 1

# 1. takeover on the standby, there and back
for round in 1 2; do
	v=$(nn_active)
	[ -n "$v" ] || nn_fail "no active node before takeover $round"
	s=$([ "$v" = a ] && echo b || echo a)
	nn_wait 30 "$s STANDBY (in sync) before takeover $round" nn_is "$s" STANDBY
	n0=$(nn_regs)
	c=$(now_ns)
	nn_ctl "$s" cluster takeover > "$T/to$round.out" 2>&1 ||
		nn_fail "cluster takeover on $s: $(cat "$T/to$round.out")"
	grep -q '^done: this node is ACTIVE' "$T/to$round.out" ||
		nn_fail "cluster takeover said: $(cat "$T/to$round.out")"
	nn_wait 10 "$v STANDBY after the takeover" nn_is "$v" STANDBY
	nn_wait 10 "the VIP answers from $s after takeover $round" nn_vip_back "$c" "${NN_IP[$s]}"
	grep -q "takeover asked by $s (at " "$T/$v.log" || nn_fail "$v logged no takeover request"
	grep -q "FO_HANDOVER: $s holds every byte" "$T/$v.log" || nn_fail "$v: no FO_HANDOVER line"
	grep -q 'role PROMOTING -> ACTIVE.*the peer released\|P_VOTE: the peer released' "$T/$s.log" ||
		nn_fail "$s promoted without the peer's release"
	[ "$(cat "$T/d$v/cluster/admin_standby" 2>/dev/null)" = 1 ] &&
		nn_fail "takeover left $v in admin standby"
	nn_wait 10 "$v eligible again" eval '[ "$(cat "$T/d$v/cluster/eligible")" = 0 ]'
	nn_wait 10 "REGISTERs answered by $s" eval '[ "$(nn_regs)" -gt "$n0" ]'
	nn_note "ok: takeover $round on $s: $v handed over, the VIP answered from $s after" \
		"$(nn_outage "$c" "${NN_IP[$s]}") ms; $(( $(nn_regs) - n0 )) REGISTERs answered since"
	sleep 1
done

# 2. the link down: refused, nothing moves
v=$(nn_active)
s=$([ "$v" = a ] && echo b || echo a)
linkstate() {
	nn_ctl "$1" cluster status --json 2>/dev/null | python3 -c '
import json, sys; print(json.load(sys.stdin)["link"]["state"])' 2>/dev/null
}
nw_cut "$s" "${NN_IP[$v]}"
nn_wait 10 "$s sees the link down" eval '[ "$(linkstate "$s")" != up ]'
nn_ctl "$s" cluster takeover > "$T/to-cut.out" 2>&1 && nn_fail "takeover accepted with the link down"
grep -Eq "replication link to $v is down|not in sync with $v" "$T/to-cut.out" ||
	nn_fail "takeover refusal: $(cat "$T/to-cut.out")"
sleep 1
nn_is "$v" ACTIVE || nn_fail "$v is $(nn_state "$v") after a refused takeover"
nn_is "$s" ACTIVE && nn_fail "$s turned ACTIVE after a refused takeover"
nn_note "ok: link cut: $(head -1 "$T/to-cut.out")"
nw_heal "$s"
nn_wait 40 "$s STANDBY after the heal" nn_is "$s" STANDBY

# 3. not in sync: the standby stopped until the active went on alone, then
# the active's TCP to it dropped (VRRP kept) before it resumes: it reads the
# PINGs that say "alone" and hears nothing newer; its link stays up
# (peer_timeout 5s)
replstate() {
	nn_ctl "$1" cluster status --json 2>/dev/null | python3 -c '
import json, sys; print(json.load(sys.stdin)["replication"]["state"])' 2>/dev/null
}
nn_wait 20 "$s in sync again" eval '[ "$(replstate "$s")" = sync ]'
na=$(grep -c "standby $s silent for .*going on alone" "$T/$v.log")
kill -STOP "${NN_TPID[$s]}"
nn_wait 5 "$v goes on alone" eval '[ "$(grep -c "standby $s silent for .*going on alone" "$T/$v.log")" -gt "$na" ]'
sleep 0.3
ip netns exec "${NN_NS[$s]}" iptables -I INPUT -s "${NN_IP[$v]}" -p tcp -j DROP || nn_fail "iptables"
kill -CONT "${NN_TPID[$s]}"
nn_wait 4 "$s told it is not in sync" eval '[ "$(replstate "$s")" != sync ]'
[ "$(linkstate "$s")" = up ] || nn_fail "$s's link is $(linkstate "$s"), not up (peer_timeout 5s)"
nn_ctl "$s" cluster takeover > "$T/to-sync.out" 2>&1 && nn_fail "takeover accepted while not in sync"
grep -q "this node is not in sync with $v (replication " "$T/to-sync.out" ||
	nn_fail "takeover refusal: $(cat "$T/to-sync.out")"
nn_is "$v" ACTIVE || nn_fail "$v is $(nn_state "$v") after a refused takeover"
nn_note "ok: not in sync: $(head -1 "$T/to-sync.out")"
nw_heal "$s"
nn_wait 40 "$s STANDBY after the heal" nn_is "$s" STANDBY
nn_wait 20 "$s in sync after the heal" eval '[ "$(replstate "$s")" = sync ]'

# stop the load; every 200 is on the final active
sleep 2
nn_reg_load_stop
nn_reg_check "$v" 20
digest() { nn_ctl "$1" cluster digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stores"])'; }
nn_wait 10 "equal digests" eval '[ -n "$(digest a)" ] && [ "$(digest a)" = "$(digest b)" ]'
nn_note "ok: digests of a and b equal"
nn_prober_stop
read -r nb first < <(nn_both)
[ "$nb" = 0 ] || nn_fail "both nodes answered in $nb probe cycles (first: $first)"
nn_note "ok: never two nodes answering"
if grep -l 'runtime error\|Sanitizer' "$T"/a.log "$T"/b.log "$T"/w.log 2>/dev/null; then
	nn_fail "sanitizer output in the daemons' logs"
fi
exit 0
