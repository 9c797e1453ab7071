#!/bin/bash
# Only the serving node writes call records to MariaDB (docs/cdr.md,
# docs/failover.md). engine = none, namespaces as in lib_netns.sh; one
# private mariadbd on a unix socket (no TCP) that both nodes reach; its
# cdr table deliberately has NO unique key on uniqueid, so a record a
# standby sends as well shows up as a second row.
#  - a active (takeover --force), b standby in sync; SIPp in tc registers
#    101-tfg and answers as a UAS; SIPp calls 101-tfg through the VIP N
#    times: MariaDB holds N rows, N distinct uniqueids (b sent nothing);
#  - cluster standby on a, takeover on b; M more calls: N+M rows, N+M
#    distinct (a stopped writing, b writes, nothing twice);
#  - b logs nothing about MariaDB while standby.
#  - the writer thread (named tandem-cdrdb) runs on the active only: not
#    on b while standby, stopped on a when it steps down, started on b;
#  - records spooled on a (INSERT revoked: MariaDB refuses them) when a
#    steps down are not lost: b sends them once INSERT is granted again.
# Needs root, mariadb-server, mariadb-client, sipp. Label: cluster.
. "$(dirname "$0")/lib_netns.sh"
export NN_ENGINE=none
N=${N:-5} M=${M:-4}
SIPP_DIR=$TANDEM_SRC/tests/e2e/sipp
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
[ -x "$MARIADBD" ] || nn_skip "needs mariadbd (Debian: mariadb-server)"
for t in mariadb-install-db mariadb mariadb-admin sipp; do
	command -v "$t" >/dev/null || nn_skip "needs $t"
done
up() { [ -n "$(nn_state "$1")" ]; }

nn_require
nn_net
SOCK=$T/my.sock DBNAME=tandemcdr DBUSER=tandem DBPASS=cdr-$RANDOM$RANDOM
sql() { timeout -k 2 20 mariadb --no-defaults --socket="$SOCK" -uroot -N -B -e "$1"; }
timeout -k 5 120 mariadb-install-db --no-defaults --datadir="$T/db" --user=root \
	--auth-root-authentication-method=normal --skip-test-db > "$T/install-db.out" 2>&1 ||
	nn_fail "mariadb-install-db: $(tail -3 "$T/install-db.out")"
"$MARIADBD" --no-defaults --datadir="$T/db" --socket="$SOCK" --skip-networking --user=root \
	--pid-file="$T/mariadbd.pid" --log-error="$T/mariadbd.err" \
	--innodb-buffer-pool-size=16M --skip-log-bin < /dev/null > "$T/mariadbd.out" 2>&1 &
NN_PIDS+=("$!")
db_up() { timeout -k 2 5 mariadb-admin --no-defaults --socket="$SOCK" -uroot ping > /dev/null 2>&1; }
nn_wait 30 "mariadbd answers" db_up
# INSERT is granted on the table (a table privilege applies at once to
# open connections, a database one only after their next USE)
sql "CREATE DATABASE $DBNAME; CREATE USER '$DBUSER'@'localhost' IDENTIFIED BY '$DBPASS';
     GRANT SELECT, CREATE ON $DBNAME.* TO '$DBUSER'@'localhost';
     CREATE TABLE $DBNAME.cdr (calldate DATETIME NOT NULL, src VARCHAR(80) NOT NULL DEFAULT '',
       dst VARCHAR(80) NOT NULL DEFAULT '', uniqueid VARCHAR(150) NOT NULL);
     GRANT SELECT, INSERT ON $DBNAME.cdr TO '$DBUSER'@'localhost';" ||
	nn_fail "cannot create the database, user and table"

for n in a b; do
	nn_conf "$n"
	c=$T/c$n
	printf '[general]\nudpbindaddr=0.0.0.0:5060\nrealm=tandem\n\n' > "$c/sip.conf"
	for p in 100-tfg 101-tfg; do
		printf '[%s]\ntype=friend\nhost=dynamic\nsecret=tf2020\ncontext=default\nqualify=no\n\n' \
			"$p" >> "$c/sip.conf"
	done
	printf '[default]\nexten => 101-tfg,1,Dial(SIP/101-tfg,10)\n same => n,Hangup()\n' \
		> "$c/extensions.conf"
	printf '\n[cdr]\nbackend = mariadb\nsocket = %s\nuser = %s\npassword = %s\ndatabase = %s\ntable = cdr\n' \
		"$SOCK" "$DBUSER" "$DBPASS" "$DBNAME" >> "$c/tandem.conf"
