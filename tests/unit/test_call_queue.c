/** @file test_call_queue.c  The queue applications (src/pbx/call_queue.c)
 * run by the real dialplan engine on a fake call, where no media or SIP is
 * needed: AddQueueMember / RemoveQueueMember / PauseQueueMember /
 * UnpauseQueueMember and their status variables, and Queue()'s answers
 * when the caller cannot join (UNKNOWN, FULL, JOINEMPTY, JOINUNAVAIL).
 * The calls that do join are covered by tests/e2e/test_queue_calls.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/mem.h"
#include "dialplan/dialplan.h"
#include "dialplan/exec.h"
#include "pbx/call_queue.h"
#include "pbx/queue.h"
#include "suites.h"

static size_t mem_before;
static struct queue_state *QS;
static struct dialplan *DP;
static struct dp_chan *CH;
static int fake_call;

static const char queues_conf[] =
	"[general]\n"
	"[q]\n"
	"strategy = rrmemory\n"
	"member => SIP/100-tfg\n"
	"[q-full]\n"
	"maxlen = 1\n"
	"member => SIP/100-tfg\n"
	"[q-empty]\n"
	"joinempty = no\n"
	"[q-paused]\n"
	"joinempty = no\n"
	"member => SIP/101-tfg,0,,,,,1\n";

static const char extensions_conf[] =
	"[t]\n"
	"exten => add,1,AddQueueMember(q,SIP/102-tfg,2,,Recepcion)\n"
	"exten => addself,1,AddQueueMember(q)\n"
	"exten => addnoq,1,AddQueueMember(nosuch,SIP/102-tfg)\n"
	"exten => rm,1,RemoveQueueMember(q,SIP/102-tfg)\n"
	"exten => rmstatic,1,RemoveQueueMember(q,SIP/100-tfg)\n"
	"exten => rmnoq,1,RemoveQueueMember(nosuch,SIP/102-tfg)\n"
	"exten => pause,1,PauseQueueMember(q,SIP/102-tfg,,lunch)\n"
	"exten => pauseall,1,PauseQueueMember(,SIP/100-tfg)\n"
	"exten => unpause,1,UnpauseQueueMember(q,SIP/102-tfg)\n"
	"exten => pausenot,1,PauseQueueMember(q,SIP/999)\n"
	"exten => qnoq,1,Queue(nosuch,,,,20)\n"
	"exten => qfull,1,Queue(q-full,,,,20)\n"
	"exten => qempty,1,Queue(q-empty,,,,20)\n"
	"exten => qpaused,1,Queue(q-paused,,,,20)\n";

static const char *f_get(void *call, const char *what)
{
	(void)call;
	if (!strcmp(what, "uniqueid"))
		return "test-1.1";
	if (!strcmp(what, "peer"))
		return "103-tfg";
	return NULL;
}

static int f_hangup(void *call, int cause)
{
	(void)call;
	(void)cause;
	return 0;
}

static const struct dp_chan_ops dops = { .get = f_get, .hangup = f_hangup };

/* Run exten@t to its end; the value of var. */
static const char *run(const char *exten, const char *var, char *out, size_t size)
{
	const char *v;

	assert_int_equal(dp_chan_alloc(&CH, DP, &dops, &fake_call, "t", exten, 1), 0);
	assert_int_equal(dp_chan_run(CH), DP_HANGUP);
	v = dp_chan_var_get(CH, var);
	snprintf(out, size, "%s", v ? v : "(unset)");
	dp_chan_free(CH);
	CH = NULL;
	return out;
}

static struct queue_member *member(const char *queue, const char *iface)
{
	return queue_member_find(queue_find(QS, queue), iface);
}

