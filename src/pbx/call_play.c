/**
 * @file call_play.c  A call's own media: what the dialplan plays to the
 * caller, the keys the caller presses, and music on hold.
 *
 * Players. Each leg of the relay may be fed by a player (play.h):
 * `pa` toward the caller (prompts, Read's tone, MusicOnHold, Dial's m,
 * music when the callee holds), `pb` toward the callee (music when the
 * caller holds). Feeding a leg replaces what the relay sends it; the
 * stream stays one RTP stream (rtp_local.c). A caller not yet answered
 * that is to hear something gets early media first: 183 Session Progress
 * with our SDP answer, as chan_sip sends when audio is written to a
 * channel not up. A late-offer caller cannot get an answer in a 1xx
 * (our offer belongs in the 200), so it is answered instead; for Dial's
 * m option it keeps hearing ringing.
 *
 * Keys. The relay reports RFC 4733 digits (rtp_relay_dtmf_handler);
 * only the caller's (leg A) DTMF ends count, as Asterisk acts on
 * DTMF_END. What a key does depends on the application running
 * (enum call_play_keys): delivered to it, dropped (Playback, Say), or
 * kept, up to KEYS_MAX, for the next application that reads keys, as
 * Asterisk's channel frame queue keeps them between applications (the
 * relay reports keys from the first application or Answer() on). While
 * the call is bridged, keys belong to the callee: the relay passes them
 * on and nothing is kept. While an application listens the relay does
 * not pass the caller's keys to leg B.
 *
 * Music on hold: classes come from the current musiconhold.conf
 * snapshot (pbx_mohconf()); an unknown class plays "default" with one
 * warning per name (moh_conf.c). The class a player last played is kept
 * with the call, so a caller held twice resumes where the music stopped
 * (mode=files: each listener has its own place).
 *
 * Events reach the application through one listener per call (a
 * handler, its referenced argument, one timer); the handler may resume
 * the dialplan and so free the call, so nothing here touches the call
 * after calling it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "media/moh.h"
#include "media/moh_conf.h"
#include "media/play.h"
#include "media/tone.h"
#include "pbx/call_int.h"
#include "pbx/call_play.h"
#include "pbx/pbx.h"
#include "pbx/registrar.h"

#define KEYS_MAX 32     /* keys kept between applications */

struct side {
	struct player *p;
	bool fed;
	struct moh_class *cls;      /* last class played (resume) */
	char clsname[80];
};

struct call_play {
	struct call *c;
	struct side a, b;           /* toward the caller, toward the callee */
	bool early;                 /* 183 with our SDP sent */
	bool dial_moh;              /* Dial's m: music instead of ringing */
	bool hold_a, hold_b;        /* music because the other side holds */
	char lang[32];
	char musicclass[80];
	char keys[KEYS_MAX + 1];
	size_t nkeys;
	bool flood_warned;
	enum call_play_keys mode;
	call_play_h *h;
	void *arg;                  /* referenced */
	struct tmr tmr;
	bool dtmf_held;             /* relaying of A's keys to B turned off */
};

/* ------------------------------------------------------------ helpers */

static const struct peer *peer_named(const char *name)
{
	struct pl n = { name, strlen(name) };

	return name[0] ? sipconf_peer(pbx_sipconf(), &n) : NULL;
}

/* A peer option, else sip.conf [general]'s, else NULL. */
static const char *peer_opt(const char *peer, const char *opt)
{
	const struct peer *p = peer_named(peer);
	const char *v = p ? conf_get(p->sec, opt) : NULL;

	if (!v && pbx_sipconf())
		v = conf_get(conf_section(pbx_sipconf()->conf, "general"), opt);
	return v && *v ? v : NULL;
}

static void on_done_a(struct player *p, void *arg);
static void on_done_b(struct player *p, void *arg);
static void on_dtmf(struct rtp_relay *r, enum rtp_leg_id leg, char digit,
		    enum dtmf_ev ev, uint32_t ms, void *arg);

/* The call's state, made on first use. NULL when out of memory. */
/* The caller's keys come as tones in its audio: dtmfmode=inband, or
 * auto when its SDP did not offer telephone-event (chan_sip). */
