#!/bin/bash
# Registrar with digest auth, end to end (issue "SIP core and registrar").
#
# SIPp registers a peer; wrong password and unknown user are refused with
# the same 401 (byte for byte but the nonce) and logged to the security
# log; SHA-256 and MD5 both work; a replayed (nonce, nc) is refused; an
# expired nonce gets stale=true (only with the right password); Expires
# below minexpiry gets 423 with Min-Expires; Expires: 0 and Contact: *
# unregister; a binding expires on its own; one contact per peer;
# tandem.conf [security] digest_algorithms sets the offer and its order
# (default md5,sha256: SIPp 3.6.1 answers only the first, MD5, challenge).
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

conf_sip_general realm=tandem minexpiry=2 defaultexpiry=60 maxexpiry=3600
conf_tfg_peers
conf_tandem security nonce_lifetime=2
tandem_start

# ---- OPTIONS and the shape of the challenge
py <<'EOF' || fail "OPTIONS / challenge shape"
from sipc import *
ua = UA()
expect(ua.request('OPTIONS', user='100-tfg', contact=False), 200, 'OPTIONS to Tandem')
ok('OPTIONS -> 200')
r = expect(ua.request('REGISTER', user='100-tfg', expires=60), 401, 'REGISTER without credentials')
cs = challenges(r)
if len(cs) != 2:
    fail('expected 2 WWW-Authenticate headers, got %d:\n%s' % (len(cs), r))
algs = [c.get('algorithm', '(none)').upper() for c in cs]
if algs != ['MD5', 'SHA-256']:
    fail('challenge order %s, expected MD5 then SHA-256 (default digest_algorithms)' % algs)
for c in cs:
    if c['scheme'] != 'Digest' or c.get('realm') != 'tandem' or c.get('qop') != 'auth' or not c.get('nonce'):
        fail('bad challenge %s' % c)
    if c.get('stale', 'false').lower() == 'true':
        fail('fresh challenge says stale=true')
if cs[0]['nonce'] != cs[1]['nonce']:
    fail('the two challenges carry different nonces')
ok('401 with WWW-Authenticate MD5 then SHA-256, realm="tandem", qop="auth"')
EOF

# ---- SIPp registers 100-tfg
L1=$(free_port) L2=$(free_port)
sipp_register_ok reg100 100-tfg tf2020 "$L1"
ok "SIPp REGISTER with digest -> 200"
wait_until 3 "100-tfg listed by tandemctl registrations" is_registered 100-tfg
assert_match "$(reg_get 100-tfg contact)" "^sip:100-tfg@127\.0\.0\.1:$L1\b" "100-tfg contact"
assert_eq "$(reg_get 100-tfg source)" "udp:127.0.0.1:$L1" "100-tfg source"
assert_eq "$(reg_get 100-tfg transport)" "udp" "100-tfg transport"
exp=$(reg_get 100-tfg expires_in)
[[ $exp =~ ^[0-9]+$ ]] && [ "$exp" -gt 3500 ] && [ "$exp" -le 3600 ] \
	|| fail "100-tfg expires_in '$exp', expected 3500..3600 (SIPp asked 3600)"
ok "registrations --json: 100-tfg $(reg_get 100-tfg contact) expires_in $exp"
assert_eq "$(peer_get 100-tfg registered)" "true" "peers --json 100-tfg registered"

# ---- wrong password and unknown user (SIPp), security log
sipp_register bad100 100-tfg not-the-password "$L2" register_auth_fail.xml \
	|| { sipp_fail_details bad100; fail "wrong password: SIPp did not get 401 after credentials"; }
ok "wrong password -> 401"
sipp_register unknown 199-tfg tf2020 "$L2" register_auth_fail.xml \
	|| { sipp_fail_details unknown; fail "unknown user: SIPp did not get 401 after credentials"; }
ok "unknown user -> 401"
SEC=$DATA/security.log
secre() { echo "tandemd\\[[0-9]+\\]: SECURITY event=auth_failed src=127\\.0\\.0\\.1:$L2 user=\"$1\" reason=\"[^\"]*\""; }
wait_for 3 grep -Eq "$(secre 100-tfg)" "$SEC" \
	|| fail "no security log line for 100-tfg's wrong password in $SEC: $(tail -n 5 "$SEC" 2>/dev/null)"
