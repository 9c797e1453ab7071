/**
 * @file call_vm.c  VoiceMail and VoiceMailMain on a call, as Asterisk's
 * app_voicemail runs them (a subset: see docs/configure.md).
 *
 * VoiceMail(box@ctx[&box2...][,u|b|s]): answer; the temporary greeting
 * if recorded, else with u or b the mailbox's unavail/busy greeting from
 * the spool or the standard prompts (vm-theperson, the box's digits,
 * vm-isunavail / vm-isonphone), with neither no greeting; then vm-intro
 * unless s, then beep; the caller's audio (the relay's
 * recording tap on leg A) goes into BOX/tmp through vm_rec_* until '#',
 * maxsecs or hang-up; shorter than minsecs is discarded; the message is
 * committed with its .txt to INBOX (copied to the other boxes) and MWI
 * is told. VMSTATUS: SUCCESS, USEREXIT ('*' during the greeting or the
 * recording; to the `a` extension when there is one), FAILED.
 *
 * VoiceMailMain([box@ctx][,s]): mailbox (vm-login) unless given, PIN
 * (vm-password) unless s or empty, up to maxlogins tries; the counts;
 * menu 1 play (7 delete, 9 save to Old, # next; heard INBOX messages
 * move to Old), 0 options (1 unavailable, 2 busy, 3 name greeting:
 * record until '#'), '#'/'*' goodbye.
 *
 * VoiceMailMain's states live in call_vm_main.c. One `struct vmr`
 * (call_vm_int.h) per running application is the listener's argument
 * (call_play.h); its state (enum vm_state) says what the next event
 * means. The resume handler stops the recording: a hang-up while
 * recording keeps the message when long enough, as Asterisk does.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "ha/file.h"
#include "ha/ha.h"
#include "core/mem.h"
#include "dialplan/exec.h"
#include "media/rec.h"
#include "media/say.h"
#include "pbx/call_int.h"
#include "pbx/call_play.h"
#include "pbx/call_vm.h"
#include "pbx/call_vm_int.h"
#include "pbx/mwi.h"
#include "pbx/pbx.h"
#include "pbx/voicemail_conf.h"
#include "pbx/voicemail_spool.h"
#include "pbx/vm_mail.h"

#define LIST_MAX 2048

const struct call_play_ops *cvm_ops = &call_play_ops;
char cvm_datadir[PATH_MAX / 2] = ".";

static int relay_tap(struct call *c, struct rec *rec)
{
	return c->relay ? rtp_relay_record(c->relay, RTP_LEG_A, rec) : ENOTCONN;
}

static call_vm_tap_h *tap = relay_tap;
static const struct vmconf *test_vc;

const struct vmconf *cvm_conf(void)
{
	return test_vc ? test_vc : pbx_vmconf();
}

static void vmr_destroy(void *arg)
{
	struct vmr *v = arg;

	if (v->rec) {
		(void)tap(v->c, NULL);
		v->rec = mem_deref(v->rec);
		vm_rec_abort(&v->vr);
	}
}

/* ------------------------------------------------------------ helpers */

void cvm_end(struct vmr *v, enum dp_app_ret ret)
{
	v->ret = ret;
	v->finished = true;
}

const char *cvm_lang(struct vmr *v)
{
	const char *l = cvm_ops->get(v->c, "language");

	return l && *l ? l : "en";
}

/* Play list; a list that plays nothing ends at once (a 1 ms timer). */
void cvm_play(struct vmr *v, enum vm_state st, const char *list)
{
	v->st = st;
	cvm_ops->timer(v->c, 0);
	(void)cvm_ops->files(v->c, NULL, list);
	v->prompting = true;
	if (!cvm_ops->playing(v->c))
		cvm_ops->timer(v->c, 1);
}

void cvm_wait_key(struct vmr *v, unsigned ms)
{
	v->prompting = false;
	cvm_ops->timer(v->c, ms ? ms : 1);
}

