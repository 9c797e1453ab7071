/**
 * @file call_dp.c  The dialplan drives a call: the ops the engine calls
 * (src/dialplan/exec.h) implemented on the call's SIP legs.
 *
 * The engine runs inside dp_chan_run()/dp_chan_resume() and may call the
 * ops; an op never calls back into the engine, and never frees the call:
 * hangup() only records how the caller is to be answered, and step()
 * ends the call once the engine has returned.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "pbx/call_int.h"
#include "pbx/call_pickup.h"
#include "pbx/pbx.h"

/* Q.850 cause -> SIP status for a call not answered (RFC 3398 table). */
static uint16_t status_for_cause(const struct call *c, int cause)
{
	switch (cause) {
	case 1:  return 404;   /* unallocated number: no such extension */
	case 17: return 486;   /* user busy */
	case 18: case 19: return 480;   /* no answer */
	case 21: return 403;   /* call rejected */
	case 34: case 38: case 41: case 42: return 503;   /* congestion */
	default:
		/* a plain Hangup() after a failed Dial answers with the callee's
		 * reason, as Asterisk's channel hangup cause does */
		if (c->last_status == 486 || c->last_status == 600)
			return 486;
		if (c->last_status == 503)
			return 503;
		return 480;
	}
}

static void step(struct call *c, enum dp_run r)
{
	if (r == DP_WAIT)
		return;
	c->ending = true;
	call_end(c, c->end_status ? c->end_status : 480);
}

/* ------------------------------------------------------------------ ops */

static int op_answer(void *call)
{
	struct call *c = call;

	if (c->answered)
		return 0;
	if (!c->relay) {   /* call_media_setup() gives every call one */
		log_warn("call %u: Answer() without a media relay: hanging up", c->id);
		return -1;
	}
	/* with the caller's offer: our answer; without (late offer): our
	 * offer in the 200, the caller's answer in its ACK (call_media.c) */
	call_answer_caller(c, NULL);
	call_play_start(c);   /* from now on the caller's keys are kept for the apps */
	return 0;
}

static int op_hangup(void *call, int cause)
{
	struct call *c = call;

	if (!c->end_status)
		c->end_status = status_for_cause(c, cause);
	return 0;
}

static int op_progress(void *call)
{
	struct call *c = call;

	sip_strans_reply(c->st, 183, NULL, NULL, NULL, NULL, 0);
	return 0;
}

static int op_ringing(void *call)
{
	struct call *c = call;

	sip_strans_reply(c->st, 180, NULL, NULL, NULL, NULL, 0);
	return 0;
}

static void end_now(void *arg)
{
	struct call *c = arg;

	call_end(c, c->end_status);   /* already answered: sets the record only */
}

/* Busy()/Congestion(): the caller hears it at once (chan_sip sends the
 * final response straight away and soft-hangs-up the channel, so the
 * app's timeout does not keep the call); the call then ends, on a zero
 * timer since an op must not end the call under the engine's feet. */
static int indicate_final(struct call *c, uint16_t status)
{
	c->end_status = status;
	if (!c->answered) {
		sip_strans_reply(c->st, status, NULL, NULL, NULL, NULL, 0);
		c->final_sent = true;
		tmr_start(&c->wait_tmr, 0, end_now, c);
	}
	return 0;
}

static int op_busy(void *call)
{
	return indicate_final(call, 486);
}

static int op_congestion(void *call)
{
	return indicate_final(call, 503);
}

static int op_dial(void *call, const char *dialstring, unsigned timeout_s,
		   const char *options)
{
	struct call *c = call;

	/* g: the engine; m: music instead of ringing; t T r: not yet */
	if (call_dial(c, dialstring, timeout_s) != 0)
		return -1;   /* nothing could be dialled: CHANUNAVAIL */
	call_play_dial(c, options);
	c->dp_waiting_dial = true;
	return 0;
}

static void wait_done(void *arg)
{
	struct call *c = arg;

	step(c, dp_chan_resume(c->dp, DP_RES_CONTINUE));
}

static int op_wait(void *call, unsigned ms)
{
	struct call *c = call;

	if (c->final_sent)
		return 0;   /* the caller has its final answer: end_now() is due */
	if (ms)
		tmr_start(&c->wait_tmr, ms, wait_done, c);
	return 0;   /* ms 0: until the caller hangs up */
}

static const char *op_get(void *call, const char *what)
{
	struct call *c = call;

	if (!strcmp(what, "callerid_num"))
		return c->cidnum;
	if (!strcmp(what, "callerid_name"))
		return c->cidname;
	if (!strcmp(what, "channel"))
		return c->channel;
	if (!strcmp(what, "peer"))
		return c->caller;
	if (!strcmp(what, "uniqueid"))
		return cdr_uniqueid(c->cdr);
	return NULL;
}

/* Set(CDR(userfield)=...), Set(CALLERID(...)=...) reach the call here. */
static int op_set(void *call, const char *what, const char *value)
{
	struct call *c = call;

	if (!strcasecmp(what, "cdr:userfield")) {
		cdr_userfield(c->cdr, value);
		return 0;
	}
	if (!strcmp(what, "callerid_num")) {
		snprintf(c->cidnum, sizeof(c->cidnum), "%s", value);
		return 0;
	}
	if (!strcmp(what, "callerid_name")) {
		snprintf(c->cidname, sizeof(c->cidname), "%s", value);
		return 0;
	}
	if (!strncasecmp(what, "cdr:", 4)) {
		log_warn("call %u: Set(CDR(%s)): only userfield can be set", c->id, what + 4);
		return EINVAL;
	}
	return EINVAL;
}

static const struct dp_chan_ops ops = {
	.answer = op_answer, .hangup = op_hangup, .progress = op_progress,
	.ringing = op_ringing, .busy = op_busy, .congestion = op_congestion,
	.dial = op_dial, .wait = op_wait, .get = op_get, .set = op_set,
};

/* ------------------------------------------------------------- driving */

int call_dp_start(struct call *c)
{
	struct dialplan *dp = pbx_dialplan();
	int pickup = call_pickup_exten(c);   /* Asterisk: before the dialplan */

	if (pickup >= 0)
		return pickup;
	if (!dp || !dialplan_has_context(dp, c->context)) {
		log_notice("call %u: context '%s' does not exist (peer %s): 404", c->id,
			   c->context, c->caller);
		return 404;
	}
	if (dp_chan_alloc(&c->dp, dp, &ops, c, c->context, c->exten, 1) != 0)
		return 500;
	step(c, dp_chan_run(c->dp));
	return 0;
}

void call_dp_dial_done(struct call *c, const char *dialstatus)
{
	call_play_dial_end(c);
	if (!c->dp || !c->dp_waiting_dial)
		return;
	c->dp_waiting_dial = false;
	dp_chan_var_set(c->dp, "DIALSTATUS", dialstatus);
	step(c, dp_chan_resume(c->dp, DP_RES_CONTINUE));
}

void call_dp_caller_gone(struct call *c)
{
	if (!c->dp || c->ending)
		return;
	c->ending = true;
	tmr_cancel(&c->wait_tmr);
	dp_chan_hangup(c->dp, 16);
}

void call_dp_resume(struct call *c)
{
	if (c->dp && !c->ending)
		step(c, dp_chan_resume(c->dp, DP_RES_CONTINUE));
}
