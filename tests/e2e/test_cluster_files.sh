#!/bin/bash
# Files in the replication stream (docs/design/cluster.md 2.2-2.3): two
# real daemons in network namespaces the test creates (and removes),
# engine = none, a takes over; then on a:
#  - SIPp (in a's namespace) leaves a voicemail (VoiceMail(tfg@default,s),
#    speech from espeak-ng, the caller hangs up): b's spool holds
#    INBOX/msg0000.wav and .txt byte-identical to a's; a second message
#    ended with '#' (VoiceMail waits for the standby's ACK before
#    auth-thankyou: this checks the path completes and the files are on b
#    when SIPp sees the BYE, not the order, which a 1 s prompt hides);
#  - a call recorded with MixMonitor: b's DATADIR/monitor holds the same
#    file;
#  - a steps down, b takes over; SIPp (in b's namespace) calls
#    VoiceMailMain on b: PIN, 1 plays the message, which moves to Old:
#    the move reaches a (now the standby): a's Old/msg0000.* are
#    byte-identical, its INBOX empty;
#  - files written by the admin on a (provisioning/, sounds/, a new
#    directory) are byte-identical on b; an edit of extensions.conf on a
#    reaches b, which reloads (`tandemctl dialplan default` lists the new
#    extension); a file removed on a goes on b;
#  - b's provisioning/ full (a tmpfs): b names the file it could not
#    write, drops the link, no part file is left; a goes on alone;
#  - b's DATADIR wiped: after the full resync b holds every file again.
# Root needed (namespaces), else SKIP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pair.sh"
e2e_init
need sipp espeak-ng sox

# one SIP port for both: CONFDIR is replicated, so it is the same on both
PA=$(free_port) PB=$(free_port) SA=$(free_port)
SB=$SA
KEY=$(openssl rand -hex 32)
pair_netns f

node_conf() {  # DIR SIP_PORT
	mkdir -p "$1"
	cat > "$1/extensions.conf" <<'EOT'
[general]
static=yes
writeprotect=yes

[default]
exten => 502,1,VoiceMail(tfg@default,s)
 same => n,Hangup()
exten => 501,1,VoiceMailMain(tfg@default)
 same => n,Hangup()
exten => 600,1,Answer()
 same => n,MixMonitor(rec600.wav)
 same => n,Playback(beep)
 same => n,Wait(1)
 same => n,Hangup()
EOT
	cat > "$1/voicemail.conf" <<'EOT'
[general]
format = wav
minsecs = 1

[default]
tfg => 2020,TFG Empresa
EOT
	CONF=$1 SIP_ADDR=0.0.0.0 SIP_PORT=$2 conf_sip_general realm=tandem
	CONF=$1 conf_tfg_peers qualify=no language=en
	pair_cluster_conf "$1" fl
}

sipp_a() { sipp_on a "$@"; }
same_file() {  # RELPATH under DATADIR: present on both and byte-identical
	[ -f "$T/db/$1" ] && [ -f "$T/da/$1" ] && cmp -s "$T/da/$1" "$T/db/$1"
}

node_conf "$T/ca" "$SA"
node_conf "$T/cb" "$SB"
users_csv "$T/u100.csv" "100-tfg;tf2020"
start_node a
start_node b
wait_until 15 "a standby" role_is a standby
wait_until 15 "b standby" role_is b standby
nctl a cluster takeover --force > /dev/null || fail "takeover on a: $(cat "$T/ctl.err")"
wait_until 10 "a active" role_is a active
wait_until 20 "b in sync" repl_is b sync
ok "a active, b in sync"

# ---- a voicemail left on a
espeak-ng -w "$T/speech.22k.wav" "Hello, this is a message left on the active node." \
	2>/dev/null || fail "espeak-ng"
