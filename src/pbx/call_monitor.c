/**
 * @file call_monitor.c  MixMonitor, StopMixMonitor, Monitor, StopMonitor
 * on a call, as Asterisk's app_mixmonitor and res_monitor.
 *
 * MixMonitor(file[,options[,command]]): both parties mixed into file
 * (a relative name under DATADIR/monitor/, the extension picks the
 * format, none: .raw, signed linear), MIXMONITOR_FILENAME set to its
 * full path. Options: a append to an existing file; b only while
 * bridged; v(x) V(x) W(x) volume of what the caller says, hears, both
 * (-4..4, a factor of 2 a step); r(file) t(file) also what the caller
 * says (reads) / hears (is sent) alone. The command runs through
 * /bin/sh when the recording is finished. StopMixMonitor() finishes it.
 *
 * Monitor([format[,fname_base[,options]]]): BASE-in.FORMAT (what the
 * caller says) and BASE-out.FORMAT (what it hears), or with m one mixed
 * BASE.FORMAT (Asterisk records the two then mixes them with sox; the
 * result is the same file); b only while bridged. No fname_base:
 * Asterisk's TIME-CHANNEL, the channel name's '/' turned into '-'.
 * StopMonitor() finishes it.
 *
 * Every file is written as NAME.part and renamed when the recording
 * ends (the call ends, or Stop*): a file under its final name is
 * complete; a recording that failed (a full disk) leaves nothing.
 * What the caller hears is the callee, or the prompts and music Tandem
 * plays to it (rtp_local.c). Differences: a second MixMonitor replaces the
 * first instead of running beside it; in the command, ^{MIXMONITOR_FILENAME}
 * is the only ^{} expanded (other variables: ${} when MixMonitor runs).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/fs.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/mem.h"
#include "core/spawn.h"
#include "dialplan/exec.h"
#include "media/mixmon.h"
#include "media/rec.h"
#include "pbx/call_int.h"
#include "pbx/call_monitor.h"

enum { SLOT_MIX = 0, SLOT_MONITOR = 1 };

struct cmon {
	struct mixmon *mm;
	bool bridged_only;
	char name[PATH_MAX];     /* for the log: the main file */
	char file[PATH_MAX];     /* MIXMONITOR_FILENAME */
	char *command;           /* MixMonitor's, run when finished */
};

static char mondir[PATH_MAX / 2] = "monitor";

static void warn_at(struct dp_chan *chan, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn_at(struct dp_chan *chan, const char *fmt, ...)
{
	unsigned line;
	const char *file = dp_chan_file(chan, &line);
	char msg[PATH_MAX + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s:%u: %s", file, line, msg);
}

/* name -> a full path: relative names under DATADIR/monitor/; the
 * directories are made. ENAMETOOLONG or an errno from mkdir. */
static int full_path(const char *name, char *out, size_t size)
{
	char dir[PATH_MAX];
	char *slash;
	int n = name[0] == '/' ? snprintf(out, size, "%s", name) :
		snprintf(out, size, "%s/%s", mondir, name);

	if (n < 0 || (size_t)n >= size)
		return ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", out);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return fs_mkdirs(dir, 0750);
}

/* Open one file of a recording (append: go on from an existing one). */
static int open_file(struct dp_chan *chan, const char *name, bool append, struct rec **rp,
		     char *path, size_t size)
{
	int err = full_path(name, path, size);

	if (err) {
		warn_at(chan, "recording %s: %s", name, strerror(err));
		return err;
	}
	err = append ? rec_open_append(rp, path) : rec_open(rp, path);
	if (err)
		warn_at(chan, "cannot record to %s: %s", path, strerror(err));
	return err;
}

static void cmon_destroy(void *arg)
{
	struct cmon *m = arg;

	mem_deref(m->mm);
	free(m->command);
}

/* MixMonitor's command, ^{MIXMONITOR_FILENAME} replaced by the file. */
static void run_command(const struct cmon *m)
{
	static const char key[] = "^{MIXMONITOR_FILENAME}";
	char cmd[4096];
	const char *p = m->command, *k;
	size_t n = 0;

	while ((k = strstr(p, key)) && n < sizeof(cmd)) {
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%.*s%s", (int)(k - p), p,
				      m->file);
		p = k + sizeof(key) - 1;
	}
	if (n < sizeof(cmd))
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s", p);
	if (n >= sizeof(cmd)) {
		log_warn("MixMonitor: the command is too long: not run");
		return;
	}
	(void)spawn_sh(cmd, NULL, "MixMonitor");
}

/* Finish the recording in slot: rename its files, run its command. */
static void stop_slot(struct call *c, int slot)
{
	struct cmon *m = c->mon[slot];
	int err;

	if (!m)
		return;
	c->mon[slot] = NULL;
	if (c->relay)
		rtp_relay_monitor(c->relay, (unsigned)slot, NULL);
	err = mixmon_finish(m->mm, loop_now());
	if (err) {
		log_warn("call %u: recording %s failed (%s): no file kept", c->id, m->name,
			 strerror(err));
	} else {
		log_info("call %u: recording %s finished (%.1f s)", c->id, m->name,
			 (double)mixmon_samples(m->mm) / 8000.0);
		if (m->command)
			run_command(m);
	}
	mem_deref(m);
}

static bool is_bridged(const struct call *c)
{
	return c->bridged && c->bridged->state == LEG_UP;
}

static int start_slot(struct call *c, int slot, struct cmon *m, struct rec *mix,
		      struct rec *a, struct rec *b, const int vol[2])
{
	int err;

	if (!c->relay)
		return ENOTCONN;
	err = mixmon_alloc(&m->mm, mix, a, b, vol, !m->bridged_only || is_bridged(c),
			   loop_now());
	if (err)
		return err;
	stop_slot(c, slot);
	if ((err = rtp_relay_monitor(c->relay, (unsigned)slot, m->mm)))
		return err;
	c->mon[slot] = m;
	return 0;
}

/* x in "v(x)": -4..4 */
static bool vol_arg(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || v < -4 || v > 4)
		return false;
	*out = (int)v;
	return true;
}

