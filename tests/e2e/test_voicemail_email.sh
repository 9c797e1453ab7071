#!/bin/bash
# Voicemail e-mail (issue "The business line", item 5): a new message is
# e-mailed through voicemail.conf's mailcmd as app_voicemail does. The
# mailcmd here is a script that keeps what it reads on standard input;
# Python's email module parses each message.
#
#   tfg@default (email tfg@tfg.example|jefe@tfg.example, attach=yes from
#       [general]): one message each, From "fromstring" <serveremail>,
#       emailsubject/emailbody with ${VM_*}, \n and \t expanded, the wav
#       attached (base64) equal byte for byte to INBOX/msg0000.wav.
#   sin@default (attach=no in the box): text only, no attachment.
#   nomail@default (no e-mail): nothing sent.
#   Then tandemd restarts with a mailcmd that fails (exit 3) and one that
#   does not exist: each failure logged, the message still saved, the
#   daemon fine. The mailer sleeping 5 s does not hold calls up, and
#   holds none of tandemd's sockets or log files.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp espeak-ng sox

. "$(dirname "$0")/lib_call.sh"
AUDIO=$E2E_DIR/audio
EN=/usr/share/asterisk/sounds/en_US_f_Allison
[ -f "$EN/vm-theperson.wav" ] || skip "Debian's English sounds are not installed ($EN)"

mkdir -p "$T/mail"
cat > "$T/savemail.sh" <<EOF2
#!/bin/sh
# keeps the message; the arguments (-t) too
f=\$(mktemp "$T/mail/XXXXXX")
echo "\$*" > "\$f.args"
cat > "\$f.part" && mv "\$f.part" "\$f.eml"
rm -f "\$f"
EOF2
printf '#!/bin/sh\ncat >/dev/null\nexit 3\n' > "$T/failmail.sh"
printf '#!/bin/sh\nls -l /proc/$$/fd > "%s/slow.fds"\nsleep 5\ncat > "%s/slow.eml"\n' "$T" "$T" > "$T/slowmail.sh"
chmod +x "$T/savemail.sh" "$T/failmail.sh" "$T/slowmail.sh"

vmconf() {
	cat > "$CONF/voicemail.conf" <<EOF2
[general]
format = wav
minsecs = 1
attach = yes
serveremail = buzon@tfg.example
fromstring = Buzon TFG
mailcmd = $1 -t
emailsubject = Nuevo mensaje \${VM_MSGNUM} en \${VM_MAILBOX} de \${VM_CALLERID}
emailbody = Hola \${VM_NAME}:\n\n\tMensaje \${VM_MSGNUM} (\${VM_DUR}) de \${VM_CIDNUM}, el \${VM_DATE}.\nFichero: \${VM_MESSAGEFILE}\n

[default]
tfg => 2020,TFG Empresa,tfg@tfg.example|jefe@tfg.example
sin => 2020,Sin Adjunto,sin@tfg.example,,attach=no
nomail => 2020,No Mail
EOF2
}
conf_sip_general realm=tandem
conf_sip_peer 100-tfg context=vm language=en qualify=no
vmconf "$T/savemail.sh"
cat > "$CONF/extensions.conf" <<'EOF2'
[general]
static=yes
writeprotect=yes

[vm]
exten => tfg,1,VoiceMail(tfg@default,s)
exten => sin,1,VoiceMail(sin@default,s)
exten => nomail,1,VoiceMail(nomail@default,s)
EOF2
mkdir -p "$DATA/voicemail/default"
espeak-ng -w "$T/speech.22k.wav" "This message should arrive by e-mail." 2>/dev/null || fail "espeak-ng"
sox "$T/speech.22k.wav" -r 8000 -c 1 -b 16 -e signed-integer "$T/speech.wav" pad 0 3 || fail "sox"
python3 "$AUDIO/mkvoice.py" "$T/digits.pcap" "$T/speech.wav" 0x4d41494c || fail "mkvoice"
SKIPGREET=$(python3 -c 'import sys; print(int((float(sys.argv[1]) + float(sys.argv[2]) + 1) * 1000))' \
	"$(sox --i -D "$EN/vm-theperson.wav")" "$(sox --i -D "$EN/beep.wav")")

tandem_start
UAC_PORT=$(free_port)
users_csv "$T/caller.csv" 100-tfg
# leave BOX: a caller leaves a message for BOX and hangs up while recording
leave() {
	local rc=0
	sipp_run "leave.$1" 60 -sf "$SIPP_DIR/vm_uac_hangup.xml" -inf "$T/caller.csv" -i "$SIP_ADDR" \
		-p "$UAC_PORT" -mp "$(free_port)" -key rtpport "$(free_port)" -d "$SKIPGREET" -s "$1" \
		-m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
	[ $rc = 0 ] || { sipp_fail_details "leave.$1"; fail "leaving a message for $1 (SIPp exited $rc)"; }
	wait_until 10 "$1: INBOX/msg0000.txt" test -f "$DATA/voicemail/default/$1/INBOX/msg0000.txt"
}
mails() { find "$T/mail" -name '*.eml' | wc -l; }
mails_ge() { [ "$(mails)" -ge "$1" ]; }

