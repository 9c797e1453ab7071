/**
 * @file test_queue.c  Queues: queues.conf (src/pbx/queue.c) with the
 * seed's queue and an Asterisk-sample file, the live state
 * (queue_state.c: join order, turns, every strategy's selection, reload,
 * dynamic members and their persistent string), the ctl command
 * (queue_ctl.c) and queue_log (queue_log.c), including a write that fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/moh_conf.h"
#include "pbx/queue.h"
#include "pbx/queue_log.h"
#include "logcap.h"
#include "suites.h"

#define DATA TANDEM_SOURCE_DIR "/tests/data/conf"
#define T0 ((time_t)1700000000)

static char err[512];
static size_t live_before;

static int setup(void **state)
{
	(void)state;
	live_before = mem_live();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(mem_live(), live_before);
	return 0;
}

static struct queuesconf *build(const char *text)
{
	struct conf *c = NULL;
	struct queuesconf *qc = NULL;

	assert_int_equal(conf_parse_buf(&c, NULL, "queues.conf", text, strlen(text), err,
					sizeof(err)), 0);
	if (queuesconf_build(&qc, c, err, sizeof(err)))
		fail_msg("queuesconf_build: %s", err);
	return qc;
}

static void build_err(const char *text, const char *msg)
{
	struct conf *c = NULL;
	struct queuesconf *qc = NULL;

	assert_int_equal(conf_parse_buf(&c, NULL, "queues.conf", text, strlen(text), err,
					sizeof(err)), 0);
	assert_int_equal(queuesconf_build(&qc, c, err, sizeof(err)), EINVAL);
	assert_null(qc);
	assert_string_equal(err, msg);
}

static struct queuesconf *load(const char *dir, char **log)
{
	struct conf *c = NULL;
	struct queuesconf *qc = NULL;

	logcap_start();
	assert_int_equal(conf_load(&c, dir, "queues.conf", err, sizeof(err)), 0);
	if (queuesconf_build(&qc, c, err, sizeof(err)))
		fail_msg("queuesconf_build: %s", err);
	*log = logcap_end();
	return qc;
}

/* A state on text; members' devices idle. */
static struct queue_state *state_of(const char *text)
{
	struct queuesconf *qc = build(text);
	struct queue_state *qs = NULL;
	size_t i, k;

	assert_int_equal(queue_state_new(&qs, qc), 0);
	queuesconf_free(qc);   /* the state holds its own reference */
	for (i = 0; i < qs->n; i++)
		for (k = 0; k < qs->queues[i]->nmembers; k++)
			qs->queues[i]->members[k]->status = QUEUE_DEV_NOT_INUSE;
	return qs;
}

static struct queue_caller *join(struct queue_state *qs, const char *q, const char *id,
				 int prio, int position, time_t now)
{
	struct queue_join_args a = {
		.id = id, .cidnum = "600111222", .prio = prio, .position = position,
		.max_penalty = INT_MAX, .min_penalty = INT_MAX,
	};
	struct queue_caller *c = NULL;
	enum queue_join_result r;

	assert_int_equal(queue_join(qs, q, &a, now, &c, &r), 0);
	assert_int_equal(r, QUEUE_JOINED);
	assert_non_null(c);
	return c;
}

/* Interfaces to ring now, "A,B". */
static const char *pick(struct queue_state *qs, struct queue_caller *c, time_t now,
			bool commit)
{
	static char buf[256];
	struct queue_selection sel;
	size_t i;

	queue_select(qs, c, now, 12345, NULL, NULL, &sel);
	buf[0] = '\0';
	for (i = 0; i < sel.nring; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "",
			 sel.cand[i].m->interface);
	if (commit)
		queue_selection_commit(c, &sel);
	return buf;
}

/* ------------------------------------------------------- queues.conf */

static void t_seed(void **state)
{
	char *log;
	struct queuesconf *qc = load(DATA "/tfg", &log);
	const struct queue_conf *q;

	(void)state;
	assert_int_equal(logcap_count(log, "WARNING"), 0);
	free(log);
	assert_int_equal(qc->n, 1);
	q = queuesconf_find(qc, "cola-tfg");
	assert_non_null(q);
	assert_ptr_equal(q, queuesconf_find(qc, "COLA-TFG"));
	assert_int_equal(q->strategy, QUEUE_RINGALL);
	assert_int_equal(q->timeout, 15);
	assert_int_equal(q->retry, 5);
	assert_string_equal(q->musicclass, "masip_tecnico");
	assert_int_equal(q->announce_holdtime, QUEUE_HOLDTIME_NO);
	/* joinempty=no: the classic conditions (Asterisk's backwards meaning) */
	assert_int_equal(q->joinempty,
			 QUEUE_EMPTY_PENALTY | QUEUE_EMPTY_PAUSED | QUEUE_EMPTY_INVALID);
	assert_int_equal(q->leavewhenempty, 0);
	assert_false(q->ringinuse);
	assert_int_equal(q->nmembers, 2);
	assert_string_equal(q->members[0].interface, "SIP/100-tfg");
	assert_string_equal(q->members[0].membername, "SIP/100-tfg");
	assert_string_equal(q->members[1].state_interface, "SIP/101-tfg");
	assert_int_equal(q->members[1].ringinuse, 0);
	assert_true(qc->gen.persistentmembers);
	assert_true(qc->gen.autofill);
	assert_true(q->autofill);
	assert_true(qc->gen.monitor_mixmonitor);
	assert_true(qc->gen.shared_lastcall);

	/* the seed's class masip_tecnico is in no musiconhold.conf */
	struct conf *c = NULL;
	struct mohconf *mc = NULL;
	assert_int_equal(conf_load(&c, DATA "/tfg", "musiconhold.conf", err, sizeof(err)), 0);
	logcap_start();
	assert_int_equal(mohconf_build(&mc, c, "/nonexistent", "/nonexistent", err,
				       sizeof(err)), 0);
	assert_int_equal(queuesconf_check_moh(qc, mc), 1);
	log = logcap_end();
	assert_non_null(strstr(log, "queues.conf:11: musicclass=masip_tecnico of queue "
				    "[cola-tfg]: no such class in musiconhold.conf; callers "
				    "hear class 'default'"));
	free(log);
	mohconf_free(mc);
	queuesconf_free(qc);
}

