/**
 * @file exec.h  Running the dialplan for one call.
 *
 * A `struct dp_chan` is one call's dialplan state: where it is
 * (context, extension, priority), its channel variables, the Macro/Gosub
 * stack and a loop counter. The call layer supplies `struct dp_chan_ops`
 * and drives it:
 *
 *   dp_chan_alloc(&ch, dp, &ops, call, "from-tfg", "101", 1);
 *   switch (dp_chan_run(ch)) {
 *   case DP_WAIT:   an app (Dial, Wait, ...) started something; when it
 *                   is done call dp_chan_resume(ch, DP_RES_CONTINUE) (or
 *                   DP_RES_HANGUP when the caller went away), which runs
 *                   on and returns the same three values;
 *   case DP_HANGUP: the dialplan ended; the `h` extension has run;
 *   case DP_ERROR:  out of memory or misuse; treat as hang-up.
 *   }
 *   dp_chan_free(ch);
 *
 * Synchronous applications run inline; asynchronous ones call an op and
 * return DP_WAIT. Ops must not call back into dp_chan_* from inside the
 * op (schedule it for later in the loop turn instead).
 *
 * Hang-up: when the dialplan ends the call (Hangup, Busy, fall-through,
 * unknown application or extension, loop cut) the engine runs `h` and
 * then calls ops->hangup once with the cause. When the call layer reports
 * the caller gone (dp_chan_hangup or DP_RES_HANGUP) it runs `h` only;
 * an application waiting then has its resume handler called with
 * DP_RES_HANGUP first, so it can record how it ended.
 *
 * Unknown application: warned with the FILE:LINE of the priority and the
 * call hangs up, as Asterisk does. Unknown extension: `i` if the context
 * has it (INVALID_EXTEN set), else hang up. A dialplan that runs
 * DP_LOOP_MAX priorities without waiting is cut with
 * "FILE:LINE: dialplan loop cut after N steps" and hangs up.
 */
#ifndef TANDEM_DP_EXEC_H
#define TANDEM_DP_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct dialplan;
struct dp_chan;

#define DP_LOOP_MAX 10000    /* priorities run without a wait */
#define DP_STACK_MAX 64      /* Macro + Gosub frames */

enum dp_run { DP_WAIT = 0, DP_HANGUP = 1, DP_ERROR = 2 };
enum dp_res { DP_RES_CONTINUE = 0, DP_RES_HANGUP = 1 };

struct dp_chan_ops {
	int (*answer)(void *call);
	int (*hangup)(void *call, int cause);          /* Q.850 cause */
	int (*progress)(void *call);
	int (*ringing)(void *call);
	int (*busy)(void *call);
	int (*congestion)(void *call);
	/* Start dialing. dialstring e.g. "SIP/101-tfg&SIP/trunk-tfg/346...",
	 * timeout_s 0 = none, options raw ("tTr", "m(class)g", "" ).
	 * 0 = started: resume later after setting DIALSTATUS (ANSWER, BUSY,
	 * NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL) with dp_chan_var_set;
	 * non-zero = could not start (DIALSTATUS=CHANUNAVAIL, go on). */
	int (*dial)(void *call, const char *dialstring, unsigned timeout_s,
		    const char *options);
	/* Resume after ms (0 = start to wait for the caller to hang up). */
	int (*wait)(void *call, unsigned ms);
	/* Read a call attribute: "callerid_num", "callerid_name", "channel",
	 * "uniqueid", "language", "peer", "cdr:FIELD", ... NULL = unknown. */
	const char *(*get)(void *call, const char *what);
	/* Optional: write one ("cdr:userfield", "callerid_num", ...). */
	int (*set)(void *call, const char *what, const char *value);
	/* Optional: called before each priority runs (debug, tests). */
	void (*trace)(void *call, const char *context, const char *exten,
		      int prio, const char *app, const char *data);
};

/**
 * New dialplan state for a call that starts at context,exten,prio. Takes
 * a reference on dp (a reload does not disturb running calls). The
 * caller id is read once from ops->get("callerid_num"/"callerid_name").
 */
int dp_chan_alloc(struct dp_chan **out, struct dialplan *dp,
		  const struct dp_chan_ops *ops, void *call, const char *context,
		  const char *exten, int prio);
void dp_chan_free(struct dp_chan *chan);

