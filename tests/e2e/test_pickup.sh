#!/bin/bash
# Call pickup (issue 4 item 7): 100-tfg calls 101-tfg, which rings and
# never answers. 100-tfg's pickupgroup (1) is not 101-tfg's callgroup (38):
# its *8 gets 480 and the call keeps ringing. 102-tfg (pickupgroup 38)
# dials *8: it gets 200, 101-tfg gets a CANCEL, `tandemctl calls --json`
# shows the call Up bridged to 102-tfg, the CDR is ANSWERED with 102-tfg's
# channel as dstchannel, and 102-tfg's BYE reaches the caller. Then the
# directed Pickup(101-tfg) (extension 8101) and PickupChan(SIP/101-tfg)
# (extension 8102) from the dialplan do the same; a picked call that the
# caller hangs up: the picker gets the BYE. Last, a picker that ACKs
# late gets our 200 again until its ACK, and one that never ACKs gets it
# until 64*T1, then both sides get a BYE (RFC 3261 13.3.1.4).
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

ringing() { [ "$(call_count)" = 1 ] && [ "$(jq_py "$T/calls.json" 'd["calls"][0]["state"]')" = Ringing ]; }
picked() {
	[ "$(call_count)" = 1 ] && [ "$(jq_py "$T/calls.json" 'd["calls"][0]["state"]')" = Up ] &&
	[ "$(jq_py "$T/calls.json" '[l["peer"] for l in d["calls"][0]["legs"] if l["bridged"]][0]')" = 102-tfg ]
}

conf_extensions_calls
cat >> "$CONF/extensions.conf" <<'EOF'
exten => 8101,1,Pickup(101-tfg)
 same => n,Hangup()
exten => 8102,1,PickupChan(SIP/101-tfg)
 same => n,Hangup()
EOF
# T1 = 200 ms (sip.conf timert1): 64*T1 is 12.8 s instead of 32 s; our
# 200 goes out at 0, 0.2, 0.6, 1.4, 3.0, 6.2, 10.2 s until its ACK
conf_sip_general realm=tandem timert1=200
conf_sip_peer 100-tfg qualify=no callgroup=1 pickupgroup=1
conf_sip_peer 101-tfg qualify=no callgroup=38 pickupgroup=38
conf_sip_peer 102-tfg qualify=no callgroup=38 pickupgroup=38
tandem_start
UAS_PORT=$(free_port) UAC_PORT=$(free_port) PICK_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
users_csv "$T/picker.csv" 102-tfg
sipp_register_ok reg101 101-tfg tf2020 "$UAS_PORT"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg
SERVER=$(hostport "$SIP_ADDR" "$SIP_PORT")
sed 's/response="486"/response="480"/' "$SIPP_DIR/call_uac_auth_reject.xml" > "$T/refused.xml"

# pick_round N EXTEN [caller [PICKER_SCENARIO]]: 100-tfg rings 101-tfg;
# 102-tfg dials EXTEN and takes it; 102-tfg hangs up, or the caller with
# "caller"
pick_round() {
	local n=$1 ext=$2 byer=${3:-picker} csc=call_uac_auth_recvbye.xml psc=call_uac_auth.xml
	[ "$byer" = caller ] && { csc=call_uac_auth.xml; psc=call_uac_auth_recvbye.xml; }
	psc=${4:-$psc}
	uas_start "uas$n" call_uas_cancel.xml 1
	sipp_bg "caller$n" 40 -sf "$SIPP_DIR/$csc" -inf "$T/caller.csv" \
		-i "$SIP_ADDR" -p "$UAC_PORT" -s 101-tfg -m 1 -d 3000 "$SERVER"
	CALLER_PID=$BG_PID
	wait_until 5 "call $n listed Ringing: $(cat "$T/calls.json" 2>/dev/null)" ringing
	if [ "$n" = 1 ]; then
		# 100-tfg's pickupgroup 1 does not cover 101-tfg's callgroup 38
		sipp_bg refused 20 -sf "$T/refused.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" \
			-p "$(free_port)" -s '*8' -m 1 "$SERVER"
		sipp_wait refused "$BG_PID" "*8 from 100-tfg (pickupgroup 1): 480 expected"
		ringing || fail "the call stopped ringing after a refused pickup: $(cat "$T/calls.json")"
		ok "*8 from a peer outside the pickup group: 480, the call keeps ringing"
	fi
	sipp_bg "picker$n" 30 -sf "$SIPP_DIR/$psc" -inf "$T/picker.csv" \
		-i "$SIP_ADDR" -p "$PICK_PORT" -s "$ext" -m 1 -d 3000 "$SERVER"
	PICKER_PID=$BG_PID
	wait_until 5 "call $n bridged to 102-tfg: $(cat "$T/calls.json" 2>/dev/null)" picked
	ok "call $n: $ext by 102-tfg: the call is Up, bridged to 102-tfg"
	local port_b
	port_b=$(jq_py "$T/calls.json" 'd["calls"][0]["media"]["port_b"]')
	sipp_wait "uas$n" "$UAS_PID" "101-tfg ringing: CANCEL expected once picked up"
	ok "call $n: 101-tfg got a CANCEL"
	sipp_wait "picker$n" "$PICKER_PID" "102-tfg dialling $ext: 200, then a BYE ($byer hangs up)"
	sipp_wait "caller$n" "$CALLER_PID" "caller 100-tfg: answered, then a BYE ($byer hangs up)"
	# the picker's 200 carries our answer: the relay's leg B
	grep -A40 "SIP/2.0 200 OK" "$T/sipp.picker$n.msg" | grep -q "^m=audio $port_b " ||
		fail "call $n: the 200 to 102-tfg does not offer the relay's port $port_b"
	ok "call $n: 102-tfg's 200 carries the relay's leg B (port $port_b)"
	wait_until 5 "calls left after the BYE: $(cat "$T/calls.json" 2>/dev/null)" no_calls
	ok "call $n: the $byer's BYE ended both sides"
	# CDRs: the picker's (dst EXTEN) at the pickup, then the picked call's
	ctl cdr --last 2 --json > "$T/cdr.json" || fail "tandemctl cdr --last 2 --json: exit $?"
	assert_eq "$(jq_py "$T/cdr.json" 'd["cdr"][-1]["dst"]')" 101-tfg "picked call's CDR dst"
	assert_eq "$(jq_py "$T/cdr.json" 'd["cdr"][-1]["disposition"]')" ANSWERED "picked call's disposition"
	assert_match "$(jq_py "$T/cdr.json" 'd["cdr"][-1]["dstchannel"]')" '^SIP/102-tfg-' "picked call's dstchannel"
	assert_eq "$(jq_py "$T/cdr.json" 'd["cdr"][-2]["dst"]')" "$ext" "picker's CDR dst"
	assert_eq "$(jq_py "$T/cdr.json" 'd["cdr"][-2]["disposition"]')" ANSWERED "picker's disposition"
	ok "call $n: CDR ANSWERED with dstchannel $(jq_py "$T/cdr.json" 'd["cdr"][-1]["dstchannel"]')"
}

