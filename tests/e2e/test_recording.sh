#!/bin/bash
# Call recording (issue "The business line", item 6): MixMonitor and
# Monitor on real calls. 100-tfg (a SIPp caller) calls through Tandem to
# 101-tfg (a SIPp callee); each side plays its own known speech (espeak-ng,
# two voices, A-law RTP from a pcap): the caller from 0.5 s (or 3 s) after
# its ACK, the callee after 3 s of silence; the callee hangs up 7 s after
# answering. Every recording must have the expected length, not be
# silence, and hold each party where it should (the best normalised
# cross-correlation with each source, tests/e2e/audio/rec_check.py):
#
#   600 MixMonitor(rec600.wav,,touch ^{MIXMONITOR_FILENAME}.done) + Dial:
#       both parties in one file, MIXMONITOR_FILENAME its full path, the
#       command run when it is finished.
#   601 Answer, MixMonitor(sub/rec601.wav,br(rec601-r.wav)t(rec601-t.wav)),
#       Wait(2), Dial(...,g), Wait(2): b records only while bridged (the
#       file is ~4 s shorter than the call); r holds the caller alone, t
#       the callee.
#   602 Monitor() with no name: Asterisk's TIME-CHANNEL-in.wav (caller)
#       and -out.wav (callee).
#   603 Monitor(wav,mon603,m): one mixed mon603.wav.
#   604 MixMonitor(rec600.wav,a): appended: rec600.wav grows by a call.
#   606 Answer, MixMonitor(rec606.wav), Playback of a prompt made here,
#       Wait(3), Hangup: what the caller hears from Tandem (the prompt) is
#       in the recording with what it says.
#   607 MixMonitor(rec607.wav) + Dial; the caller hangs up 5 s after the
#       answer: the file is finished (renamed) with the call, ~5 s long,
#       the caller's speech in it.
#   605 Last, as root: DATADIR/monitor/full on a 48 KiB tmpfs: the
#       recording fails with a log line, no file (final or .part) is left,
#       the call and the daemon are unaffected.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp espeak-ng sox

. "$(dirname "$0")/lib_call.sh"
AUDIO=$E2E_DIR/audio
PYNP=/usr/bin/python3
$PYNP -c 'import numpy' 2>/dev/null || fail "python3-numpy is not installed (scripts/install-deps.sh test)"

# ---------------------------------------------------------------- audio
espeak-ng -w "$T/a.22k.wav" "one two three four five six" 2>/dev/null || fail "espeak-ng"
espeak-ng -v en+f3 -w "$T/b.22k.wav" "the quick brown fox jumps over the lazy dog" \
	2>/dev/null || fail "espeak-ng"
sox "$T/a.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$T/caller.wav" || fail "sox"
sox "$T/b.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$T/callee.wav" || fail "sox"
# the callee says nothing for 3 s, then talks; both streams run to the end
sox "$T/callee.wav" "$T/callee_padded.wav" pad 3 4 || fail "sox pad"
sox "$T/caller.wav" "$T/caller_padded.wav" pad 0 6 || fail "sox pad"
$PYNP "$AUDIO/mkvoice.py" "$T/digits.pcap" "$T/caller_padded.wav" 0x43414c4c || fail "mkvoice"
$PYNP "$AUDIO/mkvoice.py" "$T/callee.pcap" "$T/callee_padded.wav" 0x4345454c || fail "mkvoice"
note "caller speaks $(sox --i -D "$T/caller.wav") s, callee $(sox --i -D "$T/callee.wav") s"

# ---------------------------------------------------------------- config
conf_sip_general realm=tandem
conf_tfg_peers qualify=no
cat > "$CONF/extensions.conf" <<'EOF2'
[general]
static=yes
writeprotect=yes

[default]
exten => 600,1,MixMonitor(rec600.wav,,touch ^{MIXMONITOR_FILENAME}.done)
 same => n,Verbose(mixfile=${MIXMONITOR_FILENAME})
 same => n,Dial(SIP/101-tfg,20)
 same => n,Hangup()
exten => 601,1,Answer()
 same => n,MixMonitor(sub/rec601.wav,br(rec601-r.wav)t(rec601-t.wav))
 same => n,Wait(2)
 same => n,Dial(SIP/101-tfg,20,g)
 same => n,Wait(2)
 same => n,Hangup()
exten => 602,1,Monitor()
 same => n,Dial(SIP/101-tfg,20)
 same => n,Hangup()
exten => 603,1,Monitor(wav,mon603,m)
 same => n,Dial(SIP/101-tfg,20)
 same => n,Hangup()
exten => 604,1,MixMonitor(rec600.wav,a)
 same => n,Dial(SIP/101-tfg,20)
 same => n,Hangup()
exten => 606,1,Answer()
 same => n,MixMonitor(rec606.wav)
 same => n,Playback(custom/prompt606)
 same => n,Wait(3)
 same => n,Hangup()
