# shellcheck shell=bash
# lib_netns.sh: two tandemd nodes with keepalived in network namespaces
# (docs/design/cluster.md 11), for tests/cluster/test_*.sh and
# bench/failover/run.sh.
#
#   namespace  address       runs
#   ta         10.0.0.1/24   tandemd -n a, keepalived
#   tb         10.0.0.2/24   tandemd -n b, keepalived
#   tc         10.0.0.10/24  the prober (SIP OPTIONS every 20 ms)
#   tsw        bridge br0    the switch; VIP 10.0.0.100/24 floats on eth0
#
# Needs root, ip, keepalived, python3. Everything created is removed by
# nn_cleanup (namespaces, processes by PID, the temp dir unless kept), also
# on failure: callers trap it on EXIT.
set -u
set -o pipefail

NN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TANDEM_SRC=${TANDEM_SRC:-$(cd "$NN_DIR/../.." && pwd)}
TANDEM_BUILD=${TANDEM_BUILD:-$TANDEM_SRC/build}
TANDEMD=${TANDEMD:-$TANDEM_BUILD/tandemd}
TANDEMCTL=${TANDEMCTL:-$TANDEM_BUILD/tandemctl}
NN_NAME=${NN_NAME:-$(basename "${0%.sh}")}
NN_SFX=$(printf '%04x' $(( (RANDOM << 1 ^ $$) & 0xffff )))
NS_A=ta$NN_SFX NS_B=tb$NN_SFX NS_C=tc$NN_SFX NS_SW=tsw$NN_SFX
VIP=10.0.0.100
declare -A NN_IP=([a]=10.0.0.1 [b]=10.0.0.2)
declare -A NN_NS=([a]=$NS_A [b]=$NS_B)
declare -A NN_TPID=() NN_KPID=()
declare -A NN_WRAP=()   # NODE -> words run before tandemd (env VAR=... for one node)
NN_PIDS=()
T=''

nn_note() { echo "[$(date +%T.%3N)] $NN_NAME: $*"; }
nn_fail() {
	echo "[$(date +%T.%3N)] $NN_NAME: FAIL: $*" >&2
	local n
	for n in a b; do
		[ -s "$T/$n.log" ] && { echo "---- $n.log (last 25)" >&2; tail -n 25 "$T/$n.log" >&2; }
	done
	exit 1
}
nn_skip() { echo "$NN_NAME: SKIP: $*"; exit 77; }
now_ns() { date +%s%N; }

# nn_require: root, tools, the build; exit 77 with the reason otherwise.
nn_require() {
	[ "$(id -u)" = 0 ] || nn_skip "needs root (network namespaces)"
	local t
	for t in ip keepalived python3; do
		command -v "$t" >/dev/null 2>&1 || nn_skip "needs $t (Debian: iproute2 keepalived python3)"
	done
	[ -x "$TANDEMD" ] && [ -x "$TANDEMCTL" ] || nn_skip "no tandemd/tandemctl in $TANDEM_BUILD"
	ip netns add "$NS_SW" 2>/dev/null || nn_skip "cannot create network namespaces here"
	ip netns del "$NS_SW"
}

nn_stop_pid() {   # PID [GRACE_S]
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 $(( ${2:-5} * 10 ))); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

nn_cleanup() {
	local rc=$? p n f
	touch "$T/stop" 2>/dev/null
	for p in "${NN_PIDS[@]}"; do nn_stop_pid "$p" 3 >/dev/null 2>&1; done
	# health watchers tandemd started (they outlive it by design)
	for f in "$T"/d?/cluster/health.pid; do
		[ -f "$f" ] && p=$(cat "$f") && [ -n "$p" ] && kill "$p" 2>/dev/null
	done
	for n in "$NS_A" "$NS_B" "$NS_C" "$NS_SW"; do ip netns del "$n" 2>/dev/null; done
	if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
		[ "${NN_KEEP:-0}" = 1 ] || rm -rf "$T"
		[ "$rc" = 0 ] && echo "[$(date +%T)] $NN_NAME: PASS"
	else
		echo "[$(date +%T)] $NN_NAME: exit $rc; logs kept in $T" >&2
	fi
	exit "$rc"
}

