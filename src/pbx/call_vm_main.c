/**
 * @file call_vm_main.c  VoiceMailMain: the login (mailbox, PIN,
 * maxlogins), the counts, playing messages (7 delete, 9 save, # next;
 * heard new messages move to Old) and the mailbox options that record
 * the unavailable, busy and name greetings. The states are
 * call_vm_int.h's M_*; call_vm.c's listener hands their events here.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "media/say.h"
#include "pbx/call_vm_int.h"

#define LIST_MAX 2048
#define MENU_TRIES 3

/* ------------------------------------------------------ VoiceMailMain */

static void ask_box(struct vmr *v);
static void menu(struct vmr *v);
static void opts(struct vmr *v);

static void collect_reset(struct vmr *v)
{
	v->n = 0;
	v->digits[0] = '\0';
}

static void ask_box(struct vmr *v)
{
	collect_reset(v);
	cvm_play(v, M_BOX, "vm-login");
}

static void ask_pin(struct vmr *v)
{
	collect_reset(v);
	cvm_play(v, M_PIN, "vm-password");
}

static void goodbye(struct vmr *v)
{
	cvm_play(v, M_BYE, "vm-goodbye");
}

/* The mailbox named by v->digits (or given) and, when asked, the PIN. */
static void login_check(struct vmr *v)
{
	const struct vmconf *vc = cvm_conf();
	const struct vm_mailbox *mb;
	char id[170];

	if (v->st == M_BOX) {
		snprintf(v->box, sizeof(v->box), "%s", v->digits);
		snprintf(id, sizeof(id), "%s@%s", v->box, v->ctx);
		mb = vc ? vmconf_mailbox(vc, id) : NULL;
		if (!v->skip_pin && (!mb || *mb->pin)) {   /* unknown: asked all the same */
			ask_pin(v);
			return;
		}
	} else {
		snprintf(id, sizeof(id), "%s@%s", v->box, v->ctx);
		mb = vc ? vmconf_mailbox(vc, id) : NULL;
		if (mb && strcmp(mb->pin, v->digits))
			mb = NULL;
	}
	if (!mb) {
		log_notice("VoiceMailMain: failed login to mailbox %s@%s", v->box, v->ctx);
		if (++v->tries >= (vc && vc->gen.maxlogins ? vc->gen.maxlogins : 3)) {
			log_warn("VoiceMailMain: too many failed logins to %s@%s", v->box, v->ctx);
			goodbye(v);
			return;
		}
		cvm_play(v, M_INCORRECT, "vm-incorrect");
		return;
	}
	v->tries = 0;
	menu(v);
}

static void collect_key(struct vmr *v, char d)
{
	cvm_ops->stop(v->c);
	v->prompting = false;
	if (d == '#' || d == '*') {
		cvm_ops->timer(v->c, 0);
		login_check(v);
		return;
	}
	if (v->n + 1 < sizeof(v->digits)) {
		v->digits[v->n++] = d;
		v->digits[v->n] = '\0';
	}
	cvm_wait_key(v, dp_chan_timeout(v->chan, DP_TIMEOUT_DIGIT));
}

/* The counts and the main menu. */
static void menu(struct vmr *v)
{
	char list[LIST_MAX], num[512];
	int nnew = 0, nold = 0, urg = 0;
	size_t l;

	(void)vm_box_counts(cvm_datadir, v->ctx, v->box, &nnew, &nold, &urg);
	nnew += urg;
	snprintf(list, sizeof(list), "vm-youhave");
	if (nnew) {
		say_number(nnew, cvm_lang(v), NULL, num, sizeof(num));
		l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "&%s&vm-INBOX&%s", num,
			 nnew == 1 ? "vm-message" : "vm-messages");
	}
	if (nold) {
		say_number(nold, cvm_lang(v), NULL, num, sizeof(num));
		l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s&%s&vm-Old&%s", nnew ? "&vm-and" : "",
			 num, nold == 1 ? "vm-message" : "vm-messages");
	}
	if (!nnew && !nold) {
		l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "&vm-no&vm-messages");
	}
	l = strlen(list);
	snprintf(list + l, sizeof(list) - l, "&vm-onefor&vm-INBOX&vm-opts");
	v->idle = 0;
	cvm_play(v, M_MENU, list);
}

