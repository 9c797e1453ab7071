#!/bin/bash
# The caller gives up while the callee rings (issue "B2BUA signalling"):
# CANCEL after the 180 -> the caller gets 200 for the CANCEL and 487 for
# its INVITE (and ACKs it); Tandem CANCELs the callee's INVITE, the callee
# answers 200 and 487 and gets Tandem's ACK. While ringing, `tandemctl
# calls --json` lists the call Ringing; afterwards no call is left.
# `tandemctl calls hangup ID` on a ringing call CANCELs the callee too.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"
ringing() { [ "$(call_count)" = 1 ] && [ "$(jq_py "$T/calls.json" 'd["calls"][0]["state"]')" = Ringing ]; }

call_setup

for n in 1 2; do
	uas_start "uas$n" call_uas_cancel.xml 1
	# shellcheck disable=SC2046
	# the caller CANCELs 3 s after the 180
	sipp_bg "uac$n" 30 $(uac_args call_uac_auth_cancel.xml) -m 1 -d 3000
	UAC_PID=$BG_PID
	wait_until 3 "call $n listed Ringing: $(cat "$T/calls.json" 2>/dev/null)" ringing
	assert_eq "$(jq_py "$T/calls.json" 'd["calls"][0]["legs"][0]["peer"]')" 101-tfg "ringing leg's peer"
	assert_eq "$(jq_py "$T/calls.json" 'd["calls"][0]["legs"][0]["bridged"]')" False "ringing leg bridged"
	assert_eq "$(jq_py "$T/calls.json" 'd["calls"][0]["billsec"]')" 0 "billsec of a ringing call"
	ok "call $n Ringing in calls --json"
	sipp_wait "uac$n" "$UAC_PID" "caller CANCELling after 180 (expects 200 to CANCEL, then 487)"
	sipp_wait "uas$n" "$UAS_PID" "callee (expects Tandem's CANCEL, then the ACK of its 487)"
	wait_until 5 "calls left after the CANCEL: $(cat "$T/calls.json" 2>/dev/null)" no_calls
	ok "call $n: CANCEL -> caller 200 + 487, callee got CANCEL and the ACK of its 487, no call left"
done
grep -q "cancelled by the caller" "$E2E_LOG" || fail "tandemd's log does not say the call was cancelled"

# ---- the administrator hangs up a ringing call: the callee gets a CANCEL,
# the caller a final error (call.c answers 480, as for no answer)
uas_start uas_hup call_uas_cancel.xml 1
sed 's/response="486"/response="480"/' "$SIPP_DIR/call_uac_auth_reject.xml" > "$T/call_uac_auth_reject_480.xml"
sipp_bg uac_hup 30 -sf "$T/call_uac_auth_reject_480.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" \
	-p "$UAC_PORT" -s 101-tfg -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")"
UAC_PID=$BG_PID
wait_until 3 "call listed Ringing: $(cat "$T/calls.json" 2>/dev/null)" ringing
id=$(jq_py "$T/calls.json" 'd["calls"][0]["id"]')
ctl calls hangup "$id" > /dev/null || fail "tandemctl calls hangup $id (ringing): exit $? ($(cat "$T/ctl.err"))"
sipp_wait uac_hup "$UAC_PID" "caller of a ringing call hung up by tandemctl (480 expected)"
sipp_wait uas_hup "$UAS_PID" "callee of a ringing call hung up by tandemctl (CANCEL expected)"
wait_until 5 "calls left after hanging up a ringing call: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "tandemctl calls hangup of a ringing call: callee CANCELled (200 + 487 + ACK), caller 480"

assert_alive "end of test"
tandem_stop_checked
