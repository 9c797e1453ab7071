/**
 * @file test_witness.c  The witness's decisions (src/ha/witness_state.c):
 * one holder per epoch, renewals, expiry, release (FIN), the quiet lease
 * after a restart, outdated nodes never granted, the position rule at a
 * cold start, and the state file (written, read back, bad lines refused).
 * Going alone (src/ha/alone.c): held until the witness records it.
 * Times are passed in: no clock, no thresholds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ha/alone.h"
#include "ha/witness.h"
#include "ha/witness_state.h"
#include "suites.h"

#define L 600

/* a fresh witness whose quiet lease ended at time 1000 */
static void fresh(struct wit_state *w)
{
	wit_state_init(w, "a", "b", L, 1000 - L);
}

static void t_quiet_after_start(void **state)
{
	struct wit_state w;
	struct wit_answer an;

	(void)state;
	wit_state_init(&w, "a", "b", L, 0);
	assert_int_equal(wit_request(&w, "a", 1, 10, 599, &an), 0);
	assert_false(an.granted);
	assert_non_null(strstr(an.why, "restarted"));
	assert_int_equal(wit_request(&w, "a", 1, 10, 600, &an), 0);
	assert_true(an.granted);
	assert_int_equal(an.epoch, 1);
	assert_int_equal(an.lease_ms, L);
	assert_string_equal(w.holder, "a");
	assert_true(w.dirty);
	assert_int_equal(wit_request(&w, "zz", 1, 10, 600, &an), EINVAL);
}

static void t_one_holder(void **state)
{
	struct wit_state w;
	struct wit_answer an;

	(void)state;
	fresh(&w);
	assert_int_equal(wit_request(&w, "a", 5, 100, 1000, &an), 0);
	assert_true(an.granted);
	w.dirty = false;
	/* b, silent active: denied while the lease runs, with what is left */
	assert_int_equal(wit_request(&w, "b", 6, 100, 1200, &an), 0);
	assert_false(an.granted);
	assert_int_equal(an.ms_left, 400);
	assert_string_equal(an.holder, "a");
	/* a renews: no write */
	assert_int_equal(wit_request(&w, "a", 5, 120, 1300, &an), 0);
	assert_true(an.granted);
	assert_false(w.dirty);
	assert_int_equal(wit_ms_left(&w, 1300), L);
	/* a goes silent: b gets epoch 6 once the lease is past */
	assert_int_equal(wit_request(&w, "b", 6, 120, 1899, &an), 0);
	assert_false(an.granted);
	assert_int_equal(wit_request(&w, "b", 6, 120, 1900, &an), 0);
	assert_true(an.granted);
	assert_int_equal(an.epoch, 6);
	assert_string_equal(w.holder, "b");
	wit_role(&w, "b", true);       /* b promoted: its W_STATE says ACTIVE */
	/* a resumed: its renewal in epoch 5 is refused, so is a new epoch 6 */
	assert_int_equal(wit_request(&w, "a", 5, 120, 1950, &an), 0);
	assert_false(an.granted);
	assert_string_equal(an.holder, "b");
	assert_int_equal(wit_request(&w, "a", 6, 120, 2600, &an), 0);
	assert_false(an.granted);
	assert_non_null(strstr(an.why, "epoch 6 already granted"));
}

static void t_unused_grant(void **state)
{
	struct wit_state w;
	struct wit_answer an;

	(void)state;
	fresh(&w);
	assert_int_equal(wit_request(&w, "a", 4, 0, 1000, &an), 0);
	wit_role(&w, "a", true);
	/* a silent: b granted epoch 5, but b never says ACTIVE */
	assert_int_equal(wit_request(&w, "b", 5, 0, 1600, &an), 0);
	assert_true(an.granted);
	wit_role(&w, "b", false);
	/* a, still active on the peer's vote, asks again in epoch 4 once b's
	 * lease is past: b's unused grant is taken back */
	assert_int_equal(wit_request(&w, "a", 4, 0, 2000, &an), 0);
	assert_false(an.granted);      /* b's lease runs */
	assert_int_equal(wit_request(&w, "a", 4, 0, 2200, &an), 0);
	assert_true(an.granted);
	assert_int_equal(an.epoch, 4);
	assert_int_equal(w.epoch, 4);
	/* not below the epoch before b's grant */
	wit_release(&w, "a");
	assert_int_equal(wit_request(&w, "b", 3, 0, 2300, &an), 0);
	assert_false(an.granted);
	/* a used grant is never taken back */
	wit_role(&w, "a", true);
	assert_int_equal(wit_request(&w, "b", 4, 0, 2300, &an), 0);
	assert_false(an.granted);
	assert_non_null(strstr(an.why, "epoch 4 already granted"));
}

