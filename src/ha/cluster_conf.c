/**
 * @file cluster_conf.c  tandem.conf [cluster] (cluster_conf.h).
 *
 * Options are read in a fixed order, not file order, because `node` lines
 * take their default port from `port` wherever it is written. The key is
 * read here so that a missing, short or world-readable keyfile is a
 * FILE:LINE error at start, before anything listens.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ha/cluster_conf.h"

const char *const cluster_conf_options[] = {
	"name", "node", "keyfile", "vip", "interface", "witness", "engine", "port",
	"lease", "peer_timeout", "sync", "sync_timeout", "fsync", "backlog",
	"backlog_max", "advert_int", "vrid", "hook", "two_node_takeover",
	"keepalived_conf", "keepalived_pid", NULL   /* failover.c, keepalived.c */
};

void cluster_conf_defaults(struct cluster_conf *cc)
{
	memset(cc, 0, sizeof(*cc));
	snprintf(cc->name, sizeof(cc->name), "tandem");
	cc->port = CLUSTER_PORT;
	cc->engine = CLUSTER_ENGINE_KEEPALIVED;
	cc->lease_ms = 600;
	cc->peer_timeout_ms = 200;
	cc->sync_timeout_ms = 500;
	cc->advert_int_ms = 50;
	cc->sync = true;
	cc->backlog = 256ull << 20;
	cc->backlog_max = 2048ull << 20;
	snprintf(cc->keepalived_conf, sizeof(cc->keepalived_conf), "%s",
		 "/etc/keepalived/keepalived.conf");
	snprintf(cc->keepalived_pid, sizeof(cc->keepalived_pid), "%s", "/run/keepalived.pid");
}

void cluster_conf_clear(struct cluster_conf *cc)
{
	OPENSSL_cleanse(cc->key, sizeof(cc->key));
	cc->keylen = 0;
}

const char *cluster_engine_name(enum cluster_engine e)
{
	switch (e) {
	case CLUSTER_ENGINE_KEEPALIVED: return "keepalived";
	case CLUSTER_ENGINE_PACEMAKER: return "pacemaker";
	case CLUSTER_ENGINE_NONE: return "none";
	}
	return "?";
}

/* -------------------------------------------------------------- errors */

static int bad(char *err, size_t errsize, const struct conf_var *v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(char *err, size_t errsize, const struct conf_var *v, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errsize, "%s:%u: [cluster] ", v->file, v->line);

	if (n >= 0 && (size_t)n < errsize) {
		va_start(ap, fmt);
		vsnprintf(err + n, errsize - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return EINVAL;
}

/* The last option called name, or NULL. */
static const struct conf_var *opt(const struct conf_section *sec, const char *name)
{
	return conf_var(sec, name);
}

/* --------------------------------------------------------------- values */

static bool name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_.-");
	return n && n < CLUSTER_NAME_MAX && !s[n];
}

/* "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT", bare V6: numeric only. */
static int addr_parse(const char *s, uint16_t defport, struct sockaddr_storage *sa)
{
	char host[64];
	const char *port = NULL, *end;
	unsigned long p = defport;
	size_t n;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		if (!(end = strchr(s, ']')) || (end[1] && end[1] != ':'))
			return EINVAL;
		n = (size_t)(end - s - 1);
		memcpy(host, s + 1, n < sizeof(host) ? n : 0);
		if (n >= sizeof(host))
			return EINVAL;
		host[n] = '\0';
		if (end[1] == ':')
			port = end + 2;
	} else {
		const char *c = strchr(s, ':');
		if (c && strchr(c + 1, ':'))
			c = NULL;    /* bare IPv6 */
		n = c ? (size_t)(c - s) : strlen(s);
		if (n >= sizeof(host))
			return EINVAL;
		memcpy(host, s, n);
		host[n] = '\0';
		if (c)
			port = c + 1;
	}
	if (port) {
		char *e;
		errno = 0;
		p = strtoul(port, &e, 10);
		if (errno || e == port || *e || p < 1 || p > 65535)
			return EINVAL;
	}
	struct sockaddr_in *in4 = (void *)sa;
	struct sockaddr_in6 *in6 = (void *)sa;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
	} else {
		return EINVAL;
	}
	return 0;
}

