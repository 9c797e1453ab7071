#!/bin/bash
# Real softphones against the floating address (the "two nodes" issue:
# client namespaces running baresip against the VIP), on the netns cluster
# of lib_netns.sh (keepalived):
#  1. two baresip 1.0 processes in tc (10.0.0.10), 100-tfg on port 5062
#     sending a 1000 Hz tone and 101-tfg on 5064 sending 440 Hz
#     (answermode=auto), each with its own config dir, ctrl_tcp to drive
#     it, sndfile recording what it receives, register to $VIP with
#     regint=3600;
#  2. a call 100 -> 101 through the active: each phone hears the other's
#     tone and not its own (tests/e2e/audio/tone_check.py); hang up;
#  3. a call is up, kill -9 of the active: the standby takes over and
#     the call goes on (docs/design/cluster.md 9; test_call_survive.sh
#     looks closer): the new active lists it Up, each phone heard the
#     other's tone before and after the kill, receiving less than 1 s
#     less audio than it sent (the gap); 100 hangs up; the record is on
#     the new active once, ANSWERED, uniqueid of the node killed, without
#     a "cut by failover" line. Without the phones registering again (no
#     REGISTER in their SIP traces since the first one, the new active
#     lists both bindings with the same Call-IDs), a new call 100 -> 101
#     through the new active has audio both ways and its record (uniqueid
#     prefixed with the new active's name) is there;
#  4. the killed node comes back as STANDBY; a planned switchover
#     (tandemctl cluster standby on the active) hands over to it; once more
#     a call with audio both ways, its record on that node.
# No sanitizer report in either tandemd's log. Needs root, keepalived,
# baresip, sox (exit 77 otherwise). Label: cluster.
. "$(dirname "$0")/lib_netns.sh"
. "$(dirname "$0")/lib_baresip.sh"

bs_require
nn_require
nn_net
bs_cluster_conf
bs_tones

nn_pair_up

bs_start p101 101-tfg 5064 5065 "$T/tone440.wav" ";answermode=auto"
bs_start p100 100-tfg 5062 5063 "$T/tone1000.wav" ""
bs_register "$act" "$other"
nn_note "ok: 100-tfg and 101-tfg registered to $VIP through $act (REGISTERs sent: $r100, $r101), bindings on $other too"

