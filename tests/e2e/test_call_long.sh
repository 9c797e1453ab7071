#!/bin/bash
# Calls that last longer than the INVITE client transaction (Timer M,
# 64*T1 after the 2xx, RFC 6026; T1 is sip.conf timert1=200 here, so
# 12.8 s instead of the default 32 s): the callee's transaction is gone
# by the time the call ends, and tandemd must not touch it then (it once
# crashed here, a use after free found by bench/calls). Two calls of 16 s,
# one ended by the caller and one by the callee, then a short call: every
# one completes, no call is left, tandemd is alive (and, in the
# sanitizer build, quiet). The two long calls overlap.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

UAS_TIMEOUT=100
# call_setup's stage plus 102-tfg, the callee of the second call: both
# 16 s calls run at once (one test-minute less than one after the other)
conf_extensions_calls
conf_sip_general realm=tandem timert1=200
conf_tfg_peers qualify=no
conf_sip_peer 102-tfg qualify=no
tandem_start
UAS_PORT=$(free_port) UAC_PORT=$(free_port) UAS2_PORT=$(free_port) UAC2_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
sipp_register_ok reg101 101-tfg tf2020 "$UAS_PORT"
sipp_register_ok reg102 102-tfg tf2020 "$UAS2_PORT"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg
wait_until 3 "102-tfg listed by tandemctl registrations" is_registered 102-tfg

# ---- call 1: 100-tfg -> 101-tfg, the caller hangs up 16 s after the answer
uas_start uas_long call_uas.xml 1
UAS_LONG=$UAS_PID
# ---- call 2: 100-tfg -> 102-tfg, the callee hangs up 16 s after the
# answer (the caller's scenario waits 30 s for the BYE: a copy waits 60)
sed 's/<recv request="BYE" timeout="30000"/<recv request="BYE" timeout="60000"/' \
	"$SIPP_DIR/call_uac_auth_recvbye.xml" > "$T/recvbye60.xml"
UAS_PORT0=$UAS_PORT
UAS_PORT=$UAS2_PORT UAS_PEER=102-tfg uas_start uas_bye call_uas_bye.xml 1 -d 16000
UAS_BYE=$UAS_PID
UAS_PORT=$UAS_PORT0

# shellcheck disable=SC2046
sipp_bg uac_long 90 $(uac_args call_uac_auth.xml) -m 1 -d 16000
UAC_LONG=$BG_PID
sipp_bg uac_bye 90 -sf "$T/recvbye60.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" -p "$UAC2_PORT" \
	-s 102-tfg "$(hostport "$SIP_ADDR" "$SIP_PORT")" -m 1
UAC_BYE=$BG_PID
wait_until 20 "both calls up: $(cat "$T/calls.json" 2>/dev/null)" eval '[ "$(call_count)" = 2 ]'

sipp_wait uac_long "$UAC_LONG" "16 s call, caller hangs up: the caller"
sipp_wait uas_long "$UAS_LONG" "the callee of the 16 s call"
assert_alive "after a 16 s call ended by the caller"
ok "16 s call ended by the caller (past Timer M): completed, tandemd alive"
sipp_wait uac_bye "$UAC_BYE" "16 s call, callee hangs up: the caller"
sipp_wait uas_bye "$UAS_BYE" "the callee that hangs up after 16 s"
assert_alive "after a 16 s call ended by the callee"
wait_until 5 "calls left after the 16 s calls: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "16 s call ended by the callee (past Timer M): completed, tandemd alive, no call left"

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