# nn_net: the namespaces, the bridge and the veths.
nn_net() {
	T=$(mktemp -d "/tmp/tandem-cluster.$NN_NAME.XXXXXX") || exit 1
	trap nn_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	nn_note "temp dir $T, namespaces *$NN_SFX"
	ip netns add "$NS_SW" && ip -n "$NS_SW" link add br0 type bridge &&
		ip -n "$NS_SW" link set br0 up && ip -n "$NS_SW" link set lo up ||
		nn_fail "cannot make the switch namespace"
	local ns addr i=0
	for ns in "$NS_A:10.0.0.1" "$NS_B:10.0.0.2" "$NS_C:10.0.0.10"; do
		addr=${ns#*:} ns=${ns%%:*} i=$((i + 1))
		ip netns add "$ns" &&
		ip link add "v$i$NN_SFX" type veth peer name "s$i$NN_SFX" &&
		ip link set "v$i$NN_SFX" netns "$ns" &&
		ip link set "s$i$NN_SFX" netns "$NS_SW" &&
		ip -n "$NS_SW" link set "s$i$NN_SFX" master br0 up &&
		ip -n "$ns" link set "v$i$NN_SFX" name eth0 &&
		ip -n "$ns" addr add "$addr/24" dev eth0 &&
		ip -n "$ns" link set eth0 up && ip -n "$ns" link set lo up ||
			nn_fail "cannot make namespace $ns"
	done
	printf '#!/bin/sh\necho "$(date +%%s%%N) $TANDEM_NODE $*" >> %s/hook.log\n' "$T" > "$T/hook.sh"
	chmod 755 "$T/hook.sh"
	openssl rand -hex 32 > "$T/cluster.key" 2>/dev/null ||
		python3 -c 'import os; print(os.urandom(32).hex())' > "$T/cluster.key"
}

# nn_conf NODE: CONFDIR $T/cNODE (both nodes' [cluster] are identical);
# NN_TWO_NODE=no: no takeover on silence (design 6 without a witness)
nn_conf() {
	local c=$T/c$1
	mkdir -p "$c" "$T/d$1"
	printf '[general]\nudpbindaddr=0.0.0.0:5060\n' > "$c/sip.conf"
	printf '[default]\nexten => 1,1,Hangup()\n' > "$c/extensions.conf"
	install -m 600 "$T/cluster.key" "$c/cluster.key"
	cat > "$c/tandem.conf" <<EOT
[cluster]
name = nn
node = a,10.0.0.1
node = b,10.0.0.2
keyfile = cluster.key
vip = $VIP/24
interface = eth0
engine = ${NN_ENGINE:-keepalived}
keepalived_conf = keepalived.conf
keepalived_pid = keepalived.pid
hook = $T/hook.sh
two_node_takeover = ${NN_TWO_NODE:-yes}
EOT
}

# nn_start NODE: tandemd, then keepalived on the configuration it wrote
# (NN_ENGINE=none: tandemd alone).
nn_start() {
	local n=$1 ns=${NN_NS[$1]} d=$T/d$1 i
	# shellcheck disable=SC2086  # NN_WRAP: words, split on purpose
	ip netns exec "$ns" ${NN_WRAP[$n]:-} "$TANDEMD" -C "$T/c$n" -D "$d" -f -n "$n" \
		>> "$T/$n.log" 2>&1 &
	NN_TPID[$n]=$!
	NN_PIDS+=("$!")
	for i in $(seq 1 100); do
		[ -S "$d/tandemd.ctl" ] && break
		kill -0 "${NN_TPID[$n]}" 2>/dev/null || nn_fail "tandemd $n exited at start"
		sleep 0.1
	done
	[ "${NN_ENGINE:-keepalived}" = keepalived ] || return 0
	[ -s "$d/keepalived.conf" ] || nn_fail "tandemd $n wrote no $d/keepalived.conf"
	if [ -z "${NN_KPID[$n]:-}" ] || ! kill -0 "${NN_KPID[$n]}" 2>/dev/null; then
		ip netns exec "$ns" keepalived -n -l -D --vrrp -f "$d/keepalived.conf" \
			-p "$d/keepalived.pid" -r "$d/keepalived_vrrp.pid" >> "$T/ka_$n.log" 2>&1 &
		NN_KPID[$n]=$!
		NN_PIDS+=("$!")
	fi
}

# keepalived's state transitions in NODE's log so far ("Entering X STATE")
nn_ka_count() { grep -c "Entering $2 STATE" "$T/ka_$1.log" 2>/dev/null; }
# nn_rejoined NODE SINCE_COUNT: keepalived entered BACKUP after SINCE_COUNT
nn_rejoined() { [ "$(nn_ka_count "$1" BACKUP)" -gt "$2" ]; }

nn_ctl() {  # NODE ARGS...
	timeout -k 1 5 "$TANDEMCTL" -D "$T/d$1" "${@:2}"
}
nn_state() {  # NODE -> ACTIVE, STANDBY, ... ("" when it does not answer)
	nn_ctl "$1" cluster status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([n for n in d["nodes"] if n["self"]][0]["state"])' 2>/dev/null
}
nn_has_vip() { ip -n "${NN_NS[$1]}" -4 addr show dev eth0 | grep -q "inet $VIP/"; }

# nn_wait SECS WHAT CMD...: every 50 ms until CMD succeeds.
nn_wait() {
	local secs=$1 what=$2 end; shift 2
	end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -ge "$end" ] && nn_fail "$what (waited ${secs}s)"
		sleep 0.05
	done
}
nn_is() { [ "$(nn_state "$1")" = "$2" ]; }