/* The next message of v->folder after v->cur; false when none. */
static bool msg_next(struct vmr *v)
{
	char dir[PATH_MAX], p[PATH_MAX];
	int last;

	if (vm_path_folder(dir, sizeof(dir), cvm_datadir, v->ctx, v->box, v->folder))
		return false;
	last = vm_folder_last(dir);
	for (int i = v->cur + 1; i <= last; i++) {
		if (vm_path_msg(p, sizeof(p), cvm_datadir, v->ctx, v->box, v->folder, i, "txt") ==
		    0 && cvm_exists(p)) {
			v->cur = i;
			return true;
		}
	}
	return false;
}

/* Play message v->cur; a new one moves to Old (heard). */
static void msg_play(struct vmr *v)
{
	const struct vmconf *vc = cvm_conf();
	char id[170], p[PATH_MAX];
	const struct vm_mailbox *mb;
	int newnum;

	if (vm_path_msg(p, sizeof(p), cvm_datadir, v->ctx, v->box, v->folder, v->cur, NULL)) {
		menu(v);
		return;
	}
	cvm_play(v, M_MSG, p);
	v->at_f = v->folder;
	v->at_n = v->cur;
	snprintf(id, sizeof(id), "%s@%s", v->box, v->ctx);
	mb = vc ? vmconf_mailbox(vc, id) : NULL;
	if (v->folder == VM_INBOX && (!mb || mb->o.moveheard)) {
		if (vm_msg_move(cvm_datadir, v->ctx, v->box, VM_INBOX, v->cur, VM_OLD,
				mb ? mb->o.maxmsg : 100, &newnum) == 0) {
			log_info("voicemail %s@%s: message %d heard: Old/msg%04d", v->box, v->ctx,
				 v->cur, newnum);
			v->at_f = VM_OLD;
			v->at_n = newnum;
			v->changed = true;
			cvm_mwi_tell(v->ctx, v->box);
		}
	}
}

static void msg_first(struct vmr *v)
{
	int nnew = 0, nold = 0, urg = 0;

	(void)vm_box_counts(cvm_datadir, v->ctx, v->box, &nnew, &nold, &urg);
	v->folder = nnew ? VM_INBOX : VM_OLD;
	v->cur = -1;
	if (!msg_next(v)) {
		cvm_play(v, M_NOMORE, "vm-nomore");
		return;
	}
	msg_play(v);
}

static void msg_after(struct vmr *v)
{
	if (msg_next(v))
		msg_play(v);
	else
		cvm_play(v, M_NOMORE, "vm-nomore");
}

static void msg_key(struct vmr *v, char d)
{
	const struct vmconf *vc = cvm_conf();
	char id[170], dir[PATH_MAX];
	const struct vm_mailbox *mb;
	int newnum;

	snprintf(id, sizeof(id), "%s@%s", v->box, v->ctx);
	mb = vc ? vmconf_mailbox(vc, id) : NULL;
	switch (d) {
	case '7':
		cvm_ops->stop(v->c);
		if (vm_path_folder(dir, sizeof(dir), cvm_datadir, v->ctx, v->box, v->at_f) == 0 &&
		    vm_msg_delete(dir, v->at_n) == 0) {
			log_info("voicemail %s@%s: %s message %d deleted", v->box, v->ctx,
				 vm_folder_name(v->at_f), v->at_n);
			v->changed = true;
			cvm_mwi_tell(v->ctx, v->box);
		}
		cvm_play(v, M_MSG, "vm-deleted");
		v->cur_done = true;
		break;
	case '9':
		cvm_ops->stop(v->c);
		if (v->at_f != VM_OLD &&
		    vm_msg_move(cvm_datadir, v->ctx, v->box, v->at_f, v->at_n, VM_OLD,
				mb ? mb->o.maxmsg : 100, &newnum) == 0) {
			v->at_f = VM_OLD;
			v->at_n = newnum;
			v->changed = true;
			cvm_mwi_tell(v->ctx, v->box);
		}
		cvm_play(v, M_MSG, "vm-savedto&vm-Old&vm-messages");
		v->cur_done = true;
		break;
	case '#':
		cvm_ops->stop(v->c);
		msg_after(v);
		break;
	case '*':
		cvm_ops->stop(v->c);
		menu(v);
		break;
	default:
		break;
	}
}

