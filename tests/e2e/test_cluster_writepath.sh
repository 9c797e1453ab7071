#!/bin/bash
# The write path on two real daemons (docs/design/cluster.md 1.1-1.3, 2.3):
# every kind of durable change made on the active reaches the standby's
# stores and its in-memory views, and both nodes end with the same
# `cluster digest`. Two network namespaces joined by a veth pair (created
# and removed here; root needed, else SKIP), engine = none:
#  - SIPp registers 100-tfg and 101-tfg on a: b's `registrations` lists
#    both, with a's contacts; one unregisters (Expires: 0): gone on b;
#  - blacklist add, db put, db deltree on a: b's `db show` agrees;
#  - `queue add` on a (persistentmembers = yes): b's `queue show` lists the
#    dynamic member; a's queue_log lines are in b's queue_log;
#  - a SIPp call answered and hung up by a's dialplan: b's `cdr` lists the
#    same record (uniqueid, disposition, billsec); the 200 to SIPp's BYE
#    arrives (it waits for the standby's ACK);
#  - digests of all four stores equal on a and b, and differ from the
#    digests of the empty stores;
#  - a call up on a when a is killed (-9): b, taking over, ends its record
#    as cut by failover (ANSWERED), exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pair.sh"
e2e_init
need sipp

PA=$(free_port) PB=$(free_port) SA=$(free_port) SB=$(free_port)
KEY=$(openssl rand -hex 32)
pair_netns w

node_conf() {  # DIR SIP_PORT
	mkdir -p "$1"
	cat > "$1/extensions.conf" <<'EOT'
[general]
static=yes
writeprotect=yes

[default]
exten => 200,1,Answer()
 same => n,Wait(1)
 same => n,Hangup()
exten => 201,1,Answer()
 same => n,Wait(60)
 same => n,Hangup()
EOT
	cat > "$1/queues.conf" <<'EOT'
[general]
persistentmembers = yes

[support]
strategy = ringall
member => SIP/100-tfg
EOT
	CONF=$1 SIP_ADDR=0.0.0.0 SIP_PORT=$2 conf_sip_general realm=tandem
	CONF=$1 conf_tfg_peers qualify=no
	pair_cluster_conf "$1" wp
}

