# shellcheck shell=bash
# lib.sh: shared helpers for Tandem's end-to-end tests.
#
# Each tests/e2e/test_*.sh sources this file and runs on its own:
#   TANDEM_BUILD=build TANDEM_SRC=. bash tests/e2e/test_register_sipp.sh
# ctest passes both variables. Every test gets a temp dir ($T) holding a
# CONFDIR ($CONF), a DATADIR ($DATA), the daemon's stderr and the SIPp
# logs; it is removed when the test passes and kept (path printed) when it
# fails, or always with E2E_KEEP=1.
#
# Rules the helpers enforce: loopback only, no fixed ports (free_port picks
# one the kernel says is free, never 5060), every wait bounded in time,
# every process we start is stopped by its PID.
#
# Exit codes: 0 pass, 1 fail, 77 skip (only when the machine lacks
# something the test cannot do without, e.g. an IPv6 loopback).

set -u
set -o pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TANDEM_SRC=${TANDEM_SRC:-$(cd "$E2E_DIR/../.." && pwd)}
TANDEM_BUILD=${TANDEM_BUILD:-$TANDEM_SRC/build}
TANDEMD=${TANDEMD:-$TANDEM_BUILD/tandemd}
TANDEMCTL=${TANDEMCTL:-$TANDEM_BUILD/tandemctl}
SIPP_DIR=$E2E_DIR/sipp
E2E_NAME=$(basename "${0%.sh}")

T='' CONF='' DATA='' TPID='' SIP_PORT='' SIP_ADDR=127.0.0.1
E2E_DAEMON_RUNS=0
E2E_BG_PIDS=()
E2E_FAILED=0

# ---------------------------------------------------------------- output

note() { echo "[$(date +%T)] $E2E_NAME: $*"; }
ok()   { echo "[$(date +%T)] $E2E_NAME: ok: $*"; }

# fail MSG...: print the message, the end of the daemon's log, and exit 1.
fail() {
	E2E_FAILED=1
	echo "[$(date +%T)] $E2E_NAME: FAIL: $*" >&2
	if [ -n "${E2E_LOG:-}" ] && [ -s "$E2E_LOG" ]; then
		echo "---- last 40 lines of $E2E_LOG" >&2
		tail -n 40 "$E2E_LOG" >&2
		echo "----" >&2
	fi
	exit 1
}

# skip MSG...: exit 77 (ctest SKIP_RETURN_CODE).
skip() { echo "[$(date +%T)] $E2E_NAME: SKIP: $*"; exit 77; }

# need TOOL...: the test requires these programs. Missing ones fail the
# test (the test-install command is expected to install them); set
# E2E_SKIP_MISSING=1 to skip instead.
need() {
	local t missing=
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing="$missing $t"; done
	[ -z "$missing" ] && return 0
	[ "${E2E_SKIP_MISSING:-0}" = 1 ] && skip "missing:$missing"
	fail "missing tools:$missing (Debian: sip-tester baresip-core python3 kamailio)"
}

assert_eq() {  # ACTUAL EXPECTED WHAT
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}
assert_match() {  # STRING ERE WHAT
	[[ $1 =~ $2 ]] || fail "$3: '$1' does not match /$2/"
}
assert_file_match() {  # FILE ERE WHAT
	grep -Eq -- "$2" "$1" 2>/dev/null || fail "$3: no line of $1 matches /$2/"
}

