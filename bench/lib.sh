# shellcheck shell=bash
# bench/lib.sh: helpers shared by the benchmarks (sourced, not run).
# Measuring from /proc (CPU ticks, memory, UDP drops), waiting for a
# quiet machine, free loopback ports, the shared benchmark lock; Tandem
# between a SIPp caller and callee with a packet sink (bench/calls,
# bench/media). Used by bench/calls/run.sh, bench/media/run.sh and
# bench/failover/run.sh; bench/register has its own copies of most of
# these and could source this file instead.

HZ=$(getconf CLK_TCK)
BENCH_LOCK=/tmp/anchors-bench.lock   # the lock run-kamailio-bench.sh takes

log() { echo "[$(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_tools() {  # TOOL...: die naming the missing ones
	local t miss=""
	for t in "$@"; do command -v "$t" >/dev/null || miss="$miss $t"; done
	[ -z "$miss" ] || die "missing:$miss (scripts/install-deps.sh bench installs them)"
}

# bench_lock: hold BENCH_LOCK (fd 9) until the script exits, so two
# benchmarks on the machine never overlap.
bench_lock() {
	exec 9>>"$BENCH_LOCK"
	log "waiting for $BENCH_LOCK (another benchmark may be running)"
	flock -w "${1:-1800}" 9 || die "could not get $BENCH_LOCK"
}

# free_ports N [LO HI]: N distinct loopback ports free for both UDP and
# TCP. With LO HI: ports in LO..HI (step 4) whose next 3 ports are free
# too (SIPp binds its media port + 2), away from the kernel's ephemeral
# range, so no other process's outgoing socket takes them between runs.
free_ports() {
	python3 - "$@" <<'EOF2'
import random, socket, sys
want = int(sys.argv[1])
lo, hi = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, 0)
got, keep = [], []
def free(p):
    out = []
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("0.0.0.0" if kind == socket.SOCK_DGRAM else "127.0.0.1", p))
        except OSError:
            s.close()
            for o in out:
                o.close()
            return None
        out.append(s)
    return out
cands = list(range(lo - lo % 4, hi - 3, 4)) if hi else []
random.shuffle(cands)
for _ in range(50 * want):
    if len(got) == want:
        break
    if hi:
        if not cands:
            break
        p = cands.pop()
        socks = [free(p + i) for i in range(4)]
        if not all(socks):
            for x in socks:
                for o in x or []:
                    o.close()
            continue
        keep += socks
    else:
        t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("0.0.0.0", p))
        except OSError:
            continue
        keep += [t, u]
    if p not in got:
        got.append(p)
print(" ".join(map(str, got)))
EOF2
}

# ticks PID...: utime+stime of the processes (all their threads), clock ticks
ticks() {
	local p s=0 f
	for p in "$@"; do
		f=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
		set -- $f; s=$((s + ${12} + ${13}))
	done; echo $s
}

# sysbusy: CPU of every process on the machine (utime+stime+cutime+cstime;
# children that exit inside a window count through the parent that reaps
# them), as the anchor script measures it: "others" = all - ours.
sysbusy() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk '{sub(/^.*\) /, ""); s += $12 + $13 + $14 + $15} END {print s}'
}

# softirq_ticks: CPU of the ksoftirqd threads (loopback packets whose
# delivery the sender's context did not finish are handled there).
softirq_ticks() {
	local p s=0
	for p in $(pgrep -x 'ksoftirqd/[0-9]+' 2>/dev/null); do s=$((s + $(ticks "$p"))); done
	echo $s
}

# wait_quiet: before a run, wait (up to QUIET_WAIT s) until the other
# processes on the machine use less than QUIET_PCT % of a core over 2 s.
wait_quiet() {
	local end=$(( $(date +%s) + ${QUIET_WAIT:-300} )) a b pct
	while :; do
		a=$(sysbusy); sleep 2; b=$(sysbusy)
		pct=$(( (b - a) * 100 / (2 * HZ) ))
		[ "$pct" -lt "${QUIET_PCT:-15}" ] && return 0
		if [ "$(date +%s)" -ge "$end" ]; then
			log "machine still busy (${pct}% of a core used by others); measuring anyway"
			return 0
		fi
		log "machine busy (${pct}% of a core used by others); waiting"
		sleep 8
	done
}

# pidtab FILE: "pid comm ticks" of every process now (utime+stime, own
# threads only), for top_delta.
pidtab() {
	for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done | awk '
		NF { c = $0; sub(/^[0-9]+ \(/, "", c); sub(/\) .*$/, "", c); gsub(/ /, "_", c)
		     r = $0; sub(/^.*\) /, "", r); split(r, a, " "); print $1, c, a[12] + a[13] }' > "$1"
}
# top_delta A B N: the N processes that used the most CPU between two
# pidtabs, as "comm pid %-of-a-core" over SECS (4th argument)
top_delta() {
	awk -v n="$3" -v secs="$4" -v hz="$HZ" 'FNR == NR { t[$1] = $3; next }
		{ d = $3 - ($1 in t ? t[$1] : 0); if (d > 0) print d, $2, $1 }' "$1" "$2" \
		| sort -rn | head -n "$3" \
		| awk -v secs="$4" -v hz="$HZ" '{ printf "%s(%s) %.0f%%; ", $2, $3, 100 * $1 / (secs * hz) }'
}

