/**
 * @file test_role.c  Roles (src/ha/role.c), health (health.c) and the
 * keepalived configuration (keepalived.c): the design 5 transitions (illegal
 * ones refused, the role unchanged), the eligibility file and the persisted
 * admin standby, the hook's arguments, the heartbeat check (fresh, old,
 * dead pid, not ours), the generated configuration's fixed parts, and the
 * peer's vote (quorum.c): granted in PONGs by a node that does not serve,
 * held by the active until the answered PING's send time + 0.95 x lease.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/spawn.h"
#include "ha/cluster_conf.h"
#include "ha/health.h"
#include "ha/keepalived.h"
#include "ha/role.h"
#include "ha/witness.h"
#include "suites.h"

static char root[64];

static struct cluster_conf conf(void)
{
	struct cluster_conf cc;
	struct sockaddr_in *a;

	cluster_conf_defaults(&cc);
	cc.enabled = true;
	snprintf(cc.nodes[0].name, sizeof(cc.nodes[0].name), "a");
	snprintf(cc.nodes[1].name, sizeof(cc.nodes[1].name), "b");
	for (int i = 0; i < 2; i++) {
		a = (struct sockaddr_in *)&cc.nodes[i].addr;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(0x0a000001u + (uint32_t)i);
	}
	cc.has_vip = true;
	snprintf(cc.vip_str, sizeof(cc.vip_str), "10.0.0.100/24");
	snprintf(cc.interface, sizeof(cc.interface), "eth0");
	return cc;
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tandem-role-XXXXXX");
	assert_non_null(mkdtemp(root));
	assert_int_equal(loop_init(), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	ha_role_stop();
	spawn_close();
	loop_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static char file_c(const char *name)
{
	char path[128], c = '?';
	FILE *f;

	snprintf(path, sizeof(path), "%s/cluster/%s", root, name);
	f = fopen(path, "r");
	if (f) {
		c = (char)fgetc(f);
		fclose(f);
	}
	return c;
}

static void t_transitions(void **state)
{
	struct cluster_conf cc = conf();

	(void)state;
	assert_int_equal(ha_role(), HA_ROLE_SINGLE);
	assert_true(ha_serving());
	assert_string_equal(ha_role_contract(HA_ROLE_SINGLE), "active");
	ha_role_autosync(false);
	assert_int_equal(ha_role_start(&cc, 0, root), 0);
	assert_int_equal(ha_role(), HA_ROLE_STARTING);
	assert_false(ha_serving());
	assert_int_equal(file_c("eligible"), '1');
	/* STARTING -> PROMOTING only both cold; STARTING -> ACTIVE never */
	assert_int_equal(ha_role_set(HA_ROLE_PROMOTING, "test"), EINVAL);
	assert_int_equal(ha_role_set(HA_ROLE_ACTIVE, "test"), EINVAL);
	assert_int_equal(ha_role(), HA_ROLE_STARTING);
	assert_int_equal(ha_role_set(HA_ROLE_SYNCING, "test"), 0);
	assert_int_equal(ha_role_set(HA_ROLE_STANDBY, "test"), 0);
	assert_int_equal(file_c("eligible"), '0');
	assert_string_equal(ha_role_contract(ha_role()), "standby");
	assert_int_equal(ha_role_set(HA_ROLE_DEMOTING, "test"), EINVAL);
	assert_int_equal(ha_role_set(HA_ROLE_PROMOTING, "test"), 0);
	assert_int_equal(ha_role_set(HA_ROLE_ACTIVE, "test"), 0);
	assert_true(ha_serving());
	assert_string_equal(ha_role_contract(ha_role()), "active");
	assert_int_equal(ha_role_set(HA_ROLE_STANDBY, "test"), EINVAL);   /* via DEMOTING */
	assert_int_equal(ha_role_set(HA_ROLE_FENCED, "test"), 0);
	assert_false(ha_serving());
	assert_int_equal(file_c("eligible"), '1');
	assert_int_equal(ha_role_set(HA_ROLE_ACTIVE, "test"), EINVAL);
	assert_int_equal(ha_role_set(HA_ROLE_SYNCING, "test"), 0);
	/* both cold: SYNCING -> PROMOTING allowed for the chosen node only */
	assert_int_equal(ha_role_set(HA_ROLE_PROMOTING, "test"), EINVAL);
	ha_role_cold_set(true);
	assert_int_equal(file_c("eligible"), '0');
	assert_int_equal(ha_role_set(HA_ROLE_PROMOTING, "test"), 0);
	assert_int_equal(ha_role_set(HA_ROLE_ACTIVE, "test"), 0);
	assert_int_equal(ha_role_set(HA_ROLE_DEMOTING, "test"), 0);
	assert_int_equal(ha_role_set(HA_ROLE_STANDBY, "test"), 0);
	assert_string_equal(ha_role_name(HA_ROLE_PROMOTING), "PROMOTING");
}