# wait_for SECS CMD...: run CMD every 0.2 s until it succeeds; 1 on timeout.
wait_for() {
	local secs=$1 end; shift
	end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
	while :; do
		"$@" && return 0
		[ $(( $(date +%s%N) / 1000000 )) -ge "$end" ] && return 1
		sleep 0.2
	done
}
# wait_until SECS WHAT CMD...: wait_for or fail with WHAT.
wait_until() {
	local secs=$1 what=$2; shift 2
	wait_for "$secs" "$@" || fail "$what (waited ${secs}s)"
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---------------------------------------------------------------- setup

# e2e_init: temp dir, cleanup trap, binaries present, python helper written.
e2e_init() {
	need python3 timeout
	[ -x "$TANDEMD" ] || fail "no tandemd at $TANDEMD (build first; TANDEM_BUILD=$TANDEM_BUILD)"
	[ -x "$TANDEMCTL" ] || fail "no tandemctl at $TANDEMCTL"
	T=$(mktemp -d "/tmp/tandem-e2e.$E2E_NAME.XXXXXX") || exit 1
	CONF=$T/conf DATA=$T/data
	mkdir -p "$CONF" "$DATA"
	: > "$T/ports"
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	e2e_write_python
	export PYTHONPATH=$T${PYTHONPATH:+:$PYTHONPATH}
	note "temp dir $T"
}

e2e_cleanup() {
	local rc=$?
	local p
	for p in "${E2E_BG_PIDS[@]}"; do stop_pid "$p" >/dev/null 2>&1; done
	[ -n "$TPID" ] && tandem_stop >/dev/null 2>&1
	if [ "$rc" = 0 ] && [ "${E2E_KEEP:-0}" != 1 ]; then
		rm -rf "$T"
		echo "[$(date +%T)] $E2E_NAME: PASS"
	elif [ "$rc" = 77 ]; then
		rm -rf "$T"
	else
		echo "[$(date +%T)] $E2E_NAME: exit $rc; logs kept in $T" >&2
	fi
	exit "$rc"
}

# stop_pid PID [GRACE_S]: SIGTERM, then SIGKILL after GRACE_S (default 5).
# Returns 0 if it ended on SIGTERM, 2 if it needed SIGKILL.
stop_pid() {
	local pid=$1 grace=${2:-5} i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 $((grace * 10))); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 2
}

# bg NAME CMD...: start CMD in the background (output to $T/NAME.out),
# remember its PID in BG_PID and for cleanup.
bg() {
	local name=$1; shift
	"$@" > "$T/$name.out" 2>&1 &
	BG_PID=$!
	E2E_BG_PIDS+=("$BG_PID")
}

# free_port [ADDR]: a port free for both UDP and TCP on ADDR, never one
# handed out before in this test.
free_port() {
	local addr=${1:-$SIP_ADDR} p i
	for i in $(seq 1 20); do
		p=$(python3 - "$addr" <<'EOF'
import random, socket, sys
addr = sys.argv[1]
fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
# Above the kernel's ephemeral range (ip_local_port_range, 32768-60999 by
# default): a port handed out there can be taken by any process's next
# outgoing socket before the test's peer binds it (seen with parallel
# ctest: SIPp's "Address already in use"). Below 61000 only as a fallback.
lo, hi = 61000, 65535
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        e_hi = int(f.read().split()[1])
    lo = max(lo, e_hi + 1)
except (OSError, ValueError, IndexError):
    pass
cands = [random.randint(lo, hi) for _ in range(100)] if lo < hi else []
for cand in cands + [0] * 50:
    t = socket.socket(fam, socket.SOCK_STREAM)
    try:
        t.bind((addr, cand))
    except OSError:
        continue
    port = t.getsockname()[1]
    u = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        u.bind((addr, port))
    except OSError:
        continue
    print(port)
    break
EOF
) || fail "free_port: python3 failed"
		if [ -n "$p" ] && [ "$p" != 5060 ] && ! grep -qx "$p" "$T/ports"; then
			echo "$p" >> "$T/ports"
			echo "$p"
			return 0
		fi
	done
	fail "free_port: no free port on $addr"
}

# hostport ADDR PORT: "1.2.3.4:5" or "[::1]:5"
hostport() { case $1 in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac; }

# ---------------------------------------------------------------- config

