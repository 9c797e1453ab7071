#!/bin/bash
# A burst of malformed SIP over UDP must not hurt the daemon.
#
# Two peers register; then 5,000 datagrams (E2E_BURST_N) of garbage,
# truncated and mutated REGISTERs, huge headers, bad Content-Length, bad
# CSeq, bad Via, bad Authorization... are sent in a few seconds
# (E2E_BURST_RATE, default 2000/s; seeded: E2E_SEED reproduces a run).
# Afterwards the daemon is alive, both registrations are still there,
# OPTIONS is answered and a fresh registration works.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

conf_sip_general realm=tandem minexpiry=60 defaultexpiry=120 maxexpiry=3600
conf_tfg_peers
conf_sip_peer 102-tfg
tandem_start

L1=$(free_port) L2=$(free_port) L3=$(free_port)
sipp_register_ok reg100 100-tfg tf2020 "$L1"
py "$L2" <<'EOF' || fail "register 101-tfg"
import sys
from sipc import *
expect(UA(lport=int(sys.argv[1])).register('101-tfg', 'tf2020', expires=3600), 200, 'REGISTER 101-tfg')
EOF
wait_until 3 "100-tfg listed" is_registered 100-tfg
wait_until 3 "101-tfg listed" is_registered 101-tfg
ok "100-tfg and 101-tfg registered"

SEED=${E2E_SEED:-$RANDOM$RANDOM}
N=${E2E_BURST_N:-5000}
note "burst: $N datagrams, seed $SEED"
PY_TIMEOUT=60 py "$SEED" "$N" "$TPID" <<'EOF' || fail "burst generator (seed $SEED)"
import os, random, socket, sys, time
from sipc import *
seed, n, pid = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
host, port = env_addr(), env_port()
dst = (host, port)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
s.bind(('127.0.0.1', 0))
s.setblocking(False)
lp = s.getsockname()[1]
me = '127.0.0.1:%d' % lp

def valid(user='100-tfg', extra='', body='', cl=None, method='REGISTER'):
    b = 'z9hG4bK' + '%x' % rng.getrandbits(48)
    h = ('%s sip:%s:%d SIP/2.0\r\n'
         'Via: SIP/2.0/UDP %s;branch=%s;rport\r\n'
         'Max-Forwards: 70\r\n'
         'From: <sip:%s@%s>;tag=%x\r\n'
         'To: <sip:%s@%s>\r\n'
         'Call-ID: %x@burst\r\n'
         'CSeq: %d %s\r\n'
         'Contact: <sip:%s@%s>\r\n'
         'Expires: 3600\r\n%s'
         'Content-Length: %d\r\n\r\n%s') % (
        method, host, port, me, b, user, host, rng.getrandbits(32), user, host,
        rng.getrandbits(64), rng.randint(1, 99999), method, user, me, extra,
        len(body) if cl is None else cl, body)
    return h.encode()

def rbytes(k):
    return bytes(rng.getrandbits(8) for _ in range(k))

def mutate(m):
    m = bytearray(m)
    for _ in range(rng.randint(1, 20)):
        op = rng.randint(0, 4)
        i = rng.randrange(len(m)) if m else 0
        if op == 0 and m:
            m[i] = rng.getrandbits(8)
        elif op == 1:
            m[i:i] = rbytes(rng.randint(1, 40))
        elif op == 2 and m:
            del m[i:i + rng.randint(1, 40)]
        elif op == 3:
            m[i:i] = rng.choice([b'\r\n', b'\r\n\r\n', b':', b';', b'"', b'<', b'>', b'\x00', b'%', b' ', b'\t', b',', b'='])
        else:
            j = rng.randrange(len(m)) if m else 0
            m[i:i] = m[j:j + rng.randint(1, 200)]
    return bytes(m)

