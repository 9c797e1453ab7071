#!/bin/bash
# Bad media input (issue "The business line", "Bad input"): a corrupt
# wav and a DTMF flood give a clear log line and leave the call and the
# daemon unaffected. (A full voicemail disk and a caller hanging up while
# recording: test_voicemail.sh; a full recording disk: test_recording.sh.)
#
#   900: Playback(custom/garbage&custom/truncated&custom/good): garbage.wav
#        (random bytes) is named in a warning; truncated.wav (a header
#        claiming 2 s, 0.2 s of data) plays what it has; the good prompt
#        still reaches the caller (correlation), the dialplan goes on.
#   901: VoiceMail(tfg@default,u) with a corrupt unavail.wav greeting in
#        the spool: a warning naming it, the standard prompts instead, and
#        the caller's message is recorded all the same.
#   902: a SIPp caller sends 5,000 RFC 4733 key presses in 2 s into
#        Read(K,,4,,1,10): one warning about the flood, Read gets 4 keys,
#        the dialplan goes on, tandemctl answers during the flood, and no
#        sanitizer or crash.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp espeak-ng sox

. "$(dirname "$0")/lib_call.sh"
AUDIO=$E2E_DIR/audio
PYNP=/usr/bin/python3
$PYNP -c 'import numpy' 2>/dev/null || fail "python3-numpy is not installed (scripts/install-deps.sh test)"
EN=/usr/share/asterisk/sounds/en_US_f_Allison
[ -f "$EN/vm-intro.wav" ] || skip "Debian's English sounds are not installed ($EN)"

conf_sip_general realm=tandem
conf_sip_peer 100-tfg context=bad language=en qualify=no
cat > "$CONF/voicemail.conf" <<'EOF2'
[general]
format = wav
minsecs = 1

[default]
tfg => 2020,TFG Empresa
EOF2
cat > "$CONF/extensions.conf" <<'EOF2'
[general]
static=yes
writeprotect=yes

[bad]
exten => 900,1,Answer()
 same => n,Playback(custom/garbage&custom/truncated&custom/good)
 same => n,Verbose(after-playback=${PLAYBACKSTATUS})
 same => n,Hangup()
exten => 901,1,VoiceMail(tfg@default,u)
 same => n,Hangup()
exten => 902,1,Answer()
 same => n,Read(K,,4,,1,10)
 same => n,Verbose(flood-read=[${K}])
 same => n,Wait(3)
 same => n,Verbose(after-flood)
 same => n,Hangup()
EOF2
SND=$DATA/sounds/en/custom
mkdir -p "$SND" "$DATA/voicemail/default/tfg"
head -c 20000 /dev/urandom > "$SND/garbage.wav"
espeak-ng -w "$T/good.22k.wav" "This prompt is fine." 2>/dev/null || fail "espeak-ng"
sox "$T/good.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$SND/good.wav" || fail "sox"
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$T/tone2s.wav" synth 2 sine 440 || fail "sox"
head -c $((44 + 3200)) "$T/tone2s.wav" > "$SND/truncated.wav"
printf 'RIFF\x24\x10\x00\x00WAVEfmt \x10\x00\x00\x00' > "$DATA/voicemail/default/tfg/unavail.wav"
head -c 3000 /dev/urandom >> "$DATA/voicemail/default/tfg/unavail.wav"

tandem_start
UAC_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
# call NAME EXTEN PAUSE_MS SCENARIO: 100-tfg plays $T/digits.pcap; what
# Tandem sends it goes to $T/NAME.raw (rtp_sink.py)
call() {
	local name=$1 exten=$2 pause=$3 sc=$4 rport sink rc=0
	rport=$(free_port)
	bg "sink.$name" python3 "$AUDIO/rtp_sink.py" "$rport" "$T/$name" 90
	sink=$BG_PID
	wait_until 10 "$name: the RTP receiver listening" test -f "$T/$name.ready"
	sipp_run "$name" 90 -sf "$SIPP_DIR/$sc" -inf "$T/caller.csv" -i "$SIP_ADDR" \
		-p "$UAC_PORT" -mp "$(free_port)" -key rtpport "$rport" -d "$pause" -s "$exten" -m 1 \
		"$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
	kill -TERM "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	[ $rc = 0 ] || { sipp_fail_details "$name"; fail "$name: the call to $exten failed (SIPp exited $rc)"; }
	wait_until 5 "$name: the call is over" no_calls
}

