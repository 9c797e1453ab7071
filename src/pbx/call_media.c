/**
 * @file call_media.c  Every call's audio goes through our RTP relay
 * (chan_sip's directmedia=no, the seed's setting): the caller and the
 * callee each see only the relay's address in the SDP we send them.
 *
 * Offer/answer (RFC 3264), following src/media/sdp_neg.h:
 *   caller's offer   -> a_cap: what the caller can do within its allow=
 *   our offer to B   -> b_off: a_cap's codecs (plus the other G.711 law,
 *                       which the relay translates) within B's allow=
 *   B's answer       -> b_neg, leg B of the relay
 *   our answer to A  -> a_cap again, preferring B's codec, leg A
 * A re-INVITE (hold, codec change) updates the leg it came from and is
 * passed on as our own offer with the direction carried across.
 *
 * Late offer (RFC 3261 13.2.1, RFC 3264 5): an INVITE without SDP. We
 * still offer to B (B's allow= list, kept to codecs A's peer may use or
 * the relay can translate to); B's answer -> b_neg; our 200 to A then
 * carries our offer a_off (B's codec first, so no translation) and A's
 * answer arrives in its ACK -> a_cap, leg A. An ACK without a usable
 * answer ends the call with BYE: the exchange cannot complete. Answer()
 * with no B works the same way, offering what A's peer allows.
 *
 * RTP timeout: once the call is answered, a leg expected to send that
 * stays silent for sip.conf rtptimeout seconds (the peer's, else
 * [general]'s, else RTPTIMEOUT_DEFAULT) ends the call, so a call whose
 * two ends vanished without a BYE does not stay forever.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "pbx/call_int.h"
#include "pbx/registrar.h"

/* chan_sip's sample sip.conf value (chan_sip itself defaults to off):
 * without a timeout a call whose two ends vanished would never end */
#define RTPTIMEOUT_DEFAULT 60

static const struct peer *peer_named(const char *name)
{
	struct pl n = { name, strlen(name) };
	return sipconf_peer(pbx_sipconf(), &n);
}

static const struct codec_prefs *prefs_of(const char *name)
{
	static struct codec_prefs def;
	const struct peer *p = peer_named(name);

	if (p)
		return &p->prefs;
	codec_prefs_default(&def);
	return &def;
}

static bool comedia_of(const char *name)
{
	const struct peer *p = peer_named(name);
	return p ? p->comedia : false;
}

/* Decode the SDP body of msg and find its audio stream. */
static int read_sdp(const struct sip_msg *msg, struct sdp_session *s,
		    const struct sdp_media **audio)
{
	if (!msg->body.l || sdp_decode(s, msg->body.p, msg->body.l) != 0)
		return EBADMSG;
	*audio = sdp_audio(s);
	return *audio ? 0 : ENOENT;
}

static int set_leg(struct call *c, enum rtp_leg_id leg, const struct sdp_session *s,
		   const struct sdp_media *m, const struct sdp_neg *n, bool comedia)
{
	struct rtp_leg_conf lc;

	memset(&lc, 0, sizeof(lc));
	if (sdp_media_addr(s, m, &lc.rtp, &lc.rtcp) != 0 && !comedia)
		return EADDRNOTAVAIL;
	lc.comedia = comedia;
	memcpy(lc.pts, n->pts, n->npts * sizeof(n->pts[0]));
	lc.npts = n->npts;
	lc.dir = sdp_media_dir(s, m);
	return rtp_relay_leg_set(c->relay, leg, &lc);
}

/* ------------------------------------------------------- RTP timeout */

/* sip.conf rtptimeout in seconds (0: off) of a peer, else [general]'s,
 * else RTPTIMEOUT_DEFAULT; a value that is not a number counts as unset. */
static uint32_t rtptimeout_of(const char *peer)
{
	const struct peer *p = peer[0] ? peer_named(peer) : NULL;
	const char *v = p ? conf_get(p->sec, "rtptimeout") : NULL;
	char *end;
	unsigned long n;

	if (!v)
		v = conf_get(conf_section(pbx_sipconf()->conf, "general"), "rtptimeout");
	if (!v || !*v)
		return RTPTIMEOUT_DEFAULT;
	n = strtoul(v, &end, 10);
	if (*end || *v == '-' || n > 86400)
		return RTPTIMEOUT_DEFAULT;
	return (uint32_t)n;
}

