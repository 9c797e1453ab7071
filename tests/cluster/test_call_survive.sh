#!/bin/bash
# Calls that survive a failover (docs/design/cluster.md 9), with real
# phones: two baresip 1.0 processes in tc (100-tfg sends 1000 Hz, 101-tfg
# 440 Hz and answers at once) registered to the floating address of the
# netns cluster (lib_netns.sh, keepalived), tcpdump in tc capturing the
# RTP the phones receive from the floating address.
#  1. kill -9: a call 100 -> 101 is up with audio; kill -9 of the active;
#     the standby takes over and lists the SAME call (restored, not cut);
#     without a new call, each phone hears the other's tone after the
#     kill (tone_check on the part of its recording after it); the RTP
#     each phone received keeps one SSRC and a sequence that only moves
#     forward, and the longest gap (the audio lost) is printed; 100 hangs
#     up, 101 gets the BYE; the new active's CDR has the call once,
#     ANSWERED, its uniqueid the old active's, billsec covering the whole
#     call; no "cut by failover" line for it.
#  2. setup: the killed node back as standby; a call still in setup
#     (Dial to a peer nobody answers for) at a kill -9 is cut as before:
#     "cut by failover", NO ANSWER, no call listed; the phone gets 500
#     from the new active (test_call_setup_failover.sh tests the rest).
#  3. SIGSTOP: a call up; the node killed in 2 comes back as standby
#     while it is up (the active journals the live calls again when a
#     standby comes into sync); SIGSTOP of the active (a hang: the health
#     check moves the address); the call survives as in 1, BYE, CDR too.
#  4. switch: a call up, tandemctl cluster standby on the active: the
#     call goes on through the other as in 1; the node that stepped down
#     hands its copy over (log line), no BYE, no record of its own.
#  5. SIPp as a second peer: SIPp (call_uac_load.xml, no media of its
#     own) calls 101 as 100-tfg, kill -9 of the active while it is up;
#     SIPp's BYE after the failover is answered 200 by the new active,
#     101-tfg gets the BYE, one record, ANSWERED, whole billsec.
#  6. twice: one call through two kill -9 in a row (restored on the
#     other, the killed node back as standby, restored again on it):
#     audio after the second, one SSRC each way throughout, one record
#     with the uniqueid of the node that answered it.
# No sanitizer report in either tandemd's log. Needs root, keepalived,
# baresip, sox, tcpdump, sipp (exit 77 otherwise). Label: cluster.
. "$(dirname "$0")/lib_netns.sh"
. "$(dirname "$0")/lib_baresip.sh"

bs_require
for t in tcpdump sipp; do command -v $t > /dev/null || nn_skip "needs $t"; done
nn_require
nn_net
bs_cluster_conf 'exten => 199,1,Dial(SIP/ghost,30)'
for n in a b; do
	# a static peer at an address nobody has: a call to it stays in setup
	printf '[ghost]\ntype=peer\nhost=10.0.0.99\ncontext=from-tfg\nqualify=no\n' \
		>> "$T/c$n/sip.conf"
done
bs_tones

nn_pair_up

ip netns exec "$NS_C" tcpdump -i eth0 -U -n -s 256 -w "$T/rtp.pcap" \
	"udp and src host $VIP and not src port 5060" > "$T/tcpdump.log" 2>&1 &
TD_PID=$!
NN_PIDS+=("$TD_PID")

bs_start p101 101-tfg 5064 5065 "$T/tone440.wav" ";answermode=auto"
bs_start p100 100-tfg 5062 5063 "$T/tone1000.wav" ""
bs_register "$act" "$other"
nn_note "ok: 100-tfg and 101-tfg registered to $VIP through $act"

bye_rx() { grep -c '^BYE sip:' "$T/$1.out"; }   # in-dialog BYEs in the phone's trace
now_s() { python3 -c 'import time; print("%.3f" % time.time())'; }
# when NODE's snapshot of the call is on the standby: the CALL_SNAP that
# follows the relay's latching goes out within about 1 s of it
snap_wait() { sleep 2.5; }

