#!/bin/bash
# Bad input on calls (issue "Calls", Bad input): after each case no call is
# left in `tandemctl calls --json` and `tandemctl status --json` shows no
# RTP port or relay in use.
# - A malformed SDP offer gets 488 (RFC 3261 21.4.26), whatever its
#   shape: garbage under Content-Type application/sdp, no acceptable
#   codec, a truncated c= line (with and without an address), no audio
#   stream, a body cut in the middle of a line.
# - A callee that never answers at all (no 100, nothing: a silent socket
#   on its registered contact): the caller gets 480 when the Dial timeout
#   expires, and, with no Dial timeout, when Timer B ends the INVITE
#   (sip.conf timerb=10000 here, with timert1=250: INVITEs at 0, 0.25,
#   0.75, 1.75, 3.75 and 7.75 s, six, where the default T1 would send
#   five); no CANCEL is sent for an INVITE without a provisional response
#   (RFC 3261 9.1).
# - A callee that sends garbage on the SIP socket mid-call (not SIP, a
#   truncated request, a stray response, an absurd Content-Length), then
#   a normal BYE: the call stays up through the garbage and ends on the
#   BYE, the caller getting its BYE.
# - A callee that vanishes mid-call (no BYE, answers nothing): the
#   caller's BYE still ends the call at once.
# - RTP flowing both ways keeps a call up past rtptimeout (here 4 s on
#   the callee's peer); when both sides vanish, that RTP timeout ends the
#   call with a BYE to each side.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

# sink PORT SECS OUT: a silent peer on PORT (a host that vanished): logs
# each datagram's first line and Call-ID to OUT, answers nothing. PID in
# SINK_PID; bind retried for 3 s (SIPp may just have left the port).
sink() {
	cat > "$T/sink.py" <<'EOF'
import re, socket, sys, time
port, secs, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(30):
    try:
        s.bind(('127.0.0.1', port))
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit('sink: cannot bind %d' % port)
end = time.time() + secs
with open(out, 'a', buffering=1) as f:
    f.write('ready\n')
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            d = s.recvfrom(65535)[0].decode('latin-1')
        except socket.timeout:
            break
        cid = re.search(r'(?im)^(?:call-id|i)\s*:\s*(\S+)', d)
        f.write('%s | %s\n' % (d.split('\r\n', 1)[0], cid.group(1) if cid else '-'))
EOF
	bg "sink.$1" python3 "$T/sink.py" "$1" "$2" "$3"
	SINK_PID=$BG_PID
	wait_until 5 "the silent peer on port $1 is not listening ($(cat "$T/sink.$1.out"))" \
		grep -qs ready "$3"
}

# no_leak WHAT: no call listed, no RTP port or relay in use.
no_leak() {
	wait_until 10 "calls left after $1: $(cat "$T/calls.json" 2>/dev/null)" no_calls
	ctl status --json > "$T/status.json" || fail "tandemctl status --json failed"
	assert_eq "$(jq_py "$T/status.json" 'd["rtp"]["ports_in_use"]')" 0 "RTP ports in use after $1"
	assert_eq "$(jq_py "$T/status.json" 'd["rtp"]["relays"]')" 0 "RTP relays after $1"
	assert_alive "after $1"
}

# reject_sc CODE: the caller's scenario expecting CODE (the tree's expects 486).
reject_sc() {
	sed "s/response=\"486\"/response=\"$1\"/" "$SIPP_DIR/call_uac_auth_reject.xml" > "$T/reject_$1.xml"
	grep -q "response=\"$1\" response_txn" "$T/reject_$1.xml" || fail "could not make reject_$1.xml"
	echo "$T/reject_$1.xml"
}

conf_extensions_calls
cat >> "$CONF/extensions.conf" <<'EOF'
exten => silent,1,Dial(SIP/101-tfg,3)
 same => n,Hangup()
