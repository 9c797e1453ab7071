#!/bin/bash
# test_cdr_mariadb.sh: call records reach MariaDB; MariaDB stopped mid-test,
# calls made, MariaDB started again: every record arrives, none twice.
#
# A private mariadbd runs in $T/db on a unix socket only (no TCP). Calls
# through the B2BUA are not built yet, so the CDRs are driven by the unit
# test t_mariadb (tandem_unit cdr), which this script points at the server
# and gives the commands to stop, start, pause (SIGSTOP: a hung server)
# and resume it. Phases (see tests/unit/test_cdr.c):
#   up: 50 records arrive; down: 50 calls, records spooled, posting never
#   waits; up again: all 100, each once; down across a restart of the CDR
#   store: 20 more arrive after it; a replayed spool (lost ACK) writes
#   nothing twice; hung server: posting does not wait, stopping is bounded.
# Then this script counts the rows itself.
#
# Needs: mariadb-server (mariadbd, mariadb-install-db), mariadb-client.

. "$(dirname "$0")/lib.sh"

MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
[ -x "$MARIADBD" ] || { [ "${E2E_SKIP_MISSING:-0}" = 1 ] && skip "no mariadbd"; fail "no mariadbd (Debian: mariadb-server)"; }
need mariadb-install-db mariadb mariadb-admin
e2e_init
UNIT=$TANDEM_BUILD/tests/tandem_unit
[ -x "$UNIT" ] || fail "no $UNIT (build the tandem_unit target)"

DBDIR=$T/db SOCK=$T/mysql.sock DBPID=$T/mariadbd.pid
DBUSER=tandem DBPASS=cdr-$RANDOM$RANDOM DBNAME=tandemcdr
ROOTOPT=
[ "$(id -u)" = 0 ] && ROOTOPT=--user=root

# The helper scripts the C test runs (and cleanup uses): they act only on
# the mariadbd whose PID is in $DBPID, which db-start.sh started.
cat > "$T/db-start.sh" <<EOF
#!/usr/bin/env bash
"$MARIADBD" --no-defaults --datadir="$DBDIR" --socket="$SOCK" --skip-networking \\
	--pid-file="$T/mariadbd.own.pid" --log-error="$T/mariadbd.err" $ROOTOPT \\
	--innodb-buffer-pool-size=16M --skip-log-bin </dev/null >>"$T/mariadbd.out" 2>&1 &
echo \$! > "$DBPID"
for i in \$(seq 1 150); do
	mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1 && exit 0
	kill -0 \$(cat "$DBPID") 2>/dev/null || { echo "mariadbd exited" >&2; exit 1; }
	sleep 0.2
done
echo "mariadbd did not answer within 30 s" >&2
exit 1
EOF
cat > "$T/db-stop.sh" <<EOF
#!/usr/bin/env bash
[ -s "$DBPID" ] || exit 0
pid=\$(cat "$DBPID")
kill -CONT "\$pid" 2>/dev/null
kill -TERM "\$pid" 2>/dev/null
for i in \$(seq 1 300); do
	kill -0 "\$pid" 2>/dev/null || { rm -f "$DBPID"; exit 0; }
	sleep 0.1
done
kill -KILL "\$pid" 2>/dev/null
sleep 0.5
rm -f "$DBPID"
EOF
cat > "$T/db-pause.sh" <<EOF
#!/usr/bin/env bash
kill -STOP "\$(cat "$DBPID")"
EOF
cat > "$T/db-resume.sh" <<EOF
#!/usr/bin/env bash
kill -CONT "\$(cat "$DBPID")"
EOF
chmod +x "$T"/db-*.sh

# Stop our mariadbd whatever happens, then lib.sh's cleanup.
trap 'rc=$?; "$T/db-stop.sh" >/dev/null 2>&1; (exit $rc); e2e_cleanup' EXIT

sql() { timeout -k 2 20 mariadb --no-defaults --socket="$SOCK" -uroot -N -B -e "$1"; }

note "installing a private MariaDB in $DBDIR"
timeout -k 5 120 mariadb-install-db --no-defaults --datadir="$DBDIR" \
	--auth-root-authentication-method=normal --skip-test-db $ROOTOPT \
	> "$T/install-db.out" 2>&1 || fail "mariadb-install-db failed: $(tail -5 "$T/install-db.out")"
"$T/db-start.sh" || fail "mariadbd did not start: $(tail -20 "$T/mariadbd.err" 2>/dev/null)"
ok "mariadbd up (pid $(cat "$DBPID"), socket $SOCK, no TCP)"
sql "CREATE DATABASE $DBNAME; CREATE USER '$DBUSER'@'localhost' IDENTIFIED BY '$DBPASS';
     GRANT ALL ON $DBNAME.* TO '$DBUSER'@'localhost';" || fail "cannot create the database and user"

export TANDEM_TEST_MARIADB_SOCKET=$SOCK TANDEM_TEST_MARIADB_USER=$DBUSER
export TANDEM_TEST_MARIADB_PASSWORD=$DBPASS TANDEM_TEST_MARIADB_DATABASE=$DBNAME
export TANDEM_TEST_MARIADB_STOP=$T/db-stop.sh TANDEM_TEST_MARIADB_START=$T/db-start.sh
export TANDEM_TEST_MARIADB_PAUSE=$T/db-pause.sh TANDEM_TEST_MARIADB_RESUME=$T/db-resume.sh

note "running tandem_unit cdr against it (stops, starts and pauses MariaDB)"
timeout -k 5 280 "$UNIT" cdr > "$T/unit.out" 2>&1
rc=$?
grep -E '^\[ *(OK|FAILED|SKIPPED|ERROR|LINE|PASSED) *\]' "$T/unit.out" | sed 's/^/    /'
[ $rc = 0 ] || { E2E_LOG=$T/unit.out; fail "tandem_unit cdr: exit $rc"; }
grep -q '^\[       OK \] t_mariadb' "$T/unit.out" || { E2E_LOG=$T/unit.out; fail "t_mariadb did not run"; }
assert_file_match "$T/unit.out" 'cdr: MariaDB .* is down: .* call records wait in' "down logged"
assert_file_match "$T/unit.out" 'cdr: MariaDB .* is back; writing [0-9]+ spooled call records' "back logged"
ok "t_mariadb passed"

# Count for ourselves, as root, on the server the records went to.
[ -s "$DBPID" ] || "$T/db-start.sh" || fail "mariadbd did not start again"
counts=$(sql "SELECT COUNT(*), COUNT(DISTINCT uniqueid), SUM(disposition='ANSWERED'),
	      SUM(billsec > duration) FROM $DBNAME.cdr") || fail "cannot count the records"
assert_eq "$counts" "$(printf '130\t130\t45\t0')" "rows, distinct uniqueids, answered, billsec > duration"
ok "MariaDB holds 130 records, 130 distinct uniqueids"
"$T/db-stop.sh"
