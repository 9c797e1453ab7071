#!/bin/bash
# The provisioning TFTP server (tandem.conf [tftp]) with real clients:
#
#  - tftp-hpa fetches files byte-exact in octet (plain, leading '/', a
#    subdirectory, a size that is a multiple of 512) and netascii;
#  - atftp negotiates blksize 1428, tsize (the OACK carries the exact size)
#    and windowsize 4, byte-exact;
#  - a raw client (python) checks what the clients cannot: block numbers
#    wrapping past 65535 (blksize 8, windowsize 32), retransmission of an
#    unacknowledged block with the timeout option and the give-up after six
#    sends, max_transfers, and malformed requests answered with ERROR 4
#    saying what is wrong;
#  - refused and logged: "../" and a symlink out of the directory (ERROR 2,
#    security log), a write request (ERROR 2, nothing written), a missing
#    file (ERROR 1);
#  - a reload with another port serves there at once;
#  - the daemon keeps serving after all of it and stops on SIGTERM.
# Loopback only (bindaddr = 127.0.0.1).
. "$(dirname "$0")/lib.sh"
e2e_init
need tftp atftp cmp

TFTP_PORT=$(free_port)
conf_sip_general
conf_tfg_peers
conf_tandem log level=info
conf_tandem tftp enabled=yes bindaddr=127.0.0.1 port="$TFTP_PORT" max_transfers=3
P=$DATA/provisioning
mkdir -p "$P/polycom" "$T/out"
head -c 300000 /dev/urandom > "$P/fw.bin"
head -c 600001 /dev/urandom > "$P/big.bin"
head -c 1024 /dev/urandom > "$P/polycom/000000000000.cfg"
printf '[phone]\r\nline1=100-tfg\nproxy=10.0.0.100\rend\n' > "$P/SEP001122334455.cnf"
echo "secret=outside" > "$DATA/outside.txt"
ln -s /etc/passwd "$P/passwd-link"
ln -s ../outside.txt "$P/up-link"
tandem_start

# tftp_get MODE REMOTE LOCAL: tftp-hpa (its exit status is 0 even on an
# error: the message is what tells)
tftp_get() {
	(cd "$T/out" && timeout -k 2 30 tftp -m "$1" 127.0.0.1 "$TFTP_PORT" -c get "$2" "$3") 2>&1
}

# ---------------------------------------------------------- tftp-hpa
out=$(tftp_get binary fw.bin fw.bin)
[ -z "$out" ] || fail "tftp-hpa get fw.bin printed: $out"
cmp "$P/fw.bin" "$T/out/fw.bin" || fail "tftp-hpa: fw.bin differs"
ok "tftp-hpa fetched fw.bin (300000 bytes) byte-exact"
tftp_get binary /polycom/000000000000.cfg p.cfg >/dev/null
cmp "$P/polycom/000000000000.cfg" "$T/out/p.cfg" || fail "tftp-hpa: /polycom/... differs"
ok "tftp-hpa fetched /polycom/000000000000.cfg (1024 bytes: a last empty block)"
tftp_get ascii SEP001122334455.cnf sep.cnf >/dev/null
cmp "$P/SEP001122334455.cnf" "$T/out/sep.cnf" || fail "tftp-hpa netascii: the file came back different"
ok "tftp-hpa fetched a file in netascii (CR, LF, CR LF) and got it back exact"

# ------------------------------------------------------------- atftp
(cd "$T/out" && timeout -k 2 30 atftp --trace --option "blksize 1428" --option tsize \
	--option "windowsize 4" -g -r fw.bin -l fw2.bin 127.0.0.1 "$TFTP_PORT") > "$T/atftp.out" 2>&1 \
	|| fail "atftp exit $?: $(cat "$T/atftp.out")"
cmp "$P/fw.bin" "$T/out/fw2.bin" || fail "atftp: fw.bin differs"
assert_file_match "$T/atftp.out" 'received OACK <.*tsize: 300000' "atftp: OACK with tsize"
assert_file_match "$T/atftp.out" 'received OACK <.*blksize: 1428' "atftp: OACK with blksize"
assert_file_match "$T/atftp.out" 'received OACK <.*windowsize: 4' "atftp: OACK with windowsize"
assert_file_match "$T/atftp.out" 'DATA <block: 210, size 1428>' "atftp: blocks of 1428"
assert_file_match "$T/atftp.out" 'DATA <block: 211, size 120>' "atftp: the last block"
assert_file_match "$T/atftp.out" 'sent ACK <block: 4>' "atftp: one ACK per window of 4"
ok "atftp: OACK blksize 1428, tsize 300000, windowsize 4; byte-exact"

