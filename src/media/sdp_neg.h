/**
 * @file sdp_neg.h  Offer/answer (RFC 3264) for one audio stream per leg of
 * a relayed call, and the codec plan the RTP relay follows.
 *
 * A call has two legs, each with its own payload type numbers. Typical
 * use when leg A's INVITE carries an offer:
 *   sdp_neg_answer(&a, offerA, audioA, prefsA, CODEC_NONE)  what A can do
 *   sdp_neg_offer(&ob, &a, prefsB)                         offer to B
 *   sdp_neg_result(&b, &ob, answerB, audioB)               B's answer
 *   sdp_neg_answer(&a, offerA, audioA, prefsA, b.pts[0].codec)  final answer
 * and the relay gets a.pts for leg A and b.pts for leg B; it transcodes
 * only when sdp_neg_transcode(&a, &b) says so (A-law <-> mu-law).
 */
#ifndef TANDEM_SDP_NEG_H
#define TANDEM_SDP_NEG_H

#include "media/sdp.h"

/** What one leg agreed to. */
struct sdp_neg {
	struct sdp_pt pts[SDP_FMT_MAX];  /* audio first ([0] is sent), then
					  * telephone-event */
	size_t npts;
	int te_pt;             /* telephone-event PT on this leg, -1 none */
	enum sdp_dir dir;      /* direction the remote party declared */
	uint32_t ptime;        /* remote's a=ptime, 0 when none */
};

/**
 * Answer an audio offer (RFC 3264 6.1): the offered formats that allowed
 * permits, in the offer's order as 6.1 recommends, one payload type per
 * codec, with the offerer's PT numbers; prefer (the codec the other leg
 * uses, or CODEC_NONE) moves to the front when present, so the relay
 * need not transcode. telephone-event/8000 is kept when offered.
 * ENOENT when no audio codec is common (the caller answers 488).
 */
int sdp_neg_answer(struct sdp_neg *ans, const struct sdp_session *s,
		   const struct sdp_media *offer, const struct codec_prefs *allowed,
		   enum codec prefer);

/**
 * Our offer toward the other leg, given what the first leg can do (from;
 * NULL for a late offer). Formats: from's audio codecs that allowed
 * permits, in from's order and with from's PTs (relayed unchanged); then
 * PCMA or PCMU when from has the other law only and allowed permits it
 * (transcoded); with from NULL, allowed in its order. telephone-event with
 * from's PT, or 101 (always offered when from is NULL). ENOENT when empty.
 */
int sdp_neg_offer(struct sdp_neg *off, const struct sdp_neg *from,
		  const struct codec_prefs *allowed);

/**
 * Read the answer to our offer: the formats of answer that we offered
 * (a format without rtpmap takes the codec we offered under that PT),
 * with the answer's PT numbers. ENOENT when the stream was rejected
 * (port 0) or nothing offered came back.
 */
int sdp_neg_result(struct sdp_neg *res, const struct sdp_neg *offered,
		   const struct sdp_session *s, const struct sdp_media *answer);

/**
 * True when the first (sent) audio codec of a is not among b's codecs or
 * the other way round: the relay then translates A-law <-> mu-law.
 */
bool sdp_neg_transcode(const struct sdp_neg *a, const struct sdp_neg *b);

/**
 * Our direction toward leg x when the other leg declared other_dir
 * (sendonly from A is passed on to B as sendonly; see sdp_neg.c).
 */
enum sdp_dir sdp_neg_dir(const struct sdp_neg *x, enum sdp_dir other_dir);

/** An audio m= line of ours from n: port, dir, n's PTs and ptime. */
void sdp_neg_lmedia(struct sdp_lmedia *lm, const struct sdp_neg *n,
		    uint16_t port, enum sdp_dir dir);

/**
 * Our answer's media list (RFC 3264 6: one m= per offered m=, same order):
 * the offered audio stream audio gets lm, every other stream is rejected
 * with port 0, echoing its type, proto and first format.
 */
void sdp_neg_answer_local(struct sdp_local *l, const struct sdp_session *offer,
			  const struct sdp_media *audio, const struct sdp_lmedia *lm);

#endif