static void addr_str(const struct sockaddr_storage *sa, char *buf, size_t size)
{
	char h[INET6_ADDRSTRLEN];

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, h, sizeof(h));
		snprintf(buf, size, "[%s]:%u", h, ntohs(in6->sin6_port));
	} else {
		const struct sockaddr_in *in4 = (const void *)sa;
		inet_ntop(AF_INET, &in4->sin_addr, h, sizeof(h));
		snprintf(buf, size, "%s:%u", h, ntohs(in4->sin_port));
	}
}

/* "200ms", "0.2s", "200" (ms) into ms within [lo, hi]. */
static int duration(const struct conf_var *v, uint32_t lo, uint32_t hi, uint32_t *out,
		    char *err, size_t errsize)
{
	char *e;
	double x;

	errno = 0;
	x = strtod(v->value, &e);
	if (!errno && e != v->value && (*e == '\0' || !strcasecmp(e, "ms")))
		;
	else if (!errno && e != v->value && !strcasecmp(e, "s"))
		x *= 1000;
	else
		x = -1;
	if (!(x >= lo && x <= hi) || !isdigit((unsigned char)v->value[0]))
		return bad(err, errsize, v, "%s must be a duration from %ums to %ums (e.g. "
			   "%ums or %.1fs), not '%s'", v->name, lo, hi, lo, lo / 1000.0,
			   v->value);
	*out = (uint32_t)(x + 0.5);
	return 0;
}

/* "256M", "2G", "1024K", "1048576" into bytes within [lo, hi]. */
static int size_opt(const struct conf_var *v, uint64_t lo, uint64_t hi, uint64_t *out,
		    char *err, size_t errsize)
{
	unsigned long long x;
	unsigned shift = 0;
	char *e;

	errno = 0;
	x = strtoull(v->value, &e, 10);
	if (errno || e == v->value || !isdigit((unsigned char)v->value[0]))
		goto bad;
	switch (toupper((unsigned char)*e)) {
	case 'K': shift = 10; e++; break;
	case 'M': shift = 20; e++; break;
	case 'G': shift = 30; e++; break;
	case 'T': shift = 40; e++; break;
	}
	if (shift && (!strcasecmp(e, "iB") || !strcasecmp(e, "B")))
		e += strlen(e);
	if (*e || x > (UINT64_MAX >> shift))
		goto bad;
	x <<= shift;
	if (x < lo || x > hi)
		goto bad;
	*out = x;
	return 0;
bad:
	return bad(err, errsize, v, "%s must be a size from %lluM to %lluG (e.g. 256M), "
		   "not '%s'", v->name, (unsigned long long)(lo >> 20),
		   (unsigned long long)(hi >> 30), v->value);
}

static int flag(const struct conf_section *sec, const char *name, bool *out, char *err,
		size_t errsize)
{
	const struct conf_var *v = opt(sec, name);

	if (v && conf_bool(v->value, out))
		return bad(err, errsize, v, "%s must be yes or no, not '%s'", name, v->value);
	return 0;
}

/* ----------------------------------------------------------------- key */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int cluster_key_decode(const char *text, size_t len, uint8_t *out, size_t *outlen)
{
	char s[4 * CLUSTER_KEY_MAX];
	size_t n = 0, o = 0, i;
	bool hex = true;

	for (i = 0; i < len; i++) {
		if (isspace((unsigned char)text[i]))
			continue;
		if (n == sizeof(s))
			return ERANGE;
		s[n++] = text[i];
		if (hexval((unsigned char)text[i]) < 0)
			hex = false;
	}
	if (!n)
		return EINVAL;
	if (hex && n % 2 == 0) {
		if (n / 2 > CLUSTER_KEY_MAX)
			return ERANGE;
		for (i = 0; i < n; i += 2)
			out[o++] = (uint8_t)(hexval((unsigned char)s[i]) << 4 |
					     hexval((unsigned char)s[i + 1]));
		*outlen = o;
		return 0;
	}
	/* base64 with padding: groups of 4 */
	if (n % 4)
		return EINVAL;
	for (i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64val((unsigned char)s[i + k])) < 0) {
				return EINVAL;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if (o + 3 - (size_t)pad > CLUSTER_KEY_MAX)
			return ERANGE;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	OPENSSL_cleanse(s, sizeof(s));
	return 0;
}