/* "box@ctx" -> box, ctx ("default" when absent). */
void cvm_box_split(const char *id, char *box, size_t bs, char *ctx, size_t cs)
{
	const char *at = strchr(id, '@');

	if (at) {
		snprintf(box, bs, "%.*s", (int)(at - id), id);
		snprintf(ctx, cs, "%s", at[1] ? at + 1 : "default");
	} else {
		snprintf(box, bs, "%s", id);
		snprintf(ctx, cs, "default");
	}
}

void cvm_mwi_tell(const char *ctx, const char *box)
{
	char id[170];

	snprintf(id, sizeof(id), "%s@%s", box, ctx);
	mwi_mailbox_changed(id);
}

int call_vm_parse(const char *data, struct call_vm_args *out)
{
	char buf[1024], *opts, *save = NULL, *t;
	struct call_vm_args a;

	memset(&a, 0, sizeof(a));
	snprintf(buf, sizeof(buf), "%s", data ? data : "");
	if ((opts = strchr(buf, ',')))
		*opts++ = '\0';
	for (t = strtok_r(buf, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
		char box[80], ctx[80];

		while (*t == ' ')
			t++;
		for (size_t l = strlen(t); l && t[l - 1] == ' ';)
			t[--l] = '\0';
		if (!*t || a.nboxes >= CALL_VM_BOXES)
			continue;
		cvm_box_split(t, box, sizeof(box), ctx, sizeof(ctx));
		if (!*box)
			continue;
		snprintf(a.boxes[a.nboxes++], sizeof(a.boxes[0]), "%s@%s", box, ctx);
	}
	if (!a.nboxes)
		return EINVAL;
	for (; opts && *opts; opts++) {
		if (*opts == '(') {   /* g(gain), d(context): skip the value */
			const char *e = strchr(opts, ')');

			if (!e)
				break;
			opts = (char *)e;
			continue;
		}
		if (*opts == 'u')
			a.unavail = true;
		else if (*opts == 'b')
			a.busy = true;
		else if (*opts == 's')
			a.skip = true;
	}
	*out = a;
	return 0;
}

bool cvm_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The greeting g of the box as a sound name (path without .wav), or "". */
static void greeting_name(struct vmr *v, enum vm_greeting g, char *buf, size_t size)
{
	char p[PATH_MAX];
	size_t l;

	buf[0] = '\0';
	if (vm_path_greeting(p, sizeof(p), cvm_datadir, v->ctx, v->box, g, "wav") || !cvm_exists(p))
		return;
	l = strlen(p) - 4;
	snprintf(buf, size, "%.*s", (int)l, p);
}

/* --------------------------------------------------------- recording */

int cvm_rec_start(struct vmr *v)
{
	char path[PATH_MAX];
	int err;

	if ((err = vm_rec_begin(&v->vr, cvm_datadir, v->ctx, v->box)) ||
	    (err = vm_rec_path(&v->vr, "wav", path, sizeof(path)))) {
		log_warn("voicemail %s@%s: cannot start recording: %s", v->box, v->ctx, strerror(err));
		return err;
	}
	if ((err = rec_open(&v->rec, path))) {
		log_warn("voicemail %s@%s: nothing recorded: cannot write %s: %s", v->box, v->ctx,
			 path, strerror(err));
		vm_rec_abort(&v->vr);
		return err;
	}
	if ((err = tap(v->c, v->rec))) {
		log_warn("voicemail %s@%s: cannot record the caller: %s", v->box, v->ctx,
			 strerror(err));
		v->rec = mem_deref(v->rec);
		vm_rec_abort(&v->vr);
		return err;
	}
	v->recording = true;
	return 0;
}

/* Stop the tap and finish the file; *secs gets its length. 0 or errno
 * (the recording is then gone). */
int cvm_rec_stop(struct vmr *v, int *secs)
{
	int err;

	v->recording = false;
	(void)tap(v->c, NULL);
	*secs = (int)(rec_samples(v->rec) / 8000);
	err = rec_finish(v->rec);
	v->rec = mem_deref(v->rec);
	if (err) {
		log_warn("voicemail %s@%s: the recording failed (%s): nothing saved", v->box,
			 v->ctx, strerror(err));
		vm_rec_abort(&v->vr);
	}
	return err;
}

static void cid_of(struct vmr *v, char *buf, size_t size)
{
	const char *num = dp_chan_cid_num(v->chan), *name = dp_chan_cid_name(v->chan);

	if (num && *num && name && *name)
		snprintf(buf, size, "\"%s\" <%s>", name, num);
	else if (num && *num)
		snprintf(buf, size, "<%s>", num);
	else if (name && *name)
		snprintf(buf, size, "\"%s\" <>", name);
	else
		snprintf(buf, size, "Unknown");
}

/* The box's e-mail (voicemail.conf email=), when it has one. */
static void mail(const struct vmconf *vc, const char *id, const char *ctx, const char *box,
		 int num, const struct vm_msg_info *info)
{
	const struct vm_mailbox *mb = vc ? vmconf_mailbox(vc, id) : NULL;
	char wav[PATH_MAX], base[PATH_MAX], tmp[PATH_MAX];
	struct vm_mail m = { .box = box, .context = ctx, .msgnum = num,
			     .callerid = info->callerid, .duration = info->duration,
			     .when = time(NULL), .wav = wav, .msgfile = base };

	if (!mb || !mb->email || !*mb->email ||
	    vm_path_msg(wav, sizeof(wav), cvm_datadir, ctx, box, VM_INBOX, num, "wav") ||
	    vm_path_msg(base, sizeof(base), cvm_datadir, ctx, box, VM_INBOX, num, NULL) ||
	    vm_path_box(tmp, sizeof(tmp) - 4, cvm_datadir, ctx, box))
		return;
	strcat(tmp, "/tmp");
	(void)vm_mail_send(vc, mb, &m, tmp);
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
	char buf[16384];
	size_t n;
	int err = 0;

	if (!in || !out) {
		err = errno;
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			err = errno ? errno : EIO;
			break;
		}
	if (!err && ferror(in))
		err = EIO;
out:
	if (in)
		fclose(in);
	if (out && fclose(out) && !err)
		err = errno;
	return err;
}

/* The message is recorded (secs long): save it in every box. */
static void msg_save(struct vmr *v, int secs)
{
	static const char *const exts[] = { "wav", NULL };
	const struct vmconf *vc = cvm_conf();
	const struct vm_mailbox *mb = vc ? vmconf_mailbox(vc, v->a.boxes[0]) : NULL;
	uint32_t minsecs = mb ? mb->o.minsecs : 0, maxmsg = mb ? mb->o.maxmsg : 100;
	struct vm_msg_info m;
	const struct dp_chan_ops *ops = dp_chan_ops(v->chan);
	const char *chname = ops->get ? ops->get(v->c, "channel") : NULL;
	char first[PATH_MAX] = "";
	int num, err;

	if ((uint32_t)secs < minsecs || secs < 1) {
		log_info("voicemail %s@%s: the message was %d s long, at least %u s needed: "
			 "discarded", v->box, v->ctx, secs, minsecs ? minsecs : 1);
		vm_rec_abort(&v->vr);
		dp_chan_var_set(v->chan, "VMSTATUS", "FAILED");
		return;
	}
	vm_msg_info_init(&m, time(NULL));
	snprintf(m.context, sizeof(m.context), "%s", dp_chan_context(v->chan));
	snprintf(m.exten, sizeof(m.exten), "%s", dp_chan_exten(v->chan));
	m.priority = dp_chan_priority(v->chan);
	snprintf(m.callerchan, sizeof(m.callerchan), "%s", chname ? chname : "");
	cid_of(v, m.callerid, sizeof(m.callerid));
	m.duration = secs;
	for (size_t i = 0; i < v->a.nboxes; i++) {
		char box[80], ctx[80], src[PATH_MAX], dst[PATH_MAX];

		cvm_box_split(v->a.boxes[i], box, sizeof(box), ctx, sizeof(ctx));
		snprintf(m.origmailbox, sizeof(m.origmailbox), "%s", box);
		if (i > 0) {   /* a copy of the first box's message */
			if (!*first || (err = vm_rec_begin(&v->vr, cvm_datadir, ctx, box)) ||
			    (err = vm_rec_path(&v->vr, "wav", dst, sizeof(dst))) ||
			    (err = copy_file(first, dst))) {
				log_warn("voicemail %s@%s: cannot copy the message: %s", box, ctx,
					 strerror(*first ? err : ENOENT));
				vm_rec_abort(&v->vr);
				continue;
			}
		}
		if (i > 0) {   /* each box's own maxmsg */
			const struct vm_mailbox *o = vc ? vmconf_mailbox(vc, v->a.boxes[i]) : NULL;

			maxmsg = o ? o->o.maxmsg : 100;
		}
		err = vm_rec_commit(&v->vr, VM_INBOX, maxmsg, &m, exts, &num);
		if (err) {
			log_warn("voicemail %s@%s: message not saved: %s", box, ctx,
				 err == EDQUOT ? "the mailbox is full (maxmsg)" : strerror(err));
			vm_rec_abort(&v->vr);
			if (i == 0) {
				dp_chan_var_set(v->chan, "VMSTATUS", "FAILED");
				return;
			}
			continue;
		}
		log_info("voicemail %s@%s: message %d saved (%d s, from %s)", box, ctx, num, secs,
			 m.callerid);
		if (i == 0 && vm_path_msg(src, sizeof(src), cvm_datadir, ctx, box, VM_INBOX, num,
					  "wav") == 0)
			snprintf(first, sizeof(first), "%s", src);
		mail(vc, v->a.boxes[i], ctx, box, num, &m);
		cvm_mwi_tell(ctx, box);
	}
	dp_chan_var_set(v->chan, "VMSTATUS", "SUCCESS");
}

/* Recording the message ends (key, maxsecs, hang-up): save it. */
static void record_end(struct vmr *v)
{
	int secs;

	if (!v->recording)
		return;
	if (cvm_rec_stop(v, &secs)) {
		dp_chan_var_set(v->chan, "VMSTATUS", "FAILED");
		return;
	}
	msg_save(v, secs);
}

/* ---------------------------------------------------------- VoiceMail */

/* The message is on the standby too (or this node went on alone): the
 * caller hears auth-thankyou (design 1.3: VoiceMail() goes on after). */
static void durable_h(bool ok, void *arg)
{
	struct vmr *v = arg;

	if (!ok)
		log_warn("voicemail %s@%s: the message is saved here but the standby did not "
			 "confirm it", v->box, v->ctx);
	if (v->c && !v->finished && v->st == V_SAVING)
		cvm_play(v, V_THANKS, "auth-thankyou");
	mem_deref(v);
}

static void thank_when_durable(struct vmr *v)
{
	if (!ha_jnl()) {   /* a single node: saved is confirmed */
		cvm_play(v, V_THANKS, "auth-thankyou");
		return;
	}
	v->st = V_SAVING;
	mem_ref(v);
	if (ha_file_on_durable(durable_h, v)) {
		mem_deref(v);
		cvm_play(v, V_THANKS, "auth-thankyou");
	}
}

static void start_recording(struct vmr *v)
{
	const struct vmconf *vc = cvm_conf();
	const struct vm_mailbox *mb = vc ? vmconf_mailbox(vc, v->a.boxes[0]) : NULL;
	char dir[PATH_MAX];

	if (mb && vm_path_folder(dir, sizeof(dir), cvm_datadir, v->ctx, v->box, VM_INBOX) == 0 &&
	    mb->o.maxmsg && (uint32_t)vm_folder_count(dir) >= mb->o.maxmsg) {
		log_warn("voicemail %s@%s: the mailbox is full (maxmsg=%u): no message taken",
			 v->box, v->ctx, mb->o.maxmsg);
		dp_chan_var_set(v->chan, "VMSTATUS", "FAILED");
		cvm_play(v, V_THANKS, "vm-mailboxfull");
		return;
	}
	v->st = V_RECORD;
	v->prompting = false;
	if (cvm_rec_start(v)) {
		dp_chan_var_set(v->chan, "VMSTATUS", "FAILED");
		cvm_end(v, DP_APP_NEXT);
		return;
	}
	cvm_ops->timer(v->c, mb && mb->o.maxsecs ? mb->o.maxsecs * 1000 : 0);
}

static void user_exit(struct vmr *v)
{
	cvm_ops->stop(v->c);
	if (v->recording) {
		int secs;

		if (!cvm_rec_stop(v, &secs))
			vm_rec_abort(&v->vr);
	}
	dp_chan_var_set(v->chan, "VMSTATUS", "USEREXIT");
	if (dp_chan_exists(v->chan, dp_chan_context(v->chan), "a"))
		cvm_end(v, dp_chan_goto(v->chan, "a,1"));
	else
		cvm_end(v, DP_APP_NEXT);
}

static void vm_event(struct vmr *v, enum call_play_ev ev, char d)
{
	switch (v->st) {
	case V_GREET:
		if (ev == CALL_PLAY_DIGIT && d == '#') {
			cvm_ops->stop(v->c);
			start_recording(v);
		} else if (ev == CALL_PLAY_DIGIT && d == '*') {
			user_exit(v);
		} else if (ev != CALL_PLAY_DIGIT) {
			start_recording(v);
		}
		break;
	case V_RECORD:
		if (ev == CALL_PLAY_DIGIT && d == '*') {
			user_exit(v);
		} else if (ev == CALL_PLAY_TIMER || (ev == CALL_PLAY_DIGIT && d == '#')) {
			cvm_ops->timer(v->c, 0);
			record_end(v);
			thank_when_durable(v);
		}
		break;
	case V_THANKS:
		if (ev != CALL_PLAY_DIGIT)
			cvm_end(v, DP_APP_NEXT);
		break;
	default:
		break;
	}
}

void cvm_on_event(struct call *c, enum call_play_ev ev, char digit, void *arg)
{
	struct vmr *v = arg;

	if (v->finished)
		return;
	if (v->st <= V_THANKS) {
		vm_event(v, ev, digit);
	} else {
		cvm_main_event(v, ev, digit);
	}
	if (v->finished)
		cvm_ops->resume(c);   /* may free c and v: nothing after this */
}

static void release(struct call *c)
{
	cvm_ops->timer(c, 0);
	cvm_ops->listen(c, CALL_PLAY_KEEP, NULL, NULL);
	cvm_ops->stop(c);
}

static enum dp_app_ret resumed(struct dp_chan *chan, enum dp_res res)
{
	struct call *c = dp_chan_call(chan);
	struct vmr *v = cvm_ops->arg(c);
	enum dp_app_ret ret = res == DP_RES_HANGUP ? DP_APP_HANGUP : DP_APP_NEXT;

	if (v) {
		if (v->st == V_RECORD)
			record_end(v);   /* a caller hanging up keeps the message */
		else if (v->st == M_GRECORD)
			cvm_greet_end(v);
		cvm_main_close(v);
		if (res != DP_RES_HANGUP)
			ret = v->ret;
		v->c = NULL;   /* a confirmation still waiting finds no call */
	}
	release(c);   /* drops v */
	return ret;
}

enum dp_app_ret cvm_leave(struct vmr *v)
{
	enum dp_app_ret ret = v->ret;

	if (v->finished) {
		cvm_main_close(v);
		release(v->c);
		mem_deref(v);
		return ret;
	}
	dp_chan_on_resume(v->chan, resumed);
	mem_deref(v);   /* the listener keeps it */
	return DP_APP_WAIT;
}

bool cvm_answer(struct dp_chan *chan)
{
	const struct dp_chan_ops *ops = dp_chan_ops(chan);

	return !ops->answer || ops->answer(dp_chan_call(chan)) == 0;
}

struct vmr *cvm_new(struct dp_chan *chan)
{
	struct vmr *v = mem_zalloc(sizeof(*v), vmr_destroy);

	if (!v)
		return NULL;
	v->chan = chan;
	v->c = dp_chan_call(chan);
	v->cur = -1;
	return v;
}

static void warn_at(struct dp_chan *chan, const char *msg, const char *arg)
{
	unsigned line;
	const char *file = dp_chan_file(chan, &line);

	log_warn("%s:%u: %s%s", file, line, msg, arg);
}

/* ------------------------------------------------------- applications */

/* VoiceMail(box@ctx[&box2...][,options]) */
static enum dp_app_ret app_voicemail(struct dp_chan *chan, const char *data)
{
	const struct vmconf *vc = cvm_conf();
	char list[LIST_MAX], g[PATH_MAX], digits[512];
	struct vmr *v;
	size_t l;

	if (!(v = cvm_new(chan)))
		return DP_APP_HANGUP;
	if (call_vm_parse(data, &v->a)) {
		warn_at(chan, "VoiceMail requires an argument (box@context): ", data);
		dp_chan_var_set(chan, "VMSTATUS", "FAILED");
		mem_deref(v);
		return DP_APP_NEXT;
	}
	cvm_box_split(v->a.boxes[0], v->box, sizeof(v->box), v->ctx, sizeof(v->ctx));
	if (!vc || !vmconf_mailbox(vc, v->a.boxes[0])) {
		warn_at(chan, "VoiceMail: no such mailbox in voicemail.conf: ", v->a.boxes[0]);
		dp_chan_var_set(chan, "VMSTATUS", "FAILED");
		mem_deref(v);
		return DP_APP_NEXT;
	}
	if (!cvm_ops->answered(v->c) && !cvm_answer(chan)) {
		mem_deref(v);
		return DP_APP_HANGUP;
	}
	/* As app_voicemail: a temporary greeting overrides the others; u or b
	 * play the spool's greeting or the standard prompts; with neither,
	 * no greeting at all (then vm-intro unless s, then beep). */
	greeting_name(v, VM_GREET_TEMP, g, sizeof(g));
	if (!*g && (v->a.busy || v->a.unavail))
		greeting_name(v, v->a.busy ? VM_GREET_BUSY : VM_GREET_UNAVAIL, g, sizeof(g));
	list[0] = '\0';
	if (*g) {
		snprintf(list, sizeof(list), "%.*s&", (int)sizeof(list) - 2, g);
	} else if (v->a.busy || v->a.unavail) {
		greeting_name(v, VM_GREET_NAME, g, sizeof(g));   /* the recorded name */
		if (*g)
			snprintf(digits, sizeof(digits), "%.*s", (int)sizeof(digits) - 1, g);
		else if (say_digits(v->box, digits, sizeof(digits)))
			digits[0] = '\0';
		snprintf(list, sizeof(list), "vm-theperson%s%s%s&", *digits ? "&" : "", digits,
			 v->a.busy ? "&vm-isonphone" : "&vm-isunavail");
	}
	l = strlen(list);
	if (!v->a.skip)
		snprintf(list + l, sizeof(list) - l, "vm-intro&");
	l = strlen(list);
	snprintf(list + l, sizeof(list) - l, "beep");
	dp_chan_var_set(chan, "VMSTATUS", "FAILED");
	cvm_ops->listen(v->c, CALL_PLAY_DELIVER, cvm_on_event, v);
	cvm_play(v, V_GREET, list);
	return cvm_leave(v);
}

/* ---------------------------------------------------------------- init */

void call_vm_test_hooks(const struct call_play_ops *ops, call_vm_tap_h *t,
			const struct vmconf *vc)
{
	test_vc = vc;
	cvm_ops = ops ? ops : &call_play_ops;
	tap = t ? t : relay_tap;
}

void call_vm_init(const char *datadir)
{
	char abs[PATH_MAX];
	const char *d = datadir && realpath(datadir, abs) ? abs : datadir;

	/* absolute: messages and greetings are played by path (sound_find) */
	if (d && strlen(d) < sizeof(cvm_datadir))
		memcpy(cvm_datadir, d, strlen(d) + 1);
	else if (d)
		log_warn("voicemail: DATADIR %s: path too long", d);
	(void)dp_app_register("VoiceMail", app_voicemail);
	(void)dp_app_register("VoiceMailMain", cvm_app_main);
}
