#!/bin/bash
# Going alone only once the witness recorded it (docs/design/cluster.md 4,
# invariant 3 "nothing acknowledged is lost"; docs/failover.md). The netns
# cluster of lib_witness.sh (ta, tb, tc, tw), lease = 2s so that the old
# behaviour (going alone after sync_timeout = 500ms, without the witness's
# record) would confirm REGISTERs for 1.5 s that the successor never gets.
# SIPp in tc registers users u3000-u3999 through the VIP, one new user per
# REGISTER (REG_RATE per second), all along:
#  1. the active cut from the standby AND the witness: it asks the witness
#     to record the standby outdated, never hears back, holds the REGISTERs'
#     200s, fences at its lease's end and drops them; the standby takes over
#     with the witness's grant. Healed: the old active rejoins as STANDBY.
#  2. the (new) standby cut from the active only: the active records it
#     outdated at the witness, then confirms again (the 200s flow during the
#     cut); the witness refuses the cut standby the lease; healed: it
#     catches up, digests equal.
# At the end every user whose REGISTER got a 200 is registered on the
# final active with that REGISTER's Call-ID. Needs root, keepalived,
# iptables, sipp. Label: cluster.
. "$(dirname "$0")/lib_witness.sh"
REG_RATE=${REG_RATE:-10}
command -v sipp > /dev/null || nn_skip "needs sipp"

# a 2 s lease, 1,000 users
alone_conf() {
	local p
	printf 'lease = 2s\n' >> "$T/c$1/tandem.conf"
	{
		printf '[general]\nudpbindaddr=0.0.0.0:5060\nrealm=tandem\n\n'
		for p in $(seq -f 'u%g' 3000 3999); do
			printf '[%s]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\nqualify=no\n\n' "$p"
		done
	} > "$T/c$1/sip.conf"
}
nn_require
nw_pair alone_conf
v=$NW_ACTIVE s=$NW_STANDBY

nn_reg_load 240
nn_wait 10 "REGISTERs answered 200 through the VIP" eval '[ "$(nn_regs)" -gt 5 ]'
sleep 1

# 1. the active cut from both: nothing confirmed without the witness's record

nw_cut "$v" "${NN_IP[$s]}" "$NW_IP"
nn_wait 15 "$s ACTIVE (witness granted)" nn_is "$s" ACTIVE
nn_wait 10 "$v FENCED" eval 'grep -q "role ACTIVE -> FENCED" "$T/$v.log"'
grep -q 'witness granted' "$T/$s.log" || nn_fail "$s took over without the witness's grant"
grep -q "standby $s .*recording it outdated at the witness" "$T/$v.log" ||
	nn_fail "$v never asked the witness to record $s outdated (sync_timeout < lease)"
grep -q "going on alone" "$T/$v.log" &&
	nn_fail "$v went on alone without the witness: $(grep 'going on alone' "$T/$v.log")"
grep -q "held confirmations dropped" "$T/$v.log" ||
	nn_fail "$v fenced without dropping what it held"
nn_note "ok: $v cut off: $(grep -o 'no longer serving.*' "$T/$v.log" | head -1); $s took over"
sleep 3   # the phones' retransmissions reach the new active
nw_heal "$v"
nn_wait 40 "$v STANDBY after the heal" nn_is "$v" STANDBY
nn_note "ok: healed: $v STANDBY"
sleep 1

# 2. the standby (now $v) cut from the active only: confirmed once recorded

cut=$(date -u +%T.%3N)
nw_cut "$v" "${NN_IP[$s]}"
n0=$(nn_regs)
nn_wait 10 "$s records $v outdated at the witness" \
	grep -q "standby $v .*: going on alone at offset [0-9]*; $v recorded outdated at the witness" "$T/$s.log"
grep -q "witness: $v is outdated at offset" "$T/w.log" || nn_fail "the witness logged no record"
sleep 3
n1=$(nn_regs)
[ "$n1" -gt "$n0" ] || nn_fail "no REGISTER confirmed during the cut ($n0 before, $n1 after)"
nn_is "$s" ACTIVE || nn_fail "$s stopped being ACTIVE"
nn_is "$v" ACTIVE && nn_fail "$v turned ACTIVE, cut from $s"
ask=$(grep "standby $v .*recording it outdated" "$T/$s.log" | tail -1 | cut -c12-23)
rec=$(grep "standby $v .*recorded outdated at the witness" "$T/$s.log" | tail -1 | cut -c12-23)
nn_note "ok: $v cut from $s at $cut: recorded at the witness (asked $ask, echoed $rec, UTC log times)," \
	"$((n1 - n0)) REGISTERs confirmed during the cut"
nw_heal "$v"
nn_wait 30 "$s: $v caught up" grep -q "standby $v caught up" "$T/$s.log"
nn_wait 30 "$v STANDBY after the heal" nn_is "$v" STANDBY
nn_note "ok: $(grep -o "standby $v caught up.*" "$T/$s.log" | tail -1)"

# stop the load; every 200 is on the final active
nn_reg_load_stop
nn_reg_check "$s" 20
digest() { nn_ctl "$1" cluster digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stores"])'; }
nn_wait 10 "equal digests" eval '[ -n "$(digest a)" ] && [ "$(digest a)" = "$(digest b)" ]'
nn_note "ok: digests of a and b equal"
exit 0
