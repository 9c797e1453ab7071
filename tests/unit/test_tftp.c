/**
 * @file test_tftp.c  The TFTP codec (src/web/tftp_codec.c): requests with
 * and without RFC 2347 options, every refusal, ACK/ERROR/OACK/DATA and
 * netascii; tandem.conf [tftp], http.conf and prometheus.conf with their
 * FILE:LINE errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/conf.h"
#include "web/http.h"
#include "web/tftp.h"
#include "web/tftp_codec.h"
#include "suites.h"

/* A request packet from NUL-separated pieces: pkt(op, "file", "mode",
 * "opt", "val", ..., NULL). */
static size_t pkt(uint8_t *b, unsigned op, ...)
{
	va_list ap;
	const char *s;
	size_t n = 2;

	b[0] = 0;
	b[1] = (uint8_t)op;
	va_start(ap, op);
	while ((s = va_arg(ap, const char *))) {
		memcpy(b + n, s, strlen(s) + 1);
		n += strlen(s) + 1;
	}
	va_end(ap);
	return n;
}

static void t_rrq_plain(void **state)
{
	struct tftp_req r;
	uint8_t b[600];
	const char *why = NULL;
	size_t n = pkt(b, TFTP_RRQ, "SEP001122334455.cnf.xml", "octet", NULL);

	(void)state;
	assert_int_equal(tftp_req_parse(&r, b, n, &why), 0);
	assert_int_equal(r.op, TFTP_RRQ);
	assert_string_equal(r.file, "SEP001122334455.cnf.xml");
	assert_int_equal(r.mode, TFTP_MODE_OCTET);
	assert_false(r.opt_blksize || r.opt_tsize || r.opt_timeout || r.opt_windowsize);
	assert_int_equal(r.blksize, 512);
	n = pkt(b, TFTP_RRQ, "a.cfg", "NetASCII", NULL);
	assert_int_equal(tftp_req_parse(&r, b, n, &why), 0);
	assert_int_equal(r.mode, TFTP_MODE_NETASCII);
	n = pkt(b, TFTP_WRQ, "up.bin", "octet", NULL);
	assert_int_equal(tftp_req_parse(&r, b, n, &why), 0);   /* parses; the server refuses */
	assert_int_equal(r.op, TFTP_WRQ);
}

static void t_rrq_options(void **state)
{
	struct tftp_req r;
	uint8_t b[600], o[600];
	const char *why = NULL;
	size_t n = pkt(b, TFTP_RRQ, "fw.bin", "octet", "BLKSIZE", "1428", "tsize", "0",
		       "timeout", "3", "windowsize", "8", "x-vendor", "whatever", NULL);

	(void)state;
	assert_int_equal(tftp_req_parse(&r, b, n, &why), 0);
	assert_true(r.opt_blksize && r.opt_tsize && r.opt_timeout && r.opt_windowsize);
	assert_int_equal(r.blksize, 1428);
	assert_int_equal(r.tsize, 0);
	assert_int_equal(r.timeout, 3);
	assert_int_equal(r.windowsize, 8);
	/* blksize above RFC 2348's maximum is lowered to it */
	n = pkt(b, TFTP_RRQ, "f", "octet", "blksize", "100000", NULL);
	assert_int_equal(tftp_req_parse(&r, b, n, &why), 0);
	assert_int_equal(r.blksize, TFTP_BLKSIZE_MAX);
	/* OACK: the accepted options, tsize with the real size */
	n = pkt(b, TFTP_RRQ, "f", "octet", "blksize", "1024", "tsize", "0", NULL);
	assert_int_equal(tftp_req_parse(&r, b, n, &why), 0);
	r.tsize = 300000;
	n = tftp_oack_build(o, sizeof(o), &r);
	static const uint8_t want[] = "\0\6blksize\0" "1024\0tsize\0" "300000";
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(o, want, n);
	assert_int_equal(tftp_oack_build(o, 10, &r), 0);   /* does not fit */
}