# udp_drops [ADDR:]PORT|LO-HI...: the drops column of /proc/net/udp summed
# over the sockets bound to these local ports (a port range LO-HI counts
# every port in it; ADDR:PORT only that address).
udp_drops() {
	cat /proc/net/udp 2>/dev/null | awk -v spec="$*" '
		BEGIN { n = split(spec, a, " ")
			for (i = 1; i <= n; i++) {
				if (a[i] ~ /-/) { split(a[i], r, "-"); lo[i] = r[1]; hi[i] = r[2] }
				else if (a[i] ~ /:/) { split(a[i], r, ":"); split(r[1], q, ".")
					ad[i] = sprintf("%02X%02X%02X%02X", q[4], q[3], q[2], q[1]); lo[i] = hi[i] = r[2] }
				else lo[i] = hi[i] = a[i] } }
		NR > 1 { split($2, la, ":"); p = strtonum("0x" la[2])
			for (i = 1; i <= n; i++)
				if (p >= lo[i] && p <= hi[i] && (ad[i] == "" || ad[i] == la[1])) { s += $NF; break } }
		END { print s + 0 }'
}

# mem_of PID...: "rss_kB pss_kB anon_kB" summed over the processes. PSS
# counts pages shared between them once (Kamailio's shared memory); anon
# is Pss_Anon + Pss_Shmem, the PSS without mapped files: unlike PSS it does
# not drop when another process maps the same libraries.
mem_of() {
	local p rss=0 pss=0 anon=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS/{print $2}' "/proc/$p/status" 2>/dev/null); rss=$((rss + ${v:-0}))
		v=$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null); pss=$((pss + ${v:-0}))
		v=$(awk '/^Pss_(Anon|Shmem):/{s += $2} END {print s + 0}' "/proc/$p/smaps_rollup" 2>/dev/null)
		anon=$((anon + ${v:-0}))
	done
	echo "$rss $pss $anon"
}

# children_of PID: PID and its direct children (Kamailio's processes)
children_of() { echo "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); }

# stop_pid PID [SECS]: SIGTERM, wait up to SECS (5), then SIGKILL the PID
# and the children it had.
stop_pid() {
	local pid=$1 i kids
	[ -n "$pid" ] || return 0
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 $(( ${2:-5} * 10 ))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	for i in $pid $kids; do kill -0 "$i" 2>/dev/null && kill -KILL "$i" 2>/dev/null; done
	wait "$pid" 2>/dev/null
	return 0
}

# pct TICKS SECS: TICKS as % of one core over SECS
pct() { awk -v t="$1" -v s="$2" -v hz="$HZ" 'BEGIN { if (s > 0) printf "%.1f", 100 * t / (s * hz); else print "NA" }'; }

host_info() {
	echo "date: $(date -Is)"
	echo "host: $(nproc) CPUs, $(awk '/MemTotal/{print $2" kB"}' /proc/meminfo), $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# ---------------------------------------------------------------- Tandem under load
# (bench/calls/run.sh and bench/media/run.sh)

# tandem_bench_conf DIR PORT CALLEE_PORT RTP_LO-RTP_HI: sip.conf with a
# caller peer that calls without authentication (no secret: its INVITEs
# are not challenged) and a fixed-address callee (no registration) on
# 127.0.0.1:CALLEE_PORT, A-law only, Tandem on 127.0.0.1:PORT; rtp.conf
# with that port range; tandem.conf logging warnings only. The caller
# writes DIR/extensions.conf (and whatever else it needs).
tandem_bench_conf() {
	mkdir -p "$1" || return 1
	cat > "$1/sip.conf" <<EOF2
; bench: the caller calls without authentication (no secret), the
; callee is a fixed-address peer (no registration); A-law only.
[general]
udpbindaddr=127.0.0.1:$2

[caller]
type=friend
host=dynamic
context=bench
disallow=all
allow=alaw

[callee]
type=peer
host=127.0.0.1
port=$3
context=bench
disallow=all
allow=alaw
EOF2
	printf '[general]\nrtpstart=%s\nrtpend=%s\n' "${4%-*}" "${4#*-}" > "$1/rtp.conf"
	printf '[log]\nlevel = warning\n' > "$1/tandem.conf"
}

# tandem_bench_start BUILD CONFDIR DATADIR LOG: tandemd in the background
# (TANDEM_PID), waiting up to 30 s until tandemctl status answers; 1 if
# it did not (the caller stops TANDEM_PID and says where the log is)
tandem_bench_start() {
	"$1/tandemd" -C "$2" -D "$3" -f >>"$4" 2>&1 &
	TANDEM_PID=$!
	local i
	for i in $(seq 1 300); do
		timeout 5 "$1/tandemctl" -D "$3" status >/dev/null 2>&1 && return 0
		kill -0 "$TANDEM_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# tandem_relays BUILD DATADIR: the RTP relays tandemd holds now (NA when
# it does not answer)
tandem_relays() {
	timeout 10 "$1/tandemctl" -D "$2" status --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["rtp"]["relays"])' 2>/dev/null || echo NA
}

# sink_start SECS ADDR:PORT...: a process (SINK_PID) holding, for SECS
# seconds, a UDP socket on each address with the smallest receive buffer
# and nobody reading: every datagram that arrives is counted by the kernel
# in its drops column (udp_drops ADDR:PORT). 1 if they did not all bind.
sink_start() {
	local secs=$1 i a n
	shift
	python3 -c '
import socket, sys, time
keep = []
for a in sys.argv[2:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    ip, port = a.split(":")
    s.bind((ip, int(port)))
    keep.append(s)
time.sleep(int(sys.argv[1]))' "$secs" "$@" &
	# shellcheck disable=SC2034  # for the caller
	SINK_PID=$!
	for i in $(seq 1 30); do
		n=0
		for a in "$@"; do
			grep -q "$(printf '%02X%02X%02X%02X:%04X' $(echo "${a%:*}" | awk -F. '{print $4, $3, $2, $1}') "${a#*:}")" \
				/proc/net/udp && n=$((n + 1))
		done
		[ "$n" = $# ] && return 0
		sleep 0.1
	done
	return 1
}