exten => 607,1,MixMonitor(rec607.wav)
 same => n,Dial(SIP/101-tfg,20)
 same => n,Hangup()
exten => 605,1,MixMonitor(full/rec605.wav)
 same => n,Dial(SIP/101-tfg,20)
 same => n,Hangup()
EOF2
mkdir -p "$DATA/sounds/en/custom"
espeak-ng -v en+m3 -w "$T/p.22k.wav" "Your call may be recorded for quality purposes." 2>/dev/null ||
	fail "espeak-ng"
sox "$T/p.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$DATA/sounds/en/custom/prompt606.wav" ||
	fail "sox"
tandem_start
grep -q "MixMonitor.*not available\|Monitor.*not available" "$E2E_LOG" &&
	fail "the dialplan's load says MixMonitor or Monitor is missing"
UAS_PORT=$(free_port) UAC_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
sipp_register_ok reg101 101-tfg tf2020 "$UAS_PORT"
MON=$DATA/monitor

# call NAME EXTEN CALLER_PAUSE_MS: one call; the callee talks then hangs up
call() {
	local name=$1 exten=$2 pause=$3 rc=0
	UAS_TIMEOUT=40 uas_start "uas.$name" rec_uas.xml 1 -mp "$(free_port)" -d 7000
	sipp_run "$name" 40 -sf "$SIPP_DIR/ivr_uac.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" \
		-p "$UAC_PORT" -mp "$(free_port)" -key rtpport "$(free_port)" -d "$pause" \
		-s "$exten" -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
	[ $rc = 0 ] || { sipp_fail_details "$name"; fail "$name: the call to $exten failed (SIPp exited $rc)"; }
	sipp_wait "uas.$name" "$UAS_PID" "$name: the callee"
	wait_until 5 "$name: the call is over" no_calls
}
# check FILE: "secs rms corr_caller lag_caller corr_callee lag_callee"
check() {
	[ -f "$1" ] || { ls -lR "$MON" >&2; fail "no recording $1"; }
	$PYNP "$AUDIO/rec_check.py" "$1" "$T/caller.wav" "$T/callee.wav" > "$T/check.out" ||
		fail "rec_check.py $1"
	tr '\n' ' ' < "$T/check.out" | sed -E 's/[a-z]+=//g'
}
# expect "VALUES" PYTHON_CONDITION WHAT (s r ca la cb lb in the condition)
expect() {
	$PYNP -c 'import sys
s, r, ca, la, cb, lb = map(float, sys.argv[1].split())
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" || fail "$3: $(cat "$T/check.out" | tr '\n' ' ')"
}
no_part() { [ -z "$(find "$MON" -name '*.part')" ] || fail ".part files left: $(find "$MON" -name '*.part')"; }

# ---- 600: MixMonitor, both parties mixed, the command
call c600 600 500
no_part
V=$(check "$MON/rec600.wav")
note "rec600.wav: secs rms corr/lag caller, callee = $V"
expect "$V" '6.5 <= s <= 8.5 and r > 300' "rec600.wav: the call's length (~7 s) and not silence"
expect "$V" 'ca > 0.6 and cb > 0.6' "rec600.wav holds both parties"
expect "$V" 'lb - la > 1.5' "rec600.wav: the callee (after 3 s) comes after the caller (0.5 s)"
grep -q "mixfile=$MON/rec600.wav" "$E2E_LOG" || fail "MIXMONITOR_FILENAME is not $MON/rec600.wav"
wait_until 5 "MixMonitor's command ran (rec600.wav.done)" test -f "$MON/rec600.wav.done"
ok "MixMonitor: rec600.wav $V (secs rms corr/lag caller callee); MIXMONITOR_FILENAME; command run"
DUR600=$(sox --i -D "$MON/rec600.wav")

# ---- 601: b, r(), t()
call c601 601 3000
no_part
V=$(check "$MON/sub/rec601.wav")
note "sub/rec601.wav: $V"
expect "$V" '6.3 <= s <= 8.0 and ca > 0.6 and cb > 0.6' \
	"sub/rec601.wav: only the bridged ~7 s (not the 2 s Waits before and after), both parties"
V=$(check "$MON/rec601-r.wav")
note "rec601-r.wav: $V"
expect "$V" 'ca > 0.6 and cb < 0.3' "rec601-r.wav: the caller alone"
V=$(check "$MON/rec601-t.wav")
note "rec601-t.wav: $V"
expect "$V" 'cb > 0.6 and ca < 0.3' "rec601-t.wav: the callee alone"
ok "MixMonitor b r() t(): bridged time only, r the caller, t the callee"

