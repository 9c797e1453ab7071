/**
 * @file say.c  SayDigits and SayNumber prompt lists, as Asterisk's
 * main/say.c builds them (ast_say_digit_str, ast_say_number_full_en,
 * ast_say_number_full_es).
 *
 * English: 0-19 one file each, tens, "N hundred", "thousand", "million",
 * "billion" after the count said the same way (1234 = 1 thousand 2
 * hundred 30 4).
 *
 * Spanish: 1-30 one file each ("digits/21" is veintiuno), tens and "y"
 * ("digits/and") before the unit, 101-199 "ciento" ("digits/100-and")
 * then the rest, 200-900 one file each, 1000-1999 "mil" ("thousand")
 * alone, N mil, "un millon" ("digits/1M" then "digits/million"), N
 * millones ("digits/millions"). A final one follows the gender option:
 * "digits/1F" (una), "digits/1M" (un) or "digits/1" (uno). One
 * difference: Asterisk says exactly 100 with "digits/100", a file
 * Debian's asterisk-core-sounds-es packages do not ship; their "cien" is
 * "digits/hundred", which is what we play.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "media/say.h"

struct list {
	char *out;
	size_t size, len;
	bool full;
};

static void add(struct list *l, const char *name)
{
	size_t n = strlen(name) + (l->len ? 1 : 0);

	if (l->full || l->len + n + 1 > l->size) {
		l->full = true;
		return;
	}
	if (l->len)
		l->out[l->len++] = '&';
	memcpy(l->out + l->len, name, strlen(name) + 1);
	l->len += strlen(name);
}

static void addf(struct list *l, const char *fmt, int n)
{
	char b[32];

	snprintf(b, sizeof(b), fmt, n);
	add(l, b);
}

static int finish(struct list *l)
{
	if (l->full) {
		if (l->size)
			l->out[0] = '\0';
		return ENOSPC;
	}
	return 0;
}

int say_digits(const char *digits, char *out, size_t size)
{
	struct list l = { out, size, 0, false };

	if (size)
		out[0] = '\0';
	for (; digits && *digits; digits++) {
		if (*digits >= '0' && *digits <= '9')
			addf(&l, "digits/%d", *digits - '0');
		else if (*digits == '*')
			add(&l, "digits/star");
		else if (*digits == '#')
			add(&l, "digits/pound");
	}
	return finish(&l);
}

/* ast_say_number_full_en */
static int number_en(struct list *l, int num)
{
	bool playh = false;
	int err;

	while (num || playh) {
		if (num < 0) {
			add(l, "digits/minus");
			num = num > INT_MIN ? -num : 0;
		} else if (playh) {
			add(l, "digits/hundred");
			playh = false;
		} else if (num < 20) {
			addf(l, "digits/%d", num);
			num = 0;
		} else if (num < 100) {
			addf(l, "digits/%d", num / 10 * 10);
			num %= 10;
		} else if (num < 1000) {
			addf(l, "digits/%d", num / 100);
			playh = true;
			num %= 100;
		} else if (num < 1000000) {
			if ((err = number_en(l, num / 1000)))
				return err;
			num %= 1000;
			add(l, "digits/thousand");
		} else if (num < 1000000000) {
			if ((err = number_en(l, num / 1000000)))
				return err;
			num %= 1000000;
			add(l, "digits/million");
		} else if (num < INT_MAX) {
			if ((err = number_en(l, num / 1000000000)))
				return err;
			num %= 1000000000;
			add(l, "digits/billion");
		} else {
			return ERANGE;
		}
	}
	return 0;
}

/* ast_say_number_full_es; mf: -1 female, 1 male, 0 neutral */
static int number_es(struct list *l, int num, int mf)
{
	bool playa = false;
	int err;

	while (num) {
		if (num < 0) {
			add(l, "digits/minus");
			num = num > INT_MIN ? -num : 0;
		} else if (playa) {
			add(l, "digits/and");
			playa = false;
		} else if (num == 1) {
			add(l, mf < 0 ? "digits/1F" : mf > 0 ? "digits/1M" : "digits/1");
			num = 0;
		} else if (num < 31) {
			addf(l, "digits/%d", num);
			num = 0;
		} else if (num < 100) {
			addf(l, "digits/%d", num / 10 * 10);
			num %= 10;
			playa = num != 0;
		} else if (num == 100) {
			add(l, "digits/hundred");   /* Asterisk: digits/100 (see above) */
			num = 0;
		} else if (num < 200) {
			add(l, "digits/100-and");
			num -= 100;
		} else if (num < 1000) {
			addf(l, "digits/%d", num / 100 * 100);
			num %= 100;
		} else if (num < 2000) {
			num %= 1000;
			add(l, "digits/thousand");
		} else if (num < 1000000) {
			if ((err = number_es(l, num / 1000, mf)))
				return err;
			num %= 1000;
			add(l, "digits/thousand");
		} else if (num < 2147483640) {
			bool one = num / 1000000 == 1;

			if ((err = number_es(l, num / 1000000, one ? 1 : mf)))
				return err;
			add(l, one ? "digits/million" : "digits/millions");
			num %= 1000000;
		} else {
			return ERANGE;
		}
	}
	return 0;
}

int say_number(int num, const char *lang, const char *gender, char *out, size_t size)
{
	struct list l = { out, size, 0, false };
	int err, mf = 0;

	if (size)
		out[0] = '\0';
	if (!num)
		return say_digits("0", out, size);
	if (gender && (gender[0] == 'f' || gender[0] == 'F'))
		mf = -1;
	else if (gender && (gender[0] == 'm' || gender[0] == 'M'))
		mf = 1;
	if (lang && !strncasecmp(lang, "es", 2))
		err = number_es(&l, num, mf);
	else
		err = number_en(&l, num);
	if (err) {
		if (size)
			out[0] = '\0';
		return err;
	}
	return finish(&l);
}
