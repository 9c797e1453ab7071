/**
 * @file test_sound.c  Prompt lookup (Asterisk's order, Debian's
 * directory names, the admin's DATADIR first), the formats libsndfile
 * reads for us, resampling, the cache and bad files. Every file is made
 * by the test in a temporary directory.
 */
#include <errno.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <spandsp/telephony.h>
#include <spandsp/complex.h>
#include <spandsp/dds.h>

#include "core/log.h"
#include "core/mem.h"
#include "media/sound.h"
#include "sndfix.h"
#include "suites.h"

static size_t mem_before;

#define at(rel) sndfix_path(rel)
#define mkdirs(rel) sndfix_mkdirs(rel)
#define write_sound sndfix_write
#define write_bytes sndfix_bytes

static int16_t gen_ramp(size_t i, int ch)
{
	(void)ch;
	return (int16_t)((int)(i % 200) * 100 - 10000);
}

static int16_t gen_const(size_t i, int ch)
{
	(void)i;
	return (int16_t)(ch ? 3000 : 1000);
}

/* A sine of sine_f Hz at sine_rate, amplitude 10000 (spandsp's DDS table:
 * libm is not linked). */
static int sine_rate = 8000, sine_f = 1000;
static int16_t gen_sine(size_t i, int ch)
{
	uint64_t ph = (uint64_t)i * (uint64_t)sine_f * 4294967296ULL / (uint64_t)sine_rate;

	(void)ch;
	return (int16_t)(10000.0f * dds_lookupf((uint32_t)ph));
}