# ------------------------------------------------------ refused ones
out=$(tftp_get binary ../tandem.conf x)
assert_match "$out" 'Error code 2: Access violation' "tftp-hpa ../tandem.conf"
out=$(tftp_get binary passwd-link x)
assert_match "$out" 'Error code 2: Access violation' "tftp-hpa symlink to /etc/passwd"
out=$(tftp_get binary up-link x)
assert_match "$out" 'Error code 2: Access violation' "tftp-hpa symlink to ../outside.txt"
[ ! -s "$T/out/x" ] || fail "a refused file left content: $(head -c 100 "$T/out/x")"
assert_file_match "$DATA/security.log" \
	'SECURITY event=request_rejected src=127\.0\.0\.1:[0-9]+ user="" reason="tftp: path leaves the provisioning directory"' \
	"security log: traversal"
assert_file_match "$E2E_LOG" "tftp: 127\.0\.0\.1:[0-9]+ asked for '\.\./tandem\.conf': outside the provisioning directory, refused" \
	"log: traversal"
ok "'../tandem.conf' and symlinks out of the directory refused (ERROR 2), security-logged"
out=$(tftp_get binary nothing-here.cfg x)
assert_match "$out" 'Error code 1: File not found' "tftp-hpa missing file"
echo "evil" > "$T/out/evil.cfg"
out=$(cd "$T/out" && timeout -k 2 30 tftp 127.0.0.1 "$TFTP_PORT" -c put evil.cfg 2>&1)
assert_match "$out" 'Error code 2: Access violation: this server is read-only' "tftp-hpa put"
[ ! -e "$P/evil.cfg" ] || fail "a write request created $P/evil.cfg"
assert_file_match "$E2E_LOG" "tftp: write request for 'evil.cfg' from 127\.0\.0\.1:[0-9]+ refused: provisioning is read-only" \
	"log: WRQ"
ok "write request refused with ERROR 2 and logged; missing file: ERROR 1"

# --------------------------------------------------------- raw client
cat > "$T/tftpc.py" <<'EOF'
import socket, struct, sys, time
ADDR = ("127.0.0.1", int(sys.argv[1]))

def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    return s

def rrq(name, mode="octet", **opts):
    b = struct.pack("!H", 1) + name.encode() + b"\0" + mode.encode() + b"\0"
    for k, v in opts.items():
        b += k.encode() + b"\0" + str(v).encode() + b"\0"
    return b

def error_of(p):
    assert p[:2] == b"\0\5", "not an ERROR: %r" % p[:40]
    return struct.unpack("!H", p[2:4])[0], p[4:].rstrip(b"\0").decode()

def get(name, blksize, window):
    """Fetch with options; returns the bytes. Checks the wrap of block numbers."""
    s = sock()
    s.sendto(rrq(name, blksize=blksize, windowsize=window, tsize=0), ADDR)
    p, srv = s.recvfrom(70000)
    assert p[:2] == b"\0\6", "expected OACK, got %r" % p[:40]
    s.sendto(b"\0\4\0\0", srv)
    data, expect, wrapped = bytearray(), 1, False
    while True:
        p, a = s.recvfrom(70000)
        assert a == srv and p[:2] == b"\0\3", p[:40]
        blk = struct.unpack("!H", p[2:4])[0]
        assert blk == expect & 0xffff, "block %d, expected %d" % (blk, expect & 0xffff)
        wrapped |= blk == 0
        data += p[4:]
        last = len(p) - 4 < blksize
        if expect % window == 0 or last:
            s.sendto(struct.pack("!HH", 4, blk), srv)
        expect += 1
        if last:
            return bytes(data), wrapped, expect - 1

cmd = sys.argv[2]
if cmd == "wrap":
    data, wrapped, n = get(sys.argv[3], 8, 32)
    sys.stdout.buffer.write(data)
    sys.stderr.write("blocks=%d wrapped=%s\n" % (n, wrapped))
    assert wrapped and n > 65536
elif cmd == "retransmit":
    # timeout 1 s, no ACK: block 1 comes again each second, six sends in
    # all, then an ERROR saying why
    s = sock()
    s.sendto(rrq(sys.argv[3], timeout=1), ADDR)
    p, srv = s.recvfrom(2000)
    assert p[:2] == b"\0\6", p[:40]
    s.sendto(b"\0\4\0\0", srv)
    got, t0 = [], time.time()
    while True:
        p, a = s.recvfrom(2000)
        if p[:2] == b"\0\5":
            code, msg = error_of(p)
            print("data=%d error=%d %s after %.1fs" % (len(got), code, msg, time.time() - t0))
            break
        assert p[:4] == b"\0\3\0\1", p[:8]
        got.append(time.time() - t0)
    assert len(got) == 6, got