static bool caller_inband(const struct call *c)
{
	const char *m = peer_opt(c->apeer_name, "dtmfmode");

	if (!m || !strcasecmp(m, "inband"))
		return m != NULL;
	if (strcasecmp(m, "auto"))
		return false;
	for (size_t i = 0; i < c->a_cap.npts; i++)
		if (c->a_cap.pts[i].codec == CODEC_TELEVENT)
			return false;
	return true;
}

static struct call_play *get(struct call *c)
{
	struct call_play *cp = c->play;
	const char *lang;

	if (cp)
		return cp;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return NULL;
	if (player_alloc(&cp->a.p, on_done_a, cp) || player_alloc(&cp->b.p, on_done_b, cp)) {
		mem_deref(cp->a.p);
		free(cp);
		return NULL;
	}
	cp->c = c;
	tmr_init(&cp->tmr);
	lang = peer_opt(c->apeer_name, "language");
	snprintf(cp->lang, sizeof(cp->lang), "%s", lang ? lang : "en");
	if (c->relay) {
		rtp_relay_dtmf_handler(c->relay, on_dtmf, cp);
		if (caller_inband(c) && rtp_relay_dtmf_inband(c->relay, RTP_LEG_A, true) == 0)
			log_info("call %u: in-band DTMF detection on the caller's audio", c->id);
	}
	c->play = cp;
	return cp;
}

static int feed(struct call *c, struct side *s, enum rtp_leg_id leg)
{
	int err;

	if (s->fed)
		return 0;
	if (!c->relay)
		return ENOTCONN;
	err = rtp_relay_feed(c->relay, leg, s->p);
	if (err) {
		log_warn("call %u: cannot play to the %s: %s", c->id,
			 leg == RTP_LEG_A ? "caller" : "callee",
			 err == ENOTSUP ? "no G.711 codec negotiated" : strerror(err));
		return err;
	}
	s->fed = true;
	return 0;
}

static void unfeed(struct call *c, struct side *s, enum rtp_leg_id leg)
{
	play_stop(s->p);
	if (s->fed && c->relay)
		rtp_relay_feed(c->relay, leg, NULL);
	s->fed = false;
}

/*
 * Make the caller hear us: answered already, or early media (183 with
 * our answer, once). A late offer cannot ride in a 1xx: answer when
 * allowed, else EAGAIN.
 */
static int reach_caller(struct call_play *cp, bool may_answer)
{
	struct call *c = cp->c;
	char extra[256], sdp[2048];
	size_t len = 0;

	if (c->answered || cp->early)
		return 0;
	if (!c->relay || !c->st)
		return ENOTCONN;
	if (c->late_offer) {
		if (!may_answer)
			return EAGAIN;
		log_info("call %u: no early media for a late-offer caller: answering to play",
			 c->id);
		call_answer_caller(c, NULL);
		return c->answered ? 0 : EIO;
	}
	if (call_media_answer_out(c, sdp, sizeof(sdp), &len) != 0)
		return EIO;
	snprintf(extra, sizeof(extra), "Contact: <%s>\r\n", c->adlg->contact);
	sip_strans_reply(c->st, 183, NULL, extra, "application/sdp", sdp, len);
	cp->early = true;
	log_info("call %u: early media (183 with SDP) to play before answering", c->id);
	return 0;
}

/* The moh_class of name for side s (kept: playing it again resumes);
 * *ccp gets its musiconhold.conf class. */
