#!/bin/bash
# bench/calls: calls with RTP both ways, a SIPp caller and a SIPp callee
# through Tandem (B2BUA with its RTP relay) and through Kamailio +
# rtpengine (stateful proxy, userspace relay over the ng protocol), in the
# same run, loopback only. See README.md next to this file.
#
#   bench/calls/run.sh [-q] [PHASE...]     PHASE: cps cpu conc (default all three)
#     -q   quick: fewer rates and levels, 1 repetition, short windows (~6 min)
#
# Knobs (environment; -q changes the defaults marked *):
#   RATES*     calls per second tried, upwards; the first failure stops "100 200 300 400 500 600 800 1000 1200 1500 2000"
#   BISECT*    extra runs between the last pass and the first failure       2
#   HOLD_MS    hold time of the cps/cpu calls (RTP flows all of it)       1000
#   MIN_SECS*  a cps/cpu run starts calls for at least this many seconds   10
#   MIN_CALLS  ... and at least this many calls                           1000
#   REPS*      confirmation runs at the ceiling, cpu runs, ladder repetitions 3
#   CPU_RATE   calls per second of the cpu phase                           200
#   LEVELS*    concurrent calls tried in the conc phase, upwards "250 500 1000 1250 1500 1750 2000 2250 2500"
#   CONC_RATE  calls per second that build up a level                       200
#   RAMP_MAX   ... or faster, so that the build-up lasts at most this (s)     10
#   SETTLE     seconds between the last call up and the window                3
#   WINDOW*    seconds the conc phase measures with every call up           10
#   CPU_STOP   a level whose relay uses this % of one core ends the ladder  95
#   LOSS_MAX   fraction of RTP that may go missing end to end             0.01
#   MEDIA_MIN  cps/cpu runs: RTP delivered / expected must reach this     0.95
#   MEDIA      how the caller SIPp sends RTP: stream (rtp_stream) or pcap
#              (play_pcap_audio; see README.md for what its raw sockets cost)  stream
#   SERVERS    "kamailio tandem" (either alone is fine)
#   CHILDREN   Kamailio UDP worker processes                                 4
#   SHM_MB     Kamailio shared memory                                      512
#   RTPE_ARGS  extra rtpengine options (e.g. --num-threads=1)
#   RTP_TASKS  MEDIA=stream: calls per SIPp RTP thread (-rtp_threadtasks)   100
#   SIPP_ARGS  extra options for every SIPp       "-buff_size 1048576"
#   QUIET_PCT, QUIET_WAIT*  wait before each run until others use < PCT % of a core (15, 120 s)
#   TANDEM_BUILD  where tandemd/tandemctl are                  <repo>/build
#   OUT        results folder                         a new temp dir in /tmp
#
# Media of every call: 20 ms G.711 A-law, 50 packets/s each way. Each
# side's SDP names a sink as its media address: a socket nobody reads,
# whose kernel drop counter counts what the relay delivered.
#   MEDIA=stream: caller SIPp (rtp_stream from 127.0.0.2) -> relay -> sink
#   127.0.0.4; callee SIPp (rtp_stream from 127.0.0.1) -> relay -> sink
#   127.0.0.3.  MEDIA=pcap: caller SIPp (play_pcap_audio, from 127.0.0.2)
#   -> relay -> callee SIPp (127.0.0.1, -rtp_echo) -> relay -> sink 127.0.0.3.
# See README.md for why the addresses differ.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
. "$SRC/bench/lib.sh"

QUICK=0
while getopts qh o; do
	case $o in
	q) QUICK=1 ;;
	*) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
PHASES=${*:-"cps cpu conc"}
for p in $PHASES; do case $p in cps|cpu|conc) ;; *) die "unknown phase $p (cps cpu conc)" ;; esac; done

if [ $QUICK = 1 ]; then
	: "${RATES:=100 200 400 800 1200}" "${BISECT:=1}" "${MIN_SECS:=5}" "${REPS:=1}"
	: "${LEVELS:=300 600 1000}" "${WINDOW:=5}" "${QUIET_WAIT:=30}" "${MIN_CALLS:=500}"
