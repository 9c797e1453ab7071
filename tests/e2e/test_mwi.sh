#!/bin/bash
# Message waiting (issue "business line", item 5): RFC 3842 NOTIFYs to
# phones with mailbox=, unsolicited (chan_sip's default) and subscribed.
#
# 100-tfg (mailbox=tfg@default, no subscription) registers, and a SIPp UAS
# on its contact answers the NOTIFYs; 101-tfg (mailbox=tfg@default)
# subscribes to message-summary with a SIPp UAC. voicemail.conf has
# pollmailboxes=yes, pollfreq=1 (Asterisk's options), so a message that
# appears in DATADIR/voicemail/default/tfg/INBOX, or goes away, is seen
# within a second without any call to the daemon. Both phones must get:
# Messages-Waiting: no (on REGISTER / SUBSCRIBE), yes with Voice-Message
# 1/0 when msg0000.txt + .wav appear, and no again when they are removed;
# then the subscriber unsubscribes and gets the final NOTIFY.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"

conf_sip_general realm=tandem
conf_tfg_peers qualify=no mailbox=tfg@default
cat > "$CONF/voicemail.conf" <<'EOF'
[general]
format = wav
pollmailboxes = yes
pollfreq = 1

[default]
tfg => 2020,TFG Empresa
EOF
tandem_start
PHONE_PORT=$(free_port) SUB_PORT=$(free_port)
users_csv "$T/sub.csv" 101-tfg

# ---- 100-tfg registers; its UAS answers the unsolicited NOTIFYs
sipp_register_ok reg100 100-tfg tf2020 "$PHONE_PORT"
UAS_PORT=$PHONE_PORT UAS_PEER=100-tfg uas_start mwi_uas mwi_uas.xml 1
PHONE_PID=$UAS_PID

# ---- 101-tfg subscribes
sipp_bg mwi_sub 60 -sf "$SIPP_DIR/mwi_subscribe.xml" -inf "$T/sub.csv" -i "$SIP_ADDR" \
	-p "$SUB_PORT" -s 101-tfg -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")"
SUB_PID=$BG_PID

# nth_notify FILE N: the SIPp message log holds N NOTIFYs with a 200 sent back
nth_notify() { [ "$(grep -c '^NOTIFY ' "$1" 2>/dev/null)" -ge "$2" ] &&
	[ "$(grep -c '^SIP/2.0 200 OK' "$1" 2>/dev/null)" -ge "$2" ]; }
both_got() {
	nth_notify "$T/sipp.mwi_uas.msg" "$1" && nth_notify "$T/sipp.mwi_sub.msg" "$1"
}
wait_until 15 "both phones told Messages-Waiting: no" both_got 1
ok "unsolicited NOTIFY to 100-tfg and the subscription's first NOTIFY: Messages-Waiting: no"

# ---- a message appears in the spool: yes, 1/0
box=$DATA/voicemail/default/tfg/INBOX
mkdir -p "$box"
cat > "$box/msg0000.txt" <<'EOF'
;
; Message Information file
;
[message]
origmailbox=tfg
context=in-tfg
macrocontext=
exten=s
rdnis=unknown
priority=7
callerchan=SIP/trunk-tfg-00000001
callerid="600123456" <600123456>
origdate=Mon Mar  2 10:04:05 AM UTC 2026
origtime=1772445845
category=
msg_id=1772445845-00000000
flag=
duration=4
EOF
head -c 4000 /dev/zero > "$box/msg0000.wav"
wait_until 10 "both phones told Messages-Waiting: yes" both_got 2
ok "msg0000 in INBOX: both phones told Messages-Waiting: yes, Voice-Message 1/0 (pollfreq=1)"

# ---- and removed: no
rm -f "$box/msg0000.txt" "$box/msg0000.wav"
wait_until 10 "both phones told Messages-Waiting: no again" both_got 3
ok "message removed: both phones told Messages-Waiting: no"

sipp_wait mwi_uas "$PHONE_PID" "100-tfg's UAS (NOTIFY no, yes 1/0, no)"
sipp_wait mwi_sub "$SUB_PID" "101-tfg's subscription (NOTIFY no, yes 1/0, no; unsubscribe)"
ok "both SIPp phones checked every body; the subscriber unsubscribed and got the final NOTIFY"
assert_file_match "$E2E_LOG" "101-tfg's message-summary subscription to tfg@default ended \(timeout\)" \
	"the unsubscribe in the log"
# the subscribed phone gets no unsolicited NOTIFY besides its subscription's
[ "$(grep -c '^NOTIFY ' "$T/sipp.mwi_sub.msg")" = 4 ] \
	|| fail "101-tfg got $(grep -c '^NOTIFY ' "$T/sipp.mwi_sub.msg") NOTIFYs, expected 4"
assert_alive "after the MWI exchange"
tandem_stop_checked
