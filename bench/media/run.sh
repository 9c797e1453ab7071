#!/bin/bash
# bench/media: how many callers listening to a prompt or to music on hold
# Tandem feeds from one core, and its CPU per 100 such streams, against
# the same number of calls whose audio Tandem only relays, in the same
# run (the baseline; Asterisk is not packaged in Debian 12). Loopback only.
# See README.md next to this file.
#
#   bench/media/run.sh
#
# Knobs (environment):
#   MODES      which feeds, in order                   "play moh relay"
#     play   Answer(), Playback(bench-prompt): a 300 s WAV (DATADIR/sounds/en),
#            read through Tandem's prompt cache, A-law out
#     moh    Answer(), MusicOnHold(): class default, a folder of 60 s WAVs
#     relay  Dial(SIP/callee): a SIPp callee streams A-law (rtp_stream,
#            looped) and Tandem relays it to the caller: the baseline
#   LEVELS     concurrent calls tried per mode, upwards  "100 200 400 800 1200 1600 2000"
#   RATE       calls per second that build a level                     200
#   SETTLE     seconds between the last call up and the window           3
#   WINDOW     seconds measured with every call up                      10
#   LOSS_MAX   fraction of the expected packets that may be missing   0.01
#   CPU_STOP   a level using this % of one core ends the mode's ladder  95
#   QUIET_PCT, QUIET_WAIT  wait before each level until others use < PCT % of a core (15, 60 s)
#   LOCK_WAIT  seconds to wait for the shared benchmark lock           1800
#   TANDEM_BUILD  where tandemd/tandemctl are              <repo>/build
#   OUT        results folder                     a new temp dir in /tmp
#
# Each caller (SIPp, 127.0.0.2) sends no audio; its SDP names a sink
# (127.0.0.3), a socket nobody reads whose kernel drop counter counts the
# 20 ms packets Tandem delivered. A level passes when every call is up and
# the sink got at least (1 - LOSS_MAX) of calls x 50 packets/s in the
# window. CPU is tandemd's (utime + stime from /proc) over the window.
# Output: one row per level on stdout, logs in OUT.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
. "$SRC/bench/lib.sh"

MODES=${MODES:-"play moh relay"}
LEVELS=${LEVELS:-"100 200 400 800 1200 1600 2000"}
RATE=${RATE:-200}
SETTLE=${SETTLE:-3}
WINDOW=${WINDOW:-10}
LOSS_MAX=${LOSS_MAX:-0.01}
CPU_STOP=${CPU_STOP:-95}
: "${QUIET_WAIT:=60}"
TANDEM_BUILD=${TANDEM_BUILD:-$SRC/build}
T=${OUT:-$(mktemp -d /tmp/bench-media.XXXXXX)}
mkdir -p "$T"
for m in $MODES; do case $m in play|moh|relay) ;; *) die "unknown mode $m (play moh relay)" ;; esac; done
need_tools sipp sox python3 timeout flock
[ -x "$TANDEM_BUILD/tandemd" ] || die "no tandemd in $TANDEM_BUILD (build first)"
bench_lock "${LOCK_WAIT:-1800}"