static void t_asterisk_sample(void **state)
{
	char *log;
	struct queuesconf *qc = load(DATA "/asterisk", &log);
	const struct queue_conf *q;

	(void)state;
	assert_int_equal(logcap_count(log, "WARNING"), 5);
	assert_non_null(strstr(log, "queues.conf:6: unknown option 'colour' in [general]"));
	assert_non_null(strstr(log, "queues.conf:19: announce-round-seconds=7 is not 0, 5"));
	assert_non_null(strstr(log, "queues.conf:23: unknown option 'eventwhencalled' in "
				    "[support] ignored"));
	assert_non_null(strstr(log, "queues.conf:29: member SIP/201 of queue [support] is "
				    "already listed at line 25; this line replaces it"));
	assert_non_null(strstr(log, "queues.conf:30: member 'DAHDI3' of queue [support] has "
				    "no '/'"));
	free(log);
	assert_false(qc->gen.autofill);             /* [general] without autofill */
	assert_false(qc->gen.shared_lastcall);
	assert_int_equal(qc->n, 2);                 /* [sales](!) is a template */
	q = queuesconf_find(qc, "support");
	assert_int_equal(q->strategy, QUEUE_RRMEMORY);   /* roundrobin */
	assert_int_equal(q->timeout, 20);
	assert_int_equal(q->retry, 5);              /* retry=0: the default */
	assert_int_equal(q->wrapuptime, 15);
	assert_int_equal(q->maxlen, 3);
	assert_int_equal(q->joinempty,
			 QUEUE_EMPTY_PAUSED | QUEUE_EMPTY_INUSE | QUEUE_EMPTY_INVALID);
	assert_int_equal(q->leavewhenempty, QUEUE_EMPTY_PENALTY | QUEUE_EMPTY_INVALID |
						    QUEUE_EMPTY_PAUSED | QUEUE_EMPTY_UNAVAILABLE);
	assert_int_equal(q->announce_frequency, 90);
	assert_int_equal(q->announce_holdtime, QUEUE_HOLDTIME_ONCE);
	assert_int_equal(q->announce_position, QUEUE_POS_LIMIT);
	assert_int_equal(q->announce_round_seconds, 0);
	assert_int_equal(q->nperiodic, 3);
	assert_string_equal(q->periodic_announce[2], "please-wait");
	assert_int_equal(q->servicelevel, 60);
	assert_int_equal(q->weight, 2);
	assert_int_equal(q->nmembers, 6);
	assert_string_equal(q->members[1].interface, "SIP/201");
	assert_int_equal(q->members[1].penalty, 5);
	assert_string_equal(q->members[1].membername, "Replaced");
	assert_string_equal(q->members[2].membername, "Bob Johnson");
	assert_int_equal(q->members[2].penalty, 2);
	assert_string_equal(q->members[3].interface, "Local/1001@agents");
	assert_string_equal(q->members[3].state_interface, "SIP/1001");
	assert_int_equal(q->members[4].ringinuse, 0);
	assert_int_equal(q->members[0].ringinuse, 1);
	q = queuesconf_find(qc, "sales-es");
	assert_int_equal(q->strategy, QUEUE_LEASTRECENT);
	assert_false(q->ringinuse);
	assert_int_equal(q->members[1].ringinuse, 0);
	assert_null(queuesconf_find(qc, "sales"));
	queuesconf_free(qc);
}

