/**
 * @file exec.c  The per-call dialplan engine (what Asterisk's
 * __ast_pbx_run and app_macro/app_stack do), turned inside out so that it
 * runs on the event loop: applications that take time return
 * DP_APP_WAIT and the call layer resumes the channel later.
 *
 * The run loop: find the priority at (context, exten, priority) through
 * includes; run its application with substituted data; move on. A
 * missing priority ends a Macro normally (back to the caller's next
 * priority, MACRO_OFFSET honoured), sends an unknown extension to `i`,
 * or ends the call (fall-through: busy/congestion cause from DIALSTATUS,
 * as Asterisk's autofallthrough). After an application, leaving the
 * macro's context (Goto elsewhere) drops the macro frame but keeps the
 * new place, as app_macro does.
 *
 * Digits dialled inside an application (Background, WaitExten): in
 * Asterisk the app returns the first digit and the pbx loop collects the
 * rest (collect_digits: wait TIMEOUT(digit) for another while some
 * extension could still match more) and then goes to the extension, or
 * `i` with INVALID_EXTEN, or hangs up. Here the app waits for the digits
 * on the event loop and the same rules are dp_collect_*() and
 * dp_chan_goto_digits(); WaitExten's timeout is dp_chan_response_timeout().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/mem.h"
#include "dialplan/dp_int.h"

/* ------------------------------------------------------------------ */
/* Variables                                                           */

static const char *base_name(const char *n)
{
	if (n[0] == '_')
		n += n[1] == '_' ? 2 : 1;
	return n;
}

static struct dp_var **var_slot(struct dp_var **head, const char *name)
{
	const char *b = base_name(name);
	struct dp_var **pv;

	for (pv = head; *pv; pv = &(*pv)->next)
		if (!strcmp(base_name((*pv)->name), b))
			return pv;
	return NULL;
}

static int var_put(struct dp_var **head, const char *name, const char *value)
{
	struct dp_var **pv = var_slot(head, name), *v;

	if (pv) {
		v = *pv;
		*pv = v->next;
		v->next = NULL;
		dp_vars_free(v);
	}
	if (!value || !*value)
		return 0;
	v = calloc(1, sizeof(*v));
	if (!v || !(v->name = dp_strdup(name)) || !(v->value = dp_strdup(value))) {
		dp_vars_free(v);
		return ENOMEM;
	}
	/* append: keeps the order variables were set in */
	for (pv = head; *pv; pv = &(*pv)->next)
		;
	*pv = v;
	return 0;
}

const char *dp_chan_var_get(const struct dp_chan *chan, const char *name)
{
	struct dp_var **pv = var_slot((struct dp_var **)&chan->vars, name);

	if (pv)
		return (*pv)->value;
	return dialplan_global(chan->dp, name);
}

int dp_chan_var_set(struct dp_chan *chan, const char *name, const char *value)
{
	size_t n = strlen(name);

	if (!n)
		return EINVAL;
	if (name[n - 1] == ')' && strchr(name, '('))
		return dp_func_write(chan, name, value);
	return var_put(&chan->vars, name, value);
}

void dp_chan_inheritable(const struct dp_chan *chan,
			 void (*h)(const char *name, const char *value, void *arg),
			 void *arg)
{
	const struct dp_var *v;

	for (v = chan->vars; v; v = v->next) {
		if (v->name[0] != '_')
			continue;
		h(v->name[1] == '_' ? v->name : v->name + 1, v->value, arg);
	}
}

struct inh {
	struct dp_chan *child;
	int rc;
};

static void inherit_one(const char *name, const char *value, void *arg)
{
	struct inh *i = arg;

	if (!i->rc)
		i->rc = var_put(&i->child->vars, name, value);
}

int dp_chan_inherit(struct dp_chan *child, const struct dp_chan *parent)
{
	struct inh i = { child, 0 };

	dp_chan_inheritable(parent, inherit_one, &i);
	return i.rc;
}

/* ------------------------------------------------------------------ */
/* Frames (Macro, Gosub)                                               */

int dp_frame_push(struct dp_chan *chan, bool macro, const char *macro_ctx)
{
	struct dp_frame *f;

	if (chan->depth >= DP_STACK_MAX)
		return E2BIG;
	f = calloc(1, sizeof(*f));
	if (!f)
		return ENOMEM;
	f->macro = macro;
	dp_strlcpy(f->ctx, chan->context, sizeof(f->ctx));
	dp_strlcpy(f->exten, chan->exten, sizeof(f->exten));
	f->prio = chan->prio;
	if (macro_ctx)
		dp_strlcpy(f->macro_ctx, macro_ctx, sizeof(f->macro_ctx));
	f->up = chan->top;
	chan->top = f;
	chan->depth++;
	return 0;
}

