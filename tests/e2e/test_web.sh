#!/bin/bash
# The HTTP listener (http.conf, prometheus.conf) with real clients:
#
#  - http.conf enabled without a password: tandemd refuses to start, with
#    FILE:LINE, before anything listens;
#  - curl: the status page and /status.json need the http.conf user and
#    password (401 without, 401 and a security-log line with a wrong one);
#    /status.json carries what `tandemctl status|registrations|calls|queue
#    show --json` say; /provisioning/ serves files byte-exact, refuses
#    "../" (403, security log) and answers 404 for a missing file;
#  - malformed HTTP (garbage, a bad header line), a POST: refused and
#    logged;
#  - /metrics (prometheus.conf, its own credentials) passes `promtool check
#    metrics`; its values match tandemctl (registrations, calls in
#    progress, calls set up, auth failures counted) and the RTP a raw
#    sender put through the call's relay (50 in, 50 out, 2 lost);
#  - headless Chromium loads the page with the password, its script fills
#    it in from /status.json: the values shown (node, registrations, calls
#    in progress, peers, queue callers) equal tandemctl's at that moment,
#    with a call up (SIPp) and 101-tfg registered, and the nodes of a
#    [cluster] whose other node is down; a screenshot is taken.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp curl promtool chromium openssl

. "$(dirname "$0")/lib_call.sh"

HTTP_PORT=$(free_port)
BASE=http://127.0.0.1:$HTTP_PORT

# ---- enabled without a password: refused at start, FILE:LINE
conf_extensions_calls
conf_sip_general realm=tandem
conf_tfg_peers qualify=no
printf '[general]\nenabled=yes\nbindport=%s\n' "$HTTP_PORT" > "$CONF/http.conf"
rc=0
timeout -k 2 20 "$TANDEMD" -C "$CONF" -D "$DATA" -f > "$T/nopass.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "tandemd with http.conf enabled and no password: exit status"
assert_file_match "$T/nopass.log" '^http\.conf:2: enabled = yes needs auth_username and auth_password' \
	"the FILE:LINE message"
ok "http.conf enabled=yes without a password: tandemd exits 1 with 'http.conf:2: ...'"

cat > "$CONF/http.conf" <<EOF
[general]
enabled = yes
bindaddr = 127.0.0.1
bindport = $HTTP_PORT
auth_username = admin
auth_password = Pa55-word
EOF
cat > "$CONF/prometheus.conf" <<'EOF'
[general]
enabled = yes
core_metrics_enabled = yes
uri = metrics
auth_username = prom
auth_password = scrape-me
EOF
cat > "$CONF/queues.conf" <<'EOF'
[cola-tfg]
strategy = ringall
member => SIP/100-tfg
EOF
mkdir -p "$DATA/provisioning/yealink"
head -c 70000 /dev/urandom > "$DATA/provisioning/yealink/y000000000028.cfg"
echo "outside" > "$DATA/secret.txt"
# a cluster of two whose other node (b) is not running: the page shows
# this node active and b down, as `tandemctl cluster status` does
openssl rand -hex 32 > "$CONF/cluster.key"
chmod 600 "$CONF/cluster.key"
conf_tandem cluster name=e2e "node = a,127.0.0.1:$(free_port)" "node = b,127.0.0.1:$(free_port)" \
	keyfile=cluster.key engine=none
tandem_start -n a
# b never comes: without a witness a lone node waits for its peer
# (docs/failover.md); the admin asserts b is gone
ctl cluster takeover --force > /dev/null || fail "cluster takeover --force on a: $(cat "$T/ctl.err")"
UAS_PORT=$(free_port) UAC_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
sipp_register_ok reg101 101-tfg tf2020 "$UAS_PORT"
wait_until 3 "101-tfg listed by tandemctl registrations" is_registered 101-tfg

C() { curl -sS --max-time 10 "$@"; }
code() { C -o "$T/body" -w '%{http_code}' "$@"; }

# ---- authentication
assert_eq "$(code -D "$T/hdr" "$BASE/")" 401 "GET / without credentials"
assert_file_match "$T/hdr" '^WWW-Authenticate: Basic realm="Tandem"' "401 asks for Basic"
assert_eq "$(code -u admin:wrong "$BASE/")" 401 "GET / with a wrong password"
assert_eq "$(code -u prom:scrape-me "$BASE/status.json")" 401 "the metrics user on the page"
assert_file_match "$DATA/security.log" \
	'SECURITY event=auth_failed src=127\.0\.0\.1:[0-9]+ user="admin" reason="http status page: wrong user or password"' \
	"security log: wrong password"