static struct moh_class *moh_of(struct call_play *cp, struct side *s, const char *name,
				const struct mohconf_class **ccp)
{
	struct mohconf *mc = pbx_mohconf();
	const struct mohconf_class *cc = mc ? mohconf_class(mc, name) : NULL;
	char **files = NULL;
	size_t n = 0;
	int err;

	*ccp = cc;
	if (!cc) {
		log_warn("call %u: no music on hold class '%s' and no default class",
			 cp->c->id, name ? name : "");
		return NULL;
	}
	if (s->cls && !strcasecmp(s->clsname, cc->name))
		return s->cls;
	/* sort=random comes shuffled, randstart rotated: walk it in order */
	err = mohconf_class_files(cc, (uint32_t)time(NULL) ^ (cp->c->id * 2654435761u),
				  &files, &n);
	if (err || !n) {
		log_warn("%s:%u: music on hold class '%s': no music in %s", cc->file, cc->line,
			 cc->name, cc->dir ? cc->dir : "its entries");
		mohconf_files_free(files, n);
		return NULL;
	}
	s->cls = mem_deref(s->cls);
	err = moh_class_list(&s->cls, cc->name, (const char *const *)files, n,
			     MOH_SORT_ALPHA, MOH_POS_LISTENER);
	mohconf_files_free(files, n);
	if (err)
		return NULL;
	snprintf(s->clsname, sizeof(s->clsname), "%s", cc->name);
	return s->cls;
}

/* Start class name on side s (leg), after its announcement if any. */
static int music(struct call_play *cp, struct side *s, enum rtp_leg_id leg, const char *name)
{
	const struct mohconf_class *cc;
	struct moh_class *cls = moh_of(cp, s, name, &cc);
	int err;

	if (!cls)
		return ENOENT;
	play_stop(s->p);
	if (cc->announcement)
		(void)play_file(s->p, cp->lang, cc->announcement);
	if ((err = play_moh(s->p, cls)))
		return err;
	if ((err = feed(cp->c, s, leg)))
		play_stop(s->p);
	return err;
}

/* ------------------------------------------------------------ events */

static void notify(struct call_play *cp, enum call_play_ev ev, char digit)
{
	if (cp->h)
		cp->h(cp->c, ev, digit, cp->arg);   /* may free cp */
}

static void on_done_a(struct player *p, void *arg)
{
	struct call_play *cp = arg;

	(void)p;
	if (cp->h) {
		notify(cp, CALL_PLAY_DONE, 0);
		return;
	}
	unfeed(cp->c, &cp->a, RTP_LEG_A);   /* back to the relay */
}

static void on_done_b(struct player *p, void *arg)
{
	struct call_play *cp = arg;

	(void)p;
	unfeed(cp->c, &cp->b, RTP_LEG_B);
}

static void on_timer(void *arg)
{
	notify(arg, CALL_PLAY_TIMER, 0);
}

static void keep_key(struct call_play *cp, char digit)
{
	if (cp->nkeys < KEYS_MAX) {
		cp->keys[cp->nkeys++] = digit;
		cp->keys[cp->nkeys] = '\0';
		return;
	}
	if (!cp->flood_warned)
		log_notice("call %u: more than %d keys pressed with no application reading "
			   "them: later ones dropped", cp->c->id, KEYS_MAX);
	cp->flood_warned = true;
}

static void on_dtmf(struct rtp_relay *r, enum rtp_leg_id leg, char digit,
		    enum dtmf_ev ev, uint32_t ms, void *arg)
{
	struct call_play *cp = arg;

	(void)r;
	if (ev != DTMF_END || leg != RTP_LEG_A)
		return;
	log_debug("call %u: key %c (%u ms)", cp->c->id, digit, ms);
	switch (cp->mode) {
	case CALL_PLAY_DELIVER:
		notify(cp, CALL_PLAY_DIGIT, digit);
		break;
	case CALL_PLAY_DROP:
		break;
	case CALL_PLAY_KEEP:
		if (!cp->c->bridged)
			keep_key(cp, digit);
		break;
	}
}

/* ------------------------------------------------ ops for the apps */

static const char *op_get(struct call *c, const char *what)
{
	struct call_play *cp = get(c);

	if (!cp)
		return NULL;
	if (!strcasecmp(what, "language"))
		return cp->lang;
	if (!strcasecmp(what, "musicclass"))
		return cp->musicclass;
	return NULL;
}

static int op_set(struct call *c, const char *what, const char *value)
{
	struct call_play *cp = get(c);

	if (!cp)
		return ENOMEM;
	if (!strcasecmp(what, "language"))
		snprintf(cp->lang, sizeof(cp->lang), "%s", value && *value ? value : "en");
	else if (!strcasecmp(what, "musicclass"))
		snprintf(cp->musicclass, sizeof(cp->musicclass), "%s", value ? value : "");
	else
		return EINVAL;
	return 0;
}

