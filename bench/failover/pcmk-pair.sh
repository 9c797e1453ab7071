# shellcheck shell=bash
# bench/failover/pcmk-pair.sh: a seed-style Pacemaker pair on one host
# (sourced, not run). The seed (../shared/reference-config/README.md) runs
# Asterisk on two servers under Corosync + Pacemaker: a floating IP
# (ocf:heartbeat:IPaddr2, monitor 30 s), the PBX colocated with it,
# resource-stickiness=INFINITY, stonith-enabled=false,
# no-quorum-policy=ignore. This file builds the same thing with Debian
# 12's corosync 3.1 (knet) and pacemaker 2.1, on this machine:
#
#   namespace  what runs there
#   ${PK}sw    a bridge joining the others (10.77.0.0/24)
#   ${PK}n1    node n1 (10.77.0.1): corosync -f, pacemakerd, the service
#   ${PK}n2    node n2 (10.77.0.2): the same
#   ${PK}cl    the client (10.77.0.10), where the prober runs
#   VIP        10.77.0.100/24 (IPaddr2 on eth0 of the active node)
#
# Two pacemakers on one host collide on /var/lib/pacemaker,
# /var/lib/corosync, /run, /dev/shm (libqb's IPC buffers) and /var/log,
# so each node also gets its own mount namespace, with a tmpfs on /run
# and /dev/shm and the others bind-mounted from its own directory under
# $PK_DIR, and its own UTS
# name (n1, n2), which is what `crm_node -n` and the service report.
# The service is sip_responder.py (answers SIP OPTIONS with `Server:
# NODE`) run by ocf:heartbeat:anything; its monitor (interval 30 s,
# timeout 5 s, as the seed's asterisk resource) probes it with
# `prober.py --once`, as ocf:heartbeat:asterisk asks Asterisk itself.
# Corosync keeps its defaults (token 3000 ms, consensus 3600 ms; with
# PK_TOKEN=MS set, token MS and consensus 1.2 x MS: the seed's CentOS 7
# Corosync 2 had token 1000 ms), two_node: 1, crypto as `pcs cluster
# setup` makes it.
#
# Functions (all bounded in time; they return non-zero on failure):
#   pk_setup DIR        namespaces, configs, both nodes up, resources on
#                       one node and the VIP answering; sets PK_* vars
#   pk_teardown         kill -9 everything in our namespaces (by PID),
#                       delete them; safe to call twice, and from a trap
#   pk_node_start N     start node N's corosync + pacemaker
#   pk_node_die N       node death: its link down and every process of
#                       the node (corosync, pacemaker, service) kill -9'd
#   pk_node_revive N    bring a dead node's link up and start it again
#   pk_in N CMD...      run CMD inside node N (net, mount, UTS namespaces)
#   pk_active           print the node running the service (n1|n2)
#   pk_service_pid N    print the PID of the service on node N
#   pk_wait_settled S   wait until both nodes are online and the
#                       resources run together on one node
#   pk_client CMD...    run CMD in the client namespace
#   pk_cib_begin, pk_cib_vip  the seed's properties and floating address
#                       (for PK_CONFIGURE functions too)
# Other services (tests/cluster/lib_pcmk.sh): PK_CONFIGURE=FUNC
# configures the resources instead of pk_configure; PK_SERVICE (asterisk)
# and PK_SERVICE_ROLE (Started) name the resource pk_where looks for;
# PK_DIR/resource.d, when it exists, replaces /usr/lib/ocf/resource.d in
# the nodes, PK_DIR/sbin is overlaid on /usr/sbin (fence agents), and
# PK_DIR/NODE/data is mounted on PK_DIR/data in NODE. PK_QNETD=1 adds a
# quorum device: corosync-qnetd in ${PK}qn (10.77.0.3), corosync-qdevice
# on both nodes, two_node off (tests/cluster/test_pacemaker_qdevice.sh;
# see "quorum device" below).
# Needs: iproute2, util-linux (unshare, nsenter), corosync, pacemaker,
# pcs, resource-agents, python3 (scripts/install-deps.sh bench); with
# PK_QNETD, corosync-qnetd and corosync-qdevice.

