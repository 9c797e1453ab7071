#!/bin/bash
# A real softphone registers: baresip 1.0 as 100-tfg (secret tf2020)
# against tandemd running the seed's example configuration (examples/tfg,
# qualify=yes). tandemctl shows the binding with baresip's User-Agent, the
# qualify answers OK, and baresip's unregister on exit removes it.
. "$(dirname "$0")/lib.sh"
e2e_init
need baresip

conf_from_example
tandem_start

BPORT=$(free_port)
B=$T/baresip
mkdir -p "$B"
# Headless: no UI or audio modules, only account loading; SIP on loopback.
cat > "$B/config" <<EOF
poll_method		epoll
sip_listen		127.0.0.1:$BPORT
module_path		/usr/lib/baresip/modules
module_app		account.so
EOF
echo "<sip:100-tfg@$(hostport "$SIP_ADDR" "$SIP_PORT")>;auth_pass=tf2020;regint=600" > "$B/accounts"
# -t bounds baresip's own life; timeout bounds it from outside too.
# --foreground: timeout forwards our SIGTERM to baresip once; without it
# baresip also gets it via the process group, and a second SIGTERM makes
# it quit at once, without unregistering.
bg baresip timeout --foreground -k 3 90 baresip -f "$B" -s -t 80
BPID=$BG_PID
wait_for 15 is_registered 100-tfg || {
	cat "$T/baresip.out" >&2
	fail "baresip did not register 100-tfg within 15 s"
}
ok "baresip registered 100-tfg"
contact=$(reg_get 100-tfg contact)
assert_match "$contact" "^sip:100-tfg[^@]*@127\.0\.0\.1:$BPORT\b" "100-tfg contact"
assert_eq "$(reg_get 100-tfg source)" "udp:127.0.0.1:$BPORT" "100-tfg source"
exp=$(reg_get 100-tfg expires_in)
[[ $exp =~ ^[0-9]+$ ]] && [ "$exp" -gt 500 ] && [ "$exp" -le 600 ] \
	|| fail "baresip asked regint=600 (Contact ;expires=600): expires_in '$exp'"
python3 - "$T/regs.json" <<'EOF' || fail "registrations --json does not carry baresip's User-Agent: $(cat "$T/regs.json")"
import json, sys
r = [r for r in json.load(open(sys.argv[1]))['registrations'] if r['peer'] == '100-tfg'][0]
ua = [k for k, v in r.items() if isinstance(v, str) and 'baresip v1.0' in v and k not in ('contact',)]
if not ua:
    sys.exit(1)
print('ok: user agent in field %s: %s' % (ua[0], r[ua[0]]))
EOF
ok "registrations --json: $contact, expires_in $exp"

# qualify=yes in the example: baresip answers OPTIONS with 200
qualified() { [[ $(peer_get 100-tfg status) =~ ^OK\ \([0-9]+\ ms\)$ ]]; }
wait_for 15 qualified
st=$(peer_get 100-tfg status)
[[ $st =~ ^OK\ \([0-9]+\ ms\)$ ]] || fail "peers --json 100-tfg status '$st', expected 'OK (N ms)' (qualify=yes, baresip answers OPTIONS)"
assert_eq "$(peer_get 100-tfg registered)" "true" "peers --json 100-tfg registered"
lat=$(peer_get 100-tfg latency_ms)
[[ $lat =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "peers --json 100-tfg latency_ms '$lat'"
ok "qualify: 100-tfg status '$st', latency_ms $lat"

# baresip unregisters (Expires 0) when it quits on SIGTERM
stop_pid "$BPID" 8 >/dev/null
wait_until 5 "100-tfg still registered after baresip quit (it sends REGISTER with expires=0)" is_unregistered 100-tfg
ok "baresip's unregister on exit removed 100-tfg"
assert_alive "end of test"
tandem_stop_checked