/* Options "ab v(2) r(file)": letters, some with an argument in (). The
 * argument of letter L goes to arg[L - 'A'] (NULL: none). */
static void opts_parse(char *o, bool *set, char **arg)
{
	while (*o) {
		unsigned char k = (unsigned char)*o++;

		if (k < 'A' || k > 'z')
			continue;
		set[k - 'A'] = true;
		if (*o == '(') {
			char *close = strchr(o + 1, ')');

			arg[k - 'A'] = o + 1;
			if (close) {
				*close = '\0';
				o = close + 1;
			} else {
				o += strlen(o);
			}
		}
	}
}

static enum dp_app_ret app_mixmonitor(struct dp_chan *chan, const char *data)
{
	struct call *c = dp_chan_call(chan);
	char *d = strdup(data ? data : ""), *v[3], *arg['z' - 'A' + 1] = { 0 };
	bool set['z' - 'A' + 1] = { 0 };
	char path[PATH_MAX], name[PATH_MAX];
	struct rec *mix = NULL, *rt[2] = { NULL, NULL };
	struct cmon *m = NULL;
	char *file = NULL;
	int vol[2] = { 0, 0 }, err = 0;
	bool append;

	if (!d)
		return DP_APP_NEXT;
	dp_args_split(d, v, 3);
	opts_parse(v[1], set, arg);
	append = set['a' - 'A'];
	if (!*v[0] && !arg['r' - 'A'] && !arg['t' - 'A']) {
		warn_at(chan, "MixMonitor requires an argument (filename or ,t(filename) "
			"and/or r(filename))");
		goto out;
	}
	if ((set['v' - 'A'] && !vol_arg(arg['v' - 'A'] ? arg['v' - 'A'] : "", &vol[0])) ||
	    (set['V' - 'A'] && !vol_arg(arg['V' - 'A'] ? arg['V' - 'A'] : "", &vol[1])) ||
	    (set['W' - 'A'] && !vol_arg(arg['W' - 'A'] ? arg['W' - 'A'] : "", &vol[0])))
		warn_at(chan, "MixMonitor: a volume must be -4 to 4; ignored");
	if (set['W' - 'A'])
		vol[1] = vol[0];
	name[0] = '\0';
	if (*v[0]) {
		/* Asterisk: no extension is raw signed linear */
		snprintf(name, sizeof(name), "%s%s", v[0], strrchr(v[0], '.') &&
			 !strchr(strrchr(v[0], '.'), '/') ? "" : ".raw");
		if ((err = open_file(chan, name, append, &mix, path, sizeof(path))))
			goto out;
		dp_chan_var_set(chan, "MIXMONITOR_FILENAME", path);
		snprintf(name, sizeof(name), "%s", path);
		file = strdup(path);
	}
	for (int i = 0; i < 2 && !err; i++) {
		const char *f = arg[(i ? 't' : 'r') - 'A'];

		if (f && *f)
			err = open_file(chan, f, append, &rt[i], path, sizeof(path));
		if (!err && f && *f && !name[0])
			snprintf(name, sizeof(name), "%s", path);
	}
	if (err)
		goto out;
	m = mem_zalloc(sizeof(*m), cmon_destroy);
	if (!m)
		goto out;
	m->bridged_only = set['b' - 'A'];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->file, sizeof(m->file), "%s", file ? file : "");
	if (*v[2])
		m->command = strdup(v[2]);
	if ((err = start_slot(c, SLOT_MIX, m, mix, rt[0], rt[1], vol))) {
		warn_at(chan, "MixMonitor: the call has no media to record (%s)", strerror(err));
		mem_deref(m);
	} else {
		log_info("call %u: MixMonitor into %s%s", c->id, name,
			 m->bridged_only ? " (while bridged)" : "");
	}
