/**
 * @file call_apps.c  The dialplan applications that play to the caller
 * and read its keys, as Asterisk's do: Playback (app_playback),
 * Background and WaitExten (pbx_builtins), Read (app_read), SayDigits
 * and SayNumber (say.c), MusicOnHold, StartMusicOnHold, StopMusicOnHold
 * (res_musiconhold); the functions CHANNEL() (language, musicclass, ...)
 * and TIMEOUT() (digit, response).
 *
 * Each application that takes time starts its media through
 * `struct call_play_ops` (call_play.h), listens for the call's events
 * (a key, the prompts played, its timer) and returns DP_APP_WAIT; the
 * event that ends it resumes the dialplan, and the resume handler
 * stops what the application started. Keys pressed before it started
 * are taken first, as Asterisk reads them from the channel's queue.
 *
 * Digits: Background and WaitExten hand the first key to the dialplan
 * engine's collection (exec.h dp_collect_*: while an extension could
 * still match more, wait TIMEOUT(digit) for the next key; then the
 * extension, or `i`, or hang up). Background's workaround is kept: a key
 * that is an extension of Background's context and cannot be the start
 * of a longer one goes straight there. WaitExten's timeout goes on to
 * the next priority when there is one, else `t`
 * (dp_chan_response_timeout). Read collects its own keys: '#' ends,
 * maxdigits ends, a pause ends with READSTATUS=TIMEOUT (an empty answer
 * is asked again while attempts remain).
 *
 * Differences from Asterisk: Background plays the files after a missing
 * one (Asterisk stops at it; both set BACKGROUNDSTATUS=FAILED); a
 * prompt application stops music started by StartMusicOnHold, which is
 * not resumed after it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "dialplan/exec.h"
#include "media/say.h"
#include "pbx/call_play.h"

#define ARGS_MAX 8
#define LIST_MAX 4096

static const struct call_play_ops *M = &call_play_ops;

enum kind { K_PLAYBACK, K_BACKGROUND, K_WAITEXTEN, K_SAY, K_READ, K_MOH };

/* One application running on a call. */
struct run {
	struct dp_chan *chan;
	struct call *c;
	enum kind kind;
	bool finished;            /* ret is the outcome */
	enum dp_app_ret ret;
	/* Background, WaitExten, Say: the dialled extension */
	bool collecting;
	struct dp_collect dc;
	char bgctx[256];          /* Background's context */
	bool matchonly;           /* Background's m */
	/* Read */
	char var[128];
	char *prompts;            /* owned; "" for none */
	bool tone;                /* option i: prompts name a tone */
	char digits[256];
	size_t n, maxdigits;
	unsigned to_first, to_next;
	int tries;
	bool prompting;
	const char *status;
};

/* ---------------------------------------------------------- helpers */

