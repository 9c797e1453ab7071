/**
 * @file dp_int.h  Internals shared by the dialplan files (not for callers
 * outside src/dialplan/).
 */
#ifndef TANDEM_DP_INT_H
#define TANDEM_DP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/hash.h"
#include "dialplan/dialplan.h"
#include "dialplan/exec.h"

#define DP_PRIO_HINT  (-1)
#define DP_BUF        4096   /* substitution buffer, as Asterisk's VAR_BUF_SIZE */
#define DP_NAME_MAX   256    /* context, extension, variable names */
#define DP_INCLUDE_DEPTH 128 /* AST_PBX_MAX_STACK */

/* Time range: times,weekdays,mdays,months[,timezone] (ast_build_timing). */
struct dp_timing {
	uint8_t minmask[24 * 60 / 8];   /* minute of day */
	uint32_t daymask;               /* bit d-1 for day of month d */
	uint16_t monthmask;             /* bit 0 = January */
	uint8_t dowmask;                /* bit 0 = Sunday */
	char *tz;                       /* NULL: local time */
};

struct dp_var {
	char *name;             /* as set, with its _ or __ prefix */
	char *value;
	struct dp_var *next;
};

struct dp_prio {
	int prio;               /* > 0, or DP_PRIO_HINT */
	char *label;            /* or NULL */
	char *app;              /* as written */
	char *data;             /* raw, substituted when run */
	const char *file;       /* points into dialplan->files */
	unsigned line;
};

struct dp_exten {
	char *name;             /* '_' first for patterns, spaces and '-' gone */
	char *cid;              /* caller id match (exten/CID) or NULL */
	struct dp_prio *prios;  /* sorted by prio */
	size_t nprios;
	char *hint;
	const char *file;
	unsigned line;
};

struct dp_include {
	char *name;
	char *timing_spec;      /* as written, or NULL */
	struct dp_timing timing;
	const char *file;
	unsigned line;
};

struct dp_context {
	char *name;
	const char *file;
	unsigned line;
	struct dp_exten **ext;  /* in Asterisk's match order after build */
	size_t next, aext;
	struct dp_include *inc;
	size_t ninc;
	char **ignorepats;
	size_t nign;
	struct hash_le le;
};

struct dialplan {
	struct dp_context **ctx;  /* file order */
	size_t nctx;
	struct hash ctxh;
	struct dp_var *globals;
	char **files;
	size_t nfiles;
};

/* find.c */
uint32_t dp_name_hash(const char *s);
/** Priority prio (or label) of e itself, or NULL. */
const struct dp_prio *dp_prio_in(const struct dp_exten *e, int prio,
				 const char *label);

/* dialplan.c */
void dp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct dp_context *dp_context_find(const struct dialplan *dp, const char *name);
/** The priority prio (or label when label != NULL) of exten in context,
 * looked up as Asterisk does (best match here, then includes). */
const struct dp_prio *dp_find(const struct dialplan *dp, const char *context,
			      const char *exten, int prio, const char *label,
			      const char *cid, time_t now);
int dp_global_set(struct dialplan *dp, const char *name, const char *value);
void dp_vars_free(struct dp_var *v);
bool dp_exten_exists(const struct dialplan *dp, const char *context,
		     const char *exten, int prio, const char *cid, time_t now);

/* pattern.c */
/** Copy an extension name without spaces and '-' (outside []). */
void dp_ext_normalize(char *dst, size_t size, const char *src);
int dp_ext_cmp(const char *a, const char *b);
bool dp_ext_match(const char *pattern, const char *exten);

/* timing.c */
/** Parse spec; problems are warned with FILE:LINE (file may be NULL) and
 * the part is taken as '*', as Asterisk does. 0 or ENOMEM. */
int dp_timing_parse(struct dp_timing *t, const char *spec, const char *file,
		    unsigned line);
bool dp_timing_check(const struct dp_timing *t, time_t now);
void dp_timing_clear(struct dp_timing *t);

/* expr.c */
/** Evaluate an Asterisk $[ ] expression; out is "" on a syntax error
 * (EINVAL, warned). */
int dp_expr_eval(const char *expr, char *out, size_t size);

/* check.c */
void dp_check_prio(const struct dialplan *dp, const struct dp_context *c,
		   const struct dp_exten *e, const struct dp_prio *p,
		   bool no_paren);
void dp_check_dialplan(const struct dialplan *dp);
/** Load-time checks of applications others implement later (Queue). */
void dp_check_register_builtin(void);

/* apps.c */
dp_app_check_h *dp_app_checker(const char *name);
dp_app_h *dp_app_find(const char *name);
void dp_apps_builtin(void);
/** pbx_checkcondition: "" false, leading digit atoi, anything else true. */
bool dp_cond(const char *s);

/* func_db.c */
/** Register DB, DB_EXISTS, DB_DELETE, BLACKLIST, DBdel, DBdeltree. */
void dp_db_builtin(void);

/* subst.c */
void dp_subst_globals(const struct dialplan *dp, const char *in, char *out,
		      size_t size);
/** Substitute with chan (may be NULL: globals only). */
void dp_subst(struct dp_chan *chan, const struct dialplan *dp, const char *in,
	      char *out, size_t size);
/** Write a function: "CALLERID(num)", "GLOBAL(x)", "CDR(f)". EINVAL unknown. */
int dp_func_write(struct dp_chan *chan, const char *name, const char *value);

/* exec.c: the call state, used by apps.c and subst.c */
struct dp_frame {
	bool macro;
	char ctx[DP_NAME_MAX];     /* macro: caller; gosub: return place */
	char exten[DP_NAME_MAX];
	int prio;
	char macro_ctx[DP_NAME_MAX];
	int argc;
	struct dp_var *saved;      /* values to restore; value NULL = unset */
	struct dp_frame *up;
};

enum dp_chan_state { CH_IDLE, CH_WAIT, CH_DONE };

struct dp_chan {
	struct dialplan *dp;
	const struct dp_chan_ops *ops;
	void *call;
	char context[DP_NAME_MAX];
	char exten[DP_NAME_MAX];
	int prio;
	struct dp_var *vars;
	struct dp_frame *top;
	int depth;
	unsigned steps;
	enum dp_chan_state state;
	bool in_h;
	bool hung;
	int cause;
	dp_resume_h *resume_h;
	const struct dp_prio *cur;
	char lastapp[64];
	char *lastdata;
	char cid_num[DP_NAME_MAX];
	char cid_name[DP_NAME_MAX];
	time_t now_override;
	unsigned dtimeout_ms;      /* TIMEOUT(digit) */
	unsigned rtimeout_ms;      /* TIMEOUT(response) */
};

int dp_frame_push(struct dp_chan *chan, bool macro, const char *macro_ctx);
/** Save name's current value in the top frame (once), then set it. */
int dp_frame_setvar(struct dp_chan *chan, const char *name, const char *value);
/** Pop the top frame, restoring its saved variables. */
void dp_frame_pop(struct dp_chan *chan);
/** Leave the macro on top normally: back to the caller, next priority. */
void dp_macro_return(struct dp_chan *chan);
void dp_chan_set_where(struct dp_chan *chan, const char *ctx, const char *exten,
		       int prio);

/* small string helpers (pattern.c) */
size_t dp_strlcpy(char *dst, const char *src, size_t size);
char *dp_strdup(const char *s);
char *dp_trim(char *s);

#endif