int dp_frame_setvar(struct dp_chan *chan, const char *name, const char *value)
{
	struct dp_frame *f = chan->top;
	struct dp_var *s;

	if (f && !var_slot(&f->saved, name)) {
		const char *old = NULL;
		struct dp_var **pv = var_slot(&chan->vars, name);

		if (pv)
			old = (*pv)->value;
		s = calloc(1, sizeof(*s));
		if (!s || !(s->name = dp_strdup(pv ? (*pv)->name : name)) ||
		    (old && !(s->value = dp_strdup(old)))) {
			dp_vars_free(s);
			return ENOMEM;
		}
		s->next = f->saved;
		f->saved = s;
	}
	return var_put(&chan->vars, name, value);
}

void dp_frame_pop(struct dp_chan *chan)
{
	struct dp_frame *f = chan->top;
	struct dp_var *s;

	if (!f)
		return;
	for (s = f->saved; s; s = s->next)
		var_put(&chan->vars, s->name, s->value);
	dp_vars_free(f->saved);
	chan->top = f->up;
	chan->depth--;
	free(f);
}

void dp_chan_set_where(struct dp_chan *chan, const char *ctx, const char *exten,
		       int prio)
{
	if (ctx && ctx != chan->context)
		dp_strlcpy(chan->context, ctx, sizeof(chan->context));
	if (exten && exten != chan->exten)
		dp_strlcpy(chan->exten, exten, sizeof(chan->exten));
	chan->prio = prio;
}

