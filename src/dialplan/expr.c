/**
 * @file expr.c  Asterisk's `$[ ]` expressions (main/ast_expr2.y), by
 * recursive descent. From loosest to tightest binding:
 *   a ? b :: c    ternary
 *   a | b         a unless a is empty or zero, else b
 *   a & b         a when neither is empty or zero, else 0
 *   = == != < > <= >=   numeric when both sides are numbers, else string
 *   + -    * / %  numbers (long double; a non-number warns and counts as 0)
 *   ! -           unary
 *   a : re  a =~ re   POSIX extended regex, ':' anchored at the start;
 *                 gives the first group, or the length matched
 *   ( )  "quoted strings"
 * Tokens need no spaces around operators. Pure and I/O-free (fuzzed).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialplan/dp_int.h"

#define EXPR_DEPTH 64

struct val {
	char *s;            /* always set */
	bool isnum;         /* computed numeric result */
	long double n;
};

enum tok { T_END, T_STR, T_OR, T_AND, T_EQ, T_NE, T_LT, T_GT, T_LE, T_GE,
	   T_PLUS, T_MINUS, T_MUL, T_DIV, T_MOD, T_NOT, T_COLON, T_TILDE,
	   T_COND, T_CC, T_LP, T_RP, T_ERR };

struct px {
	const char *p;
	enum tok t;
	const char *ts;     /* token text */
	size_t tl;
	bool quoted;
	int depth;
	bool err;
	bool oom;
};

static void next(struct px *x)
{
	const char *p = x->p;
	static const char ops[] = "|&=!<>+-*/%:?()\"";

	while (*p && isspace((unsigned char)*p))
		p++;
	x->ts = p;
	x->quoted = false;
	if (!*p) {
		x->t = T_END;
		x->p = p;
		return;
	}
	x->tl = 1;
	switch (*p) {
	case '|': x->t = T_OR; break;
	case '&': x->t = T_AND; break;
	case '=':
		if (p[1] == '=') { x->t = T_EQ; x->tl = 2; }
		else if (p[1] == '~') { x->t = T_TILDE; x->tl = 2; }
		else x->t = T_EQ;
		break;
	case '!':
		if (p[1] == '=') { x->t = T_NE; x->tl = 2; }
		else x->t = T_NOT;
		break;
	case '<':
		if (p[1] == '=') { x->t = T_LE; x->tl = 2; }
		else x->t = T_LT;
		break;
	case '>':
		if (p[1] == '=') { x->t = T_GE; x->tl = 2; }
		else x->t = T_GT;
		break;
	case '+': x->t = T_PLUS; break;
	case '-': x->t = T_MINUS; break;
	case '*': x->t = T_MUL; break;
	case '/': x->t = T_DIV; break;
	case '%': x->t = T_MOD; break;
	case ':':
		if (p[1] == ':') { x->t = T_CC; x->tl = 2; }
		else x->t = T_COLON;
		break;
	case '?': x->t = T_COND; break;
	case '(': x->t = T_LP; break;
	case ')': x->t = T_RP; break;
	case '"': {
		const char *e = strchr(p + 1, '"');

		if (!e) {
			x->t = T_ERR;
			break;
		}
		x->t = T_STR;
		x->quoted = true;
		x->ts = p + 1;
		x->tl = (size_t)(e - p - 1);
		x->p = e + 1;
		return;
	}
	default: {
		const char *e = p;

		while (*e && !isspace((unsigned char)*e) && !strchr(ops, *e))
			e++;
		x->t = T_STR;
		x->tl = (size_t)(e - p);
		break;
	}
	}
	x->p = p + x->tl;
}

static struct val vstr(struct px *x, const char *s, size_t n)
{
	struct val v = { malloc(n + 1), false, 0 };

	if (!v.s) {
		x->oom = x->err = true;
		return v;
	}
	memcpy(v.s, s, n);
	v.s[n] = '\0';
	return v;
}

static struct val vnum(struct px *x, long double n)
{
	char buf[64];

	if (n != n || n > 1e300L || n < -1e300L)
		n = 0;
	snprintf(buf, sizeof(buf), "%.18Lg", n);
	struct val v = vstr(x, buf, strlen(buf));

	v.isnum = true;
	v.n = n;
	return v;
}

static void vfree(struct val *v)
{
	free(v->s);
	v->s = NULL;
}

