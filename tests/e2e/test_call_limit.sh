#!/bin/bash
# chan_sip's call-limit: with call-limit=1 on 101-tfg, a second call to it
# while the first is up gets 486 (the dialplan's Dial finds it busy), and
# 101-tfg cannot place a call of its own meanwhile (480 Call Limit
# Reached); once the first call ends, 101-tfg is callable again.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp
. "$(dirname "$0")/lib_call.sh"

conf_extensions_calls
conf_sip_general realm=tandem
conf_tfg_peers qualify=no call-limit=1
tandem_start
UAS_PORT=$(free_port) UAC_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
sipp_register_ok reg101 101-tfg tf2020 "$UAS_PORT"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg

# the first call, held up for 6 s
uas_start uas_long call_uas.xml 1
# shellcheck disable=SC2046
sipp_bg uac_long 30 $(uac_args call_uac_auth.xml) -m 1 -d 6000
UAC_PID=$BG_PID
wait_until 5 "the first call Up" call_up

# a second caller (100-tfg is at its own limit too, so use a third peer)
conf_sip_peer 102-tfg call-limit=2 >/dev/null
ctl reload >/dev/null || fail "reload failed: $(cat "$T/ctl.err")"
users_csv "$T/c102.csv" 102-tfg
sipp_run second 20 -sf "$SIPP_DIR/call_uac_auth_reject.xml" -inf "$T/c102.csv" \
	-i "$SIP_ADDR" -p "$(free_port)" -s 101-tfg -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || {
	sipp_fail_details second
	fail "a second call to 101-tfg (call-limit=1, one call up) did not get 486"
}
ok "second call to 101-tfg while it is in a call: 486"

# 101-tfg itself may not start another call
users_csv "$T/c101.csv" 101-tfg
sed 's/response="486"/response="480"/' "$SIPP_DIR/call_uac_auth_reject.xml" > "$T/reject480.xml"
sipp_run own 20 -sf "$T/reject480.xml" -inf "$T/c101.csv" -i "$SIP_ADDR" -p "$(free_port)" \
	-s 102-tfg -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || {
	sipp_fail_details own
	fail "101-tfg placing a call while at its call-limit did not get 480"
}
ok "101-tfg placing a second call: 480 Call Limit Reached"

sipp_wait uac_long "$UAC_PID" "the first call's caller"
sipp_wait uas_long "$UAS_PID" "the first call's callee"
wait_until 5 "no call left" no_calls
ok "the first call ended normally"
tandem_stop_checked