sox "$T/speech.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$T/speech.wav" || fail "sox"
mkvoice "$T/digits.pcap" "$T/speech.wav"
sipp_a vm502 vm_uac_hangup.xml -key rtpport "$(free_port)" -mp "$(free_port)" -d 1500 -s 502
BOX=voicemail/default/tfg
wait_until 10 "a's INBOX/msg0000.txt" test -f "$T/da/$BOX/INBOX/msg0000.txt"
wait_until 10 "b's INBOX/msg0000.wav identical" same_file "$BOX/INBOX/msg0000.wav"
wait_until 10 "b's INBOX/msg0000.txt identical" same_file "$BOX/INBOX/msg0000.txt"
sz=$(stat -c %s "$T/db/$BOX/INBOX/msg0000.wav")
[ "$sz" -gt 16000 ] || fail "msg0000.wav is only $sz bytes: no message recorded"
[ -z "$(find "$T/db/voicemail" -name '*.tandem-part')" ] || fail "part files left on b"
[ -z "$(ls -A "$T/db/$BOX/tmp" 2>/dev/null)" ] || fail "a's BOX/tmp reached b: $(ls "$T/db/$BOX/tmp")"
ok "VoiceMail on a: b holds INBOX/msg0000.wav ($sz bytes) and .txt, byte-identical"

# a second message ended with '#': VoiceMail() thanks the caller once the
# standby holds it (then hangs up: ivr_uac.xml waits for Tandem's BYE)
SPEECH=$(sox --i -D "$T/speech.wav")
mkvoice "$T/digits.pcap" "$T/speech.wav" "$(python3 -c "print($SPEECH + 0.5)")"
sipp_a vm502b ivr_uac.xml -key rtpport "$(free_port)" -mp "$(free_port)" -d 1500 -s 502
same_file "$BOX/INBOX/msg0001.wav" || fail "msg0001.wav not on b when the caller was thanked"
same_file "$BOX/INBOX/msg0001.txt" || fail "msg0001.txt not on b when the caller was thanked"
! grep -q "the standby did not confirm it" "$T/a.log" || fail "a says b did not confirm the message"
ok "VoiceMail ended with '#': msg0001 on b by the time the caller was thanked and hung up"

# ---- a recording made on a
sipp_a rec600 call_uac_auth_recvbye.xml -s 600
wait_until 10 "a's monitor/rec600.wav" test -f "$T/da/monitor/rec600.wav"
wait_until 10 "b's monitor/rec600.wav identical" same_file monitor/rec600.wav
ok "MixMonitor on a: b holds monitor/rec600.wav ($(stat -c %s "$T/db/monitor/rec600.wav") bytes), byte-identical"

# ---- the admin's files on a: provisioning/, sounds/ and an edit of
# extensions.conf reach b, which reloads
head -c 300000 /dev/urandom > "$T/da/provisioning/0004f2aabbcc.cfg"
mkdir -p "$T/da/sounds/custom"
cp "$T/speech.wav" "$T/da/sounds/custom/welcome.wav"
wait_until 10 "b's provisioning/0004f2aabbcc.cfg identical" same_file provisioning/0004f2aabbcc.cfg
# 6 MB: a dozen turns of 512 KiB, each in its own replication frame
head -c 6000000 /dev/urandom > "$T/da/sounds/custom/long.raw"
wait_until 15 "b's sounds/custom/long.raw (6 MB) identical" same_file sounds/custom/long.raw
wait_until 10 "b's sounds/custom/welcome.wav identical" same_file sounds/custom/welcome.wav
ok "provisioning/ (300 kB) and sounds/custom/ (new directory, 6 MB over several turns) written on a: byte-identical on b"
dp_has() { nctl "$1" dialplan default --json | grep -q '"700"'; }
! dp_has b || fail "b's dialplan has 700 before the edit"
printf 'exten => 700,1,Answer()\n same => n,Hangup()\n' >> "$T/ca/extensions.conf"
wait_until 10 "b's extensions.conf identical" cmp -s "$T/ca/extensions.conf" "$T/cb/extensions.conf"
wait_until 10 "b's dialplan shows 700" dp_has b
assert_file_match "$T/b.log" "configuration changed: reloading" "b logs the reload"
rm "$T/da/provisioning/0004f2aabbcc.cfg"
wait_until 10 "b's provisioning file removed" test ! -e "$T/db/provisioning/0004f2aabbcc.cfg"
ok "extensions.conf edited on a: b reloaded (dialplan default lists 700); a removed file goes on b too"