assert_eq "$(code -u admin:Pa55-word "$BASE/")" 200 "GET / with the password"
assert_file_match "$T/body" '<title>Tandem status</title>' "the page"
ok "page: 401 without or with a wrong password (security-logged), 200 with it"

# ---- /provisioning/
assert_eq "$(code -u admin:Pa55-word "$BASE/provisioning/yealink/y000000000028.cfg")" 200 \
	"provisioning file"
cmp "$T/body" "$DATA/provisioning/yealink/y000000000028.cfg" || fail "provisioning over HTTP differs"
assert_eq "$(code "$BASE/provisioning/yealink/y000000000028.cfg")" 401 "provisioning without password"
assert_eq "$(code --path-as-is -u admin:Pa55-word "$BASE/provisioning/../secret.txt")" 403 \
	"provisioning ../secret.txt"
assert_eq "$(code -u admin:Pa55-word "$BASE/provisioning/%2e%2e/secret.txt")" 403 \
	"provisioning %2e%2e/secret.txt"
assert_eq "$(code -u admin:Pa55-word "$BASE/provisioning/none.cfg")" 404 "missing provisioning file"
assert_file_match "$DATA/security.log" 'event=request_rejected src=127\.0\.0\.1:[0-9]+ user="" reason="http: path leaves the provisioning directory"' \
	"security log: traversal"
ok "/provisioning/: byte-exact with the password, 401 without, 403 for ../ (logged), 404"

# ---- malformed requests and methods
python3 - "$HTTP_PORT" > "$T/raw.out" <<'EOF'
import socket, sys
for name, req in [("garbage", b"GARBAGE\r\n\r\n"),
                  ("badheader", b"GET / HTTP/1.1\r\nHost x\r\n\r\n")]:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.settimeout(5)
    s.sendall(req)
    try:
        r = s.recv(200)
    except socket.timeout:
        r = b"(timeout)"
    print(name, (r.split(b"\r\n")[0] or b"(closed)").decode())
    s.close()
EOF
grep -qx 'garbage (closed)' "$T/raw.out" || grep -qx 'garbage HTTP/1.1 400 Bad Request' "$T/raw.out" \
	|| fail "garbage request: $(cat "$T/raw.out")"
grep -qx 'badheader HTTP/1.1 400 Bad Request' "$T/raw.out" || fail "bad header: $(cat "$T/raw.out")"
assert_eq "$(code -X POST -u admin:Pa55-word "$BASE/")" 405 "POST /"
wait_until 3 "log: garbage" grep -Eq 'http: connection from 127\.0\.0\.1:[0-9]+ closed without a valid HTTP request' "$E2E_LOG"
assert_file_match "$E2E_LOG" 'http: Error processing request \(HTTP response code is 400' "log: 400"
assert_file_match "$E2E_LOG" 'http: POST from 127\.0\.0\.1:[0-9]+ refused: only GET and HEAD are served' "log: POST"
ok "malformed requests refused (closed / 400) and logged; POST gets 405, logged"

# ---- a call in progress for the page and the metrics, up until
# tandemctl hangs it up at the end (the caller waits up to 30 s for that BYE)
uas_start uas call_uas.xml 1
# shellcheck disable=SC2046
sipp_bg uac 60 $(uac_args call_uac_auth_recvbye.xml) -m 1
UAC_PID=$BG_PID
wait_until 10 "the call is up" call_up

# 50 RTP packets (PCMA) into the caller's side of the relay, sequence
# numbers 1-52 without 10 and 11: the relay counts 50 in, 50 out to the
# callee, 2 lost; /metrics must say the same below
calls_json
PORT_A=$(jq_py "$T/calls.json" 'd["calls"][0]["media"]["port_a"]')
python3 - "$PORT_A" <<'PY' || fail "sending RTP to port $PORT_A"
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for seq in [n for n in range(1, 53) if n not in (10, 11)]:
    s.sendto(struct.pack("!BBHII", 0x80, 8, seq, seq * 160, 0x7a4d) + b"\xd5" * 160,
             ("127.0.0.1", int(sys.argv[1])))
    time.sleep(0.002)
