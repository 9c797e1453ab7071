/** @file fuzz_conf.c  libFuzzer harness for the config reader (conf_parse_buf). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct conf_section *s;
	const struct conf_var *v;
	struct conf *conf = NULL;
	char err[256];
	unsigned n;
	bool b;
	int rc;

	log_set_level(LOG_LVL_ERROR);   /* warnings are expected, not news */
	rc = conf_parse_buf(&conf, NULL, "fuzz.conf", (const char *)data, size,
			    err, sizeof(err));
	if (rc) {
		/* every error names the file and a line */
		if (conf || strncmp(err, "fuzz.conf:", 10))
			abort();
		return 0;
	}
	for (s = conf->sections; s; s = s->next) {
		if (s->file != conf->files[0] || !s->tpls)
			abort();
		if (!s->is_template && !conf_section(conf, s->name))
			abort();
		/* a lookup walks the section: check the first options only */
		for (v = s->vars, n = 0; v; v = v->next, n++) {
			if (n < 64 && conf_var(s, v->name) == NULL)
				abort();
			conf_bool(v->value, &b);
		}
	}
	conf_free(conf);
	return 0;
}