# call NODE TAG SECS: 100 dials 101 through NODE; the call is up SECS s
call_start() {
	local node=$1 tag=$2
	: > "$T/dial.$tag.out"
	bctl p100 dial 101 > "$T/dial.$tag.out" || nn_fail "[$tag] baresip dial 101: $(tail -n 3 "$T/bctl.err")"
	nn_wait 10 "[$tag] call 100 -> 101 Up on $node" call_up "$node"
}
call_end() {  # NODE TAG
	bctl p100 hangup > /dev/null || nn_fail "[$2] baresip hangup: $(tail -n 3 "$T/bctl.err")"
	nn_wait 10 "[$2] no call left on $1 after the hangup" no_calls "$1"
}
# hear TAG: each phone's last recording has the other's tone, not its own
hear() {
	local tag=$1 f100 f101
	# sndfile closes the files when the call's audio stops
	for _ in $(seq 1 20); do
		f100=$(last_rec p100) f101=$(last_rec p101)
		[ -n "$f100" ] && [ -n "$f101" ] && [ "$f100" != "${PREV100:-}" ] &&
			[ "$f101" != "${PREV101:-}" ] && break
		sleep 0.25
	done
	[ -n "$f100" ] && [ "$f100" != "${PREV100:-}" ] || nn_fail "[$tag] 100-tfg recorded nothing new: $(ls "$T/p100")"
	[ -n "$f101" ] && [ "$f101" != "${PREV101:-}" ] || nn_fail "[$tag] 101-tfg recorded nothing new: $(ls "$T/p101")"
	PREV100=$f100 PREV101=$f101
	sleep 0.5
	python3 "$AUDIO_DIR/tone_check.py" "$f101" 1000 --other 440 --min-seconds 3 > "$T/tone.$tag.101" ||
		nn_fail "[$tag] 101-tfg did not hear 100-tfg's 1000 Hz tone: $(cat "$T/tone.$tag.101")"
	python3 "$AUDIO_DIR/tone_check.py" "$f100" 440 --other 1000 --min-seconds 3 > "$T/tone.$tag.100" ||
		nn_fail "[$tag] 100-tfg did not hear 101-tfg's 440 Hz tone: $(cat "$T/tone.$tag.100")"
	nn_note "ok: [$tag] 101-tfg heard 1000 Hz: $(cat "$T/tone.$tag.101")"
	nn_note "ok: [$tag] 100-tfg heard 440 Hz: $(cat "$T/tone.$tag.100")"
}
# cdr_new NODE TAG: an ANSWERED record 100-tfg -> 101 with uniqueid NODE-...
# that was not on NODE before (ids in $T/cdr.seen); prints its uniqueid
cdr_new() {
	cdr_json "$1" || nn_fail "[$2] tandemctl cdr --json on $1: $(tail -n 2 "$T/ctl.err")"
	python3 - "$T/cdr.$1.json" "$1" "$T/cdr.seen" <<'EOF'
import json, os, sys
seen = set(open(sys.argv[3]).read().split()) if os.path.exists(sys.argv[3]) else set()
new = [r for r in json.load(open(sys.argv[1]))["cdr"]
       if r["uniqueid"] not in seen and r["src"] == "100-tfg" and r["dst"] == "101"
       and r["disposition"] == "ANSWERED" and r["uniqueid"].startswith(sys.argv[2] + "-")]
if len(new) != 1:
    print("%d new ANSWERED records 100-tfg -> 101 by %s: %s" % (len(new), sys.argv[2], new))
    sys.exit(1)
with open(sys.argv[3], "a") as f:
    f.write(new[0]["uniqueid"] + "\n")
print("%s billsec %d" % (new[0]["uniqueid"], new[0]["billsec"]))
EOF
}
# a full call with audio through NODE
audio_call() {
	local node=$1 tag=$2 out
	call_start "$node" "$tag"
	sleep 5
	call_end "$node" "$tag"
	hear "$tag"
	out=$(cdr_new "$node" "$tag") || nn_fail "[$tag] call record on $node: $out"
	nn_note "ok: [$tag] its call record is on $node: $out"
}

# 2. a call through the active
audio_call "$act" first

# 3. a call up at the kill -9 of the active: it goes on through the other
call_start "$act" survive
sleep 3     # its snapshot reaches the standby within about 1 s
v=$act s=$other
k=$(now_ns)
kill -KILL "${NN_TPID[$v]}"
wait "${NN_TPID[$v]}" 2>/dev/null
nn_wait 10 "$s ACTIVE after kill -9 of $v" nn_is "$s" ACTIVE
nn_wait 10 "$s holds the VIP" nn_has_vip "$s"
nn_note "ok: kill -9 of $v with a call up: $s ACTIVE after $(( ($(now_ns) - k) / 1000000 )) ms"
call_up "$s" || nn_fail "[survive] $s lists no call Up after the takeover: '$(calls_states "$s")'"
grep -q 'call [0-9]* restored' "$T/$s.log" || nn_fail "[survive] no 'call N restored' in $s.log"
sleep 4
call_end "$s" survive
hear survive
# received (dec) against sent (enc): the gap of the failover only
for ph in p100 p101; do
	dec=$(last_rec "$ph") enc=${dec%-dec.wav}-enc.wav
	gap=$(python3 -c 'import sys, wave
d = [wave.open(f).getnframes() / 8000.0 for f in sys.argv[1:]]
print("%.2f %.2f" % (d[0], d[1]))' "$dec" "$enc") || nn_fail "[survive] cannot read $dec, $enc"
	read -r ddec denc <<< "$gap"
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) < 1.0 else 1)' "$ddec" "$denc" ||
		nn_fail "[survive] $ph received $ddec s of audio and sent $denc s: the audio stopped at the kill"
	nn_note "ok: [survive] $ph received $ddec s of audio, sent $denc s"