# survive TAG HOW [PRE]: a call up through $act, PRE run (words), HOW
# (KILL or STOP) of $act, the call goes on through $other; swaps act and
# other
survive() {
	local tag=$1 how=$2 pre=${3:-} orig=$act v s t_up t_k t_end b101 f100 f101 out nr
	bctl p100 dial 101 > "$T/dial.$tag.out" || nn_fail "[$tag] baresip dial 101: $(tail -n 3 "$T/bctl.err")"
	nn_wait 10 "[$tag] call 100 -> 101 Up on $act" call_up "$act"
	t_up=$(now_s)
	# shellcheck disable=SC2086  # PRE: words, split on purpose
	[ -z "$pre" ] || $pre
	v=$act s=$other
	snap_wait
	nr=$(grep -c 'call [0-9]* restored' "$T/$s.log")
	t_k=$(now_s)
	if [ "$how" = SWITCH ]; then
		nn_ctl "$v" cluster standby > "$T/standby.$tag" 2>&1 ||
			nn_fail "[$tag] cluster standby on $v: $(cat "$T/standby.$tag")"
	else
		kill -"$how" "${NN_TPID[$v]}"
	fi
	if [ "$how" = KILL ]; then wait "${NN_TPID[$v]}" 2>/dev/null; fi
	nn_wait 10 "[$tag] $s ACTIVE after $how of $v" nn_is "$s" ACTIVE
	nn_wait 10 "[$tag] $s holds the VIP" nn_has_vip "$s"
	nn_note "ok: [$tag] $how of $v with a call up: $s ACTIVE after $(python3 -c "import time; print(int((time.time() - $t_k) * 1000))") ms"
	[ "$(grep -c 'call [0-9]* restored' "$T/$s.log")" -gt "$nr" ] ||
		nn_fail "[$tag] no new 'call N restored' line in $s.log"
	call_up "$s" || nn_fail "[$tag] $s lists no call Up after the takeover: '$(calls_states "$s")'"
	nn_ctl "$s" calls --json 2>/dev/null | grep -q '"restored": *true' ||
		nn_fail "[$tag] $s's calls --json does not mark the call restored"
	nn_note "ok: [$tag] $s lists the call Up: $(grep 'restored' "$T/$s.log" | tail -n 1 | sed 's/.*: call/call/')"
	sleep 5
	b101=$(bye_rx p101)
	bctl p100 hangup > /dev/null || nn_fail "[$tag] baresip hangup: $(tail -n 3 "$T/bctl.err")"
	t_end=$(now_s)
	nn_wait 10 "[$tag] no call left on $s after the hangup" no_calls "$s"
	nn_wait 10 "[$tag] 101-tfg got the BYE through $s" eval '[ "$(bye_rx p101)" -gt "$b101" ]'
	nn_note "ok: [$tag] 100-tfg hung up, 101-tfg got the BYE"
	# the audio after the kill: each recording past (kill - answer) + 1 s
	for _ in $(seq 1 20); do
		f100=$(last_rec p100) f101=$(last_rec p101)
		[ "$f100" != "${PREV100:-}" ] && [ "$f101" != "${PREV101:-}" ] && break
		sleep 0.25
	done
	sleep 0.5
	[ -n "$f100" ] && [ "$f100" != "${PREV100:-}" ] || nn_fail "[$tag] 100-tfg recorded nothing"
	[ -n "$f101" ] && [ "$f101" != "${PREV101:-}" ] || nn_fail "[$tag] 101-tfg recorded nothing"
	PREV100=$f100 PREV101=$f101
	for p in "$f101:1000:440:101-tfg" "$f100:440:1000:100-tfg"; do
		IFS=: read -r f hz own ph <<< "$p"
		python3 - "$f" "$T/post.$tag.wav" "$(python3 -c "print($t_k - $t_up + 1.0)")" <<'PY' ||
import sys, wave
src = wave.open(sys.argv[1], 'rb')
skip = int(float(sys.argv[3]) * src.getframerate())
n = src.getnframes()
if n <= skip:
    sys.exit('only %.2f s recorded' % (n / src.getframerate()))
src.setpos(skip)
out = wave.open(sys.argv[2], 'wb')
out.setparams(src.getparams())
out.writeframes(src.readframes(n - skip))
PY
			nn_fail "[$tag] $ph's recording stops before the kill"
		python3 "$AUDIO_DIR/tone_check.py" "$T/post.$tag.wav" "$hz" --other "$own" \
			--min-seconds 3 > "$T/tone.$tag.$ph" ||
			nn_fail "[$tag] $ph did not hear $hz Hz after the kill: $(cat "$T/tone.$tag.$ph")"
		nn_note "ok: [$tag] after the kill $ph heard $hz Hz: $(cat "$T/tone.$tag.$ph")"
	done
	# what the phones received: one stream each way, the gap measured
	python3 "$NN_DIR/rtp_gap.py" "$T/rtp.pcap" "$VIP" --from "$t_up" --to "$t_end" \
		--kill "$t_k" --max-gap 3 > "$T/gap.$tag" ||
		nn_fail "[$tag] the RTP the phones received: $(cat "$T/gap.$tag")"
	while read -r l; do nn_note "ok: [$tag] RTP to $l"; done < "$T/gap.$tag"
	# the record: once, on the new active, the old active's uniqueid
	cdr_json "$s" || nn_fail "[$tag] tandemctl cdr --json on $s"
	out=$(python3 - "$T/cdr.$s.json" "$orig" "$T/cdr.seen" "$(python3 -c "print(int($t_end - $t_up))")" <<'PY'
import json, os, sys
seen = set(open(sys.argv[3]).read().split()) if os.path.exists(sys.argv[3]) else set()
new = [r for r in json.load(open(sys.argv[1]))["cdr"]
       if r["uniqueid"] not in seen and r["src"] == "100-tfg" and r["dst"] == "101"]
if len(new) != 1 or not new[0]["uniqueid"].startswith(sys.argv[2] + "-") or \
   new[0]["disposition"] != "ANSWERED" or new[0]["billsec"] < int(sys.argv[4]) - 1:
    print("expected one new record 100-tfg -> 101 by %s, ANSWERED, billsec >= %d: %s"
          % (sys.argv[2], int(sys.argv[4]) - 1, new))
    sys.exit(1)
with open(sys.argv[3], "a") as f:
    f.write(new[0]["uniqueid"] + "\n")
print("%s ANSWERED billsec %d duration %d" % (new[0]["uniqueid"], new[0]["billsec"],
                                              new[0]["duration"]))
PY
	) || nn_fail "[$tag] the call's record on $s: $out"
	! grep -q "${out%% *}.*cut by failover" "$T/$s.log" ||
		nn_fail "[$tag] $s logged ${out%% *} as cut by failover"
	nn_note "ok: [$tag] its record on $s, once: $out (call up $(python3 -c "print('%.1f' % ($t_end - $t_up))") s)"
	act=$s other=$v
}

