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
#include "media/rtp.h"
#include "media/sdp_neg.h"
#include "pbx/peers.h"
#include "pbx/call_play.h"
#include <jansson.h>

#define MAX_LEGS 8

enum leg_state { LEG_INVITING, LEG_RINGING, LEG_UP, LEG_ENDED };

/* Our 2xx to an INVITE, sent again until its ACK (RFC 3261 13.3.1.4):
 * the caller's answer, and the picker's in a pickup. */
struct retx2xx {
	struct call *call;
	struct sip_strans *st;       /* referenced while retransmitting */
	struct tmr tmr;
	uint32_t interval, total;
	bool acked;
};

struct leg {
	struct call *call;
	enum leg_state state;
	char peer[64];
	char channel[96];
	char callid[40];
	char *from_hdr;
	char *ruri;
	char *body;                  /* our SDP offer to this leg */
	size_t blen;
	bool auth_tried;             /* answered a 401/407 already */
	uint32_t cseq;
	struct sip_src dst;
	struct sip_ctrans *ct;
	struct sip_dialog *dlg;
	uint16_t status;
	struct retx2xx retx;         /* a picker's 200 (call_pickup.c) */
};

/* A request passed from one leg to the other, waiting for its answer. */
struct relay_req {
	struct call *call;
	struct sip_strans *st;     /* the request we must answer */
	struct sip_dialog *to;     /* where we sent it */
	struct sip_dialog *from;   /* the dialog it came in on */
	bool media;                /* its SDP went through the relay */
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
	struct tmr dial_tmr;
	struct retx2xx retx;         /* our 200 to the caller */
	time_t start, answered;
	struct cdr *cdr;
	struct dp_chan *dp;
	struct dialplan *dialplan;   /* the snapshot the call started on */
	bool dp_waiting_dial;        /* Dial is waiting for the legs */
	struct tmr wait_tmr;
	uint16_t last_status;        /* last final status of an outgoing leg */
	uint16_t end_status;         /* what the caller gets when the dialplan ends */
	bool final_sent;             /* Busy()/Congestion() gave the caller its answer */
	bool ending;
	/* media (call_media.c) */
	struct rtp_relay *relay;
	struct call_play *play;      /* prompts, keys, music on hold (call_play.c) */
	struct cmon *mon[2];         /* MixMonitor, Monitor (call_monitor.c) */
	bool late_offer;             /* the caller's INVITE had no SDP (RFC 3264 5) */
	bool ack_answer;             /* our 200 carried an offer: the ACK answers it */
	struct sdp_neg a_off;        /* late offer: our offer to the caller */
	struct sdp_neg a_cap;        /* what the caller's offer (or answer) allows */
	struct sdp_neg b_off;        /* our offer toward the callee */
	struct sdp_neg b_neg;        /* the callee's answer */
	bool b_media;                /* b_neg is set */
	struct sdp_origin a_origin, b_origin;
	char apeer_name[64];
	char bpeer_name[64];
	/* survival (call_survive.c): journaled for the standby */
	bool snapped;                /* a CALL_SNAP went out: CALL_END at the end */
	bool snapped_setup;          /* ... of the call in setup (call_survive_setup) */
	bool restored;               /* taken over from the node that failed */
	uint32_t snap_gen;           /* call_survive_resnap() generation journaled */
	struct tmr snap_tmr;         /* looks for relay changes worth a snapshot */
	struct rtp_leg_snap snap_rtp[2];   /* the relay as last journaled */
};


/* call.c */
/** The first live call (then ->next): for call_pickup.c. */
struct call *call_list(void);
void call_end(struct call *c, uint16_t caller_status);
/** Free the outgoing legs that are over (no transaction, no dialog, not
 * bridged), so that later rounds (Queue's retries) find room in legs[]. */
