#!/bin/bash
# Late offer (RFC 3261 13.2.1, RFC 3264 5): a caller whose INVITE has no
# SDP (issue "Calls", B2BUA). Tandem, as a B2BUA:
# - Dial: sends its own offer to the callee (SDP from the callee peer's
#   allow= list, through the relay), puts an offer in the 200 OK to the
#   caller once the callee answered (the callee's codec first) and takes
#   the caller's answer from its ACK; audio then flows both ways: RTP sent
#   to the relay's caller-side port comes back through the callee (a SIPp
#   rtp_echo) to the address the caller's ACK gave, and the packet
#   counters of `tandemctl calls --json` show it.
# - Answer() in the dialplan: the same, with no callee (offer in the 200,
#   answer in the ACK, RTP from the caller counted).
# - An ACK without the answer ends the call with a BYE (to both sides).
# Afterwards no call, RTP port or relay is left.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

conf_extensions_calls
cat >> "$CONF/extensions.conf" <<'EOF'
exten => answer,1,Answer()
 same => n,Wait(10)
 same => n,Hangup()
EOF
conf_sip_general realm=tandem
conf_tfg_peers qualify=no
tandem_start
UAS_PORT=$(free_port) UAC_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
sipp_register_ok reg101 101-tfg tf2020 "$UAS_PORT"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg

no_leak() {  # WHAT: no call listed, no RTP port or relay in use
	wait_until 10 "calls left after $1: $(cat "$T/calls.json" 2>/dev/null)" no_calls
	ctl status --json > "$T/status.json" || fail "tandemctl status --json failed"
	assert_eq "$(jq_py "$T/status.json" 'd["rtp"]["ports_in_use"]')" 0 "RTP ports in use after $1"
	assert_eq "$(jq_py "$T/status.json" 'd["rtp"]["relays"]')" 0 "RTP relays after $1"
	assert_alive "after $1"
}
media() { jq_py "$T/calls.json" "d['calls'][0]['media'][\"$1\"]"; }
# up_with CODEC_A: the call is Up and the caller's answer (in its ACK) gave
# leg A its codec
up_with() { call_up && [ "$(media codec_a)" = "$1" ]; }

# rtp LPORT DPORT N: send N PCMA packets (20 ms apart) from 127.0.0.1:LPORT
# to the relay's DPORT, count what comes back to LPORT; prints
# "sent N received M pts P".
cat > "$T/rtp.py" <<'EOF'
import socket, struct, sys, time
lport, dport, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', lport))
s.setblocking(False)
got, pts = 0, set()
def drain():
    global got
    while True:
        try:
            d = s.recv(2048)
        except BlockingIOError:
            return
        if len(d) >= 12 and d[0] >> 6 == 2:
            got += 1
            pts.add(d[1] & 0x7f)
for i in range(n):
    hdr = struct.pack('!BBHII', 0x80, 8, 1000 + i, 160 * i, 0x5eed1234)
    s.sendto(hdr + b'\xd5' * 160, ('127.0.0.1', dport))
    time.sleep(0.02)
    drain()
end = time.time() + 1.0
while time.time() < end:
    time.sleep(0.05)
    drain()
print('sent %d received %d pts %s' % (n, got, ','.join(map(str, sorted(pts))) or '-'))
EOF

# sdp_of FILE DIR FIRSTLINE-ERE CSEQ-METHOD: the body of the first SIPp-traced
# message (DIR "sent"/"received") whose first line matches, one line each.
sdp_of() {
	python3 - "$@" <<'EOF'
import re, sys
f, d, first, met = sys.argv[1:5]
for m in re.split(r'\n-{20,}[^\n]*\n', '\n' + open(f, errors='replace').read()):
    head, _, rest = m.partition('\n')
    if d not in head:
        continue
    msg = rest.lstrip('\n').replace('\r', '')
    hdrs, _, body = msg.partition('\n\n')
    if re.match(first, hdrs) and re.search(r'(?im)^CSeq:\s*\d+\s+' + met + r'\s*$', hdrs):
        print(body.strip())
        break
EOF
}

# ---- Dial: offer to the callee, offer in the 200, answer in the ACK, audio
UAS_MP=$(free_port) RTP_PORT=$(free_port)
uas_start uas_late call_uas.xml 1 -rtp_echo -mp "$UAS_MP"
# shellcheck disable=SC2046
sipp_bg uac_late 45 $(uac_args call_uac_auth_late.xml) -m 1 -d 10000 -key rtpport "$RTP_PORT"
UAC_PID=$BG_PID
wait_until 10 "late-offer call Up with the caller's answer applied: $(cat "$T/calls.json" 2>/dev/null)" \
	up_with PCMA