pick_round 1 '*8'
pick_round 2 8101
pick_round 3 8102
pick_round 4 '*8' caller
# the picker ACKs only 1.8 s after the first 200: Tandem sends it again
# (0.5 s, 1.5 s) and stops at the ACK (the next would be at 3.5 s, while
# the picker still holds the call)
pick_round 5 '*8' picker pick_uac_lateack.xml
N200=$(grep -c "^CSeq: 2 INVITE" <(grep -A12 "^SIP/2.0 200 OK" "$T/sipp.picker5.msg"))
[ "$N200" -ge 3 ] && [ "$N200" -le 4 ] ||
	fail "the late-ACK picker (ACK after 1.8 s) got the 200 to its INVITE $N200 times (3 or 4 expected)"
ok "a picker that ACKs late: the 200 sent $N200 times until its ACK, then no more"

# a picker that never ACKs: the 200 goes out until 64*T1, then the call
# ends (BYE to both), as for a caller that never ACKs
sed 's/timeout="30000"/timeout="45000"/' "$SIPP_DIR/call_uac_auth_recvbye.xml" > "$T/caller_long.xml"
UAS_TIMEOUT=60 uas_start uas6 call_uas_cancel.xml 1
sipp_bg caller6 60 -sf "$T/caller_long.xml" -inf "$T/caller.csv" \
	-i "$SIP_ADDR" -p "$UAC_PORT" -s 101-tfg -m 1 "$SERVER"
CALLER_PID=$BG_PID
wait_until 5 "call 6 listed Ringing" ringing
sipp_bg picker6 60 -sf "$SIPP_DIR/pick_uac_noack.xml" -inf "$T/picker.csv" \
	-i "$SIP_ADDR" -p "$PICK_PORT" -s '*8' -m 1 "$SERVER"
PICKER_PID=$BG_PID
wait_until 5 "call 6 bridged to 102-tfg" picked
sipp_wait uas6 "$UAS_PID" "101-tfg ringing: CANCEL expected once picked up"
wait_until 40 "no ACK from the picker: the call hung up" grep -q "no ACK for our 200 OK, hanging up" "$E2E_LOG"
sipp_wait picker6 "$PICKER_PID" "the picker that never ACKs: a BYE at the end"
sipp_wait caller6 "$CALLER_PID" "the caller of a picked call that was never ACKed: a BYE"
wait_until 5 "no call left" no_calls
N200=$(grep -c "^CSeq: 2 INVITE" <(grep -A12 "^SIP/2.0 200 OK" "$T/sipp.picker6.msg"))
[ "$N200" -ge 5 ] || fail "the picker that never ACKs got the 200 $N200 times (T1=200 ms to T2 over 12.8 s: 7)"
ok "a picker that never ACKs: the 200 sent $N200 times, then both sides got a BYE"
grep -q "picked up by SIP/102-tfg" "$E2E_LOG" || fail "tandemd's log does not say the call was picked up"

assert_alive "end of test"
tandem_stop_checked
