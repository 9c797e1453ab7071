#!/bin/bash
# Split brain healed by a merge (docs/design/cluster.md 7): two real
# daemons in network namespaces the test creates (and removes), engine =
# none, no witness (the mode where two actives can happen: the admin runs
# takeover --force on a standby cut from its active).
#  - a active, b in sync; the link is cut (a's veth down); b takes over
#    with --force: two actives, each writes while split:
#      DB keys: split/k1 written on b then a (a's is later: a's wins),
#        split/k2 written on a then b (b's wins), only-a/x on a, only-b/y on b;
#      a voicemail on each node for the same box (both msg0000, other
#        speech): a call record each;
#      provisioning/both.cfg written on a then on b (b's is newer: kept,
#        a's kept as both.cfg.conflict-a-<time>), provisioning/only-a.cfg;
#      a call answered on a and still up when the link comes back;
#  - the link comes back: the two actives meet, a (the lower epoch) steps
#    down and sends what it wrote since the split as MERGE before its
#    PSYNC; b merges, a gets a full resync. Then on BOTH nodes: the keys
#    by last writer, both voicemails (a's renumbered msg0001, audio
#    byte-identical to what a recorded), both call records exactly once,
#    the call up on a finalised as cut (ANSWERED, "cut by failover"),
#    both provisioning files and the conflict copy, digests equal; b logs
#    one merge line, a says its tail was sent to be merged.
#  - the link is cut and healed once more with nothing new: nothing
#    appears twice (two messages, two call records, digests equal);
#  - a restarted on a copy of its DATADIR from before the heal merges the
#    same tail again (as after a link lost mid-merge): nothing is added.
# Root needed (namespaces), else SKIP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pair.sh"
e2e_init
need sipp espeak-ng sox

PA=$(free_port) PB=$(free_port) SA=$(free_port)
SB=$SA
KEY=$(openssl rand -hex 32)
pair_netns m

node_conf() {  # DIR SIP_PORT
	mkdir -p "$1"
	cat > "$1/extensions.conf" <<'EOT'
[default]
exten => 502,1,VoiceMail(tfg@default,s)
 same => n,Hangup()
EOT
	printf '[general]\nformat = wav\nminsecs = 1\n\n[default]\ntfg => 2020,TFG\n' \
		> "$1/voicemail.conf"
	CONF=$1 SIP_ADDR=0.0.0.0 SIP_PORT=$2 conf_sip_general realm=tandem
	CONF=$1 conf_tfg_peers qualify=no language=en
	pair_cluster_conf "$1" mg
}
link() { ip -n "$NSA" link set "v$NSA" "$1"; }
repl_not() { [ "$(cs_get "$1" "$self_expr['repl']['state']")" != "$2" ]; }
cdrs_are() { [ "$(cdrs "$1")" = "$2" ]; }
get() { [ "$(nctl "$1" db get "$2" "$3" 2>/dev/null)" = "$4" ]; }
put() { nctl "$1" db put "$2" "$3" "$4" > /dev/null || fail "db put $2/$3 on $1"; }
cdrs() {  # NODE: the call records' uniqueids, sorted
	python3 - "$T/d$1/cdr.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
print(" ".join(sorted(u for (u,) in db.execute("SELECT uniqueid FROM cdr"))))
EOF
}
up_q() { up_on "$1" > /dev/null; }
up_on() {  # NODE: uniqueid of the answered call in its cdr_open (fails if none)
	python3 - "$T/d$1/cdr.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
try:
    r = db.execute("SELECT uniqueid FROM cdr_open WHERE answer_us > 0").fetchall()
except sqlite3.OperationalError:
    r = []
print(" ".join(u for (u,) in r))
sys.exit(0 if len(r) == 1 else 1)
EOF
}
disp() {  # NODE UNIQUEID: its record's disposition
	python3 - "$T/d$1/cdr.db" "$2" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
print(" ".join(d for (d,) in db.execute("SELECT disposition FROM cdr WHERE uniqueid = ?",
                                         (sys.argv[2],))))
EOF
}
BOX=voicemail/default/tfg/INBOX
vm() {  # NODE NAME TEXT: leave a voicemail on NODE, wait until its .txt is there
	espeak-ng -w "$T/$2.22k.wav" "$3" 2>/dev/null || fail "espeak-ng"
	sox "$T/$2.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$T/$2.wav" || fail "sox"
	mkvoice "$T/digits.pcap" "$T/$2.wav"
	sipp_on "$1" "$2" vm_uac_hangup.xml -key rtpport "$(free_port)" -mp "$(free_port)" \
		-d 1500 -s 502
}