static void t_conf_errors(void **state)
{
	struct queuesconf *qc;
	unsigned v;
	char bad[32];

	(void)state;
	build_err("[q]\nstrategy=bestfirst\n", "queues.conf:2: strategy must be ringall, "
		  "leastrecent, fewestcalls, random, rrmemory, linear, wrandom or rrordered, "
		  "not 'bestfirst'");
	build_err("[q]\njoinempty=paused,sometimes\n", "queues.conf:2: joinempty: 'sometimes' "
		  "is not one of paused, penalty, inuse, ringing, unavailable, invalid, "
		  "unknown, wrapup (or yes, no, strict, loose)");
	build_err("[q]\ntimeout=15s\n", "queues.conf:2: timeout must be a whole number, not "
		  "'15s'");
	build_err("[q]\nringinuse=maybe\n", "queues.conf:2: ringinuse must be yes or no, not "
		  "'maybe'");
	build_err("[q]\nmember => SIP/1,high\n", "queues.conf:2: member must be "
		  "interface,penalty,...: the penalty a whole number, not 'SIP/1,high'");
	build_err("[q]\nmember => ,1\n", "queues.conf:2: member of queue [q] without an "
		  "interface (member => Technology/Resource[,penalty[,membername[,"
		  "state_interface]]])");
	build_err("[q]\n[Q]\n", "queues.conf:2: queue [Q] is already defined at "
		  "queues.conf:1");
	build_err("[general]\npersistentmembers=si\n", "queues.conf:2: persistentmembers "
		  "must be yes or no, not 'si'");
	build_err("[q]\nannounce-position=often\n", "queues.conf:2: announce-position must "
		  "be yes, no, limit or more, not 'often'");

	/* the old words mean opposite things for the two options */
	assert_int_equal(queue_empty_parse("yes", true, &v, bad, sizeof(bad)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(queue_empty_parse("yes", false, &v, bad, sizeof(bad)), 0);
	assert_int_equal(v, QUEUE_EMPTY_PENALTY | QUEUE_EMPTY_PAUSED | QUEUE_EMPTY_INVALID);
	assert_int_equal(queue_empty_parse("no", true, &v, bad, sizeof(bad)), 0);
	assert_int_equal(v, QUEUE_EMPTY_PENALTY | QUEUE_EMPTY_PAUSED | QUEUE_EMPTY_INVALID);
	assert_int_equal(queue_empty_parse("loose", true, &v, bad, sizeof(bad)), 0);
	assert_int_equal(v, QUEUE_EMPTY_PENALTY | QUEUE_EMPTY_INVALID);
	assert_int_equal(queue_empty_parse("wrapup, unknown", true, &v, bad, sizeof(bad)), 0);
	assert_int_equal(v, QUEUE_EMPTY_WRAPUP | QUEUE_EMPTY_UNKNOWN);

	/* without [general]: app_queue's initial autofill and shared_lastcall */
	qc = build("[q]\nmember => SIP/1\n");
	assert_true(qc->gen.autofill);
	assert_true(qc->gen.shared_lastcall);
	assert_false(qc->gen.persistentmembers);
	assert_true(qc->list[0]->autofill);
	queuesconf_free(qc);
	assert_int_equal(queuesconf_build(&qc, NULL, err, sizeof(err)), 0);
	assert_int_equal(qc->n, 0);
	queuesconf_free(qc);
	enum queue_strategy s;
	assert_int_equal(queue_strategy_parse("RRordered", &s), 0);
	assert_int_equal(s, QUEUE_RRORDERED);
	assert_string_equal(queue_strategy_name(QUEUE_WRANDOM), "wrandom");
}

/* --------------------------------------------------- callers, turns */

static void t_join_leave(void **state)
{
	struct queue_state *qs = state_of("[q]\nmaxlen=4\nmember => SIP/a\n");
	struct queue_caller *c1, *c2, *c3, *c4, *c;
	struct queue_join_args a = { .id = "x", .max_penalty = INT_MAX,
				     .min_penalty = INT_MAX };
	struct queue *q = queue_find(qs, "q");
	enum queue_join_result r;

	(void)state;
	c1 = join(qs, "q", "c1", 0, 0, T0);
	c2 = join(qs, "q", "c2", 0, 0, T0 + 1);
	c3 = join(qs, "q", "c3", 5, 0, T0 + 2);   /* higher priority: first */
	assert_int_equal(c3->pos, 1);
	assert_int_equal(c1->pos, 2);
	assert_int_equal(c2->pos, 3);
	assert_int_equal(c3->opos, 1);
	c4 = join(qs, "q", "c4", 0, 2, T0 + 3);   /* asks for position 2: gets it */
	assert_int_equal(c4->pos, 2);
	assert_ptr_equal(q->callers[1], c4);
	assert_int_equal(c1->pos, 3);
	assert_int_equal(queue_join(qs, "q", &a, T0, &c, &r), 0);
	assert_int_equal(r, QUEUE_FULL);
	assert_null(c);
	assert_int_equal(queue_join(qs, "nope", &a, T0, &c, &r), 0);
	assert_int_equal(r, QUEUE_NOSUCHQUEUE);
	assert_string_equal(queue_join_result_name(QUEUE_JOINEMPTY), "JOINEMPTY");

	queue_leave(qs, c3, QUEUE_LEFT_ABANDON, T0 + 10);
	assert_int_equal(c4->pos, 1);
	assert_int_equal(c1->pos, 2);
	assert_int_equal(c1->opos, 1);            /* where it joined */
	assert_int_equal(c4->opos, 2);
	queue_leave(qs, c4, QUEUE_LEFT_TIMEOUT, T0 + 60);
	queue_leave(qs, c1, QUEUE_LEFT_KEY, T0 + 60);
	assert_int_equal(q->abandoned, 2);
	assert_int_equal(q->ncallers, 1);
	assert_int_equal(c2->pos, 1);
	queue_leave(qs, c2, QUEUE_LEFT_ABANDON, T0 + 60);
	queue_state_free(qs);

	/* joinempty: nobody available under its conditions */
	qs = state_of("[q]\njoinempty=paused,unavailable\nleavewhenempty=inuse,paused\n"
		      "member => SIP/a\nmember => SIP/b\n");
	q = queue_find(qs, "q");
	assert_int_equal(queue_member_pause(qs, "q", "SIP/a", true, "lunch"), 0);
	queue_device_state(qs, "SIP/b", QUEUE_DEV_UNAVAILABLE);
	assert_int_equal(queue_join(qs, "q", &a, T0, &c, &r), 0);
	assert_int_equal(r, QUEUE_JOINEMPTY);
	queue_device_state(qs, "sip/B", QUEUE_DEV_INUSE);   /* case-insensitive */
	c = join(qs, "q", "c", 0, 0, T0);
	assert_false(queue_caller_may_stay(qs, c, T0));     /* b in use, a paused */
	queue_device_state(qs, "SIP/b", QUEUE_DEV_NOT_INUSE);
	assert_true(queue_caller_may_stay(qs, c, T0));
	queue_leave(qs, c, QUEUE_LEFT_EMPTY, T0);
	queue_state_free(qs);
}

static void t_turns(void **state)
{
	struct queue_state *qs = state_of("[general]\nautofill=yes\n[q]\nstrategy=linear\n"
					  "member => SIP/a\nmember => SIP/b\n"
					  "[r]\nstrategy=linear\nautofill=no\nmember => SIP/a\n"
					  "member => SIP/b\n[all]\nmember => SIP/a\nmember => SIP/b\n");
	struct queue_caller *c1, *c2, *c3, *r1, *r2, *a1, *a2;

	(void)state;
	c1 = join(qs, "q", "1", 0, 0, T0);
	c2 = join(qs, "q", "2", 0, 0, T0);
	c3 = join(qs, "q", "3", 0, 0, T0);
	/* autofill: two members available, the first two callers ring */
	assert_true(queue_caller_turn(qs, c1, T0));
	assert_true(queue_caller_turn(qs, c2, T0));
	assert_false(queue_caller_turn(qs, c3, T0));
	c1->pending = true;                 /* ringing: does not hold a slot */
	assert_true(queue_caller_turn(qs, c3, T0));
	queue_member_pause(qs, "q", "SIP/b", true, NULL);
	c1->pending = false;
	assert_false(queue_caller_turn(qs, c2, T0));
	/* autofill=no: only the head */
	r1 = join(qs, "r", "r1", 0, 0, T0);
	r2 = join(qs, "r", "r2", 0, 0, T0);
	assert_true(queue_caller_turn(qs, r1, T0));
	assert_false(queue_caller_turn(qs, r2, T0));
	/* ringall: one at a time even with autofill */
	a1 = join(qs, "all", "a1", 0, 0, T0);
	a2 = join(qs, "all", "a2", 0, 0, T0);
	assert_true(queue_caller_turn(qs, a1, T0));
	assert_false(queue_caller_turn(qs, a2, T0));
	queue_state_free(qs);   /* callers still waiting are freed with it */
}

/* -------------------------------------------------------- strategies */

#define FOUR "member => SIP/a\nmember => SIP/b\nmember => SIP/c,1\nmember => SIP/d\n"

static void t_ringall_penalty(void **state)
{
	struct queue_state *qs = state_of("[q]\n" FOUR "[lim]\npenaltymemberslimit=4\n" FOUR);
	struct queue_caller *c = join(qs, "q", "c", 0, 0, T0);
	struct queue_caller *l = join(qs, "lim", "l", 0, 0, T0);
	struct queue_selection sel;

	(void)state;
	assert_string_equal(pick(qs, c, T0, false), "SIP/a,SIP/b,SIP/d");
	queue_select(qs, c, T0, 1, NULL, NULL, &sel);
	assert_int_equal(sel.ncand, 4);
	assert_string_equal(sel.cand[3].m->interface, "SIP/c");   /* penalty 1: later */
	assert_int_equal(sel.cand[3].metric, 1000000);
	/* at most penaltymemberslimit members: penalties are ignored */
	assert_string_equal(pick(qs, l, T0, false), "SIP/a,SIP/b,SIP/c,SIP/d");
	/* QUEUE_MAX_PENALTY=0 leaves c out */
	c->max_penalty = 0;
	queue_select(qs, c, T0, 1, NULL, NULL, &sel);
	assert_int_equal(sel.ncand, 3);
	c->max_penalty = INT_MAX;
	c->min_penalty = 1;
	assert_string_equal(pick(qs, c, T0, false), "SIP/c");
	queue_state_free(qs);
}

static void t_ordered_strategies(void **state)
{
	struct queue_state *qs = state_of("[rr]\nstrategy=rrmemory\n" FOUR
					  "[lin]\nstrategy=linear\n" FOUR
					  "[least]\nstrategy=leastrecent\n" FOUR
					  "[few]\nstrategy=fewestcalls\n" FOUR);
	struct queue_caller *c, *d;
	struct queue *q;

	(void)state;
	/* rrmemory: the queue remembers where it left off, across callers;
	 * c has penalty 1 so comes after the others */
	c = join(qs, "rr", "c", 0, 0, T0);
	assert_string_equal(pick(qs, c, T0, true), "SIP/a");
	assert_string_equal(pick(qs, c, T0, true), "SIP/b");
	d = join(qs, "rr", "d", 0, 0, T0);
	assert_string_equal(pick(qs, d, T0, true), "SIP/d");
	assert_string_equal(pick(qs, c, T0, true), "SIP/a");   /* wrapped */
	queue_member_pause(qs, "rr", "SIP/b", true, NULL);
	assert_string_equal(pick(qs, c, T0, true), "SIP/d");   /* b paused: skipped */

	/* linear: each caller from the top, in file order */
	c = join(qs, "lin", "c", 0, 0, T0);
	d = join(qs, "lin", "d", 0, 0, T0);
	assert_string_equal(pick(qs, c, T0, true), "SIP/a");
	assert_string_equal(pick(qs, c, T0, true), "SIP/b");
	assert_string_equal(pick(qs, d, T0, true), "SIP/a");
	assert_string_equal(pick(qs, c, T0, true), "SIP/d");

	/* leastrecent: never called first, then the longest ago */
	c = join(qs, "least", "c", 0, 0, T0);
	q = queue_find(qs, "least");
	q->members[0]->lastcall = T0 - 10;
	q->members[1]->lastcall = T0 - 100;
	q->members[3]->lastcall = T0 - 50;
	assert_string_equal(pick(qs, c, T0, false), "SIP/b");
	q->members[1]->lastcall = 0;
	q->members[0]->lastcall = T0 - 500;
	struct queue_selection sel;
	queue_select(qs, c, T0, 1, NULL, NULL, &sel);
	assert_string_equal(sel.cand[0].m->interface, "SIP/b");
	assert_string_equal(sel.cand[1].m->interface, "SIP/a");
	assert_string_equal(sel.cand[2].m->interface, "SIP/d");
	assert_string_equal(sel.cand[3].m->interface, "SIP/c");

	/* fewestcalls */
	c = join(qs, "few", "c", 0, 0, T0);
	q = queue_find(qs, "few");
	q->members[0]->calls = 3;
	q->members[1]->calls = 1;
	q->members[3]->calls = 2;
	queue_select(qs, c, T0, 1, NULL, NULL, &sel);
	assert_string_equal(sel.cand[0].m->interface, "SIP/b");
	assert_string_equal(sel.cand[1].m->interface, "SIP/d");
	assert_string_equal(sel.cand[2].m->interface, "SIP/a");
	assert_int_equal(sel.nring, 1);
	queue_state_free(qs);
}

static void t_random_strategies(void **state)
{
	struct queue_state *qs = state_of("[r]\nstrategy=random\n" FOUR
					  "[w]\nstrategy=wrandom\n" FOUR);
	struct queue_caller *c = join(qs, "r", "c", 0, 0, T0);
	struct queue_caller *w = join(qs, "w", "w", 0, 0, T0);
	struct queue_selection s1, s2;
	size_t i, seen[4] = { 0 };
	uint32_t seed;

	(void)state;
	queue_select(qs, c, T0, 99, NULL, NULL, &s1);
	queue_select(qs, c, T0, 99, NULL, NULL, &s2);
	assert_int_equal(s1.ncand, 4);
	assert_int_equal(s1.nring, 1);
	for (i = 0; i < 4; i++)   /* same seed, same order: a pure function */
		assert_ptr_equal(s1.cand[i].m, s2.cand[i].m);
	assert_string_equal(s1.cand[3].m->interface, "SIP/c");   /* penalty still counts */
	for (seed = 1; seed <= 200; seed++) {
		queue_select(qs, c, T0, seed, NULL, NULL, &s1);
		seen[s1.cand[0].m->interface[4] - 'a']++;
	}
	assert_true(seen[0] && seen[1] && seen[3]);
	assert_int_equal(seen[2], 0);
	/* wrandom: the penalty is a weight, metric < (1 + penalty) * 1000 */
	for (seed = 1; seed <= 50; seed++) {
		queue_select(qs, w, T0, seed, NULL, NULL, &s1);
		assert_int_equal(s1.ncand, 4);
		for (i = 0; i < 4; i++)
			assert_true(s1.cand[i].metric < (1 + s1.cand[i].m->penalty) * 1000);
	}
	queue_state_free(qs);
}

static bool skip_a(const struct queue_member *m, void *arg)
{
	(void)arg;
	return !strcmp(m->interface, "SIP/a");
}

static void t_eligibility(void **state)
{
	struct queue_state *qs = state_of("[q]\nwrapuptime=15\nringinuse=no\n" FOUR
					  "[light]\n" FOUR "[heavy]\nweight=5\nmember => SIP/a\n");
	struct queue_caller *c = join(qs, "q", "c", 0, 0, T0);
	struct queue_caller *l, *h;
	struct queue_selection sel;
	struct queue *q = queue_find(qs, "q");

	(void)state;
	assert_string_equal(pick(qs, c, T0, false), "SIP/a,SIP/b,SIP/d");
	q->members[0]->lastcall = T0 - 5;           /* a: in wrapup */
	queue_device_state(qs, "SIP/b", QUEUE_DEV_INUSE);   /* b: on a call */
	assert_string_equal(pick(qs, c, T0, false), "SIP/d");
	queue_member_ringing(qs, "SIP/d", true);    /* d: rung for another caller */
	assert_string_equal(pick(qs, c, T0, false), "SIP/c");
	queue_member_ringing(qs, "SIP/d", false);
	q->members[0]->lastcall = T0 - 20;          /* wrapup over */
	queue_device_state(qs, "SIP/d", QUEUE_DEV_UNAVAILABLE);   /* not registered */
	assert_string_equal(pick(qs, c, T0, false), "SIP/a");
	queue_select(qs, c, T0, 1, skip_a, NULL, &sel);   /* tried already */
	assert_string_equal(sel.cand[0].m->interface, "SIP/c");
	queue_leave(qs, c, QUEUE_LEFT_ABANDON, T0);

	/* ringinuse=yes rings a busy member; weight: heavy queue owns a */
	l = join(qs, "light", "l", 0, 0, T0);
	assert_string_equal(pick(qs, l, T0, false), "SIP/a,SIP/b");
	h = join(qs, "heavy", "h", 0, 0, T0);
	assert_string_equal(pick(qs, l, T0, false), "SIP/b");
	assert_string_equal(pick(qs, h, T0, false), "SIP/a");
	queue_leave(qs, h, QUEUE_LEFT_ABANDON, T0);
	assert_string_equal(pick(qs, l, T0, false), "SIP/a,SIP/b");
	queue_state_free(qs);
}

/* ------------------------------------------------------ call outcome */

static void t_connected(void **state)
{
	struct queue_state *qs = state_of("[general]\nshared_lastcall=yes\n"
					  "[q]\nwrapuptime=10\nservicelevel=30\nringinuse=no\n"
					  "member => SIP/a\nmember => SIP/b\n"
					  "[p]\nringinuse=no\nmember => SIP/a\n");
	struct queue_caller *c = join(qs, "q", "c", 0, 0, T0);
	struct queue *q = queue_find(qs, "q"), *p = queue_find(qs, "p");
	struct queue_member *a = queue_member_find(q, "SIP/a");

	(void)state;
	queue_caller_connected(qs, c, a, T0 + 20);
	assert_int_equal(q->ncallers, 0);
	assert_int_equal(q->holdtime, 5);   /* (0 * 3 + 20) / 4 */
	assert_true(a->in_call);
	assert_true(queue_member_find(p, "SIP/a")->in_call);   /* shared_lastcall */
	c = join(qs, "q", "c2", 0, 0, T0 + 21);
	assert_string_equal(pick(qs, c, T0 + 21, false), "SIP/b");
	queue_call_done(qs, "q", "SIP/a", 20, 60, T0 + 80);
	assert_false(a->in_call);
	assert_int_equal(a->calls, 1);
	assert_int_equal(a->lastcall, T0 + 80);
	assert_int_equal(queue_member_find(p, "SIP/a")->calls, 1);
	assert_int_equal(q->completed, 1);
	assert_int_equal(q->completed_in_sl, 1);
	assert_int_equal(q->talktime, 60);
	assert_string_equal(pick(qs, c, T0 + 85, false), "SIP/b");   /* a in wrapup */
	assert_string_equal(pick(qs, c, T0 + 91, false), "SIP/a,SIP/b");
	queue_call_done(qs, "q", "SIP/b", 40, 20, T0 + 100);
	assert_int_equal(q->completed_in_sl, 1);    /* held 40 s > servicelevel */
	assert_int_equal(q->talktime, 50);          /* (60 * 3 + 20) / 4 */
	queue_call_done(qs, "nope", "SIP/b", 0, 0, T0);
	queue_state_free(qs);
}

/* ------------------------------------------- reload, dynamic members */

static char persisted[512];
static int persist_calls;

static void persist_h(const char *queue, const char *value, void *arg)
{
	(void)arg;
	persist_calls++;
	snprintf(persisted, sizeof(persisted), "%s=%s", queue, value ? value : "(deleted)");
}

static void t_dynamic_members(void **state)
{
	struct queue_state *qs = state_of("[general]\npersistentmembers=yes\n"
					  "[cola-tfg]\nmember => SIP/100-tfg\n[other]\n");
	struct queue_state *qs2;
	struct queue *q;
	char *s;

	(void)state;
	queue_state_set_persist(qs, persist_h, NULL);
	assert_int_equal(queue_member_add(qs, "cola-tfg", "SIP/102-tfg", 0, false, NULL,
					  NULL), 0);
	assert_string_equal(persisted, "cola-tfg=SIP/102-tfg;0;0;SIP/102-tfg;SIP/102-tfg");
	assert_int_equal(queue_member_add(qs, "COLA-TFG", "Local/103@agents", 2, true, "Ana",
					  "SIP/103-tfg"), 0);
	assert_string_equal(persisted, "cola-tfg=SIP/102-tfg;0;0;SIP/102-tfg;SIP/102-tfg|"
				       "Local/103@agents;2;1;Ana;SIP/103-tfg");
	assert_int_equal(queue_member_add(qs, "cola-tfg", "sip/102-TFG", 0, false, NULL, NULL),
			 EEXIST);
	assert_int_equal(queue_member_add(qs, "nope", "SIP/1", 0, false, NULL, NULL), ENOENT);
	assert_int_equal(queue_member_remove(qs, "cola-tfg", "SIP/100-tfg"), EPERM);
	assert_int_equal(queue_member_remove(qs, "cola-tfg", "SIP/999"), ESRCH);
	assert_int_equal(queue_member_remove(qs, "nope", "SIP/999"), ENOENT);
	assert_int_equal(queue_member_pause(qs, NULL, "SIP/999", true, NULL), ESRCH);
	assert_int_equal(queue_member_pause(qs, "", "Local/103@agents", false, NULL), 0);
	assert_string_equal(persisted, "cola-tfg=SIP/102-tfg;0;0;SIP/102-tfg;SIP/102-tfg|"
				       "Local/103@agents;2;0;Ana;SIP/103-tfg");

	/* after a restart the string brings them back (astdb's job) */
	q = queue_find(qs, "cola-tfg");
	s = queue_persist_dump(q);
	assert_non_null(s);
	qs2 = state_of("[general]\npersistentmembers=yes\n[cola-tfg]\nmember => SIP/100-tfg\n");
	persist_calls = 0;
	queue_state_set_persist(qs2, persist_h, NULL);
	assert_int_equal(queue_persist_load(qs2, "cola-tfg", s), 2);
	assert_int_equal(persist_calls, 0);   /* loading does not write back */
	assert_int_equal(queue_find(qs2, "cola-tfg")->nmembers, 3);
	assert_true(queue_member_find(queue_find(qs2, "cola-tfg"), "Local/103@agents")->dynamic);
	assert_string_equal(queue_member_find(queue_find(qs2, "cola-tfg"),
					      "Local/103@agents")->state_interface, "SIP/103-tfg");
	free(s);
	/* older and newer Asterisk strings: fewer fields, ',' separators, more fields */
	assert_int_equal(queue_persist_load(qs2, "cola-tfg", "SIP/7;1;0,SIP/8;0;1;Eve;SIP/8;"
					    "lunch;30"), 2);
	assert_true(queue_member_find(queue_find(qs2, "cola-tfg"), "SIP/8")->paused);
	assert_string_equal(queue_member_find(queue_find(qs2, "cola-tfg"), "SIP/7")->membername,
			    "SIP/7");
	logcap_start();
	assert_int_equal(queue_persist_load(qs2, "cola-tfg", "SIP/9;1;0|SIP/10|SIP/11;0;0"),
			 -EINVAL);
	free(logcap_end());
	assert_non_null(queue_member_find(queue_find(qs2, "cola-tfg"), "SIP/9"));
	assert_null(queue_member_find(queue_find(qs2, "cola-tfg"), "SIP/11"));
	assert_int_equal(queue_persist_load(qs2, "gone", "SIP/1;0;0"), -ENOENT);
	queue_state_free(qs2);

	assert_int_equal(queue_member_remove(qs, "cola-tfg", "SIP/102-tfg"), 0);
	assert_int_equal(queue_member_remove(qs, "cola-tfg", "Local/103@agents"), 0);
	assert_string_equal(persisted, "cola-tfg=(deleted)");
	queue_state_free(qs);
}

static void t_reload(void **state)
{
	struct queue_state *qs = state_of("[q]\nstrategy=rrmemory\nmember => SIP/a\n"
					  "member => SIP/b\nmember => SIP/c\n"
					  "[gone-busy]\nmember => SIP/a\n[gone-idle]\n");
	struct queuesconf *next;
	struct queue_caller *c, *g;
	struct queue *q = queue_find(qs, "q");

	(void)state;
	assert_int_equal(queue_member_add(qs, "q", "SIP/dyn", 0, false, NULL, NULL), 0);
	c = join(qs, "q", "c", 0, 0, T0);
	g = join(qs, "gone-busy", "g", 0, 0, T0);
	queue_member_find(q, "SIP/a")->calls = 4;
	queue_member_pause(qs, "q", "SIP/c", true, NULL);
	assert_string_equal(pick(qs, c, T0, true), "SIP/a");
	assert_string_equal(pick(qs, c, T0, true), "SIP/b");
	assert_int_equal(q->rrpos, 3);              /* next: SIP/dyn (c is paused) */

	/* b leaves the file, d arrives; a and c keep their counters/pause */
	next = build("[q]\nstrategy=rrmemory\ntimeout=30\nmember => SIP/a,3\nmember => SIP/c\n"
		     "member => SIP/d\n[new]\n");
	logcap_start();
	assert_int_equal(queue_state_reload(qs, next), 0);
	free(logcap_end());
	queuesconf_free(next);
	assert_ptr_equal(queue_find(qs, "q"), q);
	assert_int_equal(q->cf->timeout, 30);
	assert_int_equal(q->nmembers, 4);
	assert_null(queue_member_find(q, "SIP/b"));
	assert_int_equal(queue_member_find(q, "SIP/a")->calls, 4);
	assert_int_equal(queue_member_find(q, "SIP/a")->penalty, 3);
	assert_true(queue_member_find(q, "SIP/c")->paused);
	assert_true(queue_member_find(q, "SIP/dyn")->dynamic);
	assert_int_equal(queue_member_find(q, "SIP/dyn")->queuepos, 2);
	assert_int_equal(queue_member_find(q, "SIP/d")->queuepos, 3);
	assert_int_equal(q->rrpos, 2);              /* still SIP/dyn */
	assert_int_equal(q->ncallers, 1);
	assert_ptr_equal(q->callers[0], c);
	queue_device_state(qs, "SIP/d", QUEUE_DEV_NOT_INUSE);
	queue_device_state(qs, "SIP/dyn", QUEUE_DEV_NOT_INUSE);
	assert_string_equal(pick(qs, c, T0, true), "SIP/dyn");
	assert_non_null(queue_find(qs, "new"));
	assert_null(queue_find(qs, "gone-idle"));
	/* gone-busy: dead, its caller stays until it leaves */
	assert_null(queue_find(qs, "gone-busy"));
	assert_int_equal(qs->n, 3);
	assert_true(g->q->dead);
	assert_int_equal(queue_member_add(qs, "gone-busy", "SIP/x", 0, false, NULL, NULL),
			 ENOENT);
	queue_leave(qs, g, QUEUE_LEFT_ABANDON, T0);
	assert_int_equal(qs->n, 2);
	queue_state_free(qs);
}

/* -------------------------------------------------------- queue_log */

static char qdir[64];

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(buf);
	if (fread(buf, 1, 65535, f) == 0)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static void t_queue_log(void **state)
{
	time_t now = T0;
	char path[128], cmd[128], *s;
	struct rlimit old, lim;

	(void)state;
	snprintf(qdir, sizeof(qdir), "/tmp/tandem-ql-XXXXXX");
	assert_non_null(mkdtemp(qdir));
	snprintf(path, sizeof(path), "%s/queue_log", qdir);
	queue_log_test_clock(&now);
	assert_int_equal(queue_log_open(qdir), 0);
	queue_log_enterqueue("cola-tfg", "1700000000.12", "", "600111222", 1);
	now++;
	queue_log_ringnoanswer("cola-tfg", "1700000000.12", "SIP/100-tfg", 15000);
	queue_log_connect("cola-tfg", "1700000000.12", "SIP/101-tfg", 21, "1700000021.13", 6);
	queue_log_complete("cola-tfg", "1700000000.12", "SIP/101-tfg", 1, 21, 95, 1);
	queue_log_complete("cola-tfg", "1700000000.14", "SIP/101-tfg", 0, 3, 10, 2);
	queue_log_exit("cola-tfg", "1700000000.15", "ABANDON", 2, 3, 40);
	queue_log_exit("cola-tfg", "1700000000.16", "EXITWITHTIMEOUT", 1, 1, 60);
	queue_log_exit("cola-tfg", "1700000000.17", "EXITEMPTY", 1, 1, 2);
	queue_log_exitwithkey("cola-tfg", "1700000000.18", "5", 1, 1, 9);
	queue_log_member("cola-tfg", "CLI", "SIP/102-tfg", 1, 0);
	queue_log_member("cola-tfg", "MANAGER", "SIP/102-tfg", 1, 1);
	queue_log_member("cola-tfg", "1700000000.19", "SIP/102-tfg", 0, 0);
	queue_log_pause("cola-tfg", "SIP/102-tfg", 1, "lunch");
	queue_log_pause("cola-tfg", "SIP/102-tfg", 0, NULL);
	queue_log_write("bad|name", NULL, "a\nb", "CUSTOM", "%s", "x\ny");
	queue_log_close();
	s = slurp(path);
	assert_string_equal(s,
		"1700000000|NONE|NONE|NONE|QUEUESTART|\n"
		"1700000000|1700000000.12|cola-tfg|NONE|ENTERQUEUE||600111222|1\n"
		"1700000001|1700000000.12|cola-tfg|SIP/100-tfg|RINGNOANSWER|15000\n"
		"1700000001|1700000000.12|cola-tfg|SIP/101-tfg|CONNECT|21|1700000021.13|6\n"
		"1700000001|1700000000.12|cola-tfg|SIP/101-tfg|COMPLETECALLER|21|95|1\n"
		"1700000001|1700000000.14|cola-tfg|SIP/101-tfg|COMPLETEAGENT|3|10|2\n"
		"1700000001|1700000000.15|cola-tfg|NONE|ABANDON|2|3|40\n"
		"1700000001|1700000000.16|cola-tfg|NONE|EXITWITHTIMEOUT|1|1|60\n"
		"1700000001|1700000000.17|cola-tfg|NONE|EXITEMPTY|1|1|2\n"
		"1700000001|1700000000.18|cola-tfg|NONE|EXITWITHKEY|5|1|1|9\n"
		"1700000001|CLI|cola-tfg|SIP/102-tfg|ADDMEMBER|\n"
		"1700000001|MANAGER|cola-tfg|SIP/102-tfg|ADDMEMBER|PAUSED\n"
		"1700000001|1700000000.19|cola-tfg|SIP/102-tfg|REMOVEMEMBER|\n"
		"1700000001|NONE|cola-tfg|SIP/102-tfg|PAUSE|lunch\n"
		"1700000001|NONE|cola-tfg|SIP/102-tfg|UNPAUSE|\n"
		"1700000001|NONE|bad_name|a_b|CUSTOM|x_y\n");
	free(s);
	queue_log_write("q", "c", "a", "NOTOPEN", NULL);   /* closed: a no-op */

	/* the disk fills up: one error, no torn line, counted, then recovery */
	assert_int_equal(queue_log_open(qdir), 0);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	s = slurp(path);
	lim.rlim_cur = strlen(s) + 20;   /* room for part of one more line */
	free(s);
	signal(SIGXFSZ, SIG_IGN);
	logcap_start();
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	queue_log_exit("cola-tfg", "1700000000.20", "ABANDON", 1, 1, 5);
	queue_log_exit("cola-tfg", "1700000000.21", "ABANDON", 1, 1, 5);
	assert_int_equal(queue_log_lost(), 2);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	queue_log_exit("cola-tfg", "1700000000.22", "ABANDON", 1, 1, 5);
	s = logcap_end();
	assert_int_equal(logcap_count(s, "ERROR"), 1);
	assert_non_null(strstr(s, "queue_log is written again; 2 queue events were lost"));
	free(s);
	assert_int_equal(queue_log_lost(), 0);
	queue_log_close();
	s = slurp(path);
	assert_null(strstr(s, ".20|"));
	assert_null(strstr(s, ".21|"));
	assert_non_null(strstr(s, "\n1700000001|1700000000.22|cola-tfg|NONE|ABANDON|1|1|5\n"));
	free(s);
	queue_log_test_clock(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", qdir);
	assert_int_equal(system(cmd), 0);
	logcap_start();
	assert_int_equal(queue_log_open("/nonexistent-tandem-dir"), ENOENT);
	free(logcap_end());
}

/* --------------------------------------------------------------- ctl */

static json_t *ctl(const char *a0, const char *a1, const char *a2, const char *a3,
		   const char *a4, const char *a5, const char *a6)
{
	const char *v[] = { a0, a1, a2, a3, a4, a5, a6 };
	json_t *args = json_array(), *r;
	size_t i;

	for (i = 0; i < 7 && v[i]; i++)
		json_array_append_new(args, json_string(v[i]));
	err[0] = '\0';
	r = queue_ctl_cmd(args, err, sizeof(err));
	json_decref(args);
	return r;
}

static void t_ctl(void **state)
{
	struct queue_state *qs = state_of("[cola-tfg]\nmember => SIP/100-tfg\n"
					  "member => SIP/101-tfg\n");
	json_t *j, *m;
	struct queue *q = queue_find(qs, "cola-tfg");
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_null(ctl("show", NULL, NULL, NULL, NULL, NULL, NULL));
	assert_string_equal(err, "queues are not running");
	queue_state_set_current(qs);
	assert_ptr_equal(queue_state_current(), qs);
	join(qs, "cola-tfg", "1700000000.1", 0, 0, time(NULL) - 75);

	j = ctl("add", "cola-tfg", "SIP/102-tfg", "2", "Ana", NULL, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "result")),
			    "Added interface 'SIP/102-tfg' to queue 'cola-tfg'");
	json_decref(j);
	j = ctl("add", "member", "SIP/103-tfg", "to", "cola-tfg", "penalty", "1");
	assert_non_null(j);
	json_decref(j);
	assert_int_equal(queue_member_find(q, "SIP/103-tfg")->penalty, 1);
	assert_null(ctl("add", "cola-tfg", "SIP/103-tfg", NULL, NULL, NULL, NULL));
	assert_string_equal(err, "Unable to add interface 'SIP/103-tfg' to queue 'cola-tfg': "
				 "Already there");
	assert_null(ctl("add", "nope", "SIP/1", NULL, NULL, NULL, NULL));
	assert_string_equal(err, "Unable to add interface to queue 'nope': No such queue");
	assert_null(ctl("add", "cola-tfg", "SIP/1", "-3", NULL, NULL, NULL));
	assert_null(ctl("add", "cola-tfg", NULL, NULL, NULL, NULL, NULL));
	assert_non_null(strstr(err, "usage: queue add"));

	j = ctl("pause", "cola-tfg", "SIP/102-tfg", "lunch", NULL, NULL, NULL);
	assert_non_null(j);
	json_decref(j);
	assert_true(queue_member_find(q, "SIP/102-tfg")->paused);
	assert_string_equal(queue_member_find(q, "SIP/102-tfg")->paused_reason, "lunch");
	j = ctl("unpause", "member", "SIP/102-tfg", NULL, NULL, NULL, NULL);
	assert_non_null(j);
	json_decref(j);
	assert_false(queue_member_find(q, "SIP/102-tfg")->paused);
	j = ctl("pause", "--all", "SIP/100-tfg", NULL, NULL, NULL, NULL);
	assert_non_null(j);
	json_decref(j);
	assert_true(queue_member_find(q, "SIP/100-tfg")->paused);
	assert_null(ctl("pause", "cola-tfg", "SIP/999", NULL, NULL, NULL, NULL));
	assert_null(ctl("pause", "nope", "SIP/100-tfg", NULL, NULL, NULL, NULL));
	assert_string_equal(err, "No such queue: 'nope'");

	j = ctl("show", "cola-tfg", NULL, NULL, NULL, NULL, NULL);
	assert_non_null(j);
	m = json_array_get(json_object_get(j, "queues"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "strategy")), "ringall");
	assert_int_equal(json_array_size(json_object_get(m, "members")), 4);
	assert_int_equal(json_integer_value(json_object_get(m, "calls")), 1);
	m = json_array_get(json_object_get(m, "members"), 2);
	assert_string_equal(json_string_value(json_object_get(m, "name")), "Ana");
	assert_true(json_is_true(json_object_get(m, "dynamic")));
	f = open_memstream(&text, &len);
	queue_print(f, j);
	fclose(f);
	assert_non_null(strstr(text, "cola-tfg has 1 calls (max unlimited) in 'ringall' "
				     "strategy (0s holdtime, 0s talktime), W:0, C:0, A:0, "
				     "SL:0.0%, SL2:0.0% within 0s\n   Members: \n"
				     "      SIP/100-tfg (ringinuse enabled) (paused) (Not in use) "
				     "has taken no calls yet\n"));
	assert_non_null(strstr(text, "      Ana (SIP/102-tfg from SIP/102-tfg) with penalty 2 "
				     "(ringinuse enabled) (dynamic) (Unknown) has taken no "
				     "calls yet\n"));
	assert_non_null(strstr(text, "   Callers: \n      1. 1700000000.1 from 600111222 "
				     "(wait: 1:15, prio: 0)\n"));
	free(text);
	json_decref(j);
	assert_null(ctl("show", "nope", NULL, NULL, NULL, NULL, NULL));
	assert_string_equal(err, "No such queue: nope.");
	j = ctl(NULL, NULL, NULL, NULL, NULL, NULL, NULL);   /* bare "queue": show all */
	assert_int_equal(json_array_size(json_object_get(j, "queues")), 1);
	json_decref(j);

	j = ctl("remove", "member", "SIP/102-tfg", "from", "cola-tfg", NULL, NULL);
	assert_non_null(j);
	json_decref(j);
	assert_null(ctl("remove", "cola-tfg", "SIP/100-tfg", NULL, NULL, NULL, NULL));
	assert_non_null(strstr(err, "static member"));
	assert_null(ctl("remove", "cola-tfg", "SIP/102-tfg", NULL, NULL, NULL, NULL));
	assert_non_null(strstr(err, "Not there"));
	assert_null(ctl("frobnicate", NULL, NULL, NULL, NULL, NULL, NULL));
	assert_non_null(strstr(err, "usage: queue show"));
	queue_state_free(qs);
	assert_null(queue_state_current());
}

int test_queue_run(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(t_seed),
		T(t_asterisk_sample),
		T(t_conf_errors),
		T(t_join_leave),
		T(t_turns),
		T(t_ringall_penalty),
		T(t_ordered_strategies),
		T(t_random_strategies),
		T(t_eligibility),
		T(t_connected),
		T(t_dynamic_members),
		T(t_reload),
		T(t_queue_log),
		T(t_ctl),
	};
#undef T
	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
