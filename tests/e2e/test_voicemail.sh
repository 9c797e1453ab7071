#!/bin/bash
# Voicemail on real calls (issue 4, item 5): VoiceMail leaves a message,
# VoiceMailMain plays it back and moves it to Old, the mailbox's phone
# gets MWI yes then no.
#
#   500: VoiceMail(tfg@default,u): the spool's unavail.wav greeting (made
#        here with espeak-ng), vm-intro, beep; the SIPp caller (100-tfg)
#        plays a capture written here: ~3 s of speech (espeak-ng, A-law
#        RTP) then '#' (RFC 4733); Tandem plays auth-thankyou and hangs up.
#        INBOX/msg0000.wav must last about as long as the speech and
#        msg0000.txt name the caller.
#   501: VoiceMailMain(tfg@default): PIN 2020 '#', 1 (play), '#' (next),
#        '#' (goodbye). The message must have been sent to the caller (RTP
#        packets received well beyond the prompts alone) and be in Old.
#   502: VoiceMail(tfg@default,s) where the caller hangs up while
#        recording: the message is kept (as Asterisk).
#   101-tfg (mailbox=tfg@default) registers and must get NOTIFY
#   Messages-Waiting no, yes 1/0, no 0/1 (vm_mwi_uas.xml).
#   Last, as root, the box on a full tmpfs: the recording fails with a
#   log line and no msg* file is left.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp espeak-ng sox

. "$(dirname "$0")/lib_call.sh"
AUDIO=$E2E_DIR/audio
EN=/usr/share/asterisk/sounds/en_US_f_Allison
[ -f "$EN/vm-intro.wav" ] || skip "Debian's English sounds are not installed ($EN)"

secs_of() { sox --i -D "$1"; }
fadd() { python3 -c 'import sys; print(sum(float(a) for a in sys.argv[1:]))' "$@"; }
ms_of() { python3 -c 'import sys; print(int(float(sys.argv[1]) * 1000))' "$1"; }


# ---------------------------------------------------------------- config
conf_sip_general realm=tandem
conf_sip_peer 100-tfg context=vm language=en qualify=no
conf_sip_peer 101-tfg context=vm qualify=no mailbox=tfg@default
cat > "$CONF/voicemail.conf" <<'EOF'
[general]
format = wav
minsecs = 1

[default]
tfg => 2020,TFG Empresa
EOF
cat > "$CONF/extensions.conf" <<'EOF'
[general]
static=yes
writeprotect=yes

[vm]
exten => 500,1,VoiceMail(tfg@default,u)
 same => n,NoOp(outcome=${VMSTATUS})
 same => n,Hangup()
exten => 501,1,VoiceMailMain(tfg@default)
 same => n,Hangup()
exten => 502,1,VoiceMail(tfg@default,s)
 same => n,Hangup()
EOF
SPOOL=$DATA/voicemail/default/tfg
mkdir -p "$SPOOL"
espeak-ng -w "$T/greet.22k.wav" "Please leave a message." 2>/dev/null || fail "espeak-ng"
sox "$T/greet.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$SPOOL/unavail.wav" || fail "sox"
espeak-ng -w "$T/speech.22k.wav" "Hello, this is a test message for the voicemail of the company." \
	2>/dev/null || fail "espeak-ng"
sox "$T/speech.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$T/speech.wav" || fail "sox"
SPEECH=$(secs_of "$T/speech.wav")
GREET=$(fadd "$(secs_of "$SPOOL/unavail.wav")" "$(secs_of "$EN/vm-intro.wav")" "$(secs_of "$EN/beep.wav")")
note "greeting $GREET s, speech $SPEECH s"

tandem_start
grep -q "VoiceMail.*is not available\|is not available.*VoiceMail" "$E2E_LOG" &&
	fail "the dialplan's load says VoiceMail is missing"
UAC_PORT=$(free_port) PHONE_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg

# ---- the mailbox's phone registers: NOTIFY no
sipp_register_ok reg101 101-tfg tf2020 "$PHONE_PORT"
UAS_PORT=$PHONE_PORT UAS_PEER=101-tfg uas_start vm_mwi vm_mwi_uas.xml 1
PHONE_PID=$UAS_PID
notified() { [ "$(grep -c '^NOTIFY ' "$T/sipp.vm_mwi.msg" 2>/dev/null)" -ge "$1" ]; }
wait_until 15 "101-tfg told Messages-Waiting: no" notified 1