int cluster_key_generate(char out[2 * CLUSTER_KEY_MIN + 2])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t k[CLUSTER_KEY_MIN];

	if (RAND_bytes(k, sizeof(k)) != 1)
		return EIO;
	for (size_t i = 0; i < sizeof(k); i++) {
		out[2 * i] = hex[k[i] >> 4];
		out[2 * i + 1] = hex[k[i] & 15];
	}
	out[2 * CLUSTER_KEY_MIN] = '\n';
	out[2 * CLUSTER_KEY_MIN + 1] = '\0';
	OPENSSL_cleanse(k, sizeof(k));
	return 0;
}

static int key_load(struct cluster_conf *cc, const struct conf_var *v, const char *confdir,
		    char *err, size_t errsize)
{
	char text[4 * CLUSTER_KEY_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, e;

	if (v->value[0] == '/' || !confdir)
		snprintf(cc->keyfile, sizeof(cc->keyfile), "%s", v->value);
	else
		snprintf(cc->keyfile, sizeof(cc->keyfile), "%s/%s", confdir, v->value);
	if ((fd = open(cc->keyfile, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		bad(err, errsize, v, "keyfile %s: %s (tandemctl cluster keygen > FILE; "
		    "chmod 600 FILE)", cc->keyfile, strerror(e));
		return e;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		return bad(err, errsize, v, "keyfile %s must be a file of mode 0600 (it is "
			   "%04o): the key guards the replication link", cc->keyfile,
			   (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, text, sizeof(text));
	e = errno;
	close(fd);
	if (n < 0)
		return bad(err, errsize, v, "keyfile %s: %s", cc->keyfile, strerror(e));
	if ((size_t)n == sizeof(text))
		e = ERANGE;
	else
		e = cluster_key_decode(text, (size_t)n, cc->key, &cc->keylen);
	OPENSSL_cleanse(text, sizeof(text));
	if (e || cc->keylen < CLUSTER_KEY_MIN) {
		cluster_conf_clear(cc);
		return bad(err, errsize, v, "keyfile %s must hold %d to %d random bytes in hex "
			   "or base64 (tandemctl cluster keygen makes one)", cc->keyfile,
			   CLUSTER_KEY_MIN, CLUSTER_KEY_MAX);
	}
	return 0;
}

/* --------------------------------------------------------------- nodes */

static int nodes_load(struct cluster_conf *cc, const struct conf_section *sec, char *err,
		      size_t errsize)
{
	const struct conf_var *v;
	unsigned n = 0;

	for (v = sec->vars; v; v = v->next) {
		char name[CLUSTER_NAME_MAX];
		const char *comma;
		struct cluster_node *nd;
		size_t l;

		if (strcasecmp(v->name, "node"))
			continue;
		if (n == 2)
			return bad(err, errsize, v, "a cluster has exactly two nodes; this is a "
				   "third node line");
		comma = strchr(v->value, ',');
		l = comma ? (size_t)(comma - v->value) : 0;
		if (!comma || !l || l >= sizeof(name))
			return bad(err, errsize, v, "node must be NAME,ADDRESS (e.g. "
				   "a,10.0.0.1), not '%s'", v->value);
		memcpy(name, v->value, l);
		name[l] = '\0';
		while (l && isspace((unsigned char)name[l - 1]))
			name[--l] = '\0';
		comma++;
		while (isspace((unsigned char)*comma))
			comma++;
		if (!name_ok(name))
			return bad(err, errsize, v, "node name '%s' must be 1 to %d letters, "
				   "digits, '_', '.' or '-'", name, CLUSTER_NAME_MAX - 1);
		if (n == 1 && !strcmp(cc->nodes[0].name, name))
			return bad(err, errsize, v, "node '%s' is named twice", name);
		nd = &cc->nodes[n++];
		snprintf(nd->name, sizeof(nd->name), "%s", name);
		nd->line = v->line;
		if (addr_parse(comma, cc->port, &nd->addr))
			return bad(err, errsize, v, "node %s: '%s' must be an IP address, "
				   "optionally with :PORT", name, comma);
		addr_str(&nd->addr, nd->addr_str, sizeof(nd->addr_str));
	}
	if (n != 2) {
		snprintf(err, errsize, "%s:%u: [cluster] needs two node lines (node = "
			 "NAME,ADDRESS), found %u", sec->file, sec->line, n);
		return EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------ floating address */

static int vip_load(struct cluster_conf *cc, const struct conf_section *sec, char *err,
		    size_t errsize)
{
	const struct conf_var *v;
	char host[64], *slash, *e;
	unsigned long p;

	if ((v = opt(sec, "interface"))) {
		if (!v->value[0] || strlen(v->value) >= sizeof(cc->interface) ||
		    strpbrk(v->value, "/ \t:"))
			return bad(err, errsize, v, "interface must be a network interface "
				   "name (e.g. eth0), not '%s'", v->value);
		snprintf(cc->interface, sizeof(cc->interface), "%s", v->value);
	}
	if (!(v = opt(sec, "vip")))
		return 0;
	snprintf(host, sizeof(host), "%s", v->value);
	if (!(slash = strchr(host, '/')))
		goto bad;
	*slash++ = '\0';
	errno = 0;
	p = strtoul(slash, &e, 10);
	if (errno || e == slash || *e || !isdigit((unsigned char)*slash))
		goto bad;
	memset(&cc->vip, 0, sizeof(cc->vip));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&cc->vip)->sin_addr) == 1)
		cc->vip.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&cc->vip)->sin6_addr) == 1)
		cc->vip.ss_family = AF_INET6;
	else
		goto bad;
	if (p > (cc->vip.ss_family == AF_INET6 ? 128u : 32u))
		goto bad;
	cc->vip_prefix = (unsigned)p;
	cc->has_vip = true;
	char a[INET6_ADDRSTRLEN];
	inet_ntop(cc->vip.ss_family, cc->vip.ss_family == AF_INET6 ?
		  (void *)&((struct sockaddr_in6 *)&cc->vip)->sin6_addr :
		  (void *)&((struct sockaddr_in *)&cc->vip)->sin_addr, a, sizeof(a));
	snprintf(cc->vip_str, sizeof(cc->vip_str), "%s/%u", a, (unsigned)p);
	if (!cc->interface[0] && cc->engine != CLUSTER_ENGINE_PACEMAKER)
		return bad(err, errsize, v, "vip needs interface = NAME, where the floating "
			   "address lives");
	return 0;
bad:
	return bad(err, errsize, v, "vip must be ADDRESS/PREFIX (e.g. 10.0.0.100/24), "
		   "not '%s'", v->value);
}

/* ---------------------------------------------------------------- load */

static int engine_load(struct cluster_conf *cc, const struct conf_section *sec, char *err,
		       size_t errsize)
{
	const struct conf_var *v = opt(sec, "engine");

	if (!v)
		return 0;
	if (!strcasecmp(v->value, "keepalived"))
		cc->engine = CLUSTER_ENGINE_KEEPALIVED;
	else if (!strcasecmp(v->value, "pacemaker"))
		cc->engine = CLUSTER_ENGINE_PACEMAKER;
	else if (!strcasecmp(v->value, "none"))
		cc->engine = CLUSTER_ENGINE_NONE;
	else
		return bad(err, errsize, v, "engine must be keepalived, pacemaker or none, "
			   "not '%s'", v->value);
	return 0;
}

static int numbers_load(struct cluster_conf *cc, const struct conf_section *sec,
			char *err, size_t errsize)
{
	const struct conf_var *v;
	int e = 0;

	if ((v = opt(sec, "lease")))
		e = duration(v, 100, 60000, &cc->lease_ms, err, errsize);
	if (!e && (v = opt(sec, "peer_timeout")))
		e = duration(v, 100, 60000, &cc->peer_timeout_ms, err, errsize);
	if (!e && (v = opt(sec, "sync_timeout")))
		e = duration(v, 10, 60000, &cc->sync_timeout_ms, err, errsize);
	if (!e && (v = opt(sec, "advert_int"))) {
		e = duration(v, 10, 40950, &cc->advert_int_ms, err, errsize);
		if (!e && cc->advert_int_ms % 10)
			e = bad(err, errsize, v, "advert_int counts centiseconds (VRRPv3): "
				"use a multiple of 10ms, not '%s'", v->value);
	}
	if (!e && (v = opt(sec, "backlog")))
		e = size_opt(v, 1ull << 20, 1ull << 40, &cc->backlog, err, errsize);
	if (!e && (v = opt(sec, "backlog_max")))
		e = size_opt(v, 1ull << 20, 1ull << 40, &cc->backlog_max, err, errsize);
	if (!e && cc->backlog_max < cc->backlog) {
		v = opt(sec, "backlog_max") ? opt(sec, "backlog_max") : opt(sec, "backlog");
		e = bad(err, errsize, v, "backlog_max (%lluM) must not be below backlog "
			"(%lluM)", (unsigned long long)(cc->backlog_max >> 20),
			(unsigned long long)(cc->backlog >> 20));
	}
	if (!e && (v = opt(sec, "vrid"))) {
		char *end;
		unsigned long x;
		errno = 0;
		x = strtoul(v->value, &end, 10);
		if (errno || end == v->value || *end || x < 1 || x > 255 ||
		    !isdigit((unsigned char)v->value[0]))
			e = bad(err, errsize, v, "vrid must be a number from 1 to 255, not "
				"'%s'", v->value);
		cc->vrid = (unsigned)x;
	}
	if (!e && (v = opt(sec, "port"))) {
		char *end;
		unsigned long x;
		errno = 0;
		x = strtoul(v->value, &end, 10);
		if (errno || end == v->value || *end || x < 1 || x > 65535 ||
		    !isdigit((unsigned char)v->value[0]))
			e = bad(err, errsize, v, "port must be a number from 1 to 65535, not "
				"'%s'", v->value);
		cc->port = (uint16_t)x;
	}
	return e;
}

static void digest(struct cluster_conf *cc, const struct conf_section *sec)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const struct conf_var *v;
	unsigned n = 0;

	memset(cc->digest, 0, sizeof(cc->digest));
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	for (v = sec->vars; v; v = v->next) {
		char name[64];
		size_t i;
		for (i = 0; v->name[i] && i + 1 < sizeof(name); i++)
			name[i] = (char)tolower((unsigned char)v->name[i]);
		name[i] = '\0';
		EVP_DigestUpdate(md, name, i);
		EVP_DigestUpdate(md, "=", 1);
		EVP_DigestUpdate(md, v->value, strlen(v->value));
		EVP_DigestUpdate(md, "\n", 1);
	}
	EVP_DigestFinal_ex(md, cc->digest, &n);
out:
	EVP_MD_CTX_free(md);
}

