#!/bin/bash
# Calls in setup at a failover (docs/design/cluster.md 9.1, docs/failover.md):
# SIPp as the caller (100-tfg, setup_uac_fail.xml: expects a final 500
# and ACKs it) and SIPp as the callee (a static peer in tc), both in tc,
# on the netns cluster (lib_netns.sh, keepalived); kill -9 of the active
# while the call is in setup, then for each case:
#  1. cancel: the callee rings (180) and does not answer
#     (setup_uas_cancel.xml, below): the caller gets 500 from the
#     new active within 3 s of the kill, the callee gets the CANCEL (same
#     branch), answers 200 and 487, gets the ACK for the 487;
#  2. crossed: the callee rings, and answers 200 as the new active's CANCEL
#     reaches it (setup_uas_crossed.xml): the new active ACKs the 200 and
#     sends BYE; the caller gets 500;
#  3. late: the callee sends 100 only and answers 200 4 s later, to a node
#     that has died (setup_uas_late.xml): the new active, which knows no
#     such INVITE, ACKs it and sends BYE (log line with the Call-ID); the
#     caller gets 500.
#  4. rejoin: as 1, but the standby is restarted (SIGTERM, started again,
#     in sync) while the callee rings, then the active is killed: the
#     setup snapshot is journaled again for the standby that came into
#     sync (call_survive.c setup_look), so the caller still gets its 500
#     and the callee its CANCEL (setup_uas_cancel.xml: call_uas_cancel.xml
#     that also answers a retransmitted CANCEL, whose 200 can be lost
#     while the address moves).
# Each time: the record once on the new active, NO ANSWER, its uniqueid the
# killed node's, "cut by failover"; no call left; the killed node back as
# standby. No sanitizer report in either log. Needs root, keepalived,
# sipp (exit 77 otherwise). Label: cluster.
. "$(dirname "$0")/lib_netns.sh"
. "$(dirname "$0")/lib_baresip.sh"   # bs_cluster_conf, calls_states, cdr_json

command -v sipp > /dev/null || nn_skip "needs sipp"
nn_require
nn_net
bs_cluster_conf 'exten => 300,1,Dial(SIP/callee1,30)
exten => 301,1,Dial(SIP/callee2,30)
exten => 302,1,Dial(SIP/callee3,30)
exten => 303,1,Dial(SIP/callee4,30)'
for n in a b; do
	for i in 1 2 3 4; do
		printf '[callee%s]\ntype=peer\nhost=%s\nport=%s\ncontext=from-tfg\nqualify=no\n' \
			"$i" "$CL" $((5088 + 2 * i)) >> "$T/c$n/sip.conf"
		printf 'disallow=all\nallow=alaw\n\n' >> "$T/c$n/sip.conf"
	done
done
printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$T/caller.csv"

