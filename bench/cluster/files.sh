#!/bin/bash
# bench/cluster/files.sh: what a full resync sends of the files
# (docs/design/cluster.md 3.4 step 4; docs/failover.md, Files).
#
# Two nodes in network namespaces (created and removed here, via
# tests/e2e/lib_pair.sh), engine = none. Both DATADIRs start with the same
# MB recordings of 1 MB and a few other files; b is stopped, one of b's
# recordings is rewritten (stale), one removed (missing), two files added
# only on b (extra); one of a's rewritten; b's journal removed, so that its
# return is a full resync. Prints the bytes a's veth sent from b's start
# until b holds every file of a (the databases included), and whether the
# areas and `cluster digest` are then equal. Needs root and a build
# (TANDEM_BUILD, default build/).
#
#   MB=200 TANDEM_BUILD=build-rel bench/cluster/files.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export TANDEM_SRC=${TANDEM_SRC:-$(cd "$HERE/../.." && pwd)}
export TANDEM_BUILD=${TANDEM_BUILD:-$TANDEM_SRC/build}
FDIFF_MB=${MB:-200}
. "$TANDEM_SRC/tests/e2e/lib.sh"
. "$TANDEM_SRC/tests/e2e/lib_pair.sh"
e2e_init

MB=$FDIFF_MB
PA=$(free_port) PB=$(free_port) SA=$(free_port)
KEY=$(openssl rand -hex 32)
pair_netns d

node_conf() {  # DIR
	mkdir -p "$1"
	CONF=$1 SIP_ADDR=0.0.0.0 SIP_PORT=$SA conf_sip_general realm=tandem
	CONF=$1 conf_tfg_peers qualify=no
	printf '[general]\n\n[q1]\nstrategy = ringall\n' > "$1/queues.conf"
	pair_cluster_conf "$1" fd "peer_timeout = 3000"
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
wait_until 300 "b in sync" repl_is b sync
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
rm -rf "$T/db/journal"   # b's position unknown to a: a full resync

# ---- b back: a full resync
tx0=$(tx_bytes)
t0=$(now_ms)
start_node b
wait_until 300 "b in sync after its absence" repl_is b sync
a_files_on_b() {
	( cd "$T/da" && find monitor voicemail sounds provisioning -type f ) | while read -r f; do
		cmp -s "$T/da/$f" "$T/db/$f" || exit 1
	done
}
wait_until 300 "a's files on b" a_files_on_b
t1=$(now_ms)
tx1=$(tx_bytes)
ok "MB=$MB: a's veth sent $(( (tx1 - tx0) / 1000 )) kB; b held a's files $(( t1 - t0 )) ms after its start; a: $(grep -o 'full resync to b: [0-9]* of [0-9]* files sent ([0-9.]* MB\|sending all [0-9]* files' "$T/a.log" | tail -n1)"
areas_equal && ok "areas equal" || note "areas differ: $(cat "$T"/diff.* | head -n5)"
digests_equal && ok "digests equal" || note "digests differ: a $(digest a) / b $(digest b)"
stop_pid "$PIDB" 5; stop_pid "$PIDA" 5