static void t_rrq_refused(void **state)
{
	static const struct { const uint8_t *b; size_t n; const char *why; } bad[] = {
		{ (const uint8_t *)"", 0, "not a read or write request" },
		{ (const uint8_t *)"\0\3\0\1", 4, "not a read or write request" },
		{ (const uint8_t *)"\0\1file", 6, "file name or mode missing or not NUL-terminated" },
		{ (const uint8_t *)"\0\1file\0octet", 12, "file name or mode missing or not NUL-terminated" },
		{ (const uint8_t *)"\0\1\0octet\0", 9, "empty file name" },
		{ (const uint8_t *)"\0\1f\0mail\0", 9, "mode mail is not served" },
		{ (const uint8_t *)"\0\1f\0binary\0", 11, "unknown transfer mode (octet or netascii)" },
		{ (const uint8_t *)"\0\1f\0octet\0blksize\0", 18, "option without a NUL-terminated value" },
		{ (const uint8_t *)"\0\1f\0octet\0blksize\0" "7\0", 20, "blksize is not a number of at least 8" },
		{ (const uint8_t *)"\0\1f\0octet\0blksize\0" "12a\0", 22, "blksize is not a number of at least 8" },
		{ (const uint8_t *)"\0\1f\0octet\0timeout\0" "0\0", 20, "timeout is not a number of seconds from 1 to 255" },
		{ (const uint8_t *)"\0\1f\0octet\0timeout\0" "256\0", 22, "timeout is not a number of seconds from 1 to 255" },
		{ (const uint8_t *)"\0\1f\0octet\0tsize\0" "-1\0", 19, "tsize is not a number" },
		{ (const uint8_t *)"\0\1f\0octet\0windowsize\0" "0\0", 23, "windowsize is not a number from 1 to 65535" },
		{ (const uint8_t *)"\0\1a\tb\0octet\0", 12, "control character in the file name" },
	};
	struct tftp_req r;
	uint8_t b[600];
	char longname[300];
	const char *why;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		why = NULL;
		assert_int_equal(tftp_req_parse(&r, bad[i].b, bad[i].n, &why), EINVAL);
		assert_non_null(why);
		assert_string_equal(why, bad[i].why);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	n = pkt(b, TFTP_RRQ, longname, "octet", NULL);
	assert_int_equal(tftp_req_parse(&r, b, n, &why), EINVAL);
	assert_string_equal(why, "file name longer than 255 bytes");
}

static void t_ack_error_data(void **state)
{
	uint8_t b[600];
	uint16_t blk, code;
	char msg[16];
	size_t n;

	(void)state;
	assert_int_equal(tftp_ack_parse((const uint8_t *)"\0\4\1\2", 4, &blk), 0);
	assert_int_equal(blk, 0x0102);
	assert_int_equal(tftp_ack_parse((const uint8_t *)"\0\4\1", 3, &blk), EINVAL);
	assert_int_equal(tftp_ack_parse((const uint8_t *)"\0\3\0\1", 4, &blk), EINVAL);
	n = tftp_error_build(b, sizeof(b), TFTP_EACCESS, "Access violation");
	assert_int_equal(n, 4 + sizeof("Access violation"));
	assert_memory_equal(b, "\0\5\0\2Access violation", n);
	assert_int_equal(tftp_error_build(b, 8, 0, "too long for 8"), 0);
	/* a client's ERROR: the message is copied printable and bounded */
	assert_int_equal(tftp_error_parse((const uint8_t *)"\0\5\0\1a\"b\x01long message", 19,
					  &code, msg, sizeof(msg)), 0);
	assert_int_equal(code, 1);
	assert_string_equal(msg, "a?b?long messag");
	assert_int_equal(tftp_error_parse((const uint8_t *)"\0\5\0", 3, &code, msg,
					  sizeof(msg)), EINVAL);
	tftp_data_hdr(b, 65535);
	assert_memory_equal(b, "\0\3\377\377", 4);
	assert_int_equal(tftp_opcode(b, 1), 0);
	assert_string_equal(tftp_op_name(TFTP_OACK), "OACK");
	assert_string_equal(tftp_op_name(99), "?");
}

static void t_netascii(void **state)
{
	uint8_t out[64];
	static const uint8_t in[] = "a\nb\r\nc\rd";
	static const uint8_t want[] = "a\r\nb\r\0\r\nc\r\0d";

	(void)state;
	assert_int_equal(tftp_netascii_encode(out, in, sizeof(in) - 1), sizeof(want) - 1);
	assert_memory_equal(out, want, sizeof(want) - 1);
	assert_int_equal(tftp_netascii_encode(out, in, 0), 0);
}

/* ----------------------------------------------------------- config */

static int parse(struct conf **c, const char *name, const char *text, char *err, size_t es)
{
	return conf_parse_buf(c, NULL, name, text, strlen(text), err, es);
}

