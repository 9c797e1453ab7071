/**
 * @file conf.h  Reader for Asterisk's configuration dialect.
 *
 * Sections `[name]`, options `name = value` and objects `name => value`,
 * `;` comments (`\;` is a literal semicolon) and `;-- ... --;` block
 * comments, templates `[name](!)`, inheritance `[peer](tpl1,tpl2)`,
 * appending `[name](+)`, `#include` / `#tryinclude` (quoted or bare, globs,
 * relative to CONFDIR). `#exec` is refused. Reading is I/O-free below
 * conf_parse_buf() so it can be fuzzed.
 *
 * A loaded `struct conf` is immutable: reload builds a new one and swaps
 * it in (STYLE.md).
 */
#ifndef TANDEM_CONF_H
#define TANDEM_CONF_H

#include <stdbool.h>
#include <stddef.h>

/* Limits; going past one is a "FILE:LINE: ..." error. */
#define CONF_LINE_MAX      65536  /* bytes in a line, without its newline */
#define CONF_INCLUDE_DEPTH 10     /* files open at once, the top one too */
#define CONF_COMMENT_DEPTH 128    /* nested ;-- --; block comments */

struct conf_var {
	char *name;
	char *value;
	bool object;             /* written with '=>' */
	bool inherited;          /* copied from a template */
	const char *file;        /* points into conf->files */
	unsigned line;
	struct conf_var *next;
};

struct conf_section {
	char *name;
	const char *file;
	unsigned line;
	bool is_template;        /* [name](!) */
	char **tpls;             /* names it inherits from, NULL-terminated */
	struct conf_var *vars;   /* in file order, inherited ones first */
	struct conf_section *next;
};

struct conf {
	struct conf_section *sections;  /* in file order */
	char **files;                   /* every file read, NULL-terminated */
};
/*
 * Names in files[] (and so in every file member and error message) are
 * as written: relative to CONFDIR, or absolute; files[0] is the top file.
 * A file read twice is listed once.
 */

/**
 * Read CONFDIR/filename and its includes. On error returns an errno value
 * (ENOENT when the top file is missing, EINVAL for bad syntax) and writes
 * "FILE:LINE: what is wrong" into err. Warnings go to the log.
 * When the top file itself cannot be read err is "FILE: reason".
 * EFBIG when inheritance would take more than 128 MiB of memory.
 */
int conf_load(struct conf **confp, const char *confdir, const char *filename,
	      char *err, size_t errsize);

/**
 * Parse an in-memory buffer as if it were file `name` (includes resolved
 * relative to confdir; confdir NULL refuses includes). For tests and fuzzing.
 */
int conf_parse_buf(struct conf **confp, const char *confdir, const char *name,
		   const char *buf, size_t len, char *err, size_t errsize);

void conf_free(struct conf *conf);

/** First non-template section called name, or NULL. */
const struct conf_section *conf_section(const struct conf *conf, const char *name);
/** Value of the last option called name (case-insensitive) in sec, or NULL. */
const char *conf_get(const struct conf_section *sec, const char *name);
/** The last option var called name in sec, or NULL. */
const struct conf_var *conf_var(const struct conf_section *sec, const char *name);
/** Parse yes/no/true/false/on/off/1/0 as Asterisk's ast_true/ast_false. */
int conf_bool(const char *value, bool *out);

/** Trim blanks (and CR, LF) in place; returns the first non-blank character. */
char *conf_strip(char *s);

#endif
