#!/bin/bash
# Queues from queues.conf with tandemctl (issue 4, item 4, the part without
# calls): the example's cola-tfg is listed with its static members;
# `tandemctl queue add|pause|unpause|remove` change it, text and --json agree,
# mistakes exit 1 with a message; dynamic members survive a restart
# (persistentmembers=yes, kept in Asterisk's DB family
# Queue/PersistentMembers); every change is a queue_log line in Asterisk's
# format (epoch|callid|queue|agent|event|data).
. "$(dirname "$0")/lib.sh"
e2e_init

conf_from_example
tandem_start

queue_json() {  # EXPR over `tandemctl queue show cola-tfg --json` (as d)
	ctl queue show cola-tfg --json > "$T/q.json" || fail "queue show --json: $(cat "$T/ctl.err")"
	jq_py "$T/q.json" "$1"
}
members() { queue_json "' '.join(m['interface'] for m in d['queues'][0]['members'])"; }

assert_eq "$(queue_json "d['queues'][0]['strategy']")" ringall "strategy of cola-tfg"
assert_eq "$(members)" "SIP/100-tfg SIP/101-tfg" "static members"
ok "cola-tfg from examples/tfg/queues.conf with its two members"

# the seed's peers are in call and pickup group 38 (for call pickup)
assert_eq "$(peer_get 100-tfg callgroup)" 38 "callgroup of 100-tfg"
assert_eq "$(peer_get 101-tfg pickupgroup)" 38 "pickupgroup of 101-tfg"
ok "callgroup/pickupgroup 38 of the seed's peers shown by tandemctl peers"

ctl queue add cola-tfg SIP/102-tfg 2 Recepcion > "$T/out" || fail "queue add: $(cat "$T/ctl.err")"
assert_file_match "$T/out" "Added interface 'SIP/102-tfg' to queue 'cola-tfg'" "queue add says so"
assert_eq "$(members)" "SIP/100-tfg SIP/101-tfg SIP/102-tfg" "members after add"
assert_eq "$(queue_json "[m['penalty'] for m in d['queues'][0]['members'] if m['dynamic']][0]")" 2 "penalty"
ctl queue pause cola-tfg SIP/102-tfg lunch >/dev/null || fail "queue pause: $(cat "$T/ctl.err")"
assert_eq "$(queue_json "[m['paused'] for m in d['queues'][0]['members'] if m['dynamic']][0]")" True "paused"
ctl queue show cola-tfg > "$T/show.txt" || fail "queue show"
assert_file_match "$T/show.txt" "SIP/102-tfg.*dynamic.*paused" "text view shows the paused dynamic member"
ok "add and pause"

rc=0; ctl queue add nosuch SIP/1 >/dev/null || rc=$?
assert_eq "$rc" 1 "exit status for an unknown queue"
assert_file_match "$T/ctl.err" "No such queue" "message for an unknown queue"
rc=0; ctl queue add cola-tfg SIP/102-tfg >/dev/null || rc=$?
assert_eq "$rc" 1 "exit status for a member added twice"
rc=0; ctl queue frobnicate >/dev/null || rc=$?
assert_eq "$rc" 1 "exit status for an unknown subcommand"
ok "mistakes exit 1 with a message"

ctl db show Queue > "$T/db.txt" || fail "db show Queue"
assert_file_match "$T/db.txt" "^/Queue/PersistentMembers/cola-tfg +: SIP/102-tfg;2;1;Recepcion" \
	"the dynamic member in Asterisk's persistent format"
tandem_stop_checked
tandem_start
assert_eq "$(members)" "SIP/100-tfg SIP/101-tfg SIP/102-tfg" "members after a restart"
assert_eq "$(queue_json "[m['paused'] for m in d['queues'][0]['members'] if m['dynamic']][0]")" True \
	"paused after a restart"
ok "the dynamic member and its pause survive a restart"

ctl queue unpause cola-tfg SIP/102-tfg >/dev/null || fail "queue unpause: $(cat "$T/ctl.err")"
ctl queue remove cola-tfg SIP/102-tfg >/dev/null || fail "queue remove: $(cat "$T/ctl.err")"
assert_eq "$(members)" "SIP/100-tfg SIP/101-tfg" "members after remove"
ctl reload >/dev/null || fail "reload"
assert_eq "$(members)" "SIP/100-tfg SIP/101-tfg" "members after a reload"
ok "unpause, remove, reload"

QL=$DATA/queue_log
for ev in QUEUESTART ADDMEMBER PAUSE UNPAUSE REMOVEMEMBER; do
	grep -Eq "^[0-9]{10}\|[^|]*\|[^|]*\|[^|]*\|$ev(\||$)" "$QL" ||
		fail "no $ev line in queue_log: $(cat "$QL")"
done
assert_file_match "$QL" "^[0-9]+\|NONE\|cola-tfg\|Recepcion\|PAUSE\|lunch$" "PAUSE with its reason (agent = member name, as app_queue)"
ok "queue_log has QUEUESTART, ADDMEMBER, PAUSE (with reason), UNPAUSE, REMOVEMEMBER"
tandem_stop_checked
