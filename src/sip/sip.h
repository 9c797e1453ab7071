/**
 * @file sip.h  The SIP stack above the transport: replies, server and
 * client transactions (RFC 3261 17, RFC 6026) and the dispatch of
 * incoming messages to them and to the transaction user (TU).
 *
 * Timers (RFC 3261 table 4): T1 500 ms, T2 4 s, T4 5 s; A/B/D for INVITE
 * clients, E/F/K for non-INVITE clients, G/H/I (and L, RFC 6026) for
 * INVITE servers, J for non-INVITE servers. Over TCP the retransmission
 * timers are not armed and D, I, J, K are zero.
 */
#ifndef TANDEM_SIP_SIP_H
#define TANDEM_SIP_SIP_H

#include <stdbool.h>
#include <stdint.h>

#include "sip/msg.h"
#include "sip/transp.h"

#define TANDEM_VERSION "0.1.0"

/*
 * RFC 3261 timers, in ms. T1 and Timer B are sip.conf [general] timert1
 * and timerb (chan_sip's names; 500 and 64*T1 unless set), applied at each
 * load by sip_timers_set(); they count for transactions started after it.
 * Timers F, H, J, L, M and the 2xx retransmission limit are 64*T1.
 */
extern uint32_t sip_t1;
extern uint32_t sip_timer_b;
#define SIP_T1_DEFAULT 500u
#define SIP_T2 4000u
#define SIP_T4 5000u
void sip_timers_set(uint32_t t1, uint32_t timer_b);

extern const char sip_server_hdr[];   /* "Server: Tandem/x.y.z" */

/* ------------------------------------------------------------------ replies */

/**
 * Build a response to req into buf: Via headers copied (top one with
 * received/rport per RFC 3581 and 18.2.1), From, Call-ID, CSeq, To with
 * to_tag added when the request's To has none and scode > 100, then
 * `extra` (CRLF-terminated header lines, may be NULL), Server,
 * Content-Length and body. Returns the length, or -1 when buf is too small.
 */
int sip_reply_build(char *buf, size_t size, const struct sip_msg *req,
		    const struct sip_src *src, uint16_t scode, const char *reason,
		    const char *to_tag, const char *extra, const char *ctype,
		    const char *body, size_t blen);

/** Build and send a reply without keeping any state (RFC 3261 8.2.7). */
int sip_reply_stateless(const struct sip_msg *req, const struct sip_src *src,
			uint16_t scode, const char *reason, const char *extra);

/** Standard reason phrase for a status code. */
const char *sip_reason(uint16_t scode);

/** Random token of n hex chars (tags, branches, Call-IDs) into buf[n+1]. */
void sip_rand_token(char *buf, size_t n);

/* -------------------------------------------------------- server transactions */

enum sip_strans_state {
	STRANS_TRYING,       /* non-INVITE, nothing sent yet */
	STRANS_PROCEEDING,   /* provisional sent */
	STRANS_COMPLETED,    /* final sent; absorbing retransmissions */
	STRANS_CONFIRMED,    /* INVITE: ACK received (timer I) */
	STRANS_ACCEPTED,     /* INVITE: 2xx sent (RFC 6026, timer L) */
	STRANS_TERMINATED,
};

struct sip_strans;

/** The TU's handler for a new request; st is the new server transaction. */
typedef void (sip_request_h)(struct sip_strans *st, const struct sip_msg *msg,
			     const struct sip_src *src);
/** ACK for a 2xx, or any request outside a transaction (st NULL). */
typedef void (sip_ack_h)(const struct sip_msg *msg, const struct sip_src *src);
/** An INVITE server transaction ended (no ACK: timer H), for the TU. */
typedef void (sip_strans_end_h)(struct sip_strans *st, int err, void *arg);

/**
 * Send a response in transaction st. The request it answers is the one
 * the transaction was created for. Returns 0 or errno.
 */
int sip_strans_reply(struct sip_strans *st, uint16_t scode, const char *reason,
		     const char *extra, const char *ctype, const char *body,
		     size_t blen);
/**
 * Prepare a response but hold it until sip_strans_release(): used for
 * group commit, so a 200 leaves only after the write it acknowledges is
 * durable. Only one held response at a time.
 */
int sip_strans_hold(struct sip_strans *st, uint16_t scode, const char *reason,
		    const char *extra);
/**
 * Answer without keeping the transaction (a retransmission will be
 * answered afresh): used for challenges, as stateless servers do.
 */
int sip_strans_reply_stateless(struct sip_strans *st, uint16_t scode,
			       const char *reason, const char *extra);
/** Send (ok) or replace by a 500 (!ok) the held response. */
void sip_strans_release(struct sip_strans *st, bool ok);

/** Send the last response again (a UAS retransmitting its 2xx, 13.3.1.4). */
int sip_strans_resend(struct sip_strans *st);

/** The INVITE server transaction a CANCEL refers to (17.2.3), or NULL. */
struct sip_strans *sip_strans_find_invite(const struct sip_msg *cancel,
					  const struct sip_src *src);