b_lists() { DATA=$T/db is_registered "$1"; }
b_lacks() { DATA=$T/db is_unregistered "$1"; }
sipp_a() {  # NAME SCENARIO CSV [ARGS...]: SIPp in a's namespace against a
	local name=$1 sc=$2 csv=$3 lport; shift 3
	case $sc in /*) ;; *) sc=$SIPP_DIR/$sc ;; esac
	lport=$(free_port)
	( cd "$T" && timeout -k 3 40 ip netns exec "$NSA" sipp -nostdin -trace_err \
		-error_file "$T/sipp.$name.err" -trace_msg -message_file "$T/sipp.$name.msg" \
		-sf "$sc" -inf "$csv" -i "${IP[a]}" -p "$lport" -m 1 -r 1 "$@" \
		"${IP[a]}:$SA" ) > "$T/sipp.$name.out" 2>&1 \
		|| { sipp_fail_details "$name"; fail "SIPp $sc on a (run $name)"; }
}

node_conf "$T/ca" "$SA"
node_conf "$T/cb" "$SB"
start_node a
start_node b
wait_until 15 "a standby" role_is a standby
wait_until 15 "b standby" role_is b standby
nctl a cluster takeover --force > /dev/null || fail "takeover on a: $(cat "$T/ctl.err")"
wait_until 10 "a active" role_is a active
wait_until 20 "b in sync" repl_is b sync
empty=$(digest b) || fail "cluster digest on b: $(cat "$T/ctl.err")"
assert_match "$empty" "^astdb=[0-9a-f]{64} bindings=[0-9a-f]{64} cdr=[0-9a-f]{64} queue_log=[0-9a-f]{64}$" \
	"digest --json: four sha256"
nctl b cluster digest > "$T/digest.txt" || fail "cluster digest (text)"
assert_file_match "$T/digest.txt" "^position  [0-9a-f]{40}:[0-9]+ epoch [0-9]+$" "digest text: position"
assert_file_match "$T/digest.txt" "^bindings  [0-9a-f]{64}$" "digest text: bindings"
ok "a active, b in sync; cluster digest prints the position and four sha256"

# ---- registrations
users_csv "$T/u100.csv" "100-tfg;tf2020"
users_csv "$T/u101.csv" "101-tfg;tf2020"
sipp_a reg100 register_auth.xml "$T/u100.csv"
sipp_a reg101 register_auth.xml "$T/u101.csv"
wait_until 5 "b lists 100-tfg" b_lists 100-tfg
wait_until 5 "b lists 101-tfg" b_lists 101-tfg
assert_eq "$(DATA=$T/db reg_get 101-tfg contact)" "$(DATA=$T/da reg_get 101-tfg contact)" \
	"101-tfg's contact on b"
assert_eq "$(DATA=$T/db reg_get 101-tfg expires_at)" "$(DATA=$T/da reg_get 101-tfg expires_at)" \
	"101-tfg's expiry on b"
sed 's/^\( *\)Expires: 3600/\1Expires: 0/' "$SIPP_DIR/register_auth.xml" > "$T/unregister_auth.xml"
grep -q "Expires: 0" "$T/unregister_auth.xml" || fail "no Expires: 0 in the unregister scenario"
sipp_a unreg101 "$T/unregister_auth.xml" "$T/u101.csv"
wait_until 5 "101-tfg gone on b" b_lacks 101-tfg
DATA=$T/da is_unregistered 101-tfg || fail "101-tfg still registered on a after Expires: 0"
ok "SIPp REGISTER and unregister on a: b's registrations follow"

# ---- DB and blacklist
nctl a blacklist add 5551234 > /dev/null || fail "blacklist add on a: $(cat "$T/ctl.err")"
nctl a db put cidname 100 Alice > /dev/null || fail "db put on a"
nctl a db put cidname 101 Bob > /dev/null || fail "db put on a"
nctl a db deltree cidname > /dev/null || fail "db deltree on a: $(cat "$T/ctl.err")"
nctl a db put cidname 102 Carol > /dev/null || fail "db put on a"
wait_until 5 "b has Carol" test "$(nctl b db get cidname 102)" = Carol
nctl b db show > "$T/dbshow.b" || fail "db show on b"
nctl a db show > "$T/dbshow.a" || fail "db show on a"
assert_file_match "$T/dbshow.b" "^/blacklist/5551234 " "blacklisted number on b"
! grep -q "/cidname/100" "$T/dbshow.b" || fail "deltree did not reach b: $(cat "$T/dbshow.b")"
diff -u "$T/dbshow.a" "$T/dbshow.b" > "$T/dbshow.diff" || fail "db show differs: $(cat "$T/dbshow.diff")"
ok "blacklist add, db put/deltree on a: b's db show is the same"

# ---- queue members and queue_log
nctl a queue add support SIP/101-tfg 3 Bob > /dev/null || fail "queue add on a: $(cat "$T/ctl.err")"
qmembers() { nctl "$1" queue show support --json > "$T/q.$1.json" &&
	jq_py "$T/q.$1.json" "' '.join('%s:%s:%s' % (m['interface'], m['penalty'], m['dynamic']) for m in d['queues'][0]['members'])"; }
wait_until 5 "b's queue lists SIP/101-tfg" test "$(qmembers b)" = "$(qmembers a)"
assert_eq "$(qmembers b)" "SIP/100-tfg:0:False SIP/101-tfg:3:True" "support's members on b"
nctl a queue remove support SIP/101-tfg > /dev/null || fail "queue remove on a"
wait_until 5 "b's queue without SIP/101-tfg" test "$(qmembers b)" = "SIP/100-tfg:0:False"
grep -v "|QUEUESTART|" "$T/da/queue_log" > "$T/ql.a"
grep -v "|QUEUESTART|" "$T/db/queue_log" > "$T/ql.b"
grep -q "|support|.*|ADDMEMBER|" "$T/ql.b" || fail "ADDMEMBER not in b's queue_log: $(cat "$T/ql.b")"
grep -q "|support|.*|REMOVEMEMBER|" "$T/ql.b" || fail "REMOVEMEMBER not in b's queue_log"
diff -u "$T/ql.a" "$T/ql.b" > "$T/ql.diff" || fail "queue_log differs: $(cat "$T/ql.diff")"
ok "queue add/remove on a: b's queue show and queue_log follow"

# ---- a call and its CDR
sipp_a call200 call_uac_auth_recvbye.xml "$T/u100.csv" -s 200
grep -q "SIP/2.0 200" "$T/sipp.call200.msg" || fail "no 200 in the call"
nctl a cdr --last 1 --json > "$T/cdr.a.json" || fail "cdr on a"
uid=$(jq_py "$T/cdr.a.json" "d['cdr'][0]['uniqueid']")
assert_match "$uid" "^a-" "uniqueid prefixed with the node"
cdr_b() { nctl b cdr --last 1 --json > "$T/cdr.b.json" &&
	[ "$(jq_py "$T/cdr.b.json" "d['cdr'][0]['uniqueid']")" = "$uid" ]; }
wait_until 5 "b lists the CDR" cdr_b
for f in disposition billsec duration src dst start; do
	assert_eq "$(jq_py "$T/cdr.b.json" "d['cdr'][0]['$f']")" \
		"$(jq_py "$T/cdr.a.json" "d['cdr'][0]['$f']")" "CDR $f on b"
done
assert_eq "$(jq_py "$T/cdr.b.json" "d['cdr'][0]['disposition']")" ANSWERED "disposition"
ok "call on a (uniqueid $uid): the same CDR on b"

# ---- the same state
wait_until 5 "equal digests" digests_equal
[ "$(digest a)" != "$empty" ] || fail "digests did not change with the writes"
ok "digests equal on a and b ($(digest a | cut -c1-50)...)"

# ---- a call up on a when a dies (kill -9): b holds it in cdr_open; when
# b serves, its record ends there as cut by failover, exactly once
( cd "$T" && exec ip netns exec "$NSA" sipp -nostdin -sf "$SIPP_DIR/call_uac_auth.xml" \
	-inf "$T/u100.csv" -i "${IP[a]}" -p "$(free_port)" -m 1 -d 30000 -s 201 \
	"${IP[a]}:$SA" ) > "$T/sipp.long.out" 2>&1 &
LONGPID=$!
E2E_BG_PIDS+=("$LONGPID")
open_up() {  # NODE: uniqueid of its one answered call in cdr_open
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
open_up_q() { open_up "$1" > /dev/null; }
wait_until 10 "b holds a's answered call in cdr_open" open_up_q b
up=$(open_up b)
kill -9 "$PIDA"
wait "$PIDA" 2>/dev/null
nctl b cluster takeover --force > /dev/null || fail "takeover on b: $(cat "$T/ctl.err")"
wait_until 10 "b active" role_is b active
cut_on_b() { nctl b cdr --last 5 --json > "$T/cdr.cut.json" &&
	[ "$(jq_py "$T/cdr.cut.json" "sum(1 for r in d['cdr'] if r['uniqueid'] == '$up')")" = 1 ]; }
wait_until 5 "b's record of the cut call" cut_on_b
assert_eq "$(jq_py "$T/cdr.cut.json" "[r for r in d['cdr'] if r['uniqueid'] == '$up'][0]['disposition']")" \
	ANSWERED "the cut call's disposition"
assert_file_match "$T/b.log" "call record $up .* cut by failover" "b logs the cut call record"
open_up_q b && fail "b still holds the cut call in cdr_open"
kill "$LONGPID" 2>/dev/null
ok "a call up on a when a was killed: b serves and its record ($up) ends as cut, ANSWERED, once"

stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/a.log" "$T/b.log" \
	|| fail "sanitizer report"
! grep -E "not kept \(only the active writes\)" "$T/b.log" || fail "b recorded changes of its own"
ok "both stopped cleanly"
