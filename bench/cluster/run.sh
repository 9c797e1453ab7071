#!/bin/bash
# bench/cluster/run.sh: what replication costs (docs/design/cluster.md 4).
#
#  1. REGISTER latency (SIPp, authenticated REGISTER -> 200, p50/p90/p99)
#     on one node without [cluster], on the active of a pair whose standby
#     is in SYNC (the 200 waits for the standby's ACK), and on the same
#     active ALONE (standby killed);
#  2. full resync throughput: a standby with an empty DATADIR joins an
#     active whose cdr.db holds CDR_MB of call records (rows inserted
#     offline with sqlite3), timed from the logs of both nodes.
#
# Each node runs in a network namespace of its own (created and removed
# here), joined by a veth pair: the replication traffic crosses a real
# (virtual) link, as on loopback. Needs root, ip, sipp, sqlite3, python3,
# tcpdump and a build (TANDEM_BUILD, default build/).
#
#   RATE=200 N=4000 CDR_MB=300 bench/cluster/run.sh
set -u
set -o pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
TANDEM_BUILD=${TANDEM_BUILD:-$SRC/build}
TANDEMD=$TANDEM_BUILD/tandemd TANDEMCTL=$TANDEM_BUILD/tandemctl
RATE=${RATE:-200} N=${N:-4000} CDR_MB=${CDR_MB:-300}
SC=$HERE/register_rtd.xml
log() { echo "[$(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for t in ip sipp sqlite3 python3 tcpdump; do command -v $t >/dev/null || die "needs $t"; done
[ -x "$TANDEMD" ] || die "no $TANDEMD (build first)"

T=$(mktemp -d /tmp/tandem-bench-cluster.XXXXXX)
SFX=$(printf '%04x' $(( (RANDOM << 1 ^ $$) & 0xffff )))
NSA=ba$SFX NSB=bb$SFX NET=10.77.$(( RANDOM % 250 ))
declare -A IP=([a]=$NET.1 [b]=$NET.2) NS=([a]=$NSA [b]=$NSB) PID=()
SIPPORT=5060 PA=7380 PB=7380
cleanup() {
	local n
	for n in "${!PID[@]}"; do kill -TERM "${PID[$n]}" 2>/dev/null; done
	sleep 1
	for n in "${!PID[@]}"; do kill -KILL "${PID[$n]}" 2>/dev/null; done
	ip netns del "$NSA" 2>/dev/null; ip netns del "$NSB" 2>/dev/null
	[ "${KEEP:-0}" = 1 ] && log "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
ip netns add "$NSA" && ip netns add "$NSB" || die "ip netns add"
ip link add "v$NSA" netns "$NSA" type veth peer name "v$NSB" netns "$NSB" || die "veth"
for n in a b; do
	ip -n "${NS[$n]}" link set lo up
	ip -n "${NS[$n]}" addr add "${IP[$n]}/24" dev "v${NS[$n]}"
	ip -n "${NS[$n]}" link set "v${NS[$n]}" up
done

# ---- configuration: users 1000..1999 (as bench/register), one per node
openssl rand -hex 32 > "$T/cluster.key"; chmod 600 "$T/cluster.key"
conf() {  # DIR CLUSTER(yes|no)
	mkdir -p "$1"
	{
		printf '[general]\nudpbindaddr=0.0.0.0:%s\nminexpiry=60\nmaxexpiry=3600\n' "$SIPPORT"
		printf '\n[bench](!)\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\n\n'
		seq -f '[%.0f](bench)' 1000 1999
	} > "$1/sip.conf"
	printf '[default]\nexten => 1000,1,Hangup()\n' > "$1/extensions.conf"
	printf '[log]\nlevel = notice\n' > "$1/tandem.conf"
	[ "$2" = yes ] || return 0
	cp "$T/cluster.key" "$1/"
	cat >> "$1/tandem.conf" <<EOT

[cluster]
name = bench
node = a,${IP[a]}:$PA
node = b,${IP[b]}:$PB
keyfile = cluster.key
engine = none
vip = $NET.100/32
interface = lo
EOT
}
conf "$T/single" no
conf "$T/ca" yes
conf "$T/cb" yes
{ echo SEQUENTIAL; seq -f '%.0f;tf2020' 1000 1999; } > "$T/users.csv"

ctl() { timeout -k 2 10 "$TANDEMCTL" -D "$1" "${@:2}"; }
start() {  # NODE CONF DATA
	ip netns exec "${NS[$1]}" "$TANDEMD" -C "$2" -D "$3" -f -n "$1" >> "$T/$1.log" 2>&1 &
	PID[$1]=$!
	local i
	for i in $(seq 1 100); do ctl "$3" status >/dev/null 2>&1 && return 0; sleep 0.1; done
	die "tandemd $1 did not start (see $T/$1.log)"
}
stop() { kill -TERM "${PID[$1]}" 2>/dev/null; wait "${PID[$1]}" 2>/dev/null; unset "PID[$1]"; }
self_repl() {  # DATA: this node's repl.state
	ctl "$1" cluster status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([n for n in d["nodes"] if n["self"]][0]["repl"]["state"])' 2>/dev/null
}
wait_state() {  # DATA STATE SECS
	local i
	for i in $(seq 1 $(( $3 * 10 ))); do [ "$(self_repl "$1")" = "$2" ] && return 0; sleep 0.1; done
	die "$1 not in $2 after $3 s"
}

# latency MODE: SIPp against a; the time from each authenticated REGISTER
# to its 200 is read from a packet capture on a's lo (tcpdump, microsecond
# timestamps: SIPp's own response times are in whole milliseconds).
latency() {
	local mode=$1 d="$T/sipp.$1" tp
	mkdir -p "$d"
	ip netns exec "$NSA" tcpdump -i lo -U -B 16384 -s 1500 -w "$d/sip.pcap" \
		"udp port $SIPPORT" 2>"$d/tcpdump.err" &
	tp=$!
	sleep 1
	( cd "$d" && timeout -k 5 $(( N / RATE + 60 )) ip netns exec "$NSA" sipp -sf "$SC" \
		-inf "$T/users.csv" -i "${IP[a]}" -p 5070 -r "$RATE" -m "$N" -nostdin \
		"${IP[a]}:$SIPPORT" > sipp.out 2>&1 )
	sleep 0.5
	kill -INT "$tp"; wait "$tp" 2>/dev/null
	python3 "$HERE/pcap_rtt.py" "$mode" "$d/sip.pcap"
	grep -E "Successful call|Failed call" "$d/sipp.out" | tail -n 2 | tr -s ' ' >&2
}

log "1. REGISTER latency, $N REGISTERs at $RATE/s each (machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
start a "$T/single" "$T/dsingle"
latency single | tee -a "$T/results.txt"
stop a
start a "$T/ca" "$T/da"
start b "$T/cb" "$T/db"
sleep 1
ctl "$T/da" cluster takeover --force >/dev/null || die "takeover on a"
wait_state "$T/db" sync 20
latency sync | tee -a "$T/results.txt"
grep -q "going on alone" "$T/a.log" && log "NOTE: a went alone during the SYNC run"
kill -KILL "${PID[b]}"; wait "${PID[b]}" 2>/dev/null; unset "PID[b]"
wait_state "$T/da" alone 5
latency alone | tee -a "$T/results.txt"
stop a

log "2. full resync with a cdr.db of about $CDR_MB MB"
rows=$(( CDR_MB * 1024 * 1024 / 600 ))
sqlite3 "$T/da/cdr.db" "PRAGMA journal_mode=WAL; BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO cdr (calldate, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata,
  duration, billsec, disposition, uniqueid, userfield, start, \"end\")
SELECT '2026-11-25 10:00:00', '\"Bench\" <' || i || '>', 1000 + i % 1000, 2000 + i % 1000,
  'default', 'SIP/' || i || '-0001', 'SIP/trunk-0002', 'Dial', 'SIP/trunk/' || i,
  60, 55, 'ANSWERED', 'bench-' || i, hex(randomblob(200)),
  '2026-11-25 10:00:00', '2026-11-25 10:01:00' FROM n;
COMMIT;" || die "cannot fill cdr.db"
log "cdr.db: $(du -m "$T/da/cdr.db" | cut -f1) MB, $rows rows"
rm -rf "$T/db"
: > "$T/b2.log"
start a "$T/ca" "$T/da"
sleep 1
ctl "$T/da" cluster takeover --force >/dev/null || die "takeover on a (second run)"
# REGISTERs keep coming while the snapshot is copied, sent and installed:
# the standby must end with exactly the active's data
( cd "$T" && timeout -k 5 60 ip netns exec "$NSA" sipp -sf "$SC" -inf "$T/users.csv" \
	-i "${IP[a]}" -p 5071 -r "$RATE" -m $(( RATE * 8 )) -nostdin "${IP[a]}:$SIPPORT" \
	> "$T/sipp.during.out" 2>&1 ) &
load=$!
sleep 1
t0=$(date +%s%N)
ip netns exec "$NSB" "$TANDEMD" -C "$T/cb" -D "$T/db" -f -n b >> "$T/b2.log" 2>&1 &
PID[b]=$!
for i in $(seq 1 1200); do
	grep -q "cluster: in sync with a" "$T/b2.log" && break
	sleep 0.1
done
t1=$(date +%s%N)
grep -q "cluster: in sync with a" "$T/b2.log" || die "b not in sync after 120 s (see $T/b2.log)"
wait "$load"
sleep 1
digest() { ctl "$1" cluster digest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stores"])'; }
da=$(digest "$T/da") db=$(digest "$T/db")
regs=$(grep -E '^ *200 <' "$T/sipp.during.out" | tail -n1 | awk '{for (i = 1; i < NF; i++) if ($i == "E-RTD1") print $(i + 1)}')
{
	echo "full resync: $(grep -o 'full resync to b: snapshot at .*' "$T/a.log" | tail -n1)"
	echo "  active:  $(grep -o 'full resync to b: [0-9.]* MB in .*' "$T/a.log" | tail -n1)"
	echo "  standby: $(grep -o 'full resync from a: [0-9.]* MB in .*' "$T/b2.log" | tail -n1)"
	echo "  standby start to in sync: $(( (t1 - t0) / 1000000 )) ms (start-up, link, copy on the active, transfer, install)"
	echo "  under load: ${regs:-?} REGISTERs answered meanwhile at $RATE/s; digests $([ "$da" = "$db" ] && echo equal || echo DIFFER)"
} | tee -a "$T/results.txt"
cp "$T/results.txt" "${OUT:-/dev/null}" 2>/dev/null
[ "$da" = "$db" ] || die "digests differ after the full resync under load: a $da, b $db"
exit 0
