#!/bin/bash
# The OCF resource agent ocf:tandem:tandemd (packaging/ocf/tandemd, issue 6)
# against a real tandemd on loopback:
#  - meta-data is valid against resource-agents' ra-api-1.dtd and names
#    the contract's parameters (confdir, datadir, binary, nodename);
#  - validate-all: good parameters 0; each bad one OCF_ERR_CONFIGURED (6)
#    with a message naming it;
#  - ocf-tester (resource-agents) passes on a lone tandemd (no [cluster]:
#    start, stop, monitor, probes, notify; promote/demote unimplemented);
#  - by hand: start twice is one daemon, monitor 0, a SIGKILLed tandemd is
#    "not running" (7), a hung one (SIGSTOP) fails the monitor (1) and is
#    stopped by SIGKILL within the stop timeout, a bad sip.conf fails the
#    start with tandemd's FILE:LINE in the exit reason;
#  - with tandem.conf [cluster] (the peer absent): monitor's answer follows
#    the role `tandemctl cluster status --json` reports (active -> 8,
#    standby -> 0); with engine = pacemaker promote/demote run `tandemctl
#    cluster takeover|standby`, which act at once (monitor 8, then 0); a
#    SIGSTOPped cluster node fails the monitor through its heartbeat file
#    (tandemctl health), not after tandemctl's 5 s.
. "$(dirname "$0")/lib.sh"
e2e_init
need ocf-tester xmllint
AGENT=$TANDEM_SRC/packaging/ocf/tandemd
TANDEMD=$(realpath "$TANDEMD")    # Pacemaker runs agents from /
DTD=/usr/share/resource-agents/ra-api-1.dtd
export OCF_ROOT=/usr/lib/ocf
[ -r "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs" ] || fail "no $OCF_ROOT/lib/heartbeat/ocf-shellfuncs (Debian: resource-agents)"
# a daemonized tandemd's stderr is /dev/null: sanitizer reports go to files
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/sanitizer
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/sanitizer

# stop whatever tandemd the agent left running, by its pidfile, then the
# usual cleanup (which reads the exit status we pass on)
ocf_cleanup() {
	local rc=$? d p
	for d in "$DATA" "$T/dc"; do
		p=$(head -n1 "$d/tandemd.pid" 2>/dev/null)
		case $p in ''|*[!0-9]*) continue ;; esac
		[ "$(cat /proc/"$p"/comm 2>/dev/null)" = tandemd ] || continue
		kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null
	done
	(exit $rc)
	e2e_cleanup
}
trap ocf_cleanup EXIT

# ra ACTION [KEY=VALUE...]: run the agent as Pacemaker would, output in
# $T/ra.out, status in RA_RC. Defaults: our CONFDIR, DATADIR, build.
ra() {
	local action=$1 kv; shift
	local env=("OCF_ROOT=$OCF_ROOT" OCF_RESOURCE_INSTANCE=tandem
		"OCF_RESKEY_confdir=$CONF" "OCF_RESKEY_datadir=$DATA" "OCF_RESKEY_binary=$TANDEMD"
		OCF_RESKEY_CRM_meta_timeout=20000)
	for kv in "$@"; do env+=("$kv"); done
	RA_RC=0
	timeout -k 2 60 env "${env[@]}" sh "$AGENT" "$action" > "$T/ra.out" 2>&1 || RA_RC=$?
}
expect_rc() {  # RC WHAT
	[ "$RA_RC" = "$1" ] || { cat "$T/ra.out" >&2; fail "$2: agent exited $RA_RC, expected $1"; }
}
daemon_pid() { head -n1 "$1/tandemd.pid" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }

conf_sip_general
conf_sip_peer 100-tfg

# ---- meta-data
ra meta-data
expect_rc 0 meta-data
cp "$T/ra.out" "$T/meta.xml"
if [ -r "$DTD" ]; then
	xmllint --noout --dtdvalid "$DTD" "$T/meta.xml" 2> "$T/xmllint.err" ||
		fail "meta-data does not validate against $DTD: $(head -n 5 "$T/xmllint.err")"
else
	xmllint --noout "$T/meta.xml" || fail "meta-data is not well-formed XML"
fi
for p in confdir datadir binary nodename; do
	xmllint --xpath "/resource-agent/parameters/parameter[@name='$p']" "$T/meta.xml" >/dev/null 2>&1 ||
		fail "meta-data lacks parameter $p"
done
for a in start stop monitor promote demote notify validate-all meta-data; do
	xmllint --xpath "/resource-agent/actions/action[@name='$a']" "$T/meta.xml" >/dev/null 2>&1 ||
		fail "meta-data lacks action $a"
done
assert_eq "$(xmllint --xpath 'string(/resource-agent/@version)' "$T/meta.xml")" 1.1 "OCF version"
ok "meta-data valid against $(basename "$DTD"), parameters confdir datadir binary nodename"