PK_FAILOVER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PK=${PK:-tpk$$}
PK_NET=10.77.0
PK_VIP=$PK_NET.100
PK_TOKEN=${PK_TOKEN:-}
PK_DIR='' PK_UP=0
declare -A PK_PID=() PK_SUB=()

pk_log() { echo "[$(date +%T)] pcmk-pair: $*" >&2; }

# pk_until SECS CMD...: run CMD every 0.2 s until it succeeds; 1 on timeout
pk_until() {
	local end=$(( $(date +%s) + $1 )); shift
	while ! "$@" 2>/dev/null; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

pk_addr() { case $1 in n1) echo "$PK_NET.1" ;; n2) echo "$PK_NET.2" ;; qn) echo "$PK_NET.3" ;; cl) echo "$PK_NET.10" ;; esac; }

# ------------------------------------------------------------ network

pk_net_up() {
	local n
	ip netns add "${PK}sw" || return 1
	ip -n "${PK}sw" link add br0 type bridge || return 1
	ip -n "${PK}sw" link set br0 up
	ip -n "${PK}sw" link set lo up
	for n in n1 n2 cl ${PK_QNETD:+qn}; do
		ip netns add "$PK$n" || return 1
		ip -n "$PK$n" link add eth0 type veth peer name "$n" netns "${PK}sw" || return 1
		ip -n "${PK}sw" link set "$n" master br0
		ip -n "${PK}sw" link set "$n" up
		ip -n "$PK$n" addr add "$(pk_addr $n)/24" dev eth0
		ip -n "$PK$n" link set eth0 up
		ip -n "$PK$n" link set lo up
	done
}

# ------------------------------------------------------------ nodes