out:
	mem_deref(mix);
	mem_deref(rt[0]);
	mem_deref(rt[1]);
	free(file);
	free(d);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_stopmixmonitor(struct dp_chan *chan, const char *data)
{
	(void)data;
	stop_slot(dp_chan_call(chan), SLOT_MIX);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_monitor(struct dp_chan *chan, const char *data)
{
	struct call *c = dp_chan_call(chan);
	char *d = strdup(data ? data : ""), *v[3], *ch, base[PATH_MAX / 2];
	char name[PATH_MAX], path[PATH_MAX];
	const char *fmt, *ext;
	struct rec *f[2] = { NULL, NULL }, *mix = NULL;
	struct cmon *m = NULL;
	bool mixed;
	int err = 0;

	if (!d)
		return DP_APP_NEXT;
	dp_args_split(d, v, 3);
	if (c->mon[SLOT_MONITOR]) {
		warn_at(chan, "Cannot start monitor, already running");
		goto out;
	}
	fmt = *v[0] ? v[0] : "wav";
	ext = !strcasecmp(fmt, "wav49") ? "WAV" : fmt;   /* Asterisk's wav49 files */
	mixed = strchr(v[2], 'm') != NULL;
	if (*v[1]) {
		snprintf(base, sizeof(base), "%s", v[1]);
	} else {
		snprintf(base, sizeof(base), "%ld-%s", (long)time(NULL), c->channel);
		for (ch = base; (ch = strchr(ch, '/'));)
			*ch = '-';
	}
	if (mixed) {
		snprintf(name, sizeof(name), "%s.%s", base, ext);
		err = open_file(chan, name, false, &mix, path, sizeof(path));
	} else {
		for (int i = 0; i < 2 && !err; i++) {
			snprintf(name, sizeof(name), "%s-%s.%s", base, i ? "out" : "in", ext);
			err = open_file(chan, name, false, &f[i], path, sizeof(path));
		}
	}
	if (err)
		goto out;
	m = mem_zalloc(sizeof(*m), cmon_destroy);
	if (!m)
		goto out;
	m->bridged_only = strchr(v[2], 'b') != NULL;
	snprintf(m->name, sizeof(m->name), "%s", path);
	if ((err = start_slot(c, SLOT_MONITOR, m, mix, f[0], f[1], NULL))) {
		warn_at(chan, "Monitor: the call has no media to record (%s)", strerror(err));
		mem_deref(m);
	} else {
		log_info("call %u: Monitor into %s%s", c->id, path, mixed ? "" : " (and -in)");
	}
out:
	mem_deref(mix);
	mem_deref(f[0]);
	mem_deref(f[1]);
	free(d);
	return DP_APP_NEXT;
}

static enum dp_app_ret app_stopmonitor(struct dp_chan *chan, const char *data)
{
	(void)data;
	stop_slot(dp_chan_call(chan), SLOT_MONITOR);
	return DP_APP_NEXT;
}

void call_monitor_bridged(struct call *c)
{
	for (int i = 0; i < 2; i++)
		if (c->mon[i])
			mixmon_active(c->mon[i]->mm, true, loop_now());
}

void call_monitor_unbridged(struct call *c)
{
	for (int i = 0; i < 2; i++)
		if (c->mon[i] && c->mon[i]->bridged_only)
			mixmon_active(c->mon[i]->mm, false, loop_now());
}

void call_monitor_free(struct call *c)
{
	if (!c)
		return;
	stop_slot(c, SLOT_MIX);
	stop_slot(c, SLOT_MONITOR);
}

void call_monitor_init(const char *datadir)
{
	snprintf(mondir, sizeof(mondir), "%s/monitor", datadir ? datadir : ".");
	(void)dp_app_register("MixMonitor", app_mixmonitor);
	(void)dp_app_register("StopMixMonitor", app_stopmixmonitor);
	(void)dp_app_register("Monitor", app_monitor);
	(void)dp_app_register("StopMonitor", app_stopmonitor);
}