int cluster_addr_parse(const char *s, uint16_t defport, struct sockaddr_storage *sa)
{
	return addr_parse(s, defport, sa);
}

int cluster_conf_load(struct cluster_conf *cc, const struct conf_section *sec,
		      const char *confdir, char *err, size_t errsize)
{
	const struct conf_var *v;
	int e;

	cluster_conf_defaults(cc);
	if (!sec)
		return 0;
	cc->enabled = true;
	if ((v = opt(sec, "name"))) {
		if (!name_ok(v->value))
			return bad(err, errsize, v, "name must be 1 to %d letters, digits, '_', "
				   "'.' or '-', not '%s'", CLUSTER_NAME_MAX - 1, v->value);
		snprintf(cc->name, sizeof(cc->name), "%s", v->value);
	}
	if ((e = numbers_load(cc, sec, err, errsize)) ||
	    (e = flag(sec, "sync", &cc->sync, err, errsize)) ||
	    (e = flag(sec, "fsync", &cc->fsync, err, errsize)) ||
	    (e = flag(sec, "two_node_takeover", &cc->two_node_takeover, err, errsize)) ||
	    (e = engine_load(cc, sec, err, errsize)) ||
	    (e = nodes_load(cc, sec, err, errsize)) ||
	    (e = vip_load(cc, sec, err, errsize)))
		goto fail;
	if ((v = opt(sec, "witness")) && strcasecmp(v->value, "none")) {
		if (addr_parse(v->value, cc->port, &cc->witness)) {
			e = bad(err, errsize, v, "witness must be ADDRESS[:PORT] or none, not "
				"'%s'", v->value);
			goto fail;
		}
		cc->has_witness = true;
		addr_str(&cc->witness, cc->witness_str, sizeof(cc->witness_str));
	}
	if ((v = opt(sec, "hook"))) {
		if (v->value[0] != '/' || strlen(v->value) >= sizeof(cc->hook)) {
			e = bad(err, errsize, v, "hook must be an absolute path, not '%s'",
				v->value);
			goto fail;
		}
		snprintf(cc->hook, sizeof(cc->hook), "%s", v->value);
	}
	/* keepalived.c's files; relative paths are taken from DATADIR (tests) */
	for (int k = 0; k < 2; k++) {
		char *dst = k ? cc->keepalived_pid : cc->keepalived_conf;

		if (!(v = opt(sec, k ? "keepalived_pid" : "keepalived_conf")))
			continue;
		if (!v->value[0] || strlen(v->value) >= sizeof(cc->keepalived_conf)) {
			e = bad(err, errsize, v, "%s must be a file path", v->name);
			goto fail;
		}
		snprintf(dst, sizeof(cc->keepalived_conf), "%s", v->value);
	}
	if (cc->engine == CLUSTER_ENGINE_KEEPALIVED && !cc->has_vip) {
		snprintf(err, errsize, "%s:%u: [cluster] engine = keepalived needs vip = "
			 "ADDRESS/PREFIX and interface = NAME (or engine = none)", sec->file,
			 sec->line);
		e = EINVAL;
		goto fail;
	}
	if (!(v = opt(sec, "keyfile"))) {
		snprintf(err, errsize, "%s:%u: [cluster] needs keyfile = FILE, the shared "
			 "secret of the replication link (tandemctl cluster keygen)",
			 sec->file, sec->line);
		e = EINVAL;
		goto fail;
	}
	if ((e = key_load(cc, v, confdir, err, errsize)))
		goto fail;
	digest(cc, sec);
	return 0;
fail:
	cluster_conf_clear(cc);
	return e;
}

/* ---------------------------------------------------------------- self */

int cluster_conf_self(const struct cluster_conf *cc, const char *nodename,
		      unsigned *self, char *err, size_t errsize)
{
	char host[256];

	if (!nodename) {
		if (gethostname(host, sizeof(host)) < 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		nodename = host;
	}
	for (unsigned i = 0; i < 2; i++)
		if (!strcmp(cc->nodes[i].name, nodename)) {
			*self = i;
			return 0;
		}
	snprintf(err, errsize, "this node is '%s', which is not a node of [cluster] (%s, "
		 "%s): start it with -n %s or -n %s", nodename, cc->nodes[0].name,
		 cc->nodes[1].name, cc->nodes[0].name, cc->nodes[1].name);
	return ENOENT;
}

bool cluster_conf_dials(const struct cluster_conf *cc, unsigned self)
{
	return strcmp(cc->nodes[self].name, cc->nodes[!self].name) < 0;
}
