#!/bin/bash
# Busy lamps (issue "business line", item 7): SUBSCRIBE for the dialog
# event package (RFC 4235) from the subscriber's subscribecontext.
#
# 102-tfg (subscribecontext=hints-tfg, as the seed's peers) subscribes to
# extension 101, whose hint is SIP/101-tfg; a SIPp subscriber checks every
# NOTIFY. While 100-tfg calls 101-tfg (a SIPp UAS that rings 1.5 s,
# answers, and gets a BYE after 1.5 s), the subscriber must receive, in
# order: terminated (idle, right after the 200), early (ringing, direction
# recipient), confirmed (answered), terminated (hung up), with dialog-info
# versions 0..3; then it unsubscribes (Expires: 0) and gets the final
# NOTIFY "terminated;reason=timeout". Also: the SUBSCRIBE is challenged
# (401), an extension without hint is 404, and nothing is left behind.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

conf_extensions_calls
cat >> "$CONF/extensions.conf" <<'EOF'

[hints-tfg]
exten => 101,hint,SIP/101-tfg
exten => 100,hint,SIP/100-tfg
EOF
conf_sip_general realm=tandem
conf_tfg_peers qualify=no subscribecontext=hints-tfg
conf_sip_peer 102-tfg qualify=no subscribecontext=hints-tfg
tandem_start
UAS_PORT=$(free_port) UAC_PORT=$(free_port) SUB_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
users_csv "$T/sub.csv" 102-tfg
sipp_register_ok reg101 101-tfg tf2020 "$UAS_PORT"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg

# ---- an extension without hint: 404 after the challenge
cat > "$T/sub404.xml" <<'EOF'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="sub404">
  <send retrans="500" start_txn="s1"><![CDATA[

      SUBSCRIBE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:[field0]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 SUBSCRIBE
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Event: dialog
      Expires: 600
      Content-Length: 0

  ]]></send>
  <recv response="401" auth="true" response_txn="s1"/>
  <send retrans="500" start_txn="s2"><![CDATA[

      SUBSCRIBE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      Max-Forwards: 70
      From: <sip:[field0]@[remote_ip]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 2 SUBSCRIBE
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      [authentication username="[field0]" password="[field1]"]
      Event: dialog
      Expires: 600
      Content-Length: 0

  ]]></send>
  <recv response="404" response_txn="s2"/>
</scenario>
EOF
sipp_run sub404 20 -sf "$T/sub404.xml" -inf "$T/sub.csv" -i "$SIP_ADDR" -p "$SUB_PORT" \
	-s 555 -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" \
	|| { rc=$?; sipp_fail_details sub404; fail "SUBSCRIBE for 555 (no hint): SIPp exited $rc"; }
ok "SUBSCRIBE for an extension without hint: 401, then 404"

# ---- the lamp follows a call: idle, early, confirmed, idle; unsubscribe
sipp_bg blf 60 -sf "$SIPP_DIR/blf_subscribe.xml" -inf "$T/sub.csv" -i "$SIP_ADDR" \
	-p "$SUB_PORT" -s 101 -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")"
SUB_PID=$BG_PID
subscribed() { grep -q "presence: 102-tfg subscribed to dialog 101@hints-tfg" "$E2E_LOG"; }
wait_until 10 "102-tfg's subscription to 101@hints-tfg in the log" subscribed
sleep 0.5    # the first NOTIFY (idle) is answered before the call starts
ok "102-tfg subscribed to 101 (401, then 200 and NOTIFY terminated)"

uas_start blf_uas blf_uas.xml 1
# shellcheck disable=SC2046
sipp_run blf_call 40 $(uac_args call_uac_auth.xml) -m 1 -d 1500 \
	|| { rc=$?; sipp_fail_details blf_call; fail "call 100-tfg -> 101-tfg: SIPp UAC exited $rc"; }
sipp_wait blf_uas "$UAS_PID" "the watched phone 101-tfg"
ok "100-tfg called 101-tfg: rang 1.5 s, answered, hung up after 1.5 s"

sipp_wait blf "$SUB_PID" "the BLF subscriber (NOTIFY early/confirmed/terminated, then unsubscribe)"
ok "the subscriber got NOTIFY terminated, early, confirmed, terminated (versions 0-3) and the final NOTIFY after Expires: 0"
assert_file_match "$E2E_LOG" "102-tfg's dialog subscription to 101@hints-tfg ended \(timeout\)" \
	"the unsubscribe in the log"
wait_until 5 "calls left after the call: $(cat "$T/calls.json" 2>/dev/null)" no_calls
assert_alive "after the BLF exchange"
tandem_stop_checked
