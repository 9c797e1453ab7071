#!/bin/bash
# The wall clock of the active jumping while it replicates (issue "two
# nodes": "a clock that jumps: ... nothing already stored is damaged, and
# the active keeps serving"). Two nodes with keepalived and a witness
# (lib_witness.sh: leases, two votes of three),
# both tandemds under libfaketime (Debian: faketime), each with its own
# offset file read at every call (FAKETIME_TIMESTAMP_FILE,
# FAKETIME_NO_CACHE) and CLOCK_MONOTONIC left alone
# (FAKETIME_DONT_FAKE_MONOTONIC): what an NTP step or `date -s` does to a
# real host. The active's offset moves first, then the standby's; the
# witness keeps the real clock.
#  - one node ACTIVE with the VIP and the witness's lease, the other
#    STANDBY in sync; the prober
#    in tc sends OPTIONS to the VIP and both nodes every 20 ms;
#  - SIPp registers 100-tfg (maxexpiry = 10 s) through the VIP; the
#    active's wall clock jumps 3 hours forward: the binding is still there
#    on both nodes (the expiry runs on the monotonic clock) and goes 10 s
#    after the REGISTER, on both (the active's "unregistered (expired)"
#    line is stamped ~3 h ahead: the jump did reach tandemd);
#  - registered again, the active's wall clock jumps 10 minutes back: the
#    binding goes 10 s after the REGISTER again, not 10 minutes later;
#  - the standby's wall clock jumps 3 hours forward, then to 10 minutes
#    behind the real clock: it stays STANDBY and writes still reach it;
#  - throughout: the active keeps the witness's lease, no role change, no
#    hook run, no keepalived transition,
#    the replication link never dropped, the standby never answered at the
#    VIP, a db put on the active after each jump reaches the standby and
#    the digests are equal at the end;
#  - last, the active's clock 3 h ahead, 100-tfg registered, the active
#    killed: the standby takes over and the binding (expires_at 3 h ahead)
#    expires within maxexpiry of the REGISTER, not 3 hours later.
# Needs root, keepalived, iptables, sipp, libfaketime. Label: cluster.
. "$(dirname "$0")/lib_witness.sh"
SIPP_DIR=$TANDEM_SRC/tests/e2e/sipp
EXPIRY=10
FT_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -n1)
[ -n "$FT_LIB" ] && [ -f "$FT_LIB" ] || nn_skip "needs libfaketime (Debian: faketime)"
command -v sipp >/dev/null || nn_skip "needs sipp"

nn_require
nw_net
# both nodes under libfaketime, each with its own offset file (+0: the
# real clock); only the one that becomes active has its clock moved
for n in a b; do
	echo "+0" > "$T/faketime.$n"
	NN_WRAP[$n]="env LD_PRELOAD=$FT_LIB FAKETIME_TIMESTAMP_FILE=$T/faketime.$n FAKETIME_NO_CACHE=1
	FAKETIME_DONT_FAKE_MONOTONIC=1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
	nw_conf "$n"
	printf '[general]\nudpbindaddr=0.0.0.0:5060\nrealm=tandem\nminexpiry=5\ndefaultexpiry=%s\nmaxexpiry=%s\n\n[100-tfg]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\nqualify=no\n' \
		"$EXPIRY" "$EXPIRY" > "$T/c$n/sip.conf"
done
nw_start
nn_start a
nn_start b
nn_wait 30 "one node ACTIVE with the VIP" nn_one_active
A=$(nn_active)
B=$([ "$A" = a ] && echo b || echo a)
nn_wait 30 "$B STANDBY" nn_is "$B" STANDBY
FT=$T/faketime.$A
declare -A IPN=([a]=10.0.0.1 [b]=10.0.0.2)
holds_lease() { [ "$(nw_status "$A" holder)" = "$A" ]; }
nn_wait 5 "$A holds the witness lease" holds_lease
nn_note "ok: $A ACTIVE with $VIP and the witness's lease, $B STANDBY; $A's wall clock jumps"

