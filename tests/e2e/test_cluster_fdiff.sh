#!/bin/bash
# A full resync sends only the files that differ (docs/design/cluster.md
# 3.4 step 4): two real daemons in network namespaces the test creates
# (and removes), engine = none, a small backlog so that a standby away
# for a while needs a full resync.
#  - both DATADIRs start with the same FDIFF_MB (default 20) 1 MB
#    recordings, a voicemail message, prompts, provisioning: b's first
#    full resync fetches only queue_log (the rest is the same);
#  - b stopped; on a: queue members added and removed (queue_log lines),
#    one recording rewritten, more written than the backlog keeps; on b:
#    one recording rewritten with other bytes of the same size (stale),
#    one removed (missing), two files only b has (extra), a part file of
#    a transfer cut short;
#  - b started (its link shaped to 50 Mbit/s with tbf so the files phase
#    lasts): a full resync; a sends exactly the stale, missing and changed
#    files and queue_log (counted from its log, and the bytes a's veth
#    sent measured), b removes the two extra files and the part file (its
#    log says how many, which areas), `cluster status` on b showed
#    repl.sync.phase "files" with done/total bytes; every area is
#    byte-identical on both and `cluster digest` is equal, queue_log
#    included (and not the digest of nothing).
#  - a stopped, a hostile active (tests/e2e/fake_active.c, the real link
#    code with a's key) sends b manifests with voicemail/../../../etc/passwd,
#    a 2^50-byte file, entries out of order: b refuses each with one line
#    naming the entry, writes nothing, keeps its stores and runs on.
# The decoders are also in tests/unit/test_fmanifest.c and fuzz_repl.c.
# Root needed (namespaces), else SKIP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pair.sh"
e2e_init
need tc

MB=${FDIFF_MB:-20}
PA=$(free_port) PB=$(free_port) SA=$(free_port)
KEY=$(openssl rand -hex 32)
pair_netns d

node_conf() {  # DIR
	mkdir -p "$1"
	CONF=$1 SIP_ADDR=0.0.0.0 SIP_PORT=$SA conf_sip_general realm=tandem
	CONF=$1 conf_tfg_peers qualify=no
	printf '[general]\n\n[q1]\nstrategy = ringall\n' > "$1/queues.conf"
	pair_cluster_conf "$1" fd "backlog = 1M" "backlog_max = 1M" "peer_timeout = 3000"
}

node_conf "$T/ca"
node_conf "$T/cb"
# the same files on both nodes, as after an earlier resync
pair_seed_files "$MB"

start_node a
start_node b
wait_until 15 "a standby" role_is a standby
wait_until 15 "b standby" role_is b standby
nctl a cluster takeover --force > /dev/null || fail "takeover on a: $(cat "$T/ctl.err")"
wait_until 10 "a active" role_is a active
wait_until 30 "b in sync" repl_is b sync
wait_until 5 "a logs what b wanted" grep -q "cluster: full resync to b: it wants" "$T/a.log"
first=$(grep -o "it wants [0-9]* of [0-9]* files ([0-9.]* MB)" "$T/a.log" | head -n1)
[[ "$first" =~ ^"it wants "[01]" of " ]] || fail "first full resync: b already had the files, a says: $first"
ok "b's first full resync: $first (the $MB MB of recordings were already there)"

# ---- b away for a while; both sides change
nctl a queue add q1 SIP/100-tfg >/dev/null || fail "queue add on a: $(cat "$T/ctl.err")"
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
nctl a queue add q1 SIP/101-tfg >/dev/null || fail "queue add on a: $(cat "$T/ctl.err")"
nctl a queue remove q1 SIP/100-tfg >/dev/null || fail "queue remove on a: $(cat "$T/ctl.err")"
head -c 1048576 /dev/urandom > "$T/da/monitor/rec-005.wav"               # changed on a
head -c 1048576 /dev/urandom > "$T/db/monitor/rec-003.wav"               # stale on b
rm "$T/db/monitor/rec-004.wav"                                           # missing on b
head -c 5000 /dev/urandom > "$T/db/monitor/extra.wav"                    # only on b
head -c 5000 /dev/urandom > "$T/db/sounds/en/extra.wav"                  # only on b
head -c 3000 /dev/urandom > "$T/db/provisioning/0004f2aabbcc.cfg.tandem-part"
# 40 MB through a's journal (prompts are replicated by the watcher): its
# first 16 MB segment goes (backlog 1 MB), b's position with it (a long
# absence); then the prompt is removed
first_seg=$(ls "$T/da/journal/"*-0.jnl) || fail "a's first journal segment"
head -c 41943040 /dev/urandom > "$T/big.tmp"
mv "$T/big.tmp" "$T/da/sounds/en/big.wav"
wait_until 30 "a's first journal segment dropped" test ! -e "$first_seg"
rm "$T/da/sounds/en/big.wav"
grep -q "it wants" "$T/a.log" || fail "no first resync line"
n_full=$(grep -c "cluster: full resync to b: it wants" "$T/a.log")

# ---- b back: a full resync of the difference, its link at 50 Mbit/s
ip netns exec "$NSA" tc qdisc add dev "v$NSA" root tbf rate 50mbit burst 64kb latency 2000ms ||
	fail "tc tbf on a's veth"