auth_bad = [
    'Authorization: Digest username="100-tfg", realm="tandem", nonce="', 'Authorization: Digest',
    'Authorization: Digest username=100-tfg,,,,,nonce=,response=',
    'Authorization: Digest username="100-tfg", realm="tandem", nonce="%s", uri="sip:x", response="%s", nc=zzzzzzzz, qop=auth, cnonce="x", algorithm=MD5' % ('A' * 64, '0' * 32),
    'Authorization: Digest username="100-tfg", realm="tandem", nonce="00", uri="sip:x", response="", nc=ffffffff, qop=auth-int, algorithm=SHA-512-256',
    'Authorization: Digest username="\\"\\\\", realm="' + 'r' * 5000 + '", nonce="x", uri="", response="x"',
    'Authorization: Basic MTAwLXRmZzp0ZjIwMjA=',
    'Authorization: Digest username="100-tfg", nonce="' + '%' * 300 + '", algorithm=MD5-sess, qop=auth, nc=00000001, cnonce=""',
    'Authorization: Digest ' + ', '.join('p%d="v"' % i for i in range(500)),
]
crafted = [
    lambda: b'', lambda: b'\r\n', lambda: b'\r\n\r\n', lambda: b'\x00' * 100,
    lambda: rbytes(rng.randint(1, 1500)), lambda: rbytes(rng.randint(1, 60000)),
    lambda: valid()[:rng.randint(0, 300)],
    lambda: valid(extra='X-Huge: ' + 'a' * rng.randint(1000, 60000) + '\r\n'),
    lambda: valid(extra=''.join('X-H%d: v\r\n' % i for i in range(rng.randint(100, 3000)))),
    lambda: valid(cl=rng.choice([-1, 1, 99999999, 2 ** 32, 2 ** 64, 10 ** 30])),
    lambda: valid(body='v=0\r\n', cl=rng.choice([0, 1, 6, 100000])),
    lambda: valid().replace(b'Content-Length: 0', rng.choice([b'Content-Length: abc', b'Content-Length: ', b'Content-Length: 0\r\nContent-Length: 5', b'l: -5', b'Content-Length: 00000000000000000000000000001'])),
    lambda: valid().replace(b'CSeq: ', rng.choice([b'CSeq: x', b'CSeq: 99999999999999999999 ', b'CSeq: -1 ', b'CSeq: ', b'CSeq: 1 INVITE\r\nX: '])),
    lambda: valid().replace(b'Via: ', rng.choice([b'Via: garbage\r\nX: ', b'Via: SIP/2.0/UDP\r\nX: ', b'Via: SIP/2.0/UDP [::1\r\nX: ', b'Via: SIP/2.0/XYZ 999.999.999.999:99999;branch=\r\nX: ', b'X-No-Via: '])),
    lambda: valid().replace(b'From: ', rng.choice([b'From: <sip:@>\r\nX: ', b'From: <<<<\r\nX: ', b'X-No-From: ', b'From: "' + b'q' * 5000 + b'\r\nX: '])),
    lambda: valid().replace(b'To: ', rng.choice([b'To: \r\nX: ', b'To: <sip:100-tfg@127.0.0.1;tag=\r\nX: ', b'X-No-To: '])),
    lambda: valid().replace(b'Call-ID: ', rng.choice([b'X-No-Call-ID: ', b'Call-ID: \r\nX: ', b'Call-ID: ' + b'c' * 20000 + b'\r\nX: '])),
    lambda: valid().replace(b'Contact: ', rng.choice([b'Contact: <\r\nX: ', b'Contact: *, <sip:a@b>\r\nX: ', b'Contact: <sip:' + b'x' * 3000 + b'>;expires=-1\r\nX: ', b'Contact: <sip:a@b>;expires=99999999999999999999\r\nX: ', b'Contact: ' + b'<sip:a@b>,' * 2000 + b'\r\nX: '])),
    lambda: valid().replace(b'Expires: 3600', rng.choice([b'Expires: -1', b'Expires: 99999999999999999999', b'Expires: abc', b'Expires:', b'Expires: 0x10'])),
    lambda: valid(extra=rng.choice(auth_bad) + '\r\n'),
    lambda: valid(method=rng.choice(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'FOO', 'R' * 3000, ''])),
    lambda: valid().replace(b' SIP/2.0\r\n', rng.choice([b' SIP/3.0\r\n', b'\r\n', b' SIP/2.0 extra\r\n', b' sip/2.0\r\n'])),
    lambda: valid().replace(b'REGISTER sip:', rng.choice([b'REGISTER ', b'REGISTER sip:\x00', b'REGISTER sips:[::1', b'REGISTER tel:+'])),
    lambda: valid().replace(b'\r\n', b'\n'),
    lambda: valid().replace(b'\r\n', b'\r\n ', rng.randint(1, 5)),
    lambda: (b'SIP/2.0 ' + rng.choice([b'200 OK', b'401 Unauthorized', b'99999 X', b'abc', b'', b'100']) + b'\r\n' + valid().split(b'\r\n', 1)[1]),
    lambda: valid(user=rng.choice(['', '%00', 'a' * 5000, '100-tfg\x00', '"', '100-tfg;x=y', '<>'])),
    lambda: mutate(valid()),
    lambda: mutate(valid(extra=rng.choice(auth_bad) + '\r\n')),
]

sent = errs = 0
t0 = time.time()
rate = float(os.environ.get("E2E_BURST_RATE", "2000"))
for i in range(n):
    if i % 200 == 0 and os.path.exists('/proc/%d' % pid) is False:
        fail('tandemd (pid %d) died after %d datagrams (seed %d)' % (pid, i, seed))
    d = rng.choice(crafted)()
    if len(d) > 65000:
        d = d[:65000]
    try:
        s.sendto(d, dst)
        sent += 1
    except BlockingIOError:
        time.sleep(0.01)
        errs += 1
    except OSError:
        errs += 1
    try:                      # drain whatever the daemon answered
        while True:
            s.recvfrom(65535)
    except (BlockingIOError, OSError):
        pass
    ahead = (i + 1) / rate - (time.time() - t0)
    if ahead > 0:
        time.sleep(ahead)
ok('sent %d datagrams in %.1f s (%d send errors), seed %d' % (sent, time.time() - t0, errs, seed))
EOF

sleep 1
assert_alive "after the burst (seed $SEED)"
ctl_quiet status || fail "tandemctl status does not answer 0 after the burst"
ok "daemon alive and answering tandemctl after the burst"
assert_match "$(reg_get 100-tfg contact)" ":$L1\b" "100-tfg binding after the burst"
assert_match "$(reg_get 101-tfg contact)" ":$L2\b" "101-tfg binding after the burst"
ok "both registrations intact"
py <<'EOF' || fail "OPTIONS after the burst"
from sipc import *
expect(UA().request('OPTIONS', user='100-tfg', contact=False), 200, 'OPTIONS after the burst')
EOF
sipp_register_ok reg102 102-tfg tf2020 "$L3"
wait_until 3 "102-tfg listed after registering post-burst" is_registered 102-tfg
ok "OPTIONS answered and a fresh SIPp registration works after the burst"
assert_alive "end of test"
tandem_stop_checked
