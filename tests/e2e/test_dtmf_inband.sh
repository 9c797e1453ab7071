#!/bin/bash
# In-band DTMF (issue "The business line"): keys sent as tones in the
# audio reach the dialplan for peers with dtmfmode=inband, and for
# dtmfmode=auto when the phone's SDP offers no telephone-event (chan_sip).
# The SIPp caller plays a capture made here: the keys' two sines (Q.23,
# 100 ms each) in A-law RTP (tests/e2e/audio/mktones.py + mkvoice.py);
# extension 700 reads four keys with Read() and logs them.
#
#   100-tfg dtmfmode=inband, SDP with telephone-event: 1934 read
#   102-tfg dtmfmode=auto, SDP without telephone-event: 5678 read
#   102-tfg dtmfmode=auto, SDP with telephone-event: tones ignored (RFC 4733
#           is the phone's way), nothing read
#   103-tfg default (rfc2833): tones ignored, nothing read
#   100-tfg inband sending the same keys as tones and RFC 4733 events:
#           each key read once (2580)
#   a peer with dtmfmode=bogus: warned with FILE:LINE at load
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

. "$(dirname "$0")/lib_call.sh"
AUDIO=$E2E_DIR/audio

conf_sip_general realm=tandem
conf_sip_peer 100-tfg qualify=no dtmfmode=inband
conf_sip_peer 102-tfg qualify=no dtmfmode=auto
conf_sip_peer 103-tfg qualify=no
conf_sip_peer 104-tfg qualify=no dtmfmode=bogus
cat > "$CONF/extensions.conf" <<'EOF2'
[general]
static=yes
writeprotect=yes

[default]
exten => 700,1,Answer()
 same => n,Read(KEYS,,4,,1,4)
 same => n,Verbose(keys-${CHANNEL(peername)}=[${KEYS}])
 same => n,Hangup()
EOF2
tandem_start
grep -qE "sip.conf:[0-9]+: Unknown dtmf mode 'bogus'" "$E2E_LOG" ||
	fail "no FILE:LINE warning for dtmfmode=bogus"
ok "dtmfmode=bogus: $(grep -o "sip.conf:[0-9]*: Unknown dtmf mode 'bogus'" "$E2E_LOG")"
UAC_PORT=$(free_port)

# tones PCAP KEYS: the keys as tones, 0.3 s apart from 0.5 s, in 3.5 s of audio
tones() {
	local spec='' i=0 k
	for k in $(echo "$2" | grep -o .); do
		spec="$spec${spec:+,}$(python3 -c "print(0.5 + $i * 0.3)"):$k"
		i=$((i + 1))
	done
	python3 "$AUDIO/mktones.py" "$T/tones.wav" 3.5 "$spec" || fail "mktones"
	python3 "$AUDIO/mkvoice.py" "$1" "$T/tones.wav" 0x544f4e45 || fail "mkvoice"
}
# call NAME PEER SCENARIO: 700 from PEER playing $T/digits.pcap; prints the keys read
call() {
	local name=$1 peer=$2 sc=$3 rc=0
	users_csv "$T/caller.csv" "$peer"
	sipp_run "$name" 40 -sf "$SIPP_DIR/$sc" -inf "$T/caller.csv" -i "$SIP_ADDR" \
		-p "$UAC_PORT" -mp "$(free_port)" -key rtpport "$(free_port)" -d 300 \
		-s 700 -m 1 "$(hostport "$SIP_ADDR" "$SIP_PORT")" || rc=$?
	[ $rc = 0 ] || { sipp_fail_details "$name"; fail "$name: the call failed (SIPp exited $rc)"; }
	wait_until 5 "$name: the call is over" no_calls
	grep -o "keys-$peer=\[[^]]*\]" "$E2E_LOG" | tail -n 1 | sed -E 's/.*\[(.*)\]/\1/'
}

tones "$T/digits.pcap" 1934
K=$(call inband 100-tfg ivr_uac.xml)
assert_eq "$K" 1934 "keys read from 100-tfg's tones (dtmfmode=inband)"
grep -q "in-band DTMF detection on the caller's audio" "$E2E_LOG" || fail "no log line for in-band detection"
ok "dtmfmode=inband: tones 1934 read as 1934"

tones "$T/digits.pcap" 5678
K=$(call auto_noevent 102-tfg ivr_uac_noevent.xml)
assert_eq "$K" 5678 "keys read from 102-tfg's tones (dtmfmode=auto, no telephone-event)"
ok "dtmfmode=auto without telephone-event: tones 5678 read"

tones "$T/digits.pcap" 2468
K=$(call auto_event 102-tfg ivr_uac.xml)
assert_eq "$K" "" "keys read from tones with dtmfmode=auto and telephone-event offered"
K=$(call rfc2833 103-tfg ivr_uac.xml)
assert_eq "$K" "" "keys read from tones with the default dtmfmode (rfc2833)"
ok "auto with telephone-event and rfc2833: tones are not keys"

# both ways at once: every key read once
tones "$T/tones.pcap" 2580
python3 "$AUDIO/mkdtmf.py" "$T/events.pcap" 0.5:2,0.8:5,1.1:8,1.4:0 || fail "mkdtmf"
python3 - "$T/tones.pcap" "$T/events.pcap" "$T/digits.pcap" <<'PY' || fail "merging the captures"
import struct, sys
def frames(p):
    b = open(p, 'rb').read(); o = 24; out = []
    while o < len(b):
        s, us, n, _ = struct.unpack('<IIII', b[o:o + 16]); out.append((s * 10**6 + us, b[o:o + 16 + n])); o += 16 + n
    return b[:24], out
h, a = frames(sys.argv[1]); _, e = frames(sys.argv[2])
open(sys.argv[3], 'wb').write(h + b''.join(f for _, f in sorted(a + e, key=lambda x: x[0])))
PY
K=$(call both 100-tfg ivr_uac.xml)
assert_eq "$K" 2580 "keys read from 100-tfg sending tones and RFC 4733 events"
ok "dtmfmode=inband with RFC 4733 events too: 2580 read once each"

assert_alive "after the calls"
tandem_stop_checked
grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$E2E_LOG" && fail "sanitizer output"
exit 0