done
# NODE runs the MariaDB writer thread
writer() { grep -qx tandem-cdrdb /proc/"${NN_TPID[$1]}"/task/*/comm 2>/dev/null; }
nowriter() { ! writer "$1"; }
nn_start a
nn_start b
nn_wait 10 "a answers" up a
nn_ctl a cluster takeover --force > "$T/ctl.out" 2>&1 || nn_fail "takeover a: $(cat "$T/ctl.out")"
nn_wait 10 "a ACTIVE" nn_is a ACTIVE
nn_wait 20 "b STANDBY (in sync)" nn_is b STANDBY
nn_wait 5 "a (active) runs the MariaDB writer thread" writer a
nowriter b || nn_fail "b (standby) runs the MariaDB writer thread"
nn_note "ok: the writer thread runs on a (active), not on b (standby)"

CL=10.0.0.10
printf 'SEQUENTIAL\n101-tfg;tf2020\n' > "$T/callee.csv"
printf 'SEQUENTIAL\n100-tfg;tf2020\n' > "$T/caller.csv"
sipp_tc() {  # NAME SECS ARGS...
	local name=$1 secs=$2; shift 2
	( cd "$T" && exec ip netns exec "$NS_C" timeout -k 3 "$secs" sipp -nostdin \
		-trace_err -error_file "$T/sipp.$name.err" "$@" ) > "$T/sipp.$name.out" 2>&1
}
sipp_tc reg 20 -sf "$SIPP_DIR/register_auth.xml" -inf "$T/callee.csv" -i $CL -p 5070 \
	-m 1 "$VIP:5060" || nn_fail "REGISTER of 101-tfg: $(tail -3 "$T/sipp.reg.err" 2>/dev/null)"
calls() {  # NAME COUNT: COUNT calls 100-tfg -> 101-tfg through the VIP
	sipp_tc "uas.$1" 60 -sf "$SIPP_DIR/call_uas.xml" -i $CL -p 5070 -m "$2" &
	local uas=$!
	sleep 0.5
	sipp_tc "uac.$1" 60 -sf "$SIPP_DIR/call_uac_auth.xml" -inf "$T/caller.csv" -i $CL \
		-p 5080 -s 101-tfg -m "$2" -r 4 -d 200 "$VIP:5060" ||
		nn_fail "$1: SIPp UAC: $(tail -5 "$T/sipp.uac.$1.err" 2>/dev/null)"
	wait "$uas" || nn_fail "$1: SIPp UAS failed"
}
rows() { sql "SELECT COUNT(*), COUNT(DISTINCT uniqueid) FROM $DBNAME.cdr" | tr '\t' ' '; }
has() { [ "$(rows)" = "$1 $1" ]; }

calls first "$N"
nn_wait 15 "MariaDB holds $N rows (has: $(rows))" has "$N"
sleep 2   # b's rows, if it sent any, would be here by now
[ "$(rows)" = "$N $N" ] || nn_fail "after $N calls on a: rows, distinct uniqueids = $(rows)"
nn_note "ok: $N calls on a: $(rows) (rows, distinct): the standby sent nothing"

K=${K:-3}
sql "REVOKE INSERT ON $DBNAME.cdr FROM '$DBUSER'@'localhost'" || nn_fail "REVOKE INSERT"
calls spooled "$K"
spooled() {
	[ "$(nn_ctl a cdr status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["spooled"])')" -ge "$K" ] 2>/dev/null
}
nn_wait 10 "a holds $K records in its spool (INSERT refused)" spooled
[ "$(rows)" = "$N $N" ] || nn_fail "INSERT revoked, yet MariaDB has $(rows)"
nn_note "ok: $K calls on a with INSERT refused: spooled on a, MariaDB still $(rows)"

nn_ctl a cluster standby > "$T/ctl.out" 2>&1 || nn_fail "standby on a: $(cat "$T/ctl.out")"
nn_wait 5 "a STANDBY" nn_is a STANDBY
nn_wait 5 "a's writer thread stopped" nowriter a
grep -q "cdr: DEMOTING: MariaDB writer stopped" "$T/a.log" ||
	nn_fail "a logged no 'MariaDB writer stopped'"
nn_ctl b cluster takeover --force > "$T/ctl.out" 2>&1 || nn_fail "takeover b: $(cat "$T/ctl.out")"
nn_wait 5 "b ACTIVE" nn_is b ACTIVE
nn_wait 5 "b (active) runs the MariaDB writer thread" writer b
nowriter a || nn_fail "a (standby) runs the MariaDB writer thread again"
nn_note "ok: switchover: a's writer stopped, b's started"
sql "GRANT INSERT ON $DBNAME.cdr TO '$DBUSER'@'localhost'" || nn_fail "GRANT INSERT"
nn_wait 20 "MariaDB holds a's $((N + K)) rows through b (has: $(rows))" has $((N + K))
nn_note "ok: the $K records spooled on a when it stepped down were sent by b: $(rows)"
sipp_tc reg2 20 -sf "$SIPP_DIR/register_auth.xml" -inf "$T/callee.csv" -i $CL -p 5070 \
	-m 1 "$VIP:5060" || nn_fail "REGISTER of 101-tfg on b"
calls second "$M"
nn_wait 15 "MariaDB holds $((N + K + M)) rows (has: $(rows))" has $((N + K + M))
sleep 2
[ "$(rows)" = "$((N + K + M)) $((N + K + M))" ] || nn_fail "after the switchover: $(rows)"
nn_note "ok: switchover, $M calls on b: $(rows) (rows, distinct): none twice"
exit 0
