/**
 * @file call_vm_int.h  What call_vm.c (VoiceMail, the shared helpers)
 * and call_vm_main.c (VoiceMailMain) share. Not for other callers.
 */
#ifndef TANDEM_PBX_CALL_VM_INT_H
#define TANDEM_PBX_CALL_VM_INT_H

#include <limits.h>
#include <stdbool.h>

#include "dialplan/exec.h"
#include "pbx/call_play.h"
#include "pbx/call_vm.h"
#include "pbx/voicemail_conf.h"
#include "pbx/voicemail_spool.h"

enum vm_state {
	V_GREET,      /* VoiceMail: greeting, intro, beep */
	V_RECORD,     /* recording the message */
	V_SAVING,     /* saved; waiting for the standby to hold it (ha.h) */
	V_THANKS,     /* auth-thankyou, then on */
	M_BOX,        /* VoiceMailMain: asking the mailbox */
	M_PIN,        /* asking the PIN */
	M_INCORRECT,  /* vm-incorrect */
	M_MENU,       /* counts and main menu, waiting for a key */
	M_MSG,        /* playing a message (7, 9, #) */
	M_NOMORE,     /* vm-nomore, back to the menu */
	M_OPTS,       /* mailbox options */
	M_GPROMPT,    /* vm-rec-*, beep: then record */
	M_GRECORD,    /* recording a greeting */
	M_SAVED,      /* vm-msgsaved: back to the options */
	M_BYE,        /* vm-goodbye: hang up */
};

struct vmr {
	struct dp_chan *chan;
	struct call *c;
	enum vm_state st;
	bool finished;
	enum dp_app_ret ret;
	bool prompting;
	/* the mailbox */
	char ctx[80], box[80];
	struct call_vm_args a;
	/* recording */
	struct rec *rec;
	struct vm_rec vr;
	bool recording;
	enum vm_greeting greet;
	/* VoiceMailMain */
	char digits[80];
	size_t n;
	bool given_box, skip_pin;
	unsigned tries, idle;
	enum vm_folder folder;
	int cur;                       /* message being played, -1 none */
	enum vm_folder at_f;           /* where that message is now */
	int at_n;
	bool changed;
	bool cur_done;                 /* 7/9 pressed: next message after the prompt */
};

extern const struct call_play_ops *cvm_ops;   /* call_play_ops, or a test's */
extern char cvm_datadir[PATH_MAX / 2];

/* call_vm.c */
/** voicemail.conf: the test's snapshot, else pbx_vmconf(). */
const struct vmconf *cvm_conf(void);
/** The application ends with ret (the listener resumes the dialplan). */
void cvm_end(struct vmr *v, enum dp_app_ret ret);
const char *cvm_lang(struct vmr *v);
/** Play list and go to st; a list that plays nothing ends at once. */
void cvm_play(struct vmr *v, enum vm_state st, const char *list);
/** Wait ms for a key (then CALL_PLAY_TIMER). */
void cvm_wait_key(struct vmr *v, unsigned ms);
/** "box@ctx" -> box, ctx ("default" when absent). */
void cvm_box_split(const char *id, char *box, size_t bs, char *ctx, size_t cs);
/** Tell MWI that box@ctx changed. */
void cvm_mwi_tell(const char *ctx, const char *box);
bool cvm_exists(const char *path);
/** Record the caller into v->vr's tmp file; 0 or errno (logged). */
int  cvm_rec_start(struct vmr *v);
/** Stop and finish it; *secs its length. 0, or errno (nothing kept). */
int  cvm_rec_stop(struct vmr *v, int *secs);
bool cvm_answer(struct dp_chan *chan);
struct vmr *cvm_new(struct dp_chan *chan);
/** Return from the application: at once when finished, else DP_APP_WAIT. */
enum dp_app_ret cvm_leave(struct vmr *v);
/** The listener (call_play_h) of both applications. */
void cvm_on_event(struct call *c, enum call_play_ev ev, char digit, void *arg);

/* call_vm_main.c */
/** A VoiceMailMain event (v->st past V_THANKS). */
void cvm_main_event(struct vmr *v, enum call_play_ev ev, char d);
/** A greeting being recorded ends (key, limit, hang-up): install it. */
void cvm_greet_end(struct vmr *v);
/** Leaving the mailbox: renumber INBOX and Old when something changed. */
void cvm_main_close(struct vmr *v);
enum dp_app_ret cvm_app_main(struct dp_chan *chan, const char *data);

#endif