nn_pair_up

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
in_setup() { local s; s=$(calls_states "$1") && [ -n "$s" ] && [ "$s" != Up ]; }
sipp_log() { cat "$T/$1"/*_logs.log 2>/dev/null; }

# rejoin NODE: restart the node that was killed, back as standby
rejoin() {
	local v=$1 kb
	kb=$(nn_ka_count "$v" BACKUP)
	nn_start "$v"
	nn_wait 30 "$v back as STANDBY" nn_is "$v" STANDBY
	nn_wait 10 "$v's keepalived BACKUP again" nn_rejoined "$v" "$kb"
	nn_note "ok: $v back as STANDBY"
}

# restart NODE: the standby stopped (SIGTERM) and started again, until the
# active says it is in sync (the moment call_survive_resnap() runs there)
restart() {
	local v=$1 n
	n=$(grep -cE "cluster: standby $v (caught up|in sync)" "$T/$act.log")
	nn_stop_pid "${NN_TPID[$v]}" 10
	rejoin "$v"
	nn_wait 20 "$act: standby $v in sync" \
		eval '[ "$(grep -cE "cluster: standby $v (caught up|in sync)" "$T/$act.log")" -gt "$n" ]'
	nn_note "ok: $v restarted while the call rings: $(grep -hE "cluster: standby $v (caught up|in sync)" "$T/$act.log" | tail -n 1 | sed 's/.*cluster: //')"
}

# one TAG EXTEN CALLEE_PORT UAS_SCENARIO STATE [restart]: the callee (SIPp
# uas) and the caller in tc, the call in setup on $act (calls lists STATE),
# with restart the standby restarted then, kill -9 of $act; checks the
# caller's 500, the callee's scenario, the record
one() {
	local tag=$1 ext=$2 port=$3 uas=$4 state=$5 v=$act s=$other t_k t_500 rc cuts
	mkdir -p "$T/uas.$tag" "$T/uac.$tag"
	# all,-abortunexp: a message the scenario does not expect (a CANCEL
	# retransmitted because its 200 was lost while the address moved) is
	# left unanswered instead of failing the call; the scenario still
	# needs every message it lists, in order
	( cd "$T/uas.$tag" && exec ip netns exec "$NS_C" timeout -k 3 45 sipp -nostdin \
		-default_behaviors all,-abortunexp \
		-trace_err -trace_msg -trace_logs -sf "$uas" -i "$CL" -p "$port" -m 1 ) \
		> "$T/uas.$tag/out" 2>&1 &
	local uas_pid=$!
	NN_PIDS+=("$uas_pid")
	sleep 0.5
	( cd "$T/uac.$tag" && exec ip netns exec "$NS_C" timeout -k 3 45 sipp -nostdin \
		-trace_err -trace_msg -trace_logs -sf "$NN_DIR/sipp/setup_uac_fail.xml" \
		-inf "$T/caller.csv" -i "$CL" -p 5080 -s "$ext" -m 1 "$VIP:5060" ) \
		> "$T/uac.$tag/out" 2>&1 &
	local uac_pid=$!
	NN_PIDS+=("$uac_pid")
	nn_wait 10 "[$tag] the call 100-tfg -> $ext $state on $act" \
		eval '[ "$(calls_states "$act")" = "$state" ]'
	[ "${6:-}" != restart ] || restart "$s"
	cuts=$(grep -c 'cut by failover' "$T/$s.log")
	sleep 1.5   # the setup snapshot rides in the next turn, or the next look (1 s)
	t_k=$(now_ms)
	kill -KILL "${NN_TPID[$v]}"
	wait "${NN_TPID[$v]}" 2>/dev/null
	nn_wait 10 "[$tag] $s ACTIVE after kill -9 of $v" nn_is "$s" ACTIVE
	nn_note "ok: [$tag] kill -9 of $v with the call in setup: $s ACTIVE after $(( $(now_ms) - t_k )) ms"
	nn_wait 10 "[$tag] the caller got a final 500 from $s" eval 'sipp_log "uac.$tag" | grep -q "GOT 500"'
	t_500=$(now_ms)
	(( t_500 - t_k <= 3000 )) || nn_fail "[$tag] the caller's 500 came $(( t_500 - t_k )) ms after the kill"
	nn_note "ok: [$tag] the caller got 500 $(( t_500 - t_k )) ms after the kill (50 ms polls): $(grep -h 'in setup at the failover' "$T/$s.log" | tail -n 1 | sed 's/.*: call/call/')"
	for _ in $(seq 1 200); do kill -0 "$uac_pid" 2>/dev/null || break; sleep 0.1; done
	wait "$uac_pid"; rc=$?
	[ "$rc" = 0 ] || nn_fail "[$tag] the caller's SIPp exit $rc: $(tail -n 5 "$T/uac.$tag/out"; cat "$T/uac.$tag"/*_errors.log 2>/dev/null | tail -n 5)"
	python3 - "$T/uac.$tag"/*_messages.log > "$T/uac.$tag/check" <<'PY' ||
import re, sys
t = open(sys.argv[1]).read().replace('\r', '')
msgs = [m.strip('\n') for m in re.split(r'^-{20,}.*$', t, flags=re.M)]
msgs = [m.split('\n\n', 1)[1] if '\n\n' in m else m for m in msgs]
h = lambda m, n: [l.split(':', 1)[1].strip() for l in m.splitlines() if l.lower().startswith(n.lower() + ':')]
inv = [m for m in msgs if m.startswith('INVITE ') and 'CSeq: 2 INVITE' in m][0]
r500 = [m for m in msgs if m.startswith('SIP/2.0 500')][0]
prov = [m for m in msgs if m.startswith('SIP/2.0 18')]
if h(r500, 'Via') != h(inv, 'Via'):
    sys.exit('Via %s, the INVITE had %s' % (h(r500, 'Via'), h(inv, 'Via')))
if h(r500, 'CSeq') != ['2 INVITE'] or h(r500, 'Call-ID') != h(inv, 'Call-ID'):
    sys.exit('CSeq %s Call-ID %s' % (h(r500, 'CSeq'), h(r500, 'Call-ID')))
if prov and h(prov[0], 'To') != h(r500, 'To'):
    sys.exit('To %s, the 18x had %s' % (h(r500, 'To'), h(prov[0], 'To')))
if h(r500, 'Retry-After') != ['5']:
    sys.exit('Retry-After %s' % h(r500, 'Retry-After'))
print('500 with Retry-After 5, the INVITE\'s Via, CSeq, Call-ID%s' % (', the 18x\'s To tag' if prov else ''))
PY
		nn_fail "[$tag] the caller's 500 is not the INVITE transaction's: $(cat "$T/uac.$tag/check")"
	nn_note "ok: [$tag] $(cat "$T/uac.$tag/check")"
	for _ in $(seq 1 250); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.1; done
	wait "$uas_pid"; rc=$?
	[ "$rc" = 0 ] || nn_fail "[$tag] the callee's SIPp ($(basename "$uas")) exit $rc: $(tail -n 5 "$T/uas.$tag/out"; cat "$T/uas.$tag"/*_errors.log 2>/dev/null | tail -n 5)"
	nn_note "ok: [$tag] the callee's scenario $(basename "$uas") completed $(sipp_log "uas.$tag" | tr '\n' ' ')"
	nn_wait 10 "[$tag] the record cut on $s" eval '[ "$(grep -c "cut by failover" "$T/$s.log")" -gt "$cuts" ]'
	nn_wait 10 "[$tag] no call left on $s" no_calls "$s"
	cdr_json "$s" || nn_fail "[$tag] tandemctl cdr --json on $s"
	python3 - "$T/cdr.$s.json" "$v" "$ext" > "$T/cdr.$tag" <<'PY' ||
import json, sys
r = [r for r in json.load(open(sys.argv[1]))["cdr"] if r["dst"] == sys.argv[3]]
if len(r) != 1 or r[0]["disposition"] != "NO ANSWER" or not r[0]["uniqueid"].startswith(sys.argv[2] + "-"):
    print("expected one record -> %s, NO ANSWER, by %s: %s" % (sys.argv[3], sys.argv[2], r))
    sys.exit(1)
print("%s NO ANSWER" % r[0]["uniqueid"])
PY
		nn_fail "[$tag] $(cat "$T/cdr.$tag")"
	nn_note "ok: [$tag] the record once on $s: $(cat "$T/cdr.$tag")"
	act=$s other=$v
	rejoin "$other"
}

# 1. the callee rings and gets the CANCEL
one cancel 300 5090 "$NN_DIR/sipp/setup_uas_cancel.xml" Ringing
grep -q '^CANCEL sip:' "$T"/uas.cancel/*_messages.log || nn_fail "[cancel] no CANCEL at the callee"
python3 - "$T"/uas.cancel/*_messages.log > "$T/cancel.check" <<'PY' ||
import re, sys
t = open(sys.argv[1]).read().replace('\r', '')
inv = re.search(r'^INVITE .*?\n\n', t, re.S | re.M).group(0)
can = re.search(r'^CANCEL .*?\n\n', t, re.S | re.M).group(0)
h = lambda m, n: [l.split(':', 1)[1].strip() for l in m.splitlines() if l.lower().startswith(n.lower() + ':')]
if h(inv, 'Via') != h(can, 'Via') or len(h(can, 'Via')) != 1:
    sys.exit('Via: %s vs %s' % (h(inv, 'Via'), h(can, 'Via')))
for n in ('From', 'To', 'Call-ID'):
    if h(inv, n) != h(can, n):
        sys.exit('%s: %s vs %s' % (n, h(inv, n), h(can, n)))
if h(inv, 'CSeq')[0].split()[0] != h(can, 'CSeq')[0].split()[0] or not h(can, 'CSeq')[0].endswith('CANCEL'):
    sys.exit('CSeq: %s vs %s' % (h(inv, 'CSeq'), h(can, 'CSeq')))
if inv.split()[1] != can.split()[1]:
    sys.exit('Request-URI: %s vs %s' % (inv.split()[1], can.split()[1]))
print('same Request-URI, Via (branch), From, To, Call-ID, CSeq number')
PY
	nn_fail "[cancel] the CANCEL does not match the INVITE (RFC 3261 9.1): $(cat "$T/cancel.check")"
nn_note "ok: [cancel] the CANCEL matches the INVITE: $(cat "$T/cancel.check")"

# 2. the callee's 200 crosses the CANCEL: ACK and BYE
one crossed 301 5092 "$NN_DIR/sipp/setup_uas_crossed.xml" Ringing

# 3. the callee answers the node that died: a 2xx nobody knows, ACK and BYE
one late 302 5094 "$NN_DIR/sipp/setup_uas_late.xml" Dialing
grep -q "that no call knows (Call-ID .*): ACK and BYE" "$T/$act.log" ||
	nn_fail "[late] no log line naming the Call-ID of the stray 200 on $act"
nn_note "ok: [late] $(grep -h 'that no call knows' "$T/$act.log" | tail -n 1 | sed 's/.*sip: //')"

# 4. the standby restarted while the callee rings: told all the same
one rejoin 303 5096 "$NN_DIR/sipp/setup_uas_cancel.xml" Ringing restart
grep -q '^CANCEL sip:' "$T"/uas.rejoin/*_messages.log || nn_fail "[rejoin] no CANCEL at the callee"
nn_note "ok: [rejoin] the callee got the CANCEL"

# stopped by SIGTERM, so that a sanitizer build reports leaks too
for n in a b; do nn_stop_pid "${NN_TPID[$n]}" 10; done
for n in a b; do
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/$n.log" || nn_fail "sanitizer report in $n.log"
done
exit 0