# first_kill: kill -9 of $act with the call up, the call restored on
# $other, the killed node back as standby; swaps act and other (a PRE of
# survive: the call then survives a second failover)
first_kill() {
	local v=$act s=$other nr
	snap_wait
	nr=$(grep -c 'call [0-9]* restored' "$T/$s.log")
	kill -KILL "${NN_TPID[$v]}"
	wait "${NN_TPID[$v]}" 2>/dev/null
	nn_wait 10 "[twice] $s ACTIVE after kill -9 of $v" nn_is "$s" ACTIVE
	nn_wait 10 "[twice] the call restored on $s" eval '[ "$(grep -c "call [0-9]* restored" "$T/$s.log")" -gt "$nr" ]'
	call_up "$s" || nn_fail "[twice] $s lists no call Up after the first takeover"
	nn_note "ok: [twice] first kill -9 ($v): the call restored on $s"
	rejoin "$v"
	act=$s other=$v
}

# rejoin NODE: restart the node that failed, back as standby in sync
rejoin() {
	local v=$1 kb
	kill -KILL "${NN_TPID[$v]}" 2>/dev/null
	wait "${NN_TPID[$v]}" 2>/dev/null
	kb=$(nn_ka_count "$v" BACKUP)
	nn_start "$v"
	nn_wait 30 "$v back as STANDBY" nn_is "$v" STANDBY
	nn_wait 10 "$v's keepalived BACKUP again" nn_rejoined "$v" "$kb"
	nn_note "ok: $v back as STANDBY"
}