static void media_timeout(struct rtp_relay *r, enum rtp_leg_id leg, void *arg)
{
	struct call *c = arg;

	(void)r;
	log_notice("call %u: no RTP from the %s within rtptimeout: hanging up", c->id,
		   leg == RTP_LEG_A ? "caller" : "callee");
	call_end(c, 0);   /* frees the relay: rtp.c allows it here */
}

/* (Re)arm the relay's timeout: the shorter of the two legs' rtptimeout,
 * as chan_sip hangs up whichever channel times out first. Re-armed after
 * every SDP change, so a leg coming off hold gets a full period. */
static void media_timeout_arm(struct call *c)
{
	uint32_t a = rtptimeout_of(c->apeer_name), b = 0;

	if (!c->relay || !c->answered)
		return;
	if (c->b_media)
		b = rtptimeout_of(c->bpeer_name);
	if (!a || (b && b < a))
		a = b;
	rtp_relay_timeout(c->relay, a, a ? media_timeout : NULL, c);
}

void call_media_up(struct call *c)
{
	struct rtp_leg_conf lc;

	if (!c->relay)
		return;
	if (!c->b_media) {
		/* answered by the dialplan, nobody on leg B: nothing to wait for */
		memset(&lc, 0, sizeof(lc));
		lc.dir = SDP_INACTIVE;
		rtp_relay_leg_set(c->relay, RTP_LEG_B, &lc);
	}
	media_timeout_arm(c);
}

int call_media_setup(struct call *c, const struct sip_msg *invite)
{
	struct sdp_session s;
	const struct sdp_media *m = NULL;
	struct sockaddr_storage local;
	char host[64];
	uint16_t port;
	int err;

	c->late_offer = !invite->body.l;
	if (c->late_offer) {
		log_info("call %u: no SDP in the INVITE: late offer", c->id);
	} else if (read_sdp(invite, &s, &m) != 0) {
		log_notice("call %u: malformed or audio-less SDP offer: 488", c->id);
		return 488;
	} else if (sdp_neg_answer(&c->a_cap, &s, m, prefs_of(c->apeer_name),
				  CODEC_NONE) != 0) {
		log_notice("call %u: no codec in common with %s's allow= list: 488", c->id,
			   c->apeer_name);
		return 488;
	}
	if (sip_transp_local(&c->asrc, host, sizeof(host), &port) != 0 ||
	    sip_sa_parse(host, 0, &local) != 0)
		return 500;
	err = rtp_relay_alloc(&c->relay, &local, &local);
	if (err) {
		log_warn("call %u: no RTP ports left (%s): 503", c->id, strerror(err));
		return 503;
	}
	if (m && set_leg(c, RTP_LEG_A, &s, m, &c->a_cap, comedia_of(c->apeer_name)) != 0) {
		log_notice("call %u: SDP offer without a usable address: 488", c->id);
		return 488;
	}
	return 0;
}

static int encode(struct call *c, enum rtp_leg_id leg, struct sdp_origin *o,
		  const struct sdp_neg *n, enum sdp_dir dir, const struct sdp_session *offer,
		  const struct sdp_media *audio, char *buf, size_t size, size_t *len)
{
	struct sdp_local l;
	struct sdp_lmedia lm;

	memset(&l, 0, sizeof(l));
	rtp_relay_local(c->relay, leg, &l.addr);
	sdp_neg_lmedia(&lm, n, rtp_relay_port(c->relay, leg), dir);
	if (offer) {
		sdp_neg_answer_local(&l, offer, audio, &lm);
	} else {
		l.media[0] = lm;
		l.nmedia = 1;
	}
	return sdp_encode(buf, size, len, o, &l);
}

/* Late offer, before A answered anything: offer B what its peer allows,
 * kept to what A's peer allows too (or the relay translates to), so that
 * B's choice suits A; B's whole list when the two have nothing in common. */
