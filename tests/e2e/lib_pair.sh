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

# pair_cluster_conf DIR NAME [LINE...]: DIR/cluster.key ($KEY) and
# DIR/tandem.conf [cluster] for the pair (engine = none, replication on
# IP[a]:$PA and IP[b]:$PB, the floating address $NET.100 on lo), LINEs
# appended to the section.
pair_cluster_conf() {
	local dir=$1 name=$2 l; shift 2
	printf '%s\n' "$KEY" > "$dir/cluster.key"
	chmod 600 "$dir/cluster.key"
	{
		printf '[cluster]\nname = %s\nnode = a,%s:%s\nnode = b,%s:%s\n' \
			"$name" "${IP[a]}" "$PA" "${IP[b]}" "$PB"
		printf 'keyfile = cluster.key\nengine = none\nvip = %s.100/32\ninterface = lo\n' "$NET"
		for l in "$@"; do printf '%s\n' "$l"; done
	} > "$dir/tandem.conf"
}

# The nodes (after pair_netns; the test writes $T/cN/ and sets SA, SB,
# the SIP ports of a and b, and $T/u100.csv for sipp_on):
# start_node NODE: tandemd in NODE's namespace, -C $T/cN -D $T/dN; sets
# PIDA or PIDB; waits until it answers tandemctl.
start_node() {
	local n=$1
	ip netns exec "${NS[$n]}" "$TANDEMD" -C "$T/c$n" -D "$T/d$n" -f -n "$n" >> "$T/$n.log" 2>&1 &
	eval "PID${n^^}=$!"
	E2E_BG_PIDS+=("$!")
	wait_until 15 "node $n answers" nctl_quiet "$n" status
}
nctl() { timeout -k 2 10 "$TANDEMCTL" -D "$T/d$1" "${@:2}" 2>"$T/ctl.err"; }
nctl_quiet() { nctl "$@" >/dev/null 2>&1; }
cs_get() {  # NODE EXPR over `cluster status --json` as d
	nctl "$1" cluster status --json > "$T/cs.$1.json" 2>/dev/null || return 1
	jq_py "$T/cs.$1.json" "$2" 2>/dev/null
}
self_expr="[n for n in d['nodes'] if n['self']][0]"
repl_is() { [ "$(cs_get "$1" "$self_expr['repl']['state']")" = "$2" ]; }
role_is() { [ "$(cs_get "$1" "$self_expr['role']")" = "$2" ]; }
# digest NODE: `cluster digest` as "store=sha256 ..." (every store)
digest() { nctl "$1" cluster digest --json > "$T/dg.$1.json" &&
	jq_py "$T/dg.$1.json" "' '.join('%s=%s' % kv for kv in sorted(d['stores'].items()))"; }
digests_equal() {
	local da db
	da=$(digest a) && db=$(digest b) && [ -n "$da" ] && [ "$da" = "$db" ]
}
# areas_equal: the DATADIR areas that replicate and the CONFDIRs of a and b
# are byte-identical (diffs in $T/diff.*)
areas_equal() {
	local x
	for x in voicemail monitor sounds provisioning; do
		diff -r "$T/da/$x" "$T/db/$x" > "$T/diff.$x" 2>&1 || return 1
	done
	diff -r "$T/ca" "$T/cb" > "$T/diff.conf" 2>&1
}
# tx_bytes: the bytes a's veth has sent so far
tx_bytes() { ip netns exec "$NSA" cat "/sys/class/net/v$NSA/statistics/tx_bytes"; }
# pair_seed_files MB: the same files in $T/da and $T/db, as after an
# earlier resync: MB recordings of 1 MB (monitor/rec-NNN.wav), a voicemail
# message, a prompt and a provisioning file
pair_seed_files() {
	local i
	mkdir -p "$T/seed/monitor" "$T/seed/voicemail/default/tfg/INBOX" "$T/seed/sounds/en" \
		"$T/seed/provisioning"
	for i in $(seq -f %03g 1 "$1"); do
		head -c 1048576 /dev/urandom > "$T/seed/monitor/rec-$i.wav"
	done
	head -c 64000 /dev/urandom > "$T/seed/voicemail/default/tfg/INBOX/msg0000.wav"
	printf '[message]\ncallerid=100\n' > "$T/seed/voicemail/default/tfg/INBOX/msg0000.txt"
	head -c 20000 /dev/urandom > "$T/seed/sounds/en/welcome.wav"
	printf 'config\n' > "$T/seed/provisioning/0004f2aabbcc.cfg"
	mkdir -p "$T/da" "$T/db"
	cp -a "$T/seed/." "$T/da/"
	cp -a "$T/seed/." "$T/db/"
	rm -rf "$T/seed"
}
sipp_on() {  # NODE NAME SCENARIO [ARGS...]: SIPp (100-tfg) in NODE's namespace
	local n=$1 name=$2 sc=$3 lport port; shift 3
	lport=$(free_port)
	port=$([ "$n" = a ] && echo "$SA" || echo "$SB")
	( cd "$T" && timeout -k 3 60 ip netns exec "${NS[$n]}" sipp -nostdin -trace_err \
		-error_file "$T/sipp.$name.err" -trace_msg -message_file "$T/sipp.$name.msg" \
		-sf "$SIPP_DIR/$sc" -inf "$T/u100.csv" -i "${IP[$n]}" -p "$lport" -m 1 -r 1 "$@" \
		"${IP[$n]}:$port" ) > "$T/sipp.$name.out" 2>&1 \
		|| { sipp_fail_details "$name"; fail "SIPp $sc on $n (run $name)"; }
}