/* ----------------------------------------------------------- greetings */

static void opts(struct vmr *v)
{
	v->idle = 0;
	cvm_play(v, M_OPTS, "vm-options");
}

static void greet_record(struct vmr *v, enum vm_greeting g)
{
	static const char *const prompt[] = {
		[VM_GREET_UNAVAIL] = "vm-rec-unv&beep", [VM_GREET_BUSY] = "vm-rec-busy&beep",
		[VM_GREET_NAME] = "vm-rec-name&beep", [VM_GREET_TEMP] = "vm-rec-temp&beep",
	};

	v->greet = g;
	cvm_play(v, M_GPROMPT, prompt[g]);
}

static void greet_start(struct vmr *v)
{
	const struct vmconf *vc = cvm_conf();
	unsigned secs = vc ? (vc->gen.maxgreet ? vc->gen.maxgreet :
			      vc->gen.defaults.maxsecs) : 0;

	v->st = M_GRECORD;
	v->prompting = false;
	if (cvm_rec_start(v)) {
		opts(v);
		return;
	}
	cvm_ops->timer(v->c, secs ? secs * 1000 : 0);
}

void cvm_greet_end(struct vmr *v)
{
	char dest[PATH_MAX];
	int secs, err;

	if (!v->recording)
		return;
	if (cvm_rec_stop(v, &secs))
		return;
	if (secs < 1) {
		log_info("voicemail %s@%s: greeting too short: not saved", v->box, v->ctx);
		vm_rec_abort(&v->vr);
		return;
	}
	err = vm_path_greeting(dest, sizeof(dest), cvm_datadir, v->ctx, v->box, v->greet, "wav");
	if (!err)
		err = vm_rec_install(&v->vr, "wav", dest);
	if (err) {
		log_warn("voicemail %s@%s: greeting not saved: %s", v->box, v->ctx, strerror(err));
		vm_rec_abort(&v->vr);
		return;
	}
	log_info("voicemail %s@%s: greeting %s saved (%d s)", v->box, v->ctx, dest, secs);
}

/* ------------------------------------------------------------- events */

static void main_idle(struct vmr *v, void (*again)(struct vmr *))
{
	if (++v->idle >= MENU_TRIES)
		goodbye(v);
	else
		again(v);
}

static void main_done(struct vmr *v)
{
	unsigned to = dp_chan_timeout(v->chan, DP_TIMEOUT_RESPONSE);

	v->prompting = false;
	switch (v->st) {
	case M_BOX:
	case M_PIN:
		cvm_wait_key(v, to);
		break;
	case M_INCORRECT:
		if (v->given_box)
			ask_pin(v);
		else
			ask_box(v);
		break;
	case M_MENU:
	case M_OPTS:
		cvm_wait_key(v, to);
		break;
	case M_MSG:
		if (v->cur_done) {
			v->cur_done = false;
			msg_after(v);
		} else {
			cvm_wait_key(v, to);   /* 7, 9, # or the next message on timeout */
		}
		break;
	case M_NOMORE:
		menu(v);
		break;
	case M_GPROMPT:
		greet_start(v);
		break;
	case M_SAVED:
		opts(v);
		break;
	case M_BYE:
		cvm_end(v, DP_APP_HANGUP);
		break;
	default:
		break;
	}
}

