#!/bin/bash
# TFTP on all addresses ([tftp] without bindaddr), as a node serves it
# with a floating address: in a network namespace of its own (made and
# removed here) with 127.0.0.1, ::1 and floating-style 10.99.0.100/32 and
# fd00:99::100/128 on lo, each request is answered from the address it was sent to
# (IP_PKTINFO / IPV6_PKTINFO on the dual-stack socket), checked by a raw
# client on the source of every reply, and tftp-hpa fetches byte-exact
# through the floating address and over IPv6. The failover part (the
# address moving to the other node) comes with the cluster work.
. "$(dirname "$0")/lib.sh"
e2e_init
need tftp ip cmp

NS=tandem-tftp-$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace (not root?)"
netns_cleanup() {
	local rc=$?
	[ -n "$TPID" ] && tandem_stop >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	(exit $rc)
	e2e_cleanup
}
trap netns_cleanup EXIT
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up || fail "lo up in $NS"
nsx ip addr add 10.99.0.100/32 dev lo || fail "10.99.0.100 on lo in $NS"
# (an IPv6 address besides ::1 also makes getaddrinfo's AI_ADDRCONFIG,
# which tftp-hpa uses, accept IPv6 here)
nsx ip addr add fd00:99::100/128 dev lo nodad || fail "fd00:99::100 on lo in $NS"
VIP=10.99.0.100 VIP6=fd00:99::100
TFTP_PORT=6969
SIP_PORT=5070

conf_sip_general
conf_tfg_peers
conf_tandem tftp enabled=yes port=$TFTP_PORT
mkdir -p "$DATA/provisioning"
head -c 200000 /dev/urandom > "$DATA/provisioning/fw.bin"

E2E_LOG=$T/tandemd.log
nsx "$TANDEMD" -C "$CONF" -D "$DATA" -f > "$E2E_LOG" 2>&1 &
TPID=$!
wait_until 15 "tandemctl status in $NS" ctl_quiet status
assert_file_match "$E2E_LOG" "tftp: serving .* read-only on udp:\[::\]:$TFTP_PORT" "listening on all addresses"

cat > "$T/src.py" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
for addr in sys.argv[2:]:
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(3)
    # from loopback: without IP_PKTINFO the answer would come from there
    s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0))
    s.sendto(b"\0\1fw.bin\0octet\0blksize\0001024\0", (addr, port))
    p, src = s.recvfrom(2000)
    assert p[:2] == b"\0\6", p[:20]
    s.sendto(b"\0\4\0\0", src)
    p, src2 = s.recvfrom(2000)
    assert p[:4] == b"\0\3\0\1" and src2 == src, (p[:4], src, src2)
    s.sendto(b"\0\5\0\0done\0", src)
    print("%s answered from %s" % (addr, src[0]))
EOF
out=$(nsx timeout -k 2 20 python3 "$T/src.py" "$TFTP_PORT" 127.0.0.1 "$VIP" ::1 "$VIP6") \
	|| fail "raw client in $NS: $out"
for a in 127.0.0.1 "$VIP" ::1 "$VIP6"; do
	grep -qxF "$a answered from $a" <<< "$out" || fail "not answered from $a: $out"
done
ok "answered from the address asked: $(tr '\n' ';' <<< "$out")"

mkdir -p "$T/out"
for a in "$VIP" "$VIP6"; do
	v=-4; case $a in *:*) v=-6 ;; esac   # (a local name with ':' would be host:file)
	o=$(cd "$T/out" && nsx timeout -k 2 30 tftp $v -m binary "$a" "$TFTP_PORT" -c get fw.bin "fw$v" 2>&1)
	[ -z "$o" ] || fail "tftp-hpa from $a: $o"
	cmp "$DATA/provisioning/fw.bin" "$T/out/fw$v" || fail "tftp-hpa from $a: differs"
done
assert_file_match "$E2E_LOG" "tftp: sent 'fw.bin' \(200000 bytes\) to 10\.99\.0\.100:[0-9]+" "log: sent via the floating address"
ok "tftp-hpa fetched fw.bin byte-exact from the floating-style addresses $VIP and $VIP6"
assert_alive "after the transfers"
tandem_stop_checked
if grep -Eq "AddressSanitizer|runtime error|LeakSanitizer" "$E2E_LOG"; then
	fail "sanitizer report in $E2E_LOG"
fi
