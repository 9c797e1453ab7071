#!/bin/bash
# Calls that cannot be put through, and callers that are not let in
# (issue "B2BUA signalling"):
# - the callee is not registered -> 480;
# - the callee is registered but nothing listens on its contact -> 480
#   once the INVITE to it fails;
# - the caller's password is wrong -> 407 again, and a SECURITY line in
#   $DATA/security.log;
# - the caller is a user Tandem does not know -> the very same answers as
#   a wrong password (CONTRACT.md: "A wrong password and an unknown user
#   get answers that cannot be told apart"; Asterisk's alwaysauthreject).
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

# uac_expect NAME USER;PASS SCENARIO CODE WHAT: one call to 101-tfg that
# must end as SCENARIO says; a CODE replaces call_uac_auth_reject.xml's 486.
uac_expect() {
	local name=$1 cred=$2 sc=$SIPP_DIR/$3 code=$4 what=$5 rc=0
	if [ -n "$code" ]; then
		sc=$T/$name.xml
		sed "s/response=\"486\"/response=\"$code\"/" "$SIPP_DIR/$3" > "$sc"
		grep -q "response=\"$code\" response_txn" "$sc" || fail "could not make $sc"
	fi
	users_csv "$T/$name.csv" "$cred"
	sipp_run "$name" 45 -sf "$sc" -inf "$T/$name.csv" -i "$SIP_ADDR" -p "$UAC_PORT" \
		-s 101-tfg -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
	[ $rc = 0 ] || { sipp_fail_details "$name"; fail "$what (SIPp exited $rc)"; }
}

conf_extensions_calls
# T1 = 200 ms (sip.conf timert1): the INVITE to a contact where nothing
# listens fails at Timer B = 64*T1 = 12.8 s instead of 32 s
conf_sip_general realm=tandem timert1=200
conf_tfg_peers qualify=no
tandem_start
UAC_PORT=$(free_port)
SEC=$DATA/security.log

# ---- the callee is not registered
is_unregistered 101-tfg || fail "101-tfg registered before the test registered it"
uac_expect unreg "100-tfg;tf2020" call_uac_auth_reject.xml 480 \
	"call to 101-tfg (not registered): caller did not get 480"
wait_until 5 "calls left after the 480: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "call to an unregistered peer -> 480, no call left"

# ---- wrong password: 407 again, security log
uac_expect badpw "100-tfg;not-the-password" call_uac_auth_fail.xml "" \
	"INVITE with a wrong password: caller did not get 407 again"
ok "wrong password -> 407, then 407 again after the credentials"
secre() { echo "tandemd\\[[0-9]+\\]: SECURITY event=$1 src=127\\.0\\.0\\.1:$UAC_PORT user=\"$2\" reason=\"[^\"]*\""; }
wait_for 3 grep -Eq "$(secre auth_failed 100-tfg)" "$SEC" \
	|| fail "no security log line for 100-tfg's wrong INVITE password in $SEC: $(tail -n 5 "$SEC" 2>/dev/null)"
ok "security.log: $(grep -E "$(secre auth_failed 100-tfg)" "$SEC" | tail -n 1)"
assert_eq "$(call_count)" 0 "calls after a refused caller"

# ---- registered, but nothing listens on its contact
DEAD_PORT=$(free_port)
sipp_register_ok reg101 101-tfg tf2020 "$DEAD_PORT"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg
t0=$(now_ms)
uac_expect dead "100-tfg;tf2020" call_uac_auth_reject.xml 480 \
	"call to 101-tfg whose contact port $DEAD_PORT is dead: caller did not get 480"
wait_until 5 "calls left after the 480: $(cat "$T/calls.json" 2>/dev/null)" no_calls
ok "call to a registered peer whose contact is dead -> 480 after $(( $(now_ms) - t0 )) ms, no call left"

# ---- unknown user: the same answers as a wrong password
# DAEMON BUG (reported to the lead): call_incoming() answers an INVITE from
# a user not in sip.conf with 403 at once, while a known user gets a 407
# challenge: that tells an attacker which user names exist. CONTRACT.md
# requires answers that cannot be told apart (as Asterisk's
# alwaysauthreject=yes: a fake 407). The checks below fail until the
# daemon challenges unknown users the same way.
uac_expect unknown "199-tfg;tf2020" call_uac_auth_fail.xml "" \
	"INVITE from unknown user 199-tfg: expected 407, then 407 again after credentials, as for a wrong password"