/* The peer's vote (design 6). Times are relative to the loop's clock; the
 * one window checked open is 570 ms wide around two adjacent calls. */
static void t_peer_vote(void **state)
{
	struct cluster_conf cc = conf();
	uint64_t now;

	(void)state;
	ha_role_autosync(false);
	assert_int_equal(ha_role_start(&cc, 0, root), 0);
	quorum_peer_start(600);
	/* a node that does not serve grants and promises */
	assert_int_equal(quorum_peer_grant(), 600);
	assert_int_equal(quorum_promise_left(), 0);
	quorum_peer_pinged();
	assert_true(quorum_promise_left() > 0 && quorum_promise_left() <= 600);
	assert_int_equal(ha_role_set(HA_ROLE_SYNCING, "test"), 0);
	assert_int_equal(ha_role_set(HA_ROLE_STANDBY, "test"), 0);
	assert_int_equal(quorum_peer_grant(), 600);
	assert_int_equal(ha_role_set(HA_ROLE_PROMOTING, "test"), 0);
	assert_int_equal(quorum_peer_grant(), 0);
	assert_int_equal(ha_role_set(HA_ROLE_ACTIVE, "test"), 0);
	assert_int_equal(quorum_peer_grant(), 0);
	/* the active: a PONG's grant ends at its PING's send time + 570 ms */
	quorum_peer_start(600);
	assert_false(quorum_peer_vote());
	quorum_peer_pinged();                        /* serving: no promise */
	assert_int_equal(quorum_promise_left(), 0);
	now = loop_now_update();
	quorum_peer_ponged(now > 600 ? now - 600 : 0, 600);   /* answered long ago */
	assert_false(quorum_peer_vote());
	quorum_peer_ponged(now + 60000, 600);         /* a time to come: not ours */
	assert_false(quorum_peer_vote());
	quorum_peer_ponged(loop_now_update(), 0);     /* the peer serves: no grant */
	assert_false(quorum_peer_vote());
	quorum_peer_ponged(loop_now_update(), 600);
	assert_true(quorum_peer_vote());
	quorum_peer_lost();                           /* the link closed */
	assert_false(quorum_peer_vote());
}

static void t_admin_standby(void **state)
{
	struct cluster_conf cc = conf();
	json_t *j;

	(void)state;
	ha_role_autosync(false);
	assert_int_equal(ha_role_start(&cc, 1, root), 0);
	assert_int_equal(ha_role_set(HA_ROLE_SYNCING, "t"), 0);
	assert_int_equal(ha_role_set(HA_ROLE_STANDBY, "t"), 0);
	assert_int_equal(ha_role_admin_standby_set(true), 0);
	assert_false(ha_role_eligible());
	assert_int_equal(file_c("eligible"), '1');
	assert_int_equal(file_c("admin_standby"), '1');
	/* persisted: a restart reads it back */
	ha_role_stop();
	assert_int_equal(ha_role_start(&cc, 1, root), 0);
	assert_true(ha_role_admin_standby());
	j = ha_role_status_json();
	assert_true(json_is_true(json_object_get(j, "admin_standby")));
	assert_true(json_is_null(json_object_get(j, "last_failover")));
	json_decref(j);
	assert_int_equal(ha_role_admin_standby_set(false), 0);
	assert_int_equal(file_c("admin_standby"), '0');
}