# 1. kill -9 with a call up
survive kill9 KILL

# 2. a call in setup at a kill -9 is cut as before
rejoin "$other"
cuts=$(grep -c 'cut by failover' "$T/$other.log")
f500=$(grep -c '^SIP/2.0 500 Server Failover' "$T/p100.out")
bctl p100 dial 199 > "$T/dial.setup.out" || nn_fail "[setup] baresip dial 199"
nn_wait 10 "[setup] a call 100 -> 199 in setup on $act" eval '[ -n "$(calls_states "$act")" ] && ! call_up "$act"'
sleep 1
v=$act s=$other
kill -KILL "${NN_TPID[$v]}"
wait "${NN_TPID[$v]}" 2>/dev/null
nn_wait 10 "[setup] $s ACTIVE after kill -9 of $v" nn_is "$s" ACTIVE
nn_wait 10 "[setup] the call in setup cut on $s" eval '[ "$(grep -c "cut by failover" "$T/$s.log")" -gt "$cuts" ]'
no_calls "$s" || nn_fail "[setup] $s lists calls: $(calls_states "$s")"
# the phone is told: a final response to its INVITE from the new active
nn_wait 5 "[setup] 100-tfg got 500 from $s" eval '[ "$(grep -c "^SIP/2.0 500 Server Failover" "$T/p100.out")" -gt "$f500" ]'
nn_note "ok: [setup] 100-tfg got 500 Server Failover from $s"
cdr_json "$s" || nn_fail "[setup] tandemctl cdr --json on $s"
python3 - "$T/cdr.$s.json" "$v" > "$T/setup.check" <<'PY' ||
import json, sys
r = [r for r in json.load(open(sys.argv[1]))["cdr"] if r["dst"] == "199"]
if len(r) != 1 or r[0]["disposition"] != "NO ANSWER" or not r[0]["uniqueid"].startswith(sys.argv[2] + "-"):
    print("expected one record 100-tfg -> 199, NO ANSWER, by %s: %s" % (sys.argv[2], r))
    sys.exit(1)
print("%s NO ANSWER" % r[0]["uniqueid"])
PY
	nn_fail "[setup] $(cat "$T/setup.check")"
nn_note "ok: [setup] the call in setup at the kill is cut by failover: $(cat "$T/setup.check")"
bctl p100 hangup > /dev/null
act=$s other=$v
sleep 1

# 3. SIGSTOP of the active with a call up, the standby restarted while
# that call was up (it learns the call after its resync)
survive sigstop STOP "rejoin $other"

# 4. a planned switchover (cluster standby) with a call up: the call goes
# on through the other node; the one that stepped down hands its copy
# over without a word to the phones (no BYE from it later) and writes no
# record of its own
rejoin "$other"
survive switch SWITCH
grep -q 'calls handed over' "$T/$other.log" || nn_fail "[switch] $other did not hand its call over"
nn_note "ok: [switch] $other handed its call over: $(grep 'calls handed over' "$T/$other.log" | tail -n 1 | sed 's/.*cluster: //')"
nn_ctl "$other" cluster unstandby > /dev/null || nn_fail "cluster unstandby on $other"