done
cdr_json "$s" || nn_fail "[survive] tandemctl cdr --json on $s: $(tail -n 2 "$T/ctl.err")"
python3 - "$T/cdr.$s.json" "$v" "$T/cdr.seen" > "$T/survive.check" <<'EOF' ||
import json, sys
seen = set(open(sys.argv[3]).read().split())
new = [r for r in json.load(open(sys.argv[1]))["cdr"]
       if r["uniqueid"] not in seen and r["src"] == "100-tfg" and r["dst"] == "101"]
if len(new) != 1 or not new[0]["uniqueid"].startswith(sys.argv[2] + "-") or \
   new[0]["disposition"] != "ANSWERED" or new[0]["billsec"] < 6:
    print("expected one new record 100-tfg -> 101 by %s, ANSWERED, billsec >= 6: %s"
          % (sys.argv[2], new))
    sys.exit(1)
with open(sys.argv[3], "a") as f:
    f.write(new[0]["uniqueid"] + "\n")
print("%s ANSWERED billsec %d" % (new[0]["uniqueid"], new[0]["billsec"]))
EOF
	nn_fail "[survive] the call's record on $s: $(cat "$T/survive.check")"
! grep -q 'cut by failover' "$T/$s.log" || nn_fail "[survive] $s cut a call: $(grep 'cut by failover' "$T/$s.log")"
nn_note "ok: [survive] the call up at the kill went on through $s, its record once: $(cat "$T/survive.check")"

# no new REGISTER: the new active serves the bindings it got replicated
[ "$(reg_sent p100)" = "$r100" ] && [ "$(reg_sent p101)" = "$r101" ] ||
	nn_fail "a phone registered again (REGISTERs sent: 100-tfg $r100 -> $(reg_sent p100), 101-tfg $r101 -> $(reg_sent p101))"
[ "$(reg_callid "$s" 100-tfg)" = "$cid100" ] && [ "$(reg_callid "$s" 101-tfg)" = "$cid101" ] ||
	nn_fail "bindings on $s: 100-tfg $(reg_callid "$s" 100-tfg) (was $cid100), 101-tfg $(reg_callid "$s" 101-tfg) (was $cid101)"
nn_note "ok: $s lists both bindings (same Call-IDs), no REGISTER sent since"
audio_call "$s" after-kill

# 4. the killed node back as standby, then a planned switchover to it
kb=$(nn_ka_count "$v" BACKUP)
nn_start "$v"
nn_wait 30 "$v back as STANDBY" nn_is "$v" STANDBY
nn_wait 10 "$v's keepalived BACKUP again" nn_rejoined "$v" "$kb"
nn_note "ok: $v back as STANDBY"
sleep 1
c=$(now_ns)
nn_ctl "$s" cluster standby > "$T/standby.out" 2>&1 || nn_fail "cluster standby on $s: $(cat "$T/standby.out")"
nn_wait 10 "$v ACTIVE after cluster standby on $s" nn_is "$v" ACTIVE
nn_wait 10 "$v holds the VIP" nn_has_vip "$v"
nn_note "ok: cluster standby on $s: $v ACTIVE after $(( ($(now_ns) - c) / 1000000 )) ms"
nn_ctl "$s" cluster unstandby > /dev/null || nn_fail "cluster unstandby on $s"
[ "$(reg_callid "$v" 100-tfg)" = "$cid100" ] && [ "$(reg_callid "$v" 101-tfg)" = "$cid101" ] ||
	nn_fail "bindings on $v after the switchover: $(reg_callid "$v" 100-tfg), $(reg_callid "$v" 101-tfg)"
audio_call "$v" switchover
[ "$(reg_sent p100)" = "$r100" ] && [ "$(reg_sent p101)" = "$r101" ] ||
	nn_fail "a phone registered again (REGISTERs sent: 100-tfg $r100 -> $(reg_sent p100), 101-tfg $r101 -> $(reg_sent p101))"
nn_note "ok: no REGISTER from either phone after the first one"

# the phones quit (the EXIT trap stops whatever is left)
bctl p100 quit > /dev/null
bctl p101 quit > /dev/null
for n in a b; do
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/$n.log" || nn_fail "sanitizer report in $n.log"
done
exit 0