EOF
conf_sip_general realm=tandem timert1=250 timerb=10000
conf_tfg_peers qualify=no
conf_sip_peer 102-tfg qualify=no rtptimeout=4
tandem_start
UAS_PORT=$(free_port) UAC_PORT=$(free_port) UAS2_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
sipp_register_ok reg101 101-tfg tf2020 "$UAS_PORT"
sipp_register_ok reg102 102-tfg tf2020 "$UAS2_PORT"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg
wait_until 3 "102-tfg listed by tandemctl registrations" is_registered 102-tfg
TARGET=$(hostport "$SIP_ADDR" "$SIP_PORT")

# ---------------------------------------------------------- malformed SDP
# shape name, then the body (lines; SIPp strips the indentation and ends
# each line with CRLF)
shapes() {
	cat <<'EOF'
%garbage
this is no SDP body @@@ {{{ }}} ;;;
v=0v=0v=0 o= s= c= m=
%nocodec
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 40000 RTP/AVP 18 98
a=rtpmap:18 G729/8000
a=rtpmap:98 opus/48000/2
%c_noaddr
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4
t=0 0
m=audio 40000 RTP/AVP 8
a=rtpmap:8 PCMA/8000
%c_truncaddr
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.
t=0 0
m=audio 40000 RTP/AVP 8
a=rtpmap:8 PCMA/8000
%noaudio
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=video 40002 RTP/AVP 96
a=rtpmap:96 H264/90000
%cut
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=aud
EOF
}
shapes | python3 -c '
import re, sys
src = open(sys.argv[1], encoding="latin-1").read()
shapes = re.split(r"^%", sys.stdin.read(), flags=re.M)[1:]
rx = re.compile(r"(Content-Length: \[len\]\n\n)(.*?)(\n\n    \]\]>)", re.S)
for sh in shapes:
    name, _, body = sh.partition("\n")
    body = "\n".join("      " + l for l in body.rstrip("\n").split("\n"))
    s, n = rx.subn(lambda m: m.group(1) + body + m.group(3), src)
    assert n == 2, (name, n)
    open("%s/badsdp_%s.xml" % (sys.argv[2], name), "w", encoding="latin-1").write(s)
    print(name)
' "$SIPP_DIR/call_uac_auth_badsdp.xml" "$T" > "$T/shapes.txt" || fail "could not write the bad SDP scenarios"
while read -r shape; do
	sipp_run "bad_$shape" 30 -sf "$T/badsdp_$shape.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" \
		-p "$UAC_PORT" -s 101-tfg -m 1 "$TARGET" \
		|| { rc=$?; sipp_fail_details "bad_$shape"; fail "SDP shape $shape: no 488 (SIPp exited $rc)"; }
	no_leak "the 488 for SDP shape $shape"
	ok "SDP offer '$shape' -> 488, ACKed; no call, RTP port or relay left"
done < "$T/shapes.txt"
assert_eq "$(wc -l < "$T/shapes.txt")" 6 "bad SDP shapes tried"

# ---------------------------------------------- a callee that never answers
SINK_LOG=$T/silent.log
sink "$UAS_PORT" 90 "$SINK_LOG"
t0=$(now_ms)
sipp_run silent_dial 30 -sf "$(reject_sc 480)" -inf "$T/caller.csv" -i "$SIP_ADDR" \
	-p "$UAC_PORT" -s silent -m 1 "$TARGET" \
	|| { rc=$?; sipp_fail_details silent_dial; fail "silent callee, Dial timeout 3 s: caller did not get 480 (SIPp exited $rc)"; }
dt=$(( $(now_ms) - t0 ))
if [ "$dt" -lt 2500 ] || [ "$dt" -ge 15000 ]; then
	fail "silent callee, Dial timeout 3 s: 480 after $dt ms"
fi
no_leak "a silent callee (Dial timeout)"
grep -q '^INVITE ' "$SINK_LOG" || fail "the silent callee got no INVITE: $(cat "$SINK_LOG")"
ok "callee that never answers, Dial(...,3): caller 480 after $dt ms, no call or port left"

t0=$(now_ms)
sipp_run silent_timerb 60 -sf "$(reject_sc 480)" -inf "$T/caller.csv" -i "$SIP_ADDR" \
	-p "$UAC_PORT" -s 101-tfg -m 1 "$TARGET" \
	|| { rc=$?; sipp_fail_details silent_timerb; fail "silent callee, no Dial timeout: caller did not get 480 after Timer B (SIPp exited $rc)"; }