wait_for 3 grep -Eq "$(secre 199-tfg)" "$SEC" \
	|| fail "no security log line for unknown user 199-tfg in $SEC: $(tail -n 5 "$SEC" 2>/dev/null)"
ok "security.log: $(grep -E "$(secre 199-tfg)" "$SEC" | tail -n 1)"
assert_match "$(reg_get 100-tfg contact)" ":$L1\b" "100-tfg binding after the failed attempts"

# ---- wrong password and unknown user cannot be told apart
py <<'EOF' || fail "wrong password and unknown user answers differ"
import difflib, re
from sipc import *
ua = UA()

def exchange(user, x, password):
    br, cid, tag = 'z9hG4bK' + x * 12, 'cid-' + x * 12 + '@e2e', 'tag' + x * 7
    r1 = expect(ua.transact(ua.build('REGISTER', user=user, branch=br + '1', callid=cid,
                                     tag=tag, cseq=1, expires=60)), 401, user + ' first REGISTER')
    auth = authorization(pick_chal(r1), user, password, 'REGISTER', 'sip:' + ua.hostport,
                         cnonce='0123456789abcdef')
    r2 = expect(ua.transact(ua.build('REGISTER', user=user, branch=br + '2', callid=cid,
                                     tag=tag, cseq=2, expires=60, headers=[auth])),
                401, user + ' REGISTER with credentials')
    return r1, r2

def norm(m, subs):
    t = m.text()
    for a, b in subs:
        t = t.replace(a, b)
    t = re.sub(r'nonce="[^"]*"', 'nonce="NONCE"', t)
    t = re.sub(r'(?im)^((?:to|t)[ \t]*:.*;tag=)[^;\s]+', r'\1TOTAG', t)
    return t

def nonces(m):
    return [len(n) for n in re.findall(r'nonce="([^"]*)"', m.text())]

known = exchange('100-tfg', 'a', 'wrong-password')
unknown = exchange('199-tfg', 'b', 'wrong-password')
subs = [('199-tfg', '100-tfg'), ('b' * 12, 'a' * 12), ('tag' + 'b' * 7, 'tag' + 'a' * 7)]
for i, what in ((0, 'first 401 (no credentials)'), (1, '401 after wrong credentials')):
    a, b = norm(known[i], []), norm(unknown[i], subs)
    if a != b or nonces(known[i]) != nonces(unknown[i]) or len(known[i].raw) != len(unknown[i].raw):
        print('\n'.join(difflib.unified_diff(a.splitlines(), b.splitlines(),
                                             'wrong password', 'unknown user', lineterm='')))
        fail('%s: known user with wrong password and unknown user differ (lengths %d/%d)'
             % (what, len(known[i].raw), len(unknown[i].raw)))
    ok('%s: identical apart from the nonce (%d bytes)' % (what, len(known[i].raw)))
if known[1].get('www-authenticate') == known[0].get('www-authenticate'):
    fail('401 after wrong credentials reuses the old nonce')
ok('401 after wrong credentials carries a fresh nonce')
EOF

# ---- SHA-256 and MD5, replay, 423, maxexpiry, default expiry
py <<'EOF' || fail "digest algorithms / replay / 423"
import re
from sipc import *
for algo in ('SHA-256', 'MD5'):
    ua = UA()
    r = expect(ua.register('101-tfg', 'tf2020', expires=60, algo=algo), 200, 'REGISTER with ' + algo)
    if not any(ua.contact_uri('101-tfg') in c for c in r.all('contact')):
        fail('200 does not list the binding in Contact:\n%s' % r)
    ok('REGISTER with %s -> 200, Contact lists the binding' % algo)
    # the same Authorization (same nonce, same nc) in a new transaction
    r2 = ua.request('REGISTER', user='101-tfg', expires=60, headers=[ua.auth])
    if r2 is None or r2.code != 401:
        fail('replayed %s credentials (same nonce and nc): got %s, expected 401'
             % (algo, r2.first if r2 else 'no answer'))
    ok('replayed %s Authorization (same nonce, nc) -> 401' % algo)
    # the same nonce with the next nc is legitimate (RFC 7616 3.3)
    a3 = authorization(ua.challenge, '101-tfg', 'tf2020', 'REGISTER', 'sip:' + ua.hostport, nc=2)
    expect(ua.request('REGISTER', user='101-tfg', expires=60, headers=[a3]), 200,
           'same %s nonce with nc=00000002' % algo)
    ok('same nonce with the next nc -> 200')