ok "unknown user -> 407, then 407 again after the credentials (as a wrong password)"
wait_for 3 grep -Eq "$(secre '[a-z_]+' 199-tfg)" "$SEC" \
	|| fail "no security log line for unknown user 199-tfg in $SEC: $(tail -n 5 "$SEC" 2>/dev/null)"
ok "security.log: $(grep -E "$(secre '[a-z_]+' 199-tfg)" "$SEC" | tail -n 1)"
py <<'EOF' || fail "INVITE answers for a wrong password and an unknown user can be told apart"
import difflib, re
from sipc import *

SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8\r\n'

def invite(ua, user, x, cseq, headers=()):
    data = ua.build('INVITE', user=user, ruri='sip:101-tfg@' + ua.hostport, to_user='101-tfg',
                    branch='z9hG4bK' + x * 12 + str(cseq), callid='cid-' + x * 12 + '@e2e',
                    tag='tag' + x * 7, cseq=cseq, body=SDP,
                    headers=['Content-Type: application/sdp'] + list(headers))
    r = ua.transact(data)
    if r is not None and r.code >= 300:
        # ACK the error answer: the INVITE's branch and CSeq number, the answer's To
        head = data.decode().split('\r\n\r\n')[0]
        head = head.replace('INVITE sip:', 'ACK sip:', 1).replace('CSeq: %d INVITE' % cseq, 'CSeq: %d ACK' % cseq)
        head = re.sub(r'(?im)^To: .*$', lambda m: 'To: ' + r.get('to'), head)
        head = re.sub(r'(?im)^(Content-Type|Content-Length|Proxy-Authorization): .*\r\n', '', head + '\r\n')
        ua.send((head + 'Content-Length: 0\r\n\r\n').encode())
    return r

ua = UA()   # one socket: the Via and Contact are the same for both users


def exchange(user, x):
    r1 = invite(ua, user, x, 1)
    if r1 is None:
        fail('%s: no answer to the INVITE' % user)
    if r1.code != 407:
        return r1, None
    chal = pick_chal(r1, hdr='proxy-authenticate')
    auth = authorization(chal, user, 'wrong-password', 'INVITE', 'sip:101-tfg@' + ua.hostport,
                         cnonce='0123456789abcdef', hdr='Proxy-Authorization')
    return r1, invite(ua, user, x, 2, [auth])

def norm(m, subs):
    t = m.text()
    for a, b in subs:
        t = t.replace(a, b)
    t = re.sub(r'nonce="[^"]*"', 'nonce="NONCE"', t)
    t = re.sub(r'(?im)^((?:to|t)[ \t]*:.*;tag=)[^;\s]+', r'\1TOTAG', t)
    return re.sub(r'(?im)^(via:.*;rport=)\d+', r'\1PORT', t)

known = exchange('100-tfg', 'a')
unknown = exchange('199-tfg', 'b')
subs = [('199-tfg', '100-tfg'), ('b' * 12, 'a' * 12), ('tag' + 'b' * 7, 'tag' + 'a' * 7)]
for i, what in ((0, 'INVITE without credentials'), (1, 'INVITE with wrong credentials')):
    k, u = known[i], unknown[i]
    if k is None or u is None or norm(k, []) != norm(u, subs) or len(k.raw) != len(u.raw):
        if k is not None and u is not None:
            print('\n'.join(difflib.unified_diff(norm(k, []).splitlines(), norm(u, subs).splitlines(),
                                                 'wrong password', 'unknown user', lineterm='')))
        fail('%s: a known user with a wrong password got "%s", an unknown user got "%s"'
             % (what, k.first if k else '(nothing)', u.first if u else '(nothing: no challenge to answer)'))
    ok('%s: "%s" for both, identical apart from the nonce and tags' % (what, k.first))
EOF
assert_eq "$(call_count)" 0 "calls after refused callers"

assert_alive "end of test"
tandem_stop_checked
