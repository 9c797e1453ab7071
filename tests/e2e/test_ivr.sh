#!/bin/bash
# IVR menus on real calls (issue 4: prompts, DTMF): a SIPp caller
# (100-tfg, language=es) dials an IVR context whose prompts the test
# makes with espeak-ng + sox into DATADIR/sounds/en/ (found for a Spanish
# caller through Asterisk's fallback to en):
#
#   500: Answer, TIMEOUT(digit)=1, Background(ivr-menu), WaitExten(3)
#        1 -> Playback(ivr-one), 12 -> "twelve", 2 -> Set a variable,
#        3 -> Read(PIN,ivr-enter,4), i -> Playback(ivr-invalid), t -> Hangup
#   600: SayNumber(21) in the caller's language (es: digits/21 of Debian's
#        es_MX_f_Allison)
#   700: Playback(ivr-nosuch&ivr-one): a missing prompt
#   800: Wait(2), Background(ivr-menu): a key pressed during the Wait is
#        kept and stops the Background before it plays
#
# The caller sends RFC 4733 digits by playing a capture (SIPp's
# play_pcap_audio; the captures are written here, one event timestamp per
# key, as a phone sends them) and its SDP names the port of a small
# receiver that keeps every RTP packet Tandem sends it. Each branch
# ends in NoOp(outcome=NAME), read back as the call record's
# lastapp/lastdata with `tandemctl cdr --last 1 --json`; the
# receiver's packets are decoded (A-law) and compared with the prompt
# files: the number of 20 ms packets must match their length and the
# audio must correlate with them (not silence, not some other sound).
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp espeak-ng sox

# ---------------------------------------------------------------- helpers
# tests/e2e/audio: mkdtmf.py (RFC 4733 captures), rtp_sink.py (keeps
# what Tandem sends a port), rtp_compare.py (received audio vs prompts)
AUDIO=$E2E_DIR/audio

# prompt NAME TEXT: an 8 kHz mono 16-bit prompt in DATADIR/sounds/en/
prompt() {
	espeak-ng -w "$T/$1.22k.wav" "$2" 2>/dev/null || fail "espeak-ng could not say '$2'"
	sox "$T/$1.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$DATA/sounds/en/$1.wav" \
		|| fail "sox could not convert $1"
}
frames_of() {  # WAV: its length in 20 ms frames, rounded up
	python3 -c 'import wave,sys; w=wave.open(sys.argv[1]); print(-(-w.getnframes()//160))' "$1"
}

cdr_count() { ctl cdr --last 1000 --json > "$T/cdrs.json" && jq_py "$T/cdrs.json" 'len(d["cdr"])'; }
cdr_last() {  # FIELD of the newest call record
	ctl cdr --last 1 --json > "$T/cdr.json" || fail "tandemctl cdr --last 1 --json: exit $?"
	jq_py "$T/cdr.json" "d['cdr'][-1]['$1']"
}
cdr_after() { [ "$(cdr_count)" -gt "$NCDR" ]; }
outcome() {  # what NoOp(outcome=...) said last: the record's lastapp/lastdata
	local app data
	app=$(cdr_last lastapp) data=$(cdr_last lastdata)
	[ "$app" = NoOp ] || { echo "lastapp=$app($data)"; return; }
	echo "${data#outcome=}"
}

# ivr_call NAME EXTEN SCENARIO PAUSE_MS [KEYS]: one call; KEYS is
# mkdtmf's spec, sent PAUSE_MS after the answer. The received audio is
# left in $T/NAME.raw, its counts in $T/NAME.json; waits for the record.
ivr_call() {
	local name=$1 exten=$2 sc=$3 pause=$4 keys=${5:-} rport mport sink rc=0
	rport=$(free_port) mport=$(free_port)
	[ -n "$keys" ] && python3 "$AUDIO/mkdtmf.py" "$T/digits.pcap" "$keys"
	NCDR=$(cdr_count)
	bg "sink.$name" python3 "$AUDIO/rtp_sink.py" "$rport" "$T/$name" 60
	sink=$BG_PID
	wait_until 10 "$name: the RTP receiver listening" test -f "$T/$name.ready"
	sipp_run "$name" 60 -sf "$SIPP_DIR/$sc" -inf "$T/caller.csv" -i "$SIP_ADDR" \
		-p "$UAC_PORT" -mp "$mport" -key rtpport "$rport" -d "$pause" -s "$exten" -m 1 \
		"$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
	kill -TERM "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	[ $rc = 0 ] || { sipp_fail_details "$name"; fail "$name: the caller (exten $exten) did not get Tandem's BYE after the IVR (SIPp exited $rc)"; }
	[ -f "$T/$name.json" ] || fail "$name: the RTP receiver left no result"
	wait_until 5 "$name: its call record" cdr_after
}
pcma_frames() { jq_py "$T/$1.json" 'd["pcma"]'; }
# heard NAME MINCORR WAV...: NAME's audio starts with the WAVs
heard() {
	local name=$1 min=$2 out corr; shift 2
	out=$(python3 "$AUDIO/rtp_compare.py" "$T/$name.raw" "$@") || fail "$name: rtp_compare.py failed"
	note "$name: $out"
	corr=${out#*corr=}; corr=${corr%% *}
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' \
		"$corr" "$min" || fail "$name: the audio received does not match $* ($out)"
}
no_calls_left() {
	ctl calls --json > "$T/calls.json" && [ "$(jq_py "$T/calls.json" 'len(d["calls"])')" = 0 ]
}
# between N LO HI WHAT
between() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "$4: $1, expected $2..$3"
}

