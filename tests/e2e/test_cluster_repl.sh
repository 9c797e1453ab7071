#!/bin/bash
# Replication between the two nodes of tandem.conf [cluster] (issue "Two
# nodes, one floating address, nothing lost"; docs/design/cluster.md 3.3-4),
# two real daemons with their own DATADIRs, each in a network namespace the
# test creates (and removes) joined by a veth pair, engine = none with the
# floating address on each namespace's own lo (root needed, else SKIP):
#  - a takes over; b gets PSYNC -> full resync (fresh), then SYNC;
#  - SIPp registers 100-tfg on a: b lists it (`tandemctl registrations`),
#    `cluster digest` is the same on both;
#  - kill -9 of b, more writes on a (a goes on alone, logged), b restarted:
#    partial resync (CONTINUE, logged on both), equal digests;
#  - b's DATADIR wiped: full resync (logged with MB/s), equal digests;
#  - `cluster status --json` shows roles, offsets, lag, state.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pair.sh"
e2e_init
need sipp

PA=$(free_port) PB=$(free_port) SA=$(free_port) SB=$(free_port)
KEY=$(openssl rand -hex 32)
pair_netns r

# node_conf DIR SIP_PORT: a CONFDIR for one node, the seed's two phones
node_conf() {
	mkdir -p "$1"
	CONF=$1 SIP_ADDR=0.0.0.0 SIP_PORT=$2 conf_sip_general realm=tandem
	CONF=$1 conf_tfg_peers
	pair_cluster_conf "$1" e2e
}

b_lists() { DATA=$T/db is_registered "$1"; }

node_conf "$T/ca" "$SA"
node_conf "$T/cb" "$SB"
start_node a
start_node b
wait_until 15 "a and b standby" role_is a standby
wait_until 15 "b standby" role_is b standby
nctl a cluster takeover --force > "$T/takeover.out" || fail "cluster takeover --force on a: $(cat "$T/ctl.err")"
wait_until 10 "a active" role_is a active
wait_until 20 "b in sync" repl_is b sync
wait_until 5 "a sees b in sync" repl_is a sync
assert_file_match "$T/a.log" "cluster: full resync to b: .*MB/s" "a logs the full resync"
assert_file_match "$T/b.log" "cluster: full resync from a: .*MB/s" "b logs the full resync"
ok "a active, b fresh: full resync, then in sync"

# ---- registrations made on a appear on b
reg_on_a() {  # NAME USER: SIPp in a's namespace registers USER with a
	local lport
	lport=$(free_port)
	users_csv "$T/$1.csv" "$2;tf2020"
	( cd "$T" && timeout -k 3 30 ip netns exec "$NSA" sipp -nostdin -trace_err \
		-error_file "$T/sipp.$1.err" -trace_msg -message_file "$T/sipp.$1.msg" \
		-sf "$SIPP_DIR/register_auth.xml" -inf "$T/$1.csv" -i "${IP[a]}" -p "$lport" \
		-m 1 -r 1 "${IP[a]}:$SA" ) > "$T/sipp.$1.out" 2>&1 \
		|| { sipp_fail_details "$1"; fail "SIPp REGISTER of $2 on a (run $1)"; }
}
reg_on_a reg100 100-tfg
wait_until 5 "b lists 100-tfg" b_lists 100-tfg
wait_until 5 "equal digests" digests_equal
assert_eq "$(cs_get a "[n for n in d['nodes'] if not n['self']][0]['repl']['lag_bytes']")" 0 \
	"a: b's lag_bytes in sync"
assert_eq "$(cs_get b "$self_expr['role']")" standby "b's role"
ok "SIPp REGISTER on a: 100-tfg on b, digests equal ($(digest a | cut -c1-60)...)"

# ---- kill -9 b, write more on a, b comes back: partial resync
kill -KILL "$PIDB"; wait "$PIDB" 2>/dev/null
reg_on_a reg101 101-tfg
nctl a db put cluster k1 v1 >/dev/null || fail "db put on a: $(cat "$T/ctl.err")"
wait_until 5 "a goes on alone" grep -q "cluster: standby b .*going on alone at offset" "$T/a.log"
start_node b
wait_until 20 "b in sync again" repl_is b sync
assert_file_match "$T/b.log" "cluster: a continues at offset [0-9]+: partial resync" "b: CONTINUE"
wait_until 5 "a shows the partial resync" \
	test "$(cs_get a "$self_expr['repl']['last_resync']['kind']")" = partial
wait_until 5 "a logs the catch-up" grep -q "cluster: standby b caught up (partial resync" "$T/a.log"
wait_until 5 "b lists 101-tfg" b_lists 101-tfg
assert_eq "$(nctl b db get cluster k1)" "v1" "db key written while b was away"
wait_until 5 "equal digests" digests_equal
ok "kill -9 of b, writes on a: partial resync on return, digests equal"

# ---- b's DATADIR wiped: full resync
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
rm -rf "$T/db"
n_full=$(grep -c "cluster: full resync from a: .*MB/s" "$T/b.log")
start_node b
wait_until 20 "b in sync after the wipe" repl_is b sync
wait_until 5 "second full resync logged" \
	test "$(grep -c "cluster: full resync from a: .*MB/s" "$T/b.log")" -gt "$n_full"
