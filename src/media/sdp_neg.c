/**
 * @file sdp_neg.c  Offer/answer for a back-to-back relayed call.
 *
 * RFC 3264 6.1: an answer lists a subset of the offered formats; we keep
 * the offer's order (the RECOMMENDED choice) except for one codec moved
 * first, the one the other leg already uses, so both legs settle on the
 * same codec whenever the phones allow and the relay copies payloads.
 * Each leg keeps its own payload type numbers (the offerer's); the relay
 * rewrites PTs between legs, telephone-event included (RFC 4733 2.1:
 * the PT is dynamic and negotiated per session).
 *
 * Directions: x->dir is what the remote party declared (its own point of
 * view, with c=0.0.0.0 read as sendonly). We send toward x only when x
 * receives and the other leg sends, and we receive from x only when x
 * sends and the other leg receives:
 *   ours_toward_x = and(reverse(x->dir), other_dir)
 * so a hold (sendonly) from A reaches B as sendonly, B's recvonly answer
 * reaches A as recvonly, and so on.
 */
#include <errno.h>
#include <string.h>

#include "media/sdp_neg.h"

static bool is_audio(enum codec c)
{
	return c != CODEC_NONE && c != CODEC_TELEVENT && c != CODEC_CN;
}

static int pts_find(const struct sdp_neg *n, enum codec c)
{
	for (size_t i = 0; i < n->npts; i++)
		if (n->pts[i].codec == c)
			return (int)i;
	return -1;
}

static bool pt_used(const struct sdp_neg *n, unsigned pt)
{
	for (size_t i = 0; i < n->npts; i++)
		if (n->pts[i].pt == pt)
			return true;
	return false;
}

static void pts_add(struct sdp_neg *n, unsigned pt, enum codec c)
{
	if (n->npts >= SDP_FMT_MAX || pts_find(n, c) >= 0 || pt_used(n, pt))
		return;
	n->pts[n->npts].pt = (uint8_t)pt;
	n->pts[n->npts].codec = c;
	n->npts++;
}

static void neg_init(struct sdp_neg *n)
{
	memset(n, 0, sizeof(*n));
	n->te_pt = -1;
	n->dir = SDP_SENDRECV;
}

static void add_te(struct sdp_neg *n, int pt)
{
	if (pt < 0 || pt_used(n, (unsigned)pt) || n->npts >= SDP_FMT_MAX)
		return;
	pts_add(n, (unsigned)pt, CODEC_TELEVENT);
	n->te_pt = pt;
}

int sdp_neg_answer(struct sdp_neg *ans, const struct sdp_session *s,
		   const struct sdp_media *offer, const struct codec_prefs *allowed,
		   enum codec prefer)
{
	struct sdp_neg n;
	int te = -1, i;

	if (!offer || !offer->rtp || !offer->port)
		return ENOENT;
	neg_init(&n);
	for (size_t k = 0; k < offer->nfmt; k++) {
		const struct sdp_fmt *f = &offer->fmt[k];
		if (f->codec == CODEC_TELEVENT && te < 0)
			te = f->pt;
		else if (is_audio(f->codec) && codec_prefs_has(allowed, f->codec))
			pts_add(&n, (unsigned)f->pt, f->codec);
	}
	if (!n.npts)
		return ENOENT;
	i = prefer != CODEC_NONE ? pts_find(&n, prefer) : -1;
	if (i > 0) {
		struct sdp_pt p = n.pts[i];
		memmove(&n.pts[1], &n.pts[0], (size_t)i * sizeof(n.pts[0]));
		n.pts[0] = p;
	}
	add_te(&n, te);
	n.dir = sdp_media_dir(s, offer);
	n.ptime = offer->ptime;
	*ans = n;
	return 0;
}