fi
RATES=${RATES:-"100 200 300 400 500 600 800 1000 1200 1500 2000"}
BISECT=${BISECT:-2}
HOLD_MS=${HOLD_MS:-1000}
MIN_SECS=${MIN_SECS:-10}
MIN_CALLS=${MIN_CALLS:-1000}
REPS=${REPS:-3}
CPU_RATE=${CPU_RATE:-200}
LEVELS=${LEVELS:-"250 500 1000 1250 1500 1750 2000 2250 2500"}
CONC_RATE=${CONC_RATE:-200}
RAMP_MAX=${RAMP_MAX:-10}
SETTLE=${SETTLE:-3}
WINDOW=${WINDOW:-10}
CPU_STOP=${CPU_STOP:-95}
LOSS_MAX=${LOSS_MAX:-0.01}
MEDIA_MIN=${MEDIA_MIN:-0.95}
MEDIA=${MEDIA:-stream}
RTP_TASKS=${RTP_TASKS:-100}
SERVERS=${SERVERS:-"kamailio tandem"}
CHILDREN=${CHILDREN:-4}
SHM_MB=${SHM_MB:-512}
RTPE_ARGS=${RTPE_ARGS:-}
SIPP_ARGS=${SIPP_ARGS:-"-buff_size 1048576"}
QUIET_PCT=${QUIET_PCT:-15}
QUIET_WAIT=${QUIET_WAIT:-120}
TANDEM_BUILD=${TANDEM_BUILD:-$SRC/build}
PPS=50                                  # RTP packets per second per direction (20 ms)

"$SRC/scripts/install-deps.sh" bench || die "scripts/install-deps.sh bench failed"
need_tools sipp kamailio kamcmd rtpengine python3 timeout flock top
case " $SERVERS " in *" tandem "*)
	[ -x "$TANDEM_BUILD/tandemd" ] && [ -x "$TANDEM_BUILD/tandemctl" ] \
		|| die "no tandemd/tandemctl in $TANDEM_BUILD (build first or set TANDEM_BUILD)" ;;
esac
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

T=$(mktemp -d /tmp/tandem-bench-calls.XXXXXX)
OUT=${OUT:-$T/results}
mkdir -p "$OUT"
RES=$OUT/results.tsv CONC=$OUT/conc.tsv
printf 'server\ttest\trate\tn\tok\tfailed\tretrans\telapsed_s\tachieved\tsrv_cpu_pct\tkam_cpu_pct\trtpe_cpu_pct\tcpu_ms_per_call\tuac_cpu_pct\tuas_cpu_pct\tsoftirq_pct\tother_cpu_pct\tmax_calls\trtd_ms\trtp_delivered\trtp_expected\tmedia_ratio\trelay_drops\techo_drops\tpass\n' > "$RES"
printf 'server\trep\tcalls\tup\tok\tfailed\twindow_s\tsrv_cpu_pct\tkam_cpu_pct\trtpe_cpu_pct\tcalls_per_core\tuac_cpu_pct\tuas_cpu_pct\tsoftirq_pct\tother_cpu_pct\tdelivered_pps\texpected_pps\tdelivery\trelay_loss\tgen_loss\trelay_drops\techo_drops\trss_idle_kB\tpss_idle_kB\tanon_idle_kB\trss_kB\tpss_kB\tanon_kB\tanon_per_call_B\tpss_per_call_B\trss_per_call_B\tpass\n' > "$CONC"

# ---------------------------------------------------------------- set-up
# RTP port ranges (below the ephemeral range, where the SIP and SIPp media
# ports come from): Tandem 10000-20999, rtpengine 21000-32767 (each call
# takes 4 ports: about 2,700 calls at once).
T_RTP=10000-20999 R_RTP=21000-32767
# SIP and SIPp media ports: 6000-7999, outside the ephemeral range (SIPp
# takes 8888 and up for its control socket)
set -- $(free_ports 8 6000 7999)
[ $# = 8 ] || die "could not find 8 free loopback ports in 6000-7999"
TPORT=$1 KPORT=$2 UAS_PORT=$3 UAC_PORT=$4 UAC_MP=$5 UAS_MP=$6 NG_PORT=$7 CLI_PORT=$8
SINK_A=127.0.0.3 SINK_B=127.0.0.4 UAC_MI=127.0.0.2

tandem_bench_conf "$T/tconf" "$TPORT" "$UAS_PORT" "$T_RTP" || die "cannot write $T/tconf"
cat > "$T/tconf/extensions.conf" <<'EOF'
[general]
static=yes
writeprotect=yes

[bench]
exten => _X.,1,Dial(SIP/callee/${EXTEN})
 same => n,Hangup()
EOF

# the caller's RTP: longer than the longest call of the run
max_hold_s() {
	local c m=$(( HOLD_MS / 1000 + 1 ))
	for c in $LEVELS; do
		local h=$(( RAMP_MAX + SETTLE + WINDOW + 8 ))
		[ $h -gt $m ] && m=$h
	done; echo $m
}
# MEDIA=stream: both sides stream and each direction ends in a sink.
# MEDIA=pcap: the caller plays the capture, the callee echoes it, only
# the caller's side has a sink (DIRS: directions counted at the sinks).
case $MEDIA in
pcap) DIRS=1 UAS_SINK=127.0.0.1 UAS_ECHO=-rtp_echo RTP_OPT= ;;
stream) DIRS=2 UAS_SINK=$SINK_B UAS_ECHO= RTP_OPT="-rtp_threadtasks $RTP_TASKS" ;;
*) die "MEDIA=$MEDIA: stream or pcap" ;;
esac
for f in uac_rtp.xml uas_rtp.xml; do
	grep -v "MEDIA=$([ "$MEDIA" = pcap ] && echo stream || echo pcap)" "$HERE/$f" > "$T/$f"
