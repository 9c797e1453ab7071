#!/bin/bash
# "Two nodes, one floating address, nothing lost" (docs/failover.md): the
# netns cluster of lib_netns.sh with keepalived, under load from tc:
#  - REGISTER load: SIPp (register_load.xml) registers users u2000-u2049
#    in turn through the VIP, REG_RATE per second, all along;
#  - call load: SIPp (call_uac_load.xml) calls 101-tfg through the VIP,
#    CALL_RATE per second, CALL_HOLD ms each; a SIPp UAS in tc answers as
#    101-tfg (registered from its port first);
#  - voicemail load: SIPp (vm_uac_load.xml) leaves a message in box tfg
#    (VoiceMail(tfg@default,s)), one every VM_PERIOD ms: espeak-ng speech, then
#    '#'; the call counts as acknowledged when VoiceMail() thanked the
#    caller (only once the message is durable) and hung up;
#  - ROUNDS times (default 4; the issue says 20: ROUNDS=20): kill -9 of the
#    active, alternating nodes; the other takes over; the killed one is
#    restarted and must rejoin as STANDBY (keepalived BACKUP) before the
#    next round.
# At the end, with the load stopped: every user whose REGISTER got a 200
# is registered on the final active, with that REGISTER's Call-ID or a
# later one of that user (only the latest matters); every call SIPp saw
# complete (BYE answered 200) has exactly one call record (its clid names
# the call), no uniqueid twice; every acknowledged voicemail is in the
# final active's INBOX (its .txt names the caller) and plays (a WAV of at
# least half a second), and the standby holds the same files; the standby
# is in sync and the digests of both nodes are equal. The figures are
# printed (nn_note).
# Needs root, keepalived, sipp. Label: cluster.
. "$(dirname "$0")/lib_netns.sh"
ROUNDS=${ROUNDS:-4} REG_RATE=${REG_RATE:-20} CALL_RATE=${CALL_RATE:-2} CALL_HOLD=${CALL_HOLD:-300}
VM_PERIOD=${VM_PERIOD:-1000}
SC=$NN_DIR/sipp
CL=10.0.0.10
command -v sipp > /dev/null || nn_skip "needs sipp"
for t in espeak-ng sox; do command -v $t > /dev/null || nn_skip "needs $t"; done

nn_require
nn_net
for n in a b; do
	nn_conf "$n"
	c=$T/c$n
	{
		printf '[general]\nudpbindaddr=0.0.0.0:5060\nrealm=tandem\n\n'
		for p in 100-tfg 101-tfg $(seq -f 'u%g' 2000 2049); do
			printf '[%s]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\nqualify=no\n\n' "$p"
		done
	} > "$c/sip.conf"
	printf '[default]\nexten => 101-tfg,1,Dial(SIP/101-tfg,10)\n same => n,Hangup()\n%s\n' \
		'exten => 502,1,VoiceMail(tfg@default,s)
 same => n,Hangup()' > "$c/extensions.conf"
	printf '[general]\nformat = wav\nminsecs = 1\nmaxmsg = 9999\n\n[default]\ntfg => 2020,TFG\n' \
		> "$c/voicemail.conf"
done
nn_pair_up

{ echo SEQUENTIAL; seq -f 'u%g;tf2020' 2000 2049; } > "$T/users.csv"
printf 'SEQUENTIAL\n101-tfg;tf2020\n' > "$T/callee.csv"
printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$T/caller.csv"
# sipp_tc NAME SECS ARGS...: SIPp in tc, in $T/NAME (its logs land there)
sipp_tc() {
	local name=$1 secs=$2; shift 2
	mkdir -p "$T/$name"
	( cd "$T/$name" && exec ip netns exec "$NS_C" timeout -k 3 "$secs" sipp -nostdin \
		-trace_err -trace_logs "$@" ) > "$T/$name/out" 2>&1
}
# sipp_bg NAME SECS ARGS...: the same in the background; BG = the PID of
# timeout (the subshell execs ip, which execs it): stopping it stops SIPp
sipp_bg() {
	local name=$1 secs=$2; shift 2
	mkdir -p "$T/$name"
	( cd "$T/$name" && exec ip netns exec "$NS_C" timeout -k 3 "$secs" sipp -nostdin \
		-trace_err -trace_logs "$@" ) > "$T/$name/out" 2>&1 &
	BG=$!
	NN_PIDS+=("$BG")
}
# sipp_quit PID: SIGUSR1 to the SIPp under that timeout (no new calls, exit
# once the calls in progress end), at most 15 s, then stopped
sipp_quit() {
	local c w
	c=$(pgrep -P "$1" | head -1)            # timeout's SIPp
	[ -n "$c" ] && kill -USR1 "$c" 2>/dev/null
	for w in $(seq 1 150); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	nn_stop_pid "$1" 1 > /dev/null 2>&1
}
sipp_tc reg101 20 -sf "$TANDEM_SRC/tests/e2e/sipp/register_auth.xml" -inf "$T/callee.csv" \
	-i $CL -p 5070 -m 1 "$VIP:5060" || nn_fail "REGISTER of 101-tfg failed"