/** Re-decode the stored request of st into msg (valid while st lives). */
int sip_strans_request(const struct sip_strans *st, struct sip_msg *msg);
/**
 * An INVITE server transaction taken over from a node that failed
 * (call_survive.c): req as that node received it, totag the To tag it
 * sent; PROCEEDING, nothing sent. The table holds it. 0, EBADMSG, EEXIST.
 */
int sip_strans_restore(struct sip_strans **stp, const char *req, size_t len,
		       const struct sip_src *src, const char *totag);
const struct sip_src *sip_strans_src(const struct sip_strans *st);
enum sip_strans_state sip_strans_state(const struct sip_strans *st);
const char *sip_strans_state_name(enum sip_strans_state s);
/** The To tag used in this transaction's responses. */
const char *sip_strans_totag(const struct sip_strans *st);
/** Use tag (at most 16 chars) as the To tag, e.g. a CANCEL's 200 (9.2). */
void sip_strans_set_totag(struct sip_strans *st, const char *tag);
void sip_strans_set_end_handler(struct sip_strans *st, sip_strans_end_h *h, void *arg);
size_t sip_strans_count(void);

/* -------------------------------------------------------- client transactions */

enum sip_ctrans_state {
	CTRANS_CALLING,      /* INVITE sent (timers A, B) */
	CTRANS_TRYING,       /* non-INVITE sent (timers E, F) */
	CTRANS_PROCEEDING,   /* provisional received */
	CTRANS_COMPLETED,    /* final received (timers D, K) */
	CTRANS_ACCEPTED,     /* INVITE 2xx received (RFC 6026, timer M) */
	CTRANS_TERMINATED,
};

struct sip_ctrans;

/**
 * A response arrived for the request (msg set, err 0), or the transaction
 * failed (msg NULL, err ETIMEDOUT for timers B/F, or a transport errno).
 * Called for every provisional and final response the TU must see.
 */
typedef void (sip_resp_h)(int err, const struct sip_msg *msg, void *arg);

/**
 * Send a request in a new client transaction. The Via (with a fresh
 * branch and ;rport) is written by the transaction; hdrs holds every
 * other header line (CRLF-terminated): From, To, Call-ID, CSeq, Max-
 * Forwards, Contact... Content-Length is added. The ctrans lives until it
 * terminates; *ctp (may be NULL) is a borrowed pointer valid until the
 * final response handler returns or sip_ctrans_abandon().
 */
int sip_ctrans_request(struct sip_ctrans **ctp, const struct sip_src *dst,
		       const char *met, const char *ruri, const char *hdrs,
		       const char *ctype, const char *body, size_t blen,
		       sip_resp_h *h, void *arg);
/** Send CANCEL for an INVITE client transaction (after a provisional). */
int sip_ctrans_cancel(struct sip_ctrans *ct);
/**
 * CANCEL an INVITE a node that failed sent (req, to dst) and that rang
 * (call_survive.c): the INVITE transaction is taken over in PROCEEDING,
 * without retransmitting it, so that a 487 is ACKed (17.1.1.3) and a 2xx
 * gets ACK and BYE (sip_dialog_stray_2xx). 0, EBADMSG, EEXIST, errno.
 */
int sip_ctrans_restore_cancel(const struct sip_src *dst, const char *req, size_t len);
/** The request as sent (its length in *len). */
const char *sip_ctrans_req(const struct sip_ctrans *ct, size_t *len);
/** The TU no longer wants responses (the transaction still runs its timers). */
void sip_ctrans_abandon(struct sip_ctrans *ct);
enum sip_ctrans_state sip_ctrans_state(const struct sip_ctrans *ct);
const char *sip_ctrans_state_name(enum sip_ctrans_state s);
size_t sip_ctrans_count(void);

/* -------------------------------------------------------------- the stack */

struct sip_stack_handlers {
	sip_request_h *request;   /* new request in a new server transaction */
	sip_ack_h *ack;           /* ACK to a 2xx or stray ACK */
};

int  sip_stack_init(const struct sip_stack_handlers *h);
void sip_stack_close(void);
/** Entry point from the transport (sip_recv_h). */
void sip_stack_recv(struct sip_msg *msg, int err, const struct sip_src *src);

/* internal to src/sip/ */
bool sip_strans_recv(const struct sip_msg *msg, const struct sip_src *src);
bool sip_ctrans_recv(const struct sip_msg *msg, const struct sip_src *src);
int  sip_strans_new(struct sip_strans **stp, const struct sip_msg *msg,
		    const struct sip_src *src);
void sip_strans_close(void);
void sip_ctrans_close(void);
/**
 * A 2xx to an INVITE that no client transaction knows (dialog.c): a
 * known dialog's is ACKed again (its ACK was lost); another (a callee
 * answering a node that failed) gets ACK and BYE (RFC 3261 13.2.2.4, 15),
 * once per dialog however often it is retransmitted. Logged.
 */
void sip_dialog_stray_2xx(const struct sip_msg *resp, const struct sip_src *src);

#endif