# call NAME EXTEN PAUSE_MS SCENARIO: one call from 100-tfg playing $T/digits.pcap
# (CALL_MAYFAIL=1: Tandem may end it before SIPp expects)
call() {
	local name=$1 exten=$2 pause=$3 sc=$4 rport mport sink rc=0
	rport=$(free_port) mport=$(free_port)
	bg "sink.$name" python3 "$AUDIO/rtp_sink.py" "$rport" "$T/$name" 90
	sink=$BG_PID
	wait_until 10 "$name: the RTP receiver listening" test -f "$T/$name.ready"
	sipp_run "$name" 90 -sf "$SIPP_DIR/$sc" -inf "$T/caller.csv" -i "$SIP_ADDR" \
		-p "$UAC_PORT" -mp "$mport" -key rtpport "$rport" -d "$pause" -s "$exten" -m 1 \
		"$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
	kill -TERM "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	[ $rc = 0 ] || [ "${CALL_MAYFAIL:-0}" = 1 ] || { sipp_fail_details "$name"; tail -n 30 "$E2E_LOG" >&2
		fail "$name: the call to $exten failed (SIPp exited $rc)"; }
}

# ---- 1. leave a message
SPEAK_AT=$(ms_of "$(fadd "$GREET" 1)")
mkvoice "$T/digits.pcap" "$T/speech.wav" "$(fadd "$SPEECH" 0.5)"
call leave 500 "$SPEAK_AT" ivr_uac.xml
[ -f "$SPOOL/INBOX/msg0000.wav" ] || { ls -lR "$SPOOL" >&2; tail -n 30 "$E2E_LOG" >&2
	fail "no INBOX/msg0000.wav after VoiceMail"; }
[ -f "$SPOOL/INBOX/msg0000.txt" ] || fail "no INBOX/msg0000.txt"
DUR=$(secs_of "$SPOOL/INBOX/msg0000.wav")
python3 -c 'import sys; d, s = map(float, sys.argv[1:]); sys.exit(0 if s - 1 <= d <= s + 2.5 else 1)' \
	"$DUR" "$SPEECH" || fail "msg0000.wav lasts $DUR s; the caller spoke $SPEECH s"
assert_file_match "$SPOOL/INBOX/msg0000.txt" '^callerid=.*100-tfg' "the caller id in msg0000.txt"
assert_file_match "$SPOOL/INBOX/msg0000.txt" '^duration=[0-9]+' "the duration in msg0000.txt"
assert_file_match "$SPOOL/INBOX/msg0000.txt" '^origmailbox=tfg' "origmailbox in msg0000.txt"
[ -z "$(ls -A "$SPOOL/tmp" 2>/dev/null)" ] || fail "BOX/tmp not empty: $(ls "$SPOOL/tmp")"
ok "VoiceMail(tfg@default,u): INBOX/msg0000.wav ($DUR s for $SPEECH s spoken) + .txt with the caller id"
wait_until 10 "101-tfg told Messages-Waiting: yes 1/0" notified 2
ok "MWI: Messages-Waiting: yes after the message"

# ---- 2. listen to it
python3 "$AUDIO/mkdtmf.py" "$T/digits.pcap" "0.5:2,0.8:0,1.1:2,1.4:0,1.7:#,4:1,$(python3 -c "print(4.5 + $DUR + 2)"):#,$(python3 -c "print(4.5 + $DUR + 4)"):#"
call listen 501 500 ivr_uac.xml
if [ ! -f "$SPOOL/Old/msg0000.wav" ] || [ ! -f "$SPOOL/Old/msg0000.txt" ]; then
	ls -lR "$SPOOL" >&2; tail -n 30 "$E2E_LOG" >&2; fail "the message is not in Old after VoiceMailMain"
