#!/bin/bash
# Invalid configuration: tandemd exits 1 with "FILE:LINE: what is wrong"
# before anything listens (strace shows no bind() on the SIP port, nor a
# control socket); a reload (tandemctl reload, SIGHUP) of a broken file
# keeps the running configuration.
. "$(dirname "$0")/lib.sh"
e2e_init

SIP_PORT=$(free_port)

# expect_bad_start WHAT FILE:LINE: start must fail with status 1, the
# message on stderr, no listener.
expect_bad_start() {
	local what=$1 where=$2 rc out=$T/bad.$RANDOM
	rm -f "$DATA/tandemd.ctl"
	local tracer=()
	command -v strace >/dev/null && tracer=(strace -f -qq -e trace=bind,listen -o "$out.strace")
	# LeakSanitizer cannot run under ptrace: leaks are checked by the other tests.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		timeout -k 2 15 "${tracer[@]}" "$TANDEMD" -C "$CONF" -D "$DATA" -f > "$out.log" 2>&1
	rc=$?
	[ $rc = 1 ] || { cat "$out.log" >&2; fail "$what: tandemd exited $rc, expected 1"; }
	grep -q "$where: " "$out.log" || { cat "$out.log" >&2; fail "$what: no '$where: ...' message on stderr"; }
	[ ! -e "$DATA/tandemd.ctl" ] || fail "$what: the control socket was created"
	if [ -s "$out.strace" ] && grep -Eq "bind\(.*htons\($SIP_PORT\)" "$out.strace"; then
		fail "$what: tandemd bound the SIP port before refusing the configuration: $(grep -E "htons\($SIP_PORT\)" "$out.strace" | head -n 2)"
	fi
	ok "$what: exit 1, '$(grep -m1 "$where: " "$out.log")'"
}

# sip.conf with a good [general] and peers; line 7 is the one we break.
write_sip() {  # LINE7
	cat > "$CONF/sip.conf" <<EOF
[general]
udpbindaddr=127.0.0.1:$SIP_PORT
realm=tandem
minexpiry=60
maxexpiry=3600
[100-tfg]
$1
type=friend
host=dynamic
context=default
[101-tfg]
secret=tf2020
type=friend
host=dynamic
context=default
${2:-}
EOF
}
conf_extensions_minimal

write_sip "secret tf2020"
expect_bad_start "option without '=' on line 7" "sip.conf:7"

write_sip "secret=tf2020"
sed -i '3s/.*/[general/' "$CONF/sip.conf"
expect_bad_start "unterminated section header on line 3" "sip.conf:3"

write_sip "secret=tf2020" "[102-tfg](no-such-template)"
expect_bad_start "unknown template on line 16" "sip.conf:16"

write_sip "secret=tf2020" '#include "peers.conf"'
printf '[103-tfg]\nsecret\n' > "$CONF/peers.conf"
expect_bad_start "error inside an included file" "peers.conf:2"
rm -f "$CONF/peers.conf"

# ---- a running daemon keeps its configuration when a reload fails
write_sip "secret=tf2020"
tandem_start
py <<'EOF' || fail "register 100-tfg"
from sipc import *
expect(UA().register('100-tfg', 'tf2020', expires=600), 200, 'REGISTER 100-tfg')
EOF
wait_until 3 "100-tfg listed" is_registered 100-tfg

write_sip "secret tf2020" "[102-tfg]
secret=tf2020
type=friend
host=dynamic"
ctl reload > "$T/reload.out"; rc=$?
[ $rc = 1 ] || fail "tandemctl reload of a broken sip.conf exited $rc, expected 1 (stderr: $(cat "$T/ctl.err"))"
grep -q "sip.conf:7: " "$T/ctl.err" || fail "tandemctl reload: no 'sip.conf:7: ...' on stderr: $(cat "$T/ctl.err" "$T/reload.out")"
ok "tandemctl reload of a broken file: exit 1, '$(head -n 1 "$T/ctl.err")'"
assert_alive "after a failed reload"
ctl_quiet status || fail "tandemctl status after a failed reload"
is_registered 100-tfg || fail "100-tfg lost its binding after a failed reload"
py <<'EOF' || fail "old configuration not kept after a failed reload"
from sipc import *
expect(UA().register('100-tfg', 'tf2020', expires=600), 200, '100-tfg (old config) after failed reload')
expect(UA().register('101-tfg', 'tf2020', expires=600), 200, '101-tfg (old config) after failed reload')
expect(UA().register('102-tfg', 'tf2020', expires=600), 401, '102-tfg (only in the broken file)')
ok('the old configuration is still in force: 100-tfg and 101-tfg register, 102-tfg does not')
EOF

kill -HUP "$TPID"
sleep 1
assert_alive "after SIGHUP with a broken sip.conf"
py <<'EOF' || fail "old configuration not kept after SIGHUP with a broken file"
from sipc import *
expect(UA().register('101-tfg', 'tf2020', expires=600), 200, '101-tfg after SIGHUP')
expect(UA().register('102-tfg', 'tf2020', expires=600), 401, '102-tfg after SIGHUP')
EOF
ok "SIGHUP with a broken file keeps the running configuration"

# ---- a good reload takes effect and keeps the bindings
write_sip "secret=tf2020" "[102-tfg]
secret=tf2020
type=friend
host=dynamic"
ctl reload > "$T/reload.out" || fail "tandemctl reload of a good sip.conf exited $? ($(cat "$T/ctl.err"))"
py <<'EOF' || fail "new peer after a good reload"
from sipc import *
expect(UA().register('102-tfg', 'tf2020', expires=600), 200, '102-tfg after a good reload')
EOF
is_registered 100-tfg || fail "100-tfg lost its binding across a good reload"
ok "good reload: 102-tfg registers, 100-tfg's binding kept"

# ---- timert1/timerb out of range: warned with FILE:LINE, the default kept
# (chan_sip does the same), the file still loads
write_sip "secret=tf2020"
sed -i '2a timert1=50\ntimerb=soon' "$CONF/sip.conf"
ctl reload > "$T/reload.out" || fail "reload with a bad timert1/timerb exited $? ($(cat "$T/ctl.err"))"
wait_until 3 "no warning for timert1=50 in the log" \
	grep -q "sip.conf:3: timert1=50: not a time in ms from 200" "$E2E_LOG"
wait_until 3 "no warning for timerb=soon in the log" \
	grep -q "sip.conf:4: timerb=soon: not a time in ms from 500" "$E2E_LOG"
ok "bad timert1/timerb: $(grep -m1 -o 'sip.conf:3: timert1=50.*' "$E2E_LOG")"
assert_alive "end of test"
tandem_stop_checked
