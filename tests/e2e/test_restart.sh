#!/bin/bash
# Registrations survive a crash: peers register (SIPp), tandemd is killed
# with SIGKILL and started again on the same DATADIR; without any new
# REGISTER the bindings are listed and the peers shown registered. With
# qualify=yes the peer whose contact answers OPTIONS (a SIPp UAS) is
# "OK (N ms)" with a latency; the one whose contact is silent is not OK
# and becomes UNREACHABLE.
. "$(dirname "$0")/lib.sh"
e2e_init
need sipp

conf_sip_general realm=tandem minexpiry=60 defaultexpiry=120 maxexpiry=3600
conf_tfg_peers qualify=yes qualifyfreq=5
tandem_start

L1=$(free_port) L2=$(free_port)
sipp_register_ok reg100 100-tfg tf2020 "$L1"
sipp_register_ok reg101 101-tfg tf2020 "$L2"
wait_until 3 "100-tfg listed" is_registered 100-tfg
wait_until 3 "101-tfg listed" is_registered 101-tfg
c100=$(reg_get 100-tfg contact) c101=$(reg_get 101-tfg contact)
s100=$(reg_get 100-tfg source)
e100=$(reg_get 100-tfg expires_in) te=$(now_ms)
ok "registered: 100-tfg $c100, 101-tfg $c101"

# 100-tfg's contact port now answers OPTIONS; 101-tfg's stays silent.
bg uas timeout -k 3 200 sipp -sf "$SIPP_DIR/options_uas.xml" -i 127.0.0.1 -p "$L1" \
	-m 100000 -nostdin -trace_err -error_file "$T/sipp.uas.err"
UASPID=$BG_PID
qualified() { [[ $(peer_get 100-tfg status) =~ ^OK\ \([0-9]+\ ms\)$ ]]; }
wait_for 15 qualified || fail "before the restart: 100-tfg status '$(peer_get 100-tfg status)', expected 'OK (N ms)' (qualify=yes, qualifyfreq=5, SIPp answers OPTIONS)"
ok "before the restart: 100-tfg $(peer_get 100-tfg status)"

tandem_kill9
note "tandemd killed with SIGKILL; starting it again on the same DATADIR"
tandem_start

assert_eq "$(reg_get 100-tfg contact)" "$c100" "100-tfg contact after SIGKILL and restart"
assert_eq "$(reg_get 101-tfg contact)" "$c101" "101-tfg contact after SIGKILL and restart"
assert_eq "$(reg_get 100-tfg source)" "$s100" "100-tfg source after restart"
exp=$(reg_get 100-tfg expires_in)
gone=$(( ($(now_ms) - te + 999) / 1000 + 1 ))
[[ $exp =~ ^[0-9]+$ ]] && [ "$exp" -le "$e100" ] && [ "$exp" -ge $((e100 - gone - 2)) ] \
	|| fail "100-tfg expires_in after restart '$exp' (was $e100, ${gone}s ago): the expiry must be kept, not reset"
ok "registrations survived SIGKILL (100-tfg expires_in $e100 -> $exp)"
assert_eq "$(peer_get 100-tfg registered)" "true" "peers --json 100-tfg registered after restart"
assert_eq "$(peer_get 101-tfg registered)" "true" "peers --json 101-tfg registered after restart"
ok "peers --json shows both registered"

wait_for 15 qualified || fail "after the restart: 100-tfg status '$(peer_get 100-tfg status)', expected 'OK (N ms)'"
lat=$(peer_get 100-tfg latency_ms)
[[ $lat =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "peers --json 100-tfg latency_ms '$lat'"
ok "qualify after restart: 100-tfg '$(peer_get 100-tfg status)', latency_ms $lat"
unreachable() { [ "$(peer_get 101-tfg status)" = UNREACHABLE ]; }
wait_for 40 unreachable || fail "101-tfg (contact silent) status '$(peer_get 101-tfg status)', expected UNREACHABLE"
ok "qualify: 101-tfg UNREACHABLE"

stop_pid "$UASPID" 3 >/dev/null
assert_alive "end of test"
tandem_stop_checked