# 5. a second peer: SIPp calls 101 as 100-tfg (no media of its own), the
# active is killed while the call is up, SIPp's BYE after the failover is
# answered 200 by the new active, 101-tfg gets the BYE, one record
nn_wait 20 "$other STANDBY again" nn_is "$other" STANDBY
sleep 1
printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$T/caller.csv"
mkdir -p "$T/sipp"
b101=$(bye_rx p101)
( cd "$T/sipp" && exec ip netns exec "$NS_C" timeout -k 3 60 sipp -nostdin -trace_err \
	-trace_logs -sf "$NN_DIR/sipp/call_uac_load.xml" -inf "$T/caller.csv" -i $CL \
	-p 5080 -s 101 -m 1 -d 9000 -max_retrans 4 "$VIP:5060" ) > "$T/sipp/out" 2>&1 &
SIPP=$!
NN_PIDS+=("$SIPP")
v=$act s=$other
nn_wait 10 "[sipp] the SIPp call Up on $v" call_up "$v"
t_up=$(now_s)
snap_wait
kill -KILL "${NN_TPID[$v]}"
wait "${NN_TPID[$v]}" 2>/dev/null
nn_wait 10 "[sipp] $s ACTIVE after kill -9 of $v" nn_is "$s" ACTIVE
call_up "$s" || nn_fail "[sipp] $s lists no call Up after the takeover: '$(calls_states "$s")'"
for _ in $(seq 1 200); do kill -0 "$SIPP" 2>/dev/null || break; sleep 0.1; done
wait "$SIPP"; rc=$?
[ "$rc" = 0 ] && grep -q 'DONE c1' "$T"/sipp/*_logs.log 2>/dev/null ||
	nn_fail "[sipp] SIPp's BYE after the failover got no 200 (exit $rc): $(tail -n 5 "$T/sipp/out"; cat "$T"/sipp/*_errors.log 2>/dev/null | tail -n 5)"
t_end=$(now_s)
nn_wait 10 "[sipp] no call left on $s" no_calls "$s"
nn_wait 10 "[sipp] 101-tfg got the BYE through $s" eval '[ "$(bye_rx p101)" -gt "$b101" ]'
cdr_json "$s" || nn_fail "[sipp] tandemctl cdr --json on $s"
out=$(python3 - "$T/cdr.$s.json" "$v" "$T/cdr.seen" "$(python3 -c "print(int($t_end - $t_up))")" <<'PY'
import json, os, sys
seen = set(open(sys.argv[3]).read().split()) if os.path.exists(sys.argv[3]) else set()
new = [r for r in json.load(open(sys.argv[1]))["cdr"]
       if r["uniqueid"] not in seen and r["dst"] == "101" and r["clid"].startswith('"c1"')]
if len(new) != 1 or not new[0]["uniqueid"].startswith(sys.argv[2] + "-") or \
   new[0]["disposition"] != "ANSWERED" or new[0]["billsec"] < int(sys.argv[4]) - 1:
    print("expected one new record c1 -> 101 by %s, ANSWERED, billsec >= %d: %s"
          % (sys.argv[2], int(sys.argv[4]) - 1, new))
    sys.exit(1)
with open(sys.argv[3], "a") as f:
    f.write(new[0]["uniqueid"] + "\n")
print("%s ANSWERED billsec %d" % (new[0]["uniqueid"], new[0]["billsec"]))
PY
) || nn_fail "[sipp] the call's record on $s: $out"
nn_note "ok: [sipp] SIPp's call went on through $s: its BYE answered 200, 101-tfg got the BYE, record once: $out"
act=$s other=$v

# 6. the same call through two failovers in a row: kill -9 of the active,
# the call restored on the other, the killed node back as standby, kill -9
# of the new active, the call restored again on the first
rejoin "$other"
survive twice KILL first_kill

bctl p100 quit > /dev/null
bctl p101 quit > /dev/null
kill -INT "$TD_PID" 2>/dev/null
for n in a b; do
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/$n.log" || nn_fail "sanitizer report in $n.log"
done
exit 0