/* A string that reads as a number: optional '-', digits, optional fraction. */
static bool to_num(const struct val *v, long double *n)
{
	const char *s = v->s;
	char *end;

	if (v->isnum) {
		*n = v->n;
		return true;
	}
	if (!s)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '-' || *s == '+')
		s++;
	if (!isdigit((unsigned char)*s) && !(*s == '.' && isdigit((unsigned char)s[1])))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return false;
	*n = strtold(v->s, &end);
	return true;
}

static bool zero_or_null(const struct val *v)
{
	long double n;

	if (!v->s || !*v->s)
		return true;
	return to_num(v, &n) && n == 0;
}

static struct val p_tern(struct px *x);

static struct val p_primary(struct px *x)
{
	struct val v = { NULL, false, 0 };

	if (x->err)
		return v;
	if (x->t == T_LP) {
		if (++x->depth > EXPR_DEPTH) {
			x->err = true;
			return v;
		}
		next(x);
		v = p_tern(x);
		x->depth--;
		if (x->t != T_RP) {
			vfree(&v);
			x->err = true;
			return v;
		}
		next(x);
		return v;
	}
	if (x->t != T_STR) {
		x->err = true;
		return v;
	}
	v = vstr(x, x->ts, x->tl);
	next(x);
	return v;
}

static struct val do_regex(struct px *x, struct val a, struct val b, bool anchored)
{
	regex_t re;
	regmatch_t rm[2];
	struct val r;
	int rc;

	rc = regcomp(&re, b.s, REG_EXTENDED);
	if (rc) {
		dp_warn("regcomp of '%s' failed in an expression", b.s);
		vfree(&a);
		vfree(&b);
		return vstr(x, "", 0);
	}
	rc = regexec(&re, a.s, 2, rm, 0);
	if (!rc && (!anchored || rm[0].rm_so == 0)) {
		if (re.re_nsub > 0 && rm[1].rm_so >= 0)
			r = vstr(x, a.s + rm[1].rm_so, (size_t)(rm[1].rm_eo - rm[1].rm_so));
		else if (re.re_nsub > 0)
			r = vstr(x, "", 0);
		else
			r = vnum(x, (long double)(rm[0].rm_eo - rm[0].rm_so));
	} else {
		r = re.re_nsub > 0 ? vstr(x, "", 0) : vnum(x, 0);
	}
	regfree(&re);
	vfree(&a);
	vfree(&b);
	return r;
}

static struct val p_regex(struct px *x)
{
	struct val a = p_primary(x);

	while (!x->err && (x->t == T_COLON || x->t == T_TILDE)) {
		bool anchored = x->t == T_COLON;
		struct val b;

		next(x);
		b = p_primary(x);
		if (x->err) {
			vfree(&b);
			break;
		}
		a = do_regex(x, a, b, anchored);
	}
	return a;
}

static struct val p_unary(struct px *x)
{
	struct val v;
	long double n;

	if (x->err)
		return (struct val){ NULL, false, 0 };
	if (x->t == T_NOT || x->t == T_MINUS) {
		enum tok op = x->t;

		if (++x->depth > EXPR_DEPTH) {
			x->err = true;
			return (struct val){ NULL, false, 0 };
		}
		next(x);
		v = p_unary(x);
		x->depth--;
		if (x->err)
			return v;
		if (op == T_NOT) {
			bool z = zero_or_null(&v);

			vfree(&v);
			return vnum(x, z ? 1 : 0);
		}
		if (!to_num(&v, &n)) {
			dp_warn("non-numeric argument '%s' in an expression", v.s);
			n = 0;
		}
		vfree(&v);
		return vnum(x, -n);
	}
	return p_regex(x);
}

/* fmodl without libm: the remainder truncated toward zero. */
static long double mod(long double a, long double b)
{
	long double q = a / b;

	if (q > 9e18L || q < -9e18L)
		return 0;
	return a - b * (long double)(long long)q;
}

static struct val arith(struct px *x, enum tok op, struct val a, struct val b)
{
	long double na = 0, nb = 0, r = 0;
	bool oka = to_num(&a, &na), okb = to_num(&b, &nb);

