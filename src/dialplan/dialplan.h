/**
 * @file dialplan.h  extensions.conf as Asterisk reads it: contexts,
 * extensions in Asterisk's match order, priorities, labels, hints,
 * includes (with time ranges), ignorepat and [globals].
 *
 * A `struct dialplan` is an immutable snapshot built from a loaded
 * `struct conf` (reload builds a new one and swaps it in); it is
 * reference counted (mem.h) so calls still running keep the snapshot they
 * started on. Only the global variables in it change at run time
 * (Set(GLOBAL(x)=y)), as in Asterisk. Execution lives in exec.h.
 */
#ifndef TANDEM_DIALPLAN_H
#define TANDEM_DIALPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

struct conf;
struct dialplan;

/** Register the built-in applications (idempotent; dialplan_build does it
 * too). Other areas register theirs with dp_app_register (exec.h). */
void dialplan_init(void);
/** Nothing to release today; kept so main.c can close areas in order. */
void dialplan_close(void);

/**
 * Build a dialplan from a loaded extensions.conf. Anything Asterisk would
 * load with a warning is logged as a "FILE:LINE: ..." warning and the rest
 * loads; only memory exhaustion fails (ENOMEM, err filled). The dialplan
 * does not point into conf: conf may be freed afterwards.
 */
int dialplan_build(struct dialplan **out, const struct conf *extensions_conf,
		   char *err, size_t errsize);

/** Drop the caller's reference (calls still running keep theirs). NULL-safe. */
void dialplan_free(struct dialplan *dp);

/** True when a context called name (case-sensitive, as Asterisk) exists. */
bool dialplan_has_context(const struct dialplan *dp, const char *name);

/**
 * Find what `exten` dialled in `context` runs, through includes (time-ranged
 * includes evaluated at now), as Asterisk does: the context's own
 * extensions in Asterisk's order first, then each include in order. Only
 * extensions with a priority 1 count. On success (0) *found_ctx is the
 * context that holds it and *pattern its name ("_1XX"); either out-pointer
 * may be NULL. ENOENT when nothing matches. callerid may be NULL.
 */
int dialplan_match(const struct dialplan *dp, const char *context,
		   const char *exten, const char *callerid, time_t now,
		   const char **found_ctx, const char **pattern);

/**
 * Digit collection (Background, WaitExten), through includes as
 * dialplan_match: canmatch is true when some extension with a priority 1
 * matches exten or could match it followed by more digits
 * (ast_canmatch_extension); matchmore only for the latter
 * (ast_matchmore_extension: "_1." and "123" match more after "1", "1"
 * does not, and a matching "_1!" makes the answer a final no).
 */
bool dialplan_canmatch(const struct dialplan *dp, const char *context,
		       const char *exten, const char *callerid, time_t now);
bool dialplan_matchmore(const struct dialplan *dp, const char *context,
			const char *exten, const char *callerid, time_t now);

/** The hint of exten@context (`exten => 100,hint,SIP/100-tfg`), or NULL. */
const char *dialplan_hint(const struct dialplan *dp, const char *context,
			  const char *exten);

/** Value of global variable name as loaded or last set, or NULL. */
const char *dialplan_global(const struct dialplan *dp, const char *name);

/**
 * What was loaded, for `tandemctl dialplan [CONTEXT]`:
 * {"contexts":[{"name","file","line","includes":[..],"ignorepats":[..],
 *   "extensions":[{"exten","hint"?,"priorities":[{"prio","label","app",
 *   "data","file","line"}]}]}], "globals":{..}}. Extensions appear in match
 * order. context NULL lists all; an unknown context gives NULL.
 */
json_t *dialplan_json(const struct dialplan *dp, const char *context);

/**
 * The dialplan's clock: what GotoIfTime, time-ranged includes, STRFTIME and
 * ${EPOCH} take as now. The real clock unless tandemd --fake-time set it
 * (tests only): from the moment dialplan_clock_set(t) is called it reads t
 * and runs on at normal speed; t = 0 goes back to the real clock. Nothing
 * outside the dialplan follows it (call records, registrations, logs).
 */
void dialplan_clock_set(time_t t);
time_t dialplan_now(void);
/** True while a fake clock is set. */
bool dialplan_clock_faked(void);
/** Parse "YYYY-MM-DD HH:MM[:SS]" (local time, 'T' may replace the space)
 * or "@SECONDS" since the epoch into *t. 0 or EINVAL. */
int dialplan_clock_parse(const char *text, time_t *t);

/**
 * Warnings the loader and the executor log also go to h when set (tests
 * read them; NULL turns it off). msg is the full "FILE:LINE: ..." text.
 */
typedef void (dialplan_warn_h)(const char *msg, void *arg);
void dialplan_set_warn_hook(dialplan_warn_h *h, void *arg);

#endif
