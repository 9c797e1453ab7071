#!/bin/bash
# A returning ex-active with a tail the other node never got (design 3.3
# steps 3-5, P_SHIFT in 5, merge in 7). engine = none (no keepalived),
# namespaces as in lib_netns.sh:
#  - a active, b standby in sync; keys written on a reach b;
#  - b killed (-9); a goes on alone and writes the "tail": keys, a
#    registration (SIPp REGISTER of 100-tfg to the VIP), a dynamic queue
#    member;
#  - a killed (-9); b restarted alone, takeover --force: b promotes, which
#    starts a new history (replid2 = the old one, offset2 = b's head);
#    b writes more than a's tail, so a's offset lies inside b's journal;
#  - a restarted: its tail goes to b as MERGE before its PSYNC, which names
#    the old history at an offset past offset2, so it must get a
#    FULLRESYNC, never CONTINUE into b's history. a logs "N bytes written
#    by a after the split were sent to be merged: ... DB_PUT" and keeps
#    those N bytes in DATADIR/repl/discarded/ for audit; b logs the merge
#    and the divergence. Afterwards both nodes hold a's tail keys and b's
#    keys, list the registration and the queue member (memory views), and
#    their digests are equal.
# Then a double failover: b killed, a takes over and writes on its branch,
# a killed, b restarted takes over from its own history and writes: both
# branches start from b's history; a's is merged into b's when a rejoins.
# Without the shift, a got CONTINUE and kept its tail only on a (digests
# differ); without the merge, the tail was lost.
. "$(dirname "$0")/lib_netns.sh"
export NN_ENGINE=none

up() { [ -n "$(nn_state "$1")" ]; }
nn_require
nn_net
for n in a b; do
	nn_conf "$n"
	printf '[general]\nudpbindaddr=0.0.0.0:5060\nrealm=tandem\n\n[100-tfg]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\nqualify=no\n' \
		> "$T/c$n/sip.conf"
	printf '[general]\npersistentmembers=yes\n\n[q1]\nstrategy=ringall\n' > "$T/c$n/queues.conf"
done
nn_start a
nn_start b
nn_wait 10 "a answers" up a
nn_ctl a cluster takeover --force > "$T/ctl.out" 2>&1 || nn_fail "takeover a: $(cat "$T/ctl.out")"
nn_wait 10 "a ACTIVE" nn_is a ACTIVE
nn_wait 20 "b STANDBY (in sync)" nn_is b STANDBY
for i in 1 2 3; do nn_ctl a db put before k$i v$i > /dev/null || nn_fail "db put on a"; done
got() { [ "$(nn_ctl "$1" db get "$2" "$3" 2>/dev/null)" = "$4" ]; }
nn_wait 5 "the keys reach b" got b before k3 v3
nn_note "ok: a ACTIVE, b STANDBY, keys replicated"

kill -9 "${NN_TPID[b]}"; wait "${NN_TPID[b]}" 2>/dev/null
for i in 1 2 3; do
	nn_ctl a db put tail k$i "only-on-a-$i" > /dev/null || nn_fail "db put tail on a"
done
got a tail k3 only-on-a-3 || nn_fail "a does not have its own tail keys"
printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$T/reg.csv"
( cd "$T" && ip netns exec "$NS_C" timeout -k 3 20 sipp -nostdin -sf \
	"$TANDEM_SRC/tests/e2e/sipp/register_auth.xml" -inf "$T/reg.csv" -i 10.0.0.10 -p 5070 \
	-m 1 "$VIP:5060" ) > "$T/sipp.reg.out" 2>&1 || nn_fail "REGISTER of 100-tfg on a failed"
nn_ctl a queue add member SIP/100-tfg to q1 > "$T/ctl.out" 2>&1 ||
	nn_fail "queue add on a: $(cat "$T/ctl.out")"