	if (!oka || !okb) {
		dp_warn("non-numeric argument '%s' in an expression", !oka ? a.s : b.s);
		if (op == T_PLUS || op == T_MINUS) {
			struct val keep;

			if (!oka && okb && op == T_PLUS) {
				vfree(&a);
				return b;
			}
			if (oka && !okb) {
				vfree(&b);
				return a;
			}
			keep = vnum(x, !oka && okb ? -nb : 0);
			vfree(&a);
			vfree(&b);
			return keep;
		}
		vfree(&a);
		vfree(&b);
		return vnum(x, 0);
	}
	vfree(&a);
	vfree(&b);
	switch (op) {
	case T_PLUS: r = na + nb; break;
	case T_MINUS: r = na - nb; break;
	case T_MUL: r = na * nb; break;
	case T_DIV:
	case T_MOD:
		if (nb == 0) {
			dp_warn("division by zero in an expression");
			return vnum(x, INT_MAX);
		}
		r = op == T_DIV ? na / nb : mod(na, nb);
		break;
	default: break;
	}
	return vnum(x, r);
}

static struct val p_mul(struct px *x)
{
	struct val a = p_unary(x);

	while (!x->err && (x->t == T_MUL || x->t == T_DIV || x->t == T_MOD)) {
		enum tok op = x->t;
		struct val b;

		next(x);
		b = p_unary(x);
		if (x->err) {
			vfree(&b);
			break;
		}
		a = arith(x, op, a, b);
	}
	return a;
}

static struct val p_add(struct px *x)
{
	struct val a = p_mul(x);

	while (!x->err && (x->t == T_PLUS || x->t == T_MINUS)) {
		enum tok op = x->t;
		struct val b;

		next(x);
		b = p_mul(x);
		if (x->err) {
			vfree(&b);
			break;
		}
		a = arith(x, op, a, b);
	}
	return a;
}

static struct val p_cmp(struct px *x)
{
	struct val a = p_add(x);

	while (!x->err && x->t >= T_EQ && x->t <= T_GE) {
		enum tok op = x->t;
		struct val b;
		long double na, nb;
		int c;
		bool r = false;

		next(x);
		b = p_add(x);
		if (x->err) {
			vfree(&b);
			break;
		}
		if (to_num(&a, &na) && to_num(&b, &nb))
			c = na < nb ? -1 : na > nb;
		else
			c = strcmp(a.s, b.s);
		switch (op) {
		case T_EQ: r = c == 0; break;
		case T_NE: r = c != 0; break;
		case T_LT: r = c < 0; break;
		case T_GT: r = c > 0; break;
		case T_LE: r = c <= 0; break;
		case T_GE: r = c >= 0; break;
		default: break;
		}
		vfree(&a);
		vfree(&b);
		a = vnum(x, r);
	}
	return a;
}

static struct val p_and(struct px *x)
{
	struct val a = p_cmp(x);

	while (!x->err && x->t == T_AND) {
		struct val b;

		next(x);
		b = p_cmp(x);
		if (x->err) {
			vfree(&b);
			break;
		}
		if (zero_or_null(&a) || zero_or_null(&b)) {
			vfree(&a);
			a = vnum(x, 0);
		}
		vfree(&b);
	}
	return a;
}

static struct val p_or(struct px *x)
{
	struct val a = p_and(x);

	while (!x->err && x->t == T_OR) {
		struct val b;

		next(x);
		b = p_and(x);
		if (x->err) {
			vfree(&b);
			break;
		}
		if (zero_or_null(&a)) {
			vfree(&a);
			a = b;
		} else {
			vfree(&b);
		}
	}
	return a;
}

static struct val p_tern(struct px *x)
{
	struct val c = p_or(x), a, b;

	if (x->err || x->t != T_COND)
		return c;
	if (++x->depth > EXPR_DEPTH) {
		x->err = true;
		return c;
	}
	next(x);
	a = p_tern(x);
	if (x->err || x->t != T_CC) {
		x->err = true;
		vfree(&a);
		x->depth--;
		return c;
	}
	next(x);
	b = p_tern(x);
	x->depth--;
	if (x->err) {
		vfree(&a);
		vfree(&b);
		return c;
	}
	if (zero_or_null(&c)) {
		vfree(&a);
		a = b;
	} else {
		vfree(&b);
	}
	vfree(&c);
	return a;
}

int dp_expr_eval(const char *expr, char *out, size_t size)
{
	struct px x = { .p = expr };
	struct val v;

	if (size)
		out[0] = '\0';
	next(&x);
	if (x.t == T_END)
		return 0;
	v = p_tern(&x);
	if (!x.err && x.t != T_END)
		x.err = true;
	if (x.err) {
		vfree(&v);
		if (x.oom)
			return ENOMEM;
		dp_warn("syntax error in expression '%s'", expr);
		return EINVAL;
	}
	dp_strlcpy(out, v.s, size);
	vfree(&v);
	return 0;
}