fi
left=$(find "$SPOOL/INBOX" -name 'msg*' | wc -l)
[ "$left" = 0 ] || fail "INBOX not empty: $(ls "$SPOOL/INBOX")"
PK=$(jq_py "$T/listen.json" 'd["pcma"]')
MSGPK=$(python3 -c "print(int($DUR * 50))")
[ "$PK" -ge "$MSGPK" ] || fail "the caller got $PK audio packets; the message alone is $MSGPK"
grep -q "message 0 heard" "$E2E_LOG" || fail "no 'message 0 heard' in the log"
# the message itself reached the caller: some 20 ms frame of what it got
# starts 1 s of audio that correlates with the message's first second
HEARD=$(python3 - "$T/listen.raw" "$SPOOL/Old/msg0000.wav" <<'EOF2'
import math, struct, sys, wave
raw = open(sys.argv[1], 'rb').read()
got = struct.unpack('<%dh' % (len(raw) // 2), raw)
w = wave.open(sys.argv[2], 'rb')
msg = struct.unpack('<%dh' % w.getnframes(), w.readframes(w.getnframes()))
# skip leading silence of the message, compare 8000 samples from a frame start
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
best = max((corr(got[k:k + len(ref)], ref), k // 160) for k in range(0, max(len(got) - len(ref), 0), 160))
print('%.3f@%d' % best)
EOF2
)
note "best match of the message in what the caller received: corr@frame $HEARD"
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1].split("@")[0]) >= 0.9 else 1)' "$HEARD" \
	|| fail "the message's audio is not in what the caller received (best corr $HEARD)"
ok "VoiceMailMain: PIN, 1 plays the message (heard: corr@frame $HEARD, $PK packets), moved to Old/msg0000"
wait_until 10 "101-tfg told Messages-Waiting: no 0/1" notified 3
sipp_wait vm_mwi "$PHONE_PID" "101-tfg's NOTIFYs (no, yes 1/0, no 0/1)"
ok "MWI: Messages-Waiting no, yes 1/0, no 0/1 checked by the phone"

# ---- 3. the caller hangs up while recording: the message is kept
SKIPGREET=$(secs_of "$EN/beep.wav")   # s, neither u nor b: the beep alone (as app_voicemail)
mkvoice "$T/digits.pcap" "$T/speech.wav"
call hangup 502 "$(ms_of "$(fadd "$SKIPGREET" 1)")" vm_uac_hangup.xml
wait_until 5 "INBOX/msg0000 after the hang-up" test -f "$SPOOL/INBOX/msg0000.txt"
[ -f "$SPOOL/INBOX/msg0000.wav" ] || fail "msg0000.txt without its .wav"
ok "a caller hanging up while recording leaves a message ($(secs_of "$SPOOL/INBOX/msg0000.wav") s)"
[ -z "$(ls -A "$SPOOL/tmp" 2>/dev/null)" ] || fail "BOX/tmp not empty: $(ls "$SPOOL/tmp")"

# ---- 4. a full disk while recording: FAILED, a log line, no partial message
# (the box on a small tmpfs the test mounts and fills; root only)
if mount -t tmpfs -o size=256k tmpfs "$SPOOL" 2>"$T/mount.err"; then
	trap 'rc=$?; mountpoint -q "$SPOOL" && umount "$SPOOL"; (exit $rc); e2e_cleanup' EXIT
	mkdir -p "$SPOOL/INBOX" "$SPOOL/Old" "$SPOOL/Urgent" "$SPOOL/tmp"
	dd if=/dev/zero of="$SPOOL/filler" bs=4k >/dev/null 2>&1 || true
	note "disk full: $(df -h "$SPOOL" | tail -1)"
	mkvoice "$T/digits.pcap" "$T/speech.wav" "$(fadd "$SPEECH" 0.5)"
	CALL_MAYFAIL=1 call full 502 "$(ms_of "$(fadd "$SKIPGREET" 1)")" ivr_uac.xml
	FAILRE='tfg@default: (the recording failed|nothing recorded|cannot start recording)'
	wait_until 5 "the failed recording in the log" grep -Eq "$FAILRE" "$E2E_LOG"
	[ -z "$(find "$SPOOL" -name 'msg*')" ] || fail "a message file on a full disk: $(find "$SPOOL" -name 'msg*')"
	[ -z "$(ls -A "$SPOOL/tmp")" ] || fail "tmp not empty on a full disk: $(ls "$SPOOL/tmp")"
	ok "full disk: '$(grep -Em1 "$FAILRE" "$E2E_LOG" | sed 's/.*WARNING: //')', no message files"
	umount "$SPOOL"
else
	note "SKIP the full-disk case: cannot mount a tmpfs ($(cat "$T/mount.err"))"
fi

assert_alive "after the voicemail calls"
tandem_stop_checked