assert_eq "$(media codec_b)" PCMA "the callee's codec (from its answer to our offer)"
port_a=$(media port_a)
out=$(python3 "$T/rtp.py" "$RTP_PORT" "$port_a" 50) || fail "rtp.py failed"
note "caller's RTP: $out"
got=$(echo "$out" | awk '{print $4}')
[ "$got" -ge 25 ] || fail "RTP sent to the relay came back $got times of 50 (callee echoes): $out"
assert_match "$out" 'pts 8$' "payload types coming back to the caller (PCMA only)"
calls_json
for k in rx_a tx_b rx_b tx_a; do
	v=$(media "$k")
	[ "$v" -ge 25 ] || fail "media counter $k is $v after 50 packets each way: $(cat "$T/calls.json")"
done
ok "late offer, Dial: media both ways ($out; rx_a $(media rx_a) tx_b $(media tx_b) rx_b $(media rx_b) tx_a $(media tx_a))"
sipp_wait uac_late "$UAC_PID" "late-offer caller (200 with an offer, answer in the ACK, BYE)"
sipp_wait uas_late "$UAS_PID" "callee of the late-offer call (gets our offer, BYE)"
off_b=$(sdp_of "$T/sipp.uas_late.msg" received '^INVITE ' INVITE)
assert_match "$off_b" 'm=audio [1-9][0-9]* RTP/AVP [0-9 ]+' "our offer in the INVITE to the callee"
assert_match "$off_b" 'c=IN IP4 127\.0\.0\.1' "our offer to the callee: the relay's address"
off_a=$(sdp_of "$T/sipp.uac_late.msg" received '^SIP/2\.0 200' INVITE)
assert_match "$off_a" "m=audio $port_a RTP/AVP 8( |$)" "our offer in the 200 to the caller (relay port, callee's PCMA first)"
no_leak "the late-offer call"
ok "late offer, Dial: offer to the callee, offer in the 200 (m=audio $port_a RTP/AVP 8...), answer from the ACK, nothing left"

# ---- Dial, but the ACK carries no answer: BYE to both sides
uas_start uas_noans call_uas.xml 1
# shellcheck disable=SC2046
sipp_run uac_noans 45 $(uac_args call_uac_auth_late_noanswer.xml) -m 1 \
	|| { rc=$?; sipp_fail_details uac_noans; fail "late-offer caller whose ACK has no SDP: no BYE from Tandem (SIPp exited $rc)"; }
sipp_wait uas_noans "$UAS_PID" "callee of a call whose caller ACKed without an answer (BYE expected)"
grep -q "ACK has no usable SDP answer" "$E2E_LOG" || fail "tandemd's log does not say why the call ended"
no_leak "the ACK without an answer"
ok "late offer, ACK without SDP: the call ended with a BYE to the caller and to the callee"

# ---- Answer() in the dialplan: offer in the 200, answer in the ACK
# shellcheck disable=SC2046
sipp_bg uac_ans 45 -sf "$SIPP_DIR/call_uac_auth_late_recvbye.xml" -inf "$T/caller.csv" \
	-i "$SIP_ADDR" -p "$UAC_PORT" -s answer -m 1 -key rtpport "$RTP_PORT" \
	"$(hostport "$SIP_ADDR" "$SIP_PORT")"
UAC_PID=$BG_PID
wait_until 10 "Answer()ed late-offer call Up with the caller's answer applied: $(cat "$T/calls.json" 2>/dev/null)" \
	up_with PCMA
port_a=$(media port_a)
out=$(python3 "$T/rtp.py" "$RTP_PORT" "$port_a" 20) || fail "rtp.py failed"
calls_json
v=$(media rx_a)
[ "$v" -ge 15 ] || fail "RTP from the caller of an Answer()ed call: rx_a $v of 20: $(cat "$T/calls.json")"
sipp_wait uac_ans "$UAC_PID" "late-offer caller answered by Answer() (BYE after Wait(10))"
off_a=$(sdp_of "$T/sipp.uac_ans.msg" received '^SIP/2\.0 200' INVITE)
assert_match "$off_a" "m=audio $port_a RTP/AVP [0-9 ]*8" "our offer in the 200 of Answer() (caller's allow= list)"
grep -q "Answer() without" "$E2E_LOG" && fail "Answer() refused a late offer: $(grep "Answer() without" "$E2E_LOG")"
no_leak "the Answer()ed late-offer call"
ok "late offer, Answer(): offer in the 200, answer from the ACK, caller's RTP counted (rx_a $v), BYE after Wait(10)"

# ---- Answer() and an ACK without an answer: BYE
sipp_run uac_ans_noans 45 -sf "$SIPP_DIR/call_uac_auth_late_noanswer.xml" -inf "$T/caller.csv" \
	-i "$SIP_ADDR" -p "$UAC_PORT" -s answer -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" \
	|| { rc=$?; sipp_fail_details uac_ans_noans; fail "Answer(), ACK without SDP: no BYE from Tandem (SIPp exited $rc)"; }
no_leak "Answer() and an ACK without an answer"
ok "late offer, Answer() and an ACK without SDP: BYE at once"

assert_alive "end of test"
tandem_stop_checked