LONG=$(( ROUNDS * 40 + 120 ))
sipp_bg uas "$LONG" -sf "$TANDEM_SRC/tests/e2e/sipp/call_uas.xml" -i $CL -p 5070
UAS=$BG
sipp_bg reg "$LONG" -sf "$SC/register_load.xml" -inf "$T/users.csv" -i $CL -p 5090 \
	-r "$REG_RATE" -max_retrans 4 "$VIP:5060"
REG=$BG
sipp_bg uac "$LONG" -sf "$SC/call_uac_load.xml" -inf "$T/caller.csv" -i $CL -p 5080 \
	-s 101-tfg -r "$CALL_RATE" -d "$CALL_HOLD" -max_retrans 4 "$VIP:5060"
UAC=$BG
mkdir -p "$T/vm"
espeak-ng -w "$T/vm/speech.22k.wav" "Please call me back soon." 2>/dev/null &&
	sox "$T/vm/speech.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$T/vm/speech.wav" ||
	nn_fail "cannot make the voicemail speech"
VM_HASH_MS=$(python3 -c "print(int(($(sox --i -D "$T/vm/speech.wav") + 0.3) * 1000))")
python3 "$TANDEM_SRC/tests/e2e/audio/mkvoice.py" "$T/vm/vm.pcap" "$T/vm/speech.wav" 0x564d5643 \
	"$(python3 -c "print($VM_HASH_MS / 1000.0)")" || nn_fail "mkvoice"
sipp_bg vm "$LONG" -sf "$SC/vm_uac_load.xml" -inf "$T/caller.csv" -i $CL -p 5085 \
	-s 502 -r 1 -rp "$VM_PERIOD" -l 20 -mp 6300 -max_retrans 4 "$VIP:5060"
VMC=$BG
sleep 3

for i in $(seq 1 "$ROUNDS"); do
	v=$(nn_active)
	[ -n "$v" ] || nn_fail "no active node before round $i"
	s=$([ "$v" = a ] && echo b || echo a)
	k=$(now_ns)
	kill -KILL "${NN_TPID[$v]}"
	wait "${NN_TPID[$v]}" 2>/dev/null
	nn_wait 10 "$s ACTIVE after kill -9 of $v (round $i)" nn_is "$s" ACTIVE
	t=$(( ($(now_ns) - k) / 1000000 ))
	kb=$(nn_ka_count "$v" BACKUP)
	nn_start "$v"
	nn_wait 30 "$v back as STANDBY (round $i)" nn_is "$v" STANDBY
	nn_wait 10 "$v's keepalived BACKUP again (round $i)" nn_rejoined "$v" "$kb"
	nn_note "round $i: kill -9 of $v, $s ACTIVE after $t ms, $v STANDBY again after $(( ($(now_ns) - k) / 1000000 )) ms"
	sleep 2
done

# stop the load, then the callee
sipp_quit "$REG"
sipp_quit "$UAC"
sipp_quit "$VMC"
nn_stop_pid "$UAS" 1 > /dev/null 2>&1   # the callee: nothing left to answer
f=$(nn_active)
[ -n "$f" ] || nn_fail "no active node at the end"
o=$([ "$f" = a ] && echo b || echo a)
nn_wait 20 "$o STANDBY at the end" nn_is "$o" STANDBY