tx0=$(tx_bytes)
: > "$T/phases"
( for i in $(seq 1 600); do
	timeout 2 "$TANDEMCTL" -D "$T/db" cluster status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [n for n in d["nodes"] if n["self"]][0]["repl"].get("sync")
if s: print(s["phase"], s["done_bytes"], s["total_bytes"])' >> "$T/phases" 2>/dev/null
	sleep 0.05
done ) &
POLL=$!
E2E_BG_PIDS+=("$POLL")
t0=$(now_ms)
start_node b
wait_until 60 "b in sync after its absence" repl_is b sync
t1=$(now_ms)
kill "$POLL" 2>/dev/null; wait "$POLL" 2>/dev/null
tx1=$(tx_bytes)
ip netns exec "$NSA" tc qdisc del dev "v$NSA" root
[ "$(grep -c "cluster: full resync to b: it wants" "$T/a.log")" -gt "$n_full" ] ||
	fail "b's return was no full resync: $(grep 'b at\|continue' "$T/a.log" | tail -n2)"
wants=$(grep -o "it wants [0-9]* of [0-9]* files ([0-9.]* MB)" "$T/a.log" | tail -n1)
sent=$(grep -o "full resync to b: [0-9]* of [0-9]* files sent ([0-9.]* MB" "$T/a.log" | tail -n1)
[[ "$wants" =~ ^"it wants 4 of " ]] || fail "a should send 4 files (stale, missing, changed, queue_log): $wants"
mb=$(echo "$sent" | grep -o '([0-9.]*' | tr -d '(')
python3 -c "import sys; sys.exit(0 if 3.1 <= $mb < 3.3 else 1)" ||
	fail "a sent $mb MB of files, not the 3 MB that differ (+ queue_log): $sent"
assert_file_match "$T/b.log" \
	"cluster: full resync from a: removed 2 files the active does not have \(monitor 1, sounds 1\); 1 part files of cut transfers removed" \
	"b logs the files it removed"
assert_file_match "$T/b.log" "cluster: full resync from a: 4 of [0-9]+ files differ or are missing here" \
	"b logs what it fetches"
[ ! -e "$T/db/monitor/extra.wav" ] && [ ! -e "$T/db/sounds/en/extra.wav" ] ||
	fail "extra files still on b"
[ -z "$(find "$T/db" -name '*.tandem-part')" ] || fail "part files left on b: $(find "$T/db" -name '*.tandem-part')"
wait_until 10 "every area byte-identical" areas_equal
grep -q "^files [0-9]* [0-9]*" "$T/phases" || fail "cluster status on b never showed phase files: $(sort -u "$T/phases" | head)"
ftotal=$(grep "^files" "$T/phases" | tail -n1 | cut -d' ' -f3)
[ "$ftotal" -gt 3000000 ] || fail "phase files: total_bytes $ftotal does not count the files"
ok "b back after its absence: $wants; a $sent; a's veth sent $(( (tx1 - tx0) / 1000 )) kB in $(( t1 - t0 )) ms (files: $MB MB held by both); b removed 2 extra files and 1 part file; status showed phase files ($(grep '^files' "$T/phases" | tail -n1))"

wait_until 10 "equal digests" digests_equal
dq=$(digest a | grep -o 'queue_log=[0-9a-f]*')
[ "$dq" != "queue_log=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" ] ||
	fail "a's queue_log is empty: the test wrote no queue events"
grep -q "|ADDMEMBER|" "$T/db/queue_log" || fail "b's queue_log lacks the ADDMEMBER lines"
ok "digests equal, queue_log included ($dq)"

# ---- a hostile active: a stopped, tandem_fake_active takes its place on
# the link with a's [cluster] and key; each manifest is refused by b with
# the reason, nothing written, b keeps running
FAKE=$TANDEM_BUILD/tests/tandem_fake_active
[ -x "$FAKE" ] || fail "no $FAKE (build the tests)"
stop_pid "$PIDA" 5 || fail "a did not stop on SIGTERM"
db0=$(digest b)
for m in "traversal:bad manifest: manifest entry 1: bad file name voicemail/\.\./\.\./\.\./etc/passwd; link dropped" \
	"size:bad manifest: manifest entry 1: monitor/huge.wav of 1125899906842624 bytes \(over 1099511627776\); link dropped" \
	"order:bad manifest: manifest entry 2: monitor/a.wav repeated or out of order; link dropped"; do
	timeout -k 2 20 ip netns exec "$NSA" "$FAKE" "$T/ca" a "${m%%:*}" >> "$T/fake.log" 2>&1 ||
		fail "fake active (${m%%:*}): $(tail -n3 "$T/fake.log")"
	assert_file_match "$T/b.log" "cluster: full resync from a refused: ${m#*:}" "b refuses the ${m%%:*} manifest"
done
kill -0 "$PIDB" || fail "b exited on a hostile manifest"
[ ! -e "$T/db/monitor/huge.wav" ] || fail "b created huge.wav"
[ -z "$(find "$T/db" -name '*.tandem-part' -o -name '*.part' -path '*/incoming/*')" ] ||
	fail "part files left on b after the refusals"
wait_until 10 "b's stores unchanged" test "$(digest b)" = "$db0"
areas_equal || fail "b's files changed by the refused manifests: $(cat "$T"/diff.* | head -n5)"
ok "hostile manifests refused by b: $(grep -o 'refused: bad manifest: [^;]*' "$T/b.log" | sed 's/refused: bad manifest: //' | paste -sd '|' | cut -c1-300)"

stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/a.log" "$T/b.log" "$T/fake.log" \
	|| fail "sanitizer report"
