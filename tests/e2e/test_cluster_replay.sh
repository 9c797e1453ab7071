#!/bin/bash
# A replayed handshake on the replication link (issue "two nodes": "a
# replayed handshake: the link is dropped with a clear message, nothing
# already stored is damaged, and the active keeps serving"). Two real
# daemons in network namespaces the test creates (lib_pair.sh), engine =
# none; a dials b (names sort a < b). In a's namespace an iptables
# REDIRECT sends a's connection to b through tcp_record_proxy.py, which
# relays it to b from a second address of a's ($NET.3) and records every
# byte a sends on that first connection (ClientHello with its PSK binder,
# Finished, HELLO, the stream with a db put).
#  - the link comes up through the proxy, b in sync; a's db put k1 reaches
#    b, then a's db del k1 too;
#  - the recorded bytes sent again verbatim to b in a new connection: b
#    refuses (TLS 1.3: its fresh ServerHello random and key share make the
#    recorded Finished useless), logs a line naming the address it came
#    from and why, and closes it;
#  - nothing of the replay is applied on b (k1 stays deleted, digests
#    equal), the first link stays up (no "lost" line) and a's next write
#    reaches b: the active serves on.
# Needs root and iptables (else SKIP).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pair.sh"
e2e_init
need iptables

PA=$(free_port) PB=$(free_port) SA=$(free_port) SB=$(free_port) PP=$(free_port)
KEY=$(openssl rand -hex 32)
pair_netns y
IPX=$NET.3   # a's second address: the proxy's and the replayer's source

node_conf() {  # DIR SIP_PORT
	mkdir -p "$1"
	CONF=$1 SIP_ADDR=0.0.0.0 SIP_PORT=$2 conf_sip_general realm=tandem
	CONF=$1 conf_tfg_peers
	pair_cluster_conf "$1" e2e
}
b_has() { [ "$(nctl b db get replay "$1" 2>/dev/null)" = "$2" ]; }
b_lacks() { ! nctl_quiet b db get replay "$1"; }

ip -n "$NSA" addr add "$IPX/24" dev "v$NSA" || fail "second address on a"
ip netns exec "$NSA" iptables -t nat -A OUTPUT -p tcp -s "${IP[a]}" -d "${IP[b]}" \
	--dport "$PB" -j REDIRECT --to-ports "$PP" 2>"$T/ipt.err" ||
	skip "iptables nat REDIRECT unavailable here: $(cat "$T/ipt.err")"
REC=$T/recorded.bin
: > "$REC"
ip netns exec "$NSA" timeout -k 2 300 python3 "$E2E_DIR/tcp_record_proxy.py" "$PP" \
	"${IP[b]}" "$PB" "$IPX" "$REC" 280 > "$T/proxy.out" 2>&1 &
E2E_BG_PIDS+=("$!")

node_conf "$T/ca" "$SA"
node_conf "$T/cb" "$SB"
start_node a
start_node b
wait_until 15 "a standby" role_is a standby
nctl a cluster takeover --force > /dev/null || fail "takeover --force on a: $(cat "$T/ctl.err")"
wait_until 10 "a active" role_is a active
wait_until 20 "b in sync" repl_is b sync
grep -q "recorded=True" "$T/proxy.out" || fail "a's link did not go through the proxy"
nctl a db put replay k1 v1 > /dev/null || fail "db put on a: $(cat "$T/ctl.err")"
wait_until 5 "b has k1" b_has k1 v1
nctl a db del replay k1 > /dev/null || fail "db del on a: $(cat "$T/ctl.err")"
wait_until 5 "b lost k1" b_lacks k1
wait_until 5 "equal digests" digests_equal
cp "$REC" "$T/replay.bin"
rec_bytes=$(stat -c %s "$T/replay.bin")
[ "$rec_bytes" -gt 300 ] || fail "only $rec_bytes bytes recorded"
ok "link up through the proxy; k1 put and deleted on a, followed by b; $rec_bytes bytes of a's side recorded"

# ---- the recorded bytes, verbatim, in a new connection to b
before_lost=$(grep -c "lost:" "$T/b.log")
ip netns exec "$NSA" timeout -k 2 20 python3 - "$IPX" "${IP[b]}" "$PB" "$T/replay.bin" \
	> "$T/replay.out" 2>&1 <<'PY' || fail "replay client: $(cat "$T/replay.out")"
import socket, sys, time
src, host, port, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = open(path, "rb").read()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((src, 0))
s.settimeout(10)
s.connect((host, port))
print("from %s:%d" % s.getsockname(), flush=True)
try:
    s.sendall(data)
except OSError as e:
    print("send stopped: %s" % e, flush=True)
got, end, how = 0, time.monotonic() + 10, "timeout"
while time.monotonic() < end:
    try:
        b = s.recv(65536)
    except socket.timeout:
        break
    except OSError as e:
        how = "reset (%s)" % e.strerror
        break
    if not b:
        how = "closed"
        break
    got += len(b)
print("received %d bytes, then %s" % (got, how), flush=True)
PY
from=$(sed -n 's/^from //p' "$T/replay.out")
assert_match "$(tail -n1 "$T/replay.out")" "then (closed|reset)" "b closed the replayed connection"
wait_until 5 "b logs the refusal naming $from" \
	grep -q "cluster: replication link from $from refused: " "$T/b.log"
line=$(grep "cluster: replication link from $from refused: " "$T/b.log" | head -n1)
assert_match "$line" "replayed or altered handshake" "the refusal says what happened"
ok "replay from $from refused by b: ${line#*WARNING: }"

# ---- nothing of it applied; the first link and the active serve on
b_lacks k1 || fail "the replayed db put was applied on b: k1 is back"
[ "$(grep -c "lost:" "$T/b.log")" = "$before_lost" ] || fail "b's link to a dropped after the replay"
repl_is b sync || fail "b no longer in sync after the replay"
nctl a db put replay k2 v2 > /dev/null || fail "db put on a after the replay: $(cat "$T/ctl.err")"
wait_until 5 "b has k2" b_has k2 v2
wait_until 5 "equal digests" digests_equal
kill -0 "$PIDB" || fail "b exited"
ok "nothing of the replay applied on b (k1 stays deleted, digests equal); the link stayed up, a's next write reached b"
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
stop_pid "$PIDA" 5 || fail "a did not stop on SIGTERM"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/a.log" "$T/b.log" \
	|| fail "sanitizer report"