PY
rtp_in() { calls_json; [ "$(jq_py "$T/calls.json" 'd["calls"][0]["media"]["rx_a"]')" = 50 ]; }
wait_until 5 "50 RTP packets counted on the caller's leg: $(cat "$T/calls.json")" rtp_in
assert_eq "$(jq_py "$T/calls.json" 'd["calls"][0]["media"]["tx_b"]')" 50 "RTP relayed to the callee"

# ---- /status.json against tandemctl
ctl status --json > "$T/st.json" || fail "tandemctl status"
registrations_json
calls_json
ctl queue show --json > "$T/q.json" || fail "tandemctl queue show"
ctl cluster status --json > "$T/cl.json" || fail "tandemctl cluster status"
assert_eq "$(code -u admin:Pa55-word "$BASE/status.json")" 200 "/status.json"
cp "$T/body" "$T/web.json"
python3 - "$T" <<'EOF' || fail "/status.json differs from tandemctl: $(head -c 800 "$T/web.json")"
import json, sys
t = sys.argv[1]
w = json.load(open(t + "/web.json"))
st, regs, calls, q = (json.load(open(t + f)) for f in ("/st.json", "/regs.json", "/calls.json", "/q.json"))
assert w["status"]["node"] == st["node"] and w["status"]["peers"] == st["peers"]
assert w["status"]["registrations"] == st["registrations"] == 1
key = lambda r: (r["peer"], r["contact"], r["source"], r["call_id"])
assert sorted(map(key, w["registrations"]["registrations"])) == sorted(map(key, regs["registrations"]))
ck = lambda c: (c["id"], c["caller"], c["exten"], c["state"], c["channel"])
assert [ck(c) for c in w["calls"]["calls"]] == [ck(c) for c in calls["calls"]] and len(calls["calls"]) == 1
qk = lambda x: (x["name"], x["strategy"], x["calls"], len(x["members"]))
assert [qk(x) for x in w["queues"]["queues"]] == [qk(x) for x in q["queues"]]
cl = json.load(open(t + "/cl.json"))
nk = lambda n: (n["name"], n["address"], n["role"], n["self"])
assert [nk(n) for n in w["cluster"]["nodes"]] == [nk(n) for n in cl["nodes"]]
assert [(n["name"], n["role"]) for n in cl["nodes"]] == [("a", "active"), ("b", "down")]
assert w["cluster"]["replication"] == cl["replication"] and w["cluster"]["vip"] == cl["vip"]
EOF
ok "/status.json equals tandemctl status/registrations/calls/queue show/cluster status (1 registration, 1 call, a active, b down)"

# ---- /metrics
assert_eq "$(code "$BASE/metrics")" 401 "/metrics without credentials"
assert_eq "$(code -u admin:Pa55-word "$BASE/metrics")" 401 "/metrics with the page's user"
assert_eq "$(code -D "$T/mhdr" -u prom:scrape-me "$BASE/metrics")" 200 "/metrics"
cp "$T/body" "$T/metrics.txt"
assert_file_match "$T/mhdr" '^Content-Type: text/plain; version=0\.0\.4' "metrics content type"
promtool check metrics < "$T/metrics.txt" > "$T/promtool.out" 2>&1 \
	|| fail "promtool check metrics: $(cat "$T/promtool.out")"
m() { sed -n "s/^$1 //p" "$T/metrics.txt"; }
assert_eq "$(m tandem_registrations)" 1 "tandem_registrations"
assert_eq "$(m tandem_calls_active)" 1 "tandem_calls_active"
assert_eq "$(m tandem_calls_total)" 1 "tandem_calls_total"
assert_eq "$(m tandem_peers)" "$(jq_py "$T/st.json" 'd["peers"]')" "tandem_peers"
fails=$(m tandem_auth_failures_total)
[ "$fails" -ge 3 ] || fail "tandem_auth_failures_total $fails: the wrong HTTP passwords above count"
assert_match "$(m 'tandem_sip_messages_total{direction="rx"}')" '^[1-9][0-9]*$' "SIP rx counter"
assert_eq "$(m 'tandem_rtp_packets_total{direction="rx"}')" 50 "RTP packets in"
assert_eq "$(m 'tandem_rtp_packets_total{direction="tx"}')" 50 "RTP packets out"
assert_eq "$(m tandem_rtp_packets_lost_total)" 2 "RTP packets lost"
assert_eq "$(m tandem_rtp_relays)" 1 "RTP relays"
ok "/metrics: promtool check metrics passes; registrations 1, calls 1 (1 set up), RTP 50 in, 50 out, 2 lost, auth failures $fails"