# conf_sip_general [KEY=VALUE...]: start $CONF/sip.conf with a [general]
# binding UDP to $SIP_ADDR:$SIP_PORT (a free port is picked if unset).
conf_sip_general() {
	[ -n "$SIP_PORT" ] || SIP_PORT=$(free_port "$SIP_ADDR")
	{
		echo "; generated by $E2E_NAME"
		echo "[general]"
		echo "udpbindaddr=$(hostport "$SIP_ADDR" "$SIP_PORT")"
		local kv; for kv in "$@"; do echo "$kv"; done
		echo
	} > "$CONF/sip.conf"
	[ -f "$CONF/extensions.conf" ] || conf_extensions_minimal
}

# conf_sip_peer NAME [KEY=VALUE...]: append a peer (type=friend,
# host=dynamic, secret=tf2020, context=default unless given).
conf_sip_peer() {
	local name=$1 kv; shift
	{
		echo "[$name]"
		case " $* " in *" type="*) ;; *) echo "type=friend" ;; esac
		case " $* " in *" host="*) ;; *) echo "host=dynamic" ;; esac
		case " $* " in *" secret="*) ;; *) echo "secret=tf2020" ;; esac
		case " $* " in *" context="*) ;; *) echo "context=default" ;; esac
		for kv in "$@"; do echo "$kv"; done
		echo
	} >> "$CONF/sip.conf"
}

# conf_tfg_peers [KEY=VALUE...]: the seed's two phones, 100-tfg and 101-tfg.
conf_tfg_peers() {
	conf_sip_peer 100-tfg "$@"
	conf_sip_peer 101-tfg "$@"
}

# conf_tandem SECTION [KEY=VALUE...]: append a section to tandem.conf.
conf_tandem() {
	local sec=$1 kv; shift
	{ echo "[$sec]"; for kv in "$@"; do echo "$kv"; done; echo; } >> "$CONF/tandem.conf"
}

conf_extensions_minimal() {
	cat > "$CONF/extensions.conf" <<'EOF'
; generated by the e2e tests: the registrar needs no dialplan
[general]
static=yes
writeprotect=yes

[default]
exten => 100-tfg,1,Hangup()
EOF
}

# conf_from_example [ADDR [PORT]]: copy examples/tfg and point its SIP
# bind addresses at ADDR:PORT (free port by default).
conf_from_example() {
	SIP_ADDR=${1:-$SIP_ADDR}
	SIP_PORT=${2:-${SIP_PORT:-$(free_port "$SIP_ADDR")}}
	cp -r "$TANDEM_SRC/examples/tfg/." "$CONF/"
	chmod -R u+w "$CONF"
	sed -i -E "s/^(udpbindaddr|tcpbindaddr)=.*/\\1=$(hostport "$SIP_ADDR" "$SIP_PORT")/" "$CONF/sip.conf"
}

# ---------------------------------------------------------------- daemon

# tandem_start [ARGS...]: start tandemd in the background on $CONF/$DATA,
# wait (bounded, E2E_START_S, default 15 s) until `tandemctl status`
# answers 0. Fails the test if it dies or does not come up.
tandem_start() {
	E2E_DAEMON_RUNS=$((E2E_DAEMON_RUNS + 1))
	E2E_LOG=$T/tandemd.$E2E_DAEMON_RUNS.log
	"$TANDEMD" -C "$CONF" -D "$DATA" -f "$@" > "$E2E_LOG" 2>&1 &
	TPID=$!
	local end=$(( $(now_ms) + ${E2E_START_S:-15} * 1000 ))
	while :; do
		if ! kill -0 "$TPID" 2>/dev/null; then
			wait "$TPID"; local rc=$?; TPID=
			fail "tandemd exited with status $rc while starting"
		fi
		ctl_quiet status && break
		[ "$(now_ms)" -ge "$end" ] && fail "tandemctl status did not answer 0 within ${E2E_START_S:-15}s"
		sleep 0.1
	done
	note "tandemd up (pid $TPID, SIP $(hostport "$SIP_ADDR" "$SIP_PORT"), log $E2E_LOG)"
}

