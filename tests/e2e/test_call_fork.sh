#!/bin/bash
# Forking (issue "B2BUA signalling", Dial(SIP/a&SIP/b)): one call rings two
# registered peers at once. Until the dialplan drives calls, the router
# dials the Request-URI user as Dial's argument, so calling
# sip:101-tfg&102-tfg@tandem ('&' is allowed in a SIP user part) forks to
# both; extensions.conf has the same as an extension for the dialplan.
# - both ring, 101-tfg answers: 102-tfg gets a CANCEL (200 + 487 + ACK);
#   calls --json shows both legs while ringing, then the bridged one;
# - 101-tfg busy, 102-tfg answers: the call goes through;
# - both refuse (480, 486): the caller gets 486.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

# state_legs: "STATE bridged-peer(s) leg-peers" of the only call
state_legs() {
	calls_json
	jq_py "$T/calls.json" '"%s %s %s" % (d["calls"][0]["state"], ",".join(l["peer"] for l in d["calls"][0]["legs"] if l["bridged"]) or "-", ",".join(sorted(l["peer"] for l in d["calls"][0]["legs"])))'
}
# uas_on A|B NAME SCENARIO ARGS...: uas_start (one call) for 101-tfg on
# $PA or 102-tfg on $PB (which uas_start may move to a fresh port)
uas_on() {
	if [ "$1" = A ]; then UAS_PORT=$PA UAS_PEER=101-tfg; else UAS_PORT=$PB UAS_PEER=102-tfg; fi
	uas_start "$2" "$3" 1 "${@:4}"
	if [ "$1" = A ]; then PA=$UAS_PORT; else PB=$UAS_PORT; fi
}
# reject_sc CODE REASON: call_uas_reject.xml answering "CODE REASON"
reject_sc() {
	sed "s/SIP\/2.0 486 Busy Here/SIP\/2.0 $1 $2/" "$SIPP_DIR/call_uas_reject.xml" > "$T/call_uas_reject_$1.xml"
	echo "$T/call_uas_reject_$1.xml"
}
FORK='101-tfg&102-tfg'

conf_extensions_calls
conf_sip_general realm=tandem
conf_tfg_peers qualify=no
conf_sip_peer 102-tfg qualify=no
tandem_start

PA=$(free_port) PB=$(free_port) UAC_PORT=$(free_port) UAS_PORT=$PA
users_csv "$T/caller.csv" 100-tfg
sipp_register_ok reg101 101-tfg tf2020 "$PA"
sipp_register_ok reg102 102-tfg tf2020 "$PB"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg
wait_until 3 "102-tfg listed by tandemctl registrations" is_registered 102-tfg

# ---- both ring; 101-tfg answers 3 s later; 102-tfg gets a CANCEL
uas_on A uasA call_uas_slow.xml -d 3000; PID_A=$UAS_PID
uas_on B uasB call_uas_cancel.xml; PID_B=$UAS_PID
sipp_bg uac1 30 -sf "$SIPP_DIR/call_uac_auth.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" -p "$UAC_PORT" \
	-s "$FORK" -m 1 -d 3000 "$(hostport "$SIP_ADDR" "$SIP_PORT")"
UAC_PID=$BG_PID
ringing2() { [ "$(call_count)" = 1 ] && [ "$(state_legs)" = "Ringing - 101-tfg,102-tfg" ]; }
wait_until 3 "the forked call Ringing with legs to 101-tfg and 102-tfg, none bridged: $(cat "$T/calls.json" 2>/dev/null)" ringing2
ok "calls --json: Ringing, two legs (101-tfg, 102-tfg)"
upA() { [ "$(call_count)" = 1 ] && [[ $(state_legs) == "Up 101-tfg "* ]]; }
wait_until 6 "the forked call Up, bridged to 101-tfg: $(cat "$T/calls.json" 2>/dev/null)" upA
ok "calls --json: Up, bridged to 101-tfg"
sipp_wait uasB "$PID_B" "102-tfg (expects Tandem's CANCEL once 101-tfg answered, then the ACK of its 487)"
ok "102-tfg got a CANCEL, answered 200 + 487, got the ACK"
sipp_wait uac1 "$UAC_PID" "caller of the forked call (200 from 101-tfg, BYE after 3 s)"
sipp_wait uasA "$PID_A" "101-tfg (answers after 3 s, expects the caller's BYE)"
wait_until 5 "calls left after the forked call: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "forked call: 101-tfg answered, 102-tfg cancelled, BYE reached 101-tfg, no call left"

# ---- one callee busy, the other answers: the call goes through
uas_on A uasA2 "$(reject_sc 486 'Busy Here')"; PID_A=$UAS_PID
uas_on B uasB2 call_uas_slow.xml -d 500; PID_B=$UAS_PID
sipp_run uac2 30 -sf "$SIPP_DIR/call_uac_auth.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" -p "$UAC_PORT" \
	-s "$FORK" -m 1 -d 500 "$(hostport "$SIP_ADDR" "$SIP_PORT")" \
	|| { rc=$?; sipp_fail_details uac2; fail "forked call, 101-tfg busy, 102-tfg answers: caller's SIPp exited $rc"; }
sipp_wait uasA2 "$PID_A" "101-tfg answering 486 (expects the ACK)"
sipp_wait uasB2 "$PID_B" "102-tfg answering after 101-tfg's 486"
wait_until 5 "calls left: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "forked call: 101-tfg busy, 102-tfg answered, call completed"

# ---- both refuse: 486 wins over 480 (Dial's BUSY), the caller gets 486
uas_on A uasA3 "$(reject_sc 480 'Temporarily Unavailable')"; PID_A=$UAS_PID
uas_on B uasB3 "$(reject_sc 486 'Busy Here')"; PID_B=$UAS_PID
sipp_run uac3 30 -sf "$SIPP_DIR/call_uac_auth_reject.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" -p "$UAC_PORT" \
	-s "$FORK" -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" \
	|| { rc=$?; sipp_fail_details uac3; fail "forked call, 101-tfg 480, 102-tfg 486: caller did not get 486 (SIPp exited $rc)"; }
sipp_wait uasA3 "$PID_A" "101-tfg answering 480 (expects the ACK)"
sipp_wait uasB3 "$PID_B" "102-tfg answering 486 (expects the ACK)"
wait_until 5 "calls left: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "forked call: 480 + 486 -> caller 486"

assert_alive "end of test"
tandem_stop_checked