static int setup(void **state)
{
	struct conf *c = NULL;
	struct queuesconf *qc = NULL;
	char err[256];

	(void)state;
	mem_before = mem_live();
	call_queue_init();
	assert_int_equal(conf_parse_buf(&c, NULL, "queues.conf", queues_conf,
					strlen(queues_conf), err, sizeof(err)), 0);
	if (queuesconf_build(&qc, c, err, sizeof(err)))
		fail_msg("queuesconf_build: %s", err);
	assert_int_equal(queue_state_new(&QS, qc), 0);
	queuesconf_free(qc);
	queue_state_set_current(QS);
	c = NULL;
	assert_int_equal(conf_parse_buf(&c, NULL, "extensions.conf", extensions_conf,
					strlen(extensions_conf), err, sizeof(err)), 0);
	if (dialplan_build(&DP, c, err, sizeof(err)))
		fail_msg("dialplan: %s", err);
	conf_free(c);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dialplan_free(DP);
	DP = NULL;
	queue_state_set_current(NULL);
	queue_state_free(QS);
	QS = NULL;
	assert_int_equal(mem_live(), mem_before);
	return 0;
}

static void t_member_apps(void **state)
{
	char v[64];
	struct queue_member *m;

	(void)state;
	assert_string_equal(run("add", "AQMSTATUS", v, sizeof(v)), "ADDED");
	m = member("q", "SIP/102-tfg");
	assert_non_null(m);
	assert_true(m->dynamic);
	assert_int_equal(m->penalty, 2);
	assert_string_equal(m->membername, "Recepcion");
	assert_string_equal(run("add", "AQMSTATUS", v, sizeof(v)), "MEMBERALREADY");
	assert_string_equal(run("addnoq", "AQMSTATUS", v, sizeof(v)), "NOSUCHQUEUE");
	/* no interface: the calling phone's */
	assert_string_equal(run("addself", "AQMSTATUS", v, sizeof(v)), "ADDED");
	assert_non_null(member("q", "SIP/103-tfg"));

	assert_string_equal(run("pause", "PQMSTATUS", v, sizeof(v)), "PAUSED");
	assert_true(member("q", "SIP/102-tfg")->paused);
	assert_string_equal(member("q", "SIP/102-tfg")->paused_reason, "lunch");
	assert_string_equal(run("unpause", "UPQMSTATUS", v, sizeof(v)), "UNPAUSED");
	assert_false(member("q", "SIP/102-tfg")->paused);
	assert_string_equal(run("pausenot", "PQMSTATUS", v, sizeof(v)), "NOTFOUND");
	/* no queue: every queue the interface is in */
	assert_string_equal(run("pauseall", "PQMSTATUS", v, sizeof(v)), "PAUSED");
	assert_true(member("q", "SIP/100-tfg")->paused);
	assert_true(member("q-full", "SIP/100-tfg")->paused);

	assert_string_equal(run("rm", "RQMSTATUS", v, sizeof(v)), "REMOVED");
	assert_null(member("q", "SIP/102-tfg"));
	assert_string_equal(run("rm", "RQMSTATUS", v, sizeof(v)), "NOTINQUEUE");
	assert_string_equal(run("rmstatic", "RQMSTATUS", v, sizeof(v)), "NOTDYNAMIC");
	assert_string_equal(run("rmnoq", "RQMSTATUS", v, sizeof(v)), "NOSUCHQUEUE");
}

static void t_queue_not_joined(void **state)
{
	struct queue_join_args ja = { .id = "other", .max_penalty = INT_MAX,
				      .min_penalty = INT_MAX };
	struct queue_caller *other = NULL;
	enum queue_join_result jr;
	char v[64];

	(void)state;
	assert_string_equal(run("qnoq", "QUEUESTATUS", v, sizeof(v)), "UNKNOWN");
	assert_string_equal(run("qempty", "QUEUESTATUS", v, sizeof(v)), "JOINEMPTY");
	assert_string_equal(run("qpaused", "QUEUESTATUS", v, sizeof(v)), "JOINUNAVAIL");
	/* maxlen=1 and someone waits */
	assert_int_equal(queue_join(QS, "q-full", &ja, 1000, &other, &jr), 0);
	assert_int_equal(jr, QUEUE_JOINED);
	assert_string_equal(run("qfull", "QUEUESTATUS", v, sizeof(v)), "FULL");
	assert_int_equal(queue_find(QS, "q-full")->ncallers, 1);
	queue_leave(QS, other, QUEUE_LEFT_ABANDON, 1001);
}

int test_call_queue_run(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(t_member_apps),
		T(t_queue_not_joined),
	};
#undef T
	return cmocka_run_group_tests_name("call_queue", tests, NULL, NULL);
}
