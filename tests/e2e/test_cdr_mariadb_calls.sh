#!/bin/bash
# Call records of real calls reach MariaDB; MariaDB stopped mid-test does
# not block or slow calls, and every record arrives once it is back, none
# twice (issue "Calls", call records; docs/cdr.md "When MariaDB is down or
# slow").
#
# A private mariadbd runs in $T/db on a unix socket only (no TCP), started
# and stopped by this test by its PID. tandemd writes records to
# DATADIR/cdr.db and, through its spool, to MariaDB ([cdr] backend =
# mariadb, socket = ...). SIPp drives real calls through the B2BUA:
# 100-tfg (407 challenge) calls 101-tfg (a SIPp UAS), as test_call_basic.sh.
#
#   up:     N calls; MariaDB gets N rows while it is up.
#   down:   mariadbd stopped (SIGTERM to its PID); M more calls, all
#           succeed, with setup times (INVITE to 200, SIPp rtd) no worse
#           than a bound and comparable to the "up" phase; the records
#           wait in the spool (tandemctl cdr status); "is down" logged.
#   back:   mariadbd started again: within a bounded wait MariaDB holds
#           exactly N+M rows whose uniqueids are exactly the set in
#           DATADIR/cdr.db, none twice; the spool is empty; "is back"
#           logged.
#   hung:   mariadbd frozen (SIGSTOP: accepts nothing, answers nothing); H
#           more calls, not slowed; SIGCONT: N+M+H rows, same check.
#
# Needs: mariadb-server (mariadbd, mariadb-install-db), mariadb-client, sipp.

. "$(dirname "$0")/lib.sh"

MARIADBD=${MARIADBD:-$(command -v mariadbd || echo /usr/sbin/mariadbd)}
[ -x "$MARIADBD" ] || { [ "${E2E_SKIP_MISSING:-0}" = 1 ] && skip "no mariadbd"; fail "no mariadbd (Debian: mariadb-server)"; }
need mariadb-install-db mariadb mariadb-admin sipp
e2e_init
. "$(dirname "$0")/lib_call.sh"

N=6 M=8 H=4
SETUP_MAX_MS=${SETUP_MAX_MS:-1500}   # a call setup slower than this counts as blocked

DBDIR=$T/db SOCK=$T/mysql.sock
DBUSER=tandem DBPASS=cdr-$RANDOM$RANDOM DBNAME=tandemcdr
ROOTOPT=
[ "$(id -u)" = 0 ] && ROOTOPT=--user=root
DB_PID=

db_ping() { timeout -k 2 5 mariadb-admin --no-defaults --socket="$SOCK" -uroot ping >/dev/null 2>&1; }
db_start() {
	"$MARIADBD" --no-defaults --datadir="$DBDIR" --socket="$SOCK" --skip-networking \
		--pid-file="$T/mariadbd.own.pid" --log-error="$T/mariadbd.err" $ROOTOPT \
		--innodb-buffer-pool-size=16M --skip-log-bin </dev/null >>"$T/mariadbd.out" 2>&1 &
	DB_PID=$!
	db_alive_ping() { kill -0 "$DB_PID" 2>/dev/null || return 2; db_ping; }
	wait_for 30 db_alive_ping || fail "mariadbd (pid $DB_PID) did not answer within 30 s: $(tail -5 "$T/mariadbd.err" 2>/dev/null)"
}
db_stop() {  # SIGTERM to our mariadbd, SIGKILL after 30 s
	[ -n "$DB_PID" ] || return 0
	kill -CONT "$DB_PID" 2>/dev/null
	stop_pid "$DB_PID" 30 || note "mariadbd (pid $DB_PID) needed SIGKILL"
	DB_PID=
}
# Stop our mariadbd whatever happens, then lib.sh's cleanup.
trap 'rc=$?; db_stop >/dev/null 2>&1; (exit $rc); e2e_cleanup' EXIT

sql() { timeout -k 2 20 mariadb --no-defaults --socket="$SOCK" -uroot -N -B -e "$1"; }

note "installing a private MariaDB in $DBDIR"
timeout -k 5 120 mariadb-install-db --no-defaults --datadir="$DBDIR" \
	--auth-root-authentication-method=normal --skip-test-db $ROOTOPT \
	> "$T/install-db.out" 2>&1 || fail "mariadb-install-db failed: $(tail -5 "$T/install-db.out")"