ua = UA()
r = ua.register('101-tfg', 'tf2020', expires=1)
expect(r, 423, 'Expires: 1 below minexpiry=2')
if r.get('min-expires', '').strip() != '2':
    fail('423 without Min-Expires: 2:\n%s' % r)
ok('Expires: 1 -> 423 Interval Too Brief, Min-Expires: 2')
expect(ua.register('101-tfg', 'tf2020', expires=7200), 200, 'Expires: 7200 above maxexpiry')
EOF
exp=$(reg_get 101-tfg expires_in) || fail "101-tfg not registered after Expires: 7200"
[[ $exp =~ ^[0-9]+$ ]] && [ "$exp" -le 3600 ] && [ "$exp" -gt 3500 ] \
	|| fail "Expires: 7200 with maxexpiry=3600 gave expires_in '$exp'"
ok "Expires: 7200 capped to maxexpiry (expires_in $exp)"
py <<'EOF' || fail "default expiry"
from sipc import *
expect(UA().register('101-tfg', 'tf2020'), 200, 'REGISTER without Expires')
EOF
exp=$(reg_get 101-tfg expires_in)
[[ $exp =~ ^[0-9]+$ ]] && [ "$exp" -le 60 ] && [ "$exp" -gt 50 ] \
	|| fail "REGISTER without Expires: expires_in '$exp', expected defaultexpiry=60"
ok "no Expires -> defaultexpiry (expires_in $exp)"

# ---- one contact per peer: a new registration replaces the old one
LA=$(free_port) LB=$(free_port)
py "$LA" "$LB" <<'EOF' || fail "re-registration from another contact"
import sys
from sipc import *
for lport in sys.argv[1:3]:
    expect(UA(lport=int(lport)).register('101-tfg', 'tf2020', expires=300), 200,
           'REGISTER 101-tfg from port ' + lport)
EOF
assert_eq "$(reg_count 101-tfg)" 1 "registrations of 101-tfg after registering from two ports"
assert_match "$(reg_get 101-tfg contact)" ":$LB\b" "101-tfg contact after re-registering"
ok "one contact per peer: the second registration replaced the first"

# ---- unregister: Expires: 0, then Contact: * with Expires: 0
py "$LB" <<'EOF' || fail "unregister with Expires: 0"
import sys
from sipc import *
expect(UA(lport=int(sys.argv[1])).register('101-tfg', 'tf2020', expires=0), 200, 'Expires: 0')
EOF
wait_until 3 "101-tfg still listed after Expires: 0" is_unregistered 101-tfg
ok "Expires: 0 removed 101-tfg"
py <<'EOF' || fail "unregister with Contact: *"
from sipc import *
expect(UA().register('100-tfg', 'tf2020', expires=0, contact='*'), 200, 'Contact: * / Expires: 0')
EOF
wait_until 3 "100-tfg still listed after Contact: *" is_unregistered 100-tfg
assert_eq "$(peer_get 100-tfg registered)" "false" "peers --json 100-tfg registered after unregister"
ok "Contact: * with Expires: 0 removed 100-tfg"