static bool op_answered(struct call *c)
{
	return c->answered != 0;
}

static int op_files(struct call *c, const char *lang, const char *list)
{
	struct call_play *cp = get(c);
	int err, e2;

	if (!cp)
		return ENOMEM;
	play_stop(cp->a.p);
	err = play_files(cp->a.p, lang && *lang ? lang : cp->lang, list);
	if (!play_busy(cp->a.p))
		return err ? err : ENOENT;
	if ((e2 = reach_caller(cp, true)) || (e2 = feed(c, &cp->a, RTP_LEG_A))) {
		play_stop(cp->a.p);
		return e2;
	}
	return err;
}

static bool op_playing(struct call *c)
{
	return c->play && c->play->a.fed && play_busy(c->play->a.p);
}

static int op_moh(struct call *c, const char *cls)
{
	struct call_play *cp = get(c);
	int err;

	if (!cp)
		return ENOMEM;
	if ((err = reach_caller(cp, true)))
		return err;
	return music(cp, &cp->a, RTP_LEG_A, cls && *cls ? cls : cp->musicclass);
}

static int op_tone(struct call *c, const char *name)
{
	struct call_play *cp = get(c);
	const char *spec;
	int err;

	if (!cp)
		return ENOMEM;
	spec = tone_lookup(strncasecmp(cp->lang, "es", 2) ? "us" : "es", name);
	play_stop(cp->a.p);
	if ((err = play_tone(cp->a.p, spec ? spec : name, 0))) {
		log_warn("call %u: '%s' is neither an indications tone nor a tone spec",
			 c->id, name);
		return err;
	}
	if ((err = reach_caller(cp, true)) || (err = feed(c, &cp->a, RTP_LEG_A)))
		play_stop(cp->a.p);
	return err;
}

static void op_stop(struct call *c)
{
	if (c->play)
		unfeed(c, &c->play->a, RTP_LEG_A);
}

static void op_listen(struct call *c, enum call_play_keys keys, call_play_h *h, void *arg)
{
	struct call_play *cp = get(c);
	void *old;

	if (!cp)
		return;
	old = cp->arg;
	cp->mode = keys;
	cp->h = h;
	cp->arg = mem_ref(arg);
	if (!h)
		tmr_cancel(&cp->tmr);
	if (c->relay && cp->dtmf_held != (keys != CALL_PLAY_KEEP)) {
		cp->dtmf_held = keys != CALL_PLAY_KEEP;
		rtp_relay_dtmf_relay(c->relay, RTP_LEG_A, !cp->dtmf_held);
	}
	mem_deref(old);
}

static void *op_arg(struct call *c)
{
	return c->play ? c->play->arg : NULL;
}

static void op_timer(struct call *c, unsigned ms)
{
	struct call_play *cp = get(c);

	if (!cp)
		return;
	if (ms)
		tmr_start(&cp->tmr, ms, on_timer, cp);
	else
		tmr_cancel(&cp->tmr);
}

static char op_take(struct call *c)
{
	struct call_play *cp = c->play;
	char d;

	if (!cp || !cp->nkeys)
		return 0;
	d = cp->keys[0];
	memmove(cp->keys, cp->keys + 1, cp->nkeys--);
	return d;
}

static void op_resume(struct call *c)
{
	call_dp_resume(c);
}

const struct call_play_ops call_play_ops = {
	.get = op_get, .set = op_set, .answered = op_answered, .files = op_files,
	.playing = op_playing, .moh = op_moh, .tone = op_tone, .stop = op_stop,
	.listen = op_listen, .arg = op_arg, .timer = op_timer, .take = op_take,
	.resume = op_resume,
};

/* ------------------------------------------------------------- hooks */

void call_play_start(struct call *c)
{
	(void)get(c);
}

