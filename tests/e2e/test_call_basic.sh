#!/bin/bash
# Basic B2BUA calls with SIPp on both sides (issue "B2BUA signalling").
#
# 101-tfg registers from port P and a SIPp UAS answers there; a SIPp UAC
# calls as 100-tfg (challenged with 407, password tf2020). Through the
# dialplan (lib_call.sh), sip:101-tfg@tandem rings the registered peer
# 101-tfg. Five calls in a row all complete and leave no call behind; a
# long call is listed by `tandemctl calls --json` as Up with its bridged
# leg; `tandemctl calls hangup ID` ends a call with a BYE to both sides,
# and so does stopping tandemd (SIGTERM) with a call up.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

call_setup
ok "101-tfg registered from port $UAS_PORT"
assert_eq "$(call_count)" 0 "calls before any call"

# ---- five calls, 407 challenge each, 500 ms talk, all complete
uas_start uas5 call_uas.xml 5
# shellcheck disable=SC2046
sipp_run uac5 40 $(uac_args call_uac_auth.xml) -m 5 -r 5 -d 500 \
	|| { rc=$?; sipp_fail_details uac5; fail "5 calls 100-tfg -> 101-tfg: SIPp UAC exited $rc"; }
sipp_wait uas5 "$UAS_PID" "the callee of the 5 calls"
ok "5 calls 100-tfg -> 101-tfg (407 challenge, 500 ms each): all succeeded on both sides"
wait_until 5 "calls left after the 5 calls ended: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "tandemctl calls --json: no call left"

# ---- a long call (6 s) is listed Up with its bridged leg
uas_start uas_long call_uas.xml 1
# shellcheck disable=SC2046
sipp_bg uac_long 30 $(uac_args call_uac_auth.xml) -m 1 -d 6000
UAC_PID=$BG_PID
wait_until 5 "the long call listed Up: $(cat "$T/calls.json" 2>/dev/null)" call_up
billsec1() { call_up && [ "$(jq_py "$T/calls.json" 'd["calls"][0]["billsec"]')" -ge 1 ]; }
wait_until 3 "the long call Up with billsec >= 1: $(cat "$T/calls.json" 2>/dev/null)" billsec1
python3 - "$T/calls.json" <<'EOF' || fail "calls --json during the long call: $(cat "$T/calls.json" 2>/dev/null)"
import json, re, sys
c = json.load(open(sys.argv[1]))["calls"][0]
def bad(msg):
    print('FAIL: ' + msg, file=sys.stderr)
    sys.exit(1)
for k, v in (("state", "Up"), ("caller", "100-tfg"), ("exten", "101-tfg"), ("context", "default")):
    if c.get(k) != v:
        bad("%s is %r, expected %r" % (k, c.get(k), v))
if not isinstance(c.get("id"), int):
    bad("id %r is not a number" % c.get("id"))
if not re.fullmatch(r"SIP/100-tfg-[0-9a-f]{8}", str(c.get("channel"))):
    bad("channel %r, expected SIP/100-tfg-XXXXXXXX" % c.get("channel"))
if not (isinstance(c.get("billsec"), int) and isinstance(c.get("duration"), int)
        and 1 <= c["billsec"] <= c["duration"] <= 10):
    bad("duration %r / billsec %r, 1 s or more up" % (c.get("duration"), c.get("billsec")))
legs = c.get("legs")
if not isinstance(legs, list) or len(legs) != 1:
    bad("legs %r, expected one" % legs)
l = legs[0]
if l.get("peer") != "101-tfg" or l.get("bridged") is not True \
        or not re.fullmatch(r"SIP/101-tfg-[0-9a-f]{8}", str(l.get("channel"))):
    bad("leg %r, expected peer 101-tfg, bridged true, channel SIP/101-tfg-XXXXXXXX" % l)
print("ok: call %d Up, %s -> %s, billsec %d" % (c["id"], c["channel"], l["channel"], c["billsec"]))
EOF
ok "calls --json lists the long call Up with its bridged leg"
sipp_wait uac_long "$UAC_PID" "the long call's caller"
sipp_wait uas_long "$UAS_PID" "the long call's callee"
wait_until 5 "calls left after the long call: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "long call (6 s) completed, no call left"

# ---- tandemctl calls hangup ID: BYE to the caller and to the callee
uas_start uas_hup call_uas.xml 1
# shellcheck disable=SC2046
sipp_bg uac_hup 30 $(uac_args call_uac_auth_recvbye.xml) -m 1
UAC_PID=$BG_PID
wait_until 5 "the call to hang up listed Up: $(cat "$T/calls.json" 2>/dev/null)" call_up
id=$(jq_py "$T/calls.json" 'd["calls"][0]["id"]')
ctl calls hangup "$id" > "$T/hangup.out" || fail "tandemctl calls hangup $id: exit $? ($(cat "$T/ctl.err"))"
ok "tandemctl calls hangup $id: $(cat "$T/hangup.out")"
sipp_wait uac_hup "$UAC_PID" "caller after tandemctl calls hangup (BYE expected)"
sipp_wait uas_hup "$UAS_PID" "callee after tandemctl calls hangup (BYE expected)"
ok "after the hangup both the caller and the callee got a BYE and answered 200"
wait_until 5 "calls left after the hangup: $(cat "$T/calls.json" 2>/dev/null)" no_calls
rc=0; ctl calls hangup "$id" > /dev/null || rc=$?
assert_eq "$rc" 1 "tandemctl calls hangup of a call that is gone: exit status"
[ -s "$T/ctl.err" ] || fail "tandemctl calls hangup of a call that is gone: no message on stderr"
ok "hangup of an ended call: exit 1 ($(cat "$T/ctl.err"))"

# ---- nothing leaked: every RTP port back, no relay left
ctl status --json > "$T/status.json" || fail "tandemctl status --json failed"
assert_eq "$(jq_py "$T/status.json" 'd["rtp"]["ports_in_use"]')" 0 "RTP ports in use after the calls"
assert_eq "$(jq_py "$T/status.json" 'd["rtp"]["relays"]')" 0 "RTP relays after the calls"
ok "no RTP port or relay left after the calls"

# ---- SIGTERM with a call up: both sides get a BYE before tandemd exits
uas_start uas_term call_uas.xml 1
# shellcheck disable=SC2046
sipp_bg uac_term 30 $(uac_args call_uac_auth_recvbye.xml) -m 1
UAC_PID=$BG_PID
wait_until 5 "the call listed Up before SIGTERM: $(cat "$T/calls.json" 2>/dev/null)" call_up
assert_alive "before SIGTERM with a call up"
tandem_stop_checked
sipp_wait uac_term "$UAC_PID" "caller when tandemd stopped on SIGTERM (BYE expected)"
sipp_wait uas_term "$UAS_PID" "callee when tandemd stopped on SIGTERM (BYE expected)"
ok "SIGTERM with a call up: caller and callee both got a BYE"
