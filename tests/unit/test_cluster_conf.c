/**
 * @file test_cluster_conf.c  tandem.conf [cluster] (src/ha/cluster_conf.c):
 * the contract's example, defaults, every FILE:LINE refusal, the keyfile's
 * encodings and mode, which node this is, and the [cluster] digest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "ha/cluster_conf.h"
#include "suites.h"

static char dir[64], keyfile[128], err[1024];
static const char HEXKEY[] =
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tandem-cc-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(keyfile, sizeof(keyfile), "%s/cluster.key", dir);
	write_file(keyfile, HEXKEY, 0600);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(keyfile);
	rmdir(dir);
	return 0;
}

/* Load [cluster] from text ("%K" stands for the keyfile path). */
static int load(struct cluster_conf *cc, const char *text)
{
	char buf[4096], *k;
	struct conf *conf = NULL;
	int rc;

	snprintf(buf, sizeof(buf), "%s", text);
	if ((k = strstr(buf, "%K"))) {
		char rest[4096];
		snprintf(rest, sizeof(rest), "%s", k + 2);
		snprintf(k, sizeof(buf) - (size_t)(k - buf), "%s%s", keyfile, rest);
	}
	rc = conf_parse_buf(&conf, dir, "tandem.conf", buf, strlen(buf), err, sizeof(err));
	assert_int_equal(rc, 0);
	err[0] = '\0';
	rc = cluster_conf_load(cc, conf_section(conf, "cluster"), dir, err, sizeof(err));
	conf_free(conf);
	return rc;
}

static const char CONTRACT[] =
	"[cluster]\n"
	"node = a,10.0.0.1          ; name,replication address (one line per node)\n"
	"node = b,10.0.0.2\n"
	"keyfile = %K   ; shared secret for the replication link\n"
	"vip = 10.0.0.100/24        ; floating address the phones use\n"
	"interface = eth0           ; where the floating address lives\n"
	"witness = 10.0.0.3         ; third party that breaks ties (see docs)\n"
	"engine = keepalived        ; keepalived (default) | pacemaker | none\n";

static void t_contract(void **state)
{
	struct cluster_conf cc;

	(void)state;
	assert_int_equal(load(&cc, CONTRACT), 0);
	assert_true(cc.enabled);
	assert_string_equal(cc.name, "tandem");
	assert_string_equal(cc.nodes[0].name, "a");
	assert_string_equal(cc.nodes[0].addr_str, "10.0.0.1:7380");
	assert_string_equal(cc.nodes[1].addr_str, "10.0.0.2:7380");
	assert_int_equal(cc.nodes[1].line, 3);
	assert_int_equal(cc.keylen, 32);
	assert_int_equal(cc.key[1], 0x11);
	assert_true(cc.has_vip);
	assert_string_equal(cc.vip_str, "10.0.0.100/24");
	assert_int_equal(cc.vip_prefix, 24);
	assert_string_equal(cc.interface, "eth0");
	assert_true(cc.has_witness);
	assert_string_equal(cc.witness_str, "10.0.0.3:7380");
	assert_int_equal(cc.engine, CLUSTER_ENGINE_KEEPALIVED);
	assert_string_equal(cluster_engine_name(cc.engine), "keepalived");
	/* the design's defaults */
	assert_int_equal(cc.port, 7380);
	assert_int_equal(cc.lease_ms, 600);
	assert_int_equal(cc.peer_timeout_ms, 200);
	assert_int_equal(cc.sync_timeout_ms, 500);
	assert_int_equal(cc.advert_int_ms, 50);
	assert_true(cc.sync);
	assert_false(cc.fsync);
	assert_false(cc.two_node_takeover);
	assert_int_equal(cc.backlog, 256ull << 20);
	assert_int_equal(cc.backlog_max, 2048ull << 20);
	assert_int_equal(cc.vrid, 0);
	assert_string_equal(cc.hook, "");
	cluster_conf_clear(&cc);
	assert_int_equal(cc.keylen, 0);
	assert_int_equal(cc.key[1], 0);
}