void dp_macro_return(struct dp_chan *chan)
{
	struct dp_frame *f = chan->top;
	const char *off = dp_chan_var_get(chan, "MACRO_OFFSET");
	char ctx[DP_NAME_MAX], exten[DP_NAME_MAX];
	int prio, offset = 0;
	bool has_off = off && sscanf(off, "%30d", &offset) == 1;

	dp_strlcpy(ctx, f->ctx, sizeof(ctx));
	dp_strlcpy(exten, f->exten, sizeof(exten));
	prio = f->prio;
	dp_frame_pop(chan);
	dp_chan_set_where(chan, ctx, exten, prio);
	if (has_off && dp_exten_exists(chan->dp, ctx, exten, prio + offset + 1,
				       chan->cid_num, dp_chan_now(chan)))
		chan->prio += offset;
	chan->prio++;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

static void chan_destroy(void *arg)
{
	struct dp_chan *chan = arg;

	while (chan->top)
		dp_frame_pop(chan);
	dp_vars_free(chan->vars);
	free(chan->lastdata);
	mem_deref(chan->dp);
}

int dp_chan_alloc(struct dp_chan **out, struct dialplan *dp,
		  const struct dp_chan_ops *ops, void *call, const char *context,
		  const char *exten, int prio)
{
	struct dp_chan *chan;
	const char *s;

	if (!dp || !ops || !context || !exten)
		return EINVAL;
	chan = mem_zalloc(sizeof(*chan), chan_destroy);
	if (!chan)
		return ENOMEM;
	chan->dp = mem_ref(dp);
	chan->ops = ops;
	chan->call = call;
	chan->dtimeout_ms = DP_TIMEOUT_DIGIT_MS;
	chan->rtimeout_ms = DP_TIMEOUT_RESPONSE_MS;
	dp_chan_set_where(chan, context, exten, prio > 0 ? prio : 1);
	if (ops->get && (s = ops->get(call, "callerid_num")))
		dp_strlcpy(chan->cid_num, s, sizeof(chan->cid_num));
	if (ops->get && (s = ops->get(call, "callerid_name")))
		dp_strlcpy(chan->cid_name, s, sizeof(chan->cid_name));
	*out = chan;
	return 0;
}

void dp_chan_free(struct dp_chan *chan)
{
	mem_deref(chan);
}

time_t dp_chan_now(const struct dp_chan *chan)
{
	return chan->now_override ? chan->now_override : dialplan_now();
}

void dp_chan_set_time(struct dp_chan *chan, time_t t)
{
	chan->now_override = t;
}

const char *dp_chan_context(const struct dp_chan *chan) { return chan->context; }
const char *dp_chan_exten(const struct dp_chan *chan) { return chan->exten; }
int dp_chan_priority(const struct dp_chan *chan) { return chan->prio; }
const char *dp_chan_lastapp(const struct dp_chan *chan) { return chan->lastapp; }
const char *dp_chan_lastdata(const struct dp_chan *chan)
{
	return chan->lastdata ? chan->lastdata : "";
}
const char *dp_chan_cid_num(const struct dp_chan *chan) { return chan->cid_num; }
const char *dp_chan_cid_name(const struct dp_chan *chan) { return chan->cid_name; }
void *dp_chan_call(const struct dp_chan *chan) { return chan->call; }
const struct dp_chan_ops *dp_chan_ops(const struct dp_chan *chan) { return chan->ops; }

void dp_chan_on_resume(struct dp_chan *chan, dp_resume_h *h)
{
	chan->resume_h = h;
}

const char *dp_chan_file(const struct dp_chan *chan, unsigned *line)
{
	if (!chan->cur) {
		*line = 0;
		return "?";
	}
	*line = chan->cur->line;
	return chan->cur->file;
}

void dp_chan_subst(struct dp_chan *chan, const char *in, char *out, size_t size)
{
	dp_subst(chan, chan->dp, in, out, size);
}

/* ------------------------------------------------------------------ */
/* The run loop                                                        */

enum step { ST_GO, ST_WAIT, ST_END };

static enum dp_app_ret exec_prio(struct dp_chan *chan, const struct dp_prio *p)
{
	char *data = malloc(DP_BUF);
	dp_app_h *h;
	enum dp_app_ret r;

	if (!data)
		return DP_APP_HANGUP;
	dp_subst(chan, chan->dp, p->data, data, DP_BUF);
	if (chan->ops->trace)
		chan->ops->trace(chan->call, chan->context, chan->exten, chan->prio,
				 p->app, data);
	dp_strlcpy(chan->lastapp, p->app, sizeof(chan->lastapp));
	free(chan->lastdata);
	chan->lastdata = data;
	h = dp_app_find(p->app);
	if (!h) {
		dp_warn("%s:%u: no application '%s' (extension %s, priority %d in [%s]): hanging up",
			p->file, p->line, p->app, chan->exten, chan->prio, chan->context);
		return DP_APP_HANGUP;
	}
	chan->resume_h = NULL;
	r = h(chan, data);
	return r;
}

static void after_app(struct dp_chan *chan)
{
	struct dp_frame *f = chan->top;

	if (f && f->macro && strcmp(chan->context, f->macro_ctx)) {
		log_debug("dialplan: jumping out of macro %s to %s,%s,%d", f->macro_ctx,
			  chan->context, chan->exten, chan->prio);
		dp_frame_pop(chan);
	}
}

static int fallthrough_cause(const struct dp_chan *chan)
{
	const char *st = dp_chan_var_get(chan, "DIALSTATUS");

	if (st && !strcasecmp(st, "BUSY"))
		return 17;
	if (st && (!strcasecmp(st, "CONGESTION") || !strcasecmp(st, "CHANUNAVAIL")))
		return 34;
	return 16;
}

/* No priority where the channel is. */
static enum step missing(struct dp_chan *chan)
{
	struct dp_frame *f = chan->top;
	time_t now = dp_chan_now(chan);

	if (f && f->macro && !strcmp(chan->context, f->macro_ctx)) {
		dp_macro_return(chan);
		return ST_GO;
	}
	if (chan->in_h)
		return ST_END;
	if (dp_exten_exists(chan->dp, chan->context, chan->exten, 1, chan->cid_num, now)) {
		if (!chan->cause)
			chan->cause = fallthrough_cause(chan);
		return ST_END;
	}
	if (strcmp(chan->exten, "i") &&
	    dp_exten_exists(chan->dp, chan->context, "i", 1, chan->cid_num, now)) {
		var_put(&chan->vars, "INVALID_EXTEN", chan->exten);
		dp_chan_set_where(chan, NULL, "i", 1);
		return ST_GO;
	}
	if (chan->cur)
		dp_warn("%s:%u: sent into invalid extension '%s' in context '%s', but no invalid handler: hanging up",
			chan->cur->file, chan->cur->line, chan->exten, chan->context);
	else if (!dp_context_find(chan->dp, chan->context))
		dp_warn("call to '%s' in context '%s': no such context: hanging up",
			chan->exten, chan->context);
	else
		dp_warn("call to '%s' in context '%s': no such extension and no 'i' extension: hanging up",
			chan->exten, chan->context);
	if (!chan->cause)
		chan->cause = 1;   /* unallocated number */
	return ST_END;
}

static enum step loop(struct dp_chan *chan)
{
	for (;;) {
		const struct dp_prio *p;
		enum dp_app_ret r;

		if (chan->steps++ >= DP_LOOP_MAX) {
			unsigned line;
			const char *file = dp_chan_file(chan, &line);

			dp_warn("%s:%u: dialplan loop cut after %d steps (at %s,%s,%d)",
				file, line, DP_LOOP_MAX, chan->context, chan->exten,
				chan->prio);
			return ST_END;
		}
		p = dp_find(chan->dp, chan->context, chan->exten, chan->prio, NULL,
			    chan->cid_num, dp_chan_now(chan));
		if (!p) {
			if (missing(chan) == ST_END)
				return ST_END;
			continue;
		}
		chan->cur = p;
		r = exec_prio(chan, p);
		switch (r) {
		case DP_APP_NEXT:
			chan->prio++;
			after_app(chan);
			break;
		case DP_APP_JUMP:
			after_app(chan);
			break;
		case DP_APP_WAIT:
			if (chan->in_h) {
				log_debug("dialplan: %s in the h extension does not wait",
					  p->app);
				chan->resume_h = NULL;
				chan->prio++;
				break;
			}
			chan->state = CH_WAIT;
			chan->steps = 0;
			return ST_WAIT;
		case DP_APP_HANGUP:
			return ST_END;
		}
	}
}

/* The call is over: unwind macros, run h, tell the call layer. */
static enum dp_run finish(struct dp_chan *chan)
{
	time_t now = dp_chan_now(chan);

	while (chan->top) {
		struct dp_frame *f = chan->top;

		if (f->macro && !strcmp(chan->context, f->macro_ctx)) {
			char ctx[DP_NAME_MAX], exten[DP_NAME_MAX];
			int prio = f->prio;

			dp_strlcpy(ctx, f->ctx, sizeof(ctx));
			dp_strlcpy(exten, f->exten, sizeof(exten));
			dp_frame_pop(chan);
			dp_chan_set_where(chan, ctx, exten, prio);
		} else {
			dp_frame_pop(chan);
		}
	}
	if (!chan->in_h && dp_exten_exists(chan->dp, chan->context, "h", 1,
					   chan->cid_num, now)) {
		char cause[16];

		chan->in_h = true;
		chan->steps = 0;
		if (!dp_chan_var_get(chan, "HANGUPCAUSE")) {
			snprintf(cause, sizeof(cause), "%d", chan->cause ? chan->cause : 16);
			var_put(&chan->vars, "HANGUPCAUSE", cause);
		}
		dp_chan_set_where(chan, NULL, "h", 1);
		loop(chan);
		while (chan->top)
			dp_frame_pop(chan);
	}
	if (!chan->hung) {
		chan->hung = true;
		if (chan->ops->hangup)
			chan->ops->hangup(chan->call, chan->cause ? chan->cause : 16);
	}
	chan->state = CH_DONE;
	return DP_HANGUP;
}

enum dp_run dp_chan_run(struct dp_chan *chan)
{
	if (!chan || chan->state == CH_WAIT)
		return DP_ERROR;
	if (chan->state == CH_DONE)
		return DP_HANGUP;
	if (loop(chan) == ST_WAIT)
		return DP_WAIT;
	return finish(chan);
}

enum dp_run dp_chan_resume(struct dp_chan *chan, enum dp_res res)
{
	dp_resume_h *h;
	enum dp_app_ret r;

	if (!chan || chan->state != CH_WAIT)
		return DP_ERROR;
	chan->state = CH_IDLE;
	h = chan->resume_h;
	chan->resume_h = NULL;
	if (res == DP_RES_HANGUP)
		chan->hung = true;
	r = h ? h(chan, res) : (res == DP_RES_HANGUP ? DP_APP_HANGUP : DP_APP_NEXT);
	if (chan->hung)
		r = DP_APP_HANGUP;
	switch (r) {
	case DP_APP_NEXT:
		chan->prio++;
		after_app(chan);
		break;
	case DP_APP_JUMP:
		after_app(chan);
		break;
	case DP_APP_WAIT:
		chan->state = CH_WAIT;
		return DP_WAIT;
	case DP_APP_HANGUP:
		return finish(chan);
	}
	return dp_chan_run(chan);
}

enum dp_run dp_chan_hangup(struct dp_chan *chan, int cause)
{
	dp_resume_h *h;
	char buf[16];

	if (!chan)
		return DP_ERROR;
	if (chan->state == CH_DONE)
		return DP_HANGUP;
	h = chan->state == CH_WAIT ? chan->resume_h : NULL;
	chan->hung = true;
	chan->cause = cause;
	chan->resume_h = NULL;
	snprintf(buf, sizeof(buf), "%d", cause);
	var_put(&chan->vars, "HANGUPCAUSE", buf);
	if (h) {   /* the waiting app records it (DIALSTATUS=CANCEL, READSTATUS=HANGUP) */
		chan->state = CH_IDLE;
		(void)h(chan, DP_RES_HANGUP);
	}
	return finish(chan);
}

/* ------------------------------------------------------------------ */
/* Digits dialled inside an application                                */

unsigned dp_chan_timeout(const struct dp_chan *chan, enum dp_timeout t)
{
	return t == DP_TIMEOUT_DIGIT ? chan->dtimeout_ms : chan->rtimeout_ms;
}

void dp_chan_set_timeout(struct dp_chan *chan, enum dp_timeout t, unsigned ms)
{
	if (t == DP_TIMEOUT_DIGIT)
		chan->dtimeout_ms = ms;
	else
		chan->rtimeout_ms = ms;
}

const char *dp_chan_digit_context(const struct dp_chan *chan)
{
	const char *mc = dp_chan_var_get(chan, "MACRO_CONTEXT");

	return mc && *mc ? mc : chan->context;
}

bool dp_chan_canmatch(const struct dp_chan *chan, const char *context, const char *digits)
{
	return dialplan_canmatch(chan->dp, context, digits, chan->cid_num, dp_chan_now(chan));
}

bool dp_chan_matchmore(const struct dp_chan *chan, const char *context, const char *digits)
{
	return dialplan_matchmore(chan->dp, context, digits, chan->cid_num,
				  dp_chan_now(chan));
}

bool dp_chan_exists(const struct dp_chan *chan, const char *context, const char *exten)
{
	return dp_exten_exists(chan->dp, context, exten, 1, chan->cid_num, dp_chan_now(chan));
}

enum dp_app_ret dp_chan_goto_digits(struct dp_chan *chan, const char *context,
				    const char *digits)
{
	unsigned line;
	const char *file = dp_chan_file(chan, &line);
	char ctx[DP_NAME_MAX];

	dp_strlcpy(ctx, context, sizeof(ctx));
	if (*digits && dp_chan_exists(chan, ctx, digits)) {
		dp_chan_set_where(chan, ctx, digits, 1);
		return DP_APP_JUMP;
	}
	if (*digits) {
		if (dp_chan_exists(chan, ctx, "i")) {
			log_info("dialplan: invalid extension '%s' in context '%s'", digits, ctx);
			var_put(&chan->vars, "INVALID_EXTEN", digits);
			dp_chan_set_where(chan, ctx, "i", 1);
			return DP_APP_JUMP;
		}
		dp_warn("%s:%u: invalid extension '%s', but no rule 'i' in context '%s': hanging up",
			file, line, digits, ctx);
		return DP_APP_HANGUP;
	}
	if (dp_chan_exists(chan, ctx, "t")) {
		dp_chan_set_where(chan, ctx, "t", 1);
		return DP_APP_JUMP;
	}
	dp_warn("%s:%u: timeout, but no rule 't' in context '%s': hanging up", file, line, ctx);
	return DP_APP_HANGUP;
}

enum dp_app_ret dp_chan_response_timeout(struct dp_chan *chan)
{
	unsigned line;
	const char *file = dp_chan_file(chan, &line);

	if (dp_exten_exists(chan->dp, chan->context, chan->exten, chan->prio + 1,
			    chan->cid_num, dp_chan_now(chan)))
		return DP_APP_NEXT;
	if (dp_chan_exists(chan, chan->context, "t")) {
		dp_chan_set_where(chan, NULL, "t", 1);
		return DP_APP_JUMP;
	}
	dp_warn("%s:%u: timeout, but no rule 't' in context '%s': hanging up", file, line,
		chan->context);
	return DP_APP_HANGUP;
}

bool dp_collect_start(struct dp_collect *dc, struct dp_chan *chan, const char *context,
		      char digit)
{
	memset(dc, 0, sizeof(*dc));
	dp_strlcpy(dc->context, context, sizeof(dc->context));
	return dp_collect_digit(dc, chan, digit);
}

bool dp_collect_digit(struct dp_collect *dc, struct dp_chan *chan, char digit)
{
	if (dc->n + 1 < sizeof(dc->digits))
		dc->digits[dc->n++] = digit;
	dc->digits[dc->n] = '\0';
	return dc->n + 1 < sizeof(dc->digits) && dp_chan_matchmore(chan, dc->context, dc->digits);
}

enum dp_app_ret dp_collect_end(struct dp_collect *dc, struct dp_chan *chan)
{
	return dp_chan_goto_digits(chan, dc->context, dc->digits);
}
