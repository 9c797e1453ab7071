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
#  3. a call is up, kill -9 of the active: the standby takes over. That
#     call is cut (this version): the new active lists no call, its record
#     is there, ANSWERED, with the "cut by failover" log line; each phone
#     heard the other's tone until the kill and nothing after (it received
#     2.5 s less audio than it sent, staying 3 s more in the dead call).
#     Without the phones registering again (no REGISTER in their SIP
#     traces since the first one, the new active lists both bindings with
#     the same Call-IDs), a new call 100 -> 101 through the new active has audio both ways and
#     its record (uniqueid prefixed with the new active's name) is there;
#  4. the killed node comes back as STANDBY; a planned switchover
#     (tandemctl cluster standby on the active) hands over to it; once more
#     a call with audio both ways, its record on that node.
# No sanitizer report in either tandemd's log. Needs root, keepalived,
# baresip, sox (exit 77 otherwise). Label: cluster.
. "$(dirname "$0")/lib_netns.sh"
AUDIO_DIR=$TANDEM_SRC/tests/e2e/audio
CL=10.0.0.10

for t in baresip sox; do command -v $t > /dev/null || nn_skip "needs $t"; done
for m in account g711 aufile sndfile ctrl_tcp menu; do
	[ -f "/usr/lib/baresip/modules/$m.so" ] || nn_skip "needs baresip module $m.so"
done
nn_require
nn_net

for n in a b; do
	nn_conf "$n"
	c=$T/c$n
	{
		printf '[general]\nudpbindaddr=0.0.0.0:5060\nrealm=tandem\nmaxexpiry=3600\n\n'
		for p in 100-tfg 101-tfg; do
			printf '[%s]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=from-tfg\n' "$p"
			printf 'qualify=no\ndisallow=all\nallow=alaw\n\n'
		done
	} > "$c/sip.conf"
	printf '[from-tfg]\nexten => _1XX,1,Dial(SIP/${EXTEN}-tfg,20)\n same => n,Hangup()\n' \
		> "$c/extensions.conf"
	# Debian 12's baresip (libre 1.1) answers MD5 challenges only
	printf '\n[security]\ndigest_algorithms = md5\n' >> "$c/tandem.conf"
done

# the tones: 8 kHz mono 16-bit, 30 s so that they outlast every call
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$T/tone1000.wav" synth 30 sine 1000 vol 0.5 &&
	sox -n -r 8000 -c 1 -b 16 -e signed-integer "$T/tone440.wav" synth 30 sine 440 vol 0.5 ||
	nn_fail "sox could not make the tones"

nn_start a
nn_start b
nn_wait 30 "one node ACTIVE with the VIP" nn_one_active
act=$(nn_active)
other=$([ "$act" = a ] && echo b || echo a)
nn_wait 20 "$other STANDBY" nn_is "$other" STANDBY
nn_note "ok: $act ACTIVE with $VIP, $other STANDBY"

# bs_start NAME USER SIP_PORT CTRL_PORT TONE EXTRA: baresip in tc, its
# config in $T/NAME (recordings there too), SIP trace in $T/NAME.out
declare -A BS_CTRL=()
bs_start() {
	local name=$1 user=$2 sport=$3 cport=$4 tone=$5 extra=$6 dir=$T/$1
	mkdir -p "$dir"
	cat > "$dir/config" <<EOF
poll_method		epoll
sip_listen		$CL:$sport
net_interface		eth0
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module			sndfile.so
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:$cport
audio_source		aufile,$tone
snd_path		$dir
EOF
	echo "<sip:$user@$VIP:5060>;auth_pass=tf2020;regint=3600$extra" > "$dir/accounts"
	# -s: SIP trace on stdout; -t and timeout bound its life
	ip netns exec "$NS_C" timeout --foreground -k 3 240 baresip -f "$dir" -s -t 230 \
		> "$T/$name.out" 2>&1 &
	NN_PIDS+=("$!")
	BS_CTRL[$name]=$cport
}
bctl() {  # NAME COMMAND [PARAMS]: ctrl_tcp of that phone (in tc)
	local name=$1; shift
	ip netns exec "$NS_C" timeout -k 2 10 python3 "$AUDIO_DIR/bctl.py" "${BS_CTRL[$name]}" \
		"$@" --timeout 5 2>> "$T/bctl.err"
}
ctrl_up() { bctl "$1" reginfo > /dev/null; }
# REGISTER requests the phone sent (its -s trace prints each message sent)
reg_sent() { grep -c '^REGISTER sip:' "$T/$1.out"; }
# NODE PEER: the binding's Call-ID on NODE ("" if none)
reg_callid() {
	nn_ctl "$1" registrations --json 2>/dev/null | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin)["registrations"] if x["peer"] == sys.argv[1]]
print(r[0]["call_id"] if r else "")' "$2" 2>/dev/null
}
registered() { [ -n "$(reg_callid "$1" "$2")" ]; }
# NODE: the calls NODE lists, as "STATE STATE ..."
calls_states() {
	nn_ctl "$1" calls --json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(c.get("state", "?") for c in json.load(sys.stdin)["calls"]))' 2>/dev/null
}
call_up() { [ "$(calls_states "$1")" = Up ]; }
no_calls() { local s; s=$(calls_states "$1") && [ -z "$s" ] && nn_ctl "$1" calls --json > /dev/null; }
# the newest file of the phone's received audio (sndfile: dump-*-dec.wav)
last_rec() { ls -t "$T/$1"/dump-*-dec.wav 2>/dev/null | head -n 1; }
# NODE: the call records on NODE as JSON lines (cdr --json)
cdr_json() { nn_ctl "$1" cdr --json --last 100 > "$T/cdr.$1.json" 2>> "$T/ctl.err"; }