# ---- a binding expires on its own
py <<'EOF' || fail "REGISTER with Expires: 2"
from sipc import *
expect(UA().register('101-tfg', 'tf2020', expires=2), 200, 'Expires: 2')
EOF
t0=$(now_ms)
exp=$(reg_get 101-tfg expires_in) || fail "101-tfg not listed right after REGISTER with Expires: 2"
[[ $exp =~ ^[0-9]+$ ]] && [ "$exp" -le 2 ] || fail "Expires: 2 gave expires_in '$exp'"
# chan_sip removes a peer's binding 10 s after it expires (EXPIRY_GUARD);
# allow for that, report the time it took.
wait_until 15 "101-tfg (Expires: 2) still listed" is_unregistered 101-tfg
ok "Expires: 2 binding gone after $(( $(now_ms) - t0 )) ms"

# ---- stale nonce (nonce_lifetime=2): stale=true only with the right password
py <<'EOF' || fail "stale nonce"
import time
from sipc import *
ua = UA()
r = expect(ua.request('REGISTER', user='101-tfg', expires=60), 401, 'first REGISTER')
old = {c.get('algorithm', 'MD5').upper(): c for c in challenges(r)}
time.sleep(3.5)
uri = 'sip:' + ua.hostport
for algo in ('SHA-256', 'MD5'):
    bad = ua.request('REGISTER', user='101-tfg', expires=60,
                     headers=[authorization(old[algo], '101-tfg', 'wrong', 'REGISTER', uri)])
    expect(bad, 401, 'expired %s nonce, wrong password' % algo)
    if any(c.get('stale', '').lower() == 'true' for c in challenges(bad)):
        fail('stale=true given to a wrong password (an oracle for the password):\n%s' % bad)
    good = ua.request('REGISTER', user='101-tfg', expires=60,
                      headers=[authorization(old[algo], '101-tfg', 'tf2020', 'REGISTER', uri)])
    expect(good, 401, 'expired %s nonce, right password' % algo)
    cs = challenges(good)
    if not cs or not all(c.get('stale', '').lower() == 'true' for c in cs):
        fail('expired nonce with the right password: no stale=true:\n%s' % good)
    ok('expired %s nonce: right password -> 401 stale=true, wrong password -> 401 without' % algo)
    fresh = pick_chal(good, algo)
    expect(ua.request('REGISTER', user='101-tfg', expires=60,
                      headers=[authorization(fresh, '101-tfg', 'tf2020', 'REGISTER', uri)]),
           200, 'answer to the stale challenge')
ok('the fresh nonce of a stale challenge registers')
EOF

assert_alive "before the digest_algorithms restarts"

# ---- tandem.conf [security] digest_algorithms: what is offered, in order,
# and only what is offered is accepted
for offer in "sha256,md5:SHA-256,MD5" "md5:MD5" "sha256:SHA-256"; do
	tandem_stop_checked
	rm -f "$CONF/tandem.conf"
	conf_tandem security nonce_lifetime=30 "digest_algorithms = ${offer%%:*}"
	tandem_start
	py "${offer#*:}" <<'EOF' || fail "digest_algorithms = ${offer%%:*}"
import sys
from sipc import *
want = sys.argv[1].split(',')
ua = UA()
r = expect(ua.request('REGISTER', user='101-tfg', expires=60), 401, 'REGISTER without credentials')
algs = [c.get('algorithm', '(none)').upper() for c in challenges(r)]
if algs != want:
    fail('offer %s, expected %s' % (algs, want))
for algo in want:
    expect(UA().register('101-tfg', 'tf2020', expires=60, algo=algo), 200, 'REGISTER with offered ' + algo)
for algo in {'MD5', 'SHA-256'} - set(want):
    # answer the offered challenge's nonce with an algorithm not offered
    chal = dict(pick_chal(r), algorithm=algo)
    a = authorization(chal, '101-tfg', 'tf2020', 'REGISTER', 'sip:' + ua.hostport)
    r2 = ua.request('REGISTER', user='101-tfg', expires=60, headers=[a])
    if r2 is None or r2.code != 401:
        fail('digest_algorithms=%s: a response with algorithm=%s (not offered) got %s, expected 401'
             % (sys.argv[1], algo, r2.first if r2 else 'no answer'))
ok('offer %s: each offered algorithm registers, others refused' % ', '.join(want))
EOF
done

assert_alive "end of test"
tandem_stop_checked