# ---- 602: Monitor() with Asterisk's default names
call c602 602 500
no_part
IN=$(find "$MON" -maxdepth 1 -name '[0-9]*-SIP-100-tfg-*-in.wav' | head -n 1)
OUT=${IN%-in.wav}-out.wav
[ -n "$IN" ] && [ -f "$OUT" ] || { ls -l "$MON" >&2; fail "Monitor(): no TIME-SIP-100-tfg-N-in.wav/-out.wav"; }
V=$(check "$IN")
expect "$V" 'ca > 0.6 and cb < 0.3' "$(basename "$IN"): the caller alone"
V=$(check "$OUT")
expect "$V" 'cb > 0.6 and ca < 0.3 and 6.5 <= s <= 8.5' "$(basename "$OUT"): the callee alone"
ok "Monitor(): $(basename "$IN") (caller) and -out.wav (callee)"

# ---- 603: Monitor(wav,mon603,m)
call c603 603 500
no_part
V=$(check "$MON/mon603.wav")
expect "$V" 'ca > 0.6 and cb > 0.6 and 6.5 <= s <= 8.5' "mon603.wav: both parties"
[ ! -e "$MON/mon603-in.wav" ] || fail "Monitor m left mon603-in.wav"
ok "Monitor(wav,mon603,m): one mixed file $V"

# ---- 604: append
call c604 604 500
no_part
DUR=$(sox --i -D "$MON/rec600.wav")
$PYNP -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(0 if a + 6.5 <= b <= a + 8.5 else 1)' \
	"$DUR600" "$DUR" || fail "MixMonitor a: rec600.wav $DUR600 s -> $DUR s"
ok "MixMonitor a: rec600.wav $DUR600 s -> $DUR s"

# ---- 606: a prompt Tandem plays is in the recording (the caller's
# speech starts 3 s after the answer, during the prompt's end or after)
rc=0
sipp_run c606 40 -sf "$SIPP_DIR/ivr_uac.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" \
	-p "$UAC_PORT" -mp "$(free_port)" -key rtpport "$(free_port)" -d 3000 \
	-s 606 -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
[ $rc = 0 ] || { sipp_fail_details c606; fail "c606: the call to 606 failed (SIPp exited $rc)"; }
wait_until 5 "c606: the call is over" no_calls
no_part
[ -f "$MON/rec606.wav" ] || fail "no rec606.wav"
P=$($PYNP "$AUDIO/rec_check.py" "$MON/rec606.wav" "$DATA/sounds/en/custom/prompt606.wav" "$T/caller.wav")
note "rec606.wav: $(echo "$P" | tr '\n' ' ')"
$PYNP -c 'import sys
l = sys.argv[1].split("\n")
p, c = (float(x.split()[0].split("=")[1]) for x in l[1:3])
sys.exit(0 if p > 0.6 and c > 0.6 else 1)' "$P" || fail "rec606.wav lacks the prompt or the caller: $P"
ok "MixMonitor hears what Tandem plays: rec606.wav $(echo "$P" | tr '\n' ' ')"

# ---- 607: the caller hangs up while recording
UAS_TIMEOUT=40 uas_start uas.c607 call_uas.xml 1 -mp "$(free_port)"
rc=0
sipp_run c607 40 -sf "$SIPP_DIR/vm_uac_hangup.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" \
	-p "$UAC_PORT" -mp "$(free_port)" -key rtpport "$(free_port)" -d 500 \
	-s 607 -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
[ $rc = 0 ] || { sipp_fail_details c607; fail "c607: the call to 607 failed (SIPp exited $rc)"; }
sipp_wait uas.c607 "$UAS_PID" "c607: the callee gets the BYE"
wait_until 5 "c607: the call is over" no_calls
no_part
V=$(check "$MON/rec607.wav")
expect "$V" '4.8 <= s <= 6.8 and ca > 0.6' "rec607.wav: the ~5.5 s until the caller hung up, its speech in it"
ok "the caller hangs up while recording: rec607.wav finished, $V"

# ---- 605: a full disk (root: a small tmpfs)
mkdir -p "$MON/full"
if mount -t tmpfs -o size=48k tmpfs "$MON/full" 2>"$T/mount.err"; then
	trap 'rc=$?; mountpoint -q "$MON/full" && umount "$MON/full"; (exit $rc); e2e_cleanup' EXIT
	call c605 605 500
	[ -z "$(ls -A "$MON/full")" ] || fail "a failed recording left files: $(ls -A "$MON/full")"
	grep -q "rec605.wav.*failed.*no file kept" "$E2E_LOG" ||
		fail "no log line for the failed recording"
	grep -E "rec: .*rec605.wav: write failed" "$E2E_LOG" | head -n 1 | sed 's/^/    /'
	umount "$MON/full"
	assert_alive "after the full disk"
	ok "full disk: logged, nothing left, the call went on to its end"
else
	note "SKIP the full-disk case: cannot mount a tmpfs ($(cat "$T/mount.err"))"
fi

tandem_stop_checked
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$E2E_LOG" && fail "sanitizer output"
exit 0
