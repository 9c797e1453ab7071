#!/bin/bash
# The replication link between the two nodes of tandem.conf [cluster]
# (issue 5, phase 2 of docs/design/cluster.md), two real daemons on
# loopback with their own DATADIRs and ports:
#  - with the same key the link comes up (TLS 1.3 PSK, HELLO, PINGs) and
#    `tandemctl cluster status` (text and --json) shows both nodes, the
#    link up with an RTT; the peer stopped -> the link is down, shown;
#  - a node started with a wrong key is refused, on both sides, and the
#    refusal is logged and shown in `cluster status`;
#  - a keyfile readable by others, or a node name that is not one of the
#    two, stops tandemd at start with exit 1 and a FILE:LINE message.
. "$(dirname "$0")/lib.sh"
e2e_init

PA=$(free_port) PB=$(free_port) SA=$(free_port) SB=$(free_port)
KEY=$(openssl rand -hex 32)

# node_conf DIR SIP_PORT KEY: a CONFDIR for one node
node_conf() {
	mkdir -p "$1"
	cat > "$1/sip.conf" <<EOT
[general]
udpbindaddr=127.0.0.1:$2
EOT
	printf '[default]\nexten => 1,1,Hangup()\n' > "$1/extensions.conf"
	printf '%s\n' "$3" > "$1/cluster.key"
	chmod 600 "$1/cluster.key"
	cat > "$1/tandem.conf" <<EOT
[cluster]
name = e2e
node = a,127.0.0.1:$PA
node = b,127.0.0.1:$PB
keyfile = cluster.key
engine = none
EOT
}

# start NODE CONF DATA: background tandemd; echo its PID
start_node() {
	"$TANDEMD" -C "$2" -D "$3" -f -n "$1" > "$T/$1.log" 2>&1 &
	echo $!
}
cstatus() {  # DATA [--json]
	timeout -k 2 10 "$TANDEMCTL" -D "$1" cluster status "${@:2}" 2>"$T/ctl.err"
}
link_state() {
	cstatus "$1" --json > "$T/cs.json" 2>/dev/null || return 1
	jq_py "$T/cs.json" "d['link']['state']"
}
link_is() { [ "$(link_state "$1")" = "$2" ]; }
link_not_up() { [ "$(link_state "$1")" != up ]; }

node_conf "$T/ca" "$SA" "$KEY"
node_conf "$T/cb" "$SB" "$KEY"
PIDA=$(start_node a "$T/ca" "$T/da"); E2E_BG_PIDS+=("$PIDA")
PIDB=$(start_node b "$T/cb" "$T/db"); E2E_BG_PIDS+=("$PIDB")
wait_until 15 "node a's link up" link_is "$T/da" up
wait_until 15 "node b's link up" link_is "$T/db" up
cstatus "$T/da" > "$T/status.txt" || fail "cluster status: $(cat "$T/ctl.err")"
assert_file_match "$T/status.txt" "^Cluster name: e2e \(engine none\)" "status header"
assert_file_match "$T/status.txt" "a \(127.0.0.1:$PA\): standby \(this node\)" "node a listed"
assert_file_match "$T/status.txt" "b \(127.0.0.1:$PB\): standby" "node b listed (no active yet: both standby)"
assert_file_match "$T/status.txt" "Link to b: up, rtt [0-9]+ ms" "link up with an RTT"
cstatus "$T/db" --json > "$T/b.json" || fail "cluster status --json on b"
assert_eq "$(jq_py "$T/b.json" "[n['name'] for n in d['nodes']]")" '["a", "b"]' "nodes in JSON"
assert_eq "$(jq_py "$T/b.json" "d['node']")" b "this node in JSON"
assert_file_match "$T/a.log" "cluster: replication link with b .* up" "log line on a"
ok "link up between a and b; cluster status shows both nodes"

stop_pid "$PIDB" 5 || fail "node b did not stop on SIGTERM"
wait_until 5 "node a sees the link down" link_not_up "$T/da"
cstatus "$T/da" > "$T/status.txt"
assert_file_match "$T/status.txt" "b \(127.0.0.1:$PB\): down" "b down once stopped"
assert_file_match "$T/a.log" "cluster: replication link to b .* lost" "log line on a"
ok "peer stopped: link down, node b shown down"

node_conf "$T/cw" "$SB" "$(openssl rand -hex 32)"
PIDW=$(start_node b "$T/cw" "$T/dw"); E2E_BG_PIDS+=("$PIDW")
wait_until 15 "node a refuses the wrong key" link_is "$T/da" refused
wait_until 15 "node b (wrong key) shows the refusal" link_is "$T/dw" refused
cstatus "$T/dw" > "$T/status.txt"
assert_file_match "$T/status.txt" "Link to a: refused \(last error: .*key" "refusal shown on b"
cstatus "$T/dw" --json > "$T/w.json" || fail "cluster status --json on b (wrong key)"
assert_eq "$(jq_py "$T/w.json" "[n for n in d['nodes'] if n['self']][0]['repl']['state']")" \
	refused "b's replication state with a wrong key"
# a dials (its name sorts first), b listens: each logs its side
assert_file_match "$T/a.log" "cluster: replication link to b .* refused: wrong key" \
	"refusal logged on a"
assert_file_match "$T/b.log" "cluster: replication link from 127.0.0.1:[0-9]+ refused: wrong key" \
	"refusal logged on b"
assert_file_match "$T/da/security.log" "event=cluster_link_refused .*reason=\"wrong key" "refusal in a's security log"
ok "wrong key refused on both sides, logged and shown"
stop_pid "$PIDW" 5 || fail "node b (wrong key) did not stop on SIGTERM"

chmod 644 "$T/cb/cluster.key"
rc=0; "$TANDEMD" -C "$T/cb" -D "$T/db" -f -n b > "$T/bad.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status with a world-readable keyfile"
assert_file_match "$T/bad.log" "tandem.conf:[0-9]+: \[cluster\].*(0600|mode)" "message for the keyfile"
chmod 600 "$T/cb/cluster.key"
rc=0; "$TANDEMD" -C "$T/cb" -D "$T/db" -f -n c > "$T/bad2.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status for a node name not in [cluster]"
assert_file_match "$T/bad2.log" "this node is .c.* -n a or -n b" "message naming the node and the choices"
ok "bad keyfile mode and unknown node name: exit 1 with a message ($(head -n1 "$T/bad.log"))"
stop_pid "$PIDA" 5 || fail "node a did not stop on SIGTERM"
