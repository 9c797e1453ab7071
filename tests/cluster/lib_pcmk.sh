# shellcheck shell=bash
# lib_pcmk.sh: what test_pacemaker.sh, test_pacemaker_fence.sh and
# test_pacemaker_qdevice.sh share (sourced). The pair is the one of
# bench/failover/pcmk-pair.sh (Debian 12 Corosync + Pacemaker, two nodes in
# network + mount + UTS namespaces), with tandemd on each as the
# promotable clone ocf:tandem:tandemd (engine = pacemaker) and IPaddr2
# colocated with the promoted instance, set up with the commands of
# docs/pacemaker.md (the test's short intervals).
#
#   tp_init TOOL...     root, the tools (the common ones and TOOL...), the
#                       resource agents and the build, or exit 77; the
#                       work dir W (the pair's files in D=W/pair), the
#                       cleanup trap (teardown; W removed on success)
#   tp_files            the nodes' files: our agent over resource.d, one
#                       DATADIR per node, CONFDIR C (users TP_USERS, a
#                       cluster key, engine = pacemaker)
#   tp_configure NODE   the resources (PK_CONFIGURE); TP_NOQUORUM, when set,
#                       is no-quorum-policy; TP_META, extra clone meta
#                       attributes (e.g. migration-threshold=1)
#   tp_fail MSG         FAIL, crm_mon on each node up, then tp_fail_extra
#                       (a test may define it), exit 1
#   tp_unpromoted_on N  N's view: exactly one unpromoted tandem instance
#   tp_promoted_on N    N sees itself running the promoted instance
#   tp_regs_on N        the peers registered on N (tandemctl), sorted
#   tp_register USER    SIPp in the client namespace registers USER
#                       (secret tf2020) at the floating address
#   tp_call USER        SIPp calls extension 2 (Answer, Wait(1), Hangup) as
#                       USER at the floating address; the call completes
#   tp_cdrs_on N        the call records on N: "src:uniqueid" sorted
set -u
set -o pipefail
TP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TANDEM_SRC=${TANDEM_SRC:-$(cd "$TP_DIR/../.." && pwd)}
TANDEM_BUILD=${TANDEM_BUILD:-$TANDEM_SRC/build}
TANDEMD=$(realpath "${TANDEMD:-$TANDEM_BUILD/tandemd}" 2>/dev/null)
TANDEMCTL=$(realpath "${TANDEMCTL:-$TANDEM_BUILD/tandemctl}" 2>/dev/null)
SIPP_DIR=$TANDEM_SRC/tests/e2e/sipp
TP_NAME=${TP_NAME:-$(basename "${0%.sh}")}
TP_USERS=${TP_USERS:-100}
TP_KEEP=${TP_KEEP:-0}

# shellcheck source=../../bench/failover/pacemaker.sh
. "$TANDEM_SRC/bench/failover/pacemaker.sh"
# shellcheck disable=SC2034  # read by pcmk-pair.sh and pacemaker.sh
PK_SERVICE=tandem PK_SERVICE_ROLE=Promoted PK_CONFIGURE=tp_configure PK_DC_DEADTIME=2s

note() { echo "[$(date +%T.%3N)] $TP_NAME: $*"; }
skip() { echo "$TP_NAME: SKIP: $*"; exit 77; }

tp_init() {
	local t
	[ "$(id -u)" = 0 ] || skip "needs root (network and mount namespaces)"
	for t in ip nsenter unshare corosync pacemakerd pcs crm_mon crm_resource sipp python3 "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			skip "needs $t (Debian: pacemaker corosync pcs resource-agents sip-tester iproute2; see scripts/install-deps.sh test)"
	done
	[ -r /usr/lib/ocf/resource.d/heartbeat/IPaddr2 ] || skip "needs resource-agents (IPaddr2)"
	[ -x "$TANDEMD" ] && [ -x "$TANDEMCTL" ] || skip "no tandemd/tandemctl in $TANDEM_BUILD"
	W=$(mktemp -d "/tmp/$TP_NAME.XXXXXX") || exit 1
	# shellcheck disable=SC2034
	PCMK_OUT=$W
	D=$W/pair
	C=$W/conf
	trap tp_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}
tp_cleanup() {
	local rc=$?
	# a prober still running (a failure in the middle of a move)
	[ -n "${PCMK_PROBER:-}" ] && pcmk_probe_stop "$PCMK_PROBE_OUT" 2>/dev/null
	pk_teardown
	if [ $rc = 0 ] && [ "$TP_KEEP" = 0 ]; then rm -rf "$W"; else note "files kept in $W"; fi
	exit $rc
}

tp_fail() {
	echo "[$(date +%T.%3N)] $TP_NAME: FAIL: $*" >&2
	local n
	for n in n1 n2; do
		[ -n "${PK_PID[$n]:-}" ] || continue
		echo "---- crm_mon on $n" >&2; pk_in "$n" crm_mon -1 2>&1 | tail -n 25 >&2
	done
	declare -F tp_fail_extra >/dev/null && tp_fail_extra
	exit 1
}