bs_start p101 101-tfg 5064 5065 "$T/tone440.wav" ";answermode=auto"
bs_start p100 100-tfg 5062 5063 "$T/tone1000.wav" ""
nn_wait 20 "101-tfg registered on $act (baresip)" registered "$act" 101-tfg
nn_wait 20 "100-tfg registered on $act (baresip)" registered "$act" 100-tfg
nn_wait 10 "baresip 100-tfg's ctrl_tcp" ctrl_up p100
nn_wait 10 "baresip 101-tfg's ctrl_tcp" ctrl_up p101
cid100=$(reg_callid "$act" 100-tfg) cid101=$(reg_callid "$act" 101-tfg)
r100=$(reg_sent p100) r101=$(reg_sent p101)
nn_wait 10 "both bindings replicated to $other" registered "$other" 101-tfg
registered "$other" 100-tfg || nn_fail "100-tfg's binding not on the standby $other"
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

# 3. a call up at the kill -9 of the active
call_start "$act" cut
sleep 2
v=$act s=$other
k=$(now_ns)
kill -KILL "${NN_TPID[$v]}"
wait "${NN_TPID[$v]}" 2>/dev/null
nn_wait 10 "$s ACTIVE after kill -9 of $v" nn_is "$s" ACTIVE
nn_wait 10 "$s holds the VIP" nn_has_vip "$s"
nn_note "ok: kill -9 of $v with a call up: $s ACTIVE after $(( ($(now_ns) - k) / 1000000 )) ms"
nn_wait 10 "the cut call's record on $s (log line 'cut by failover')" \
	grep -q 'cut by failover' "$T/$s.log"
# the call is not carried over: the new active lists none
no_calls "$s" || nn_fail "[cut] $s lists calls after the takeover: $(calls_states "$s")"
cdr_json "$s" || nn_fail "[cut] tandemctl cdr --json on $s: $(tail -n 2 "$T/ctl.err")"
python3 - "$T/cdr.$s.json" "$v" "$T/cdr.seen" "$s" > "$T/cut.check" <<'EOF' ||
import json, sys
seen = set(open(sys.argv[3]).read().split())
new = [r for r in json.load(open(sys.argv[1]))["cdr"]
       if r["uniqueid"] not in seen and r["src"] == "100-tfg" and r["dst"] == "101"]
cut = [r for r in new if r["uniqueid"].startswith(sys.argv[2] + "-")]
if len(cut) != 1 or len(new) != 1 or cut[0]["disposition"] != "ANSWERED":
    print("expected one new record 100-tfg -> 101, ANSWERED, by %s (not by %s): %s"
          % (sys.argv[2], sys.argv[4], new))
    sys.exit(1)
with open(sys.argv[3], "a") as f:
    f.write(cut[0]["uniqueid"] + "\n")
print("%s ANSWERED billsec %d" % (cut[0]["uniqueid"], cut[0]["billsec"]))
EOF
	nn_fail "[cut] the cut call's record on $s: $(cat "$T/cut.check")"
grep -q "$(cut -d' ' -f1 "$T/cut.check").*cut by failover" "$T/$s.log" ||
	nn_fail "[cut] no 'cut by failover' line for $(cut -d' ' -f1 "$T/cut.check") in $s.log"
nn_note "ok: [cut] the call up at the kill is recorded on $s as cut by failover: $(cat "$T/cut.check")"
# the phones still think the call is up and keep sending: 3 s more, then
# end it on both (the BYEs reach a node that never knew the call)
sleep 3
bctl p100 hangup > /dev/null
bctl p101 hangup > /dev/null
sleep 1
# each phone heard the other's tone until the kill, then nothing: what it
# received (dec) is shorter than what it sent (enc) by the 3 s or more it
# stayed in the dead call
for p in p100:440:1000 p101:1000:440; do
	IFS=: read -r ph hz own <<< "$p"
	dec=$(last_rec "$ph") enc=${dec%-dec.wav}-enc.wav
	[ -n "$dec" ] && [ "$dec" != "$([ "$ph" = p100 ] && echo "${PREV100:-}" || echo "${PREV101:-}")" ] ||
		nn_fail "[cut] $ph recorded nothing of the cut call: $(ls "$T/$ph")"
	python3 "$AUDIO_DIR/tone_check.py" "$dec" "$hz" --other "$own" --min-seconds 1 > "$T/tone.cut.$ph" ||
		nn_fail "[cut] $ph did not hear $hz Hz before the kill: $(cat "$T/tone.cut.$ph")"
	gap=$(python3 -c 'import sys, wave
d = [wave.open(f).getnframes() / 8000.0 for f in sys.argv[1:]]
print("%.2f %.2f" % (d[0], d[1]))' "$dec" "$enc") || nn_fail "[cut] cannot read $dec, $enc"
	read -r ddec denc <<< "$gap"
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) >= 2.5 else 1)' "$ddec" "$denc" ||
		nn_fail "[cut] $ph received $ddec s of audio and sent $denc s: audio went on after the kill"
	nn_note "ok: [cut] $ph heard $hz Hz until the kill, then nothing: received $ddec s, sent $denc s"
done
PREV100=$(last_rec p100) PREV101=$(last_rec p101)

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
