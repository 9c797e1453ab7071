#!/bin/bash
# The caller gives up while the callee rings (issue "B2BUA signalling"):
# CANCEL after the 180 -> the caller gets 200 for the CANCEL and 487 for
# its INVITE (and ACKs it); Tandem CANCELs the callee's INVITE, the callee
# answers 200 and 487 and gets Tandem's ACK. While ringing, `tandemctl
# calls --json` lists the call Ringing; afterwards no call is left.
# `tandemctl calls hangup ID` on a ringing call CANCELs the callee too.
# The To tags follow RFC 3261: the 200 to the CANCEL carries the To tag of
# the 487 (and of the 180) the INVITE got (9.2, 8.2.6.2); the CANCEL sent
# to the callee has its INVITE's To, without tag, and CSeq number (9.1).
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

# cancel_tags UAC UAS: RFC 3261 9.2 and 8.2.6.2 in the SIPp traces: the
# caller's 200 to its CANCEL carries the same To tag as the 487 to its
# INVITE (and as the 180 before); the CANCEL Tandem sent the callee has
# the INVITE's To (no tag) and CSeq number (9.1).
cancel_tags() {
	python3 - "$T/sipp.$1.msg" "$T/sipp.$2.msg" <<'EOF'
import re, sys
def msgs(f, way):
    for m in re.split(r'\n-{20,}[^\n]*\n', '\n' + open(f, errors='replace').read()):
        head, _, rest = m.partition('\n')
        if way in head:
            yield rest.lstrip('\n').replace('\r', '').partition('\n\n')[0]
def hdr(m, name):
    h = re.search(r'(?im)^' + name + r'\s*:\s*(.*)$', m)
    return h.group(1).strip() if h else ''
def totag(m):
    t = re.search(r';\s*tag=([^;>\s]+)', hdr(m, '(?:To|t)'))
    return t.group(1) if t else None
def bad(msg):
    sys.exit('FAIL: ' + msg)
got = {}
for m in msgs(sys.argv[1], 'received'):
    code = m.split('\n', 1)[0].split(' ')[1] if m.startswith('SIP/2.0 ') else None
    cseq = hdr(m, 'CSeq').split()
    if code in ('180', '200', '487') and len(cseq) == 2:
        got.setdefault((code, cseq[1]), totag(m))
t200, t487, t180 = got.get(('200', 'CANCEL')), got.get(('487', 'INVITE')), got.get(('180', 'INVITE'))
if not t200 or not t487:
    bad('caller: no To tag in the 200 to CANCEL (%r) or in the 487 (%r)' % (t200, t487))
if t200 != t487 or t180 != t487:
    bad('caller: To tags differ: 180 %r, 200 to CANCEL %r, 487 %r' % (t180, t200, t487))
inv = [m for m in msgs(sys.argv[2], 'received') if m.startswith('INVITE ')]
can = [m for m in msgs(sys.argv[2], 'received') if m.startswith('CANCEL ')]
if not inv or not can:
    bad('callee: INVITE or CANCEL missing from the trace')
if totag(can[0]) or hdr(can[0], '(?:To|t)') != hdr(inv[0], '(?:To|t)'):
    bad('callee: CANCEL To %r, INVITE To %r' % (hdr(can[0], '(?:To|t)'), hdr(inv[0], '(?:To|t)')))
if hdr(can[0], 'CSeq').split()[0] != hdr(inv[0], 'CSeq').split()[0]:
    bad('callee: CANCEL CSeq %r, INVITE CSeq %r' % (hdr(can[0], 'CSeq'), hdr(inv[0], 'CSeq')))
print('To tag %s on the 180, the 200 to CANCEL and the 487' % t487)
EOF
}
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
	tags=$(cancel_tags "uac$n" "uas$n" 2>&1) || fail "call $n: To tags / CANCEL fields ($tags)"
	ok "call $n: $tags; the callee's CANCEL matches its INVITE"
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