tp_files() {
	local u
	mkdir -p "$D/resource.d/tandem" "$D/data" "$D/n1/data" "$D/n2/data" "$C"
	cp -a /usr/lib/ocf/resource.d/. "$D/resource.d/"
	install -m 755 "$TANDEM_SRC/packaging/ocf/tandemd" "$D/resource.d/tandem/tandemd"
	printf '[general]\nudpbindaddr=0.0.0.0:5060\n\n' > "$C/sip.conf"
	for u in $TP_USERS; do
		printf '[%s-tfg]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\n\n' "$u" >> "$C/sip.conf"
	done
	printf '[default]\nexten => 1,1,Hangup()\nexten => 2,1,Answer()\n same => n,Wait(1)\n same => n,Hangup()\n' \
		> "$C/extensions.conf"
	openssl rand -hex 32 > "$C/cluster.key" && chmod 600 "$C/cluster.key"
	printf '[cluster]\nname = tp\nnode = n1,%s\nnode = n2,%s\nkeyfile = cluster.key\nengine = pacemaker\n' \
		"$PK_NET.1" "$PK_NET.2" > "$C/tandem.conf"
	# a daemonized tandemd's stderr is /dev/null: sanitizer reports to files
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$W/sanitizer
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$W/sanitizer
}
tp_no_sanitizer_reports() {
	ls "$W"/sanitizer* >/dev/null 2>&1 && tp_fail "sanitizer reports: $(head -n 20 "$W"/sanitizer*)"
	return 0
}

# the commands of docs/pacemaker.md, with the test's short intervals
tp_configure() {
	local n=$1 f=/run/tp-cib.xml
	pk_cib_begin "$n" "$f" "${TP_NOQUORUM:-}" || return 1
	# shellcheck disable=SC2086  # TP_META: attributes, one word each
	pk_in "$n" pcs -f "$f" resource create tandem ocf:tandem:tandemd \
		confdir="$C" datadir="$D/data" binary="$TANDEMD" \
		op monitor interval=1s role=Promoted timeout=10s \
		op monitor interval=2s role=Unpromoted timeout=10s \
		op start timeout=30s op stop timeout=10s op promote timeout=30s op demote timeout=30s \
		${TP_META:+meta $TP_META} \
		promotable promoted-max=1 promoted-node-max=1 clone-max=2 clone-node-max=1 notify=true ||
		return 1
	pk_cib_vip "$n" "$f" 5s || return 1
	pk_in "$n" pcs -f "$f" constraint colocation add VirtualIP with Promoted tandem-clone INFINITY || return 1
	pk_in "$n" pcs -f "$f" constraint order promote tandem-clone "then" start VirtualIP >/dev/null || return 1
	pk_in "$n" pcs cluster cib-push "$f"
}

tp_unpromoted_on() {
	pk_mon "$1" | python3 -c '
import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read())
n = sum(1 for res in r.iter("resource") if res.get("id") == "tandem" and
        res.get("role") in ("Unpromoted", "Slave") and res.get("failed") != "true")
sys.exit(0 if n == 1 else 1)'
}
tp_promoted_on() { local w; w=$(pk_where "$1") && set -- $w "$1" && [ "$3" = "$4" ]; }

tp_regs_on() {
	pk_in "$1" "$TANDEMCTL" -D "$D/data" registrations --json | python3 -c '
import json, sys
print(" ".join(sorted(set(r["peer"] for r in json.load(sys.stdin)["registrations"]))))'
}
tp_register() {
	local u=$1
	printf 'SEQUENTIAL\n%s;tf2020\n' "$u" > "$W/$u.csv"
	( cd "$W" && PK_CLIENT_TIMEOUT=40 pk_client sipp -nostdin -trace_err -error_file "$W/sipp.$u.err" \
		-sf "$SIPP_DIR/register_auth.xml" -inf "$W/$u.csv" -i "$PK_NET.10" -p 5070 \
		-m 1 -r 1 -timeout 20 "$PK_VIP:5060" ) > "$W/sipp.$u.out" 2>&1 ||
		tp_fail "SIPp REGISTER of $u to $PK_VIP: $(tail -n 5 "$W/sipp.$u.err" 2>/dev/null)"
}
tp_call() {
	local u=$1
	printf 'SEQUENTIAL\n%s;tf2020\n' "$u" > "$W/$u.call.csv"
	( cd "$W" && PK_CLIENT_TIMEOUT=40 pk_client sipp -nostdin -trace_err -error_file "$W/sipp.call.$u.err" \
		-sf "$SIPP_DIR/call_uac_auth.xml" -inf "$W/$u.call.csv" -i "$PK_NET.10" -p 5072 \
		-s 2 -d 200 -m 1 -r 1 -timeout 20 "$PK_VIP:5060" ) > "$W/sipp.call.$u.out" 2>&1 ||
		tp_fail "SIPp call from $u to $PK_VIP: $(tail -n 5 "$W/sipp.call.$u.err" 2>/dev/null)"
}
tp_cdrs_on() {
	pk_in "$1" "$TANDEMCTL" -D "$D/data" cdr --last 1000 --json | python3 -c '
import json, sys
print(" ".join(sorted("%s:%s" % (r["src"], r["uniqueid"]) for r in json.load(sys.stdin)["cdr"])))'
}