static void t_release(void **state)
{
	struct wit_state w;
	struct wit_answer an;

	(void)state;
	fresh(&w);
	assert_int_equal(wit_request(&w, "a", 2, 0, 1000, &an), 0);
	assert_true(an.granted);
	wit_release(&w, "b");             /* not the holder: nothing */
	assert_int_equal(wit_ms_left(&w, 1010), L - 10);
	wit_release(&w, "a");             /* a's FIN */
	assert_int_equal(wit_ms_left(&w, 1010), 0);
	assert_int_equal(wit_request(&w, "b", 3, 0, 1010, &an), 0);
	assert_true(an.granted);
	assert_int_equal(an.epoch, 3);
}

static void t_outdated(void **state)
{
	struct wit_state w;
	struct wit_answer an;

	(void)state;
	fresh(&w);
	assert_int_equal(wit_request(&w, "a", 2, 0, 1000, &an), 0);
	assert_int_equal(wit_outdated(&w, "b", "a", 5), EPERM);   /* not the holder */
	assert_int_equal(wit_outdated(&w, "a", "b", 81234), 0);
	assert_string_equal(w.outdated, "b");
	wit_release(&w, "a");
	assert_int_equal(wit_request(&w, "b", 3, 81000, 1100, &an), 0);
	assert_false(an.granted);
	assert_non_null(strstr(an.why, "outdated at offset 81234"));
	/* a back, clears b once it caught up */
	assert_int_equal(wit_request(&w, "a", 2, 0, 1100, &an), 0);
	assert_true(an.granted);
	assert_int_equal(wit_current(&w, "a", "b"), 0);
	assert_string_equal(w.outdated, "");
	wit_release(&w, "a");
	assert_int_equal(wit_request(&w, "b", 3, 90000, 1200, &an), 0);
	assert_true(an.granted);
	/* a standby's W_STATE "in sync" clears its mark too */
	assert_int_equal(wit_outdated(&w, "b", "a", 95000), 0);
	w.dirty = false;
	wit_in_sync(&w, "b");             /* not the outdated one: nothing */
	assert_false(w.dirty);
	wit_in_sync(&w, "a");
	assert_string_equal(w.outdated, "");
	assert_true(w.dirty);
}

static void t_cold_position(void **state)
{
	struct wit_state w;
	struct wit_answer an;

	(void)state;
	fresh(&w);
	/* both cold in epoch 4: a at 100, b at 200 */
	assert_int_equal(wit_request(&w, "b", 5, 200, 1000, &an), 0);
	assert_true(an.granted);       /* a unknown yet */
	fresh(&w);
	assert_int_equal(wit_request(&w, "b", 5, 200, 900, &an), 0);   /* quiet: seen */
	assert_false(an.granted);
	assert_int_equal(wit_request(&w, "a", 5, 100, 1000, &an), 0);
	assert_false(an.granted);
	assert_non_null(strstr(an.why, "b is ahead"));
	assert_int_equal(wit_request(&w, "b", 5, 200, 1000, &an), 0);
	assert_true(an.granted);
}

/* A node's HELLO tells the witness its position (wit_seen): a node alone
 * at a cold start is refused while the other connected ahead of it. */
