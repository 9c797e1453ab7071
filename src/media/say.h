/**
 * @file say.h  What SayDigits and SayNumber play: the prompt names
 * Asterisk's say.c plays for a digit string or a number, per language,
 * as an '&'-separated list that play_files() (play.h) queues.
 *
 * I/O-free: the lists name prompts ("digits/5"), sound_find() finds them.
 */
#ifndef TANDEM_SAY_H
#define TANDEM_SAY_H

#include <stddef.h>

/**
 * ast_say_digit_str: one prompt per character of digits ("digits/0" to
 * "digits/9", '*' "digits/star", '#' "digits/pound"; other characters
 * are skipped, as Asterisk does). The files are the same in every
 * language. Writes "digits/1&digits/2" (or "" when nothing is said) to
 * out. 0, or ENOSPC when out is too small (out then holds "").
 */
int say_digits(const char *digits, char *out, size_t size);

/**
 * ast_say_number_full for language lang: Spanish ("es", "es_MX", ...)
 * follows ast_say_number_full_es, every other language
 * ast_say_number_full_en. gender is SayNumber's option: "f" or "m"
 * pick "digits/1F" (una) or "digits/1M" (un) for a final one in Spanish;
 * NULL, "", "c" and "n" are neutral. 0 is said as digits ("digits/0").
 * 0, ERANGE for a number Asterisk says is too big, ENOSPC.
 */
int say_number(int num, const char *lang, const char *gender, char *out, size_t size);

#endif