void call_legs_reap(struct call *c);
void call_answer_caller(struct call *c, const struct sip_msg *resp);
/**
 * st's 2xx was just sent over UDP (on another transport nothing is
 * needed): send it again at T1, 2T1, ... T2 until call_retx_ack(); no
 * ACK within 64*T1 ends c. st is referenced.
 */
void call_retx_start(struct retx2xx *r, struct call *c, struct sip_strans *st,
		     const struct sip_src *to);
/** The ACK came: stop. Returns true when this was the first ACK. */
bool call_retx_ack(struct retx2xx *r);
/** Stop and release (the call or leg goes away). */
void call_retx_stop(struct retx2xx *r);
/* call_media.c */
/**
 * Read the caller's offer and set up the relay; 0 or a SIP status (488).
 * An INVITE without SDP is a late offer: the relay is set up all the same
 * and our 200 will carry the offer (call_media_answer_out).
 */
int  call_media_setup(struct call *c, const struct sip_msg *invite);
/** Our offer toward an outgoing leg to peer into buf; 0 or errno. */
int  call_media_offer(struct call *c, const char *peer, char *buf, size_t size,
		      size_t *len);
/** An answer (183/200) from an outgoing leg; 0 or errno (no usable media). */
int  call_media_answer_in(struct call *c, const char *peer, const struct sip_msg *resp);
/** Our answer to the caller into buf (our offer for a late offer); 0 or errno. */
int  call_media_answer_out(struct call *c, char *buf, size_t size, size_t *len);
/**
 * The caller's first ACK to our 200: when that 200 carried an offer, the
 * ACK must carry the answer (RFC 3261 13.2.1); 0 (also when none was
 * due) or errno, after which the call must end.
 */
int  call_media_ack(struct call *c, const struct sip_msg *ack);
/** The call was answered: watch for silent legs (sip.conf rtptimeout). */
void call_media_up(struct call *c);
/**
 * A re-INVITE from one side (from_caller) with an offer: update that leg,
 * write our offer for the other side into buf.
 */
int  call_media_reoffer(struct call *c, bool from_caller, const struct sip_msg *msg,
			char *buf, size_t size, size_t *len);
/** The other side answered the re-INVITE: update it, write our answer. */
int  call_media_reanswer(struct call *c, bool from_caller, const struct sip_msg *resp,
			 char *buf, size_t size, size_t *len);
void call_media_free(struct call *c);
json_t *call_media_json(const struct call *c);

/**
 * The node stops serving: free every call without a word to the phones
 * (no BYE, no CANCEL) and without finalising their records: the node that
 * serves now restored or cut them. How many.
 */
size_t call_handover_all(void);
/** Give a call put together elsewhere (a restored one) an id and list it. */
void call_adopt(struct call *c);

/* call_survive.c (docs/design/cluster.md 9) */
/** The call is answered and bridged, or changed in a way that matters
 * (re-INVITE answered): journal its snapshot (cluster only). */
void call_survive_snap(struct call *c);
/** The call is in setup and a callee leg went out or rang: journal what
 * a new active needs to answer the caller and CANCEL the legs. */
void call_survive_setup(struct call *c);
/** Every leg of the Dial ended: the setup snapshot goes (CALL_END); the
 * dialplan may go on (another Dial journals a new one). */
void call_survive_setup_over(struct call *c);
/** Watch the node's role (once): a node that stops serving hands its
 * calls over (call_handover_all). */
void call_survive_init(void);
/** The call goes away: CALL_END if a snapshot went out. */
void call_survive_end(struct call *c);

/* call_dp.c */
/** Start the dialplan for a new call; returns 0 or a status for the caller. */
int  call_dp_start(struct call *c);
/** Dial finished (dialstatus as Asterisk's DIALSTATUS); run the dialplan on. */
void call_dp_dial_done(struct call *c, const char *dialstatus);
/** An application waiting on the call's media is done: run the dialplan on. */
void call_dp_resume(struct call *c);
/** The caller went away: run the h extension only. */
void call_dp_caller_gone(struct call *c);

#endif