static void t_options(void **state)
{
	struct cluster_conf cc;

	(void)state;
	assert_int_equal(load(&cc,
		"[cluster]\n"
		"name = tfg\n"
		"node = b , [::1]:7382\n"
		"node = a,127.0.0.1:7381\n"
		"port = 7390\n"
		"keyfile = cluster.key\n"        /* relative to CONFDIR */
		"engine = none\n"
		"witness = none\n"
		"lease = 0.8s\n"
		"peer_timeout = 300ms\n"
		"sync = no\n"
		"sync_timeout = 250\n"
		"fsync = yes\n"
		"backlog = 64M\n"
		"backlog_max = 1G\n"
		"advert_int = 100ms\n"
		"vrid = 42\n"
		"hook = /usr/local/bin/tandem-hook\n"
		"two_node_takeover = yes\n"), 0);
	assert_string_equal(cc.name, "tfg");
	assert_string_equal(cc.nodes[0].name, "b");
	assert_string_equal(cc.nodes[0].addr_str, "[::1]:7382");
	assert_string_equal(cc.nodes[1].addr_str, "127.0.0.1:7381");
	assert_int_equal(cc.port, 7390);
	assert_int_equal(cc.engine, CLUSTER_ENGINE_NONE);
	assert_false(cc.has_witness);
	assert_false(cc.has_vip);
	assert_int_equal(cc.lease_ms, 800);
	assert_int_equal(cc.peer_timeout_ms, 300);
	assert_false(cc.sync);
	assert_int_equal(cc.sync_timeout_ms, 250);
	assert_true(cc.fsync);
	assert_int_equal(cc.backlog, 64ull << 20);
	assert_int_equal(cc.backlog_max, 1ull << 30);
	assert_int_equal(cc.advert_int_ms, 100);
	assert_int_equal(cc.vrid, 42);
	assert_string_equal(cc.hook, "/usr/local/bin/tandem-hook");
	assert_true(cc.two_node_takeover);
	/* a dials b: its name sorts first */
	assert_true(cluster_conf_dials(&cc, 1));
	assert_false(cluster_conf_dials(&cc, 0));
	cluster_conf_clear(&cc);

	/* node lines take the port wherever it is written */
	assert_int_equal(load(&cc, "[cluster]\nnode = a,10.0.0.1\nnode = b,10.0.0.2:99\n"
			      "port = 7400\nkeyfile = %K\nengine = none\n"
			      "witness = 10.0.0.3:7401\n"), 0);
	assert_string_equal(cc.nodes[0].addr_str, "10.0.0.1:7400");
	assert_string_equal(cc.nodes[1].addr_str, "10.0.0.2:99");
	assert_string_equal(cc.witness_str, "10.0.0.3:7401");
	cluster_conf_clear(&cc);
	/* no section: no cluster */
	assert_int_equal(cluster_conf_load(&cc, NULL, dir, err, sizeof(err)), 0);
	assert_false(cc.enabled);
}

#define BASE "[cluster]\nnode = a,10.0.0.1\nnode = b,10.0.0.2\nkeyfile = %K\nengine = none\n"

/* text must be refused with an error that starts with want. */
static void refused(const char *text, const char *want)
{
	struct cluster_conf cc;

	assert_int_equal(load(&cc, text), EINVAL);
	if (strncmp(err, want, strlen(want)))
		fail_msg("got '%s', want '%s...'", err, want);
	assert_int_equal(cc.keylen, 0);
}

static void t_refusals(void **state)
{
	(void)state;
	refused("[cluster]\nnode = a,10.0.0.1\nkeyfile = %K\nengine = none\n",
		"tandem.conf:1: [cluster] needs two node lines");
	refused(BASE "node = c,10.0.0.3\n", "tandem.conf:6: [cluster] a cluster has exactly two");
	refused("[cluster]\nnode = a,10.0.0.1\nnode = a,10.0.0.2\nkeyfile = %K\n",
		"tandem.conf:3: [cluster] node 'a' is named twice");
	refused("[cluster]\nnode = a\n", "tandem.conf:2: [cluster] node must be NAME,ADDRESS");
	refused("[cluster]\nnode = a b,10.0.0.1\n", "tandem.conf:2: [cluster] node name 'a b'");
	refused("[cluster]\nnode = a,host.example\n",
		"tandem.conf:2: [cluster] node a: 'host.example' must be an IP address");
	refused("[cluster]\nnode = a,10.0.0.1:70000\n", "tandem.conf:2: [cluster] node a:");
	refused("[cluster]\nnode = a,10.0.0.1\nnode = b,10.0.0.2\nengine = none\n",
		"tandem.conf:1: [cluster] needs keyfile = FILE");
	refused(BASE "engine = heartbeat\n", "tandem.conf:6: [cluster] engine must be");
	refused("[cluster]\nnode = a,10.0.0.1\nnode = b,10.0.0.2\nkeyfile = %K\n",
		"tandem.conf:1: [cluster] engine = keepalived needs vip");
	refused(BASE "vip = 10.0.0.100/24\n", "tandem.conf:6: [cluster] vip needs interface");
	refused(BASE "vip = 10.0.0.100\ninterface = eth0\n",
		"tandem.conf:6: [cluster] vip must be ADDRESS/PREFIX");
	refused(BASE "vip = 10.0.0.100/33\ninterface = eth0\n",
		"tandem.conf:6: [cluster] vip must be ADDRESS/PREFIX");
	refused(BASE "interface = a/b\n", "tandem.conf:6: [cluster] interface must be");
	refused(BASE "witness = maybe\n", "tandem.conf:6: [cluster] witness must be");
	refused(BASE "peer_timeout = 10ms\n",
		"tandem.conf:6: [cluster] peer_timeout must be a duration from 100ms");
	refused(BASE "lease = soon\n", "tandem.conf:6: [cluster] lease must be a duration");
	refused(BASE "advert_int = 55ms\n", "tandem.conf:6: [cluster] advert_int counts");
	refused(BASE "backlog = 12X\n", "tandem.conf:6: [cluster] backlog must be a size");
	refused(BASE "backlog = 512M\nbacklog_max = 256M\n",
		"tandem.conf:7: [cluster] backlog_max (256M) must not be below backlog");
	refused(BASE "sync = maybe\n", "tandem.conf:6: [cluster] sync must be yes or no");
	refused(BASE "vrid = 0\n", "tandem.conf:6: [cluster] vrid must be");
	refused(BASE "port = 0\n", "tandem.conf:6: [cluster] port must be");
	refused(BASE "hook = relative.sh\n", "tandem.conf:6: [cluster] hook must be");
	refused(BASE "name = a/b\n", "tandem.conf:6: [cluster] name must be");
}

