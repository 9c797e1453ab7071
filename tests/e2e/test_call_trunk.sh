#!/bin/bash
# The seed's outbound dialplan through a trunk that authenticates: with
# examples/tfg, 100-tfg dials the mobile 600123456; from-tfg's tfg_moviles
# runs Dial(${mor_tfg}34${EXTEN}) = Dial(SIP/trunk-tfg/34600123456). The
# "provider" (a SIPp UAS on the trunk peer's host:port) checks the
# Request-URI is sip:34600123456@..., challenges with 401, verifies the
# digest (defaultuser/secret of [trunk-tfg]) and answers. One ANSWERED
# call record results, with lastapp Dial.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

conf_from_example 127.0.0.1
TRUNK_PORT=$(free_port)
cat >> "$CONF/sip.conf" <<CONF

[trunk-tfg]
type=peer
host=127.0.0.1
port=$TRUNK_PORT
defaultuser=trunkuser
secret=trunkpass
insecure=port,invite
context=in-tfg
disallow=all
allow=alaw
CONF
tandem_start

bg provider timeout -k 3 30 sipp -sf "$SIPP_DIR/trunk_uas_auth.xml" -i 127.0.0.1 \
	-p "$TRUNK_PORT" -m 1 -nostdin -trace_err -error_file "$T/sipp.provider.err"
PROV=$BG_PID
sleep 0.3
users_csv "$T/caller.csv" "100-tfg"
sipp_run caller 30 -sf "$SIPP_DIR/call_uac_auth.xml" -inf "$T/caller.csv" -s 600123456 \
	-d 500 -m 1 -i 127.0.0.1 -p "$(free_port)" "$(hostport "$SIP_ADDR" "$SIP_PORT")" || {
	sipp_fail_details caller
	fail "call from 100-tfg to 600123456 through trunk-tfg failed"
}
wait "$PROV" || fail "the provider did not see the expected INVITE/credentials: $(tail -5 "$T/sipp.provider.err" 2>/dev/null)"
ok "100-tfg -> 600123456 left as sip:34600123456@trunk, answered after digest auth"

ctl cdr --last 1 --json > "$T/cdr.json" || fail "tandemctl cdr --last 1 --json failed"
assert_eq "$(jq_py "$T/cdr.json" 'd["cdr"][-1]["disposition"]')" "ANSWERED" "disposition"
assert_eq "$(jq_py "$T/cdr.json" 'd["cdr"][-1]["dst"]')" "600123456" "dst"
assert_eq "$(jq_py "$T/cdr.json" 'd["cdr"][-1]["dcontext"]')" "from-tfg" "dcontext"
assert_eq "$(jq_py "$T/cdr.json" 'd["cdr"][-1]["lastapp"]')" "Dial" "lastapp"
assert_match "$(jq_py "$T/cdr.json" 'd["cdr"][-1]["lastdata"]')" '^SIP/trunk-tfg/34600123456' "lastdata"
ok "call record: ANSWERED, dst 600123456, Dial(SIP/trunk-tfg/34600123456)"
tandem_stop_checked

# ---- inbound: the provider calls the DID 997452141 from the trunk's
# address; [trunk-tfg] has insecure=port,invite, so it is recognised by
# its host and not challenged, and the call enters context in-tfg (the
# seed's inbound line, which answers first; its macros then loop as
# Asterisk's would, see docs/configure.md, and the call ends).
tandem_start
users_csv "$T/provider.csv" provider
sipp_run did 30 -sf "$SIPP_DIR/call_uac.xml" -inf "$T/provider.csv" -s 997452141 -d 2000 -m 1 -i 127.0.0.1 \
	-p "$TRUNK_PORT" "$(hostport "$SIP_ADDR" "$SIP_PORT")" || true
grep -q '^SIP/2.0 407' "$T/sipp.did.msg" && fail "the provider's INVITE was challenged (insecure=invite)"
grep -q '^SIP/2.0 200' "$T/sipp.did.msg" || fail "the DID call was not answered by in-tfg's Answer(): $(grep '^SIP/2.0' "$T/sipp.did.msg" | head -3)"
ctl cdr --last 1 --json > "$T/cdr2.json" || fail "tandemctl cdr failed"
assert_eq "$(jq_py "$T/cdr2.json" 'd["cdr"][-1]["dcontext"]')" "in-tfg" "inbound dcontext"
assert_eq "$(jq_py "$T/cdr2.json" 'd["cdr"][-1]["dst"]')" "997452141" "inbound dst"
ok "a call to the DID from the trunk entered in-tfg and was answered"
tandem_stop_checked
