/** @file fuzz_dialplan.c  libFuzzer harness for the dialplan: the `$[ ]`
 * expression evaluator (first byte '=') and extensions.conf loading plus a
 * run of every context's first extension (anything else). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"
#include "dialplan/dialplan.h"
#include "dialplan/dp_int.h"
#include "dialplan/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int no(void *c) { (void)c; return 1; }
static int no_h(void *c, int cause) { (void)c; (void)cause; return 0; }
static int no_dial(void *c, const char *d, unsigned t, const char *o)
{
	(void)c; (void)d; (void)t; (void)o;
	return 1;
}
static int no_wait(void *c, unsigned ms) { (void)c; (void)ms; return 1; }
static const char *get(void *c, const char *what)
{
	(void)c;
	return strcmp(what, "callerid_num") ? NULL : "100";
}

static const struct dp_chan_ops ops = {
	.answer = no, .hangup = no_h, .progress = no, .ringing = no, .busy = no,
	.congestion = no, .dial = no_dial, .wait = no_wait, .get = get,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *conf = NULL;
	struct dialplan *dp = NULL;
	char err[256], out[DP_BUF];
	size_t i;

	log_set_level(LOG_LVL_ERROR);   /* warnings are expected, not news */
	if (size && data[0] == '=') {
		char *s = malloc(size);

		if (!s)
			return 0;
		memcpy(s, data + 1, size - 1);
		s[size - 1] = '\0';
		dp_expr_eval(s, out, sizeof(out));
		if (strlen(out) >= sizeof(out))
			abort();
		free(s);
		return 0;
	}
	if (conf_parse_buf(&conf, NULL, "fuzz.conf", (const char *)data, size, err,
			   sizeof(err)))
		return 0;
	if (dialplan_build(&dp, conf, err, sizeof(err))) {
		conf_free(conf);
		return 0;
	}
	conf_free(conf);
	json_decref(dialplan_json(dp, NULL));
	for (i = 0; i < dp->nctx && i < 4; i++) {
		const struct dp_context *c = dp->ctx[i];
		struct dp_chan *ch = NULL;

		dialplan_match(dp, c->name, "101", "100", 0, NULL, NULL);
		if (!c->next)
			continue;
		if (dp_chan_alloc(&ch, dp, &ops, NULL, c->name, c->ext[0]->name[0] == '_'
				  ? "123" : c->ext[0]->name, 1))
			continue;
		if (dp_chan_run(ch) == DP_WAIT)
			dp_chan_resume(ch, DP_RES_HANGUP);
		dp_chan_free(ch);
	}
	dialplan_free(dp);
	return 0;
}
