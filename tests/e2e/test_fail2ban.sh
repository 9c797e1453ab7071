#!/bin/bash
# The security log is what fail2ban reads: failed authentications (wrong
# password, unknown user) and malformed requests each leave one line, and
# Debian's fail2ban-regex, with the filter we ship
# (contrib/fail2ban/tandem.conf), matches every one of them and finds the
# attacker's address. A successful registration leaves no line.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp fail2ban-regex

conf_sip_general realm=tandem
conf_tfg_peers
tandem_start
SEC=$DATA/security.log

L=$(free_port)
sipp_register_ok good 100-tfg tf2020 "$L"
[ -s "$SEC" ] && fail "a successful REGISTER wrote to the security log: $(cat "$SEC")"
ok "successful registration: security log empty"

# Wrong password and unknown user: SIPp expects 401 again (scenario ends there).
sipp_register bad1 100-tfg wrong "$(free_port)" register_auth_fail.xml || true
sipp_register bad2 nobody tf2020 "$(free_port)" register_auth_fail.xml || true
# A malformed request that can be answered (400) is a security event too.
py <<'PY'
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
msg = ("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKf2b\r\n"
       "From: <sip:x@h>;tag=1\r\nTo: <sip:x@h>\r\nCall-ID: f2b\r\nCSeq: 1 INVITE\r\n"
       "Content-Length: 0\r\n\r\n") % os.environ["SIP_ADDR"]
s.sendto(msg.encode(), (os.environ["SIP_ADDR"], int(os.environ["SIP_PORT"])))
print(s.recv(2048).decode().split("\r\n")[0])
PY
wait_until 5 "three security lines" bash -c "[ \$(wc -l < '$SEC') -ge 3 ]"
assert_file_match "$SEC" 'SECURITY event=auth_failed src=127\.0\.0\.1:[0-9]+ user="100-tfg" reason="wrong password"' "wrong password line"
assert_file_match "$SEC" 'SECURITY event=auth_failed src=127\.0\.0\.1:[0-9]+ user="nobody" reason="unknown user"' "unknown user line"
assert_file_match "$SEC" 'SECURITY event=request_rejected src=127\.0\.0\.1:[0-9]+ user="" reason="CSeq' "malformed request line"

lines=$(wc -l < "$SEC")
fail2ban-regex -v "$SEC" "$TANDEM_SRC/contrib/fail2ban/tandem.conf" > "$T/f2b.out" 2>&1 \
	|| fail "fail2ban-regex failed: $(tail -5 "$T/f2b.out")"
matched=$(sed -nE 's/^Lines: ([0-9]+) lines, ([0-9]+) ignored, ([0-9]+) matched.*/\3/p' "$T/f2b.out")
assert_eq "$matched" "$lines" "lines fail2ban-regex matched out of $lines"
hosts=$(grep -cE '^\|[[:space:]]+127\.0\.0\.1[[:space:]]' "$T/f2b.out")
assert_eq "$hosts" "$lines" "lines whose host fail2ban extracted as 127.0.0.1"
ok "fail2ban-regex matched all $lines security lines"
assert_alive "end of test"
tandem_stop_checked
