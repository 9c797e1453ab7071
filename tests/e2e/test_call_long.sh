#!/bin/bash
# Calls that last longer than the INVITE client transaction (Timer M,
# 64*T1 = 32 s after the 2xx, RFC 6026): the callee's transaction is gone
# by the time the call ends, and tandemd must not touch it then (it once
# crashed here, a use after free found by bench/calls). Two calls of 40 s,
# one ended by the caller and one by the callee, then a short call: every
# one completes, no call is left, tandemd is alive (and, in the
# sanitizer build, quiet).
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

UAS_TIMEOUT=100
call_setup

# ---- the caller hangs up 40 s after the answer
uas_start uas_long call_uas.xml 1
# shellcheck disable=SC2046
sipp_run uac_long 90 $(uac_args call_uac_auth.xml) -m 1 -d 40000 \
	|| { rc=$?; sipp_fail_details uac_long; fail "40 s call, caller hangs up: SIPp UAC exited $rc"; }
sipp_wait uas_long "$UAS_PID" "the callee of the 40 s call"
assert_alive "after a 40 s call ended by the caller"
wait_until 5 "calls left after the 40 s call: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "40 s call ended by the caller (past Timer M): completed, tandemd alive, no call left"

# ---- the callee hangs up 40 s after the answer (the caller's scenario
# waits 30 s for the BYE: a copy waits 60)
sed 's/<recv request="BYE" timeout="30000"/<recv request="BYE" timeout="60000"/' \
	"$SIPP_DIR/call_uac_auth_recvbye.xml" > "$T/recvbye60.xml"
uas_start uas_bye call_uas_bye.xml 1 -d 40000
# shellcheck disable=SC2046
sipp_run uac_bye 90 $(uac_args call_uac_auth_recvbye.xml |
		      sed "s|$SIPP_DIR/call_uac_auth_recvbye.xml|$T/recvbye60.xml|") -m 1 \
	|| { rc=$?; sipp_fail_details uac_bye; fail "40 s call, callee hangs up: SIPp UAC exited $rc"; }
sipp_wait uas_bye "$UAS_PID" "the callee that hangs up after 40 s"
assert_alive "after a 40 s call ended by the callee"
wait_until 5 "calls left after the callee's BYE: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "40 s call ended by the callee: completed, tandemd alive, no call left"

# ---- and the next call still works
uas_start uas_short call_uas.xml 1
# shellcheck disable=SC2046
sipp_run uac_short 30 $(uac_args call_uac_auth.xml) -m 1 -d 500 \
	|| { rc=$?; sipp_fail_details uac_short; fail "short call after the long ones: SIPp UAC exited $rc"; }
sipp_wait uas_short "$UAS_PID" "the callee of the short call"
assert_alive "after the short call"
if grep -Eq "AddressSanitizer|runtime error|LeakSanitizer" "$E2E_LOG"; then
	fail "sanitizer report in $E2E_LOG"
fi
tandem_stop_checked
