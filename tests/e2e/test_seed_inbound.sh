#!/bin/bash
# The seed's inbound line end to end (issue "The business line"): the
# daemon runs the seed's own files (examples/tfg, identical to
# ../shared/reference-config/seed for the dialplan), the provider's trunk
# (SIPp, [trunk-tfg] insecure=port,invite, context=in-tfg) calls the DID
# 997452141 at dialplan times set with --fake-time, and SIPp phones play
# the queue member and the phone with the mailbox.
#
# 1. As printed, on a weekday at 10:00: macro-tfg-festivos' 'abierto'
#    jumps to ${MACRO_PRIORITY} + 1] = "3 + 1]", which Asterisk's Goto
#    reads as priority 3 (sscanf stops at the blank): Macro(tfg-festivos)
#    again, a loop that never reaches the welcome prompt (Asterisk spins
#    until the caller hangs up; Tandem cuts it after DP_LOOP_MAX steps and
#    hangs up). The load warnings name each defect by FILE:LINE.
# 2. The admin's minimal fixes (docs/configure.md, "Migrating the seed"),
#    made here with sed and printed: $[...] in both macros, Queue's '('
#    and its timeout as the 5th argument, an extension for VoiceMailMain,
#    mailbox= on 101-tfg. The prompts the seed names but does not ship
#    (bienvenidaTFG, fuera_horario, festividadlocal) are made with
#    espeak-ng.
#    - Thu 19 March 10:00 (as printed, 19 March is never a holiday: the
#      1 January check jumps either way): the welcome prompt heard (packet
#      count and correlation with the file), the queue rings 100-tfg (a
#      SIPp UAS) which answers, then hangs up.
#    - Tue 15:00 and Sat 10:00: fuera_horario heard, hung up.
#    - Thu 1 January 10:00: festividadlocal and VoiceMail's beep heard;
#      '#' at once leaves no message.
#    - Tue 10:00, 101-tfg rings and never answers (100-tfg is away): after
#      Queue's timeout the caller leaves a message (speech, '#'); 101-tfg,
#      subscribed to its mailbox, gets Messages-Waiting yes; 100-tfg dials
#      *98, VoiceMailMain with PIN 2020 plays it (heard: correlation with
#      the message) and moves it to Old; 101-tfg gets Messages-Waiting no.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp espeak-ng sox

. "$(dirname "$0")/lib_call.sh"
AUDIO=$E2E_DIR/audio
EN=/usr/share/asterisk/sounds/en_US_f_Allison
[ -f "$EN/beep.wav" ] || skip "Debian's English sounds are not installed ($EN)"
DID=997452141

secs_of() { sox --i -D "$1"; }
fadd() { python3 -c 'import sys; print(sum(float(a) for a in sys.argv[1:]))' "$@"; }
ms_of() { python3 -c 'import sys; print(int(float(sys.argv[1]) * 1000))' "$1"; }
frames_of() { python3 -c 'import wave,sys; w=wave.open(sys.argv[1]); print(-(-w.getnframes()//160))' "$1"; }

# say FILE TEXT: a Spanish prompt, 8 kHz mono 16-bit
say() {
	espeak-ng -v es -w "$T/say.22k.wav" "$2" 2>/dev/null || fail "espeak-ng could not say '$2'"
	sox "$T/say.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$1" || fail "sox: $1"
}