# tandem_stop: SIGTERM; SIGKILL after 5 s. Returns 2 if SIGKILL was
# needed (the contract says SIGTERM stops cleanly within 5 s).
tandem_stop() {
	[ -n "$TPID" ] || return 0
	local rc=0
	stop_pid "$TPID" 5 || rc=$?
	TPID=
	return $rc
}

# tandem_stop_checked: tandem_stop, failing the test unless it stopped on
# SIGTERM within 5 s.
tandem_stop_checked() {
	local pid=$TPID rc=0
	tandem_stop || rc=$?
	[ $rc = 0 ] || fail "tandemd (pid $pid) did not stop within 5 s of SIGTERM"
	ok "tandemd stopped on SIGTERM"
}

tandem_kill9() {
	[ -n "$TPID" ] || return 0
	kill -KILL "$TPID" 2>/dev/null
	wait "$TPID" 2>/dev/null
	TPID=
}

tandem_alive() { [ -n "$TPID" ] && kill -0 "$TPID" 2>/dev/null; }
assert_alive() { tandem_alive || fail "tandemd is not running any more ($*)"; }

# ctl ARGS...: tandemctl on our DATADIR, bounded to 10 s; stdout kept,
# stderr to $T/ctl.err.
ctl() { timeout -k 2 10 "$TANDEMCTL" -D "$DATA" "$@" 2>"$T/ctl.err"; }
ctl_quiet() { timeout -k 2 10 "$TANDEMCTL" -D "$DATA" "$@" >/dev/null 2>&1; }

# mkvoice OUT.pcap WAV [DTMF_AT_S]: an 8 kHz 16-bit mono WAV as A-law RTP
# (PT 8, 20 ms) for SIPp's play_pcap_audio, then optionally '#' (RFC 4733)
# DTMF_AT_S seconds after the start (tests/e2e/audio/mkvoice.py; SSRC
# MKVOICE_SSRC, default "VMVC").
mkvoice() {
	python3 "$E2E_DIR/audio/mkvoice.py" "$1" "$2" "${MKVOICE_SSRC:-0x564d5643}" ${3:+"$3"} ||
		fail "mkvoice $1 from $2"
}

# ---------------------------------------------------------------- JSON views

# jq_py FILE EXPR: print a Python expression over the JSON in FILE (as d).
jq_py() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list)) else v)
EOF
}

# registrations_json: `tandemctl registrations --json` into $T/regs.json.
registrations_json() {
	ctl registrations --json > "$T/regs.json" || fail "tandemctl registrations --json: exit $? ($(cat "$T/ctl.err"))"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))["registrations"]' "$T/regs.json" 2>/dev/null \
		|| fail "tandemctl registrations --json: not {\"registrations\":[...]}: $(head -c 500 "$T/regs.json")"
}
peers_json() {
	ctl peers --json > "$T/peers.json" || fail "tandemctl peers --json: exit $? ($(cat "$T/ctl.err"))"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))["peers"]' "$T/peers.json" 2>/dev/null \
		|| fail "tandemctl peers --json: not {\"peers\":[...]}: $(head -c 500 "$T/peers.json")"
}

# reg_get PEER FIELD: print FIELD of PEER's registration (refreshes the
# JSON); status 1 when PEER has no registration.
reg_get() {
	registrations_json
	python3 - "$T/regs.json" "$1" "$2" <<'EOF'
import json, sys
regs = [r for r in json.load(open(sys.argv[1]))["registrations"] if r.get("peer") == sys.argv[2]]
if not regs:
    sys.exit(1)
v = regs[0].get(sys.argv[3])
print(json.dumps(v) if isinstance(v, (dict, list)) else ("" if v is None else v))
EOF
}
reg_count() {  # PEER: number of registrations listed for PEER
	registrations_json
	python3 -c 'import json,sys; print(sum(1 for r in json.load(open(sys.argv[1]))["registrations"] if r.get("peer")==sys.argv[2]))' "$T/regs.json" "$1"
}
is_registered() { reg_get "$1" peer >/dev/null; }
is_unregistered() { ! reg_get "$1" peer >/dev/null; }