T_RTP=10000-20999 SINK=127.0.0.3 SINK_B=127.0.0.4
set -- $(free_ports 4 6000 7999)
[ $# = 4 ] || die "no free loopback ports"
TPORT=$1 UAS_PORT=$2 UAC_MP=$3 UAS_MP=$4
log "results in $T"

# ---------------------------------------------------------------- media and config
MAX_HOLD=0
for n in $LEVELS; do
	h=$(( n / RATE + 1 + SETTLE + WINDOW + 5 ))
	[ $h -gt $MAX_HOLD ] && MAX_HOLD=$h
done
python3 "$SRC/bench/calls/mkmedia.py" /usr/share/sip-tester/g711a.pcap "$T" $((MAX_HOLD + 10)) >&2 ||
	die "mkmedia.py failed"
mkdir -p "$T/tconf" "$T/sounds/en" "$T/moh"
# the prompt and the music: the caller's audio, looped (speech-like, not
# digital silence), 16-bit 8 kHz as prompts usually are
sox "$T/alaw.wav" -e signed-integer -b 16 "$T/one.wav" || die "sox"
sox $(for i in $(seq 1 45); do echo "$T/one.wav"; done) "$T/sounds/en/bench-prompt.wav" trim 0 300 || die "sox prompt"
for i in 1 2 3; do sox "$T/sounds/en/bench-prompt.wav" "$T/moh/music$i.wav" trim $((i * 10)) 60 || die "sox moh"; done
tandem_bench_conf "$T/tconf" "$TPORT" "$UAS_PORT" "$T_RTP" || die "cannot write $T/tconf"
cat > "$T/tconf/extensions.conf" <<'EOF'
[general]
static=yes
writeprotect=yes

[bench]
exten => play,1,Answer()
 same => n,Playback(bench-prompt)
 same => n,Hangup()
exten => moh,1,Answer()
 same => n,MusicOnHold()
 same => n,Hangup()
exten => relay,1,Dial(SIP/callee/relay)
 same => n,Hangup()
EOF
printf '[default]\nmode=files\ndirectory=%s\n' "$T/moh" > "$T/tconf/musiconhold.conf"
# the caller sends nothing; the callee streams (relay mode only)
sed -e '/play_pcap_audio=/d' -e '/rtp_stream="alaw.wav/d' "$SRC/bench/calls/uac_rtp.xml" > "$T/uac.xml"
sed -e '/MEDIA=pcap/d' "$SRC/bench/calls/uas_rtp.xml" > "$T/uas.xml"

# ---------------------------------------------------------------- processes
SPID='' UPID='' CPID='' SINKPID=''
stop_all() {
	local p
	for p in $CPID $UPID $SINKPID; do kill -TERM "$p" 2>/dev/null; done
	for p in $CPID $UPID $SINKPID; do wait "$p" 2>/dev/null; done
	stop_pid "$SPID" 5
	CPID='' UPID='' SINKPID='' SPID=''
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start_tandem() {
	rm -rf "$T/tdata"; mkdir -p "$T/tdata"
	cp -r "$T/sounds" "$T/tdata/"
	tandem_bench_start "$TANDEM_BUILD" "$T/tconf" "$T/tdata" "$T/tandemd.log"
	local rc=$?
	SPID=$TANDEM_PID
	[ $rc = 0 ] || die "tandemd did not start, see $T/tandemd.log"
}
relays() { tandem_relays "$TANDEM_BUILD" "$T/tdata"; }
start_sink() {  # SECS
	sink_start "$1" "$SINK:$UAC_MP"
	local rc=$?
	SINKPID=$SINK_PID
	[ $rc = 0 ] || die "the sink did not bind $SINK:$UAC_MP"
}
sink_count() { udp_drops "$SINK:$UAC_MP"; }

# level MODE N: one level; prints its row, returns 1 when the ladder ends
level() {
	local mode=$1 n=$2 hold up0 t0 t1 s0 s1 b0 b1 cpu others got want ok=pass rel
	wait_quiet
	start_tandem
	hold=$(( n / RATE + 1 + SETTLE + WINDOW + 5 ))
	start_sink $((hold + 20))
	if [ "$mode" = relay ]; then
		( cd "$T" && exec timeout -k 5 $((hold + 30)) sipp -nostdin -buff_size 1048576 -sf "$T/uas.xml" \
			-key rtp_sink "$SINK_B" -i 127.0.0.1 -p "$UAS_PORT" -mp "$UAS_MP" -rtp_threadtasks 100 \
			-m "$n" -trace_err -error_file "$T/$mode.$n.uas.err" ) > "$T/$mode.$n.uas.out" 2>&1 &
		UPID=$!
		sleep 0.5
	fi
	( cd "$T" && exec timeout -k 5 $((hold + 30)) sipp -nostdin -buff_size 1048576 -sf "$T/uac.xml" \
		-key rtp_sink "$SINK" -i 127.0.0.2 -mi 127.0.0.2 -mp "$UAC_MP" -s "$mode" \
		-d $(( (hold - 3) * 1000 )) -r "$RATE" -m "$n" -l "$n" \
		-trace_err -error_file "$T/$mode.$n.uac.err" "127.0.0.1:$TPORT" ) > "$T/$mode.$n.uac.out" 2>&1 &
	CPID=$!
	sleep $(( n / RATE + 1 + SETTLE ))
	up0=$(relays)
	t0=$(ticks "$SPID") s0=$(sink_count) b0=$(sysbusy)
	sleep "$WINDOW"
	t1=$(ticks "$SPID") s1=$(sink_count) b1=$(sysbusy)
	rel=$(relays)
	cpu=$(pct $((t1 - t0)) "$WINDOW")
	others=$(pct $(( (b1 - b0) - (t1 - t0) )) "$WINDOW")
	got=$(( (s1 - s0) / WINDOW )) want=$(( n * 50 ))
	wait "$CPID" 2>/dev/null; CPID=''
	[ -n "$UPID" ] && { wait "$UPID" 2>/dev/null; UPID=''; }
	stop_all
	[ "$up0" = "$n" ] && [ "$rel" = "$n" ] || ok="fail(calls up $up0/$rel of $n)"
	awk -v g="$got" -v w="$want" -v l="$LOSS_MAX" 'BEGIN { exit !(g >= w * (1 - l)) }' ||
		ok="fail(packets)"
	printf '%-6s %6d %8s %10s %9d %9d %7.3f %8s %s\n' "$mode" "$n" "$cpu" \
		"$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.2f", c * 100 / n }')" "$got" "$want" \
		"$(awk -v g="$got" -v w="$want" 'BEGIN { printf "%.3f", g / w }')" "$others" "$ok"
	[ "$ok" = pass ] || return 1
	awk -v c="$cpu" -v s="$CPU_STOP" 'BEGIN { exit !(c < s) }'
}

host_info > "$T/host.txt" 2>&1
log "$(sipp -v 2>&1 | grep -m1 SIPp); tandemd $TANDEM_BUILD/tandemd"
printf '%-6s %6s %8s %10s %9s %9s %7s %8s %s\n' mode calls cpu% cpu%/100 pkts/s expected ratio others% result
for mode in $MODES; do
	for n in $LEVELS; do
		level "$mode" "$n" || break
	done
done | tee "$T/results.txt"
