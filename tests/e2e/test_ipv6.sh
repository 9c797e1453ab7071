#!/bin/bash
# SIP over IPv6: tandemd binds UDP and TCP to [::1]; SIPp registers over
# UDP (-i ::1), the python client over TCP; OPTIONS is answered.
# Skipped (77) only when the machine has no IPv6 loopback.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null \
	|| skip "no IPv6 loopback (::1) on this machine"

SIP_ADDR=::1
SIP_PORT=$(free_port ::1)
conf_sip_general realm=tandem minexpiry=60 defaultexpiry=120 maxexpiry=3600 \
	tcpenable=yes "tcpbindaddr=[::1]:$SIP_PORT"
conf_tfg_peers
tandem_start

L1=$(free_port ::1)
sipp_register_ok v6reg 100-tfg tf2020 "$L1"
wait_until 3 "100-tfg (IPv6) listed" is_registered 100-tfg
assert_eq "$(reg_get 100-tfg source)" "udp:[::1]:$L1" "100-tfg source"
assert_match "$(reg_get 100-tfg contact)" "^sip:100-tfg@\[::1\]:$L1\b" "100-tfg contact"
ok "SIPp over IPv6 UDP registered: $(reg_get 100-tfg contact)"

py <<'EOF' || fail "IPv6 OPTIONS / TCP REGISTER"
from sipc import *
expect(UA(transport='udp').request('OPTIONS', user='101-tfg', contact=False), 200, 'OPTIONS over [::1] UDP')
ua = UA(transport='tcp')
expect(ua.request('OPTIONS', user='101-tfg', contact=False), 200, 'OPTIONS over [::1] TCP')
expect(ua.register('101-tfg', 'tf2020', expires=300), 200, 'REGISTER over [::1] TCP')
ok('OPTIONS over UDP and TCP, REGISTER over TCP, all on [::1]')
EOF
assert_eq "$(reg_get 101-tfg transport)" tcp "101-tfg transport"
assert_match "$(reg_get 101-tfg source)" '^tcp:\[::1\]:[0-9]+$' "101-tfg source"
ok "101-tfg over IPv6 TCP: $(reg_get 101-tfg source)"

# Nothing of tandemd's listens on IPv4 for this configuration. Asked of
# the kernel (tandemd's own sockets, by inode, in the IPv4 tables) rather
# than by sending to 127.0.0.1: another test running beside this one may
# own that port number on IPv4, which says nothing about tandemd.
python3 - "$TPID" "$SIP_PORT" <<'EOF' || fail "IPv4 socket open although only [::1] is configured"
import os, sys
pid, port = sys.argv[1], int(sys.argv[2])
mine = set()
for fd in os.listdir('/proc/%s/fd' % pid):
    try:
        link = os.readlink('/proc/%s/fd/%s' % (pid, fd))
    except OSError:
        continue
    if link.startswith('socket:['):
        mine.add(link[8:-1])
bad = []
for table in ('udp', 'tcp'):
    with open('/proc/%s/net/%s' % (pid, table)) as f:
        next(f)
        for line in f:
            col = line.split()
            lport = col[1].split(':')[1]
            if col[9] in mine and int(lport, 16) == port:
                bad.append('%s %s' % (table, col[1]))
if not mine:
    print('FAIL: no sockets seen for pid %s' % pid); sys.exit(1)
if bad:
    print('FAIL: tandemd has IPv4 sockets on the SIP port: %s' % ', '.join(bad)); sys.exit(1)
print('ok: none of the %d sockets of tandemd is IPv4 on port %d' % (len(mine), port))
EOF
assert_alive "end of test"
tandem_stop_checked