static void t_cold_seen(void **state)
{
	struct wit_state w;
	struct wit_answer an;

	(void)state;
	fresh(&w);
	wit_seen(&w, "b", 4, 200);
	wit_seen(&w, "zz", 9, 900);        /* not a node of the cluster: ignored */
	assert_int_equal(wit_request(&w, "a", 5, 100, 1000, &an), 0);
	assert_false(an.granted);
	assert_non_null(strstr(an.why, "b is ahead"));
	/* a later epoch outranks a longer journal */
	fresh(&w);
	wit_seen(&w, "b", 3, 900);
	assert_int_equal(wit_request(&w, "a", 5, 100, 1000, &an), 0);
	assert_true(an.granted);
	assert_int_equal(an.epoch, 5);
	/* the other behind: granted */
	fresh(&w);
	wit_seen(&w, "b", 4, 50);
	assert_int_equal(wit_request(&w, "a", 5, 100, 1000, &an), 0);
	assert_true(an.granted);
}

static void t_file(void **state)
{
	char dir[] = "/tmp/tandem-wit-XXXXXX", path[64], err[256] = "";
	struct wit_state w, r;
	struct wit_answer an;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fresh(&w);
	fresh(&r);
	assert_int_equal(wit_state_load(&r, dir, err, sizeof(err)), ENOENT);
	assert_int_equal(wit_request(&w, "a", 9, 0, 1000, &an), 0);
	assert_int_equal(wit_outdated(&w, "a", "b", 77), 0);
	assert_int_equal(wit_state_save(&w, dir), 0);
	assert_false(w.dirty);
	assert_int_equal(wit_state_load(&r, dir, err, sizeof(err)), 0);
	assert_int_equal(r.epoch, 9);
	assert_string_equal(r.holder, "a");
	assert_string_equal(r.outdated, "b");
	assert_int_equal(r.outdated_off, 77);
	snprintf(path, sizeof(path), "%s/witness.state", dir);
	assert_non_null(f = fopen(path, "a"));
	fputs("garbage\n", f);
	fclose(f);
	assert_int_equal(wit_state_load(&r, dir, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "witness.state:4:"));
	assert_non_null(f = fopen(path, "w"));
	fputs("epoch 3\nholder c\n", f);
	fclose(f);
	assert_int_equal(wit_state_load(&r, dir, err, sizeof(err)), EBADMSG);
	assert_non_null(strstr(err, "not in [cluster] (c)"));
	unlink(path);
	rmdir(dir);
}

/* every frame round-trips; cut or padded payloads are refused */
static void t_codec(void **state)
{
	static const uint8_t types[] = { HA_F_W_REQUEST, HA_F_W_GRANT, HA_F_W_DENY,
					 HA_F_W_RELEASE, HA_F_W_OUTDATED, HA_F_W_CURRENT };
	struct wit_msg m = { .epoch = 7, .offset = 81234, .lease_ms = 600, .ms_left = 512 }, d;

	(void)state;
	snprintf(m.node, sizeof(m.node), "b");
	snprintf(m.why, sizeof(m.why), "lease held by a (512 ms left)");
	for (size_t i = 0; i < sizeof(types); i++) {
		struct jnl_wbuf b = { 0 };
		uint8_t big[1024];

		assert_int_equal(wit_msg_encode(&b, types[i], &m), 0);
		assert_int_equal(wit_msg_decode(&d, types[i], b.p, b.len), 0);
		switch (types[i]) {
		case HA_F_W_REQUEST:
			assert_int_equal(d.epoch, 7);
			assert_int_equal(d.offset, 81234);
			break;
		case HA_F_W_GRANT:
			assert_int_equal(d.lease_ms, 600);
			break;
		case HA_F_W_DENY:
			assert_int_equal(d.ms_left, 512);
			assert_string_equal(d.node, "b");
			assert_string_equal(d.why, m.why);
			break;
		case HA_F_W_OUTDATED:
			assert_int_equal(d.offset, 81234);
			/* fall through */
		case HA_F_W_CURRENT:
			assert_string_equal(d.node, "b");
			break;
		}
		if (b.len)
			assert_int_equal(wit_msg_decode(&d, types[i], b.p, b.len - 1), EBADMSG);
		assert_true(b.len + 1 <= sizeof(big));
		memcpy(big, b.p, b.len);
		big[b.len] = 0;
		assert_int_equal(wit_msg_decode(&d, types[i], big, b.len + 1), EBADMSG);
		jnl_wbuf_free(&b);
	}
	assert_int_equal(wit_msg_decode(&d, HA_F_PING, (const uint8_t *)"", 0), EBADMSG);
	{
		/* a name longer than a node name, a NUL inside */
		uint8_t p[3 + 80] = { 80, 0 };

		memset(p + 2, 'x', 80);
		assert_int_equal(wit_msg_decode(&d, HA_F_W_CURRENT, p, 82), EBADMSG);
		p[0] = 3;
		p[3] = '\0';
		assert_int_equal(wit_msg_decode(&d, HA_F_W_CURRENT, p, 5), EBADMSG);
	}
}