regs() { nn_ctl "$1" registrations --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d.get("registrations", d) if isinstance(d, dict) else d
print(" ".join(sorted(x.get("peer", x.get("name", "?")) for x in r)))'; }
members() { nn_ctl "$1" queue show q1 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
q = d["queues"][0] if isinstance(d.get("queues"), list) else d["queues"]["q1"]
print(" ".join(sorted(m.get("interface", "?") for m in q.get("members", []))))'; }
[ "$(regs a)" = 100-tfg ] || nn_fail "a does not list its tail registration: '$(regs a)'"
[ "$(members a)" = SIP/100-tfg ] || nn_fail "a does not list its tail queue member: '$(members a)'"
kill -9 "${NN_TPID[a]}"; wait "${NN_TPID[a]}" 2>/dev/null
nn_note "ok: b killed, a wrote its tail alone, a killed"

nn_start b
nn_wait 10 "b answers" up b
nn_ctl b cluster takeover --force > "$T/ctl.out" 2>&1 || nn_fail "takeover b: $(cat "$T/ctl.out")"
nn_wait 10 "b ACTIVE" nn_is b ACTIVE
for i in $(seq 1 20); do
	nn_ctl b db put after k$i "written-on-b-after-the-failover-$i" > /dev/null ||
		nn_fail "db put on b"
done
nn_note "ok: b promoted alone and wrote 20 keys"

nn_start a
nn_wait 30 "a STANDBY again" nn_is a STANDBY
nn_wait 5 "b's keys on a" got a after k20 written-on-b-after-the-failover-20
grep -q "bytes written by a after the split were sent to be merged.*DB_PUT" "$T/a.log" ||
	nn_fail "a did not log its merged tail"
grep -q "(diverged): full resync; its tail was merged here" "$T/b.log" ||
	nn_fail "b did not log the divergence and the merge"
grep -q "cluster: merged the writes a made after the split" "$T/b.log" ||
	nn_fail "b did not log the merge"
# the discarded turns are kept, byte for byte, where the log line says
n=$(grep -o 'cluster: [0-9]* bytes written by a after the split' "$T/a.log" | head -1 | cut -d' ' -f2)
f=$(grep -o 'kept in [^ ]*\.jnl' "$T/a.log" | head -1 | cut -d' ' -f3)
[ -n "$f" ] && [ -f "$f" ] || nn_fail "a did not keep its discarded turns (log: '$f')"
[ "$(stat -c %s "$f")" = "$n" ] || nn_fail "$f holds $(stat -c %s "$f") bytes, the log says $n"
grep -q "partial resync" "$T/b.log" && nn_fail "b continued a's old history (partial resync)"
for n in a b; do
	for i in 1 2 3; do
		got "$n" tail k$i "only-on-a-$i" || nn_fail "a's tail key k$i is not on $n"
	done
	[ "$(regs "$n")" = 100-tfg ] || nn_fail "$n does not list a's merged registration: '$(regs "$n")'"
	[ "$(members "$n")" = SIP/100-tfg ] ||
		nn_fail "$n's queue q1 does not list a's merged member: '$(members "$n")'"
done
nn_note "ok: a's tail (keys, registration, queue member) merged: on both nodes, in memory too"
nn_note "$(grep -o 'cluster: merged the writes a made.*' "$T/b.log" | head -1)"
# The digests of every store, queue_log included (the full resync replaces
# it; a's ADDMEMBER line came back from b, merged once)
digest() { nn_ctl "$1" cluster digest --json | python3 -c '
import json, sys
d = json.load(sys.stdin)["stores"]
print(" ".join("%s=%s" % (k, d[k]) for k in sorted(d)))'; }
da=$(digest a) db=$(digest b)
[ -n "$da" ] && [ "$da" = "$db" ] || nn_fail "digests differ: a $da, b $db"
[ "$(grep -c '|ADDMEMBER|' "$T/da/queue_log")" = 1 ] ||
	nn_fail "a's queue_log holds $(grep -c '|ADDMEMBER|' "$T/da/queue_log") ADDMEMBER lines, not 1"
nn_note "ok: a rejoined by full resync, its tail merged, digests equal"

# ---- a double failover: both nodes promote from the same history (b's),
# each writes on its own branch; when they meet, a's branch is merged
kill -9 "${NN_TPID[b]}"; wait "${NN_TPID[b]}" 2>/dev/null
nn_ctl a cluster takeover --force > "$T/ctl.out" 2>&1
nn_wait 10 "a ACTIVE after b's death" nn_is a ACTIVE
for i in 1 2 3; do nn_ctl a db put sib-a k$i "a-branch-$i" > /dev/null || nn_fail "db put on a"; done
nn_ctl a db put both k "a-first" > /dev/null || nn_fail "db put on a"
kill -9 "${NN_TPID[a]}"; wait "${NN_TPID[a]}" 2>/dev/null
nn_start b
nn_wait 10 "b answers" up b
nn_ctl b cluster takeover --force > "$T/ctl.out" 2>&1 || nn_fail "takeover b: $(cat "$T/ctl.out")"
nn_wait 10 "b ACTIVE again" nn_is b ACTIVE
for i in 1 2 3; do nn_ctl b db put sib-b k$i "b-branch-$i" > /dev/null || nn_fail "db put on b"; done
nn_ctl b db put both k "b-later" > /dev/null || nn_fail "db put on b"
nn_note "ok: a and b each promoted from b's history and wrote on their own branch"
nn_start a
nn_wait 30 "a STANDBY after the second heal" nn_is a STANDBY
[ "$(grep -c "cluster: merged the writes a made" "$T/b.log")" -ge 2 ] ||
	nn_fail "b did not log a second merge"
for n in a b; do
	for i in 1 2 3; do
		nn_wait 5 "sib-a/k$i on $n" got "$n" sib-a k$i "a-branch-$i"
		got "$n" sib-b k$i "b-branch-$i" || nn_fail "sib-b/k$i missing on $n"
	done
	got "$n" both k b-later || nn_fail "both/k on $n: last writer b expected"
done
da=$(digest a) db=$(digest b)
[ -n "$da" ] && [ "$da" = "$db" ] || nn_fail "digests differ after the double failover: a $da, b $db"
nn_note "$(grep -o 'cluster: merged the writes a made.*' "$T/b.log" | tail -1)"
nn_note "ok: a double failover: a's branch merged into b's (last writer b for a key both wrote), digests equal"
exit 0
