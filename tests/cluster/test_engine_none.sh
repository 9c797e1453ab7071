#!/bin/bash
# engine = none (docs/design/cluster.md 8.3, test 14): no keepalived; only
# tandemctl moves roles and tandemd adds/removes the floating address itself
# (rtnetlink + gratuitous ARP). Namespaces as in lib_netns.sh, prober in tc.
#  - both nodes start cold (STARTING or SYNCING: neither serves), nobody
#    holds the VIP, nobody answers;
#  - takeover without --force is refused; takeover --force on a: a holds
#    the VIP, is ACTIVE, the VIP answers from a;
#  - cluster standby on a: the VIP leaves a, a is STANDBY; takeover --force
#    on b: the VIP answers from b (the client's ARP entry followed the
#    gratuitous ARP), never both nodes in one probe cycle;
#  - an OPTIONS sent to the VIP is answered from the VIP (IP_PKTINFO: the
#    socket is bound to 0.0.0.0), its Server header naming the node;
#  - a phone (p1, qualify=yes) registered on a: once b serves, b's qualify
#    OPTIONS to it (a replicated binding) leave from the VIP too;
#  - phone provisioning: a file put into a's DATADIR/provisioning while a
#    is active is fetched with tftp-hpa from the VIP, reaches b by
#    replication, and is fetched from the VIP again once b serves.
. "$(dirname "$0")/lib_netns.sh"
export NN_ENGINE=none

nn_require
nn_net
nn_conf a
nn_conf b
command -v tftp > /dev/null || nn_fail "no tftp client (tftp-hpa: scripts/install-deps.sh test)"
for n in a b; do
	printf '\n[p1]\ntype=friend\nhost=dynamic\ncontext=default\nqualify=yes\n' >> "$T/c$n/sip.conf"
	printf '\n[tftp]\nenabled = yes\n' >> "$T/c$n/tandem.conf"
done
# tftp_get OUT: fetch the phone's file from the VIP, as a phone would
PROV=yealink/y000000000044.cfg
tftp_get() {
	rm -f "$1"
	(cd "$T" && ip netns exec "$NS_C" timeout 10 tftp -m binary "$VIP" -c get "$PROV" "$1") \
		> "$T/tftp.out" 2>&1
	cmp -s "$1" "$T/prov.cfg"
}
# phone register|listen: p1 at 10.0.0.10:5072 (no secret: no challenge);
# register: REGISTER to the VIP, prints the status; listen: prints the
# source address of the first OPTIONS within 4 s ("none" otherwise)
phone() {
	ip netns exec "$NS_C" python3 - "$1" "$VIP" <<'EOF'
import socket, sys, time
mode, vip = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.10", 5072))
if mode == "register":
    s.settimeout(2)
    s.sendto(("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:5072;branch=z9hG4bK-r1\r\n"
              "Max-Forwards: 70\r\nFrom: <sip:p1@%s>;tag=1\r\nTo: <sip:p1@%s>\r\n"
              "Call-ID: reg-p1\r\nCSeq: 1 REGISTER\r\nContact: <sip:p1@10.0.0.10:5072>\r\n"
              "Expires: 600\r\nContent-Length: 0\r\n\r\n" % (vip, vip, vip)).encode(), (vip, 5060))
    try:
        while True:
            d, _ = s.recvfrom(65535)
            t = d.decode("latin-1")
            if t.startswith("SIP/2.0 ") and "REGISTER" in t.split("CSeq:", 1)[-1][:30]:
                print(t.split(" ")[1])
                break
    except socket.timeout:
        print("none")
    sys.exit(0)
end = time.time() + 4
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        d, src = s.recvfrom(65535)
    except socket.timeout:
        break
    if d.startswith(b"OPTIONS "):
        print(src[0])
        sys.exit(0)
print("none")
EOF
}
nn_start a
nn_start b
nn_cold() { case $(nn_state "$1") in STARTING|SYNCING|STANDBY) return 0 ;; esac; return 1; }
nn_wait 10 "a up, not serving" nn_cold a
nn_wait 10 "b up, not serving" nn_cold b
sleep 1
nn_cold a && nn_cold b || nn_fail "a node serves without takeover"
nn_has_vip a || nn_has_vip b && nn_fail "a node holds the VIP at start"
nn_prober_start 300
sleep 1
[ "$(wc -l < "$T/probe.log")" = 0 ] || nn_fail "a standby answered: $(head -2 "$T/probe.log")"
nn_note "ok: both cold ($(nn_state a), $(nn_state b)), no VIP, nobody answers"