# ---- b's disk full: b says which file could not be written, drops the
# link, leaves no part file; a goes on alone; space back, b catches up
# (mounted while b is stopped: b's namespace sees only mounts made before)
SMALL=$T/db/provisioning
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
if mount -t tmpfs -o size=64k tmpfs "$SMALL" 2>"$T/mount.err"; then
	E2E_MOUNTS=$SMALL
	start_node b
	wait_until 20 "b in sync on the small disk" repl_is b sync
	head -c 300000 /dev/urandom > "$T/da/provisioning/big.cfg"
	wait_until 10 "b says the disk is full" grep -q \
		"cluster: cannot write provisioning/big.cfg on this node: No space left on device; the partial file is removed" "$T/b.log"
	wait_until 5 "a goes on alone" grep -q "cluster: standby b .*going on alone" "$T/a.log"
	[ -z "$(ls -A "$SMALL")" ] || fail "b's full provisioning/ holds $(ls -A "$SMALL")"
	kill -0 "$PIDB" || fail "b exited on a full disk"
	stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
	umount "$SMALL"
	E2E_MOUNTS=
	start_node b
	wait_until 20 "b in sync once space is back" repl_is b sync
	# the failed turn is in b's journal, its stores behind it: b's start
	# replays it and the file is written this time
	wait_until 10 "b's provisioning/big.cfg identical" same_file provisioning/big.cfg
	ok "b's disk full: '$(grep -o 'cannot write provisioning/big.cfg[^;]*' "$T/b.log" | head -n1)', no part file, a went on alone; b restarted with space: the journal's replay wrote the file"
else
	note "SKIP the full-disk case: cannot mount a tmpfs ($(cat "$T/mount.err"))"
	start_node b
	wait_until 20 "b in sync" repl_is b sync
fi

# ---- b's DATADIR wiped: the full resync brings every file back
stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
rm -rf "$T/db"
start_node b
wait_until 20 "b in sync after the wipe" repl_is b sync
for f in "$BOX/INBOX/msg0000.wav" "$BOX/INBOX/msg0000.txt" monitor/rec600.wav \
	sounds/custom/welcome.wav; do
	wait_until 10 "b's $f after the full resync" same_file "$f"
done
assert_file_match "$T/a.log" "cluster: full resync to b: [0-9]+ of [0-9]+ files sent" \
	"a logs the files of the full resync"
[ -z "$(find "$T/db" -name '*.tandem-part')" ] || fail "part files left on b"
ok "b's DATADIR wiped: full resync, then $(grep -o 'full resync to b: [0-9]* of [0-9]* files sent ([0-9.]* MB' "$T/a.log" | tail -n1): voicemail, recording, sounds identical on b"

# ---- b takes over; VoiceMailMain on b plays the message and moves it to
# Old: the move reaches a
nctl a cluster standby > /dev/null || fail "standby on a: $(cat "$T/ctl.err")"
wait_until 10 "a standby" role_is a standby
nctl b cluster takeover --force > /dev/null || fail "takeover on b: $(cat "$T/ctl.err")"
wait_until 10 "b active" role_is b active
wait_until 20 "a in sync with b" repl_is a sync
# PIN, 1 (play), '#' after each message (next), '#' (goodbye)
D0=$(sox --i -D "$T/db/$BOX/INBOX/msg0000.wav")
D1=$(sox --i -D "$T/db/$BOX/INBOX/msg0001.wav")
python3 "$E2E_DIR/audio/mkdtmf.py" "$T/digits.pcap" "0.5:2,0.8:0,1.1:2,1.4:0,1.7:#,4:1,$(python3 -c "
a = 4.5 + $D0 + 2; b = a + 1 + $D1 + 2
print('%.2f:#,%.2f:#,%.2f:#' % (a, b, b + 2))")"
sipp_on b listen ivr_uac.xml -key rtpport "$(free_port)" -mp "$(free_port)" -d 500 -s 501
wait_until 10 "b's Old/msg0000.txt" test -f "$T/db/$BOX/Old/msg0000.txt"
wait_until 10 "a's Old/msg0000.wav identical" same_file "$BOX/Old/msg0000.wav"
wait_until 10 "a's Old/msg0000.txt identical" same_file "$BOX/Old/msg0000.txt"
wait_until 10 "a's Old/msg0001.wav identical" same_file "$BOX/Old/msg0001.wav"
[ -z "$(find "$T/da/$BOX/INBOX" -name 'msg*')" ] || fail "a's INBOX not empty: $(ls "$T/da/$BOX/INBOX")"
ok "b active: VoiceMailMain heard the message (moved to Old); the move reached a, INBOX empty there"

stop_pid "$PIDB" 5 || fail "b did not stop on SIGTERM"
stop_pid "$PIDA" 5 || fail "a did not stop on SIGTERM"
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/a.log" "$T/b.log" \
	|| fail "sanitizer report"