static void t_hook(void **state)
{
	struct cluster_conf cc = conf();
	char out[128], line[256] = "";
	FILE *f;

	(void)state;
	snprintf(out, sizeof(out), "%s/hook.out", root);
	snprintf(cc.hook, sizeof(cc.hook), "%s/hook.sh", root);
	f = fopen(cc.hook, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\necho \"$TANDEM_NODE $TANDEM_PEER $*\" > %s.tmp && mv %s.tmp %s\n",
		out, out, out);
	fclose(f);
	assert_int_equal(chmod(cc.hook, 0755), 0);
	ha_role_autosync(false);
	assert_int_equal(ha_role_start(&cc, 0, root), 0);
	assert_int_equal(ha_role_set(HA_ROLE_SYNCING, "caught up"), 0);
	for (int i = 0; i < 500 && access(out, R_OK); i++)   /* up to 5 s */
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "a b SYNCING STARTING 0 caught up\n");
}

static void hb_write(uint32_t pid, uint64_t age_ms)
{
	struct ha_heartbeat hb = { .magic = HA_HEALTH_MAGIC, .pid = pid };
	struct timespec ts;
	char path[128];
	FILE *f;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	hb.turn_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 - age_ms;
	snprintf(path, sizeof(path), "%s/cluster", root);
	mkdir(path, 0750);
	snprintf(path, sizeof(path), "%s/cluster/heartbeat", root);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(&hb, sizeof(hb), 1, f), 1);
	fclose(f);
}

static void t_health(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(ha_health_check(root, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "not a cluster node"));
	hb_write((uint32_t)getpid(), 0);
	assert_int_equal(ha_health_check(root, why, sizeof(why)), 0);
	hb_write((uint32_t)getpid(), 5000);
	assert_int_equal(ha_health_check(root, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "stopped or stuck"));
	hb_write(0x7ffffff0u, 0);   /* no such pid */
	assert_int_equal(ha_health_check(root, why, sizeof(why)), 1);
	assert_non_null(strstr(why, "is not running"));
}

static void t_keepalived_conf(void **state)
{
	struct cluster_conf cc = conf();
	static char buf[16384];

	(void)state;
	cc.vrid = 117;
	assert_int_equal(keepalived_render(&cc, 0, "/var/lib/tandem", "/usr/bin/tandemctl",
					   "\"/usr/sbin/tandemd\" \"-n\" \"a\"", buf, sizeof(buf)), 0);
	assert_memory_equal(buf, KEEPALIVED_MARKER "\n", sizeof(KEEPALIVED_MARKER));
	assert_non_null(strstr(buf, "    virtual_router_id 117\n"));
	assert_non_null(strstr(buf, "    advert_int 0.05\n"));
	assert_non_null(strstr(buf, "    version 3\n"));
	assert_non_null(strstr(buf, "    unicast_src_ip 10.0.0.1\n    unicast_peer {\n"
				    "        10.0.0.2\n"));
	assert_non_null(strstr(buf, "10.0.0.100/24 dev eth0"));
	assert_non_null(strstr(buf, "file \"/var/lib/tandem/cluster/eligible\""));
	assert_non_null(strstr(buf, "process \"/usr/sbin/tandemd\" \"-n\" \"a\"\n"
				    "    param_match partial\n"));
	assert_non_null(strstr(buf, "notify_master \"/usr/bin/tandemctl -D /var/lib/tandem "
				    "cluster notify MASTER\""));
	/* no command line (another network namespace): no track_process */
	assert_int_equal(keepalived_render(&cc, 1, "/d", "/c", "", buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "track_process"));
	assert_non_null(strstr(buf, "unicast_src_ip 10.0.0.2\n"));
	assert_int_equal(keepalived_render(&cc, 1, "/d", "/c", "", buf, 64), ENOSPC);
}

int test_role_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(t_peer_vote, setup, teardown),
		cmocka_unit_test_setup_teardown(t_admin_standby, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(t_health, setup, teardown),
		cmocka_unit_test_setup_teardown(t_keepalived_conf, setup, teardown),
	};
	return cmocka_run_group_tests_name("role", tests, NULL, NULL);
}