# ---- 900: corrupt prompts
python3 "$AUDIO/mkdtmf.py" "$T/digits.pcap" "30:1" || fail "mkdtmf"
call prompts 900 500 ivr_uac.xml
grep -qE "sound: .*custom/garbage.wav: cannot read" "$E2E_LOG" || fail "no warning naming garbage.wav"
grep -q "after-playback=" "$E2E_LOG" || fail "the dialplan did not go on after the corrupt prompts"
C=$($PYNP "$AUDIO/rec_check.py" "$T/prompts.raw" "$SND/good.wav" | sed -n 2p)
python3 -c 'import sys; sys.exit(0 if float(sys.argv[1].split()[0].split("=")[1]) > 0.8 else 1)' "$C" ||
	fail "the good prompt after the corrupt ones did not reach the caller ($C)"
ok "corrupt prompts: '$(grep -om1 "sound: .*garbage.wav: cannot read.*" "$E2E_LOG")'; the good one played ($C); $(grep -om1 'after-playback=[A-Z]*' "$E2E_LOG")"

# ---- 901: a corrupt greeting in the spool
SKIPGREET=$(python3 -c 'import sys; print(int(sum(float(a) for a in sys.argv[1:]) * 1000) + 4000)' \
	"$(sox --i -D "$EN/vm-intro.wav")" "$(sox --i -D "$EN/beep.wav")" "$(sox --i -D "$EN/vm-theperson.wav")")
sox "$SND/good.wav" "$T/speech.wav" pad 0 3 || fail "sox"
python3 "$AUDIO/mkvoice.py" "$T/digits.pcap" "$T/speech.wav" 0x42414447 || fail "mkvoice"
call greeting 901 "$SKIPGREET" vm_uac_hangup.xml
grep -qE "sound: .*tfg/unavail.wav: cannot read" "$E2E_LOG" || fail "no warning naming the corrupt unavail.wav"
wait_until 5 "the message despite the corrupt greeting" test -f "$DATA/voicemail/default/tfg/INBOX/msg0000.txt"
ok "corrupt greeting: '$(grep -om1 "sound: .*unavail.wav: cannot read.*" "$E2E_LOG")'; the message was recorded"

# ---- 902: a DTMF flood
python3 - "$T/digits.pcap" <<'PY' || fail "the flood capture"
import struct, sys
rows = [struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
n = 0
for k in range(5000):
    ts, ev = 80000 + k * 160, k % 10
    for j in range(4):  # start (marker), then the end three times
        pl = struct.pack('!BBH', ev, (0x80 if j else 0) | 10, 160 if j else 0)
        rtp = struct.pack('!BBHII', 0x80, 101 | (0x80 if j == 0 else 0), n & 0xffff, ts, 0x464c4f4f) + pl
        udp = struct.pack('!HHHH', 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), n & 0xffff, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        frame = b'\x00' * 12 + b'\x08\x00' + ip + udp
        us = n * 100        # 20,000 packets in 2 s
        rows.append(struct.pack('<IIII', us // 1000000, us % 1000000, len(frame), len(frame)))
        rows.append(frame)
        n += 1
open(sys.argv[1], 'wb').write(b''.join(rows))
PY
( sleep 1.5; ctl status > "$T/status.during" 2>&1; echo $? > "$T/status.rc" ) &
STATUS_PID=$!
E2E_BG_PIDS+=("$STATUS_PID")
call flood 902 500 ivr_uac.xml
wait "$STATUS_PID" 2>/dev/null
[ "$(cat "$T/status.rc")" = 0 ] || fail "tandemctl status during the flood: $(cat "$T/status.during")"
K=$(grep -o 'flood-read=\[[^]]*\]' "$E2E_LOG" | tail -n 1)
assert_match "$K" '^flood-read=\[[0-9]{4}\]$' "Read's keys during the flood"
grep -q "after-flood" "$E2E_LOG" || fail "the dialplan did not go on after the flood"
FLOODLOG=$(grep -E "too many DTMF events|keys pressed with no application reading" "$E2E_LOG" | head -n 1 | sed 's/.*tandemd\[[0-9]*\]: //')
[ -n "$FLOODLOG" ] || fail "no log line about the DTMF flood"
[ "$(grep -cE "too many DTMF events|keys pressed with no application reading" "$E2E_LOG")" -le 20 ] ||
	fail "the flood floods the log: $(grep -cE "too many DTMF events|keys pressed" "$E2E_LOG") lines"
ok "DTMF flood (5,000 keys in 2 s): $K, '$FLOODLOG', tandemctl answered during it, the dialplan went on"

assert_alive "after the bad input"
tandem_stop_checked
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$E2E_LOG" && fail "sanitizer output"
exit 0