static void warn_at(struct dp_chan *chan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn_at(struct dp_chan *chan, const char *fmt, ...)
{
	unsigned line;
	const char *file = dp_chan_file(chan, &line);
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s:%u: %s", file, line, msg);
}

/* ast_true */
static bool truth(const char *s)
{
	return s && (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcasecmp(s, "y") ||
		     !strcasecmp(s, "t") || !strcasecmp(s, "1") || !strcasecmp(s, "on"));
}

static bool answer(struct dp_chan *chan)
{
	const struct dp_chan_ops *ops = dp_chan_ops(chan);

	return !ops->answer || ops->answer(dp_chan_call(chan)) == 0;
}

static void run_destroy(void *arg)
{
	struct run *r = arg;

	free(r->prompts);
}

static struct run *run_new(struct dp_chan *chan, enum kind kind)
{
	struct run *r = mem_zalloc(sizeof(*r), run_destroy);

	if (!r)
		return NULL;
	r->chan = chan;
	r->c = dp_chan_call(chan);
	r->kind = kind;
	return r;
}

/* Wait ms for the next event; 0 waits no time (Asterisk's
 * ast_waitfordigit(chan, 0) returns at once), not forever. */
static void wait_ms(struct call *c, unsigned ms)
{
	M->timer(c, ms ? ms : 1);
}

static void end(struct run *r, enum dp_app_ret ret)
{
	r->ret = ret;
	r->finished = true;
}

/* Undo what the application started (its listener, timer, media). */
static void release(struct call *c)
{
	M->timer(c, 0);
	M->listen(c, CALL_PLAY_KEEP, NULL, NULL);
	M->stop(c);
}

static void read_hung_up(struct run *r);

static enum dp_app_ret resumed(struct dp_chan *chan, enum dp_res res)
{
	struct call *c = dp_chan_call(chan);
	struct run *r = M->arg(c);
	enum dp_app_ret ret = res == DP_RES_HANGUP ? DP_APP_HANGUP : DP_APP_NEXT;

	if (r && res == DP_RES_HANGUP && r->kind == K_READ)
		read_hung_up(r);
	else if (r && res != DP_RES_HANGUP)
		ret = r->ret;
	release(c);   /* drops r */
	return ret;
}

/* The application returns: at once when r finished, else it waits. */
static enum dp_app_ret leave(struct run *r)
{
	enum dp_app_ret ret = r->ret;

	if (r->finished) {
		release(r->c);
		mem_deref(r);
		return ret;
	}
	dp_chan_on_resume(r->chan, resumed);
	mem_deref(r);   /* the listener keeps it */
	return DP_APP_WAIT;
}

/* ------------------------------------------------- dialled extensions */

/* A key during Background, WaitExten or an interruptible Say. */
static void menu_key(struct run *r, char d)
{
	char one[2] = { d, '\0' };
	bool more;
	char k;

	if (r->matchonly && !dp_chan_exists(r->chan, r->bgctx, one))
		return;   /* Background m: only a one-digit extension breaks in */
	M->stop(r->c);
	M->timer(r->c, 0);
	if (r->kind == K_BACKGROUND && dp_chan_canmatch(r->chan, r->bgctx, one) &&
	    !dp_chan_matchmore(r->chan, r->bgctx, one)) {
		end(r, dp_chan_goto_digits(r->chan, r->bgctx, one));
		return;
	}
	r->collecting = true;
	more = dp_collect_start(&r->dc, r->chan, dp_chan_digit_context(r->chan), d);
	while (more && (k = M->take(r->c)))
		more = dp_collect_digit(&r->dc, r->chan, k);
	if (!more) {
		end(r, dp_collect_end(&r->dc, r->chan));
		return;
	}
	wait_ms(r->c, dp_chan_timeout(r->chan, DP_TIMEOUT_DIGIT));
}

static void menu_event(struct run *r, enum call_play_ev ev, char d)
{
	if (r->collecting) {
		if (ev == CALL_PLAY_DIGIT) {
			M->timer(r->c, 0);
			if (!dp_collect_digit(&r->dc, r->chan, d))
				end(r, dp_collect_end(&r->dc, r->chan));
			else
				wait_ms(r->c, dp_chan_timeout(r->chan, DP_TIMEOUT_DIGIT));
		} else if (ev == CALL_PLAY_TIMER) {
			end(r, dp_collect_end(&r->dc, r->chan));
		}
		return;
	}
	switch (ev) {
	case CALL_PLAY_DONE:
		if (r->kind != K_WAITEXTEN && r->kind != K_MOH)
			end(r, DP_APP_NEXT);
		break;
	case CALL_PLAY_TIMER:
		if (r->kind == K_WAITEXTEN)
			end(r, dp_chan_response_timeout(r->chan));
		else if (r->kind == K_MOH)
			end(r, DP_APP_NEXT);
		break;
	case CALL_PLAY_DIGIT:
		menu_key(r, d);
		break;
	}
}

static void read_event(struct run *r, enum call_play_ev ev, char d);

static void on_event(struct call *c, enum call_play_ev ev, char digit, void *arg)
{
	struct run *r = arg;

	if (r->finished)
		return;
	if (r->kind == K_READ)
		read_event(r, ev, digit);
	else
		menu_event(r, ev, digit);
	if (r->finished)
		M->resume(c);   /* may free c and r: nothing after this */
}

/* Listen for r (keys as given), then take the keys pressed before. */
static void listen_menu(struct run *r, enum call_play_keys keys)
{
	char k;

	M->listen(r->c, keys, on_event, r);
	if (keys == CALL_PLAY_DROP) {
		while (M->take(r->c))
			;
		return;
	}
	while (!r->finished && !r->collecting && (k = M->take(r->c)))
		menu_key(r, k);
}

/* ------------------------------------------------------ applications */

/* Playback(file1[&file2...][,options]): skip, noanswer. */
static enum dp_app_ret app_playback(struct dp_chan *chan, const char *data)
{
	char *d = strdup(data), *v[2];
	struct call *c = dp_chan_call(chan);
	struct run *r;
	int err;

	if (!d)
		return DP_APP_HANGUP;
	dp_args_split(d, v, 2);
	if (!*v[0]) {
		warn_at(chan, "Playback requires an argument (filename)");
		free(d);
		return DP_APP_HANGUP;
	}
	if (!M->answered(c)) {
		if (strstr(v[1], "skip")) {
			dp_chan_var_set(chan, "PLAYBACKSTATUS", "SUCCESS");
			free(d);
			return DP_APP_NEXT;
		}
		if (!strstr(v[1], "noanswer") && !answer(chan)) {
			free(d);
			return DP_APP_HANGUP;
		}
	}
	if (!(r = run_new(chan, K_PLAYBACK))) {
		free(d);
		return DP_APP_HANGUP;
	}
	listen_menu(r, CALL_PLAY_DROP);
	err = M->files(c, NULL, v[0]);
	dp_chan_var_set(chan, "PLAYBACKSTATUS", err ? "FAILED" : "SUCCESS");
	if (err && !M->playing(c))
		warn_at(chan, "Playback failed for %s", v[0]);
	free(d);
	if (!M->playing(c))
		end(r, DP_APP_NEXT);
	return leave(r);
}

/* Background(file1[&file2...][,options[,langoverride[,context]]]):
 * s (skip when not answered), n (do not answer), m (only a one-digit
 * extension of context breaks in), p (keys do not interrupt). */
static enum dp_app_ret app_background(struct dp_chan *chan, const char *data)
{
	char *d = strdup(data), *v[4];
	struct call *c = dp_chan_call(chan);
	bool skip, noanswer, matchonly, nokeys;
	struct run *r;
	int err = 0;

	if (!d)
		return DP_APP_HANGUP;
	dp_args_split(d, v, 4);
	if (!*v[0]) {
		warn_at(chan, "Background requires an argument (filename)");
		free(d);
		return DP_APP_HANGUP;
	}
	skip = !strcasecmp(v[1], "skip") || (strcasecmp(v[1], "noanswer") && strchr(v[1], 's'));
	noanswer = !strcasecmp(v[1], "noanswer") || (strcasecmp(v[1], "skip") && strchr(v[1], 'n'));
	matchonly = strcasecmp(v[1], "skip") && strcasecmp(v[1], "noanswer") && strchr(v[1], 'm');
	nokeys = strcasecmp(v[1], "skip") && strcasecmp(v[1], "noanswer") && strchr(v[1], 'p');
	if (!M->answered(c)) {
		if (skip) {
			dp_chan_var_set(chan, "BACKGROUNDSTATUS", "SUCCESS");
			free(d);
			return DP_APP_NEXT;
		}
		if (!noanswer && !answer(chan)) {
			free(d);
			return DP_APP_HANGUP;
		}
	}
	if (!(r = run_new(chan, K_BACKGROUND))) {
		free(d);
		return DP_APP_HANGUP;
	}
	snprintf(r->bgctx, sizeof(r->bgctx), "%s", *v[3] ? v[3] : dp_chan_digit_context(chan));
	r->matchonly = matchonly;
	listen_menu(r, nokeys ? CALL_PLAY_DROP : CALL_PLAY_DELIVER);
	if (!r->finished && !r->collecting) {
		err = M->files(c, *v[2] ? v[2] : NULL, v[0]);
		if (!M->playing(c))
			end(r, DP_APP_NEXT);
	}
	dp_chan_var_set(chan, "BACKGROUNDSTATUS", err ? "FAILED" : "SUCCESS");
	free(d);
	return leave(r);
}

/* WaitExten([seconds[,options]]): m[(class)] plays music meanwhile. */
static enum dp_app_ret app_waitexten(struct dp_chan *chan, const char *data)
{
	char *d = strdup(data), *v[2], *m;
	struct call *c = dp_chan_call(chan);
	double secs;
	unsigned ms;
	struct run *r;

	if (!d)
		return DP_APP_HANGUP;
	dp_args_split(d, v, 2);
	secs = atof(v[0]);
	ms = secs > 0 ? (unsigned)(secs * 1000) : dp_chan_timeout(chan, DP_TIMEOUT_RESPONSE);
	if (!(r = run_new(chan, K_WAITEXTEN))) {
		free(d);
		return DP_APP_HANGUP;
	}
	listen_menu(r, CALL_PLAY_DELIVER);
	if (!r->finished && !r->collecting) {
		if ((m = strchr(v[1], 'm'))) {
			char cls[80] = "";
			const char *e;

			if (m[1] == '(' && (e = strchr(m + 2, ')')))
				snprintf(cls, sizeof(cls), "%.*s", (int)(e - m - 2), m + 2);
			if (M->moh(c, cls))
				warn_at(chan, "WaitExten: no music on hold for class '%s'", cls);
		}
		wait_ms(c, ms);
	}
	free(d);
	return leave(r);
}

/* SayDigits / SayNumber: play list; keys are dropped unless
 * SAY_DTMF_INTERRUPT is true, then a key is dialled as in Background. */
static enum dp_app_ret say(struct dp_chan *chan, const char *list)
{
	struct call *c = dp_chan_call(chan);
	struct run *r = run_new(chan, K_SAY);

	if (!r)
		return DP_APP_HANGUP;
	listen_menu(r, truth(dp_chan_var_get(chan, "SAY_DTMF_INTERRUPT")) ? CALL_PLAY_DELIVER
									   : CALL_PLAY_DROP);
	if (!r->finished && !r->collecting) {
		(void)M->files(c, NULL, list);
		if (!M->playing(c))
			end(r, DP_APP_NEXT);
	}
	return leave(r);
}

static enum dp_app_ret app_saydigits(struct dp_chan *chan, const char *data)
{
	char list[LIST_MAX];

	if (!*data) {
		warn_at(chan, "SayDigits requires an argument (digits)");
		return DP_APP_HANGUP;
	}
	if (say_digits(data, list, sizeof(list)) || !*list)
		return DP_APP_NEXT;
	return say(chan, list);
}

static enum dp_app_ret app_saynumber(struct dp_chan *chan, const char *data)
{
	char *d = strdup(data), *v[2], list[LIST_MAX], *end;
	struct call *c = dp_chan_call(chan);
	long num;
	int err;

	if (!d)
		return DP_APP_HANGUP;
	dp_args_split(d, v, 2);
	if (!*v[0]) {
		warn_at(chan, "SayNumber requires an argument (number)");
		free(d);
		return DP_APP_HANGUP;
	}
	num = strtol(v[0], &end, 10);
	if (end == v[0] || num > 2147483647L || num < -2147483647L) {
		warn_at(chan, "argument '%s' to SayNumber could not be parsed as a number", v[0]);
		free(d);
		return DP_APP_NEXT;
	}
	if (*v[1] && strcasecmp(v[1], "f") && strcasecmp(v[1], "m") && strcasecmp(v[1], "c") &&
	    strcasecmp(v[1], "n")) {
		warn_at(chan, "SayNumber gender option is either 'f', 'm', 'c' or 'n', not '%s'",
			v[1]);
		free(d);
		return DP_APP_HANGUP;
	}
	err = say_number((int)num, M->get(c, "language"), v[1], list, sizeof(list));
	free(d);
	if (err) {
		warn_at(chan, "we were unable to say the number %s, is it too large?", data);
		return DP_APP_NEXT;
	}
	return say(chan, list);
}

/* ------------------------------------------------------------- Read */

static void read_done(struct run *r, const char *status)
{
	dp_chan_var_set(r->chan, r->var, r->digits);
	dp_chan_var_set(r->chan, "READSTATUS", status);
	end(r, DP_APP_NEXT);
}

static void read_hung_up(struct run *r)
{
	dp_chan_var_set(r->chan, r->var, r->digits);
	dp_chan_var_set(r->chan, "READSTATUS", "HANGUP");
}

static void read_key(struct run *r, char d)
{
	if (r->prompting) {
		M->stop(r->c);
		r->prompting = false;
	}
	M->timer(r->c, 0);
	if (d == '#') {
		read_done(r, "OK");   /* '#' alone: an empty answer, OK */
		return;
	}
	if (r->n + 1 < sizeof(r->digits)) {
		r->digits[r->n++] = d;
		r->digits[r->n] = '\0';
	}
	if (r->n >= r->maxdigits) {
		read_done(r, "OK");
		return;
	}
	wait_ms(r->c, r->to_next);
}

/* One attempt: the prompts, then the keys. */
static void read_attempt(struct run *r)
{
	char k;

	r->n = 0;
	r->digits[0] = '\0';
	r->prompting = false;
	if (*r->prompts && r->tone) {
		r->prompting = M->tone(r->c, r->prompts) == 0;
	} else if (*r->prompts) {
		(void)M->files(r->c, NULL, r->prompts);
		r->prompting = M->playing(r->c);
	}
	while (!r->finished && (k = M->take(r->c)))
		read_key(r, k);
	if (!r->finished && r->n == 0 && (!r->prompting || r->tone))
		wait_ms(r->c, r->to_first);
}

static void read_event(struct run *r, enum call_play_ev ev, char d)
{
	switch (ev) {
	case CALL_PLAY_DIGIT:
		read_key(r, d);
		break;
	case CALL_PLAY_DONE:
		if (r->prompting && !r->tone) {
			r->prompting = false;
			wait_ms(r->c, r->n ? r->to_next : r->to_first);
		}
		break;
	case CALL_PLAY_TIMER:
		if (r->n || --r->tries <= 0) {
			read_done(r, "TIMEOUT");
			break;
		}
		M->stop(r->c);
		read_attempt(r);
		break;
	}
}

/* Read(var[,filename[&filename2...][,maxdigits[,options[,attempts[,timeout]]]]])
 * options: s (skip when not answered), i (filename is a tone), n (read
 * without answering). */
static enum dp_app_ret app_read(struct dp_chan *chan, const char *data)
{
	char *d = strdup(data), *v[6];
	struct call *c = dp_chan_call(chan);
	struct run *r;
	long maxd, tries;
	double tmo;

	if (!d)
		return DP_APP_HANGUP;
	dp_args_split(d, v, 6);
	if (!*v[0]) {
		warn_at(chan, "Read requires a variable name: Read(variable[,filename][,maxdigits]"
			"[,option][,attempts][,timeout])");
		free(d);
		return DP_APP_NEXT;
	}
	if (!M->answered(c)) {
		if (strchr(v[3], 's')) {
			dp_chan_var_set(chan, v[0], "");
			dp_chan_var_set(chan, "READSTATUS", "SKIPPED");
			free(d);
			return DP_APP_NEXT;
		}
		if (!strchr(v[3], 'n') && !answer(chan)) {
			free(d);
			return DP_APP_HANGUP;
		}
	}
	if (!(r = run_new(chan, K_READ)) || !(r->prompts = strdup(v[1]))) {
		mem_deref(r);
		free(d);
		return DP_APP_HANGUP;
	}
	snprintf(r->var, sizeof(r->var), "%s", v[0]);
	maxd = atol(v[2]);
	r->maxdigits = maxd < 1 || maxd > 255 ? 255 : (size_t)maxd;
	r->tone = strchr(v[3], 'i') != NULL;
	tries = atol(v[4]);
	r->tries = tries <= 0 ? 1 : (int)(tries > 100 ? 100 : tries);
	tmo = atof(v[5]);
	r->to_first = tmo > 0 ? (unsigned)(tmo * 1000) : dp_chan_timeout(chan, DP_TIMEOUT_RESPONSE);
	r->to_next = tmo > 0 ? (unsigned)(tmo * 1000) : dp_chan_timeout(chan, DP_TIMEOUT_DIGIT);
	free(d);
	M->listen(c, CALL_PLAY_DELIVER, on_event, r);
	read_attempt(r);
	return leave(r);
}

/* ------------------------------------------------------ music on hold */

/* MusicOnHold([class[,duration]]): until duration seconds or hang-up. */
static enum dp_app_ret app_musiconhold(struct dp_chan *chan, const char *data)
{
	char *d = strdup(data), *v[2];
	struct call *c = dp_chan_call(chan);
	struct run *r;
	int secs;

	if (!d)
		return DP_APP_HANGUP;
	dp_args_split(d, v, 2);
	secs = atoi(v[1]);
	if (!(r = run_new(chan, K_MOH))) {
		free(d);
		return DP_APP_HANGUP;
	}
	M->listen(c, CALL_PLAY_KEEP, on_event, r);
	if (M->moh(c, v[0])) {
		warn_at(chan, "unable to start music on hold class '%s'", v[0]);
		end(r, DP_APP_NEXT);
	} else if (secs > 0) {
		M->timer(c, (unsigned)secs * 1000);
	}
	free(d);
	return leave(r);
}

static enum dp_app_ret app_startmoh(struct dp_chan *chan, const char *data)
{
	if (M->moh(dp_chan_call(chan), data))
		warn_at(chan, "unable to start music on hold class '%s'", data);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_stopmoh(struct dp_chan *chan, const char *data)
{
	(void)data;
	M->stop(dp_chan_call(chan));
	return DP_APP_NEXT;
}

/* -------------------------------------------------------- functions */

static void fn_channel_read(struct dp_chan *chan, char *args, char *out, size_t size)
{
	const struct dp_chan_ops *ops;
	const char *v = NULL;

	out[0] = '\0';
	if (!chan)
		return;
	ops = dp_chan_ops(chan);
	if (!strcasecmp(args, "language") || !strcasecmp(args, "musicclass"))
		v = M->get(dp_chan_call(chan), args);
	else if (!strcasecmp(args, "name") && ops->get)
		v = ops->get(dp_chan_call(chan), "channel");
	else if (!strcasecmp(args, "uniqueid") && ops->get)
		v = ops->get(dp_chan_call(chan), "uniqueid");
	else if (!strcasecmp(args, "peername") && ops->get)
		v = ops->get(dp_chan_call(chan), "peer");
	else if (!strcasecmp(args, "state"))
		v = M->answered(dp_chan_call(chan)) ? "Up" : "Ring";
	else
		warn_at(chan, "CHANNEL(%s): not an item Tandem knows", args);
	snprintf(out, size, "%s", v ? v : "");
}

static int fn_channel_write(struct dp_chan *chan, char *args, const char *value)
{
	if (!chan)
		return EINVAL;
	if (strcasecmp(args, "language") && strcasecmp(args, "musicclass")) {
		warn_at(chan, "CHANNEL(%s) cannot be set (only language and musicclass)", args);
		return EINVAL;
	}
	return M->set(dp_chan_call(chan), args, value);
}

static bool timeout_which(const char *args, enum dp_timeout *t)
{
	if (args[0] == 'd' || args[0] == 'D')
		*t = DP_TIMEOUT_DIGIT;
	else if (args[0] == 'r' || args[0] == 'R')
		*t = DP_TIMEOUT_RESPONSE;
	else
		return false;
	return true;
}

static void fn_timeout_read(struct dp_chan *chan, char *args, char *out, size_t size)
{
	enum dp_timeout t;

	out[0] = '\0';
	if (!chan)
		return;
	if (timeout_which(args, &t))
		snprintf(out, size, "%.3f", dp_chan_timeout(chan, t) / 1000.0);
	else if (args[0] == 'a' || args[0] == 'A')
		snprintf(out, size, "0");   /* no absolute timeout is ever set */
	else
		warn_at(chan, "TIMEOUT(%s): expected digit, response or absolute", args);
}

static int fn_timeout_write(struct dp_chan *chan, char *args, const char *value)
{
	enum dp_timeout t;
	double s = atof(value);

	if (!chan)
		return EINVAL;
	if (!timeout_which(args, &t)) {
		warn_at(chan, "TIMEOUT(%s): only digit and response can be set", args);
		return EINVAL;
	}
	dp_chan_set_timeout(chan, t, s > 0 ? (unsigned)(s * 1000) : 0);
	return 0;
}

/* ------------------------------------------------------------ init */

void call_apps_test_ops(const struct call_play_ops *ops)
{
	M = ops ? ops : &call_play_ops;
}

void call_apps_init(void)
{
	static const struct { const char *name; dp_app_h *h; } apps[] = {
		{ "Playback", app_playback }, { "Background", app_background },
		{ "WaitExten", app_waitexten }, { "Read", app_read },
		{ "SayDigits", app_saydigits }, { "SayNumber", app_saynumber },
		{ "MusicOnHold", app_musiconhold }, { "StartMusicOnHold", app_startmoh },
		{ "StopMusicOnHold", app_stopmoh },
	};

	/* EEXIST on a second call: nothing to do */
	for (size_t i = 0; i < sizeof(apps) / sizeof(apps[0]); i++)
		(void)dp_app_register(apps[i].name, apps[i].h);
	(void)dp_func_register("CHANNEL", fn_channel_read, fn_channel_write);
	(void)dp_func_register("TIMEOUT", fn_timeout_read, fn_timeout_write);
}