# ---------------------------------------------------------------- config

mkdir -p "$DATA/sounds/en"
prompt ivr-menu "Press one for sales, two for support, three to enter your pin."
prompt ivr-one "You chose sales."
prompt ivr-invalid "That is not a valid option."
prompt ivr-enter "Please enter your pin, then press the hash key."
MENU=$(frames_of "$DATA/sounds/en/ivr-menu.wav")
ONE=$(frames_of "$DATA/sounds/en/ivr-one.wav")
INVALID=$(frames_of "$DATA/sounds/en/ivr-invalid.wav")
note "prompts: menu $MENU frames, one $ONE, invalid $INVALID"

cat > "$CONF/extensions.conf" <<'EOF'
; generated by test_ivr.sh
[general]
static=yes
writeprotect=yes

[ivr]
; each branch ends with NoOp(outcome=...): the call record's lastapp/lastdata
exten => 500,1,Answer()
 same => n,Set(TIMEOUT(digit)=1)
 same => n,Background(ivr-menu)
 same => n,WaitExten(3)
exten => 1,1,Playback(ivr-one)
 same => n,NoOp(outcome=one)
exten => 12,1,NoOp(outcome=twelve)
exten => 2,1,Set(CHOICE=support)
 same => n,NoOp(outcome=${CHOICE})
exten => 3,1,Read(PIN,ivr-enter,4)
 same => n,NoOp(outcome=pin-${PIN}-${READSTATUS})
exten => i,1,Playback(ivr-invalid)
 same => n,NoOp(outcome=invalid-${INVALID_EXTEN})
exten => t,1,NoOp(outcome=timeout)
exten => 600,1,Answer()
 same => n,SayNumber(21)
 same => n,NoOp(outcome=lang-${CHANNEL(language)})
exten => 800,1,Answer()
 same => n,Wait(2)
 same => n,Background(ivr-menu)
 same => n,NoOp(outcome=not-interrupted)
exten => 700,1,Answer()
 same => n,Playback(ivr-nosuch&ivr-one)
 same => n,NoOp(outcome=status-${PLAYBACKSTATUS})
EOF
conf_sip_general realm=tandem
conf_sip_peer 100-tfg context=ivr language=es qualify=no
tandem_start
UAC_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
if grep -q "is not available" "$E2E_LOG"; then
	fail "the dialplan's load warns about a missing application: $(grep 'is not available' "$E2E_LOG" | head -n 3)"
fi
ok "Playback, Background, WaitExten, Read, SayNumber are known when the dialplan loads"

# ---------------------------------------------------------------- calls

# 1: the menu plays to its end, WaitExten, "1" (could be 12: the digit
# timeout, 1 s, passes), extension 1 plays its prompt, BYE.
ivr_call one 500 ivr_uac.xml "$(( MENU * 20 + 700 ))" "0:1"
assert_eq "$(outcome)" one "key 1 after the menu: outcome"
assert_eq "$(cdr_last dcontext)" ivr "key 1: dcontext"
got=$(pcma_frames one)
between "$got" $(( MENU + ONE - 3 )) $(( MENU + ONE + 8 )) "key 1: 20 ms PCMA packets received (menu $MENU + one $ONE frames)"
heard one 0.9 "$DATA/sounds/en/ivr-menu.wav" "$DATA/sounds/en/ivr-one.wav"
ok "menu heard to its end ($got packets: the prompts' length, audio matches), key 1 -> extension 1, its prompt heard, BYE"

