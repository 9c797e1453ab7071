/**
 * @file pattern.c  Extension names: normalising, Asterisk's sort order
 * (pbx.c ext_cmp) and matching of `_` patterns (X N Z [a-z] . !).
 *
 * Order, as Asterisk sorts a context: every literal extension before every
 * pattern; literals by byte value ignoring '-'; patterns position by
 * position, where a position scores by how many characters it can match
 * (a literal 1, N 8, Z 9, X 10, [set] its size), ties broken by the set's
 * lowest characters, then '.' (one or more) and after it '!' (zero or
 * more), and a pattern that ends sorts after one that goes on.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dialplan/dp_int.h"

size_t dp_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

char *dp_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	if (d)
		memcpy(d, s, n);
	return d;
}

char *dp_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

void dp_ext_normalize(char *dst, size_t size, const char *src)
{
	bool insq = false;
	size_t n = 0;

	if (!size)
		return;
	for (; *src && n + 1 < size; src++) {
		if (*src == '[')
			insq = true;
		else if (*src == ']')
			insq = false;
		else if (!insq && (*src == ' ' || *src == '\t' || *src == '-'))
			continue;
		dst[n++] = *src;
	}
	dst[n] = '\0';
}

static int cmp_literal(const char *a, const char *b)
{
	for (;;) {
		while (*a == '-')
			a++;
		while (*b == '-')
			b++;
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
		a++;
		b++;
	}
}

/* Score one pattern position and fill its character set (32 bytes). */
static int pos_score(const char **pp, unsigned char set[32])
{
	const char *p = *pp, *end;
	unsigned char c, cmin = 0xff;
	int count = 0;

	memset(set, 0, 32);
	do
		c = (unsigned char)*p++;
	while (c == ' ');
	*pp = p;
	switch (toupper(c)) {
	case 'N':
		set[6] = 0x3f; set[7] = 0xc0;
		return 0x0800 | '2';
	case 'X':
		set[6] = 0xff; set[7] = 0xc0;
		return 0x0a00 | '0';
	case 'Z':
		set[6] = 0x7f; set[7] = 0xc0;
		return 0x0900 | '1';
	case '.':
		return 0x18000;
	case '!':
		return 0x28000;
	case '\0':
		*pp = p - 1;
		return 0x30000;
	case '[':
		break;
	default:
		set[c / 8] = (unsigned char)(1u << (7 - c % 8));
		return 0x0100 | c;
	}
	end = strchr(p, ']');
	if (!end)
		return 0x40000;
	while (p < end) {
		unsigned c1 = (unsigned char)p[0], c2 = c1;

		if (p + 2 < end && p[1] == '-') {
			c2 = (unsigned char)p[2];
			p += 2;
		}
		p++;
		if (c1 < cmin)
			cmin = (unsigned char)c1;
		for (; c1 <= c2; c1++) {
			unsigned char m = (unsigned char)(1u << (7 - c1 % 8));

			if (!(set[c1 / 8] & m)) {
				set[c1 / 8] |= m;
				count += 0x100;
			}
		}
	}
	*pp = end + 1;
	return count | cmin;
}

static int cmp_pattern(const char *a, const char *b)
{
	for (;;) {
		unsigned char sa[32], sb[32];
		int ea = pos_score(&a, sa), eb = pos_score(&b, sb);
		int cmp = ea - eb;

		if (!cmp)
			cmp = memcmp(sb, sa, sizeof(sa));
		if (cmp)
			return cmp;
		if (ea == 0x30000)
			return 0;
	}
}

int dp_ext_cmp(const char *a, const char *b)
{
	if (a[0] != '_')
		return b[0] == '_' ? -1 : cmp_literal(a, b);
	if (b[0] != '_')
		return 1;
	return cmp_pattern(a + 1, b + 1);
}

/* Does set "[...]" starting after '[' (ending at end) hold c? */
static bool set_has(const char *p, const char *end, unsigned char c)
{
	while (p < end) {
		unsigned char c1 = (unsigned char)p[0], c2 = c1;

		if (p + 2 < end && p[1] == '-') {
			c2 = (unsigned char)p[2];
			p += 2;
		}
		p++;
		if (c >= c1 && c <= c2)
			return true;
	}
	return false;
}

static bool match_pat(const char *p, const char *d)
{
	for (;;) {
		while (*d == '-')
			d++;
		switch (toupper((unsigned char)*p)) {
		case '\0':
			return *d == '\0';
		case '.':
			return *d != '\0';
		case '!':
			return true;
		case 'N':
			if (*d < '2' || *d > '9')
				return false;
			break;
		case 'X':
			if (*d < '0' || *d > '9')
				return false;
			break;
		case 'Z':
			if (*d < '1' || *d > '9')
				return false;
			break;
		case '[': {
			const char *end = strchr(p + 1, ']');

			if (!end || !*d || !set_has(p + 1, end, (unsigned char)*d))
				return false;
			p = end;
			break;
		}
		case '-':
		case ' ':
			p++;
			continue;
		default:
			if (*p != *d)
				return false;
			break;
		}
		p++;
		d++;
	}
}

bool dp_ext_match(const char *pattern, const char *exten)
{
	if (pattern[0] != '_')
		return cmp_literal(pattern, exten) == 0;
	return match_pat(pattern + 1, exten);
}