# ---- the page in headless Chromium
chrome() {
	HOME=$T timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-dev-shm-usage --no-first-run \
		--user-data-dir="$T/chromium" --virtual-time-budget=5000 "$@" \
		"http://admin:Pa55-word@127.0.0.1:$HTTP_PORT/" 2>> "$T/chromium.err"
}
chrome --window-size=1280,1000 --screenshot="$T/status.png" > /dev/null \
	|| fail "chromium --screenshot: exit $? ($(tail -n 3 "$T/chromium.err"))"
[ "$(stat -c %s "$T/status.png" 2>/dev/null || echo 0)" -gt 20000 ] \
	|| fail "screenshot $T/status.png missing or blank"
chrome --dump-dom > "$T/dom.html" || fail "chromium --dump-dom: exit $?"
ctl status --json > "$T/st.json" && registrations_json && calls_json && \
	ctl queue show --json > "$T/q.json" || fail "tandemctl after chromium"
python3 - "$T" <<'EOF' || fail "the page in Chromium disagrees with tandemctl (kept $T/dom.html)"
import html.parser, json, sys
t = sys.argv[1]
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.vals = {}; s.cur = None; s.cells = []; s.intd = False
    def handle_starttag(s, tag, a):
        a = dict(a)
        s.cur = a.get("id")
        if tag == "td": s.intd = True; s.cells.append("")
    def handle_endtag(s, tag):
        s.cur = None
        if tag == "td": s.intd = False
    def handle_data(s, d):
        if s.cur: s.vals[s.cur] = s.vals.get(s.cur, "") + d
        if s.intd: s.cells[-1] += d
p = P(); p.feed(open(t + "/dom.html").read())
v = p.vals
st, regs, calls, q = (json.load(open(t + f)) for f in ("/st.json", "/regs.json", "/calls.json", "/q.json"))
want = {"node": st["node"], "regcount": str(len(regs["registrations"])),
        "callcount": str(len(calls["calls"])), "peercount": str(st["peers"]),
        "queuecount": str(sum(x["calls"] for x in q["queues"])), "err": None}
bad = {k: (v.get(k), w) for k, w in want.items() if v.get(k) != w}
assert not bad, "shown vs tandemctl: %r" % bad
assert v.get("updated", "never") != "never", "the script never filled the page in"
for r in regs["registrations"]:
    assert r["peer"] in p.cells and r["contact"] in p.cells, "registration %s not in the table" % r["peer"]
for c in calls["calls"]:
    assert str(c["id"]) in p.cells and c["caller"] in p.cells, "call %s not in the table" % c["id"]
assert "cola-tfg" in p.cells
cells = p.cells
i = cells.index("a (this node)"); assert cells[i + 2] == "active", cells[i:i + 3]
i = cells.index("b"); assert cells[i + 2] == "down", cells[i:i + 3]
print("shown: " + ", ".join("%s=%s" % (k, v.get(k)) for k in want if k != "err"))
EOF
ok "Chromium: the page shows what tandemctl says; screenshot $(stat -c %s "$T/status.png") bytes"
[ "${E2E_KEEP:-0}" = 1 ] && note "screenshot kept: $T/status.png"

# ---- reload: a broken http.conf fails it (FILE:LINE); a changed one
# restarts the listener with it; one that cannot listen keeps the old
cp "$CONF/http.conf" "$T/http.conf.good"
sed -i 's/^bindport = .*/bindport = eighty/' "$CONF/http.conf"
ctl reload > /dev/null && fail "reload with a broken http.conf succeeded"
assert_match "$(cat "$T/ctl.err")" "http\.conf:4: bindport must be from 1 to 65535, not 'eighty'" \
	"reload with a broken http.conf"
