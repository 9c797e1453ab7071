/** @file codec.c  Codec table and allow=/disallow= preference lists. */
#include <errno.h>
#include <string.h>

#include "media/codec.h"

static const struct codec_info codecs[] = {
	{ CODEC_PCMU,     "PCMU",            "ulaw",  8000, 1,  0,   0 },
	{ CODEC_PCMA,     "PCMA",            "alaw",  8000, 1,  8,   8 },
	{ CODEC_GSM,      "GSM",             "gsm",   8000, 1,  3,   3 },
	{ CODEC_G722,     "G722",            "g722",  8000, 1,  9,   9 },
	{ CODEC_G729,     "G729",            "g729", 8000, 1,  18,  18 },
	{ CODEC_G723,     "G723",            "g723",  8000, 1,  4,   4 },
	{ CODEC_OPUS,     "opus",            "opus", 48000, 2, -1, 107 },
	{ CODEC_ILBC,     "iLBC",            "ilbc",  8000, 1, -1,  97 },
	{ CODEC_SPEEX,    "speex",           "speex", 8000, 1, -1,  98 },
	{ CODEC_G726_32,  "G726-32",         "g726",  8000, 1, -1, 111 },
	{ CODEC_CN,       "CN",              "cn",    8000, 1, 13,  13 },
	{ CODEC_TELEVENT, "telephone-event", NULL,    8000, 1, -1, 101 },
};
#define NCODECS (sizeof(codecs) / sizeof(codecs[0]))

const struct codec_info *codec_info(enum codec c)
{
	for (size_t i = 0; i < NCODECS; i++)
		if (codecs[i].codec == c)
			return &codecs[i];
	return NULL;
}

const char *codec_name(enum codec c)
{
	const struct codec_info *ci = codec_info(c);

	return ci ? ci->name : "?";
}

enum codec codec_by_rtpmap(const struct pl *name, uint32_t rate)
{
	for (size_t i = 0; i < NCODECS; i++)
		if (!pl_strcasecmp(name, codecs[i].name) && codecs[i].rate == rate)
			return codecs[i].codec;
	return CODEC_NONE;
}

enum codec codec_by_static_pt(unsigned pt)
{
	for (size_t i = 0; i < NCODECS; i++)
		if (codecs[i].static_pt >= 0 && (unsigned)codecs[i].static_pt == pt)
			return codecs[i].codec;
	return CODEC_NONE;
}

enum codec codec_by_cfgname(const struct pl *name)
{
	for (size_t i = 0; i < NCODECS; i++)
		if (codecs[i].cfgname && !pl_strcasecmp(name, codecs[i].cfgname))
			return codecs[i].codec;
	/* Asterisk aliases */
	if (!pl_strcasecmp(name, "g726aal2") || !pl_strcasecmp(name, "g726"))
		return CODEC_G726_32;
	return CODEC_NONE;
}

void codec_prefs_default(struct codec_prefs *p)
{
	p->n = 0;
	p->list[p->n++] = CODEC_PCMU;
	p->list[p->n++] = CODEC_PCMA;
	p->list[p->n++] = CODEC_GSM;
}

int codec_prefs_index(const struct codec_prefs *p, enum codec c)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->list[i] == c)
			return (int)i;
	return -1;
}

bool codec_prefs_has(const struct codec_prefs *p, enum codec c)
{
	return codec_prefs_index(p, c) >= 0;
}

static void prefs_add(struct codec_prefs *p, enum codec c)
{
	if (codec_prefs_has(p, c) || p->n >= CODEC_PREFS_MAX)
		return;
	p->list[p->n++] = c;
}

static void prefs_del(struct codec_prefs *p, enum codec c)
{
	int i = codec_prefs_index(p, c);

	if (i < 0)
		return;
	memmove(&p->list[i], &p->list[i + 1], (p->n - (size_t)i - 1) * sizeof(p->list[0]));
	p->n--;
}

static void prefs_one(struct codec_prefs *p, bool allow, const struct pl *name, int *err)
{
	enum codec c;

	if (!pl_strcasecmp(name, "all")) {
		if (!allow) {
			p->n = 0;
			return;
		}
		for (size_t i = 0; i < NCODECS; i++)
			if (codecs[i].cfgname && codecs[i].codec != CODEC_CN)
				prefs_add(p, codecs[i].codec);
		return;
	}
	c = codec_by_cfgname(name);
	if (c == CODEC_NONE) {
		*err = EINVAL;
		return;
	}
	if (allow)
		prefs_add(p, c);
	else
		prefs_del(p, c);
}

int codec_prefs_apply(struct codec_prefs *p, bool allow, const char *list)
{
	const char *s = list;
	int err = 0;

	while (s && *s) {
		size_t l = strcspn(s, ",|&");
		struct pl name = pl_of(s, l);
		const char *colon = pl_chr(&name, ':');

		if (colon)
			name.l = (size_t)(colon - name.p);
		pl_trim(&name);
		if (name.l)
			prefs_one(p, allow, &name, &err);
		s += l;
		if (*s)
			s++;
	}
	return err;
}

int codec_prefs_parse(struct codec_prefs *p, const char *seq)
{
	const char *s = seq;
	int err = 0;

	codec_prefs_default(p);
	while (s && *s) {
		size_t l = strcspn(s, ";\n");
		struct pl line = pl_of(s, l), key, val;
		const char *eq;
		char buf[256];
		int e;

		pl_trim(&line);
		eq = pl_chr(&line, '=');
		if (line.l && !eq) {
			err = EINVAL;
		} else if (line.l) {
			key = pl_of(line.p, (size_t)(eq - line.p));
			val = pl_of(eq + 1, line.l - key.l - 1);
			pl_trim(&key);
			pl_trim(&val);
			if (val.l >= sizeof(buf)) {
				err = EINVAL;
			} else if (!pl_strcasecmp(&key, "allow") || !pl_strcasecmp(&key, "disallow")) {
				pl_strcpy(&val, buf, sizeof(buf));
				e = codec_prefs_apply(p, !pl_strcasecmp(&key, "allow"), buf);
				if (e)
					err = e;
			} else {
				err = EINVAL;
			}
		}
		s += l;
		if (*s)
			s++;
	}
	return err;
}