static void t_tftp_conf(void **state)
{
	struct tftp_conf tc;
	struct conf *c;
	char err[512];
	static const struct { const char *text, *err; } bad[] = {
		{ "[tftp]\nenabled = maybe\n", "tandem.conf:2: enabled must be yes or no, not 'maybe'" },
		{ "[tftp]\nport = 0\n", "tandem.conf:2: port must be from 1 to 65535, not '0'" },
		{ "[tftp]\n\nport = 70000\n", "tandem.conf:3: port must be from 1 to 65535, not '70000'" },
		{ "[tftp]\nbindaddr = phone-server\n",
		  "tandem.conf:2: bindaddr must be an IPv4 or IPv6 address, not 'phone-server'" },
		{ "[tftp]\nmax_transfers = 0\n",
		  "tandem.conf:2: max_transfers must be from 1 to 10000, not '0'" },
	};
	size_t i;

	(void)state;
	assert_int_equal(tftp_conf_load(&tc, NULL, err, sizeof(err)), 0);
	assert_false(tc.enabled);
	assert_int_equal(tc.bind.ss_family, AF_UNSPEC);
	assert_int_equal(ntohs(((struct sockaddr_in *)&tc.bind)->sin_port), 69);
	assert_int_equal(tc.max_transfers, 64);
	assert_int_equal(parse(&c, "tandem.conf", "[tftp]\nenabled = yes\nbindaddr = 10.0.0.100\n"
			       "port = 6969\nmax_transfers = 5\n", err, sizeof(err)), 0);
	assert_int_equal(tftp_conf_load(&tc, conf_section(c, "tftp"), err, sizeof(err)), 0);
	conf_free(c);
	assert_true(tc.enabled);
	assert_int_equal(tc.bind.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&tc.bind)->sin_port), 6969);
	assert_int_equal(ntohl(((struct sockaddr_in *)&tc.bind)->sin_addr.s_addr), 0x0a000064);
	assert_int_equal(tc.max_transfers, 5);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(parse(&c, "tandem.conf", bad[i].text, err, sizeof(err)), 0);
		err[0] = '\0';
		assert_int_equal(tftp_conf_load(&tc, conf_section(c, "tftp"), err, sizeof(err)),
				 EINVAL);
		conf_free(c);
		assert_string_equal(err, bad[i].err);
	}
}

static char dir[64];

static void write_conf(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void t_http_conf(void **state)
{
	struct http_conf hc;
	char err[512], p[128];
	static const struct { const char *http, *prom, *err; } bad[] = {
		{ "[general]\nenabled=yes\n", "",
		  "http.conf:2: enabled = yes needs auth_username and auth_password: the status "
		  "page is never served without a password" },
		{ "[general]\nbindport=http\n", "",
		  "http.conf:2: bindport must be from 1 to 65535, not 'http'" },
		{ "[general]\nbindaddr=127.0.0.1:80\n", "",
		  "http.conf:2: bindaddr must be an IPv4 or IPv6 address (the port is bindport), "
		  "not '127.0.0.1:80'" },
		{ "[general]\nenabled=si\n", "", "http.conf:2: enabled must be yes or no, not 'si'" },
		{ "", "[general]\nenabled=yes\nuri=a b\n",
		  "prometheus.conf:3: uri must be a path such as 'metrics', not 'a b'" },
		{ "", "[general]\nenabled=yes\nauth_username=prom\n",
		  "prometheus.conf:1: prometheus.conf needs both auth_username and auth_password, "
		  "or neither" },
	};
	size_t i;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tandem-unit-http.XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* neither file: off, loopback:8088, /metrics */
	assert_int_equal(http_conf_load(&hc, dir, err, sizeof(err)), 0);
	assert_false(hc.enabled || hc.prom);
	assert_int_equal(ntohl(((struct sockaddr_in *)&hc.bind)->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(ntohs(((struct sockaddr_in *)&hc.bind)->sin_port), 8088);
	assert_string_equal(hc.prom_uri, "/metrics");
	write_conf("http.conf", "[general]\nenabled=yes\nbindaddr=::1\nbindport=8089\n"
		   "auth_username=admin\nauth_password=pw\nsessionlimit=10\n");
	write_conf("prometheus.conf", "[general]\nenabled=yes\nuri=stats/prom\n"
		   "core_metrics_enabled=yes\n");
	assert_int_equal(http_conf_load(&hc, dir, err, sizeof(err)), 0);
	assert_true(hc.enabled && hc.prom);
	assert_int_equal(hc.bind.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&hc.bind)->sin6_port), 8089);
	assert_string_equal(hc.user, "admin");
	assert_string_equal(hc.pass, "pw");
	assert_string_equal(hc.prom_uri, "/stats/prom");
	assert_string_equal(hc.prom_user, "");
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		write_conf("http.conf", bad[i].http);
		write_conf("prometheus.conf", bad[i].prom);
		err[0] = '\0';
		assert_int_equal(http_conf_load(&hc, dir, err, sizeof(err)), EINVAL);
		assert_string_equal(err, bad[i].err);
	}
	snprintf(p, sizeof(p), "%s/http.conf", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/prometheus.conf", dir);
	unlink(p);
	rmdir(dir);
}

int test_tftp_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_rrq_plain),
		cmocka_unit_test(t_rrq_options),
		cmocka_unit_test(t_rrq_refused),
		cmocka_unit_test(t_ack_error_data),
		cmocka_unit_test(t_netascii),
		cmocka_unit_test(t_tftp_conf),
		cmocka_unit_test(t_http_conf),
	};
	return cmocka_run_group_tests_name("tftp", tests, NULL, NULL);
}