# ---- validate-all
ra validate-all
expect_rc 0 "validate-all with good parameters"
bad() {  # WHAT MESSAGE_ERE RC KEY=VALUE...
	local what=$1 msg=$2 rc=$3; shift 3
	ra validate-all "$@"
	expect_rc "$rc" "validate-all with $what"
	grep -Eq -- "$msg" "$T/ra.out" || fail "validate-all with $what: no message /$msg/ in: $(cat "$T/ra.out")"
	ok "validate-all, $what: $rc, '$(grep -Em1 -- "$msg" "$T/ra.out" | sed 's/^.*ocf-exit-reason://')'"
}
mkdir -p "$T/empty"
bad "a missing confdir" "confdir=$T/nope is not a directory" 6 OCF_RESKEY_confdir="$T/nope"
bad "a confdir without sip.conf" "has no readable sip.conf" 6 OCF_RESKEY_confdir="$T/empty"
bad "a relative datadir" "datadir='data' must be an absolute path" 6 OCF_RESKEY_datadir=data
bad "a datadir that is a file" "is not a directory" 6 OCF_RESKEY_datadir="$CONF/sip.conf"
bad "a binary that is not there" "binary=$T/no-tandemd is not an executable" 6 OCF_RESKEY_binary="$T/no-tandemd"
bad "a relative binary path" "binary='tandemd' must be an absolute path" 6 OCF_RESKEY_binary=tandemd
bad "a bad node name" "nodename='a b'" 6 "OCF_RESKEY_nodename=a b"
bad "no such user" "user=no-such-user-x does not exist" 6 OCF_RESKEY_user=no-such-user-x

# ---- ocf-tester on a lone tandemd
timeout -k 5 180 ocf-tester -n tandem -o confdir="$CONF" -o datadir="$DATA" -o binary="$TANDEMD" \
	"$AGENT" > "$T/ocf-tester.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "passed all tests" "$T/ocf-tester.out" ||
	{ cat "$T/ocf-tester.out" >&2; fail "ocf-tester: exit $rc"; }
grep -q "does not support the promote action" "$T/ocf-tester.out" ||
	fail "ocf-tester: promote on a lone tandemd should be unimplemented: $(cat "$T/ocf-tester.out")"
ok "ocf-tester: $(grep -m1 'passed all tests' "$T/ocf-tester.out")"
[ -z "$(daemon_pid "$DATA")" ] || gone "$(daemon_pid "$DATA")" || fail "ocf-tester left tandemd running"

# ---- by hand: start, restart-safety, crash, hang, stop
ra start; expect_rc 0 start
P=$(daemon_pid "$DATA")
kill -0 "$P" 2>/dev/null || fail "no tandemd after start (pidfile: '$P')"
ctl_quiet status || fail "tandemctl status after start"
ra start; expect_rc 0 "start of a running tandemd"
assert_eq "$(daemon_pid "$DATA")" "$P" "one daemon after two starts"
ra monitor; expect_rc 0 "monitor of a running tandemd"
ra promote; expect_rc 3 "promote of a lone tandemd"
grep -q "no \[cluster\]" "$T/ra.out" || fail "promote of a lone tandemd: no message: $(cat "$T/ra.out")"
ok "start (twice: one daemon, pid $P), monitor 0, promote without [cluster]: 3"

kill -KILL "$P"; wait_until 5 "tandemd gone after SIGKILL" gone "$P"
ra monitor; expect_rc 7 "monitor after tandemd was killed"
ra stop; expect_rc 0 "stop of a killed tandemd"
ok "killed tandemd: monitor 7, stop 0"

ra start; expect_rc 0 "start after a crash"
P=$(daemon_pid "$DATA")
kill -STOP "$P"
ra monitor; expect_rc 1 "monitor of a hung (SIGSTOPped) tandemd"
ok "hung tandemd: monitor 1 ($(grep -m1 'exit-reason' "$T/ra.out" | sed 's/^.*ocf-exit-reason://'))"
t0=$(now_ms)
ra stop OCF_RESKEY_CRM_meta_timeout=5000; expect_rc 0 "stop of a hung tandemd"
gone "$P" || fail "tandemd $P still there after stop"
grep -q "SIGKILL" "$T/ra.out" || fail "stop of a hung tandemd: no SIGKILL logged: $(cat "$T/ra.out")"
ok "hung tandemd stopped by SIGKILL in $(( $(now_ms) - t0 )) ms (stop timeout 5 s)"
ra stop; expect_rc 0 "stop of a stopped tandemd"
ra monitor; expect_rc 7 "monitor of a stopped tandemd"

cp "$CONF/sip.conf" "$T/sip.conf.good"
printf '[101-tfg]\nsecret tf2020\n' >> "$CONF/sip.conf"
line=$(wc -l < "$CONF/sip.conf")
ra start; expect_rc 1 "start with a broken sip.conf"
grep -q "sip.conf:$line" "$T/ra.out" || fail "start with a broken sip.conf: no sip.conf:$line in: $(cat "$T/ra.out")"
ok "broken sip.conf: start 1, '$(grep -m1 "sip.conf:$line" "$T/ra.out" | sed 's/^.*ocf-exit-reason://')'"
cp "$T/sip.conf.good" "$CONF/sip.conf"