db_start
ok "mariadbd up (pid $DB_PID, socket $SOCK, no TCP)"
sql "CREATE DATABASE $DBNAME; CREATE USER '$DBUSER'@'localhost' IDENTIFIED BY '$DBPASS';
     GRANT SELECT, INSERT, CREATE ON $DBNAME.* TO '$DBUSER'@'localhost';" ||
	fail "cannot create the database and user"

conf_tandem general node=cdrtest
conf_tandem cdr backend=mariadb "socket=$SOCK" "user=$DBUSER" "password=$DBPASS" \
	"database=$DBNAME" table=cdr
call_setup   # extensions that dial peers by name, 100-tfg/101-tfg, tandemd up

# ---- views
# uniqueids in MariaDB, one a line, sorted; and "rows distinct"
maria_ids() { sql "SELECT uniqueid FROM $DBNAME.cdr ORDER BY uniqueid" 2>/dev/null; }
maria_count() { sql "SELECT COUNT(*) FROM $DBNAME.cdr" 2>/dev/null || echo -1; }
sqlite_ids() {
	python3 - "$DATA/cdr.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
for (u,) in db.execute("SELECT uniqueid FROM cdr ORDER BY uniqueid"):
    print(u)
EOF
}
cdr_status() {  # FIELD: from tandemctl cdr status --json ("mariadb.state" etc.)
	ctl cdr status --json > "$T/cdrstatus.json" || return 1
	jq_py "$T/cdrstatus.json" "d$(echo "$1" | sed -E 's/([^.]+)/["\1"]/g; s/\.//g')"
}
maria_has() { [ "$(maria_count)" = "$1" ]; }

# check_rows WANT WHAT: MariaDB and cdr.db hold the same WANT uniqueids, each once
check_rows() {
	local want=$1 what=$2 c
	sqlite_ids > "$T/ids.sqlite" || fail "cannot read $DATA/cdr.db"
	maria_ids > "$T/ids.maria" || fail "cannot read MariaDB's cdr table"
	c=$(sql "SELECT COUNT(*), COUNT(DISTINCT uniqueid) FROM $DBNAME.cdr") || fail "cannot count MariaDB's rows"
	assert_eq "$c" "$(printf '%s\t%s' "$want" "$want")" "$what: MariaDB rows, distinct uniqueids"
	assert_eq "$(wc -l < "$T/ids.sqlite")" "$want" "$what: records in cdr.db"
	assert_eq "$(sort -u "$T/ids.sqlite" | wc -l)" "$want" "$what: distinct uniqueids in cdr.db"
	diff "$T/ids.sqlite" "$T/ids.maria" > "$T/ids.diff" ||
		fail "$what: MariaDB's uniqueids differ from cdr.db's: $(head -20 "$T/ids.diff")"
}

# calls NAME COUNT: COUNT calls 100-tfg -> 101-tfg (400 ms each, 4 per
# second), all must succeed; per-call setup times (rtd 1, INVITE to 200,
# in ms) land in $T/setup.NAME, the wall time in WALL_MS.
calls() {
	local name=$1 n=$2 t0 rc=0
	uas_start "uas.$name" call_uas.xml "$n"
	t0=$(now_ms)
	# shellcheck disable=SC2046
	sipp_run "$name" 60 $(uac_args call_uac_auth.xml) -m "$n" -r 4 -d 400 \
		-trace_rtt -rtt_freq 1 || rc=$?
	WALL_MS=$(( $(now_ms) - t0 ))
	[ $rc = 0 ] || { sipp_fail_details "$name"; fail "$n calls 100-tfg -> 101-tfg ($name): SIPp UAC exited $rc"; }
	sipp_wait "uas.$name" "$UAS_PID" "the callee of the $name calls"
	# SIPp's <scenario>_<pid>_rtt.csv: "Date_ms;response_time_ms;rtd_no", a line a call
	python3 - "$T" "$n" > "$T/setup.$name" <<'EOF' || fail "$name: no per-call setup times from SIPp (-trace_rtt)"
import glob, os, sys
t, n = sys.argv[1], int(sys.argv[2])
files = sorted(glob.glob(os.path.join(t, "call_uac_auth_*_rtt.csv")), key=os.path.getmtime)
if not files:
    sys.exit(1)
lines = [l.strip().split(";") for l in open(files[-1]) if l.strip()]
col = lines[0].index("response_time_ms")
vals = [float(f[col]) for f in lines[1:]]
if len(vals) != n:
    print("expected %d setup times, got %d" % (n, len(vals)), file=sys.stderr)
    sys.exit(1)
for v in vals:
    print(int(round(v)))
for f in files:
    os.rename(f, f + ".done")
EOF
	wait_until 5 "calls left after the $name calls: $(cat "$T/calls.json" 2>/dev/null)" no_calls
}
setup_max() { sort -n "$T/setup.$1" | tail -n 1; }

