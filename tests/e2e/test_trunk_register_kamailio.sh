#!/bin/bash
# Tandem registers to a provider: Kamailio 5.6 (Debian package, the bench
# anchor's registrar.cfg: digest auth over an SQLite subscriber table),
# started by this test on a free loopback port. sip.conf's
#   register => 1000:tf2020@127.0.0.1:PORT
# must end Registered in `tandemctl registry`, with Kamailio's location
# table holding AoR 1000; a wrong secret ends "Auth. Failed".
. "$(dirname "$0")/lib.sh"
e2e_init
need kamailio kamcmd sqlite3

KPORT=$(free_port)
S=/usr/share/kamailio/db_sqlite
{ cat "$S/standard-create.sql" "$S/auth_db-create.sql"; echo "BEGIN;"
  echo "INSERT INTO subscriber (username,domain,password) VALUES ('1000','127.0.0.1','tf2020');"
  echo "COMMIT;"; } | sqlite3 "$T/kam.db"
sed "s/^listen=udp:127.0.0.1:5080/listen=udp:127.0.0.1:$KPORT/" \
	"$TANDEM_SRC/../shared/bench-anchors/kamailio/registrar.cfg" > "$T/kam.cfg" 2>/dev/null ||
	fail "the Kamailio anchor config (../shared/bench-anchors/kamailio/registrar.cfg) is missing"
grep -q "listen=udp:127.0.0.1:$KPORT" "$T/kam.cfg" || fail "could not set Kamailio's port"
bg kamailio kamailio -f "$T/kam.cfg" -DD -E -m 64 -M 8 -Y "$T" -P "$T/kam.pid" \
	-A "UDP_CHILDREN=2" -A "DBURL=\"sqlite://$T/kam.db\"" -A "CTLSOCK=\"unix:$T/kam.ctl\""
wait_until 10 "Kamailio up" kamcmd -s "unix:$T/kam.ctl" core.uptime

conf_sip_general realm=tandem "register => 1000:tf2020@127.0.0.1:$KPORT" \
	"register => 1001:wrong@127.0.0.1:$KPORT"
conf_tfg_peers
tandem_start

reg_state() {  # USER: its state in tandemctl registry --json
	ctl registry --json > "$T/registry.json" || return 1
	python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["registry"]:
    if r["user"] == sys.argv[2]: print(r["state"])' "$T/registry.json" "$1"
}
registered() { [ "$(reg_state 1000)" = Registered ]; }
wait_for 10 registered || fail "register => 1000@kamailio: state '$(reg_state 1000)', expected Registered"
kamcmd -s "unix:$T/kam.ctl" ul.dump brief > "$T/ul.txt" 2>&1
grep -q "AoR: 1000" "$T/ul.txt" || fail "Kamailio's location table has no AoR 1000: $(cat "$T/ul.txt")"
ok "registered to Kamailio as 1000 (digest), Kamailio holds the binding"
authfail() { [ "$(reg_state 1001)" = "Auth. Failed" ]; }
wait_for 10 authfail || fail "register => 1001 with a wrong secret: state '$(reg_state 1001)', expected Auth. Failed"
ok "wrong secret: Auth. Failed, retried later"
tandem_stop_checked