nn_ctl a cluster takeover 2> "$T/ctl.err" && nn_fail "takeover without --force accepted"
grep -q -- '--force' "$T/ctl.err" || nn_fail "takeover refusal: $(cat "$T/ctl.err")"
c=$(now_ns)
nn_ctl a cluster takeover --force > "$T/ctl.out" 2>&1 || nn_fail "takeover --force: $(cat "$T/ctl.out")"
nn_has_vip a || nn_fail "a has no VIP after takeover --force"
nn_is a ACTIVE || nn_fail "a is $(nn_state a) after takeover --force"
nn_wait 5 "the VIP answers from a" nn_vip_back "$c" "${NN_IP[a]}"
nn_note "ok: takeover --force on a: ACTIVE, VIP added, answering after $(nn_outage "$c" "${NN_IP[a]}") ms"
# one OPTIONS to the VIP from a fresh socket: "SOURCE_ADDRESS SERVER_HEADER"
vip_reply() {
	ip netns exec "$NS_C" python3 - "$VIP" <<'EOF'
import socket, sys
vip = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.10", 0))
s.settimeout(2)
p = s.getsockname()[1]
s.sendto(("OPTIONS sip:probe@%s SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.10:%d;branch=z9hG4bK-src%d\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:t@10.0.0.10>;tag=1\r\nTo: <sip:probe@%s>\r\n"
          "Call-ID: src-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (vip, p, p, vip, p)).encode(),
         (vip, 5060))
try:
    data, src = s.recvfrom(65535)
except socket.timeout:
    print("none -")
    sys.exit(0)
srv = [l for l in data.decode("latin-1").split("\r\n") if l.lower().startswith("server:")]
print(src[0], srv[0] if srv else "-")
EOF
}
r=$(vip_reply)
case $r in
"$VIP Server: Tandem/"*"(node a)") nn_note "ok: the VIP answers from $VIP: $r" ;;
*) nn_fail "an OPTIONS to $VIP: answer from/Server '$r' (want $VIP and (node a))" ;;
esac

[ "$(phone register)" = 200 ] || nn_fail "p1 could not register on a"
head -c 3000 /dev/urandom | base64 > "$T/prov.cfg"
mkdir -p "$T/da/provisioning/yealink"
cp "$T/prov.cfg" "$T/da/provisioning/$PROV"
tftp_get "$T/got-a.cfg" || nn_fail "tftp from the VIP (a active): $(cat "$T/tftp.out")"
nn_wait 10 "the provisioning file replicated to b" cmp -s "$T/db/provisioning/$PROV" "$T/prov.cfg"
nn_note "ok: tftp get $PROV from $VIP while a serves; the file is on b too"
nn_ctl a cluster standby > "$T/ctl.out" 2>&1 || nn_fail "standby on a: $(cat "$T/ctl.out")"
nn_has_vip a && nn_fail "a still holds the VIP after cluster standby"
nn_wait 5 "a STANDBY" nn_is a STANDBY
phone listen > "$T/qualify.src" &
PH=$!
sleep 0.3
c=$(now_ns)
nn_ctl b cluster takeover --force > "$T/ctl.out" 2>&1 || nn_fail "takeover on b: $(cat "$T/ctl.out")"
nn_wait 5 "b ACTIVE" nn_is b ACTIVE
nn_wait 5 "the VIP answers from b (gratuitous ARP)" nn_vip_back "$c" "${NN_IP[b]}"
nn_note "ok: standby on a, takeover --force on b: answering after $(nn_outage "$c" "${NN_IP[b]}") ms"
wait "$PH"
[ "$(cat "$T/qualify.src")" = "$VIP" ] ||
	nn_fail "b's qualify OPTIONS to p1 came from '$(cat "$T/qualify.src")', not $VIP"
nn_note "ok: b's qualify OPTIONS to p1 (a binding replicated from a) left from $VIP"
tftp_get "$T/got-b.cfg" || nn_fail "tftp from the VIP (b active): $(cat "$T/tftp.out")"
# the server logs once the client's last ACK is in: the client may be gone
tftp_logged() { grep -q "tftp: sent '$PROV'" "$T/b.log"; }
nn_wait 3 "b's log shows the transfer" tftp_logged
nn_note "ok: tftp get $PROV from $VIP after the failover: served by b, byte-identical"
sleep 0.5
nn_prober_stop
read -r nb first < <(nn_both)
[ "$nb" = 0 ] || nn_fail "both nodes answered in $nb probe cycles (first: $first)"
n=$(awk -v s="${NN_IP[a]}" -v t="$c" '$4 == s && $1 > t' "$T/probe.log" | wc -l)
[ "$n" = 0 ] || nn_fail "a answered $n probes after standing by"
grep -q "role ACTIVE -> DEMOTING" "$T/a.log" || nn_fail "no DEMOTING line in a.log"
exit 0