# ---- up: N calls, N rows
calls up "$N"
wait_for 30 maria_has "$N" || fail "MariaDB up: $(maria_count) rows after $N calls, expected $N"
check_rows "$N" "up"
UP_MAX=$(setup_max up) UP_WALL=$WALL_MS
assert_eq "$(cdr_status mariadb.state)" up "MariaDB link state while up"
ok "$N calls, MariaDB holds their $N records (setup max ${UP_MAX} ms, $N calls in ${UP_WALL} ms)"

# ---- down: stop mariadbd, M calls go through at full speed
db_stop
[ -e "$SOCK" ] && note "the socket file is still there after mariadbd stopped"
ok "mariadbd stopped (SIGTERM)"
calls down "$M"
DOWN_MAX=$(setup_max down) DOWN_WALL=$WALL_MS
[ "$DOWN_MAX" -le "$SETUP_MAX_MS" ] ||
	fail "with MariaDB down a call took ${DOWN_MAX} ms from INVITE to 200 (limit ${SETUP_MAX_MS} ms; up: ${UP_MAX} ms)"
[ "$DOWN_MAX" -le $(( UP_MAX * 5 + 300 )) ] ||
	fail "with MariaDB down calls set up much slower: max ${DOWN_MAX} ms against ${UP_MAX} ms while up"
# M calls at 4/s with 400 ms talk: about M/4 + 0.4 s; blocked calls would add seconds each
[ "$DOWN_WALL" -le $(( M * 250 + UP_WALL + 3000 )) ] ||
	fail "$M calls with MariaDB down took ${DOWN_WALL} ms ($N took ${UP_WALL} ms while up)"
ok "$M calls with MariaDB down all succeeded, setup max ${DOWN_MAX} ms (up: ${UP_MAX} ms), ${DOWN_WALL} ms in all"
spooled_m() { [ "$(cdr_status spooled)" = "$M" ]; }
wait_for 5 spooled_m || fail "tandemctl cdr status: $(cdr_status spooled) records spooled, expected $M"
assert_eq "$(cdr_status mariadb.state)" down "MariaDB link state while it is down"
assert_file_match "$E2E_LOG" 'cdr: MariaDB .* is down: .* call records wait in .*cdr\.db' "'MariaDB is down' logged"
ok "the $M records wait in the spool; the link is down and said so in the log"

# ---- back: start mariadbd, every record arrives once
db_start
ok "mariadbd started again (pid $DB_PID)"
wait_for 60 maria_has $((N + M)) || fail "MariaDB back: $(maria_count) rows, expected $((N + M)) (within 60 s)"
sleep 1   # a duplicate would show up now, not later
check_rows $((N + M)) "back"
spool_empty() { [ "$(cdr_status spooled)" = 0 ]; }
wait_until 10 "spool not emptied: $(cdr_status spooled) records left" spool_empty
assert_eq "$(cdr_status mariadb.state)" up "MariaDB link state once it is back"
assert_file_match "$E2E_LOG" 'cdr: MariaDB .* is back; writing [0-9]+ spooled call records' "'MariaDB is back' logged"
ok "MariaDB holds exactly the $((N + M)) uniqueids of cdr.db, none twice; spool empty"

# ---- hung: mariadbd frozen (SIGSTOP); calls are not slowed; SIGCONT
kill -STOP "$DB_PID" || fail "cannot SIGSTOP mariadbd"
calls hung "$H"
HUNG_MAX=$(setup_max hung)
[ "$HUNG_MAX" -le "$SETUP_MAX_MS" ] ||
	fail "with MariaDB hung a call took ${HUNG_MAX} ms from INVITE to 200 (limit ${SETUP_MAX_MS} ms; up: ${UP_MAX} ms)"
ok "$H calls with MariaDB frozen all succeeded, setup max ${HUNG_MAX} ms"
kill -CONT "$DB_PID" || fail "cannot SIGCONT mariadbd"
wait_for 60 maria_has $((N + M + H)) || fail "MariaDB resumed: $(maria_count) rows, expected $((N + M + H)) (within 60 s)"
sleep 1
check_rows $((N + M + H)) "resumed"
wait_until 10 "spool not emptied after resume: $(cdr_status spooled) records left" spool_empty
ok "MariaDB holds exactly the $((N + M + H)) uniqueids of cdr.db, none twice"

assert_alive "after the calls"
tandem_stop_checked
db_stop