assert_eq "$(code -u admin:Pa55-word "$BASE/status.json")" 200 "the password after a failed reload"
sed 's/^auth_password = .*/auth_password = changed/' "$T/http.conf.good" > "$CONF/http.conf"
ctl reload > /dev/null || fail "reload with a changed password: $(cat "$T/ctl.err")"
assert_file_match "$E2E_LOG" 'reload: HTTP restarted with the new http\.conf' "reload notice"
assert_eq "$(code -u admin:changed "$BASE/status.json")" 200 "the new password after a reload"
assert_eq "$(code -u admin:Pa55-word "$BASE/status.json")" 401 "the old password after a reload"
python3 -c 'import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(15)' > "$T/busy.port" &
BUSY_PID=$!
E2E_BG_PIDS+=("$BUSY_PID")
wait_until 5 "a port held by another program" test -s "$T/busy.port"
sed "s/^bindport = .*/bindport = $(cat "$T/busy.port")/; s/^auth_password = .*/auth_password = changed/" \
	"$T/http.conf.good" > "$CONF/http.conf"
ctl reload > /dev/null
assert_file_match "$E2E_LOG" 'reload: http\.conf: the new HTTP settings could not be applied' \
	"reload with a port in use"
assert_eq "$(code -u admin:changed "$BASE/status.json")" 200 "the old listener after a failed restart"
kill "$BUSY_PID" 2>/dev/null
ok "reload: a broken http.conf fails it with FILE:LINE; a new password applies at once (old refused); a port in use keeps the old listener"

# ---- HTTPS (tlsenable, tlsbindaddr, tlscertfile, tlsprivatekey): curl
# checks the certificate against the one configured
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" \
	-out "$T/cert.pem" 2> "$T/openssl.err" || fail "openssl: $(cat "$T/openssl.err")"
TLS_PORT=$(free_port)
{ sed 's/^auth_password = .*/auth_password = changed/' "$T/http.conf.good"
  printf 'tlsenable = yes\ntlsbindaddr = 127.0.0.1:%s\ntlscertfile = %s\ntlsprivatekey = %s\n' \
	"$TLS_PORT" "$T/cert.pem" "$T/key.pem"; } > "$CONF/http.conf"
ctl reload > /dev/null || fail "reload with tlsenable: $(cat "$T/ctl.err")"
assert_file_match "$E2E_LOG" "http: the same over HTTPS on https://127\.0\.0\.1:$TLS_PORT/" "HTTPS notice"
TBASE=https://127.0.0.1:$TLS_PORT
assert_eq "$(code --cacert "$T/cert.pem" -u admin:changed "$TBASE/status.json")" 200 "HTTPS status.json"
jq_py "$T/body" "d['status']['node']" > /dev/null || fail "HTTPS status.json is not the status"
assert_eq "$(code --cacert "$T/cert.pem" -u admin:wrong "$TBASE/status.json")" 401 "HTTPS, wrong password"
assert_eq "$(code -u admin:changed "$BASE/status.json")" 200 "plain HTTP next to HTTPS"
sed -i "s#^tlscertfile = .*#tlscertfile = $T/missing.pem#; /^tlsprivatekey/d" "$CONF/http.conf"
ctl reload > /dev/null
assert_file_match "$E2E_LOG" "http: cannot read $T/missing\.pem: No such file or directory" \
	"a missing certificate named"
assert_eq "$(code --cacert "$T/cert.pem" -u admin:changed "$TBASE/status.json")" 200 \
	"HTTPS kept after a reload with a missing certificate"
ok "HTTPS: the status page over TLS with the configured certificate (curl verifies it), 401 on a wrong password; a missing certificate is named and the running listeners stay"

calls_json
id=$(jq_py "$T/calls.json" 'd["calls"][0]["id"]')
ctl calls hangup "$id" > /dev/null || fail "tandemctl calls hangup $id: $(cat "$T/ctl.err")"
sipp_wait uac "$UAC_PID" "the caller (BYE after tandemctl calls hangup)"
sipp_wait uas "$UAS_PID" "the callee (BYE after tandemctl calls hangup)"
assert_alive "after the web tests"
tandem_stop_checked
if grep -Eq "AddressSanitizer|runtime error|LeakSanitizer" "$E2E_LOG" "$T/nopass.log"; then
	fail "sanitizer report in $E2E_LOG or $T/nopass.log"
fi
