#!/bin/bash
# A callee that refuses (issue "B2BUA signalling"): the caller gets the
# answer call.c's caller_status_for() maps it to, as Asterisk's Dial()
# does through the hangup cause: 486/600 -> 486 (BUSY), 480/404 -> 480
# (CHANUNAVAIL), 503 -> 503 (CONGESTION), any other 4xx-6xx -> 480. The
# caller ACKs the error, the callee gets Tandem's ACK, no call is left.
# Busy() and Congestion() in the dialplan answer 486 and 503 at once, and
# the call is gone at once too (chan_sip soft-hangs-up the channel), not
# after the app's timeout.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

call_setup

# callee's answer : reason phrase : what the caller must get
for case in "486:Busy Here:486" "600:Busy Everywhere:486" "480:Temporarily Unavailable:480" \
	"404:Not Found:480" "503:Service Unavailable:503" "603:Decline:480"; do
	code=${case%%:*} want=${case##*:} reason=${case#*:}; reason=${reason%:*}
	# the caller's scenario expecting $want (the file in the tree expects 486)
	sc=$T/call_uac_auth_reject_$want.xml
	sed "s/response=\"486\"/response=\"$want\"/" "$SIPP_DIR/call_uac_auth_reject.xml" > "$sc"
	grep -q "response=\"$want\" response_txn" "$sc" || fail "could not make $sc"
	# the callee's scenario answering "$code $reason"
	usc=$T/call_uas_reject_$code.xml
	sed "s/SIP\/2.0 486 Busy Here/SIP\/2.0 $code $reason/" "$SIPP_DIR/call_uas_reject.xml" > "$usc"
	grep -q "SIP/2.0 $code $reason" "$usc" || fail "could not make $usc"
	uas_start "uas$code" "$usc" 1
	sipp_run "uac$code" 30 -sf "$sc" -inf "$T/caller.csv" -i "$SIP_ADDR" -p "$UAC_PORT" \
		-s 101-tfg -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" \
		|| { rc=$?; sipp_fail_details "uac$code"; fail "callee answered $code: the caller did not get $want (SIPp exited $rc)"; }
	sipp_wait "uas$code" "$UAS_PID" "callee answering $code (expects Tandem's ACK)"
	wait_until 5 "calls left after the $code: $(cat "$T/calls.json" 2>/dev/null)" no_calls
	ok "callee $code $reason -> caller $want, ACKed on both sides, no call left"
done

# ---- Busy(20) / Congestion(20): the final answer straight away, and no
# call left well before the 20 s the application would wait
cat >> "$CONF/extensions.conf" <<'EOF'
exten => busy,1,Busy(20)
exten => congestion,1,Congestion(20)
EOF
ctl reload > /dev/null || fail "tandemctl reload: $(cat "$T/ctl.err")"
dp_has() { ctl dialplan default --json | grep -q "\"$1\""; }
wait_until 5 "extensions busy and congestion not loaded: $(ctl dialplan default)" dp_has congestion
for case in busy:486 congestion:503; do
	ext=${case%%:*} want=${case##*:}
	t0=$(now_ms)
	sipp_run "uac_$ext" 30 -sf "$T/call_uac_auth_reject_$want.xml" -inf "$T/caller.csv" \
		-i "$SIP_ADDR" -p "$UAC_PORT" -s "$ext" -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" \
		|| { rc=$?; sipp_fail_details "uac_$ext"; fail "extension $ext: the caller did not get $want (SIPp exited $rc)"; }
	dt=$(( $(now_ms) - t0 ))
	# the SIPp run includes the 407 round trip and its 1 s timewait
	[ "$dt" -lt 6000 ] || fail "extension $ext: $want after $dt ms, not at once"
	wait_until 3 "calls left after $ext's $want: $(cat "$T/calls.json" 2>/dev/null)" no_calls
	dt2=$(( $(now_ms) - t0 ))
	[ "$dt2" -lt 10000 ] || fail "extension $ext: the call stayed $dt2 ms"
	ok "${ext^}(20) -> caller $want at once (SIPp done in $dt ms), no call left after $dt2 ms"
done

assert_alive "end of test"
tandem_stop_checked