static int late_offer_b(struct call *c, const char *peer)
{
	struct sdp_neg a_all;

	if (sdp_neg_offer(&a_all, NULL, prefs_of(c->apeer_name)) == 0 &&
	    sdp_neg_offer(&c->b_off, &a_all, prefs_of(peer)) == 0)
		return 0;
	return sdp_neg_offer(&c->b_off, NULL, prefs_of(peer));
}

int call_media_offer(struct call *c, const char *peer, char *buf, size_t size, size_t *len)
{
	int err;

	if (!c->relay)
		return ENOENT;
	if (c->late_offer && !c->a_cap.npts)
		err = late_offer_b(c, peer);
	else
		err = sdp_neg_offer(&c->b_off, &c->a_cap, prefs_of(peer));
	if (err)
		return ENOENT;
	return encode(c, RTP_LEG_B, &c->b_origin, &c->b_off, SDP_SENDRECV, NULL, NULL,
		      buf, size, len);
}

int call_media_answer_in(struct call *c, const char *peer, const struct sip_msg *resp)
{
	struct sdp_session s;
	const struct sdp_media *m;
	int err;

	if (!c->relay || !resp->body.l)
		return ENOENT;
	if ((err = read_sdp(resp, &s, &m)) != 0 ||
	    (err = sdp_neg_result(&c->b_neg, &c->b_off, &s, m)) != 0)
		return err;
	err = set_leg(c, RTP_LEG_B, &s, m, &c->b_neg, comedia_of(peer));
	if (!err) {
		c->b_media = true;
		snprintf(c->bpeer_name, sizeof(c->bpeer_name), "%s", peer);
	}
	return err;
}

/* Late offer: our 200 to A carries the offer. B's codecs first when B
 * answered (then the relay need not translate), else A's peer's list; the
 * direction B declared is passed across. A answers in its ACK. */
static int offer_caller(struct call *c, char *buf, size_t size, size_t *len)
{
	const struct codec_prefs *pa = prefs_of(c->apeer_name);
	enum sdp_dir dir = c->b_media ? c->b_neg.dir : SDP_SENDRECV;

	if (!(c->b_media && sdp_neg_offer(&c->a_off, &c->b_neg, pa) == 0) &&
	    sdp_neg_offer(&c->a_off, NULL, pa) != 0)
		return ENOENT;
	c->ack_answer = true;
	return encode(c, RTP_LEG_A, &c->a_origin, &c->a_off, dir, NULL, NULL, buf, size,
		      len);
}

int call_media_answer_out(struct call *c, char *buf, size_t size, size_t *len)
{
	struct sdp_session s;
	const struct sdp_media *m;
	struct sdp_neg a;
	struct sip_msg fake;
	int err;

	if (!c->relay)
		return ENOENT;
	if (c->late_offer)
		return c->a_cap.npts ? ENOENT : offer_caller(c, buf, size, len);
	memset(&fake, 0, sizeof(fake));
	fake.body.p = c->offer;
	fake.body.l = c->offerlen;
	if ((err = read_sdp(&fake, &s, &m)) != 0)
		return err;
	err = sdp_neg_answer(&a, &s, m, prefs_of(c->apeer_name),
			     c->b_media && c->b_neg.npts ? c->b_neg.pts[0].codec : CODEC_NONE);
	if (err)
		return err;
	c->a_cap = a;
	if ((err = set_leg(c, RTP_LEG_A, &s, m, &a, comedia_of(c->apeer_name))) != 0)
		return err;
	return encode(c, RTP_LEG_A, &c->a_origin, &a,
		      sdp_dir_reverse(sdp_media_dir(&s, m)), &s, m, buf, size, len);
}

int call_media_ack(struct call *c, const struct sip_msg *ack)
{
	struct sdp_session s;
	const struct sdp_media *m;
	struct sdp_neg a;
	int err;

	if (!c->relay || !c->ack_answer)
		return 0;
	c->ack_answer = false;
	if ((err = read_sdp(ack, &s, &m)) != 0 ||
	    (err = sdp_neg_result(&a, &c->a_off, &s, m)) != 0 ||
	    (err = set_leg(c, RTP_LEG_A, &s, m, &a, comedia_of(c->apeer_name))) != 0)
		return err;
	c->a_cap = a;
	media_timeout_arm(c);   /* leg A is only now expected to send */
	return 0;
}

