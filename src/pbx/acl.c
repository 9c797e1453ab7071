/** @file acl.c  permit=/deny= rules (see acl.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbx/acl.h"

struct acl {
	int af;
	unsigned char addr[16], mask[16];
	bool permit;
	struct acl *next;
};

static int parse_mask(int af, const char *m, unsigned char *mask)
{
	size_t len = af == AF_INET ? 4 : 16, i;
	char *e;
	unsigned long bits;

	if (af == AF_INET && strchr(m, '.'))
		return inet_pton(AF_INET, m, mask) == 1 ? 0 : EINVAL;
	errno = 0;
	bits = strtoul(m, &e, 10);
	if (errno || e == m || *e || bits > len * 8)
		return EINVAL;
	memset(mask, 0, 16);
	for (i = 0; i < len; i++) {
		unsigned b = bits >= 8 ? 8 : (unsigned)bits;
		mask[i] = (unsigned char)(b ? 0xff << (8 - b) : 0);
		bits -= b;
	}
	return 0;
}

int acl_add(struct acl **acl, bool permit, const char *value)
{
	char buf[128], *slash;
	struct acl *r, **tail;
	size_t len, i;

	if (snprintf(buf, sizeof(buf), "%s", value) >= (int)sizeof(buf))
		return EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, r->addr) == 1)
		r->af = AF_INET;
	else if (inet_pton(AF_INET6, buf, r->addr) == 1)
		r->af = AF_INET6;
	else
		goto bad;
	len = r->af == AF_INET ? 4 : 16;
	if (slash) {
		if (parse_mask(r->af, slash, r->mask))
			goto bad;
	} else {
		memset(r->mask, 0xff, len);
	}
	for (i = 0; i < len; i++)
		r->addr[i] &= r->mask[i];
	r->permit = permit;
	for (tail = acl; *tail; tail = &(*tail)->next)
		;
	*tail = r;
	return 0;
bad:
	free(r);
	return EINVAL;
}

bool acl_permits(const struct acl *acl, const struct sockaddr_storage *sa)
{
	unsigned char a[16];
	int af = sa->ss_family;
	bool ok = true;
	size_t len, i;

	if (af == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		const struct in6_addr *v6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(v6)) {   /* dual-stack socket: judge as IPv4 */
			af = AF_INET;
			memcpy(a, &v6->s6_addr[12], 4);
		} else {
			memcpy(a, v6, 16);
		}
	}
	len = af == AF_INET ? 4 : 16;
	for (; acl; acl = acl->next) {
		if (acl->af != af)
			continue;
		for (i = 0; i < len && (a[i] & acl->mask[i]) == acl->addr[i]; i++)
			;
		if (i == len)
			ok = acl->permit;
	}
	return ok;
}

void acl_free(struct acl *acl)
{
	while (acl) {
		struct acl *n = acl->next;
		free(acl);
		acl = n;
	}
}