# heard NAME MINCORR WAV...: NAME's received audio starts with the WAVs
heard() {
	local name=$1 min=$2 out corr; shift 2
	out=$(python3 "$AUDIO/rtp_compare.py" "$T/$name.raw" "$@") || fail "$name: rtp_compare.py failed"
	note "$name: $out"
	corr=${out#*corr=}; corr=${corr%% *}
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' \
		"$corr" "$min" || fail "$name: the audio received does not match $* ($out)"
}
pcma_frames() { jq_py "$T/$1.json" 'd["pcma"]'; }
at_least() { [ "$1" -ge "$2" ] || fail "$3: $1, expected at least $2"; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "$4: $1, expected $2..$3"; }

# call NAME UAC_SCENARIO CSV EXTEN PAUSE_MS: one call playing $T/digits.pcap
# after PAUSE_MS; Tandem must end it with a BYE. Audio in $T/NAME.raw/.json.
# SINK_PCAP=FILE: the receiver itself sends FILE back (symmetric RTP, for
# the seed's phones: nat=force_rport,comedia answers where they send from)
call() {
	local name=$1 sc=$2 csv=$3 exten=$4 pause=$5 rport mport sink rc=0
	rport=$(free_port) mport=$(free_port)
	bg "sink.$name" python3 "$AUDIO/rtp_sink.py" "$rport" "$T/$name" 170 ${SINK_PCAP:+"$SINK_PCAP"}
	sink=$BG_PID
	wait_until 10 "$name: the RTP receiver listening" test -f "$T/$name.ready"
	sipp_run "$name" 170 -sf "$SIPP_DIR/$sc" -inf "$csv" -i "$SIP_ADDR" \
		-p "$(free_port)" -mp "$mport" -key rtpport "$rport" -d "$pause" -s "$exten" -m 1 \
		"$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
	kill -TERM "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	[ $rc = 0 ] || { sipp_fail_details "$name"; fail "$name: the call to $exten failed (SIPp exited $rc)"; }
	[ -f "$T/$name.json" ] || fail "$name: the RTP receiver left no result"
}
# trunk_call NAME: a call from the provider; the caller's audio and keys: $T/digits.pcap
trunk_call() { SINK_PCAP=$T/digits.pcap call "$1" seed_trunk_uac.xml "$T/trunk.csv" "$DID" 0; }

# start FAKE_TIME: the daemon on the current files, the dialplan's clock at FAKE_TIME
start() {
	tandem_start --fake-time "$1"
	note "dialplan clock: $(grep -o "clock reads [^(]*" "$E2E_LOG" | head -n 1)"
}
restart() { tandem_stop_checked; start "$1"; }

# ---------------------------------------------------------------- config: the seed as printed
conf_from_example 127.0.0.1
for f in dialplan/tfg/entrantes.dialplan dialplan/tfg/macros.dialplan dialplan/tfg/salientes.dialplan; do
	cmp -s "$CONF/$f" "$TANDEM_SRC/../shared/reference-config/seed/$f" 2>/dev/null ||
		[ ! -d "$TANDEM_SRC/../shared/reference-config" ] ||
		fail "examples/tfg/$f differs from the seed's (reference-config/seed/$f)"
done
# the provider's trunk: the seed names SIP/trunk-tfg (mor_tfg) but prints no peer
cat >> "$CONF/sip.conf" <<'EOF'

[trunk-tfg]
type=peer
host=127.0.0.1
insecure=port,invite
context=in-tfg
disallow=all
allow=alaw
dtmfmode=rfc2833
EOF
users_csv "$T/trunk.csv" 600123456
users_csv "$T/phone100.csv" 100-tfg
SND=$DATA/sounds/en/tfg
mkdir -p "$SND"
say "$SND/bienvenidaTFG.wav" "Bienvenido a TFG. En breve le atenderemos."
say "$SND/fuera_horario.wav" "Nuestro horario es de lunes a viernes, de nueve a dos y de cuatro a siete."
say "$SND/festividadlocal.wav" "Hoy es festivo. Deje su mensaje después de la señal."
WELCOME=$(frames_of "$SND/bienvenidaTFG.wav") CLOSED=$(frames_of "$SND/fuera_horario.wav")
HOLIDAY=$(frames_of "$SND/festividadlocal.wav") BEEP=$(frames_of "$EN/beep.wav")
note "prompts (frames of 20 ms): bienvenidaTFG $WELCOME, fuera_horario $CLOSED, festividadlocal $HOLIDAY, beep $BEEP"
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$T/quiet.wav" trim 0 0.2 || fail "sox: silence"

# ---------------------------------------------------------------- 1. the seed as printed
start '2026-03-17 10:00'
for re in \
	"entrantes.dialplan:7: application 'Queue cola-tfg,,60\)' has no '\(': did you mean Queue\(cola-tfg,,60\)\?" \
	"entrantes.dialplan:7: Queue\(cola-tfg,,60\): '60' is the 3rd argument, the URL, not the timeout \(the 5th\): did you mean Queue\(cola-tfg,,,,60\)\?" \
	"macros.dialplan:8: broken expression '\\$\{\\$\{MACRO_PRIORITY\} \+ 1\]'" \
	"macros.dialplan:18: broken expression '\\$\{MACRO_PRIORITY\} \+ 1\]'" \
	"macros.dialplan:13: priorities 2-3 of s@macro-tfg-festivos can never run"; do
	assert_file_match "$E2E_LOG" "$re" "load warning /$re/"
done
ok "the seed's dialplan loads with a FILE:LINE warning for each defect (Queue without '(', its 60 as the URL, both \${..] expressions, the unreachable 19 Mar / 4 Apr checks)"
MKVOICE_SSRC=0x53454544
mkvoice "$T/digits.pcap" "$T/quiet.wav"
t0=$(now_ms)
trunk_call printed
el=$(( $(now_ms) - t0 ))
assert_file_match "$E2E_LOG" "dialplan loop cut after [0-9]+ steps" \
	"the festivos macro's Goto back to Macro(tfg-festivos), cut"
got=$(pcma_frames printed)
[ "$got" -lt "$WELCOME" ] || fail "as printed the welcome prompt must not play ($got packets)"
ok "as printed (Tue 10:00): macro-tfg-festivos jumps back to in-tfg priority 3 ('\${MACRO_PRIORITY} + 1]' = 3), Tandem cut the loop and hung up after $el ms (Asterisk spins until the caller hangs up); no welcome prompt"

# ---- with only the festivos macro fixed, macro-horario-tfg's
#      ${${MACRO_PRIORITY} + 1] is a variable named "4 + 1", empty: Goto
#      has no priority and the call hangs up (as Asterisk)
tandem_stop_checked
sed -i 's/,\${MACRO_PRIORITY} + 1\]/,$[${MACRO_PRIORITY} + 1]/' "$CONF/dialplan/tfg/macros.dialplan"
start '2026-03-17 10:00'
trunk_call horario
assert_file_match "$E2E_LOG" "macros.dialplan:[0-9]+: .*priority '' must be a number > 0" \
	"macro-horario-tfg's Goto with an empty priority"
got=$(pcma_frames horario)
[ "$got" -lt "$WELCOME" ] || fail "the welcome prompt must not play with macro-horario-tfg as printed ($got packets)"
ok "festivos fixed, horario as printed: '\${\${MACRO_PRIORITY} + 1]' is empty, Goto has no priority: hung up ($(grep -o "macros.dialplan:[0-9]*: .*priority '' must[^:]*" "$E2E_LOG" | head -n 1))"

# ---------------------------------------------------------------- 2. the admin's minimal fixes
tandem_stop_checked
note "the admin's fixes (docs/configure.md, 'Migrating the seed'):"
sed -i 's/\${\${MACRO_PRIORITY} + 1\]/$[${MACRO_PRIORITY} + 1]/' "$CONF/dialplan/tfg/macros.dialplan"
sed -i 's/Queue cola-tfg,,60)/Queue(cola-tfg,,,,60)/' "$CONF/dialplan/tfg/entrantes.dialplan"
sed -i '/^\[from-tfg\]/a exten => *98,1,VoiceMailMain(tfg@default)\n    same => n,Hangup()' \
	"$CONF/dialplan/tfg/salientes.dialplan"
sed -i '/^\[101-tfg\]/a mailbox=tfg@default' "$CONF/sip.conf"
for f in dialplan/tfg/entrantes.dialplan dialplan/tfg/macros.dialplan dialplan/tfg/salientes.dialplan sip.conf; do
	diff -u "$TANDEM_SRC/examples/tfg/$f" "$CONF/$f" | sed -n '3,$p' | grep '^[-+]' | sed "s|^|    $f: |"
done
grep -q 'Queue(cola-tfg,,,,60)' "$CONF/dialplan/tfg/entrantes.dialplan" || fail "sed: the Queue fix"
[ "$(grep -c '\$\[\${MACRO_PRIORITY} + 1\]' "$CONF/dialplan/tfg/macros.dialplan")" = 2 ] || fail "sed: the macro fixes"

# ---- a weekday at 10:00 (19 March, printed as a holiday but never reached):
#      the welcome prompt, then the queue; 100-tfg answers
start '2026-03-19 10:00'
for re in "has no '\('" "broken expression" "is the 3rd argument"; do
	grep -E "$re" "$E2E_LOG" && fail "a fixed line still warns: /$re/"
done
assert_file_match "$E2E_LOG" "macros.dialplan:13: priorities 2-3 of s@macro-tfg-festivos can never run" \
	"the 19 Mar / 4 Apr checks still warned (left as printed)"
P100=$(free_port)
sipp_register_ok reg100 100-tfg tf2020 "$P100"
# the seed's peers have qualify=yes: -aa answers the OPTIONS (SIPp counts
# them as calls, hence -m 5 and a stop once the caller is done)
UAS_PORT=$P100 UAS_PEER=100-tfg uas_start member call_uas_bye.xml 5 -d 2000 -aa
MEMBER=$UAS_PID
trunk_call open
stop_pid "$MEMBER" 2 || true
grep -q '^INVITE sip:100-tfg' "$T/sipp.member.msg" || fail "the queue never rang 100-tfg"
grep -q '^BYE ' "$T/sipp.member.msg" || { sipp_fail_details member; fail "100-tfg did not answer and hang up"; }
got=$(pcma_frames open)
at_least "$got" "$WELCOME" "weekday 10:00: packets before the member answered (the welcome is $WELCOME frames)"
heard open 0.9 "$SND/bienvenidaTFG.wav"
assert_file_match "$DATA/queue_log" "\|cola-tfg\|SIP/100-tfg\|CONNECT\|" "queue_log CONNECT of 100-tfg"
grep -q "loop cut" "$E2E_LOG" && fail "a dialplan loop with the fixed macros"
ok "Thu 19 Mar 10:00 (not a holiday, as in Asterisk): welcome heard ($got packets, correlates), queue cola-tfg rang 100-tfg, it answered (queue_log CONNECT) and hung up"

# ---- 15:00 on a weekday and 10:00 on a Saturday: closed
for when in '2026-03-17 15:00' '2026-03-21 10:00'; do
	restart "$when"
	name=closed-${when// /-}; name=${name//:/}
	trunk_call "$name"
	got=$(pcma_frames "$name")
	between "$got" $(( CLOSED - 3 )) $(( CLOSED + 5 )) "$when: packets (fuera_horario is $CLOSED frames)"
	heard "$name" 0.9 "$SND/fuera_horario.wav"
	ok "$when: the out-of-hours branch: fuera_horario heard ($got packets), hung up"
done

# ---- 1 January (a Thursday): the holiday branch: festividadlocal, then
#      VoiceMail(tfg@default,s): its beep, the caller speaks and presses '#'
restart '2026-01-01 10:00'
SPOOL=$DATA/voicemail/default/tfg
say "$T/short.wav" "Llamo en un día festivo."
HLEAD=$(fadd "$(secs_of "$SND/festividadlocal.wav")" "$(secs_of "$EN/beep.wav")" 1)
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$T/hlead.wav" trim 0 "$HLEAD" || fail "sox: lead silence"
sox "$T/hlead.wav" "$T/short.wav" "$T/htalk.wav" || fail "sox: lead + speech"
mkvoice "$T/digits.pcap" "$T/htalk.wav" "$(fadd "$HLEAD" "$(secs_of "$T/short.wav")" 0.5)"
trunk_call holiday
got=$(pcma_frames holiday)
at_least "$got" $(( HOLIDAY + BEEP - 3 )) "1 Jan: packets (festividadlocal $HOLIDAY + beep $BEEP frames)"
heard holiday 0.9 "$SND/festividadlocal.wav"
[ -f "$SPOOL/INBOX/msg0000.wav" ] || { ls -lR "$DATA/voicemail" >&2; fail "1 Jan: no message left in tfg@default"; }
ok "1 Jan 10:00: the holiday branch: festividadlocal heard ($got packets with the beep), VoiceMail(tfg@default,s) kept a $(secs_of "$SPOOL/INBOX/msg0000.wav") s message"
rm -f "$SPOOL"/INBOX/msg*   # the mailbox starts empty for the MWI part

# ---- a weekday at 10:00, nobody answers: voicemail, MWI, VoiceMailMain.
# Queue's timeout is 30 s for this call, not the fix's 60 (the calls
# above ran with the fix as printed): what it checks is that the 5th
# argument is read as the timeout, and 30 s (half a test-minute less)
# still spans two rings of 101-tfg (timeout=15, retry=5 in queues.conf)
QTIME=30
sed -i "s/Queue(cola-tfg,,,,60)/Queue(cola-tfg,,,,$QTIME)/" "$CONF/dialplan/tfg/entrantes.dialplan"
grep -q "Queue(cola-tfg,,,,$QTIME)" "$CONF/dialplan/tfg/entrantes.dialplan" || fail "sed: Queue's timeout $QTIME"
restart '2026-03-17 10:00'
P101=$(free_port) SUB=$(free_port)
users_csv "$T/sub.csv" 101-tfg
sipp_register_ok reg101 101-tfg tf2020 "$P101"
sipp_bg mwi 170 -sf "$SIPP_DIR/seed_mwi_subscribe.xml" -inf "$T/sub.csv" -i "$SIP_ADDR" \
	-p "$SUB" -s 101-tfg -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")"
MWI=$BG_PID
notified() { local n; n=$(grep -c '^NOTIFY ' "$T/sipp.mwi.msg" 2>/dev/null); [ "${n:-0}" -ge "$1" ]; }
wait_until 15 "101-tfg subscribed and told Messages-Waiting: no" notified 1
UAS_TIMEOUT=150 UAS_PORT=$P101 UAS_PEER=101-tfg uas_start ring call_uas_cancel.xml 10 -aa
RING=$UAS_PID
# 100-tfg is away: its registration of the call before points at a port
# nobody listens on any more
espeak-ng -v es -w "$T/speech.22k.wav" "Hola, soy un cliente. Llámenme, por favor, al seis cero cero." \
	2>/dev/null || fail "espeak-ng"
sox "$T/speech.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$T/speech.wav" || fail "sox"
SPEECH=$(secs_of "$T/speech.wav")
# the caller sends audio all along, as a phone does (Tandem hangs up a call
# with no RTP for rtptimeout, 60 s): silence through the welcome, the
# queue's $QTIME s and the beep, then it speaks and presses '#'
LEAD=$(fadd "$(secs_of "$SND/bienvenidaTFG.wav")" "$QTIME" "$(secs_of "$EN/beep.wav")" 1.5)
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$T/lead.wav" trim 0 "$LEAD" || fail "sox: lead silence"
sox "$T/lead.wav" "$T/speech.wav" "$T/talk.wav" || fail "sox: lead + speech"
mkvoice "$T/digits.pcap" "$T/talk.wav" "$(fadd "$LEAD" "$SPEECH" 0.5)"
t0=$(now_ms)
trunk_call novm
el=$(( $(now_ms) - t0 ))
stop_pid "$RING" 2 || true
rings=$(grep -c '^INVITE ' "$T/sipp.ring.msg" 2>/dev/null)
at_least "$rings" 2 "INVITEs to 101-tfg while the caller waited $QTIME s"
heard novm 0.9 "$SND/bienvenidaTFG.wav"
[ -f "$SPOOL/INBOX/msg0000.wav" ] && [ -f "$SPOOL/INBOX/msg0000.txt" ] ||
	{ ls -lR "$DATA/voicemail" >&2; fail "no INBOX/msg0000 after nobody answered"; }
DUR=$(secs_of "$SPOOL/INBOX/msg0000.wav")
python3 -c 'import sys; d, s = map(float, sys.argv[1:]); sys.exit(0 if s - 1 <= d <= s + 3.5 else 1)' \
	"$DUR" "$SPEECH" || fail "msg0000.wav lasts $DUR s; the caller spoke $SPEECH s"
assert_file_match "$SPOOL/INBOX/msg0000.txt" '^callerid=.*600123456' "the caller id in msg0000.txt"
assert_file_match "$DATA/queue_log" "\|cola-tfg\|NONE\|EXITWITHTIMEOUT\|" "queue_log EXITWITHTIMEOUT"
[ "$el" -ge $((QTIME * 1000)) ] || fail "the call ended after $el ms, before Queue's $QTIME s"
ok "Tue 10:00, 101-tfg rang $rings times unanswered: after the welcome and $QTIME s in cola-tfg (EXITWITHTIMEOUT) the caller left a message: msg0000.wav $DUR s for $SPEECH s spoken (call $el ms)"
wait_until 10 "101-tfg told Messages-Waiting: yes" notified 2
ok "MWI: 101-tfg (subscribed) told Messages-Waiting: yes, 1/0"

# ---- VoiceMailMain: 100-tfg dials *98, PIN 2020 '#', 1 (play), '#', '#'
python3 "$AUDIO/mkdtmf.py" "$T/digits.pcap" "0.5:2,0.8:0,1.1:2,1.4:0,1.7:#,4:1,$(fadd 4.5 "$DUR" 2):#,$(fadd 4.5 "$DUR" 4):#"
SINK_PCAP=$T/digits.pcap call listen ivr_uac_nokey.xml "$T/phone100.csv" '*98' 0
[ -f "$SPOOL/Old/msg0000.wav" ] || { ls -lR "$SPOOL" >&2; fail "the message is not in Old after VoiceMailMain"; }
[ -z "$(find "$SPOOL/INBOX" -name 'msg*')" ] || fail "INBOX not empty after listening"
HEARD=$(python3 - "$T/listen.raw" "$SPOOL/Old/msg0000.wav" <<'EOF'
import math, struct, sys, wave
raw = open(sys.argv[1], 'rb').read()
got = struct.unpack('<%dh' % (len(raw) // 2), raw)
w = wave.open(sys.argv[2], 'rb')
msg = struct.unpack('<%dh' % w.getnframes(), w.readframes(w.getnframes()))
s0 = next((i for i, x in enumerate(msg) if abs(x) > 500), 0) // 160 * 160
ref = msg[s0:s0 + 8000]
def corr(a, b):
    n = min(len(a), len(b))
    if n < 1000:
        return 0.0
    ma, mb = sum(a[:n]) / n, sum(b[:n]) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a[:n], b[:n]))
    va = math.sqrt(sum((x - ma) ** 2 for x in a[:n]))
    vb = math.sqrt(sum((y - mb) ** 2 for y in b[:n]))
    return cov / (va * vb) if va and vb else 0.0
best = max([(corr(got[k:k + len(ref)], ref), k // 160) for k in range(0, max(len(got) - len(ref), 0), 160)] or [(0.0, 0)])
print('%.3f@%d' % best)
EOF
)
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1].split("@")[0]) >= 0.9 else 1)' "$HEARD" \
	|| fail "the message's audio is not in what 100-tfg heard (best corr@frame $HEARD)"
ok "VoiceMailMain(tfg@default) from 100-tfg (*98): PIN 2020, 1 played the message (corr@frame $HEARD), moved to Old"
wait_until 10 "101-tfg told Messages-Waiting: no" notified 3
sipp_wait mwi "$MWI" "101-tfg's subscription (no 0/0, yes 1/0, no 0/1, unsubscribe)"
ok "MWI: 101-tfg told no 0/0, yes 1/0, then no 0/1; unsubscribed"

assert_alive "after the seed's inbound calls"
tandem_stop_checked