int call_media_reoffer(struct call *c, bool from_caller, const struct sip_msg *msg,
		       char *buf, size_t size, size_t *len)
{
	struct sdp_session s;
	const struct sdp_media *m;
	struct sdp_neg n;
	enum rtp_leg_id leg = from_caller ? RTP_LEG_A : RTP_LEG_B;
	const char *peer = from_caller ? c->apeer_name : c->bpeer_name;
	const struct sdp_neg *cur = from_caller ? &c->b_neg : &c->a_cap;
	int err;

	if (!c->relay)
		return ENOENT;
	if ((err = read_sdp(msg, &s, &m)) != 0)
		return err;
	err = sdp_neg_answer(&n, &s, m, prefs_of(peer),
			     cur->npts ? cur->pts[0].codec : CODEC_NONE);
	if (err)
		return err;
	if ((err = set_leg(c, leg, &s, m, &n, comedia_of(peer))) != 0)
		return err;
	if (from_caller)
		c->a_cap = n;
	else
		c->b_neg = n;
	media_timeout_arm(c);
	/* our offer to the other side: its codecs as agreed, the direction
	 * the offerer asked for passed across */
	const struct sdp_neg *other = from_caller ? &c->b_neg : &c->a_cap;
	return encode(c, from_caller ? RTP_LEG_B : RTP_LEG_A,
		      from_caller ? &c->b_origin : &c->a_origin, other,
		      call_play_hold(c, from_caller, sdp_media_dir(&s, m)), NULL, NULL, buf,
		      size, len);
}

int call_media_reanswer(struct call *c, bool from_caller, const struct sip_msg *resp,
			char *buf, size_t size, size_t *len)
{
	struct sdp_session s;
	const struct sdp_media *m;
	struct sdp_neg *other = from_caller ? &c->b_neg : &c->a_cap;
	enum rtp_leg_id oleg = from_caller ? RTP_LEG_B : RTP_LEG_A;
	enum rtp_leg_id leg = from_caller ? RTP_LEG_A : RTP_LEG_B;
	const char *opeer = from_caller ? c->bpeer_name : c->apeer_name;
	struct sdp_neg res;

	if (!c->relay)
		return ENOENT;
	if (resp->body.l && read_sdp(resp, &s, &m) == 0 &&
	    sdp_neg_result(&res, other, &s, m) == 0) {
		*other = res;
		set_leg(c, oleg, &s, m, other, comedia_of(opeer));
		media_timeout_arm(c);
	}
	/* our answer to the offerer: its agreed codecs, direction reversed */
	struct sdp_neg *mine = from_caller ? &c->a_cap : &c->b_neg;
	return encode(c, leg, from_caller ? &c->a_origin : &c->b_origin, mine,
		      sdp_dir_reverse(mine->dir), NULL, NULL, buf, size, len);
}

void call_media_free(struct call *c)
{
	if (c->relay)
		c->relay = rtp_relay_free(c->relay);
}

json_t *call_media_json(const struct call *c)
{
	const struct rtp_leg_stats *a, *b;

	if (!c->relay)
		return json_null();
	a = rtp_relay_stats(c->relay, RTP_LEG_A);
	b = rtp_relay_stats(c->relay, RTP_LEG_B);
	return json_pack("{s:i, s:i, s:s, s:s, s:I, s:I, s:I, s:I}",
		"port_a", (int)rtp_relay_port(c->relay, RTP_LEG_A),
		"port_b", (int)rtp_relay_port(c->relay, RTP_LEG_B),
		"codec_a", c->a_cap.npts ? codec_name(c->a_cap.pts[0].codec) : "",
		"codec_b", c->b_media && c->b_neg.npts ? codec_name(c->b_neg.pts[0].codec) : "",
		"rx_a", (json_int_t)a->rx_pkts, "tx_a", (json_int_t)a->tx_pkts,
		"rx_b", (json_int_t)b->rx_pkts, "tx_b", (json_int_t)b->tx_pkts);
}
