#!/bin/bash
# A restored call whose phones vanished still ends by rtptimeout, counted
# from when they went silent, not from the failover (docs/design/cluster.md
# 9.1, docs/failover.md): SIPp as the caller (100-tfg, call_uac_load.xml)
# and as the callee (a static peer with rtptimeout=8, call_uas.xml), both
# in tc, on the netns cluster (lib_netns.sh, keepalived). Neither sends
# RTP: both legs are silent from the answer. kill -9 of the active 4.5 s
# after the answer, once the snapshot saying so went out (a leg silent for
# 2 s, looked at once a second). The new active restores the call and
# hangs it up by rtptimeout 8 s after the answer (log "silent since ... s
# before the restore"), not 8 s after the failover: checked as the end
# 2.5-6 s after the kill and no sooner than 7.5 s after the answer. The
# callee gets the BYE (its scenario completes); the record once on the new
# active, ANSWERED, the killed node's uniqueid. No sanitizer report. Needs
# root, keepalived, sipp (exit 77 otherwise). Label: cluster.
. "$(dirname "$0")/lib_netns.sh"
. "$(dirname "$0")/lib_baresip.sh"   # bs_cluster_conf, calls_states, cdr_json

command -v sipp > /dev/null || nn_skip "needs sipp"
nn_require
nn_net
bs_cluster_conf 'exten => 300,1,Dial(SIP/callee1,30)'
for n in a b; do
	printf '[callee1]\ntype=peer\nhost=%s\nport=5090\ncontext=from-tfg\nqualify=no\n' \
		"$CL" >> "$T/c$n/sip.conf"
	printf 'disallow=all\nallow=alaw\nrtptimeout=8\n\n' >> "$T/c$n/sip.conf"
done
printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$T/caller.csv"

nn_pair_up
s=$other

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

mkdir -p "$T/uas" "$T/uac"
( cd "$T/uas" && exec ip netns exec "$NS_C" timeout -k 3 45 sipp -nostdin -trace_err \
	-trace_logs -sf "$TANDEM_SRC/tests/e2e/sipp/call_uas.xml" -i "$CL" -p 5090 -m 1 ) \
	> "$T/uas/out" 2>&1 &
uas_pid=$!
NN_PIDS+=("$uas_pid")
sleep 0.5
( cd "$T/uac" && exec ip netns exec "$NS_C" timeout -k 3 45 sipp -nostdin -trace_err \
	-sf "$NN_DIR/sipp/call_uac_load.xml" -inf "$T/caller.csv" -i "$CL" -p 5080 \
	-s 300 -m 1 -d 30000 "$VIP:5060" ) > "$T/uac/out" 2>&1 &
uac_pid=$!
NN_PIDS+=("$uac_pid")
nn_wait 10 "the call 100-tfg -> 300 Up on $act" call_up "$act"
t_up=$(now_ms)
sleep 4.5     # silent 2 s, looked at within 1 s: the snapshot says so
t_k=$(now_ms)
kill -KILL "${NN_TPID[$act]}"
wait "${NN_TPID[$act]}" 2>/dev/null
nn_wait 10 "$s ACTIVE after kill -9 of $act" nn_is "$s" ACTIVE
grep -q "call .* restored (" "$T/$s.log" || nn_fail "$s restored no call: $(grep -h 'call' "$T/$s.log" | tail -n 3)"
nn_note "ok: kill -9 of $act $(( t_k - t_up )) ms after the answer: $(grep -h 'restored (' "$T/$s.log" | tail -n 1 | sed 's/.*NOTICE: //')"
grep -q "silent since .* before the restore" "$T/$s.log" ||
	nn_fail "$s did not carry the silence: $(grep -h "call 1:" "$T/$s.log" | tail -n 3)"
nn_wait 15 "the restored call ended by rtptimeout on $s" no_calls "$s"
t_end=$(now_ms)
grep -q "within rtptimeout: hanging up" "$T/$s.log" ||
	nn_fail "the call on $s did not end by rtptimeout: $(grep -h "call 1" "$T/$s.log" | tail -n 3)"
(( t_end - t_k >= 2500 && t_end - t_k <= 6000 && t_end - t_up >= 7500 )) ||
	nn_fail "rtptimeout 8 s: the call ended $(( t_end - t_up )) ms after the answer, $(( t_end - t_k )) ms after the kill (expected 8 s after the answer)"
nn_note "ok: ended by rtptimeout $(( t_end - t_up )) ms after the answer, $(( t_end - t_k )) ms after the kill (50 ms polls; from the failover it would be 8 s + the takeover): $(grep -h 'silent since' "$T/$s.log" | tail -n 1 | sed 's/.*INFO: //')"
for _ in $(seq 1 100); do kill -0 "$uas_pid" 2>/dev/null || break; sleep 0.1; done
wait "$uas_pid"; rc=$?
[ "$rc" = 0 ] || nn_fail "the callee's SIPp (call_uas.xml) exit $rc: got no BYE? $(tail -n 5 "$T/uas/out")"
nn_note "ok: the callee got the BYE from $s"
nn_stop_pid "$uac_pid" 5
cdr_json "$s" || nn_fail "tandemctl cdr --json on $s"
out=$(python3 - "$T/cdr.$s.json" "$act" <<'PY'
import json, sys
r = [r for r in json.load(open(sys.argv[1]))["cdr"] if r["dst"] == "300"]
if len(r) != 1 or r[0]["disposition"] != "ANSWERED" or not r[0]["uniqueid"].startswith(sys.argv[2] + "-"):
    print("expected one record -> 300, ANSWERED, by %s: %s" % (sys.argv[2], r))
    sys.exit(1)
print("%s ANSWERED billsec %s" % (r[0]["uniqueid"], r[0]["billsec"]))
PY
) || nn_fail "the record on $s: $out"
nn_note "ok: the record once on $s: $out"

# stopped by SIGTERM, so that a sanitizer build reports leaks too
nn_stop_pid "${NN_TPID[$s]}" 10
! grep -E "runtime error|AddressSanitizer|LeakSanitizer" "$T/a.log" "$T/b.log" || nn_fail "sanitizer report"
exit 0
