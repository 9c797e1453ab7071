/**
 * @file call_int.h  Call internals shared by call.c (SIP legs) and
 * call_dp.c (the dialplan driving the call). Not for other callers.
 */
#ifndef TANDEM_PBX_CALL_INT_H
#define TANDEM_PBX_CALL_INT_H

#include <stdbool.h>
#include <time.h>

#include "core/loop.h"
#include "dialplan/exec.h"
#include "pbx/call.h"
#include "store/cdr.h"

#define MAX_LEGS 8

enum leg_state { LEG_INVITING, LEG_RINGING, LEG_UP, LEG_ENDED };

struct leg {
	struct call *call;
	enum leg_state state;
	char peer[64];
	char channel[96];
	char callid[40];
	char *from_hdr;
	uint32_t cseq;
	struct sip_src dst;
	struct sip_ctrans *ct;
	struct sip_dialog *dlg;
	uint16_t status;
};

/* A request passed from one leg to the other, waiting for its answer. */
struct relay_req {
	struct call *call;
	struct sip_strans *st;     /* the request we must answer */
	struct sip_dialog *to;     /* where we sent it */
	struct sip_dialog *from;   /* the dialog it came in on */
	bool invite;
};

struct call {
	struct call *next;
	uint32_t id;
	enum call_state state;
	struct sip_strans *st;       /* caller's INVITE (referenced) */
	struct sip_dialog *adlg;
	struct sip_src asrc;
	char *offer;                 /* caller's SDP */
	size_t offerlen;
	char caller[64], callerid[128], exten[64], context[64];
	char cidname[80], cidnum[40];
	char channel[96];
	struct leg *legs[MAX_LEGS];
	unsigned nlegs;
	struct leg *bridged;
	struct tmr dial_tmr, retx_tmr;
	uint32_t retx_interval, retx_total;
	bool acked;
	time_t start, answered;
	struct cdr *cdr;
	struct dp_chan *dp;
	struct dialplan *dialplan;   /* the snapshot the call started on */
	bool dp_waiting_dial;        /* Dial is waiting for the legs */
	struct tmr wait_tmr;
	uint16_t last_status;        /* last final status of an outgoing leg */
	uint16_t end_status;         /* what the caller gets when the dialplan ends */
	bool ending;
};


/* call.c */
void call_end(struct call *c, uint16_t caller_status);
/* call_dp.c */
/** Start the dialplan for a new call; returns 0 or a status for the caller. */
int  call_dp_start(struct call *c);
/** Dial finished (dialstatus as Asterisk's DIALSTATUS); run the dialplan on. */
void call_dp_dial_done(struct call *c, const char *dialstatus);
/** The caller went away: run the h extension only. */
void call_dp_caller_gone(struct call *c);

#endif