done
python3 "$HERE/mkmedia.py" /usr/share/sip-tester/g711a.pcap "$T" $(( $(max_hold_s) + 10 )) >&2 \
	|| die "could not make the RTP media"

SPID='' RPID='' SNAME='' SINKPID=''
stop_srv() {
	local p rc
	for p in $SPID $RPID; do   # a server that died under load is recorded
		kill -0 "$p" 2>/dev/null && continue
		wait "$p" 2>/dev/null; rc=$?
		log "SERVER DIED: $SNAME process $p ($(if [ "$p" = "$SPID" ]; then echo "$SNAME"; else echo rtpengine; fi)) exited with status $rc$( [ $rc -gt 128 ] && echo " (signal $((rc - 128)))") before it was stopped; see its log in $OUT"
		printf '%s\t%s\t%s\t%s\n' "$SNAME" "$p" "$rc" "${TAG:-}" >> "$OUT/crashes.tsv"
	done
	stop_pid "$SPID"; SPID=''
	stop_pid "$RPID"; RPID=''
}
stop_load() {  # SIPp runs and the sink still going when interrupted
	local f
	for f in "$T"/*.tpid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null; done
	[ -n "$SINKPID" ] && kill -TERM "$SINKPID" 2>/dev/null
	SINKPID=''
	return 0
}
trap 'stop_load; stop_srv' EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- servers
start_tandem() {
	rm -rf "$T/tdata"; mkdir -p "$T/tdata"
	tandem_bench_start "$TANDEM_BUILD" "$T/tconf" "$T/tdata" "$T/tandemd.log" && { SPID=$TANDEM_PID; return 0; }
	SPID=$TANDEM_PID
	log "tandemd did not start, see $T/tandemd.log"; stop_srv; return 1
}

rtpe_ping() {
	python3 - "$NG_PORT" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.3)
try:
    s.sendto(b"p1 d7:command4:pinge", ("127.0.0.1", int(sys.argv[1])))
    sys.exit(0 if b"pong" in s.recv(1000) else 1)
except OSError:
    sys.exit(1)
EOF
}
rtpe_sessions() {  # sessions rtpengine holds now
	python3 - "$CLI_PORT" <<'EOF'
import re, socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"list numsessions\n"); d = b""
    while True:
        x = s.recv(65536)
        if not x: break
        d += x
    m = re.search(rb"Current sessions own:\s*(\d+)", d) or re.search(rb"own[^\d]*(\d+)", d)
    print(int(m.group(1)) if m else "NA")
except OSError:
    print("NA")
EOF
}
start_kamailio() {
	rtpengine --table=-1 --interface=127.0.0.1 --listen-ng="127.0.0.1:$NG_PORT" \
		--listen-cli="127.0.0.1:$CLI_PORT" --port-min="${R_RTP%-*}" --port-max="${R_RTP#*-}" \
		--delete-delay=0 --foreground --log-stderr --log-level=4 $RTPE_ARGS >>"$T/rtpengine.log" 2>&1 &
	RPID=$!
	local i
	for i in $(seq 1 50); do rtpe_ping && break; kill -0 "$RPID" 2>/dev/null || break; sleep 0.2; done
	rtpe_ping || { log "rtpengine did not start, see $T/rtpengine.log"; stop_srv; return 1; }
	rm -f "$T/kctl"
	kamailio -f "$HERE/kamailio.cfg" -DD -E -m "$SHM_MB" -M 8 -Y "$T" -P "$T/kamailio.pid" \
		-A "UDP_CHILDREN=$CHILDREN" -A "LISTEN=udp:127.0.0.1:$KPORT" \
		-A "CALLEE=\"127.0.0.1:$UAS_PORT\"" -A "RTPENGINE=\"udp:127.0.0.1:$NG_PORT\"" \
		-A "CTLSOCK=\"unix:$T/kctl\"" >>"$T/kamailio.log" 2>&1 &
	SPID=$!
	for i in $(seq 1 100); do
		kamcmd -s "unix:$T/kctl" core.uptime >/dev/null 2>&1 && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.2
	done
	log "kamailio did not start, see $T/kamailio.log"; stop_srv; return 1
}
start_srv() { SNAME=$1; case $1 in tandem) start_tandem ;; kamailio) start_kamailio ;; esac; }
target() { case $SNAME in tandem) echo "127.0.0.1:$TPORT" ;; kamailio) echo "127.0.0.1:$KPORT" ;; esac; }
relay_range() { case $SNAME in tandem) echo $T_RTP ;; kamailio) echo $R_RTP ;; esac; }
# the server's processes: "SIP" part and relay part (Tandem: one process)
sip_pids() { case $SNAME in tandem) echo "$SPID" ;; kamailio) children_of "$SPID" ;; esac; }
rtpe_pids() { case $SNAME in kamailio) echo "$RPID" ;; esac; }
calls_up() {  # relays (Tandem) or sessions (rtpengine) held now
	case $SNAME in
	tandem) tandem_relays "$TANDEM_BUILD" "$T/tdata" ;;
	kamailio) rtpe_sessions ;;
	esac
}

# ---------------------------------------------------------------- load
# sink: the address in the caller's SDP. A socket with the smallest
# receive buffer that nobody reads: each packet that arrives is counted
# by the kernel in its drops column.
sinks() { echo "$SINK_A:$UAC_MP"; [ "$DIRS" = 2 ] && echo "$SINK_B:$UAS_MP"; }
start_sink() {  # SECS
	sink_start "$1" $(sinks) && { SINKPID=$SINK_PID; return 0; }
	SINKPID=$SINK_PID
	log "sinks did not bind $(sinks)"; return 1
}
stop_sink() { [ -n "$SINKPID" ] && { kill -TERM "$SINKPID" 2>/dev/null; wait "$SINKPID" 2>/dev/null; }; SINKPID=''; }
sink_count() { udp_drops $(sinks); }
echo_drops() { udp_drops "127.0.0.1:$UAS_MP"; }

# sipp_bg TAG SECS ARGS...: SIPp bounded by timeout(1), in the background;
# $T/TAG.tpid holds timeout's PID while it runs, $T/TAG.cpu SIPp's CPU
# ticks once done (cutime of the subshell that reaped it), $T/TAG.rc its
# exit status. BGPID: the subshell.
sipp_bg() {
	local tag=$1 secs=$2; shift 2
	(
		cd "$T" || exit 1
		timeout -k 5 "$secs" sipp -nostdin $SIPP_ARGS "$@" > "$T/$tag.out" 2>&1 &
		echo $! > "$T/$tag.tpid"
		wait $!
		echo $? > "$T/$tag.rc"
		rm -f "$T/$tag.tpid"
		me=$BASHPID
		f=$(cut -d')' -f2 "/proc/$me/stat"); set -- $f
		echo $((${14} + ${15})) > "$T/$tag.cpu"
	) &
	BGPID=$!
}
sipp_pid() { local t; t=$(cat "$T/$1.tpid" 2>/dev/null) && pgrep -P "$t" -x sipp | head -1; }
wait_bg() {  # PID SECS: wait for a background job, at most SECS, then kill it
	local i
	for i in $(seq 1 $(( $2 * 10 ))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then
		local tp; for tp in "$T"/*.tpid; do [ -f "$tp" ] && kill -TERM "$(cat "$tp")" 2>/dev/null; done
	fi
	wait "$1" 2>/dev/null
}
udp_bound() { grep -q ":$(printf '%04X' "$1") " /proc/net/udp; }

start_uas() {  # TAG N SECS
	sipp_bg "$1" "$3" -sf "$T/uas_rtp.xml" -i 127.0.0.1 -p "$UAS_PORT" -mi 127.0.0.1 -mp "$UAS_MP" \
		-key rtp_sink "$UAS_SINK" $UAS_ECHO $RTP_OPT -m "$2" -trace_err -error_file "$T/$1.err"
	UASBG=$BGPID
	local i
	for i in $(seq 1 50); do udp_bound "$UAS_PORT" && udp_bound "$UAS_MP" && return 0; sleep 0.1; done
	log "SIPp callee did not bind ports $UAS_PORT/$UAS_MP, see $T/$1.out"; return 1
}
start_uac() {  # TAG RATE N HOLD_MS SECS
	sipp_bg "$1" "$5" -sf "$T/uac_rtp.xml" -i 127.0.0.1 -p "$UAC_PORT" -mi "$UAC_MI" -mp "$UAC_MP" \
		-key rtp_sink "$SINK_A" $RTP_OPT -s 2000 -d "$4" -r "$2" -m "$3" \
		-trace_stat -stf "$T/$1.stat" -fd 1 -trace_err -error_file "$T/$1.err" "$(target)"
	UACBG=$BGPID
}

# snap: the counters a measured interval needs, as "name=value" words
snap() {
	echo "sip=$(ticks $(sip_pids)) rtpe=$(ticks $(rtpe_pids)) all=$(sysbusy) sirq=$(softirq_ticks)" \
		"sink=$(sink_count) rdrop=$(udp_drops "$(relay_range)") edrop=$(echo_drops) t=$(date +%s.%N)"
}

# ---------------------------------------------------------------- cps / cpu runs
# run_calls TEST RATE N: one measured run against a fresh server; a row in
# results.tsv; 0 if it passed (0 failed, all N done, >= 95 % of RATE
# achieved, RTP delivered end to end >= MEDIA_MIN of what was played).
run_calls() {
	local test=$1 rate=$2 n=$3 tag secs
	tag=$SNAME.$test.r$rate.$(date +%H%M%S%N); TAG=$tag
	secs=$(( n / rate + HOLD_MS / 1000 + 45 ))
	wait_quiet
	start_srv "$SNAME" || return 2
	start_sink $((secs + 30)) || { stop_srv; return 2; }
	start_uas "$tag.uas" "$n" $((secs + 10)) || { stop_sink; stop_load; stop_srv; return 2; }
	local a b
	pidtab "$T/$tag.pa"; a=$(snap)
	start_uac "$tag.uac" "$rate" "$n" "$HOLD_MS" "$secs"
	wait_bg "$UACBG" $((secs + 10))
	b=$(snap); pidtab "$T/$tag.pb"
	wait_bg "$UASBG" 10
	stop_sink
	stop_srv
	local st="$T/$tag.uac.stat $(cat "$T/$tag.uac.rc" 2>/dev/null || echo NA)"
	[ "${st##* }" = 124 ] && log "the caller SIPp did not exit after its last call: ended by timeout(1)"
	python3 "$HERE/row.py" calls "$SNAME" "$test" "$rate" "$n" "$HOLD_MS" $((PPS * DIRS)) "$MEDIA_MIN" "$HZ" \
		"$st" "$a" "$b" "$(cat "$T/$tag.uac.cpu" 2>/dev/null || echo 0)" \
		"$(cat "$T/$tag.uas.cpu" 2>/dev/null || echo 0)" >> "$RES"
	local row; row=$(tail -n1 "$RES")
	log "$(python3 "$HERE/row.py" say "$RES" "$row")"
	busy_note "$row" 17 "$tag" "$(echo "$row" | awk -F'\t' '{print $8}')"
	[ "$(echo "$row" | awk -F'\t' '{print $NF}')" = 1 ] || echo "$tag" >> "$OUT/keep"
	[ "$(echo "$row" | awk -F'\t' '{print $NF}')" = 1 ]
}
busy_note() {  # ROW COLUMN TAG SECS: name the busiest processes when others were busy
	local o; o=$(echo "$1" | awk -F'\t' -v c="$2" '{print $c}')
	awk -v o="$o" 'BEGIN { exit !(o + 0 > 25) }' \
		&& log "others used ${o}% of a core; busiest processes then: $(top_delta "$T/$3.pa" "$T/$3.pb" 6 "$4")"
	rm -f "$T/$3.pa" "$T/$3.pb"
	return 0
}

phase_cps() {
	local r s alive=" $SERVERS " best fail
	declare -A BEST FAIL
	for s in $SERVERS; do BEST[$s]=0; FAIL[$s]=0; done
	for r in $RATES; do
		for s in $SERVERS; do
			case $alive in *" $s "*) ;; *) continue ;; esac
			SNAME=$s
			if retry2 run_calls ramp "$r" "$(calls_for "$r")"; then BEST[$s]=$r
			else FAIL[$s]=$r; alive=${alive/ $s / }; fi
		done
		[ -n "${alive// /}" ] || break
	done
	for s in $SERVERS; do
		SNAME=$s best=${BEST[$s]} fail=${FAIL[$s]}
		local i mid
		for i in $(seq 1 "$BISECT"); do
			[ "$fail" -gt 0 ] && [ "$best" -gt 0 ] || break
			mid=$(( (best + fail) / 2 / 10 * 10 ))
			[ "$mid" -gt "$best" ] && [ "$mid" -lt "$fail" ] || break
			if retry2 run_calls bisect "$mid" "$(calls_for "$mid")"; then best=$mid; else fail=$mid; fi
		done
		log "$s: highest rate with 0 failed calls: $best/s (first failure: ${fail}/s; 0 = none up to the top rate)"
		printf '%s\t%s\t%s\n' "$s" "$best" "$fail" >> "$OUT/ceilings.tsv"
		BEST[$s]=$best
	done
	for i in $(seq 1 "$REPS"); do
		for s in $SERVERS; do
			SNAME=$s
			[ "${BEST[$s]}" -gt 0 ] && run_calls confirm "${BEST[$s]}" "$(calls_for "${BEST[$s]}")"
		done
	done
	return 0
}
# retry2 CMD...: run CMD; once more (after 10 s) if it could not set up (2)
retry2() {
	"$@"; local rc=$?
	[ $rc = 2 ] || return $rc
	log "set-up failed; trying once more in 10 s"
	stop_load; stop_srv; sleep 10
	"$@"
}
calls_for() { local m=$(( $1 * MIN_SECS )); [ "$m" -gt "$MIN_CALLS" ] && echo "$m" || echo "$MIN_CALLS"; }

phase_cpu() {
	local i s
	for i in $(seq 1 "$REPS"); do
		for s in $SERVERS; do SNAME=$s; run_calls cpu "$CPU_RATE" "$(calls_for "$CPU_RATE")"; done
	done
	return 0
}

# ---------------------------------------------------------------- concurrency
# conc_level REP C: C long calls built up at CONC_RATE, then WINDOW s with
# all of them up: relay CPU, RTP delivered end to end, kernel drops on the
# relay's sockets, memory against the idle server. A row in conc.tsv;
# 0 if it passed (every call up and completed, relay drops 0, RTP
# delivered >= 1 - LOSS_MAX of what the callers played).
conc_level() {
	local rep=$1 c=$2 tag ramp hold secs
	tag=$SNAME.conc$c.$rep.$(date +%H%M%S%N); TAG=$tag
	local crate=$CONC_RATE
	[ $(( c / crate )) -gt "$RAMP_MAX" ] && crate=$(( (c + RAMP_MAX - 1) / RAMP_MAX ))
	ramp=$(( (c + crate - 1) / crate ))
	hold=$(( ramp + SETTLE + WINDOW + 6 ))
	secs=$(( ramp + hold + 60 ))
	wait_quiet
	start_srv "$SNAME" || return 2
	sleep 1
	local idle; idle=$(mem_of $(sip_pids) $(rtpe_pids))
	start_sink $((secs + 30)) || { stop_srv; return 2; }
	start_uas "$tag.uas" "$c" $((secs + 10)) || { stop_sink; stop_load; stop_srv; return 2; }
	start_uac "$tag.uac" "$crate" "$c" $((hold * 1000)) "$secs"
	sleep $(( ramp + SETTLE ))
	local up0 up1 a b mem u0 u1 s0 s1 up uu
	up0=$(calls_up)
	u0=$(ticks $(sipp_pid "$tag.uac")) s0=$(ticks $(sipp_pid "$tag.uas"))
	pidtab "$T/$tag.pa"; a=$(snap)
	sleep "$WINDOW"
	b=$(snap); pidtab "$T/$tag.pb"
	u1=$(ticks $(sipp_pid "$tag.uac")) s1=$(ticks $(sipp_pid "$tag.uas"))
	mem=$(mem_of $(sip_pids) $(rtpe_pids))
	up1=$(calls_up)
	wait_bg "$UACBG" $((secs + 10))
	wait_bg "$UASBG" 10
	stop_sink
	stop_srv
	local st="$T/$tag.uac.stat $(cat "$T/$tag.uac.rc" 2>/dev/null || echo NA)"
	[ "${st##* }" = 124 ] && log "the caller SIPp did not exit after its last call: ended by timeout(1)"
	python3 "$HERE/row.py" conc "$SNAME" "$rep" "$c" $((PPS * DIRS)) "$LOSS_MAX" "$HZ" "$st" "$a" "$b" \
		"$((u1 - u0))" "$((s1 - s0))" "$idle" "$mem" "$up0" "$up1" >> "$CONC"
	local row; row=$(tail -n1 "$CONC")
	log "$(python3 "$HERE/row.py" say "$CONC" "$row")"
	busy_note "$row" 15 "$tag" "$WINDOW"
	[ "$(echo "$row" | awk -F'\t' '{print $NF}')" = 1 ] || echo "$tag" >> "$OUT/keep"
	[ "$(echo "$row" | awk -F'\t' '{print $NF}')" = 1 ] || return 1
	# one core used: the ladder ends here (this level counts)
	awk -v p="$(echo "$row" | awk -F'\t' '{print $8}')" -v s="$CPU_STOP" 'BEGIN { exit !(p + 0 < s) }' \
		|| { log "$SNAME: relay at ${CPU_STOP}% of a core or more: ladder ends"; return 3; }
	return 0
}

phase_conc() {
	local i c s alive rc
	for i in $(seq 1 "$REPS"); do
		alive=" $SERVERS "
		for c in $LEVELS; do
			for s in $SERVERS; do
				case $alive in *" $s "*) ;; *) continue ;; esac
				SNAME=$s
				retry2 conc_level "$i" "$c"; rc=$?
				[ $rc = 0 ] || alive=${alive/ $s / }
			done
			[ -n "${alive// /}" ] || break
		done
	done
	return 0
}

# ---------------------------------------------------------------- driver
bench_lock
log "results in $OUT (temp $T); Tandem on 127.0.0.1:$TPORT, Kamailio on 127.0.0.1:$KPORT, rtpengine ng on $NG_PORT"
{
	host_info
	kamailio -v | head -1
	echo "rtpengine $(rtpengine --version 2>&1 | head -1)"
	sipp -v 2>&1 | grep -m1 SIPp
	echo "tandem: $(cd "$SRC" && git rev-parse --short HEAD 2>/dev/null) $TANDEM_BUILD/tandemd"
	echo "PHASES=$PHASES QUICK=$QUICK RATES=$RATES BISECT=$BISECT HOLD_MS=$HOLD_MS MIN_SECS=$MIN_SECS MIN_CALLS=$MIN_CALLS REPS=$REPS CPU_RATE=$CPU_RATE"
	echo "LEVELS=$LEVELS CONC_RATE=$CONC_RATE RAMP_MAX=$RAMP_MAX SETTLE=$SETTLE WINDOW=$WINDOW CPU_STOP=$CPU_STOP LOSS_MAX=$LOSS_MAX MEDIA_MIN=$MEDIA_MIN"
	echo "MEDIA=$MEDIA RTP_TASKS=$RTP_TASKS SERVERS=$SERVERS CHILDREN=$CHILDREN SHM_MB=$SHM_MB RTPE_ARGS=$RTPE_ARGS SIPP_ARGS=$SIPP_ARGS"
} > "$OUT/versions.txt"
cat "$OUT/versions.txt" >&2

for p in $PHASES; do "phase_$p"; done

python3 "$HERE/summary.py" "$OUT" | tee "$OUT/summary.txt"
cp "$T"/tandemd.log "$T"/kamailio.log "$T"/rtpengine.log "$OUT/" 2>/dev/null
# keep the results and the SIPp output of failed runs; drop the rest
for f in "$T"/*.uac.stat; do
	[ -f "$f" ] || continue
	b=${f%.uac.stat}
	grep -q "$(basename "$b")" "$OUT/keep" 2>/dev/null && continue
	rm -f "$b".*
done
rm -f "$T/rtp.pcap" "$T/alaw.wav" "$T"/*.pa "$T"/*.pb
echo "Raw results: $OUT (results.tsv, conc.tsv, ceilings.tsv, summary.txt, versions.txt, logs)"