dt=$(( $(now_ms) - t0 ))
if [ "$dt" -lt 9500 ] || [ "$dt" -ge 25000 ]; then
	fail "silent callee, no Dial timeout: 480 after $dt ms, not at Timer B (timerb=10000)"
fi
no_leak "a silent callee (Timer B)"
# the INVITEs of this call only (the sink also saw the previous case's)
cid=$(grep '^INVITE ' "$SINK_LOG" | tail -1 | sed 's/.* | //')
n=$(grep -c "^INVITE .* | $cid\$" "$SINK_LOG")
[ "$n" -ge 6 ] || fail "the silent callee got $n INVITEs, not the 6 of timert1=250 (Timer A)? $(cat "$SINK_LOG")"
if grep -q '^CANCEL ' "$SINK_LOG"; then
	fail "CANCEL sent for an INVITE that got no provisional response (RFC 3261 9.1): $(cat "$SINK_LOG")"
fi
stop_pid "$SINK_PID"
ok "callee that never answers, no Dial timeout: caller 480 after $dt ms (timerb=10000), $n INVITEs (timert1=250), no CANCEL, no call or port left"

# ------------------------------------------------ garbage from the callee
uas_start uas_garbage call_uas_garbage.xml 1 -d 6000
sipp_bg uac_garbage 45 -sf "$SIPP_DIR/call_uac_auth_recvbye.xml" -inf "$T/caller.csv" \
	-i "$SIP_ADDR" -p "$UAC_PORT" -s 101-tfg -m 1 "$TARGET"
UAC_PID=$BG_PID
wait_until 10 "the call listed Up: $(cat "$T/calls.json" 2>/dev/null)" call_up
# the garbage goes out 500 ms after the ACK; the last piece is rejected
# for its Content-Length (security log line), the BYE comes 6 s later
wait_until 10 "tandemd did not reject the callee's garbage" grep -q 'reason="Bad Content-Length"' "$E2E_LOG"
call_up || fail "the call is no longer Up after the callee's garbage: $(cat "$T/calls.json")"
assert_alive "after the callee's garbage"
sipp_wait uas_garbage "$UAS_PID" "callee sending garbage, then BYE (expects 200)"
sipp_wait uac_garbage "$UAC_PID" "caller of the garbage-sending callee (expects Tandem's BYE)"
no_leak "the call with garbage"
ok "garbage on the SIP socket mid-call: call stayed Up, the callee's BYE ended it, caller got BYE"

# --------------------------------------------- the callee vanishes mid-call
uas_start uas_vanish call_uas_vanish.xml 1
sipp_bg uac_vanish 45 -sf "$SIPP_DIR/call_uac_auth.xml" -inf "$T/caller.csv" \
	-i "$SIP_ADDR" -p "$UAC_PORT" -s 101-tfg -m 1 -d 6000 "$TARGET"
UAC_PID=$BG_PID
sipp_wait uas_vanish "$UAS_PID" "callee that vanishes after the ACK"
SINK_LOG=$T/vanished_callee.log
sink "$UAS_PORT" 40 "$SINK_LOG"
call_up || fail "the call is not Up once the callee vanished: $(cat "$T/calls.json")"
sipp_wait uac_vanish "$UAC_PID" "caller hanging up on a vanished callee (expects 200 to its BYE)"
no_leak "the caller's BYE to a vanished callee"
wait_until 5 "Tandem sent no BYE toward the vanished callee: $(cat "$SINK_LOG")" grep -q '^BYE ' "$SINK_LOG"
stop_pid "$SINK_PID"
ok "callee vanished mid-call: the caller's BYE got 200 and ended the call (BYE sent toward the callee too)"

# ------------------- RTP flowing both ways keeps a call past its rtptimeout
UAS_PEER=102-tfg UAS_PORT=$UAS2_PORT
UAS_MP=$(free_port) UAC_MP=$(free_port) RTP_PORT=$(free_port)
uas_start uas_keep call_uas.xml 1 -rtp_echo -mp "$UAS_MP"
sipp_bg uac_keep 45 -sf "$SIPP_DIR/call_uac_auth_recvbye.xml" -inf "$T/caller.csv" \
	-i "$SIP_ADDR" -p "$UAC_PORT" -mp "$UAC_MP" -s 102-tfg -m 1 "$TARGET"