static int setup(void **state)
{
	(void)state;
	mem_before = mem_live();
	sndfix_open();
	mkdirs("data/sounds");
	mkdirs("sys");
	assert_int_equal(sound_init(at("data"), at("sys"), 0), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sound_close();
	sndfix_close();
	assert_int_equal(mem_live(), mem_before);
	return 0;
}

#define WAV16 (SF_FORMAT_WAV | SF_FORMAT_PCM_16)

static void expect_find(const char *lang, const char *name, const char *rel)
{
	char p[512];

	assert_int_equal(sound_find(lang, name, p, sizeof(p)), 0);
	assert_string_equal(p, at(rel));
}

/* ---- lookup ---- */

static void t_find_order(void **state)
{
	char p[512];

	(void)state;
	/* system sets named as Debian installs them */
	write_sound("sys/es_MX_f_Allison/hola.wav", WAV16, 8000, 1, 80, gen_ramp);
	write_sound("sys/es_MX_f_Allison/digits/1.wav", WAV16, 8000, 1, 80, gen_ramp);
	write_sound("sys/en_US_f_Allison/only-en.wav", WAV16, 8000, 1, 80, gen_ramp);
	write_sound("sys/en_US_f_Allison/digits/1.wav", WAV16, 8000, 1, 80, gen_ramp);
	write_sound("sys/plain.wav", WAV16, 8000, 1, 80, gen_ramp);
	expect_find("es", "hola", "sys/es_MX_f_Allison/hola.wav");
	expect_find("es", "digits/1", "sys/es_MX_f_Allison/digits/1.wav");
	expect_find("es_MX", "hola", "sys/es_MX_f_Allison/hola.wav");
	/* missing in es: no language, then en */
	expect_find("es", "plain", "sys/plain.wav");
	expect_find("es", "only-en", "sys/en_US_f_Allison/only-en.wav");
	expect_find(NULL, "only-en", "sys/en_US_f_Allison/only-en.wav");
	expect_find("", "digits/1", "sys/en_US_f_Allison/digits/1.wav");
	/* a directory named exactly as the language comes before L_* ones */
	write_sound("sys/es/hola.wav", WAV16, 8000, 1, 80, gen_ramp);
	expect_find("es", "hola", "sys/es/hola.wav");
	/* es_MX: es_MX before es */
	write_sound("sys/es_MX/hola.gsm", SF_FORMAT_RAW | SF_FORMAT_GSM610, 8000, 1, 160,
		    gen_ramp);
	expect_find("es_MX", "hola", "sys/es_MX/hola.gsm");
	/* the admin's prompt wins within a language, not across languages */
	write_sound("data/sounds/es/hola.wav", WAV16, 8000, 1, 80, gen_ramp);
	write_sound("data/sounds/en/digits/1.wav", WAV16, 8000, 1, 80, gen_ramp);
	expect_find("es", "hola", "data/sounds/es/hola.wav");
	expect_find("es", "digits/1", "sys/es_MX_f_Allison/digits/1.wav");
	expect_find("en", "digits/1", "data/sounds/en/digits/1.wav");
	/* wav before other extensions; an extension given is accepted */
	write_sound("sys/es/hola.ulaw", SF_FORMAT_RAW | SF_FORMAT_ULAW, 8000, 1, 80, gen_ramp);
	expect_find("es", "hola", "data/sounds/es/hola.wav");
	expect_find("es", "hola.ulaw", "sys/es/hola.ulaw");
	/* absolute: language inserted before the last component first */
	write_sound("abs/x/msg.wav", WAV16, 8000, 1, 80, gen_ramp);
	write_sound("abs/x/es/msg.wav", WAV16, 8000, 1, 80, gen_ramp);
	expect_find("es", at("abs/x/msg"), "abs/x/es/msg.wav");
	expect_find("fr", at("abs/x/msg"), "abs/x/msg.wav");
	/* errors */
	assert_int_equal(sound_find("es", "nothing-here", p, sizeof(p)), ENOENT);
	assert_int_equal(sound_find("es", "../sys/plain", p, sizeof(p)), EINVAL);
	assert_int_equal(sound_find("es", "digits/../../x", p, sizeof(p)), EINVAL);
	assert_int_equal(sound_find("es", "", p, sizeof(p)), EINVAL);
	assert_int_equal(sound_find("es", "hola", p, 8), ENAMETOOLONG);
	/* a new language directory is seen without a reload */
	write_sound("sys/fr_FR_f_X/bonjour.wav", WAV16, 8000, 1, 80, gen_ramp);
	expect_find("fr", "bonjour", "sys/fr_FR_f_X/bonjour.wav");
}

static void t_system_sets(void **state)
{
	char p[512];
	struct sound *s;

	(void)state;
	/* the Debian packages the build installs, when present */
	sound_init(NULL, NULL, 0);
	if (sound_find("es", "digits/1", p, sizeof(p))) {
		skip();
		return;
	}
	assert_non_null(strstr(p, "/es"));
	assert_int_equal(sound_load(p, &s), 0);
	assert_true(sound_ms(s) > 100);
	mem_deref(s);
	assert_int_equal(sound_find("en", "hello-world", p, sizeof(p)), 0);
	assert_non_null(strstr(p, "/en"));
	sound_init(at("data"), at("sys"), 0);
}

/* ---- formats ---- */

static void load_ok(const char *rel, size_t expect_len, struct sound **sp)
{
	size_t len;

	assert_int_equal(sound_load(at(rel), sp), 0);
	sound_pcm(*sp, &len);
	assert_int_equal(len, expect_len);
}

static void t_formats(void **state)
{
	static const struct { const char *rel; int fmt; int tol; } f[] = {
		{ "f/pcm.wav", WAV16, 0 },
		{ "f/alaw.wav", SF_FORMAT_WAV | SF_FORMAT_ALAW, 400 },
		{ "f/ulaw.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 400 },
		{ "f/raw.ulaw", SF_FORMAT_RAW | SF_FORMAT_ULAW, 400 },
		{ "f/raw.alaw", SF_FORMAT_RAW | SF_FORMAT_ALAW, 400 },
		{ "f/raw.sln", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 0 },
	};
	struct sound *s;
	const int16_t *pcm;
	size_t len;

	(void)state;
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		write_sound(f[k].rel, f[k].fmt, 8000, 1, 800, gen_ramp);
		load_ok(f[k].rel, 800, &s);
		pcm = sound_pcm(s, NULL);
		for (size_t i = 0; i < 800; i++) {
			int d = pcm[i] - gen_ramp(i, 0);
			assert_true(d <= f[k].tol && d >= -f[k].tol);
		}
		assert_int_equal(sound_ms(s), 100);
		mem_deref(s);
	}
	/* GSM 6.10: raw .gsm and wav49 (.WAV); lossy, so only the length */
	write_sound("f/x.gsm", SF_FORMAT_RAW | SF_FORMAT_GSM610, 8000, 1, 1600, gen_ramp);
	load_ok("f/x.gsm", 1600, &s);
	mem_deref(s);
	write_sound("f/y.WAV", SF_FORMAT_WAV | SF_FORMAT_GSM610, 8000, 1, 1600, gen_ramp);
	assert_int_equal(sound_load(at("f/y.WAV"), &s), 0);
	sound_pcm(s, &len);
	assert_true(len >= 1600 && len <= 1600 + 320);  /* whole 320-sample blocks */
	mem_deref(s);
	/* stereo: channels averaged */
	write_sound("f/st.wav", WAV16, 8000, 2, 400, gen_const);
	load_ok("f/st.wav", 400, &s);
	assert_int_equal(sound_pcm(s, NULL)[10], 2000);
	mem_deref(s);
	/* float wav */
	write_sound("f/fl.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 1, 400, gen_ramp);
	load_ok("f/fl.wav", 400, &s);
	assert_true(abs(sound_pcm(s, NULL)[7] - gen_ramp(7, 0)) <= 1);
	mem_deref(s);
}

static long energy(const int16_t *p, size_t from, size_t to)
{
	long e = 0;

	for (size_t i = from; i < to; i++)
		e += labs((long)p[i]);
	return e / (long)(to - from);
}

static void t_resample(void **state)
{
	struct sound *s;
	const int16_t *pcm;
	char p[512];

	(void)state;
	/* 16 kHz: 1 kHz passes, 6 kHz (above 8 kHz's Nyquist) is removed */
	sine_rate = 16000;
	sine_f = 1000;
	write_sound("r/pass.wav", WAV16, 16000, 1, 16000, gen_sine);
	load_ok("r/pass.wav", 8000, &s);
	pcm = sound_pcm(s, NULL);
	assert_true(energy(pcm, 200, 7800) > 6000);     /* |sin| mean: 6366 */
	assert_true(energy(pcm, 200, 7800) < 6700);
	mem_deref(s);
	sine_f = 6000;
	write_sound("r/stop.wav", WAV16, 16000, 1, 16000, gen_sine);
	load_ok("r/stop.wav", 8000, &s);
	pcm = sound_pcm(s, NULL);
	assert_true(energy(pcm, 200, 7800) < 100);      /* -36 dB at least */
	mem_deref(s);
	/* 48 kHz: 3 kHz passes, 7 kHz is removed; .sln16 too */
	sine_rate = 48000;
	sine_f = 3000;
	write_sound("r/x48.wav", WAV16, 48000, 1, 48000, gen_sine);
	load_ok("r/x48.wav", 8000, &s);
	assert_true(energy(sound_pcm(s, NULL), 200, 7800) > 5500);
	mem_deref(s);
	sine_f = 7000;
	write_sound("r/y48.wav", WAV16, 48000, 1, 48000, gen_sine);
	load_ok("r/y48.wav", 8000, &s);
	assert_true(energy(sound_pcm(s, NULL), 200, 7800) < 100);
	mem_deref(s);
	write_sound("r/y.sln16", SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE, 16000,
		    1, 3200, gen_ramp);
	assert_int_equal(sound_find(NULL, at("r/y"), p, sizeof(p)), 0);
	load_ok("r/y.sln16", 1600, &s);
	mem_deref(s);
	/* 44.1 kHz: refused, with a warning */
	write_sound("r/cd.wav", WAV16, 44100, 1, 4410, gen_ramp);
	assert_int_equal(sound_load(at("r/cd.wav"), &s), ENOTSUP);
}

/* ---- bad files ---- */

static void t_bad_files(void **state)
{
	static const uint8_t riff[] = "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00"
				      "\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00"
				      "\x02\x00\x10\x00" "data\x00\x10\x00\x00";
	struct sound *s = NULL;
	unsigned long w;
	uint8_t junk[700];

	(void)state;
	mkdirs("bad");
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	write_bytes("bad/junk.wav", junk, sizeof(junk));
	w = log_count(LOG_LVL_WARN);
	assert_int_equal(sound_load(at("bad/junk.wav"), &s), EINVAL);
	assert_int_equal(log_count(LOG_LVL_WARN), w + 1);
	assert_null(s);
	/* the failure is remembered: no second read, no second warning */
	assert_int_equal(sound_load(at("bad/junk.wav"), &s), EINVAL);
	assert_int_equal(log_count(LOG_LVL_WARN), w + 1);
	/* empty and header-only files */
	write_bytes("bad/empty.wav", "", 0);
	assert_int_equal(sound_load(at("bad/empty.wav"), &s), EINVAL);
	write_bytes("bad/hdr.wav", riff, sizeof(riff) - 1);
	assert_int_equal(sound_load(at("bad/hdr.wav"), &s), EINVAL);
	/* a header that promises more data than the file has: what is there */
	{
		uint8_t b[sizeof(riff) - 1 + 64];
		memcpy(b, riff, sizeof(riff) - 1);
		memset(b + sizeof(riff) - 1, 0x11, 64);
		write_bytes("bad/short.wav", b, sizeof(b));
		assert_int_equal(sound_load(at("bad/short.wav"), &s), 0);
		assert_int_equal(sound_ms(s), 4);       /* 32 samples */
		s = mem_deref(s);
	}
	/* missing file, directory */
	assert_int_equal(sound_load(at("bad/none.wav"), &s), ENOENT);
	assert_int_equal(sound_load(at("bad"), &s), EINVAL);
	/* sound_get names the prompt */
	w = log_count(LOG_LVL_WARN);
	assert_int_equal(sound_get("es", "no-such-prompt", &s), ENOENT);
	assert_int_equal(log_count(LOG_LVL_WARN), w + 1);
	/* a fixed file is read again */
	usleep(10000);
	write_sound("bad/junk.wav", WAV16, 8000, 1, 80, gen_ramp);
	assert_int_equal(sound_load(at("bad/junk.wav"), &s), 0);
	mem_deref(s);
}

/* ---- cache ---- */

static void t_cache(void **state)
{
	struct sound *a, *b, *c, *d;
	struct sound_stats st;

	(void)state;
	write_sound("c/a.wav", WAV16, 8000, 1, 8000, gen_ramp);   /* 16000 bytes */
	write_sound("c/b.wav", WAV16, 8000, 1, 8000, gen_ramp);
	write_sound("c/c.wav", WAV16, 8000, 1, 8000, gen_ramp);
	sound_init(at("data"), at("sys"), 40000);               /* room for two */
	assert_int_equal(sound_get(NULL, at("c/a"), &a), 0);
	/* a thousand listeners: one read */
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(sound_get(NULL, at("c/a"), &b), 0);
		assert_ptr_equal(a, b);
		mem_deref(b);
	}
	sound_stats(&st);
	assert_int_equal(st.loads, 1);
	assert_int_equal(st.hits, 1000);
	assert_int_equal(st.bytes, 16000);
	assert_int_equal(sound_load(at("c/b.wav"), &b), 0);
	assert_int_equal(sound_load(at("c/c.wav"), &c), 0);   /* evicts a */
	sound_stats(&st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.evictions, 1);
	assert_true(st.bytes <= 40000);
	/* a is still playing for its holder */
	assert_int_equal(sound_pcm(a, NULL)[1], gen_ramp(1, 0));
	/* and is read again for a new listener */
	assert_int_equal(sound_load(at("c/a.wav"), &d), 0);
	assert_ptr_not_equal(a, d);
	sound_stats(&st);
	assert_int_equal(st.loads, 4);
	mem_deref(d);
	/* a changed file is read again */
	usleep(10000);
	write_sound("c/b.wav", WAV16, 8000, 1, 4000, gen_ramp);
	assert_int_equal(sound_load(at("c/b.wav"), &d), 0);
	assert_ptr_not_equal(b, d);
	assert_int_equal(sound_ms(d), 500);
	assert_int_equal(sound_ms(b), 1000);            /* the old one intact */
	mem_deref(d);
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
	sound_cache_flush();
	sound_stats(&st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.bytes, 0);
}

int test_sound_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_find_order, setup, teardown),
		cmocka_unit_test_setup_teardown(t_system_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(t_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(t_resample, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(t_cache, setup, teardown),
	};

	return cmocka_run_group_tests_name("sound", tests, NULL, NULL);
}
