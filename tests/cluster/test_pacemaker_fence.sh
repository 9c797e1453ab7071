#!/bin/bash
# Fencing that really fences, under Pacemaker on one host
# (docs/pacemaker.md, "Fencing"): the pair of test_pacemaker.sh (Debian 12
# Corosync + Pacemaker, two nodes in network + mount + UTS namespaces,
# bench/failover/pcmk-pair.sh; tandemd as the promotable clone
# ocf:tandem:tandemd, IPaddr2 with the promoted instance), plus
# stonith-enabled=true and one stonith:fence_netns device per node
# (tests/cluster/fence_netns, seen as /usr/sbin/fence_netns inside the
# nodes: an overlay in their mount namespaces). fence_netns "off" kill -9's
# every process of the victim's network namespace, as a power-off would.
# The move: the promoted node's link is cut (its eth0 down; both nodes
# still run). Each side sees the other gone and wants to fence it; the
# device that fences the unpromoted node has pcmk_delay_base=10s, so the
# unpromoted node fences first (in production priority-fencing-delay or a
# delay on the standby's device protects the active node instead; here the
# point is a fence before a promotion). Checked:
#   - the old promoted node's processes are all gone (ip netns pids empty),
#     fenced by the survivor's fencer (stonith_admin --history);
#   - the survivor's Pacemaker promoted it only after the fence succeeded
#     (order of the two events in its pacemaker.log);
#   - the survivor answers on the address and lists the REGISTER (SIPp)
#     made before the cut.
# Needs root, pcs, corosync, pacemaker, resource-agents, sipp, overlayfs;
# exit 77 (skip) without them.
# shellcheck source=lib_pcmk.sh
. "$(dirname "$0")/lib_pcmk.sh"
tp_init stonith_admin
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
grep -qw overlay /proc/filesystems || skip "needs overlayfs (the fence agent over /usr/sbin)"
fail() { tp_fail "$@"; }
tp_fail_extra() { echo "---- fence.log" >&2; cat "$D/fence.log" >&2 2>/dev/null; }
tp_files
mkdir -p "$D/sbin"
install -m 755 "$TP_DIR/fence_netns" "$D/sbin/fence_netns"

# fencing: the active node's device without delay, the standby's with 10 s
tf_fencing() {
	local act=$1 sb=$2 f=/run/tf-st.xml
	pk_in n1 pcs cluster cib "$f" || return 1
	pk_in n1 pcs -f "$f" stonith create "fence-$act" fence_netns pidfile_dir="$D" \
		pcmk_host_list="$act" op monitor interval=60s || return 1
	pk_in n1 pcs -f "$f" stonith create "fence-$sb" fence_netns pidfile_dir="$D" \
		pcmk_host_list="$sb" pcmk_delay_base=10s op monitor interval=60s || return 1
	pk_in n1 pcs -f "$f" constraint location "fence-$act" avoids "$act" || return 1
	pk_in n1 pcs -f "$f" constraint location "fence-$sb" avoids "$sb" || return 1
	pk_in n1 pcs -f "$f" property set stonith-action=off || return 1
	pk_in n1 pcs -f "$f" property set stonith-enabled=true || return 1
	pk_in n1 pcs cluster cib-push "$f" || return 1
}
tf_stonith_started() {  # both devices running
	pk_mon n1 | python3 -c '
import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read())
n = sum(1 for res in r.iter("resource") if res.get("id", "").startswith("fence-") and
        res.get("role") == "Started" and res.get("failed") != "true")
sys.exit(0 if n == 2 else 1)'
}
regs_kept() { [ "$(tp_regs_on "$1")" = 100-tfg ]; }

T0=$(date +%s)
note "files in $W"
pk_setup "$D" || fail "the pair did not come up (see $D)"
pk_until 60 tp_unpromoted_on n1 || fail "tandem-clone did not settle (one promoted, one unpromoted)"
act=$(pk_active) || fail "no promoted node"
sb=$(pcmk_other "$act")
tf_fencing "$act" "$sb" > "$W/pcs-st.out" 2>&1 || fail "pcs stonith: $(tail -n 3 "$W/pcs-st.out")"
pk_until 60 tf_stonith_started || fail "the fence devices did not start"
note "ok: $act promoted, $sb unpromoted, fence-$act and fence-$sb (fence_netns) started ($(( $(date +%s) - T0 )) s)"

tp_register 100-tfg
pk_until 10 regs_kept "$sb" || fail "$sb (unpromoted) does not list 100-tfg: $(tp_regs_on "$sb")"

# ---- the cut: the promoted node keeps running, its link goes down
victim_ns=$PK$act
[ -n "$PK" ] && [ -n "$act" ] || fail "no namespace for the promoted node"
note "cutting $act's link (both nodes keep running)"
t_cut=$(date +%s.%N)
ip -n "$victim_ns" link set eth0 down || fail "ip -n $victim_ns link set eth0 down"
pk_until 90 tp_promoted_on "$sb" || fail "$sb not promoted after $act's link was cut"
t_prom=$(date +%s.%N)
[ -z "$(pk_ns_pids "$victim_ns")" ] || fail "$sb promoted but $act's processes still run: $(pk_ns_pids "$victim_ns" | tr '\n' ' ')"
wait "${PK_SUB[$act]}" 2>/dev/null
PK_PID[$act]='' PK_SUB[$act]=''
grep -q " off $act: off\$" "$D/fence.log" 2>/dev/null || fail "no fence of $act in $D/fence.log"
# the fencer's history on the survivor: $act turned off by $sb
hist=$(pk_in "$sb" stonith_admin --history "$act" --output-as=xml 2>/dev/null)
echo "$hist" | python3 -c '
import sys, xml.etree.ElementTree as E
r = E.fromstring(sys.stdin.read())
ok = [h for h in r.iter("fence_event") if h.get("target") == sys.argv[1] and
      h.get("status") == "success" and h.get("delegate") == sys.argv[2]]
sys.exit(0 if ok else 1)' "$act" "$sb" || fail "stonith_admin --history on $sb: no successful fence of $act by $sb: $hist"
# fence first, promote after: the order in the survivor's pacemaker.log
log=$D/$sb/log-pacemaker/pacemaker.log
lf=$(grep -n "Peer $act was terminated (off) by $sb" "$log" | head -n1 | cut -d: -f1)
lp=$(grep -n "Result of promote operation for tandem on $sb" "$log" | tail -n1 | cut -d: -f1)
[ -n "$lf" ] && [ -n "$lp" ] || fail "no fence ($lf) or promote ($lp) line in $log"
[ "$lf" -lt "$lp" ] || fail "$sb promoted (line $lp) before the fence of $act (line $lf) in $log"
pk_until 30 pk_vip_answers || fail "the address does not answer after the fence"
regs_kept "$sb" || fail "after the fence: $sb lists '$(tp_regs_on "$sb")', want 100-tfg"
tp_no_sanitizer_reports
t_fence=$(awk -v a="$t_cut" '/ off / { printf "%.1f", $1 - a; exit }' "$D/fence.log")
note "ok: $act fenced by $sb $t_fence s after the cut, then $sb promoted ($(awk -v a="$t_cut" -v b="$t_prom" 'BEGIN { printf "%.1f", b - a }') s after the cut), the address answers, 100-tfg kept"
note "ok: all ($(( $(date +%s) - T0 )) s)"