# peer_get NAME FIELD: FIELD of NAME in `peers --json`; 1 when not listed.
peer_get() {
	peers_json
	python3 - "$T/peers.json" "$1" "$2" <<'EOF'
import json, sys
ps = [p for p in json.load(open(sys.argv[1]))["peers"] if p.get("name") == sys.argv[2]]
if not ps:
    sys.exit(1)
v = ps[0].get(sys.argv[3])
print(json.dumps(v) if isinstance(v, (dict, list, bool)) else ("" if v is None else v))
EOF
}

# ---------------------------------------------------------------- SIPp

# sipp_run NAME SECS ARGS...: run SIPp bounded by timeout, in $T, logs to
# $T/sipp.NAME.{out,err,msg}. Returns SIPp's status (0 = every call passed).
sipp_run() {
	local name=$1 secs=$2; shift 2
	need sipp
	( cd "$T" && timeout -k 3 "$secs" sipp -nostdin \
		-trace_err -error_file "$T/sipp.$name.err" \
		-trace_msg -message_file "$T/sipp.$name.msg" \
		"$@" ) > "$T/sipp.$name.out" 2>&1
}

# sipp_fail_details NAME: what to print when a SIPp run failed.
sipp_fail_details() {
	{
		echo "---- SIPp $1 errors:"; tail -n 15 "$T/sipp.$1.err" 2>/dev/null
		echo "---- SIPp $1 messages (last 40 lines):"; tail -n 40 "$T/sipp.$1.msg" 2>/dev/null
		echo "---- SIPp $1 output:"; grep -E 'Successful call|Failed call|error|Error' "$T/sipp.$1.out" | tail -n 6
	} >&2
}

# users_csv FILE USER[;PASS]...: a SIPp injection file (password tf2020
# unless given as USER;PASS).
users_csv() {
	local f=$1 u; shift
	{ echo SEQUENTIAL; for u in "$@"; do case $u in *\;*) echo "$u" ;; *) echo "$u;tf2020" ;; esac; done; } > "$f"
}

