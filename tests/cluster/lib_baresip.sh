# shellcheck shell=bash
# lib_baresip.sh: real softphones (baresip 1.0) in the client namespace of
# lib_netns.sh, for tests/cluster/test_baresip_failover.sh and
# test_call_survive.sh. Source after lib_netns.sh; call bs_require before
# nn_require, bs_cluster_conf after nn_net, bs_tones once $T exists.
#
# Phones: 100-tfg and 101-tfg (secret tf2020, context from-tfg, alaw only)
# register to $VIP; 1XX dials SIP/1XX-tfg. Each phone plays a tone file
# (aufile), records what it receives (sndfile: dump-*-dec.wav in its
# config dir) and is driven over ctrl_tcp (tests/e2e/audio/bctl.py).
AUDIO_DIR=$TANDEM_SRC/tests/e2e/audio
# shellcheck source=../e2e/baresip_conf.sh
. "$TANDEM_SRC/tests/e2e/baresip_conf.sh"
CL=10.0.0.10

bs_require() {
	local t m
	for t in baresip sox; do command -v $t > /dev/null || nn_skip "needs $t"; done
	for m in account g711 aufile sndfile ctrl_tcp menu; do
		[ -f "/usr/lib/baresip/modules/$m.so" ] || nn_skip "needs baresip module $m.so"
	done
}

# bs_cluster_conf [EXTRA_DIALPLAN]: both nodes' sip.conf and extensions.conf
bs_cluster_conf() {
	local n c p
	for n in a b; do
		nn_conf "$n"
		c=$T/c$n
		{
			printf '[general]\nudpbindaddr=0.0.0.0:5060\nrealm=tandem\nmaxexpiry=3600\n\n'
			for p in 100-tfg 101-tfg; do
				printf '[%s]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=from-tfg\n' "$p"
				printf 'qualify=no\ndisallow=all\nallow=alaw\n\n'
			done
		} > "$c/sip.conf"
		printf '[from-tfg]\nexten => _1XX,1,Dial(SIP/${EXTEN}-tfg,20)\n same => n,Hangup()\n%s' \
			"${1:-}" > "$c/extensions.conf"
		# Debian 12's baresip (libre 1.1) answers MD5 challenges only
		printf '\n[security]\ndigest_algorithms = md5\n' >> "$c/tandem.conf"
	done
}

# the tones: 8 kHz mono 16-bit, 60 s so that they outlast every call
bs_tones() {
	sox -n -r 8000 -c 1 -b 16 -e signed-integer "$T/tone1000.wav" synth 60 sine 1000 vol 0.5 &&
		sox -n -r 8000 -c 1 -b 16 -e signed-integer "$T/tone440.wav" synth 60 sine 440 vol 0.5 ||
		nn_fail "sox could not make the tones"
}

# bs_start NAME USER SIP_PORT CTRL_PORT TONE EXTRA: baresip in tc, its
# config in $T/NAME (recordings there too), SIP trace in $T/NAME.out
declare -A BS_CTRL=()
bs_start() {
	local name=$1 user=$2 sport=$3 cport=$4 tone=$5 extra=$6 dir=$T/$1
	mkdir -p "$dir"
	baresip_config "$dir" "$CL:$sport" eth0 "$cport" "$tone"
	echo "<sip:$user@$VIP:5060>;auth_pass=tf2020;regint=3600$extra" > "$dir/accounts"
	# -s: SIP trace on stdout; -t and timeout bound its life
	ip netns exec "$NS_C" timeout --foreground -k 3 300 baresip -f "$dir" -s -t 290 \
		> "$T/$name.out" 2>&1 &
	NN_PIDS+=("$!")
	BS_CTRL[$name]=$cport
}
bctl() {  # NAME COMMAND [PARAMS]: ctrl_tcp of that phone (in tc)
	local name=$1; shift
	ip netns exec "$NS_C" timeout -k 2 10 python3 "$AUDIO_DIR/bctl.py" "${BS_CTRL[$name]}" \
		"$@" --timeout 5 2>> "$T/bctl.err"
}
ctrl_up() { bctl "$1" reginfo > /dev/null; }
# REGISTER requests the phone sent (its -s trace prints each message sent)
reg_sent() { grep -c '^REGISTER sip:' "$T/$1.out"; }
# NODE PEER: the binding's Call-ID on NODE ("" if none)
reg_callid() {
	nn_ctl "$1" registrations --json 2>/dev/null | python3 -c '
import json, sys
r = [x for x in json.load(sys.stdin)["registrations"] if x["peer"] == sys.argv[1]]
print(r[0]["call_id"] if r else "")' "$2" 2>/dev/null
}
registered() { [ -n "$(reg_callid "$1" "$2")" ]; }
# NODE: the calls NODE lists, as "STATE STATE ..."
calls_states() {
	nn_ctl "$1" calls --json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(c.get("state", "?") for c in json.load(sys.stdin)["calls"]))' 2>/dev/null
}
call_up() { [ "$(calls_states "$1")" = Up ]; }
no_calls() { local s; s=$(calls_states "$1") && [ -z "$s" ] && nn_ctl "$1" calls --json > /dev/null; }
# the newest file of the phone's received audio (sndfile: dump-*-dec.wav)
last_rec() { ls -t "$T/$1"/dump-*-dec.wav 2>/dev/null | head -n 1; }
# NODE: the call records on NODE as JSON lines (cdr --json)
cdr_json() { nn_ctl "$1" cdr --json --last 100 > "$T/cdr.$1.json" 2>> "$T/ctl.err"; }

# bs_register NODE OTHER: both phones registered through NODE, replicated
# to OTHER, ctrl_tcp up; sets cid100 cid101 r100 r101
bs_register() {
	local act=$1 other=$2
	nn_wait 20 "101-tfg registered on $act (baresip)" registered "$act" 101-tfg
	nn_wait 20 "100-tfg registered on $act (baresip)" registered "$act" 100-tfg
	nn_wait 10 "baresip 100-tfg's ctrl_tcp" ctrl_up p100
	nn_wait 10 "baresip 101-tfg's ctrl_tcp" ctrl_up p101
	cid100=$(reg_callid "$act" 100-tfg) cid101=$(reg_callid "$act" 101-tfg)
	r100=$(reg_sent p100) r101=$(reg_sent p101)
	nn_wait 10 "both bindings replicated to $other" registered "$other" 101-tfg
	registered "$other" 100-tfg || nn_fail "100-tfg's binding not on the standby $other"
}