mark_a=$(wc -l < "$T/$A.log") mark_b=$(wc -l < "$T/$B.log") mark_w=$(wc -l < "$T/w.log")
hooks=$(wc -l < "$T/hook.log")
ka_a=$(nn_ka_count "$A" BACKUP) ka_b=$(nn_ka_count "$B" MASTER)
since=$(now_ns)
nn_prober_start 900

printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$T/phone.csv"
register() {  # NAME: SIPp in tc registers 100-tfg through the VIP
	( cd "$T" && exec ip netns exec "$NS_C" timeout -k 3 20 sipp -nostdin -trace_err \
		-error_file "$T/sipp.$1.err" -sf "$SIPP_DIR/register_auth.xml" \
		-inf "$T/phone.csv" -i 10.0.0.10 -p 5070 -m 1 "$VIP:5060" ) > "$T/sipp.$1.out" 2>&1 ||
		nn_fail "REGISTER $1: $(tail -3 "$T/sipp.$1.err" 2>/dev/null)"
}
listed() {  # NODE: 100-tfg in NODE's registrations
	nn_ctl "$1" registrations --json 2>/dev/null | python3 -c '
import json, sys
sys.exit(0 if any(r["peer"] == "100-tfg" for r in json.load(sys.stdin)["registrations"]) else 1)'
}
gone() { ! listed "$A" && ! listed "$B"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# skew_of_last_expiry: the active's stamp on its last "100-tfg unregistered (expired)"
# line minus the real time now, in seconds
skew_of_last_expiry() {
	grep "registrar: 100-tfg unregistered (expired)" "$T/$A.log" | tail -n1 | python3 -c '
import datetime, sys, time
stamp = sys.stdin.read().split(" ")[0].rstrip("Z")
t = datetime.datetime.fromisoformat(stamp).replace(tzinfo=datetime.timezone.utc)
print(round(t.timestamp() - time.time()))'
}
b_has() { [ "$(nn_ctl "$B" db get clock "$1" 2>/dev/null)" = "$2" ]; }
steady() {  # WHEN KEY: still ACTIVE and STANDBY, a write on the active reaches the standby
	nn_is "$A" ACTIVE || nn_fail "$1: $A is $(nn_state "$A"), not ACTIVE"
	holds_lease || nn_fail "$1: $A does not hold the witness lease ($(nw_status "$A" holder))"
	nn_is "$B" STANDBY || nn_fail "$1: $B is $(nn_state "$B"), not STANDBY"
	nn_ctl "$A" db put clock "$2" "$1" > /dev/null || nn_fail "$1: db put on $A"
	nn_wait 5 "$1: $B has the db put" b_has "$2" "$1"
}
# jump_cycle LABEL OFFSET EXPECTED_SKEW_S: register, jump, check the expiry
jump_cycle() {
	local label=$1 t0 ms skew
	register "$label"
	t0=$(date +%s%N)
	nn_wait 5 "$label: $B lists 100-tfg" listed "$B"
	echo "$2" > "$FT"
	sleep 2
	listed "$A" || nn_fail "$label: 100-tfg gone from $A right after the jump ($(ms_since "$t0") ms)"
	listed "$B" || nn_fail "$label: 100-tfg gone from $B right after the jump"
	steady "$label" "k$label"
	nn_wait $(( EXPIRY + 15 )) "$label: 100-tfg expires on $A and $B" gone
	ms=$(ms_since "$t0")
	[ "$ms" -ge $(( (EXPIRY - 1) * 1000 )) ] || nn_fail "$label: expired after $ms ms, before ${EXPIRY} s"
	skew=$(skew_of_last_expiry)
	[ "${skew#-}" -lt 100000 ] && [ $(( skew - $3 )) -lt 60 ] && [ $(( $3 - skew )) -lt 60 ] ||
		nn_fail "$label: $A's expiry line is stamped ${skew} s from the real time, not ~$3 s: libfaketime did not act"
	nn_note "ok: $label: 100-tfg expired on $A and $B $ms ms after its REGISTER (Expires $EXPIRY); $A's log ${skew} s off the real clock"
}

jump_cycle forward +10800 10800
jump_cycle back +10200 10200
steady "after both jumps" kend
# the standby's clock too: 3 hours forward, then 10 minutes behind the real one
echo "+10800" > "$T/faketime.$B"
sleep 2
steady "standby forward" ks1
echo "-600" > "$T/faketime.$B"
sleep 2
steady "standby back" ks2
nn_note "ok: $B's wall clock 3 h forward, then 10 min behind: still STANDBY, writes reach it"

nn_prober_stop
lost=$(tail -n +"$((mark_a + 1))" "$T/$A.log" | grep -c "cluster: replication .* lost:")
lost_b=$(tail -n +"$((mark_b + 1))" "$T/$B.log" | grep -c "cluster: replication .* lost:")
[ "$lost" = 0 ] && [ "$lost_b" = 0 ] || nn_fail "replication link dropped ($lost on $A, $lost_b on $B)"
{ tail -n +"$((mark_a + 1))" "$T/$A.log"; tail -n +"$((mark_b + 1))" "$T/$B.log"; } |
	grep "cluster: role " && nn_fail "a role changed during the jumps"
[ "$(wc -l < "$T/hook.log")" = "$hooks" ] || nn_fail "the role hook ran during the jumps"
tail -n +"$((mark_w + 1))" "$T/w.log" | grep -E "witness: .*(denied|refused|silent|gone)" &&
	nn_fail "the witness denied, refused or lost a node during the jumps"
[ "$(nn_ka_count "$A" BACKUP)" = "$ka_a" ] && [ "$(nn_ka_count "$B" MASTER)" = "$ka_b" ] ||
	nn_fail "keepalived moved the VIP during the jumps"
read -r both _ <<< "$(nn_both)"
[ "$both" = 0 ] || nn_fail "both nodes answered in $both probe cycles"
n_b=$(awk -v t="$since" -v v="$VIP" -v s="${IPN[$B]}" '$1 >= t && $3 == v && $4 == s' "$T/probe.log" | wc -l)
n_a=$(awk -v t="$since" -v v="$VIP" -v s="${IPN[$A]}" '$1 >= t && $3 == v && $4 == s && $5 == 200' "$T/probe.log" | wc -l)
[ "$n_b" = 0 ] || nn_fail "$B answered $n_b probes at the VIP"
[ "$n_a" -gt 100 ] || nn_fail "$A answered only $n_a probes at the VIP"
digest() { nn_ctl "$1" cluster digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stores"])'; }
digests_equal() { local x; x=$(digest "$A") && [ -n "$x" ] && [ "$x" = "$(digest "$B")" ]; }
nn_wait 5 "equal digests" digests_equal
nn_note "ok: $A kept the witness lease; no role change, hook or VIP move, link never dropped, $A answered $n_a probes at the VIP and $B none, digests equal"
# a takeover after the active's clock ran ahead: the bindings it wrote say
# they expire 3 h later; the new active arms them for maxexpiry at most
echo "+10800" > "$FT"
register takeover
t0=$(date +%s%N)
nn_wait 5 "takeover: $B lists 100-tfg" listed "$B"
kill -KILL "${NN_TPID[$A]}"
nn_wait 15 "$B ACTIVE after kill -9 of $A" nn_is "$B" ACTIVE
listed "$B" || nn_fail "takeover: 100-tfg gone from $B at once"
nn_wait $(( EXPIRY + 15 )) "takeover: 100-tfg (stamped 3 h ahead by $A) expires on $B" \
	eval '! listed "$B"'
nn_note "ok: $A (clock 3 h ahead) killed: $B took over and 100-tfg expired $(ms_since "$t0") ms after its REGISTER, not 3 h later"
for n in a b; do
	! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/$n.log" || nn_fail "sanitizer report on $n"
done
exit 0