# ---- with [cluster]: roles
PA=$(free_port) PB=$(free_port)
openssl rand -hex 32 > "$CONF/cluster.key"; chmod 600 "$CONF/cluster.key"
conf_tandem cluster "name = ocf" "node = a,127.0.0.1:$PA" "node = b,127.0.0.1:$PB" \
	"keyfile = cluster.key" "engine = pacemaker"
bad "a node name not in [cluster]" "node name 'c' is not one of" 6 OCF_RESKEY_nodename=c
DATA=$T/dc
ra start OCF_RESKEY_nodename=a; expect_rc 0 "start of node a"
role=$(ctl cluster status --json | python3 -c 'import json,sys; print([n["role"] for n in json.load(sys.stdin)["nodes"] if n["self"]][0])') ||
	fail "cluster status --json: $(cat "$T/ctl.err")"
want=$([ "$role" = active ] && echo 8 || echo 0)
ra monitor OCF_RESKEY_nodename=a; expect_rc "$want" "monitor of node a (role $role)"
ok "[cluster] node a: role '$role', monitor $want"

ra promote OCF_RESKEY_nodename=a; expect_rc 0 promote
ra monitor OCF_RESKEY_nodename=a; expect_rc 8 "monitor after promote"
assert_eq "$(ctl cluster status --json | python3 -c 'import json,sys; print([n["state"] for n in json.load(sys.stdin)["nodes"] if n["self"]][0])')" \
	ACTIVE "state after promote"
ra promote OCF_RESKEY_nodename=a; expect_rc 0 "promote of the promoted node"
ra demote OCF_RESKEY_nodename=a; expect_rc 0 demote
ra monitor OCF_RESKEY_nodename=a; expect_rc 0 "monitor after demote"
ra demote OCF_RESKEY_nodename=a; expect_rc 0 "demote of the unpromoted node"
ra promote OCF_RESKEY_nodename=a; expect_rc 0 "promote again"
ra monitor OCF_RESKEY_nodename=a; expect_rc 8 "monitor after the second promote"
ok "engine = pacemaker: promote -> monitor 8 (ACTIVE), demote -> monitor 0, both idempotent, promote again"

# a hung promoted node: the heartbeat fails the monitor without waiting for
# tandemctl's 5 s (the issue: a few seconds, not the seed's 20-50 s)
P=$(daemon_pid "$DATA")
kill -STOP "$P"
t0=$(now_ms)
ra monitor OCF_RESKEY_nodename=a; expect_rc 1 "monitor of a hung cluster node (at once)"
ms=$(( $(now_ms) - t0 ))
[ "$ms" -lt 4000 ] || fail "monitor of a node hung just now took $ms ms (tandemctl is bounded to 2 s)"
ok "node hung just now: monitor 1 in $ms ms ($(grep -m1 'exit-reason' "$T/ra.out" | sed 's/^.*ocf-exit-reason://'))"
t0=$(now_ms)
ra monitor OCF_RESKEY_nodename=a; expect_rc 1 "monitor of a hung cluster node"
ms=$(( $(now_ms) - t0 ))
grep -q "not healthy" "$T/ra.out" || fail "hung cluster node: reason is not the heartbeat: $(cat "$T/ra.out")"
[ "$ms" -lt 2000 ] || fail "monitor of a hung cluster node took $ms ms (the heartbeat should answer within ~1 s)"
ok "hung cluster node: monitor 1 in $ms ms ($(grep -m1 'exit-reason' "$T/ra.out" | sed 's/^.*ocf-exit-reason://'))"
t0=$(now_ms)
ra stop OCF_RESKEY_nodename=a; expect_rc 0 "stop of hung node a"
ms=$(( $(now_ms) - t0 ))
gone "$P" || fail "node a still runs after stop"
grep -q "is hung: SIGKILL" "$T/ra.out" || fail "stop of a hung cluster node: no SIGKILL at once: $(cat "$T/ra.out")"
ok "hung cluster node stopped by SIGKILL at once, in $ms ms (stop timeout 20 s)"
ra start OCF_RESKEY_nodename=a; expect_rc 0 "start of node a again"
P=$(daemon_pid "$DATA")
ra stop OCF_RESKEY_nodename=a; expect_rc 0 "stop of node a"
gone "$P" || fail "node a still runs after stop"
grep -q "SIGKILL" "$T/ra.out" && fail "a healthy node a was stopped by SIGKILL: $(cat "$T/ra.out")"

ls "$T"/sanitizer* >/dev/null 2>&1 && fail "sanitizer reports: $(head -n 20 "$T"/sanitizer*)"
ok "no sanitizer reports"