wait_until 5 "b lists 100-tfg" b_lists 100-tfg
wait_until 5 "equal digests" digests_equal
assert_eq "$(cs_get b "$self_expr['repl']['last_resync']['kind']")" full "b's last resync in status"
[ "$(cs_get b "$self_expr['repl']['last_resync']['bytes']")" -gt 0 ] || fail "full resync bytes in status"
assert_eq "$(cs_get b "'sync' in $self_expr['repl']")" False "no progress object once in sync"
ok "wiped standby: full resync ($(grep -o 'full resync from a: .*' "$T/b.log" | tail -n1)), digests equal"

nctl b cluster status > "$T/status.txt" || fail "cluster status on b"
assert_file_match "$T/status.txt" "a \(${IP[a]}:$PA\): active" "a active in b's status"
assert_file_match "$T/status.txt" "b \(${IP[b]}:$PB\): standby \(this node\)" "b standby"
ok "status on b: a active, b standby, replication in sync"

# ---- b's disk full: b drops the link saying why, stores intact; a serves on
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
SMALL=$T/small
mkdir -p "$SMALL"
used=$(du -sk "$T/db" | cut -f1)
mount -t tmpfs -o size=$(( used + 2048 ))k tmpfs "$SMALL" 2>"$T/mount.err" ||
	skip "cannot mount a tmpfs here ($(cat "$T/mount.err"))"
E2E_MOUNTS=$SMALL
cp -a "$T/db/." "$SMALL/" && rm -rf "$T/db" && ln -s "$SMALL" "$T/db"
start_node b
wait_until 20 "b in sync on the small disk" repl_is b sync
dd if=/dev/zero of="$SMALL/fill" bs=4k 2>/dev/null   # until ENOSPC
# the first turn is larger than a page, so b's journal append is what fails
# (a store commit failing after the append is the write path's case)
nctl a db put full big "$(head -c 9000 /dev/zero | tr '\0' y)" >/dev/null ||
	fail "db put on a while b's disk is full: $(cat "$T/ctl.err")"
reg_on_a reg101b 101-tfg
for i in $(seq 1 20); do nctl a db put full "k$i" "$(head -c 3000 /dev/zero | tr '\0' x)" >/dev/null ||
	fail "db put on a while b's disk is full: $(cat "$T/ctl.err")"; done
wait_until 10 "b refuses to go on" grep -q "cluster: replication from a refused: cannot store the stream" "$T/b.log"
wait_until 5 "a goes on alone" grep -q "cluster: standby b .*going on alone" "$T/a.log"
reg_on_a reg100b 100-tfg
ok "b's disk full: b logged $(grep -o 'refused: cannot store the stream[^;]*' "$T/b.log" | head -n1 | cut -c1-120); a went on alone and kept answering REGISTER and db put"
kill -0 "$PIDB" || fail "b exited on a full disk"
nctl b cluster digest > /dev/null || fail "b's stores unreadable after the full disk: $(cat "$T/ctl.err")"
n_refused=$(grep -c "replication from a refused: cannot store" "$T/b.log")
sleep 2
[ "$(grep -c "replication from a refused: cannot store" "$T/b.log")" -le $(( n_refused + 2 )) ] ||
	fail "b refuses in a loop: the link must back off after a refusal"
rm -f "$SMALL/fill"
wait_until 30 "b in sync once space is back" repl_is b sync
# a store commit that failed on b after the turn reached its journal is
# repaired by the replay at start (the journal holds the turn): restart b
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
start_node b
wait_until 20 "b in sync after its restart" repl_is b sync
wait_for 5 digests_equal || {
	nctl a cluster digest >&2; nctl b cluster digest >&2
	cp -a "$SMALL/." "$T/db.copy" 2>/dev/null
	fail "equal digests after the full disk"
}
assert_eq "$(nctl b db get full k20 | head -c 5)" xxxxx "key written while b's disk was full"
ok "space back: b caught up, digests equal"

# ---- two actives: the link cut, b takes over and writes; the link back:
# the lower (epoch, offset) steps down and resyncs from the other
ip -n "$NSA" link set "v$NSA" down
wait_until 5 "a sees the link down" repl_is a alone
nctl b cluster takeover --force > /dev/null || fail "takeover --force on b: $(cat "$T/ctl.err")"
wait_until 5 "b active" role_is b active
nctl b db put split onb yes >/dev/null || fail "db put on b while split: $(cat "$T/ctl.err")"
ip -n "$NSA" link set "v$NSA" up
wait_until 20 "one node steps down" grep -q "is active too, at epoch .*this node steps down" \
	"$T/a.log" "$T/b.log"
loser=$(grep -l "this node steps down" "$T/a.log" "$T/b.log" | head -n1)
loser=$(basename "$loser" .log); winner=$([ "$loser" = a ] && echo b || echo a)
wait_until 20 "$loser in sync with $winner" repl_is "$loser" sync
role_is "$winner" active || fail "$winner is not active after the merge of roles"
role_is "$loser" standby || fail "$loser is not standby"
wait_until 5 "equal digests after two actives" digests_equal
ok "two actives after a cut: $loser stepped down ($(grep -o 'is active too, at epoch [0-9]* offset [0-9]* (ours: epoch [0-9]* offset [0-9]*)' "$T/$loser.log" | head -n1)), resynced, digests equal"
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
stop_pid "$PIDA" 5 || fail "a did not stop on SIGTERM"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/a.log" "$T/b.log" \
	|| fail "sanitizer report"
