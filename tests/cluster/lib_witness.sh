# shellcheck shell=bash
# lib_witness.sh: lib_netns.sh plus a witness (docs/design/cluster.md 6):
#   tw  10.0.0.3/24  tandemd --witness (listens on 7390 for a, 7391 for b)
# Both nodes get `witness = 10.0.0.3:7390` and two_node_takeover = no.
# nw_cut FROM TO...: drop everything between FROM's namespace and the given
# addresses (iptables in FROM's namespace, both directions); nw_heal FROM.
. "$(dirname "${BASH_SOURCE[0]}")/lib_netns.sh"
export NN_TWO_NODE=no
NS_W=tw$NN_SFX
NW_IP=10.0.0.3
NW_PID=''

nw_cleanup() {
	local rc=$?
	[ -n "$NW_PID" ] && nn_stop_pid "$NW_PID" 3 >/dev/null 2>&1
	ip netns del "$NS_W" 2>/dev/null
	(exit "$rc")
	nn_cleanup
}

nw_net() {
	nn_net
	trap nw_cleanup EXIT
	command -v iptables >/dev/null 2>&1 || nn_skip "needs iptables"
	ip netns add "$NS_W" &&
	ip link add "v4$NN_SFX" type veth peer name "s4$NN_SFX" &&
	ip link set "v4$NN_SFX" netns "$NS_W" &&
	ip link set "s4$NN_SFX" netns "$NS_SW" &&
	ip -n "$NS_SW" link set "s4$NN_SFX" master br0 up &&
	ip -n "$NS_W" link set "v4$NN_SFX" name eth0 &&
	ip -n "$NS_W" addr add "$NW_IP/24" dev eth0 &&
	ip -n "$NS_W" link set eth0 up && ip -n "$NS_W" link set lo up ||
		nn_fail "cannot make the witness namespace"
}

# nw_conf NODE: nn_conf plus the witness
nw_conf() {
	nn_conf "$1"
	printf 'witness = %s:7390\n' "$NW_IP" >> "$T/c$1/tandem.conf"
}

# nw_start: the witness, on the same tandem.conf as the nodes (again: a
# restart, after the previous one was stopped)
nw_start() {
	mkdir -p "$T/cw" "$T/dw"
	cp "$T/ca/tandem.conf" "$T/cw/tandem.conf"
	install -m 600 "$T/cluster.key" "$T/cw/cluster.key"
	local i n0
	n0=$(grep -c 'witness: cluster' "$T/w.log" 2>/dev/null)
	ip netns exec "$NS_W" "$TANDEMD" --witness -C "$T/cw" -D "$T/dw" >> "$T/w.log" 2>&1 &
	NW_PID=$!
	for i in $(seq 1 50); do
		[ "$(grep -c 'witness: cluster' "$T/w.log" 2>/dev/null)" -gt "${n0:-0}" ] && return 0
		kill -0 "$NW_PID" 2>/dev/null || nn_fail "the witness exited at start: $(cat "$T/w.log")"
		sleep 0.1
	done
	nn_fail "the witness did not start"
}

# nw_pair [CONF_FUNC]: the whole set-up the witness tests share: the
# namespaces, both nodes' configuration (CONF_FUNC NODE, when given, runs
# after nw_conf NODE to add to it), the witness, both nodes; then one node
# ACTIVE with the VIP, the other STANDBY (in sync) and the active holding
# the witness lease. NW_ACTIVE and NW_STANDBY name them.
nw_pair() {
	local n
	nw_net
	for n in a b; do
		nw_conf "$n"
		[ -z "${1:-}" ] || "$1" "$n"
	done
	nw_start
	nn_start a
	nn_start b
	nn_wait 30 "one node ACTIVE with the VIP" nn_one_active
	NW_ACTIVE=$(nn_active)
	NW_STANDBY=$([ "$NW_ACTIVE" = a ] && echo b || echo a)
	nn_wait 20 "$NW_STANDBY STANDBY (in sync)" nn_is "$NW_STANDBY" STANDBY
	nn_wait 5 "$NW_ACTIVE holds the witness lease" eval '[ "$(nw_status "$NW_ACTIVE" holder)" = "$NW_ACTIVE" ]'
}

# nw_status NODE FIELD: that field of the witness in NODE's cluster status
# (holder: the node holding the lease; "" none)
nw_status() {  # NODE FIELD
	nn_ctl "$1" cluster status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
w = (d.get("quorum") or {}).get("witness") or {}
print(w.get(sys.argv[1]) if w.get(sys.argv[1]) is not None else "")' "$2" 2>/dev/null
}

nw_cut() {  # FROM ADDR...
	local ns=${NN_NS[$1]} a
	shift
	for a in "$@"; do
		ip netns exec "$ns" iptables -I INPUT -s "$a" -j DROP &&
		ip netns exec "$ns" iptables -I OUTPUT -d "$a" -j DROP ||
			nn_fail "iptables in $ns"
	done
}
nw_heal() { ip netns exec "${NN_NS[$1]}" iptables -F || nn_fail "iptables -F"; }

# nn_answers_between NODE_IP FROM_NS TO_NS
nw_answers_between() {
	awk -v ip="$1" -v f="$2" -v t="$3" '$4 == ip && $1 >= f && $1 < t' "$T/probe.log" | wc -l
}
