/**
 * @file mixmon.c  Two legs on one timeline (mixmon.h).
 *
 * A ring of RING samples per leg holds the timeline from `done` (written
 * to the files) on; a leg's packet lands at its position, a position
 * already written is dropped (too late), and one past the ring first
 * pushes the oldest samples out. Positions come from the RTP timestamps
 * (unwrapped per leg); a stream's first packet, a restarted stream, or
 * one that strays more than RESYNC from real time is placed at the
 * time it arrived. Each put writes the timeline up to DELAY behind real
 * time: the mix of the two rings (saturated), and each ring alone for
 * the per-leg files.
 */
#include <errno.h>
#include <string.h>

#include "core/mem.h"
#include "ha/file.h"
#include "media/mixmon.h"
#include "media/rec.h"
#include "media/sound.h"

#define RING   (2 * SOUND_RATE)
#define DELAY  (SOUND_RATE / 2)
#define RESYNC (SOUND_RATE)
#define CHUNK  320

struct side {
	bool init;
	int64_t last;         /* timeline position of the last packet */
	uint32_t last_ts;
};

struct mixmon {
	struct rec *mix, *leg[2];
	int vol[2];
	bool active, finished;
	uint64_t t0;          /* ms at timeline position 0 */
	int64_t done;         /* positions below are written */
	int64_t end;          /* highest position + 1 put so far */
	struct side s[2];
	int16_t ring[2][RING];
};

static void mixmon_destroy(void *data)
{
	struct mixmon *m = data;

	mem_deref(m->mix);
	mem_deref(m->leg[0]);
	mem_deref(m->leg[1]);
}

int mixmon_alloc(struct mixmon **mp, struct rec *mix, struct rec *side_a,
		 struct rec *side_b, const int vol[2], bool active, uint64_t now)
{
	struct mixmon *m;

	if (!mp || (!mix && !side_a && !side_b))
		return EINVAL;
	m = mem_zalloc(sizeof(*m), mixmon_destroy);
	if (!m)
		return ENOMEM;
	m->mix = mem_ref(mix);
	m->leg[0] = mem_ref(side_a);
	m->leg[1] = mem_ref(side_b);
	for (int i = 0; i < 2; i++)
		m->vol[i] = vol && vol[i] >= -4 && vol[i] <= 4 ? vol[i] : 0;
	m->active = active;
	m->t0 = now;
	*mp = m;
	return 0;
}

static int64_t now_pos(const struct mixmon *m, uint64_t now)
{
	return now > m->t0 ? (int64_t)((now - m->t0) * (SOUND_RATE / 1000)) : 0;
}

static int16_t sat(int32_t v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* Write the timeline up to target, emptying the rings behind. */
static void flush_to(struct mixmon *m, int64_t target)
{
	int16_t out[CHUNK];

	while (m->done < target) {
		size_t idx = (size_t)(m->done % RING), k = CHUNK;

		if ((int64_t)k > target - m->done)
			k = (size_t)(target - m->done);
		if (k > RING - idx)
			k = RING - idx;
		if (m->mix) {
			for (size_t i = 0; i < k; i++)
				out[i] = sat((int32_t)m->ring[0][idx + i] + m->ring[1][idx + i]);
			rec_write(m->mix, out, k);
		}
		for (int s = 0; s < 2; s++)
			if (m->leg[s])
				rec_write(m->leg[s], m->ring[s] + idx, k);
		memset(m->ring[0] + idx, 0, k * sizeof(int16_t));
		memset(m->ring[1] + idx, 0, k * sizeof(int16_t));
		m->done += (int64_t)k;
	}
}

static int16_t scaled(int16_t v, int vol)
{
	if (vol > 0)
		return sat((int32_t)v * (1 << vol));
	if (vol < 0)
		return (int16_t)(v / (1 << -vol));
	return v;
}

void mixmon_put(struct mixmon *m, int side, uint32_t ts, bool restart,
		const int16_t *pcm, size_t n, uint64_t now)
{
	struct side *s;
	int64_t pos, np;

	if (!m || !m->active || m->finished || !n || n > RING / 2)
		return;
	side &= 1;
	s = &m->s[side];
	np = now_pos(m, now);
	if (s->init && !restart && (int32_t)(ts - s->last_ts) < 0) {
		/* older than the last packet (late, duplicate): placed by
		 * its timestamp if still in time; the stream's anchor stays */
		pos = s->last + (int32_t)(ts - s->last_ts);
	} else {
		pos = s->init && !restart ? s->last + (int32_t)(ts - s->last_ts) : np;
		if (pos > np + RESYNC || pos < np - RESYNC - DELAY)
			pos = np;       /* a clock that runs away from ours */
		s->init = true;
		s->last = pos;
		s->last_ts = ts;
	}
	if (pos < m->done) {    /* the part already written is too late */
		size_t skip = (size_t)(m->done - pos);

		if (skip >= n)
			return;
		pcm += skip;
		n -= skip;
		pos = m->done;
	}
	if (pos + (int64_t)n > m->done + RING)
		flush_to(m, pos + (int64_t)n - RING);
	for (size_t i = 0; i < n; i++)
		m->ring[side][(pos + (int64_t)i) % RING] = scaled(pcm[i], m->vol[side]);
	if (pos + (int64_t)n > m->end)
		m->end = pos + (int64_t)n;
	flush_to(m, np - DELAY);
}

void mixmon_active(struct mixmon *m, bool on, uint64_t now)
{
	if (!m || m->finished || on == m->active)
		return;
	if (!on) {
		int64_t np = now_pos(m, now);

		flush_to(m, np > m->end ? np : m->end);
	} else {
		/* go on from where the files are */
		m->t0 = now - (uint64_t)m->done / (SOUND_RATE / 1000);
		m->end = m->done;
		m->s[0].init = m->s[1].init = false;
	}
	m->active = on;
}

int mixmon_finish(struct mixmon *m, uint64_t now)
{
	struct rec **f[3];
	int err = 0, e;

	if (!m || m->finished)
		return EBADF;
	f[0] = &m->mix;
	f[1] = &m->leg[0];
	f[2] = &m->leg[1];
	mixmon_active(m, false, now);
	m->finished = true;
	for (int i = 0; i < 3; i++)
		if (*f[i] && rec_failed(*f[i]))
			err = EIO;
	if (err) {
		/* a file failed (a full disk): the others are dropped too, so
		 * that no half of a recording is left looking complete */
		for (int i = 0; i < 3; i++)
			*f[i] = mem_deref(*f[i]);
		return err;
	}
	for (int i = 0; i < 3; i++) {
		if (!*f[i])
			continue;
		if ((e = rec_finish(*f[i])) && !err)
			err = e;
		else if (!e)   /* the finished file, to the standby (file.h) */
			ha_file_put_path(rec_path(*f[i]));
	}
	return err;
}

uint64_t mixmon_samples(const struct mixmon *m)
{
	return m && m->done > 0 ? (uint64_t)m->done : 0;
}
