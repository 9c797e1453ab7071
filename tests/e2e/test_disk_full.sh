#!/bin/bash
# A full disk under DATADIR: registrations that cannot be stored get
# "500 Storage Failure" with Retry-After (never a 200 for a binding that is
# not durable), the failure is logged once with the database path, the
# daemon keeps serving (OPTIONS, tandemctl), and once space is back new
# registrations succeed and everything stored before survives a restart.
# DATADIR lives on a small tmpfs the test mounts (root only).
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp mount umount dd

SMALL=$T/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=768k tmpfs "$SMALL" 2>"$T/mount.err" ||
	skip "cannot mount a tmpfs here ($(cat "$T/mount.err")): needs root"
umount_small() { mountpoint -q "$SMALL" && umount "$SMALL"; }
trap 'rc=$?; umount_small; (exit $rc); e2e_cleanup' EXIT
DATA=$SMALL/data
mkdir -p "$DATA"

conf_sip_general realm=tandem
conf_tfg_peers
for i in $(seq 1000 1399); do conf_sip_peer "$i"; done
tandem_start

sipp_register_ok first 100-tfg tf2020 "$(free_port)"
is_registered 100-tfg || fail "100-tfg not registered before the disk filled"
ok "100-tfg stored before the disk filled"

# Fill the file system (bounded by its size).
dd if=/dev/zero of="$SMALL/filler" bs=4k >/dev/null 2>&1 || true
note "disk full: $(df -h "$SMALL" | tail -1)"

users=$(seq 1000 1399)
users_csv "$T/many.csv" $users
sipp_run many 60 -sf "$SIPP_DIR/register_auth.xml" -inf "$T/many.csv" -i "$SIP_ADDR" \
	-p "$(free_port)" -m 400 -r 200 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || true
n500=$(grep -c '^SIP/2.0 500 Storage Failure' "$T/sipp.many.msg" || true)
[ "$n500" -gt 0 ] || fail "no REGISTER got 500 Storage Failure on a full disk ($(grep -c '^SIP/2.0 200' "$T/sipp.many.msg") got 200)"
grep -A12 '^SIP/2.0 500 Storage Failure' "$T/sipp.many.msg" > "$T/500.txt"
grep -q '^Retry-After: ' "$T/500.txt" || fail "500 Storage Failure without Retry-After"
ok "$n500 REGISTERs answered 500 Storage Failure with Retry-After"
assert_alive "after the disk filled"
nerr=$(grep -c 'store: commit to .*tandem.db failed' "$E2E_LOG" || true)
[ "$nerr" -ge 1 ] || fail "no log line naming the database and the failure"
[ "$nerr" -le 3 ] || fail "the storage failure was logged $nerr times, not once"
ok "failure logged once: $(grep -m1 'store: commit to' "$E2E_LOG" | sed 's/.*ERROR: //')"
ctl_quiet status || fail "tandemctl status fails while the disk is full"
py <<'PY' || fail "OPTIONS not answered while the disk is full"
import os, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
a = (os.environ["SIP_ADDR"], int(os.environ["SIP_PORT"]))
m = ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKdf1\r\n"
     "From: <sip:x@h>;tag=1\r\nTo: <sip:y@h>\r\nCall-ID: df1\r\nCSeq: 1 OPTIONS\r\n"
     "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % a[0]
s.sendto(m.encode(), a)
assert s.recv(4096).startswith(b"SIP/2.0 200")
PY
ok "still serving: tandemctl status and OPTIONS answered"

rm -f "$SMALL/filler"
sipp_register_ok after 101-tfg tf2020 "$(free_port)"
wait_until 10 "recovery logged" grep -q 'succeed again' "$E2E_LOG"
ok "space back: 101-tfg registered, recovery logged"

tandem_stop_checked
tandem_start
is_registered 100-tfg || fail "100-tfg (stored before the disk filled) lost after restart"
is_registered 101-tfg || fail "101-tfg (stored after recovery) lost after restart"
ok "bindings stored before and after the outage survive a restart"
tandem_stop_checked