leave tfg
wait_until 10 "two e-mails for tfg" mails_ge 2
python3 - "$T/mail" "$DATA/voicemail/default/tfg/INBOX/msg0000" <<'PY' || fail "the e-mails for tfg"
import email, email.policy, glob, sys
wav = open(sys.argv[2] + '.wav', 'rb').read()
to = []
for p in sorted(glob.glob(sys.argv[1] + '/*.eml')):
    m = email.message_from_binary_file(open(p, 'rb'), policy=email.policy.default)
    to.append(m['To'].addresses[0].addr_spec)
    assert m['To'].addresses[0].display_name == 'TFG Empresa', m['To']
    assert m['From'].addresses[0].addr_spec == 'buzon@tfg.example', m['From']
    assert m['From'].addresses[0].display_name == 'Buzon TFG', m['From']
    assert m['Subject'] == 'Nuevo mensaje 1 en tfg de "100-tfg" <100-tfg>', m['Subject']
    assert m.is_multipart() and m.get_content_type() == 'multipart/mixed', m.get_content_type()
    body = m.get_body(preferencelist=('plain',)).get_content()
    assert body.startswith('Hola TFG Empresa:\n\n\tMensaje 1 (0:0'), repr(body)
    assert ') de 100-tfg, el ' in body, repr(body)
    assert 'Fichero: ' + sys.argv[2] + '\n' in body, repr(body)
    att = [a for a in m.iter_attachments()]
    assert len(att) == 1, att
    a = att[0]
    assert a.get_content_type() == 'audio/x-wav' and a.get_filename() == 'msg0000.wav', a
    data = a.get_content()
    assert data == wav, 'attachment %d bytes, spool file %d bytes, equal %s' % (len(data), len(wav), data == wav)
    print('  %s: %s | %d bytes attached, equal to msg0000.wav' % (to[-1], m['Subject'], len(data)))
assert sorted(to) == ['jefe@tfg.example', 'tfg@tfg.example'], to
args = open(glob.glob(sys.argv[1] + '/*.args')[0]).read().strip()
assert args == '-t', args
PY
ok "tfg: one e-mail per address, fromstring/serveremail, emailsubject/emailbody with VM_*, the wav attached as in the spool"
rm -f "$T"/mail/*

leave sin
wait_until 10 "an e-mail for sin" mails_ge 1
python3 - "$T/mail" <<'PY' || fail "the e-mail for sin"
import email, email.policy, glob, sys
[p] = glob.glob(sys.argv[1] + '/*.eml')
m = email.message_from_binary_file(open(p, 'rb'), policy=email.policy.default)
assert m['To'].addresses[0].addr_spec == 'sin@tfg.example', m['To']
assert not m.is_multipart() and m.get_content_type() == 'text/plain', m.get_content_type()
assert m.get_content().startswith('Hola Sin Adjunto:'), m.get_content()
PY
ok "sin (attach=no): a text e-mail, no attachment"
rm -f "$T"/mail/*

leave nomail
sleep 1
[ "$(mails)" = 0 ] || fail "an e-mail for a box without an address"
ok "nomail: no address, no e-mail"

# a failing mailer, a missing one, a slow one
for cmd in "$T/failmail.sh" /nonexistent/sendmail "$T/slowmail.sh"; do
	tandem_stop_checked
	rm -rf "$DATA/voicemail/default/tfg"
	vmconf "$cmd"
	tandem_start
	t0=$(now_ms)
	leave tfg
	took=$(( $(now_ms) - t0 ))
	case $cmd in
	*failmail.sh) wait_until 10 "the failed mailer logged" grep -q "voicemail e-mail: the command exited 3" "$E2E_LOG" ;;
	/nonexistent*) wait_until 10 "the missing mailer logged" grep -q "voicemail e-mail: the command exited 127" "$E2E_LOG" ;;
	*slowmail.sh)
		assert_alive "while the mailer sleeps"
		ctl_quiet status || fail "tandemctl status while the mailer sleeps"
		[ ! -f "$T/slow.eml" ] || fail "the slow mailer finished before tandemctl got its answer"
		wait_until 15 "the slow mailer's e-mail" test -f "$T/slow.eml"
		! grep -E "socket:|\.log" "$T/slow.fds" || fail "the mailer inherited tandemd's sockets or log"
		note "a call with a 5 s mailer took $took ms" ;;
	esac
	[ -f "$DATA/voicemail/default/tfg/INBOX/msg0000.wav" ] || fail "no message with mailcmd $cmd"
	[ -z "$(ls -A "$DATA/voicemail/default/tfg/tmp")" ] || fail "tmp not empty: $(ls "$DATA/voicemail/default/tfg/tmp")"
	assert_alive "mailcmd $cmd"
done
ok "mailers that fail (exit 3, missing: 127) are logged, the message kept; a 5 s mailer holds nothing up"
grep -hE "voicemail e-mail: the command exited" "$T"/tandemd.*.log | sed 's/.*WARNING/    WARNING/' | sort -u

tandem_stop_checked
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T"/tandemd.*.log && fail "sanitizer output"
exit 0
