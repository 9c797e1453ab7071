#!/bin/bash
# The callee hangs up (issue "B2BUA signalling"): the UAS answers, sends
# BYE 1 s later and gets 200 from Tandem; Tandem sends BYE to the caller,
# which answers 200; no call is left.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

call_setup

# the callee hangs up 1 s after its 200 OK was ACKed; then 3 s after,
# long enough to see the call Up in calls --json on a loaded machine
for n in 1 2; do
	talk=$([ $n = 1 ] && echo 1000 || echo 3000)
	uas_start "uas$n" call_uas_bye.xml 1 -d "$talk"
	# shellcheck disable=SC2046
	sipp_bg "uac$n" 30 $(uac_args call_uac_auth_recvbye.xml) -m 1
	UAC_PID=$BG_PID
	if [ $n = 2 ]; then
		wait_until 3 "call $n listed Up: $(cat "$T/calls.json" 2>/dev/null)" call_up
		ok "call $n Up"
	fi
	sipp_wait "uas$n" "$UAS_PID" "callee sending BYE $talk ms after the answer (expects 200 from Tandem)"
	sipp_wait "uac$n" "$UAC_PID" "caller (expects Tandem's BYE after the callee's, answers 200)"
	wait_until 5 "calls left after the callee's BYE: $(cat "$T/calls.json" 2>/dev/null)" no_calls
	ok "call $n: the callee's BYE ($talk ms after the answer) got 200, the caller got a BYE and answered 200, no call left"
done
grep -q "BYE from the callee" "$E2E_LOG" || fail "tandemd's log does not say the callee hung up"

assert_alive "end of test"
tandem_stop_checked
