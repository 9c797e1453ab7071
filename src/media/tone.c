/**
 * @file tone.c  Call progress tones: Asterisk's indications.conf syntax
 * (ast_playtones_start) and a built-in table of the zones Tandem ships,
 * synthesised with spandsp's DDS oscillators.
 *
 * The table copies Asterisk's indications.conf for the zones below; a
 * zone or tone name it lacks gives NULL and the caller picks a fallback
 * (Asterisk's default zone is "us").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/complex.h>
#include <spandsp/dds.h>

#include "media/sound.h"
#include "media/tone.h"

struct zone {
	const char *country;
	const char *dial, *busy, *ring, *congestion, *callwaiting;
};

static const struct zone zones[] = {
	{ "us", "350+440", "480+620/500,0/500", "440+480/2000,0/4000",
	  "480+620/250,0/250", "440/300,0/10000" },
	{ "es", "425", "425/200,0/200", "425/1500,0/3000",
	  "425/200,0/200,425/200,0/200,425/200,0/600", "425/175,0/175,425/175,0/3500" },
	{ "uk", "350+440", "400/375,0/375", "400+450/400,0/200,400+450/400,0/2000",
	  "400/400,0/350,400/225,0/525", "400/100,0/4000" },
	{ "fr", "440", "440/500,0/500", "440/1500,0/3500", "440/250,0/250",
	  "440/300,0/10000" },
	{ "de", "425", "425/480,0/480", "425/1000,0/4000", "425/240,0/240",
	  "!425/200,!0/200,!425/200,!0/5000,!425/200,!0/200,!425/200,!0/5000,0" },
	{ "mx", "425", "425/250,0/250", "425/1000,0/4000", "425/250,0/250",
	  "425/200,0/600,425/200,0/10000" },
};

const char *tone_lookup(const char *country, const char *name)
{
	if (!country || !name)
		return NULL;
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		const struct zone *z = &zones[i];

		if (strcasecmp(country, z->country))
			continue;
		if (!strcasecmp(name, "dial"))
			return z->dial;
		if (!strcasecmp(name, "busy"))
			return z->busy;
		if (!strcasecmp(name, "ring"))
			return z->ring;
		if (!strcasecmp(name, "congestion"))
			return z->congestion;
		if (!strcasecmp(name, "callwaiting"))
			return z->callwaiting;
		return NULL;
	}
	return NULL;
}

static int num(const char **pp, uint32_t max, uint32_t *out)
{
	const char *p = *pp;
	uint32_t v = 0;

	if (*p < '0' || *p > '9')
		return EINVAL;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint32_t)(*p - '0');
		if (v > max)
			return EINVAL;
		p++;
	}
	*pp = p;
	*out = v;
	return 0;
}

static int parse_part(const char *p, const char *end, struct tone_part *tp, bool *once)
{
	uint32_t f1, f2 = 0, ms = 0;

	while (p < end && *p == ' ')
		p++;
	*once = p < end && *p == '!';
	if (*once)
		p++;
	if (num(&p, 4000, &f1))
		return EINVAL;
	if (p < end && (*p == '+' || *p == '*')) {
		p++;
		if (num(&p, 4000, &f2))
			return EINVAL;
	}
	if (p < end && *p == '/') {
		p++;
		if (num(&p, 3600000, &ms))
			return EINVAL;
	}
	while (p < end && *p == ' ')
		p++;
	if (p != end)
		return EINVAL;
	tp->f1 = (uint16_t)f1;
	tp->f2 = (uint16_t)f2;
	tp->ms = ms;
	return 0;
}

int tone_parse(const char *spec, struct tone *t)
{
	const char *p = spec;

	if (!spec || !t)
		return EINVAL;
	memset(t, 0, sizeof(*t));
	t->rep = -1;
	while (*p) {
		const char *end = strchr(p, ',');
		bool once;

		if (!end)
			end = p + strlen(p);
		if (t->n == TONE_PARTS_MAX ||
		    parse_part(p, end, &t->part[t->n], &once))
			return EINVAL;
		if (!once && t->rep < 0)
			t->rep = (int)t->n;
		t->n++;
		p = *end ? end + 1 : end;
	}
	return t->n ? 0 : EINVAL;
}

static void part_start(struct tone_synth *g)
{
	const struct tone_part *tp = &g->t.part[g->idx];

	g->pos = 0;
	g->rate1 = tp->f1 ? dds_phase_rate((float)tp->f1) : 0;
	g->rate2 = tp->f2 ? dds_phase_rate((float)tp->f2) : 0;
}

void tone_synth_init(struct tone_synth *g, const struct tone *t)
{
	memset(g, 0, sizeof(*g));
	g->t = *t;
	g->done = !t->n;
	if (!g->done)
		part_start(g);
}

size_t tone_synth_read(struct tone_synth *g, int16_t *pcm, size_t n)
{
	size_t done = 0;

	while (done < n && !g->done) {
		const struct tone_part *tp = &g->t.part[g->idx];
		uint32_t len = tp->ms * (SOUND_RATE / 1000);
		size_t k = n - done;

		if (tp->ms && k > len - g->pos)
			k = len - g->pos;
		for (size_t i = 0; i < k; i++) {
			int32_t s = 0;
			if (g->rate1)
				s += dds_mod(&g->ph1, g->rate1, TONE_AMPLITUDE, 0);
			if (g->rate2)
				s += dds_mod(&g->ph2, g->rate2, TONE_AMPLITUDE, 0);
			pcm[done + i] = (int16_t)s;
		}
		done += k;
		g->pos += (uint32_t)k;
		if (!tp->ms || g->pos < len)
			continue;
		if (++g->idx == g->t.n) {
			if (g->t.rep < 0) {
				g->done = true;
				break;
			}
			g->idx = (size_t)g->t.rep;
		}
		part_start(g);
	}
	return done;
}