# 2: "2" during the menu stops it: extension 2 sets a variable, BYE.
ivr_call two 500 ivr_uac.xml 600 "0:2"
assert_eq "$(outcome)" support "key 2 during the menu: outcome from \${CHOICE}"
got=$(pcma_frames two)
between "$got" 15 $(( MENU - 20 )) "key 2 during the menu: packets (the menu is $MENU frames and stops at the key)"
heard two 0.9 "$DATA/sounds/en/ivr-menu.wav"
ok "key 2 interrupted the menu after $got of $MENU frames, extension 2 ran"

# 3: "1" then "2" 300 ms later: collected as 12 (matchmore)
ivr_call twelve 500 ivr_uac.xml 600 "0:1,0.3:2"
assert_eq "$(outcome)" twelve "keys 1 2: outcome"
ok "keys 1 then 2 collected into extension 12"

# 4: "9": no such extension: i (INVALID_EXTEN=9) plays its prompt
ivr_call invalid 500 ivr_uac.xml 600 "0:9"
assert_eq "$(outcome)" invalid-9 "key 9: outcome"
got=$(pcma_frames invalid)
between "$got" $(( INVALID + 15 )) $(( MENU + INVALID )) "key 9: packets (part of the menu, then invalid's $INVALID frames)"
ok "key 9 -> i with INVALID_EXTEN=9, its prompt heard"

# 5: nothing pressed: the menu, WaitExten's 3 s, t, BYE
t0=$(now_ms)
ivr_call nokey 500 ivr_uac_nokey.xml 0
el=$(( $(now_ms) - t0 ))
assert_eq "$(outcome)" timeout "no key: outcome"
got=$(pcma_frames nokey)
between "$got" $(( MENU - 3 )) $(( MENU + 5 )) "no key: packets (the menu only)"
[ "$el" -ge $(( MENU * 20 + 2500 )) ] || fail "no key: the call ended after $el ms, before the menu and WaitExten's 3 s"
heard nokey 0.9 "$DATA/sounds/en/ivr-menu.wav"
ok "no key: menu heard, WaitExten waited 3 s, t hung up (call lasted $el ms)"

# 6: "3" -> Read(PIN,ivr-enter,4): 4, 2, '#'
ivr_call read 500 ivr_uac.xml 600 "0:3,3.5:4,3.9:2,4.3:#"
assert_eq "$(outcome)" pin-42-OK "Read: outcome from \${PIN} and \${READSTATUS}"
ok "Read collected 42, '#' ended it, READSTATUS=OK"

# 7: SayNumber(21) in the caller's language (es, from sip.conf)
es21=/usr/share/asterisk/sounds/es_MX_f_Allison/digits/21.wav
[ -f "$es21" ] || fail "$es21 missing (asterisk-core-sounds-es-wav)"
ivr_call es 600 ivr_uac_nokey.xml 0
assert_eq "$(outcome)" lang-es "CHANNEL(language) of a language=es peer"
got=$(pcma_frames es)
F21=$(frames_of "$es21")
between "$got" $(( F21 - 2 )) $(( F21 + 5 )) "SayNumber(21): packets (es digits/21 is $F21 frames)"
heard es 0.9 "$es21"
ok "SayNumber(21) played Spanish digits/21 ($got packets)"

# 8: a missing prompt: a warning naming it, FAILED, the rest plays
ivr_call missing 700 ivr_uac_nokey.xml 0
assert_eq "$(outcome)" status-FAILED "Playback with a missing file: PLAYBACKSTATUS"
assert_file_match "$E2E_LOG" "ivr-nosuch" "a warning naming the missing prompt"
got=$(pcma_frames missing)
between "$got" $(( ONE - 2 )) $(( ONE + 5 )) "Playback(ivr-nosuch&ivr-one): packets (one is $ONE frames)"
heard missing 0.9 "$DATA/sounds/en/ivr-one.wav"
ok "missing prompt warned by name, PLAYBACKSTATUS=FAILED, the next file played"

# 9: "2" pressed during Wait(2): kept, and Background takes it at once
ivr_call kept 800 ivr_uac.xml 500 "0:2"
assert_eq "$(outcome)" support "key 2 during Wait, then Background: outcome"
got=$(pcma_frames kept)
[ "$got" -le 3 ] || fail "key 2 during Wait: the menu should not play at all, $got packets heard"
ok "a key pressed during Wait was kept: Background went to extension 2 without playing"

wait_until 5 "calls left after the IVR calls" no_calls_left
assert_alive "end of test"
tandem_stop_checked