UAC_PID=$BG_PID
wait_until 10 "the call listed Up: $(cat "$T/calls.json" 2>/dev/null)" call_up
id=$(jq_py "$T/calls.json" 'd["calls"][0]["id"]')
port_a=$(jq_py "$T/calls.json" 'd["calls"][0]["media"]["port_a"]')
# audio from the caller's side (echoed by the callee) until the hangup,
# bounded to 20 s; the call must outlive rtptimeout=4 with it
cat > "$T/rtp_send.py" <<'EOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', int(sys.argv[1])))
for i in range(1000):
    s.sendto(struct.pack('!BBHII', 0x80, 8, i, 160 * i, 0x600d) + b'\xd5' * 160,
             ('127.0.0.1', int(sys.argv[2])))
    time.sleep(0.02)
EOF
bg rtp_keep python3 "$T/rtp_send.py" "$RTP_PORT" "$port_a"
RTP_PID=$BG_PID
sleep 6
call_up || fail "a call with RTP flowing both ways ended within 6 s (rtptimeout=4): $(cat "$T/calls.json")"
for k in rx_a rx_b; do
	v=$(jq_py "$T/calls.json" "d['calls'][0]['media']['$k']")
	[ "$v" -ge 100 ] || fail "media counter $k is $v after 6 s of RTP: $(cat "$T/calls.json")"
done
ctl calls hangup "$id" > /dev/null || fail "tandemctl calls hangup $id: $(cat "$T/ctl.err")"
sipp_wait uac_keep "$UAC_PID" "caller of the call with RTP (BYE after tandemctl calls hangup)"
sipp_wait uas_keep "$UAS_PID" "callee echoing RTP (BYE after tandemctl calls hangup)"
stop_pid "$RTP_PID"
grep -q "no RTP from the" "$E2E_LOG" && fail "the RTP timeout fired on a call with RTP flowing"
no_leak "the call with RTP flowing"
ok "RTP flowing both ways kept a call with rtptimeout=4 up for 6 s and more (then hung up by tandemctl)"

# ------------------------------- both vanish: the RTP timeout ends the call
uas_start uas_both call_uas_vanish.xml 1
sipp_bg uac_both 45 -sf "$SIPP_DIR/call_uac_auth_vanish.xml" -inf "$T/caller.csv" \
	-i "$SIP_ADDR" -p "$UAC_PORT" -s 102-tfg -m 1 "$TARGET"
UAC_PID=$BG_PID
wait_until 10 "the call listed Up: $(cat "$T/calls.json" 2>/dev/null)" call_up
t0=$(now_ms)
sipp_wait uas_both "$UAS_PID" "callee that vanishes after the ACK"
sipp_wait uac_both "$UAC_PID" "caller that vanishes after the ACK"
sink "$UAS_PORT" 40 "$T/both_callee.log"
SINK_B=$SINK_PID
sink "$UAC_PORT" 40 "$T/both_caller.log"
SINK_A=$SINK_PID
wait_until 15 "the RTP timeout did not end the call: $(cat "$T/calls.json" 2>/dev/null)" no_calls
dt=$(( $(now_ms) - t0 ))
[ "$dt" -ge 1500 ] || fail "the call with both sides gone ended after $dt ms, before rtptimeout=4"
no_leak "both sides vanished"
grep -q "no RTP from the" "$E2E_LOG" || fail "tandemd's log does not say the call ended on the RTP timeout"
wait_until 5 "no BYE toward the vanished callee: $(cat "$T/both_callee.log")" grep -q '^BYE ' "$T/both_callee.log"
wait_until 5 "no BYE toward the vanished caller: $(cat "$T/both_caller.log")" grep -q '^BYE ' "$T/both_caller.log"
stop_pid "$SINK_A"
stop_pid "$SINK_B"
ok "both sides vanished: ended by the RTP timeout (rtptimeout=4) ${dt} ms after it was seen Up, BYE sent to both, nothing left"

assert_alive "end of test"
tandem_stop_checked
