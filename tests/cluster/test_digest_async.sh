#!/bin/bash
# `tandemctl cluster digest` does not stop the node serving (design 8.5):
# the hashing runs in a thread on a read-only connection whose snapshot the
# loop pinned. engine = none, one node (a) with a cdr.db of DIGEST_ROWS
# call records (default 400,000, about 120 MB) written before it starts;
# the prober in tc sends OPTIONS to a every 20 ms while tandemctl computes
# the digest three times. Checks: the digest is the same each time and
# takes a measurable time (> 100 ms, else the test proves nothing), and no
# gap between two answers to the prober during it exceeds 100 ms (the loop
# blocked for the whole hash before: 0.5 s on a 369 MB cdr.db).
. "$(dirname "$0")/lib_netns.sh"
export NN_ENGINE=none
ROWS=${DIGEST_ROWS:-400000}

nn_require
nn_net
nn_conf a
nn_conf b
nn_start a
nn_wait 10 "a answers" nn_ctl a status
nn_stop_pid "${NN_TPID[a]}" 5
python3 - "$T/da/cdr.db" "$ROWS" <<'EOF' || nn_fail "cannot fill cdr.db"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = int(sys.argv[2])
pad = "x" * 200
db.execute("BEGIN")
db.executemany(
    "INSERT INTO cdr (calldate, src, dst, lastdata, uniqueid, start, \"end\", sequence) "
    "VALUES ('2026-01-01 00:00:00', ?, '101', ?, ?, '2026-01-01 00:00:00', "
    "'2026-01-01 00:00:10', ?)",
    ((str(i % 1000), pad, "a-1767225600.%d" % i, i) for i in range(n)))
db.execute("COMMIT")
db.close()
EOF
nn_note "cdr.db: $ROWS rows, $(( $(stat -c %s "$T/da/cdr.db") / 1048576 )) MB"
nn_start a
nn_wait 10 "a answers" nn_ctl a status
nn_ctl a cluster takeover --force > "$T/ctl.out" 2>&1 || nn_fail "takeover a: $(cat "$T/ctl.out")"
nn_wait 10 "a ACTIVE" nn_is a ACTIVE

rm -f "$T/stop"
ip netns exec "$NS_C" python3 "$NN_DIR/prober.py" "$T/probe.log" "$T/stop" 120 0.02 5060 \
	10.0.0.1 &
NN_PROBER=$!
NN_PIDS+=("$!")
sleep 1
t0=$(now_ns)
for i in 1 2 3; do
	s=$(now_ns)
	nn_ctl a cluster digest --json > "$T/digest.$i" 2>&1 || nn_fail "digest: $(cat "$T/digest.$i")"
	echo $(( ($(now_ns) - s) / 1000000 )) >> "$T/digest.ms"
done
t1=$(now_ns)
sleep 0.5
nn_prober_stop
for i in 2 3; do
	cmp -s <(grep -v '"result"' "$T/digest.1") <(grep -v '"result"' "$T/digest.$i") ||
		nn_fail "the digest changed between runs: $(diff "$T/digest.1" "$T/digest.$i")"
done
grep -q '"cdr": "[0-9a-f]\{64\}"' "$T/digest.1" || nn_fail "no cdr digest: $(cat "$T/digest.1")"
ms=$(sort -n "$T/digest.ms" | head -1)
[ "$ms" -gt 100 ] || nn_skip "a digest took only $ms ms here: raise DIGEST_ROWS"
gap=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b { if (p) { g = ($1 - p) / 1e6; if (g > m) m = g } p = $1 }
	END { printf "%d", m }' "$T/probe.log")
n=$(awk -v a="$t0" -v b="$t1" '$1 >= a && $1 <= b' "$T/probe.log" | wc -l)
nn_note "3 digests in $(( (t1 - t0) / 1000000 )) ms (each $(tr '\n' ' ' < "$T/digest.ms")ms); $n answers to the prober meanwhile, longest gap $gap ms"
[ "$gap" -le 100 ] || nn_fail "SIP stalled for $gap ms during the digest"
exit 0