static void t_keyfile(void **state)
{
	struct cluster_conf cc, cc2;
	uint8_t k[CLUSTER_KEY_MAX];
	size_t n;

	(void)state;
	/* world-readable: refused, naming the mode */
	write_file(keyfile, HEXKEY, 0644);
	refused(BASE, "tandem.conf:4: [cluster] keyfile ");
	assert_non_null(strstr(err, "mode 0600 (it is 0644)"));
	/* missing */
	unlink(keyfile);
	assert_int_equal(load(&cc, BASE), ENOENT);
	assert_non_null(strstr(err, "tandem.conf:4: [cluster] keyfile "));
	assert_non_null(strstr(err, "No such file"));
	/* short */
	write_file(keyfile, "00112233445566778899aabbccddeeff\n", 0600);
	refused(BASE, "tandem.conf:4: [cluster] keyfile ");
	assert_non_null(strstr(err, "must hold 32"));
	/* neither hex nor base64 */
	write_file(keyfile, "this is not a key at all, not even base64!!\n", 0600);
	refused(BASE, "tandem.conf:4: [cluster] keyfile ");
	/* base64 of the same 32 bytes, over two lines: the same key */
	write_file(keyfile, "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmq\nu8zd7v8=\n", 0400);
	assert_int_equal(load(&cc, BASE), 0);
	write_file(keyfile, HEXKEY, 0600);
	assert_int_equal(load(&cc2, BASE), 0);
	assert_int_equal(cc.keylen, 32);
	assert_memory_equal(cc.key, cc2.key, 32);
	cluster_conf_clear(&cc);
	cluster_conf_clear(&cc2);
	/* the decoder alone */
	assert_int_equal(cluster_key_decode("QUJD", 4, k, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(k, "ABC", 3);
	assert_int_equal(cluster_key_decode("QUI=", 4, k, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cluster_key_decode("QQ==", 4, k, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(cluster_key_decode("Q===", 4, k, &n), EINVAL);
	assert_int_equal(cluster_key_decode("QQ=A", 4, k, &n), EINVAL);
	assert_int_equal(cluster_key_decode("", 0, k, &n), EINVAL);
	char gen[2 * CLUSTER_KEY_MIN + 2];
	assert_int_equal(cluster_key_generate(gen), 0);
	assert_int_equal(strlen(gen), 65);
	assert_int_equal(cluster_key_decode(gen, strlen(gen), k, &n), 0);
	assert_int_equal(n, 32);
	assert_int_equal(cluster_key_decode("0aFf", 4, k, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(k[1], 0xff);
}

static void t_self_digest(void **state)
{
	struct cluster_conf cc, cc2;
	unsigned self = 9;

	(void)state;
	assert_int_equal(load(&cc, CONTRACT), 0);
	assert_int_equal(cluster_conf_self(&cc, "b", &self, err, sizeof(err)), 0);
	assert_int_equal(self, 1);
	assert_int_equal(cluster_conf_self(&cc, "a", &self, err, sizeof(err)), 0);
	assert_int_equal(self, 0);
	assert_int_equal(cluster_conf_self(&cc, "c", &self, err, sizeof(err)), ENOENT);
	assert_string_equal(err, "this node is 'c', which is not a node of [cluster] (a, b): "
			    "start it with -n a or -n b");
	/* the same section gives the same digest; any change another */
	assert_int_equal(load(&cc2, CONTRACT), 0);
	assert_memory_equal(cc.digest, cc2.digest, 32);
	cluster_conf_clear(&cc2);
	assert_int_equal(load(&cc2, "[cluster]\nnode = a,10.0.0.1\nnode = b,10.0.0.2\n"
			      "keyfile = %K\nvip = 10.0.0.100/24\ninterface = eth1\n"), 0);
	assert_memory_not_equal(cc.digest, cc2.digest, 32);
	cluster_conf_clear(&cc);
	cluster_conf_clear(&cc2);
	/* every option name is listed for config.c */
	size_t n = 0;
	while (cluster_conf_options[n])
		n++;
	assert_int_equal(n, 21);   /* + keepalived_conf, keepalived_pid */
}

int test_cluster_conf_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_contract),
		cmocka_unit_test(t_options),
		cmocka_unit_test(t_refusals),
		cmocka_unit_test(t_keyfile),
		cmocka_unit_test(t_self_digest),
	};
	return cmocka_run_group_tests_name("cluster_conf", tests, setup, teardown);
}