# sipp_register NAME USER PASS LOCALPORT [SCENARIO [ARGS...]]: one
# REGISTER-with-digest exchange from LOCALPORT (the Contact's port).
# SCENARIO defaults to register_auth.xml. Returns SIPp's status.
sipp_register() {
	local name=$1 user=$2 pass=$3 lport=$4 sc=${5:-register_auth.xml}
	shift 4; [ $# -gt 0 ] && shift
	users_csv "$T/$name.csv" "$user;$pass"
	sipp_run "$name" 30 -sf "$SIPP_DIR/$sc" -inf "$T/$name.csv" \
		-i "$SIP_ADDR" -p "$lport" -m 1 -r 1 "$@" "$(hostport "$SIP_ADDR" "$SIP_PORT")"
}

# sipp_register_ok NAME USER PASS LOCALPORT [ARGS...]: fail unless it passed.
sipp_register_ok() {
	local name=$1 user=$2 pass=$3 lport=$4; shift 4
	sipp_register "$name" "$user" "$pass" "$lport" register_auth.xml "$@" || {
		local rc=$?
		sipp_fail_details "$name"
		fail "SIPp REGISTER of $user from port $lport (run $name) exited $rc"
	}
}

# ---------------------------------------------------------------- python

# py [ARGS...] <<'EOF' ... EOF: run a python3 snippet with sipc importable
# and SIP_ADDR / SIP_PORT / T / DATA in its environment.
py() {
	SIP_ADDR=$SIP_ADDR SIP_PORT=$SIP_PORT T=$T DATA=$DATA CONF=$CONF \
		timeout -k 3 "${PY_TIMEOUT:-120}" python3 - "$@"
}

# The python SIP client used by the tests (written to $T/sipc.py).
e2e_write_python() {
	cat > "$T/sipc.py" <<'PYEOF'
"""sipc: a small SIP user agent for Tandem's end-to-end tests.

UDP or TCP, IPv4 or IPv6, digest MD5 and SHA-256 (RFC 8760), qop=auth.
Responses are matched to requests by Via branch; UDP requests are
retransmitted with RFC 3261 timer A (T1 = 0.5 s) until a final answer or
the timeout. OPTIONS arriving at the UA (qualify) are answered 200.
"""
import hashlib, os, random, re, socket, sys, time

COMPACT = {'v': 'via', 'f': 'from', 't': 'to', 'i': 'call-id', 'm': 'contact',
           'l': 'content-length', 'c': 'content-type', 'k': 'supported'}


def rnd(n=10):
    return ''.join(random.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(n))


def fail(msg):
    print('FAIL: ' + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def ok(msg):
    print('ok: ' + msg, flush=True)


def env_port():
    return int(os.environ['SIP_PORT'])


def env_addr():
    return os.environ.get('SIP_ADDR', '127.0.0.1')


class Msg:
    """A received SIP message (request or response)."""

    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b'\r\n\r\n')
        lines = head.decode('utf-8', 'replace').split('\r\n')
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (' ', '\t') and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + ' ' + line.strip())
                continue
            n, _, v = line.partition(':')
            self.headers.append((n.strip(), v.strip()))
        self.code, self.reason, self.method = None, '', None
        if self.first.startswith('SIP/2.0 '):
            parts = self.first.split(' ', 2)
            try:
                self.code = int(parts[1])
            except ValueError:
                self.code = -1
            self.reason = parts[2] if len(parts) > 2 else ''
        else:
            self.method = self.first.split(' ', 1)[0]

    def all(self, name):
        name = name.lower()
        out = []
        for n, v in self.headers:
            n = n.lower()
            if COMPACT.get(n, n) == name:
                out.append(v)
        return out

    def get(self, name, default=None):
        v = self.all(name)
        return v[0] if v else default

    def branch(self):
        m = re.search(r'branch=([^;,\s]+)', self.get('via', ''))
        return m.group(1) if m else None

    def text(self):
        return self.raw.decode('utf-8', 'replace')

    def __str__(self):
        return self.text()


def parse_params(s):
    d = {}
    for m in re.finditer(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)', s):
        v = m.group(2)
        if v.startswith('"'):
            v = v[1:-1]
        d[m.group(1).lower()] = v
    return d


def parse_chal(value):
    scheme, _, rest = value.strip().partition(' ')
    d = parse_params(rest)
    d['scheme'] = scheme
    return d


def challenges(resp, hdr='www-authenticate'):
    return [parse_chal(v) for v in resp.all(hdr)]


def digest(algo, user, realm, password, method, uri, nonce, nc, cnonce, qop):
    hname = {'MD5': 'md5', 'SHA-256': 'sha256'}[algo.upper()]

    def h(s):
        return hashlib.new(hname, s.encode()).hexdigest()
    ha1 = h('%s:%s:%s' % (user, realm, password))
    ha2 = h('%s:%s' % (method, uri))
    if qop:
        return h('%s:%s:%s:%s:%s:%s' % (ha1, nonce, nc, cnonce, qop, ha2))
    return h('%s:%s:%s' % (ha1, nonce, ha2))


def authorization(chal, user, password, method, uri, nc=1, cnonce=None,
                  hdr='Authorization'):
    """The header line answering chal (a parse_chal dict)."""
    algo = chal.get('algorithm', 'MD5')
    qops = [q.strip() for q in chal.get('qop', '').split(',') if q.strip()]
    qop = 'auth' if 'auth' in qops else None
    ncs = '%08x' % nc
    cnonce = cnonce or rnd(16)
    resp = digest(algo, user, chal['realm'], password, method, uri,
                  chal['nonce'], ncs, cnonce, qop)
    parts = ['username="%s"' % user, 'realm="%s"' % chal['realm'],
             'nonce="%s"' % chal['nonce'], 'uri="%s"' % uri,
             'response="%s"' % resp, 'algorithm=%s' % algo]
    if qop:
        parts += ['qop=%s' % qop, 'nc=%s' % ncs, 'cnonce="%s"' % cnonce]
    if 'opaque' in chal:
        parts.append('opaque="%s"' % chal['opaque'])
    return '%s: Digest %s' % (hdr, ', '.join(parts))


def pick_chal(resp, algo=None, hdr='www-authenticate'):
    """The challenge for algo, or the first one we support (RFC 8760 8.1)."""
    for c in challenges(resp, hdr):
        a = c.get('algorithm', 'MD5').upper()
        if algo is None and a in ('MD5', 'SHA-256'):
            return c
        if algo is not None and a == algo.upper():
            return c
    return None


def hostport(host, port):
    return '[%s]:%d' % (host, port) if ':' in host else '%s:%d' % (host, port)


class UA:
    """One local socket (UDP) or connection (TCP) talking to the server."""

    def __init__(self, host=None, port=None, transport='udp', lport=0, lhost=None):
        self.host = host or env_addr()
        self.port = port or env_port()
        self.tp = transport.lower()
        self.fam = socket.AF_INET6 if ':' in self.host else socket.AF_INET
        lhost = lhost or ('::1' if self.fam == socket.AF_INET6 else '127.0.0.1')
        typ = socket.SOCK_DGRAM if self.tp == 'udp' else socket.SOCK_STREAM
        self.sock = socket.socket(self.fam, typ)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((lhost, lport))
        if self.tp == 'tcp':
            self.sock.settimeout(5)
            self.sock.connect((self.host, self.port))
        self.lhost, self.lport = self.sock.getsockname()[:2]
        self.buf = b''
        self.callid = rnd(20) + '@e2e'
        self.tag = rnd(10)
        self.cseq = 0
        self.last_sent = None
        self.unmatched = []
        self.closed = False

    @property
    def hostport(self):
        return hostport(self.host, self.port)

    @property
    def lhostport(self):
        return hostport(self.lhost, self.lport)

    def contact_uri(self, user):
        uri = 'sip:%s@%s' % (user, self.lhostport)
        return uri + (';transport=tcp' if self.tp == 'tcp' else '')

    def build(self, method, user='100-tfg', ruri=None, headers=(), body='',
              cseq=None, branch=None, callid=None, tag=None, contact=True,
              expires=None, to_user=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        ruri = ruri or 'sip:%s' % self.hostport
        branch = branch or 'z9hG4bK' + rnd(16)
        lines = ['%s %s SIP/2.0' % (method, ruri),
                 'Via: SIP/2.0/%s %s;branch=%s;rport' % (self.tp.upper(), self.lhostport, branch),
                 'Max-Forwards: 70',
                 'From: <sip:%s@%s>;tag=%s' % (user, self.host if self.fam == socket.AF_INET else '[%s]' % self.host, tag or self.tag),
                 'To: <sip:%s@%s>' % (to_user or user, self.host if self.fam == socket.AF_INET else '[%s]' % self.host),
                 'Call-ID: %s' % (callid or self.callid),
                 'CSeq: %d %s' % (cseq, method)]
        if contact is True:
            lines.append('Contact: <%s>' % self.contact_uri(user))
        elif contact:
            lines.append('Contact: %s' % contact)
        if expires is not None:
            lines.append('Expires: %s' % expires)
        lines += list(headers)
        lines += ['User-Agent: tandem-e2e sipc', 'Content-Length: %d' % len(body.encode())]
        return ('\r\n'.join(lines) + '\r\n\r\n' + body).encode()

    def send(self, data):
        self.last_sent = data
        if self.tp == 'udp':
            self.sock.sendto(data, (self.host, self.port))
        else:
            self.sock.sendall(data)

    def _recv_raw(self, timeout):
        """One message (bytes), None on timeout, b'' when TCP closed."""
        if self.tp == 'udp':
            self.sock.settimeout(max(timeout, 0.001))
            try:
                return self.sock.recvfrom(65535)[0]
            except socket.timeout:
                return None
        end = time.time() + timeout
        while True:
            m = re.search(rb'\r\n\r\n', self.buf)
            if m:
                head = self.buf[:m.end()]
                cl = re.search(rb'(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)', head)
                n = m.end() + (int(cl.group(1)) if cl else 0)
                if len(self.buf) >= n:
                    msg, self.buf = self.buf[:n], self.buf[n:]
                    return msg
            left = end - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            except OSError:
                return b''
            if not chunk:
                return b''
            self.buf += chunk

    def _answer(self, req):
        """Answer OPTIONS (qualify) sent to us with 200."""
        if req.method != 'OPTIONS':
            return
        hs = ['Via', 'From', 'To', 'Call-ID', 'CSeq']
        lines = ['SIP/2.0 200 OK']
        for h in hs:
            for v in req.all(h):
                if h == 'To' and 'tag=' not in v:
                    v += ';tag=' + rnd(8)
                lines.append('%s: %s' % (h, v))
        lines.append('Content-Length: 0')
        data = ('\r\n'.join(lines) + '\r\n\r\n').encode()
        if self.tp == 'udp':
            self.sock.sendto(data, (self.host, self.port))
        else:
            self.sock.sendall(data)

    def recv(self, timeout=2.0):
        """Next response (requests are answered or dropped); None on timeout."""
        end = time.time() + timeout
        while True:
            raw = self._recv_raw(max(end - time.time(), 0))
            if raw == b'':
                self.closed = True
            if raw is None or raw == b'':
                return None
            m = Msg(raw)
            if m.code is None:
                self._answer(m)
                continue
            return m

    def transact(self, data, timeout=4.0, provisional=False):
        """Send a request, return its final response (or None)."""
        br = re.search(rb'branch=([^;,\s]+)', data).group(1).decode()
        self.send(data)
        end = time.time() + timeout
        t1, nxt = 0.5, time.time() + 0.5
        while time.time() < end:
            wait = min(end, nxt) - time.time()
            r = self.recv(max(wait, 0.001))
            if r is None:
                if self.closed:
                    return None
                if self.tp == 'udp' and time.time() >= nxt:
                    self.sock.sendto(data, (self.host, self.port))
                    t1 = min(t1 * 2, 4.0)
                    nxt = time.time() + t1
                continue
            if r.branch() != br:
                self.unmatched.append(r)
                continue
            if r.code >= 200 or provisional:
                return r
            nxt = end  # 1xx: stop retransmitting (timer E/A stops for INVITE-less use)
        return None

    def request(self, method, timeout=4.0, **kw):
        return self.transact(self.build(method, **kw), timeout)

    def register(self, user, password, expires=None, contact=True, algo=None,
                 headers=(), timeout=4.0, ruri=None):
        """REGISTER, answering one 401 with digest. Returns the final
        response; self.challenge, self.auth and self.first hold the
        401, the Authorization line sent and the first response."""
        self.challenge = self.auth = None
        r = self.request('REGISTER', user=user, expires=expires, contact=contact,
                         headers=headers, timeout=timeout, ruri=ruri)
        self.first = r
        if r is None or r.code not in (401, 407):
            return r
        hdr = 'www-authenticate' if r.code == 401 else 'proxy-authenticate'
        chal = pick_chal(r, algo, hdr)
        if chal is None:
            fail('no usable %s challenge (algo %s) in:\n%s' % (hdr, algo, r))
        self.challenge = chal
        self.auth = authorization(chal, user, password, 'REGISTER',
                                  ruri or 'sip:%s' % self.hostport,
                                  hdr='Authorization' if r.code == 401 else 'Proxy-Authorization')
        return self.request('REGISTER', user=user, expires=expires, contact=contact,
                            headers=list(headers) + [self.auth], timeout=timeout, ruri=ruri)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def expect(resp, code, what):
    if resp is None:
        fail('%s: no answer (expected %d)' % (what, code))
    if resp.code != code:
        fail('%s: got %s, expected %d:\n%s' % (what, resp.first, code, resp))
    return resp
PYEOF
}