void call_play_free(struct call *c)
{
	struct call_play *cp = c ? c->play : NULL;

	if (!cp)
		return;
	tmr_cancel(&cp->tmr);
	if (c->relay) {
		rtp_relay_dtmf_handler(c->relay, NULL, NULL);
		if (cp->dtmf_held)
			rtp_relay_dtmf_relay(c->relay, RTP_LEG_A, true);
	}
	unfeed(c, &cp->a, RTP_LEG_A);
	unfeed(c, &cp->b, RTP_LEG_B);
	player_handler(cp->a.p, NULL, NULL);
	player_handler(cp->b.p, NULL, NULL);
	mem_deref(cp->a.p);
	mem_deref(cp->b.p);
	mem_deref(cp->a.cls);
	mem_deref(cp->b.cls);
	mem_deref(cp->arg);
	free(cp);
	c->play = NULL;
}

/* The class the held side hears: the channel's musicclass, the holder's
 * mohsuggest, the held peer's mohinterpret, default (local_ast_moh_start). */
static const char *hold_class(struct call_play *cp, bool from_caller)
{
	struct call *c = cp->c;
	const char *holder = from_caller ? c->apeer_name : c->bpeer_name;
	const char *held = from_caller ? c->bpeer_name : c->apeer_name;
	const char *v;

	if (cp->musicclass[0])
		return cp->musicclass;
	if ((v = peer_opt(holder, "mohsuggest")))
		return v;
	if ((v = peer_opt(held, "mohinterpret")))
		return v;
	return "default";
}

enum sdp_dir call_play_hold(struct call *c, bool from_caller, enum sdp_dir dir)
{
	bool holds = dir == SDP_SENDONLY || dir == SDP_INACTIVE;
	struct call_play *cp = holds || c->play ? get(c) : NULL;
	struct side *s;
	enum rtp_leg_id leg = from_caller ? RTP_LEG_B : RTP_LEG_A;
	bool *on;
	const char *cls;

	if (!cp)
		return dir;
	s = from_caller ? &cp->b : &cp->a;
	on = from_caller ? &cp->hold_b : &cp->hold_a;
	if (holds) {
		if (*on)
			return SDP_SENDONLY;
		cls = hold_class(cp, from_caller);
		if (music(cp, s, leg, cls))
			return dir;
		*on = true;
		log_info("call %u: the %s holds: music on hold (class %s) to the %s", c->id,
			 from_caller ? "caller" : "callee", moh_class_name(s->cls),
			 from_caller ? "callee" : "caller");
		return SDP_SENDONLY;
	}
	if (*on) {
		*on = false;
		unfeed(c, s, leg);
		log_info("call %u: the %s took the call back: music stops", c->id,
			 from_caller ? "caller" : "callee");
	}
	return dir;
}

/* Dial's m or m(class) at the top level of its options. */
static bool dial_m(const char *opts, char *cls, size_t size)
{
	int depth = 0;

	for (; opts && *opts; opts++) {
		if (*opts == '(')
			depth++;
		else if (*opts == ')')
			depth--;
		else if (!depth && *opts == 'm') {
			const char *e;

			cls[0] = '\0';
			if (opts[1] == '(' && (e = strchr(opts + 2, ')')))
				snprintf(cls, size, "%.*s", (int)(e - opts - 2), opts + 2);
			return true;
		}
	}
	return false;
}

void call_play_dial(struct call *c, const char *options)
{
	char cls[80];
	struct call_play *cp;

	if (!dial_m(options, cls, sizeof(cls)) || !(cp = get(c)))
		return;
	if (reach_caller(cp, false)) {
		log_info("call %u: Dial's m option: no early media to a late-offer caller; "
			 "it hears ringing", c->id);
		return;
	}
	if (music(cp, &cp->a, RTP_LEG_A, cls[0] ? cls : cp->musicclass) == 0)
		cp->dial_moh = true;
}

void call_play_dial_end(struct call *c)
{
	struct call_play *cp = c->play;

	if (!cp || !cp->dial_moh)
		return;
	cp->dial_moh = false;
	unfeed(c, &cp->a, RTP_LEG_A);
}

bool call_play_dial_music(const struct call *c)
{
	return c->play && c->play->dial_moh;
}