pk_write_conf() {
	local n
	mkdir -p "$PK_DIR/etc"
	corosync-keygen -l -k "$PK_DIR/etc/authkey" >/dev/null 2>&1 || return 1
	cat > "$PK_DIR/etc/corosync.conf" <<EOF
# as pcs cluster setup writes it for two nodes (Debian 12, corosync 3.1)
totem {
    version: 2
    cluster_name: seedpair
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    keyfile: $PK_DIR/etc/authkey${PK_TOKEN:+
    token: $PK_TOKEN}
}
nodelist {
    node {
        ring0_addr: $PK_NET.1
        name: n1
        nodeid: 1
    }
    node {
        ring0_addr: $PK_NET.2
        name: n2
        nodeid: 2
    }
}
quorum {
    provider: corosync_votequorum
$(pk_quorum_conf)
}
logging {
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    to_syslog: no
    to_stderr: no
    timestamp: on
}
EOF
	for n in n1 n2; do
		mkdir -p "$PK_DIR/$n"/{lib-pacemaker,lib-corosync,log-pacemaker,log-corosync}
		mkdir -p "$PK_DIR/$n"/lib-pacemaker/{cib,pengine,blackbox,cores}
		# PK_DC_DEADTIME: the CIB the node starts from sets dc-deadtime
		# (Pacemaker waits that long, 20 s by default, for a DC before it
		# elects one when the cluster starts; the tests need not)
		if [ -n "${PK_DC_DEADTIME:-}" ]; then
			cibadmin --empty | sed "s|<crm_config/>|<crm_config><cluster_property_set id=\"cib-bootstrap-options\"><nvpair id=\"cib-bootstrap-options-dc-deadtime\" name=\"dc-deadtime\" value=\"$PK_DC_DEADTIME\"/></cluster_property_set></crm_config>|" \
				> "$PK_DIR/$n/lib-pacemaker/cib/cib.xml" || return 1
			chmod 600 "$PK_DIR/$n/lib-pacemaker/cib/cib.xml"
		fi
		chown -R hacluster:haclient "$PK_DIR/$n/lib-pacemaker" "$PK_DIR/$n/log-pacemaker"
		chmod 750 "$PK_DIR/$n"/lib-pacemaker/*
	done
	# what runs inside a node's own mount and UTS namespace
	cat > "$PK_DIR/node.sh" <<'EOF'
#!/bin/sh
# node.sh DIR NODE CONF: private /run and /dev/shm (tmpfs),
# /var/lib/{pacemaker,corosync} and /var/log/{pacemaker,corosync} (kept in
# DIR/NODE); host name NODE; corosync then pacemakerd.
set -e
echo $$ > "$1/$2.pid"
D=$1/$2
hostname "$2"
# tmpfs as on a real node: a node that dies loses them (libqb leaves its
# 16 MB IPC buffers in /dev/shm when killed)
mount -t tmpfs -o size=64m,mode=755 tmpfs /run
mount -t tmpfs -o size=512m,mode=1777 tmpfs /dev/shm
mount --bind "$D/lib-pacemaker" /var/lib/pacemaker
mount --bind "$D/lib-corosync" /var/lib/corosync
mount --bind "$D/log-pacemaker" /var/log/pacemaker
mount --bind "$D/log-corosync" /var/log/corosync
mkdir -p /run/resource-agents /run/crm
# optional (tests/cluster/test_pacemaker.sh): agents of our own over
# /usr/lib/ocf/resource.d, and a per-node data directory at DIR/data
[ -d "$1/resource.d" ] && mount --bind "$1/resource.d" /usr/lib/ocf/resource.d
[ -d "$1/data" ] && [ -d "$D/data" ] && mount --bind "$D/data" "$1/data"
# optional (tests/cluster/test_pacemaker_fence.sh): DIR/sbin over
# /usr/sbin (an overlay: fence agents of our own next to the system's)
[ -d "$1/sbin" ] && mount -t overlay overlay -o "lowerdir=$1/sbin:/usr/sbin" /usr/sbin
# optional (PK_QNETD=1): the node's own /etc/corosync (its qdevice NSS
# database), corosync-qdevice next to corosync
[ -d "$D/etc-corosync" ] && mount --bind "$D/etc-corosync" /etc/corosync
set +e
corosync -f -c "$3" &
i=0
while ! corosync-cfgtool -s >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -gt 100 ] && exit 1; sleep 0.1
done
if [ -d "$D/etc-corosync" ]; then
	mkdir -p /run/corosync-qdevice
	corosync-qdevice -f > /var/log/corosync/qdevice.out 2>&1 &
fi
PCMK_logfacility=none PCMK_logfile=/var/log/pacemaker/pacemaker.log pacemakerd &
wait
EOF
}

# pk_node_start N: PK_PID[N] is node.sh's PID (nsenter's target), written
# by node.sh itself; the subshell around it keeps bash from reporting
# "Killed" when the node dies
pk_node_start() {
	local n=$1
	rm -f "$PK_DIR/$n.pid"
	( ip netns exec "$PK$n" unshare -m -u --propagation private \
		sh "$PK_DIR/node.sh" "$PK_DIR" "$n" "$PK_DIR/etc/corosync.conf" \
		> "$PK_DIR/$n.out" 2>&1; exit 0 ) 2>/dev/null &
	PK_SUB[$n]=$!
	pk_until 10 test -s "$PK_DIR/$n.pid" || { pk_log "node $n did not start: $(tail -n 3 "$PK_DIR/$n.out")"; return 1; }
	PK_PID[$n]=$(cat "$PK_DIR/$n.pid")
}

# pk_in NODE CMD...: CMD in the node's namespaces (bounded to 60 s)
pk_in() {
	local n=$1; shift
	[ -n "${PK_PID[$n]:-}" ] || return 1
	timeout -k 2 60 nsenter -t "${PK_PID[$n]}" -n -m -u "$@"
}
pk_client() { timeout -k 2 "${PK_CLIENT_TIMEOUT:-600}" ip netns exec "${PK}cl" "$@"; }

# every PID in namespace NS (ours: the namespace is this script's)
pk_ns_pids() { ip netns pids "$1" 2>/dev/null; }

# pk_kill_all "PID...": kill -9 them, wait (bounded) until they are gone
pk_kill_all() {
	local p i left
	[ -n "$1" ] || return 0
	# shellcheck disable=SC2086
	kill -KILL $1 2>/dev/null
	for i in $(seq 1 100); do
		left=""
		for p in $1; do [ -e "/proc/$p" ] && left="$left $p"; done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	pk_log "processes still there after kill -9:$left"
	return 1
}

pk_node_die() {
	local n=$1
	ip -n "$PK$n" link set eth0 down
	pk_kill_all "$(pk_ns_pids "$PK$n")"
	wait "${PK_SUB[$n]}" 2>/dev/null
	PK_PID[$n]='' PK_SUB[$n]=''
}

pk_node_revive() {
	local n=$1
	ip -n "$PK$n" addr flush dev eth0
	ip -n "$PK$n" addr add "$(pk_addr "$n")/24" dev eth0
	ip -n "$PK$n" link set eth0 up
	pk_node_start "$n"
}

# ------------------------------------------------------------ state

# pk_mon NODE: crm_mon's XML on NODE
pk_mon() { pk_in "$1" crm_mon -1 --output-as=xml 2>/dev/null; }

# pk_where NODE: "ONLINE_COUNT VIP_NODE SERVICE_NODE" as NODE sees it
pk_where() {
	pk_mon "$1" | python3 -c '
import sys, xml.etree.ElementTree as E
ROLE = {"Promoted": ("Promoted", "Master")}.get(sys.argv[2], (sys.argv[2],))
try:
    r = E.fromstring(sys.stdin.read())
except Exception:
    sys.exit(1)
on = sum(1 for n in r.iter("node") if n.get("online") == "true" and n.get("name"))
loc = {}
for res in r.iter("resource"):
    if res.get("role") in (ROLE if res.get("id") == sys.argv[1] else ("Started",)) and res.get("active") == "true" and res.get("failed") != "true":
        nodes = [x.get("name") for x in res.iter("node")]
        if nodes:
            loc[res.get("id")] = nodes[0]
print(on, loc.get("VirtualIP", "-"), loc.get(sys.argv[1], "-"))' "${PK_SERVICE:-asterisk}" "${PK_SERVICE_ROLE:-Started}"
}

pk_active() { pk_until 30 pk_active1; }
pk_active1() {
	local n w
	for n in n1 n2; do
		[ -n "${PK_PID[$n]:-}" ] || continue
		w=$(pk_where "$n") || continue
		set -- $w
		[ "$3" != - ] && { echo "$3"; return 0; }
	done
	return 1
}

pk_settled() {
	local n w
	for n in n1 n2; do
		[ -n "${PK_PID[$n]:-}" ] || return 1
		w=$(pk_where "$n") || return 1
		set -- $w
		[ "$1" = 2 ] && [ "$2" != - ] && [ "$2" = "$3" ] || return 1
	done
	pk_client python3 "$PK_FAILOVER_DIR/prober.py" --once --target "$PK_VIP:5060" --timeout 1
}
# settled twice, 2 s apart (a rejoining node's probes come after it is online)
pk_wait_settled() {
	local i
	for i in 1 2 3 4 5; do
		pk_until "${1:-120}" pk_settled || return 1
		sleep 2
		pk_settled && return 0
	done
	return 1
}

pk_service_pid() {
	pk_in "$1" sh -c 'cat /run/anything_asterisk.pid' 2>/dev/null
}

# ------------------------------------------------------------ resources

# pk_cib_begin NODE FILE [NO_QUORUM_POLICY]: the seed's cluster properties
# (no STONITH, stickiness INFINITY; no-quorum-policy when given), then the
# CIB copied to FILE on NODE for `pcs -f FILE`; pk_cib_vip NODE FILE
# INTERVAL adds the floating address (IPaddr2) there; `pcs cluster
# cib-push FILE` ends it. Shared with tests/cluster/lib_pcmk.sh.
pk_cib_begin() {
	pk_in "$1" pcs property set stonith-enabled=false || return 1
	if [ -n "${3:-}" ]; then pk_in "$1" pcs property set no-quorum-policy="$3" || return 1; fi
	pk_in "$1" pcs resource defaults update resource-stickiness=INFINITY >/dev/null || return 1
	pk_in "$1" pcs cluster cib "$2"
}
pk_cib_vip() {
	pk_in "$1" pcs -f "$2" resource create VirtualIP ocf:heartbeat:IPaddr2 \
		ip="$PK_VIP" cidr_netmask=24 nic=eth0 op monitor interval="$3"
}

# The seed's commands (section 6.1.3), with ocf:heartbeat:anything
# running the responder where the seed has ocf:heartbeat:asterisk, and
# no DRBD/Filesystem (nothing to replicate for an OPTIONS responder).
pk_configure() {
	local n=$1 f=/run/pk-cib.xml
	local hook="python3 $PK_FAILOVER_DIR/prober.py --once --target 127.0.0.1:5060 --timeout 2"
	pk_cib_begin "$n" "$f" ignore || return 1
	pk_cib_vip "$n" "$f" 30s || return 1
	pk_in "$n" pcs -f "$f" resource create asterisk ocf:heartbeat:anything \
		binfile=/usr/bin/python3 \
		cmdline_options="$PK_FAILOVER_DIR/sip_responder.py - 5060" \
		monitor_hook="$hook" \
		op monitor interval=30s timeout=5s || return 1
	pk_in "$n" pcs -f "$f" constraint colocation add asterisk with VirtualIP score=INFINITY || return 1
	pk_in "$n" pcs -f "$f" constraint order VirtualIP "then" asterisk >/dev/null || return 1
	pk_in "$n" pcs cluster cib-push "$f" || return 1
}

# ------------------------------------------------------------ quorum device

# PK_QNETD=1: a third namespace ${PK}qn (10.77.0.3) runs corosync-qnetd,
# both nodes run corosync-qdevice (model net, algorithm ffsplit, TLS with
# the NSS databases made as corosync-qdevice-net-certutil's usage says),
# and two_node is off: a node has quorum with two votes of three.
# Every /etc/corosync is the namespace's own (PK_DIR/{qn,n1,n2}/etc-corosync
# bind-mounted): the host's is not touched.
PK_QNETD=${PK_QNETD:-}
pk_quorum_conf() {
	if [ -z "$PK_QNETD" ]; then
		echo "    two_node: 1"
		return
	fi
	printf '    device {\n        model: net\n        votes: 1\n        net {\n'
	printf '            host: %s\n            algorithm: ffsplit\n            tls: on\n' "$PK_NET.3"
	printf '        }\n    }\n'
}
# pk_etc WHO CMD...: CMD in a mount namespace of its own where
# PK_DIR/WHO/etc-corosync is /etc/corosync (and /run a tmpfs)
pk_etc() {
	local who=$1; shift
	timeout -k 2 60 unshare -m --propagation private sh -c '
		mount --bind "$0" /etc/corosync && mount -t tmpfs tmpfs /run && exec "$@"' \
		"$PK_DIR/$who/etc-corosync" "$@"
}
pk_qnetd_setup() {
	local n c=seedpair
	for n in qn n1 n2; do mkdir -p "$PK_DIR/$n/etc-corosync" || return 1; done
	# the qnetd CA and server certificate; the CA to the nodes
	pk_etc qn corosync-qnetd-certutil -i || return 1
	cp "$PK_DIR/qn/etc-corosync/qnetd/nssdb/qnetd-cacert.crt" "$PK_DIR/" || return 1
	# n1: its database, a certificate request, signed by qnetd, imported
	pk_etc n1 corosync-qdevice-net-certutil -i -c "$PK_DIR/qnetd-cacert.crt" || return 1
	pk_etc n1 corosync-qdevice-net-certutil -r -n "$c" || return 1
	cp "$PK_DIR/n1/etc-corosync/qdevice/net/nssdb/qdevice-net-node.crq" "$PK_DIR/" || return 1
	pk_etc qn sh -c 'cd "$0" && corosync-qnetd-certutil -s -c qdevice-net-node.crq -n "$1"' "$PK_DIR" "$c" || return 1
	cp "$PK_DIR/qn/etc-corosync/qnetd/nssdb/cluster-$c.crt" "$PK_DIR/" || return 1
	pk_etc n1 corosync-qdevice-net-certutil -M -c "$PK_DIR/cluster-$c.crt" || return 1
	cp "$PK_DIR/n1/etc-corosync/qdevice/net/nssdb/qdevice-net-node.p12" "$PK_DIR/" || return 1
	# n2: the same CA, the cluster certificate and key from n1
	pk_etc n2 corosync-qdevice-net-certutil -i -c "$PK_DIR/qnetd-cacert.crt" || return 1
	pk_etc n2 corosync-qdevice-net-certutil -m -c "$PK_DIR/qdevice-net-node.p12" || return 1
	# qnetd itself, in its namespace (foreground, as root)
	( ip netns exec "${PK}qn" unshare -m --propagation private sh -c '
		mount --bind "$0" /etc/corosync && mount -t tmpfs tmpfs /run &&
		mkdir -p /run/corosync-qnetd && exec corosync-qnetd -f' \
		"$PK_DIR/qn/etc-corosync" > "$PK_DIR/qnetd.out" 2>&1; exit 0 ) 2>/dev/null &
	PK_SUB[qn]=$!
	pk_until 10 pk_qnetd_listens || { echo "corosync-qnetd does not listen: $(tail -n 3 "$PK_DIR/qnetd.out")"; return 1; }
}
pk_qnetd_listens() { ip netns exec "${PK}qn" ss -Htln 'sport = :5403' | grep -q .; }

# ------------------------------------------------------------ setup

pk_setup() {
	PK_DIR=$1
	mkdir -p "$PK_DIR" || return 1
	PK_UP=1
	pk_log "namespaces ${PK}{sw,n1,n2,cl${PK_QNETD:+,qn}}, files in $PK_DIR"
	pk_net_up || { pk_log "network setup failed"; return 1; }
	pk_write_conf || { pk_log "corosync-keygen failed"; return 1; }
	if [ -n "$PK_QNETD" ]; then
		pk_qnetd_setup > "$PK_DIR/qnetd-setup.out" 2>&1 ||
			{ pk_log "qnetd setup failed: $(tail -n 3 "$PK_DIR/qnetd-setup.out")"; return 1; }
	fi
	pk_node_start n1 && pk_node_start n2 || return 1
	pk_until 60 pk_two_online || { pk_log "the two nodes did not join (see $PK_DIR/n?/log-*)"; return 1; }
	"${PK_CONFIGURE:-pk_configure}" n1 > "$PK_DIR/pcs.out" 2>&1 || { pk_log "pcs failed: $(tail -n 3 "$PK_DIR/pcs.out")"; return 1; }
	pk_wait_settled 120 || { pk_log "resources did not start"; return 1; }
	pk_log "pair up: service on $(pk_active), VIP $PK_VIP answers"
}
pk_two_online() { local w; w=$(pk_where n1) && [ "${w%% *}" = 2 ]; }

pk_teardown() {
	[ "$PK_UP" = 1 ] || return 0
	local ns pids="" i
	for ns in n1 n2 cl qn sw; do pids="$pids $(pk_ns_pids "$PK$ns")"; done
	pk_kill_all "$(echo $pids)"
	for i in "${PK_SUB[@]}"; do [ -n "$i" ] && wait "$i" 2>/dev/null; done
	for ns in n1 n2 cl qn sw; do ip netns del "$PK$ns" 2>/dev/null; done
	PK_UP=0
	pk_log "namespaces removed"
}
