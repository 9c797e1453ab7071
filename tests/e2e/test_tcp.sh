#!/bin/bash
# SIP over TCP: SIPp registers over TCP (-t t1), the binding says tcp;
# a connection that stays silent is closed after tcp_idle_timeout; one
# that starts a message and trickles it slower than tcp_msg_timeout is
# closed; an oversize message (Content-Length: 10000000, or a header
# block that never ends) is refused by closing the connection. The daemon
# keeps serving afterwards.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

IDLE=4 MSGT=2
SIP_PORT=$(free_port)
conf_sip_general realm=tandem minexpiry=60 defaultexpiry=120 maxexpiry=3600 \
	tcpenable=yes "tcpbindaddr=$(hostport "$SIP_ADDR" "$SIP_PORT")"
conf_tfg_peers
conf_tandem sip tcp_idle_timeout=$IDLE tcp_msg_timeout=$MSGT
tandem_start

L1=$(free_port)
sipp_register_ok tcp100 100-tfg tf2020 "$L1" -t t1
wait_until 3 "100-tfg (TCP) listed" is_registered 100-tfg
assert_eq "$(reg_get 100-tfg transport)" tcp "100-tfg transport"
assert_match "$(reg_get 100-tfg source)" "^tcp:127\.0\.0\.1:[0-9]+$" "100-tfg source"
ok "SIPp over TCP registered: $(reg_get 100-tfg contact) from $(reg_get 100-tfg source)"

PY_TIMEOUT=90 py "$IDLE" "$MSGT" <<'EOF' || fail "TCP limits"
import socket, sys, time
from sipc import *
idle, msgt = int(sys.argv[1]), int(sys.argv[2])

ua = UA(transport='tcp')
expect(ua.request('OPTIONS', user='101-tfg', contact=False), 200, 'OPTIONS over TCP')
expect(ua.register('101-tfg', 'tf2020', expires=300), 200, 'REGISTER 101-tfg over TCP (python)')
ok('OPTIONS and REGISTER over one TCP connection')
ua.close()

def conn():
    s = socket.create_connection((env_addr(), env_port()), timeout=5)
    return s

def closed_within(s, secs, feed=None, every=0.5):
    """Seconds until the server closed s (EOF or reset), None if it did not
    within secs. feed(): bytes to send every `every` seconds meanwhile."""
    t0 = time.time()
    nxt = t0 + every
    got = b''
    while time.time() - t0 < secs:
        s.settimeout(0.1)
        try:
            d = s.recv(65536)
            if not d:
                return time.time() - t0, got
            got += d
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return time.time() - t0, got
        if feed and time.time() >= nxt:
            nxt += every
            try:
                s.sendall(feed())
            except (ConnectionResetError, BrokenPipeError):
                return time.time() - t0, got
    return None, got

# 1. connected, silent
s = conn()
t, _ = closed_within(s, idle + 4)
if t is None:
    fail('silent TCP connection still open after %d s (tcp_idle_timeout=%d)' % (idle + 4, idle))
if t < idle - 1:
    fail('silent TCP connection closed after %.1f s, before tcp_idle_timeout=%d' % (t, idle))
ok('silent connection closed after %.1f s (tcp_idle_timeout=%d)' % (t, idle))

# 2. a partial message and nothing more
s = conn()
s.sendall(b'REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKslow\r\nMax-Forwards: 70\r\n' % ua.hostport.encode())
t, _ = closed_within(s, max(idle, msgt) + 4)
if t is None:
    fail('partial message: connection still open after %d s' % (max(idle, msgt) + 4))
ok('partial message then silence: closed after %.1f s' % t)

# 3. slowloris: one byte every 0.5 s keeps the connection busy, never
#    finishing the message; tcp_msg_timeout must end it (idle never fires)
s = conn()
s.sendall(b'REGISTER sip:%s SIP/2.0\r\n' % ua.hostport.encode())
t, _ = closed_within(s, msgt + idle + 2, feed=lambda: b'X', every=0.5)
if t is None:
    fail('trickled message: still open after %d s (tcp_msg_timeout=%d)' % (msgt + idle + 2, msgt))
if t > msgt + 2:
    fail('trickled message closed after %.1f s: later than tcp_msg_timeout=%d (+2 s)' % (t, msgt))
ok('message trickled a byte per 0.5 s: closed after %.1f s (tcp_msg_timeout=%d)' % (t, msgt))

# 4. Content-Length: 10000000 -> closed (a 4xx first is fine), not read in full
s = conn()
head = ('REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKbig\r\n'
        'Max-Forwards: 70\r\nFrom: <sip:100-tfg@127.0.0.1>;tag=1\r\nTo: <sip:100-tfg@127.0.0.1>\r\n'
        'Call-ID: big@e2e\r\nCSeq: 1 REGISTER\r\nContent-Length: 10000000\r\n\r\n' % ua.hostport)
s.sendall(head.encode())
t, got = closed_within(s, 6, feed=lambda: b'x' * 65536, every=0.05)
if t is None:
    fail('Content-Length: 10000000: connection still open after 6 s of body')
ok('Content-Length: 10000000: closed after %.1f s%s' % (t, (' (answered %r)' % got.split(b'\r\n')[0].decode()) if got else ''))

# 5. a header block that never ends (100 KB of headers, no blank line)
s = conn()
s.sendall(b'REGISTER sip:%s SIP/2.0\r\n' % ua.hostport.encode())
t, got = closed_within(s, 6, feed=lambda: b'X-Pad: ' + b'a' * 1000 + b'\r\n', every=0.01)
if t is None:
    fail('endless header block: connection still open after 6 s')
ok('endless header block: closed after %.1f s' % t)

# 6. garbage on TCP
s = conn()
s.sendall(bytes(range(256)) * 40 + b'\r\n\r\n')
t, got = closed_within(s, max(idle, msgt) + 4)
ok('binary garbage: %s' % ('closed after %.1f s' % t if t is not None else 'still open (allowed)'))

# the daemon still serves TCP
ua = UA(transport='tcp')
expect(ua.request('OPTIONS', user='101-tfg', contact=False), 200, 'OPTIONS over TCP after the abuse')
ok('OPTIONS over a new TCP connection after the abuse')
EOF

assert_alive "after the TCP limits"
L2=$(free_port)
sipp_register_ok tcp101 101-tfg tf2020 "$L2" -t t1
assert_eq "$(reg_get 101-tfg transport)" tcp "101-tfg transport"
ok "SIPp TCP registration still works"
assert_alive "end of test"
tandem_stop_checked