node_conf "$T/ca" "$SA"
node_conf "$T/cb" "$SB"
users_csv "$T/u100.csv" "100-tfg;tf2020"
start_node a
start_node b
wait_until 15 "a standby" role_is a standby
nctl a cluster takeover --force > /dev/null || fail "takeover on a: $(cat "$T/ctl.err")"
wait_until 10 "a active" role_is a active
wait_until 20 "b in sync" repl_is b sync
put a before k0 v0
wait_until 5 "before/k0 on b" get b before k0 v0
ok "a active, b in sync"

# ---- split: two actives
link down
wait_until 10 "b no longer in sync" repl_not b sync
nctl b cluster takeover --force > /dev/null || fail "takeover on b: $(cat "$T/ctl.err")"
wait_until 10 "b active" role_is b active
role_is a active || fail "a stopped serving (no witness: it goes on alone)"
ok "link cut, b took over with --force: two actives"

put b split k1 from-b; sleep 0.05
put a split k1 from-a
put a split k2 from-a; sleep 0.05
put b split k2 from-b
put a only-a x xa
put b only-b y yb
vm a vma "This message was left on node a while it was cut off."
wait_until 10 "a's msg0000.txt" test -f "$T/da/$BOX/msg0000.txt"
vm b vmb "Node b recorded this one during the split."
wait_until 10 "b's msg0000.txt" test -f "$T/db/$BOX/msg0000.txt"
cp "$T/da/$BOX/msg0000.wav" "$T/a-msg.wav"
cp "$T/db/$BOX/msg0000.wav" "$T/b-msg.wav"
cmp -s "$T/a-msg.wav" "$T/b-msg.wav" && fail "the two messages are identical"
mkdir -p "$T/da/provisioning" "$T/db/provisioning"
echo "a's version" > "$T/da/provisioning/both.cfg"
echo "only on a" > "$T/da/provisioning/only-a.cfg"
sleep 1.1   # mtime granularity of the comparison: a whole second apart
echo "b's version, newer" > "$T/db/provisioning/both.cfg"
CA=$(cdrs a) CB=$(cdrs b)
[ -n "$CA" ] && [ -n "$CB" ] && [ "$CA" != "$CB" ] || fail "call records: a '$CA', b '$CB'"
ok "both wrote while split: keys, a voicemail and a call record each, provisioning files"

# a call still up on a when the link comes back (SIPp keeps it 30 s)
( cd "$T" && exec ip netns exec "$NSA" sipp -nostdin -sf "$SIPP_DIR/vm_uac_hangup.xml" \
	-inf "$T/u100.csv" -i "${IP[a]}" -p "$(free_port)" -m 1 -key rtpport "$(free_port)" \
	-mp "$(free_port)" -d 30000 -s 502 "${IP[a]}:$SA" ) > "$T/sipp.long.out" 2>&1 &
E2E_BG_PIDS+=("$!")
LONGPID=$!
wait_until 10 "a's long call answered" up_q a
UP=$(up_on a)
ok "a call up on a: $UP"

# a's DATADIR as it is before the heal (a stopped while copied): the same
# tail merged a second time at the end must add nothing
kill -STOP "$PIDA"
cp -a "$T/da" "$T/da.split" || fail "copy of a's DATADIR"
kill -CONT "$PIDA"

# ---- heal: a steps down, merges into b, gets a full resync
link up
wait_until 20 "a standby again" role_is a standby
wait_until 30 "a in sync" repl_is a sync
role_is b active || fail "b is not the active after the heal"
assert_file_match "$T/b.log" "cluster: merged the writes a made after the split" "b logs the merge"
assert_file_match "$T/a.log" "after the split were sent to be merged" "a says its tail was sent"
note "$(grep -o 'cluster: merged the writes a made.*' "$T/b.log" | head -n1)"
for n in a b; do
	wait_until 10 "split/k1 = from-a on $n" get "$n" split k1 from-a
	get "$n" split k2 from-b || fail "split/k2 on $n: '$(nctl "$n" db get split k2)'"
	get "$n" only-a x xa || fail "only-a/x missing on $n"
	get "$n" only-b y yb || fail "only-b/y missing on $n"
	get "$n" before k0 v0 || fail "before/k0 missing on $n"