cat "$T"/uac/*_logs.log > "$T/calls.done" 2>/dev/null
cat "$T"/vm/*_logs.log > "$T/vm.done" 2>/dev/null
nn_reg_check "$f" 1

python3 - "$T/calls.done" "$T/d$f/cdr.db" > "$T/cdr.check" <<'EOF' || nn_fail "call records: $(cat "$T/cdr.check")"
import re, sqlite3, sys
done = set()
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 2 and f[0] == "DONE":
        done.add(f[1])
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[2], uri=True, timeout=5)
rows = db.execute("SELECT clid, uniqueid FROM cdr").fetchall()
uids = [u for _, u in rows]
per = {}
for clid, _ in rows:
    m = re.match(r'"(c\d+)"', clid or "")
    if m:
        per[m.group(1)] = per.get(m.group(1), 0) + 1
missing = sorted(c for c in done if per.get(c, 0) == 0)
twice = sorted(c for c in done if per.get(c, 0) > 1)
if not done or missing or twice or len(set(uids)) != len(uids):
    print("%d calls completed, %d records (%d distinct uniqueids); without a record: %s; "
          "more than one: %s" % (len(done), len(rows), len(set(uids)), missing[:10], twice[:10]))
    sys.exit(1)
print("%d calls completed, each with exactly one call record; %d records in all "
      "(calls cut by a kill included), no uniqueid twice" % (len(done), len(rows)))
EOF
nn_note "ok: $(cat "$T/cdr.check")"

BOX=voicemail/default/tfg/INBOX
python3 - "$T/vm.done" "$T/d$f/$BOX" "$VM_HASH_MS" > "$T/vm.check" <<'EOF' || nn_fail "voicemail: $(cat "$T/vm.check")"
import glob, os, re, sys, wave
ans, done, early = {}, set(), 0
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3 and f[0] == "ANS":
        ans[f[1]] = int(f[2])
    elif len(f) >= 3 and f[0] == "DONE" and f[1] in ans:
        if int(f[2]) - ans[f[1]] >= int(sys.argv[3]):
            done.add(f[1])     # ended after its '#': the message was taken
        else:
            early += 1
have, bad = {}, []
for txt in glob.glob(os.path.join(sys.argv[2], "msg*.txt")):
    m = re.search(r'^callerid="(v\d+)"', open(txt, errors="replace").read(), re.M)
    if not m:
        continue
    w = txt[:-4] + ".wav"
    try:
        with wave.open(w) as r:
            secs = r.getnframes() / float(r.getframerate())
    except Exception as e:
        secs = -1
    have[m.group(1)] = have.get(m.group(1), 0) + 1
    if m.group(1) in done and secs < 0.5:
        bad.append("%s (%s: %.2f s)" % (m.group(1), os.path.basename(w), secs))
missing = sorted(v for v in done if v not in have)
twice = sorted(v for v in done if have.get(v, 0) > 1)
if not done or missing or twice or bad:
    print("%d voicemails acknowledged; not in the INBOX: %s; twice: %s; not playable: %s" %
          (len(done), missing[:10], twice[:10], bad[:10]))
    sys.exit(1)
print("%d voicemails acknowledged, each in the INBOX once and playable; %d messages in all; "
      "%d calls ended before their '#'" % (len(done), len(glob.glob(os.path.join(sys.argv[2], "msg*.txt"))), early))
EOF
nn_note "ok: $(cat "$T/vm.check")"
vm_same() { diff -r "$T/d$f/voicemail" "$T/d$o/voicemail" > "$T/vm.diff" 2>&1; }
nn_wait 20 "the standby $o holds the same voicemail files" vm_same

digest() { nn_ctl "$1" cluster digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stores"])'; }
same() { [ "$(digest "$f")" = "$(digest "$o")" ]; }
nn_wait 10 "digests of $f and $o equal" same
ru=$(grep -c . "$T/reg.200"); cu=$(grep -c . "$T/calls.done"); vu=$(grep -c '^DONE' "$T/vm.done")
nn_note "ok: $ROUNDS kills, digests of $f and $o equal"
nn_note "figures: rounds=$ROUNDS registers_200=$ru calls_completed=$cu voicemails_acknowledged=$vu"
exit 0