# The active node's name, or "" if none.
nn_active() {
	local n
	for n in a b; do
		kill -0 "${NN_TPID[$n]}" 2>/dev/null && nn_has_vip "$n" && nn_is "$n" ACTIVE &&
			{ echo "$n"; return 0; }
	done
	echo ""
}
nn_one_active() { [ -n "$(nn_active)" ]; }

# The prober in tc: OPTIONS to the VIP and both nodes every 20 ms.
nn_prober_start() {
	rm -f "$T/stop"
	# replies come from the VIP itself: the Server header names the node
	PROBE_NODES=a=${NN_IP[a]},b=${NN_IP[b]} \
	ip netns exec "$NS_C" python3 "$NN_DIR/prober.py" "$T/probe.log" "$T/stop" \
		"${1:-600}" 0.02 5060 "$VIP" 10.0.0.1 10.0.0.2 &
	NN_PROBER=$!
	NN_PIDS+=("$!")
}
nn_prober_stop() {
	touch "$T/stop"
	wait "$NN_PROBER" 2>/dev/null
}

# nn_outage KILL_NS SURVIVOR_IP: ms from KILL_NS to the first answer at the
# VIP from the survivor to a probe sent after KILL_NS ("" if none).
nn_outage() { python3 "$NN_DIR/probe_report.py" outage "$T/probe.log" "$VIP" "$1" "$2"; }

# nn_vip_back KILL_NS SURVIVOR_IP: true once the survivor answered at the VIP
# (for nn_wait: the check runs each time, unlike "test -n $(...)")
nn_vip_back() { [ -n "$(nn_outage "$1" "$2")" ]; }

# nn_both: probe cycles in which both nodes answered (direct probes or the
# VIP): prints "N FIRST_CYCLE"; N must be 0.
nn_both() { python3 "$NN_DIR/probe_report.py" both "$T/probe.log" "$VIP"; }

# nn_answers_after NODE_IP SINCE_NS: answers from that node since then.
nn_answers_after() {
	awk -v ip="$1" -v t="$2" '$4 == ip && $1 >= t' "$T/probe.log" | wc -l
}

# REGISTER load through the VIP (tests/cluster/sipp/register_load.xml):
# nn_reg_load SECS: SIPp in the client namespace registers u3000-u3999 at
# $REG_RATE a second for SECS at most, logging each 200 in $T/reg/; REG is
# its PID; nn_regs counts the 200s so far.
nn_reg_load() {
	{ echo SEQUENTIAL; seq -f 'u%g;tf2020' 3000 3999; } > "$T/users.csv"
	mkdir -p "$T/reg"
	( cd "$T/reg" && exec ip netns exec "$NS_C" timeout -k 3 "$1" sipp -nostdin -trace_err \
		-trace_logs -sf "$NN_DIR/sipp/register_load.xml" -inf "$T/users.csv" \
		-i 10.0.0.10 -p 5090 -r "$REG_RATE" -max_retrans 4 "$VIP:5060" ) > "$T/reg/out" 2>&1 &
	REG=$!
	NN_PIDS+=("$REG")
}
nn_regs() { cat "$T"/reg/*_logs.log 2>/dev/null | grep -c '^REG '; }
# nn_reg_load_stop: SIPp asked to end (SIGUSR1), 15 s at most
nn_reg_load_stop() {
	local c w
	c=$(pgrep -P "$REG" | head -1)
	[ -n "$c" ] && kill -USR1 "$c" 2>/dev/null
	for w in $(seq 1 150); do kill -0 "$REG" 2>/dev/null || break; sleep 0.1; done
	nn_stop_pid "$REG" 1 > /dev/null 2>&1
}
# nn_reg_check NODE MIN: every REGISTER answered 200 is held by NODE (that
# binding or a later one; reg_check.py), and there were MIN at least
nn_reg_check() {
	cat "$T"/reg/*_logs.log > "$T/reg.200" 2>/dev/null
	nn_ctl "$1" registrations --json > "$T/regs.json" || nn_fail "registrations on $1"
	python3 "$NN_DIR/reg_check.py" "$T/reg.200" "$T/regs.json" "$2" > "$T/reg.check" ||
		nn_fail "registrations: $(cat "$T/reg.check")"
	nn_note "ok: $(cat "$T/reg.check")"
}

# nn_pair_up: start both nodes; wait until one is ACTIVE with the VIP and
# the other STANDBY; act and other name them.
nn_pair_up() {
	nn_start a
	nn_start b
	nn_wait 30 "one node ACTIVE with the VIP" nn_one_active
	act=$(nn_active)
	other=$([ "$act" = a ] && echo b || echo a)
	nn_wait 20 "$other STANDBY" nn_is "$other" STANDBY
	nn_note "ok: $act ACTIVE with $VIP, $other STANDBY"
}