static void main_timeout(struct vmr *v)
{
	switch (v->st) {
	case M_BOX:
	case M_PIN:
		if (v->n) {
			login_check(v);
		} else if (++v->idle >= MENU_TRIES) {
			goodbye(v);
		} else {
			if (v->st == M_BOX)
				ask_box(v);
			else
				ask_pin(v);
		}
		break;
	case M_MENU:
		main_idle(v, menu);
		break;
	case M_OPTS:
		main_idle(v, opts);
		break;
	case M_MSG:
		v->cur_done = false;
		msg_after(v);
		break;
	case M_GRECORD:
		cvm_greet_end(v);
		cvm_play(v, M_SAVED, "vm-msgsaved");
		break;
	default:
		main_done(v);
		break;
	}
}

static void main_key(struct vmr *v, char d)
{
	switch (v->st) {
	case M_BOX:
	case M_PIN:
		collect_key(v, d);
		break;
	case M_MENU:
		cvm_ops->stop(v->c);
		cvm_ops->timer(v->c, 0);
		if (d == '1')
			msg_first(v);
		else if (d == '0')
			opts(v);
		else if (d == '#' || d == '*')
			goodbye(v);
		break;
	case M_MSG:
		msg_key(v, d);
		break;
	case M_OPTS:
		cvm_ops->stop(v->c);
		cvm_ops->timer(v->c, 0);
		if (d == '1')
			greet_record(v, VM_GREET_UNAVAIL);
		else if (d == '2')
			greet_record(v, VM_GREET_BUSY);
		else if (d == '3')
			greet_record(v, VM_GREET_NAME);
		else if (d == '*' || d == '#')
			menu(v);
		break;
	case M_GRECORD:
		if (d == '#') {
			cvm_ops->timer(v->c, 0);
			cvm_greet_end(v);
			cvm_play(v, M_SAVED, "vm-msgsaved");
		}
		break;
	case M_NOMORE:
	case M_SAVED:
		cvm_ops->stop(v->c);
		main_done(v);
		break;
	default:
		break;
	}
}

/* Leaving the mailbox: close the numbering gaps, as close_mailbox does. */
void cvm_main_close(struct vmr *v)
{
	char dir[PATH_MAX];

	if (!v->changed)
		return;
	for (enum vm_folder f = VM_INBOX; f <= VM_OLD; f++)
		if (vm_path_folder(dir, sizeof(dir), cvm_datadir, v->ctx, v->box, f) == 0)
			(void)vm_folder_resequence(dir);
	v->changed = false;
}

/* VoiceMailMain([box@ctx][,options]) */
enum dp_app_ret cvm_app_main(struct dp_chan *chan, const char *data)
{
	char buf[256], *opt;
	struct vmr *v;

	if (!(v = cvm_new(chan)))
		return DP_APP_HANGUP;
	snprintf(buf, sizeof(buf), "%s", data ? data : "");
	if ((opt = strchr(buf, ',')))
		*opt++ = '\0';
	v->skip_pin = opt && strchr(opt, 's');
	cvm_box_split(buf, v->box, sizeof(v->box), v->ctx, sizeof(v->ctx));
	v->given_box = v->box[0] != '\0';
	if (!cvm_ops->answered(v->c) && !cvm_answer(chan)) {
		mem_deref(v);
		return DP_APP_HANGUP;
	}
	cvm_ops->listen(v->c, CALL_PLAY_DELIVER, cvm_on_event, v);
	if (!v->given_box) {
		ask_box(v);
	} else {
		snprintf(v->digits, sizeof(v->digits), "%s", v->box);
		v->st = M_BOX;
		login_check(v);
	}
	return cvm_leave(v);
}

void cvm_main_event(struct vmr *v, enum call_play_ev ev, char d)
{
	if (ev == CALL_PLAY_DIGIT) {
		main_key(v, d);
	} else if (ev == CALL_PLAY_DONE || (ev == CALL_PLAY_TIMER && v->prompting)) {
		cvm_ops->timer(v->c, 0);
		main_done(v);
	} else if (ev == CALL_PLAY_TIMER) {
		main_timeout(v);
	}
}