elif cmd == "busy":
    held = []
    for i in range(3):
        s = sock()
        s.sendto(rrq(sys.argv[3]), ADDR)
        p, srv = s.recvfrom(2000)
        assert p[:4] == b"\0\3\0\1", p[:8]
        held.append((s, srv))
    s = sock()
    s.sendto(rrq(sys.argv[3]), ADDR)
    code, msg = error_of(s.recvfrom(2000)[0])
    print("%d %s" % (code, msg))
    for h, srv in held:   # end them: an ERROR from the client
        h.sendto(b"\0\5\0\0stop\0", srv)
elif cmd == "bad":
    for name, pkt in [("short", b"\0"), ("opcode", b"\0\7xx\0"),
                      ("unterminated", b"\0\1file-without-nul"),
                      ("mail", b"\0\1f\0mail\0"),
                      ("blksize", rrq("fw.bin", blksize=4)),
                      ("empty", b"\0\1\0octet\0")]:
        s = sock()
        s.sendto(pkt, ADDR)
        code, msg = error_of(s.recvfrom(2000)[0])
        print("%s: %d %s" % (name, code, msg))
EOF
py() { timeout -k 2 60 python3 "$T/tftpc.py" "$TFTP_PORT" "$@"; }

py wrap big.bin > "$T/out/big.bin" 2> "$T/wrap.err" || fail "raw client, block wrap: $(cat "$T/wrap.err")"
cmp "$P/big.bin" "$T/out/big.bin" || fail "big.bin (blksize 8) differs"
ok "blksize 8, windowsize 32: $(tail -n 1 "$T/wrap.err"), byte-exact"

out=$(py retransmit fw.bin) || fail "raw client, retransmission: $out"
assert_match "$out" '^data=6 error=0 no ACK: client gone after [5-9]\.' "retransmission"
assert_file_match "$E2E_LOG" "tftp: transfer of 'fw.bin' to 127\.0\.0\.1:[0-9]+ given up: no ACK: client gone" \
	"log: given up"
ok "unacknowledged block sent 6 times a second apart (timeout 1), then ERROR: $out"

out=$(py busy fw.bin) || fail "raw client, max_transfers: $out"
assert_eq "$out" "0 server busy: try again later" "fourth transfer with max_transfers=3"
assert_file_match "$E2E_LOG" "tftp: 'fw.bin' for 127\.0\.0\.1:[0-9]+ refused: 3 transfers already \(max_transfers\)" \
	"log: busy"
ok "max_transfers=3: the fourth request gets ERROR 0 'server busy'"

py bad > "$T/bad.out" 2>&1 || fail "raw client, malformed: $(cat "$T/bad.out")"
for want in "short: 4 not a read or write request" "opcode: 4 not a read or write request" \
	    "unterminated: 4 file name or mode missing or not NUL-terminated" \
	    "mail: 4 mode mail is not served" "blksize: 4 blksize is not a number of at least 8" \
	    "empty: 4 empty file name"; do
	grep -qxF "$want" "$T/bad.out" || fail "malformed request: no '$want' in: $(cat "$T/bad.out")"
done
assert_file_match "$E2E_LOG" 'tftp: malformed request from 127\.0\.0\.1:[0-9]+ \(18 bytes, RRQ\): file name or mode missing or not NUL-terminated' \
	"log: malformed"
ok "malformed requests: ERROR 4 naming the fault, logged"

# still serving
tftp_get binary fw.bin fw3.bin >/dev/null
cmp "$P/fw.bin" "$T/out/fw3.bin" || fail "after the bad input: fw.bin differs"

# a reload with another [tftp] port: served there at once, not on the old
OLD_PORT=$TFTP_PORT
TFTP_PORT=$(free_port)
sed -i "s/^port=$OLD_PORT\$/port=$TFTP_PORT/" "$CONF/tandem.conf"
ctl reload > /dev/null || fail "reload: $(cat "$T/ctl.err")"
assert_file_match "$E2E_LOG" 'reload: TFTP restarted with the new \[tftp\] settings' "reload notice"
tftp_get binary fw.bin fw4.bin >/dev/null
cmp "$P/fw.bin" "$T/out/fw4.bin" || fail "after the reload: fw.bin differs on the new port"
out=$(cd "$T/out" && timeout -k 2 10 atftp --option "timeout 1" -g -r fw.bin -l old.bin \
	127.0.0.1 "$OLD_PORT" 2>&1) && fail "the old port still serves after the reload: $out"
ok "reload with another [tftp] port: served on the new port at once, the old one closed"
assert_alive "after the TFTP tests"
tandem_stop_checked
if grep -Eq "AddressSanitizer|runtime error|LeakSanitizer" "$E2E_LOG"; then
	fail "sanitizer report in $E2E_LOG"
fi