/** Run until the dialplan waits or ends. */
enum dp_run dp_chan_run(struct dp_chan *chan);
/** The awaited operation finished; run on. EINVAL-like DP_ERROR when not waiting. */
enum dp_run dp_chan_resume(struct dp_chan *chan, enum dp_res res);
/** The caller hung up while waiting: set HANGUPCAUSE, run `h`, end. */
enum dp_run dp_chan_hangup(struct dp_chan *chan, int cause);

/**
 * Channel variables. Names are case-sensitive; "_X" and "__X" set X and
 * mark it inherited by one or all generations of outgoing legs. Setting
 * "" deletes. Functions work on both sides: "CALLERID(num)",
 * "GLOBAL(x)", "CDR(userfield)". Returns 0 or ENOMEM/EINVAL.
 */
int dp_chan_var_set(struct dp_chan *chan, const char *name, const char *value);
/** Value of X (channel variable, then global), or NULL. Not functions. */
const char *dp_chan_var_get(const struct dp_chan *chan, const char *name);
/** Copy parent's inheritable variables into child (an outgoing leg):
 * "_X" arrives as "X", "__X" stays "__X". */
int dp_chan_inherit(struct dp_chan *child, const struct dp_chan *parent);
/** Call h(name_as_child_gets_it, value, arg) for each inheritable variable. */
void dp_chan_inheritable(const struct dp_chan *chan,
			 void (*h)(const char *name, const char *value, void *arg),
			 void *arg);

/** Substitute ${...} and $[...] in `in` as the dialplan would. */
void dp_chan_subst(struct dp_chan *chan, const char *in, char *out, size_t size);

/** Where the dialplan is (for CDR dcontext/lastapp, tandemctl calls). */
const char *dp_chan_context(const struct dp_chan *chan);
const char *dp_chan_exten(const struct dp_chan *chan);
int dp_chan_priority(const struct dp_chan *chan);
/** Last application run and its substituted data ("" before any). */
const char *dp_chan_lastapp(const struct dp_chan *chan);
const char *dp_chan_lastdata(const struct dp_chan *chan);
/** Caller id as the dialplan left it (Set(CALLERID(num)=...)). */
const char *dp_chan_cid_num(const struct dp_chan *chan);
const char *dp_chan_cid_name(const struct dp_chan *chan);

/** The call pointer and ops given to dp_chan_alloc (for applications). */
void *dp_chan_call(const struct dp_chan *chan);
const struct dp_chan_ops *dp_chan_ops(const struct dp_chan *chan);

/** Tests: evaluate time conditions at t instead of the dialplan's clock
 * (dialplan_now(), dialplan.h) (0 = back to that clock). */
void dp_chan_set_time(struct dp_chan *chan, time_t t);

/* ------------------------------------------------------------------ */
/* Applications                                                        */

/** What an application tells the engine. */
enum dp_app_ret {
	DP_APP_NEXT = 0,   /* go on at the next priority */
	DP_APP_JUMP,       /* it moved the channel (dp_chan_goto): run there */
	DP_APP_WAIT,       /* it started something: wait for dp_chan_resume */
	DP_APP_HANGUP,     /* end the call (cause in HANGUPCAUSE or default 16) */
};

/** data is already substituted. */
typedef enum dp_app_ret (dp_app_h)(struct dp_chan *chan, const char *data);
/** Called on dp_chan_resume for the app that returned DP_APP_WAIT. */
typedef enum dp_app_ret (dp_resume_h)(struct dp_chan *chan, enum dp_res res);
/** Load-time argument check: warn "FILE:LINE: ..." on likely mistakes. */
typedef void (dp_app_check_h)(const char *file, unsigned line,
			      const char *app, const char *data);

/**
 * Split an application's data in place at its top-level commas (commas
 * inside parentheses stay), trimming blanks, into at most max arguments;
 * the ones not given point to "". Returns how many were given.
 */
size_t dp_args_split(char *d, char **v, size_t max);
/** Register an application (name case-insensitive). EEXIST when taken. */
int dp_app_register(const char *name, dp_app_h *h);
/** Register a load-time argument check (the app may come later). */
int dp_app_register_check(const char *name, dp_app_check_h *h);
void dp_app_unregister(const char *name);
/** Set on DP_APP_WAIT to be called when the call layer resumes. */
void dp_chan_on_resume(struct dp_chan *chan, dp_resume_h *h);
/**
 * Move to "[[context,]exten,]priority" (priority a number or label, as
 * Goto). Returns DP_APP_JUMP, or DP_APP_HANGUP when the label is unknown
 * (Asterisk's Goto fails the call).
 */