int sdp_neg_offer(struct sdp_neg *off, const struct sdp_neg *from,
		  const struct codec_prefs *allowed)
{
	struct sdp_neg n;

	neg_init(&n);
	if (!from) {
		for (size_t i = 0; i < allowed->n; i++) {
			const struct codec_info *ci = codec_info(allowed->list[i]);
			if (ci)
				pts_add(&n, ci->default_pt, ci->codec);
		}
		if (n.npts)
			add_te(&n, codec_info(CODEC_TELEVENT)->default_pt);
	} else {
		for (size_t i = 0; i < from->npts; i++)
			if (is_audio(from->pts[i].codec) &&
			    codec_prefs_has(allowed, from->pts[i].codec))
				pts_add(&n, from->pts[i].pt, from->pts[i].codec);
		/* the other G.711 law, translated by the relay */
		if (pts_find(from, CODEC_PCMA) >= 0 && codec_prefs_has(allowed, CODEC_PCMU))
			pts_add(&n, CODEC_PCMU, CODEC_PCMU);
		if (pts_find(from, CODEC_PCMU) >= 0 && codec_prefs_has(allowed, CODEC_PCMA))
			pts_add(&n, CODEC_PCMA, CODEC_PCMA);
		if (n.npts)
			add_te(&n, from->te_pt);
		n.ptime = from->ptime;
	}
	if (!n.npts)
		return ENOENT;
	*off = n;
	return 0;
}

int sdp_neg_result(struct sdp_neg *res, const struct sdp_neg *offered,
		   const struct sdp_session *s, const struct sdp_media *answer)
{
	struct sdp_neg n;

	if (!answer || !answer->rtp || !answer->port)
		return ENOENT;
	neg_init(&n);
	for (size_t k = 0; k < answer->nfmt; k++) {
		const struct sdp_fmt *f = &answer->fmt[k];
		enum codec c = f->codec;

		if (c == CODEC_NONE && !f->name.l) {
			for (size_t i = 0; i < offered->npts; i++)
				if (offered->pts[i].pt == f->pt)
					c = offered->pts[i].codec;
		}
		if (pts_find(offered, c) < 0)
			continue;
		if (c == CODEC_TELEVENT) {
			if (n.te_pt < 0)
				add_te(&n, f->pt);
		} else if (is_audio(c)) {
			pts_add(&n, (unsigned)f->pt, c);
		}
	}
	/* keep telephone-event last, as in our own lists */
	if (n.te_pt >= 0) {
		int i = pts_find(&n, CODEC_TELEVENT);
		struct sdp_pt te = n.pts[i];
		memmove(&n.pts[i], &n.pts[i + 1], (n.npts - (size_t)i - 1) * sizeof(te));
		n.pts[n.npts - 1] = te;
	}
	if (!n.npts || n.pts[0].codec == CODEC_TELEVENT)
		return ENOENT;
	n.dir = sdp_media_dir(s, answer);
	n.ptime = answer->ptime;
	*res = n;
	return 0;
}

bool sdp_neg_transcode(const struct sdp_neg *a, const struct sdp_neg *b)
{
	if (!a->npts || !b->npts)
		return false;
	return pts_find(b, a->pts[0].codec) < 0 || pts_find(a, b->pts[0].codec) < 0;
}

enum sdp_dir sdp_neg_dir(const struct sdp_neg *x, enum sdp_dir other_dir)
{
	return sdp_dir_and(sdp_dir_reverse(x->dir), other_dir);
}

void sdp_neg_lmedia(struct sdp_lmedia *lm, const struct sdp_neg *n,
		    uint16_t port, enum sdp_dir dir)
{
	memset(lm, 0, sizeof(*lm));
	lm->type = PL("audio");
	lm->proto = PL("RTP/AVP");
	lm->port = port;
	memcpy(lm->pts, n->pts, n->npts * sizeof(n->pts[0]));
	lm->npts = n->npts;
	lm->dir = dir;
	lm->ptime = n->ptime;
}

void sdp_neg_answer_local(struct sdp_local *l, const struct sdp_session *offer,
			  const struct sdp_media *audio, const struct sdp_lmedia *lm)
{
	l->nmedia = 0;
	for (size_t i = 0; i < offer->nmedia && i < SDP_MEDIA_MAX; i++) {
		const struct sdp_media *m = &offer->media[i];
		struct sdp_lmedia *o = &l->media[l->nmedia++];

		if (m == audio) {
			*o = *lm;
			continue;
		}
		memset(o, 0, sizeof(*o));
		o->type = m->type;
		o->proto = m->proto;
		o->port = 0;
		o->rejfmt = m->fmt[0].id;
	}
}