/* The active's side of going alone: with a witness, nothing is released
 * before the echo; without one, at once; stopping first drops. */
static void t_alone(void **state)
{
	struct alone a = { 0 };
	struct wit_state w;
	struct wit_answer an;

	(void)state;
	/* no witness: going alone releases at once, once */
	assert_int_equal(alone_silent(&a, false, 100), ALONE_DO_RELEASE);
	assert_int_equal(a.st, ALONE_RECORDED);
	assert_int_equal(alone_silent(&a, false, 120), ALONE_DO_NOTHING);
	assert_int_equal(alone_stop(&a), ALONE_DO_NOTHING);

	/* witness: ask first, hold; an echo of an older offset is not it */
	alone_sync(&a);
	assert_int_equal(alone_silent(&a, true, 200), ALONE_DO_ASK);
	assert_int_equal(a.st, ALONE_ASKING);
	assert_int_equal(alone_silent(&a, true, 250), ALONE_DO_NOTHING);
	assert_int_equal(a.offset, 200);
	assert_int_equal(alone_recorded(&a, 199), ALONE_DO_NOTHING);
	assert_int_equal(a.st, ALONE_ASKING);
	/* the witness side: a (holder) records b outdated, echoes, then never
	 * grants b the next epoch */
	fresh(&w);
	assert_int_equal(wit_request(&w, "a", 1, 200, 1000, &an), 0);
	assert_true(an.granted);
	assert_int_equal(wit_outdated(&w, "a", "b", 200), 0);
	assert_int_equal(alone_recorded(&a, 200), ALONE_DO_RELEASE);
	assert_int_equal(a.st, ALONE_RECORDED);
	assert_int_equal(alone_recorded(&a, 210), ALONE_DO_NOTHING);   /* once */
	wit_release(&w, "a");
	assert_int_equal(wit_request(&w, "b", 2, 200, 5000, &an), 0);
	assert_false(an.granted);
	/* recorded, then fenced: nothing held any more, nothing to drop */
	assert_int_equal(alone_stop(&a), ALONE_DO_NOTHING);

	/* witness unreachable: no echo; the lease runs out, the node fences:
	 * what it held is dropped, and a late echo releases nothing */
	assert_int_equal(alone_silent(&a, true, 300), ALONE_DO_ASK);
	assert_int_equal(alone_stop(&a), ALONE_DO_DROP);
	assert_int_equal(alone_recorded(&a, 300), ALONE_DO_NOTHING);
	/* a node that is not the holder cannot record (the witness refuses:
	 * no echo, so its active keeps holding) */
	assert_int_equal(alone_silent(&a, true, 400), ALONE_DO_ASK);
	assert_int_equal(wit_outdated(&w, "b", "a", 400), EPERM);
	assert_int_equal(a.st, ALONE_ASKING);
	/* back in sync: a later silence asks again */
	alone_sync(&a);
	assert_int_equal(alone_silent(&a, true, 500), ALONE_DO_ASK);
	assert_string_equal(alone_state_name(a.st), "asking the witness");
}

int test_witness_run(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_quiet_after_start),
		cmocka_unit_test(t_one_holder),
		cmocka_unit_test(t_unused_grant),
		cmocka_unit_test(t_release),
		cmocka_unit_test(t_outdated),
		cmocka_unit_test(t_cold_position),
		cmocka_unit_test(t_cold_seen),
		cmocka_unit_test(t_file),
		cmocka_unit_test(t_codec),
		cmocka_unit_test(t_alone),
	};

	return cmocka_run_group_tests_name("witness", tests, NULL, NULL);
}