done
ok "DB keys: last writer won each conflict, both sides' own keys kept, on both nodes"
for n in a b; do
	wait_until 10 "$n: msg0001 (a's, renumbered)" test -f "$T/d$n/$BOX/msg0001.wav"
	wait_until 10 "$n: msg0001.txt" test -f "$T/d$n/$BOX/msg0001.txt"
	cmp -s "$T/d$n/$BOX/msg0000.wav" "$T/b-msg.wav" || fail "$n: msg0000 is not b's message"
	cmp -s "$T/d$n/$BOX/msg0001.wav" "$T/a-msg.wav" || fail "$n: msg0001 is not a's message"
	[ ! -e "$T/d$n/$BOX/msg0002.wav" ] || fail "$n: a third message"
done
ok "voicemail: b's message is msg0000, a's renumbered msg0001 (audio identical), on both nodes"
CU=$(printf '%s %s %s\n' "$CA" "$CB" "$UP" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
for n in a b; do
	wait_until 10 "$n holds the three call records" cdrs_are "$n" "$CU"
	[ "$(disp "$n" "$UP")" = ANSWERED ] || fail "$n: the cut call's record is '$(disp "$n" "$UP")'"
done
assert_file_match "$T/b.log" "call record $UP .* cut by failover" "b logs the cut call record"
kill "$LONGPID" 2>/dev/null
ok "call records: the union, each once, on both nodes; a's call up at the heal cut, ANSWERED ($CU)"
for n in a b; do
	wait_until 10 "$n: provisioning/only-a.cfg" test -f "$T/d$n/provisioning/only-a.cfg"
	wait_until 10 "$n: b's both.cfg" grep -q "b's version" "$T/d$n/provisioning/both.cfg"
	c=$(ls "$T/d$n/provisioning/" | grep '^both\.cfg\.conflict-a-' | head -n1)
	[ -n "$c" ] && grep -q "a's version" "$T/d$n/provisioning/$c" ||
		fail "$n: a's both.cfg not kept as both.cfg.conflict-a-*: $(ls "$T/d$n/provisioning/")"
done
ok "provisioning: union; both.cfg changed on both: b's (newer) kept, a's as a conflict copy"
wait_until 10 "digests equal" digests_equal
ok "digests equal: $(digest a)"

# ---- cut and heal again with nothing new (a partial resync): nothing
# appears twice
link down
wait_until 10 "a no longer in sync" repl_not a sync
link up
wait_until 30 "a in sync again" repl_is a sync
for n in a b; do
	[ "$(cdrs "$n")" = "$CU" ] || fail "after a second heal, $n's call records: '$(cdrs "$n")'"
	[ ! -e "$T/d$n/$BOX/msg0002.wav" ] || fail "after a second heal, a third message on $n"
done
wait_until 10 "digests equal again" digests_equal
ok "a second cut and heal: nothing twice"

# ---- the same tail merged again (as after a link lost in the middle of a
# merge): a restarted on its DATADIR from before the heal
stop_pid "$PIDA" 5 || fail "a did not stop on SIGTERM"
rm -rf "$T/da" && mv "$T/da.split" "$T/da"
start_node a
wait_until 30 "a in sync after its old tail" repl_is a sync
[ "$(grep -c "cluster: merged the writes a made" "$T/b.log")" = 2 ] ||
	fail "b did not merge a's old tail a second time"
for n in a b; do
	wait_until 10 "$n: the same call records" cdrs_are "$n" "$CU"
	get "$n" split k1 from-a || fail "split/k1 on $n after the second merge"
	get "$n" split k2 from-b || fail "split/k2 on $n after the second merge"
	[ "$(ls "$T/d$n/$BOX" | grep -c '^msg.*\.wav$')" = 2 ] ||
		fail "$n's INBOX after the second merge: $(ls "$T/d$n/$BOX")"
	[ "$(ls "$T/d$n/provisioning" | grep -c '^both\.cfg\.conflict-')" = 1 ] ||
		fail "$n's provisioning after the second merge: $(ls "$T/d$n/provisioning")"
done
wait_until 10 "digests equal after the second merge" digests_equal
note "$(grep -o 'cluster: merged the writes a made.*' "$T/b.log" | tail -n1)"
ok "the same tail merged twice: nothing added (two messages, three records, one conflict copy)"

stop_pid "$PIDA" 5 || fail "a did not stop on SIGTERM"
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/a.log" "$T/b.log" \
	|| fail "sanitizer report"
exit 0
