/**
 * @file rtp_int.h  What rtp.c (the relay) and rtp_local.c (media
 * generated or consumed locally) share. Not for other areas.
 */
#ifndef TANDEM_RTP_INT_H
#define TANDEM_RTP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/loop.h"
#include "media/dtmf.h"
#include "media/rtp.h"

extern struct rtp_totals rtp_tot;   /* rtp.c, rtp_totals() */


enum xop { X_DROP = 0, X_COPY, X_A2U, X_U2A };

struct xlat {
	uint8_t pt;
	uint8_t op;
};

struct rsock {
	int fd;
	bool rtcp;
	struct leg *leg;
};

/* RFC 4733 events we send toward a leg (rtp_local.c). */
struct dtmf_out {
	uint8_t q_ev[RTP_DTMF_QUEUE];
	uint16_t q_ms[RTP_DTMF_QUEUE];
	size_t qn;
	bool on;                      /* an event is being sent */
	uint8_t ev;
	uint32_t ts, dur, total;      /* timestamp units */
	uint8_t ends;                 /* end packets sent */
	uint8_t gap;                  /* ticks to wait before the next digit */
};

struct player;
struct rec;
struct mixmon;
typedef struct dtmf_rx_state_s dtmf_rx_state_t;

struct leg {
	struct rtp_relay *r;
	enum rtp_leg_id id;
	struct rsock rtp, rtcp;
	uint16_t port;
	struct sockaddr_storage local;
	struct rtp_leg_conf conf;
	uint8_t pt_codec[128];        /* CODEC_NONE when not negotiated */
	uint8_t codec_pt[256];        /* 0xff when codec not negotiated */
	struct xlat fwd[128];         /* packets from this leg to the other */
	/* latching */
	struct sockaddr_storage src_rtp, src_rtcp;
	bool latched, rtcp_latched;
	/* the stream this leg's remote sends */
	bool in_init;
	uint32_t in_ssrc;
	uint16_t in_seq;
	/* the stream we send toward this leg */
	uint32_t out_ssrc;
	bool out_init, out_resync;
	uint16_t out_seq, seq_off;
	uint32_t out_ts, ts_off;
	uint64_t out_ms;
	struct rtp_leg_stats st;
	/* local output toward this leg (rtp_local.c) */
	struct player *feed;          /* referenced; NULL: relay the other leg */
	bool out_local;               /* the stream toward us is generated here */
	bool marker;                  /* next local audio packet starts a talkspurt */
	bool ticking;                 /* in the ticker's list */
	struct leg *tprev, *tnext;
	struct dtmf_out dout;
	/* what we do with what this leg sends (rtp_local.c) */
	bool dtmf_norelay;            /* keep its telephone-events to ourselves */
	struct dtmf_rx4733 dtmf;
	dtmf_rx_state_t *inband;
	uint64_t ib_samples, ib_start;
	char ib_digit;
	struct rec *rec;              /* referenced */
	bool rec_init;
	uint32_t rec_next;            /* timeline position of the next sample */
	uint32_t rec_off;             /* RTP timestamp -> timeline */
	bool mon_local;               /* leg A: recordings last heard our feed */
};

struct rtp_relay {
	struct leg leg[2];
	struct tmr tmr;
	uint64_t timeout_ms, armed_at;
	rtp_timeout_h *th;
	void *targ;
	rtp_dtmf_h *dh;
	void *darg;
	struct mixmon *mon[RTP_MON_SLOTS];   /* referenced; both legs feed them */
	struct rtp_relay *prev, *next;
};

/* rtp.c */
uint64_t rtp_now(void);
uint32_t rtp_rnd32(void);
const struct sockaddr_storage *rtp_dest(const struct leg *d, bool rtcp);
socklen_t rtp_sa_len(const struct sockaddr_storage *sa);

/* rtp_local.c */
/** Something to do with packets from l (DTMF, in-band, recording). */
static inline bool rtp_local_wants_rx(const struct leg *l)
{
	return l->r->dh || l->inband || l->rec || l->r->mon[0] || l->r->mon[1];
}
/** One valid RTP packet from l: decode DTMF, detect tones, record. */
void rtp_local_rx(struct leg *l, uint8_t pt, uint32_t ts, bool restart,
		  const uint8_t *pl, size_t plen);
/** Deliver the DTMF events collected while reading one batch. */
void rtp_local_deliver(void);
/** A relay is going away: stop everything local on its legs. */
void rtp_local_shut(struct rtp_relay *r);
/** Stop the ticker (rtp_close). */
void rtp_local_close(void);

#endif