enum dp_app_ret dp_chan_goto(struct dp_chan *chan, const char *where);
/** The FILE:LINE of the priority running now ("?:0" outside one). */
const char *dp_chan_file(const struct dp_chan *chan, unsigned *line);

/* ------------------------------------------------------------------ */
/* Digits dialled inside an application (Background, WaitExten, Read)  */

enum dp_timeout { DP_TIMEOUT_DIGIT, DP_TIMEOUT_RESPONSE };
#define DP_TIMEOUT_DIGIT_MS    5000    /* Asterisk's defaults */
#define DP_TIMEOUT_RESPONSE_MS 10000

/** TIMEOUT(digit) (between digits) and TIMEOUT(response) (for the first)
 * of the channel, in milliseconds. */
unsigned dp_chan_timeout(const struct dp_chan *chan, enum dp_timeout t);
void dp_chan_set_timeout(struct dp_chan *chan, enum dp_timeout t, unsigned ms);
/** Where the pbx loop matches dialled digits: MACRO_CONTEXT inside a
 * Macro (the digits leave it), else the channel's context. */
const char *dp_chan_digit_context(const struct dp_chan *chan);
/** exten@context has a priority 1 (ast_exists_extension); and
 * dialplan_canmatch / dialplan_matchmore, all for the channel (its
 * caller id, its clock). */
bool dp_chan_exists(const struct dp_chan *chan, const char *context, const char *exten);
bool dp_chan_canmatch(const struct dp_chan *chan, const char *context, const char *digits);
bool dp_chan_matchmore(const struct dp_chan *chan, const char *context, const char *digits);
/**
 * The caller finished dialling digits in an application: go to
 * digits@context priority 1 when it exists; else to `i` in context with
 * INVALID_EXTEN set; else warn and hang up. digits "" is a timeout: `t`,
 * else warn and hang up. Returns DP_APP_JUMP or DP_APP_HANGUP.
 */
enum dp_app_ret dp_chan_goto_digits(struct dp_chan *chan, const char *context,
				    const char *digits);
/**
 * WaitExten timed out (pbx_builtin_waitexten): DP_APP_NEXT when the next
 * priority exists, else DP_APP_JUMP to `t`, else a warning and
 * DP_APP_HANGUP.
 */
enum dp_app_ret dp_chan_response_timeout(struct dp_chan *chan);

#define DP_DIGITS_MAX 80

/** Asterisk's collect_digits, I/O-free: the digits of one extension. */
struct dp_collect {
	char context[256];
	char digits[DP_DIGITS_MAX];
	size_t n;
};
/**
 * The first digit, dialled in context. True when an extension could
 * still match more digits: wait TIMEOUT(digit) for the next and give it
 * to dp_collect_digit() (same answer); when false, or when the wait ends
 * without a digit, dp_collect_end() goes where the digits lead
 * (dp_chan_goto_digits).
 */
bool dp_collect_start(struct dp_collect *dc, struct dp_chan *chan, const char *context,
		      char digit);
bool dp_collect_digit(struct dp_collect *dc, struct dp_chan *chan, char digit);
enum dp_app_ret dp_collect_end(struct dp_collect *dc, struct dp_chan *chan);

/* ------------------------------------------------------------------ */
/* Functions                                                           */

/** Read ${NAME(args)}: args is what stands between the parentheses,
 * substituted, writable; write a NUL-terminated result into out (size >
 * 0). chan is NULL when only globals are substituted. */
typedef void (dp_func_read_h)(struct dp_chan *chan, char *args, char *out,
			      size_t size);
/** Write Set(NAME(args)=value): 0 or an errno value (warn at the caller's
 * FILE:LINE, dp_chan_file). */
typedef int (dp_func_write_h)(struct dp_chan *chan, char *args,
			      const char *value);
/** Register a dialplan function (name case-insensitive); either handler may
 * be NULL (read-only or write-only). EEXIST when taken, ENOSPC when full.
 * The functions subst.c implements itself come first. */
int dp_func_register(const char *name, dp_func_read_h *rd, dp_func_write_h *wr);
/** Now, as the dialplan sees it: dialplan_now() (dialplan.h: the real
 * clock, or tandemd --fake-time's), or the time dp_chan_set_time gave.
 * Every time condition and time function of the dialplan reads this. */
time_t dp_chan_now(const struct dp_chan *chan);

#endif
