# tests/e2e/lib_pair.sh: two tandemd nodes' network namespaces joined by a
# veth pair, for the two-node e2e tests (sourced after lib.sh and e2e_init).
#
# pair_netns PREFIX: sets NSA, NSB (PREFIX a/b + a random suffix), NET
# (10.x.y), IP[a|b] and NS[a|b]; creates the namespaces and the veth;
# removes them, the test's background processes and E2E_MOUNTS at exit.
# SKIPs when not root or namespaces cannot be made here.
pair_netns() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"
	need ip
	local sfx n
	sfx=$(printf '%04x' $(( (RANDOM << 1 ^ $$) & 0xffff )))
	NSA=${1}a$sfx NSB=${1}b$sfx
	NET=10.$(( 100 + RANDOM % 100 )).$(( RANDOM % 250 ))
	declare -gA IP=([a]=$NET.1 [b]=$NET.2) NS=([a]=$NSA [b]=$NSB)
	trap pair_cleanup EXIT
	ip netns add "$NSA" 2>/dev/null || skip "cannot create network namespaces here"
	ip netns add "$NSB" || fail "ip netns add $NSB"
	ip link add "v$NSA" netns "$NSA" type veth peer name "v$NSB" netns "$NSB" ||
		fail "veth pair"
	for n in a b; do
		ip -n "${NS[$n]}" link set lo up
		ip -n "${NS[$n]}" addr add "${IP[$n]}/24" dev "v${NS[$n]}"
		ip -n "${NS[$n]}" link set "v${NS[$n]}" up
	done
}

pair_cleanup() {
	local rc=$? p
	for p in "${E2E_BG_PIDS[@]}"; do stop_pid "$p" >/dev/null 2>&1; done
	[ -n "${E2E_MOUNTS:-}" ] && mountpoint -q "$E2E_MOUNTS" && umount "$E2E_MOUNTS"
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	(exit "$rc"); e2e_cleanup
}
