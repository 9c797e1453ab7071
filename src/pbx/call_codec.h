/**
 * @file call_codec.h  An answered, bridged call as the standby keeps it
 * (CALL_SNAP's TLVs, docs/design/cluster.md 9): plain values, the two
 * dialogs decoded but not in the table, both legs of the relay, and the
 * call record so far.
 */
#ifndef TANDEM_PBX_CALL_CODEC_H
#define TANDEM_PBX_CALL_CODEC_H

#include <stdint.h>

#include "core/pl.h"
#include "media/rtp.h"
#include "media/sdp_neg.h"
#include "sip/dialog.h"
#include "store/cdr.h"

struct jnl_wbuf;

struct call_snap {
	int64_t taken_ms;            /* wall clock of the snapshot */
	char caller[64], callerid[128], exten[64], context[64];
	char cidname[80], cidnum[40], channel[96];
	char apeer[64], bpeer[64];
	int64_t start, answered;     /* time_t, wall clock */
	struct sip_src asrc;         /* fd -1 */
	struct sdp_neg a_cap, b_off, b_neg;
	struct sdp_origin a_origin, b_origin;
	struct sip_dialog *adlg;     /* owned, not in the table */
	struct call_snap_leg {       /* the bridged callee leg */
		char peer[64], channel[96], callid[40];
		char *from_hdr, *ruri;
		uint32_t cseq;
		struct sip_src dst;
		uint16_t status;
		struct sip_dialog *dlg;  /* owned, not in the table */
	} b;
	struct rtp_leg_snap rtp[2];
	struct cdr_record cdr;       /* uniqueid is the call's key */
};

/** Append s as TLVs; 0 or ENOMEM. */
int  call_snap_encode(struct jnl_wbuf *b, const struct call_snap *s);
/**
 * Fill s (zeroed first) from TLVs. Hostile input: every length checked,
 * unknown tags skipped; EBADMSG when a value is bad or the call lacks a
 * dialog, its uniqueid or a relay leg (s left empty), ENOMEM.
 */
int  call_snap_decode(struct call_snap *s, struct pl tlv);
/** Free what s owns (dialogs, strings); s is zeroed. */
void call_snap_clear(struct call_snap *s);

/*
 * A call in setup (call_setup_codec.c): the caller got a provisional
 * response, callee legs are out. What a new active needs to answer the
 * caller's INVITE and CANCEL the legs (docs/design/cluster.md 9.1).
 */
#define CALL_SETUP_LEGS 8
struct call_setup_snap {
	int64_t taken_ms;            /* wall clock of the snapshot */
	char uniqueid[CDR_ID];       /* the call's key */
	char caller[64], exten[64];  /* for the log */
	char totag[17];              /* our To tag in the caller's responses */
	char *inv;                   /* the caller's INVITE as received */
	size_t invlen;
	struct sip_src asrc;         /* where it came from (fd -1) */
	unsigned nlegs;
	struct call_setup_leg {      /* each callee leg that rang */
		char *inv;           /* our INVITE as sent */
		size_t invlen;
		struct sip_src dst;  /* where it went (fd -1) */
	} legs[CALL_SETUP_LEGS];
};

/** Append s as one T_SETUP TLV; 0, EINVAL (no INVITE), ENOMEM. */
int  call_setup_encode(struct jnl_wbuf *b, const struct call_setup_snap *s);
/**
 * Fill s (zeroed first) from a CALL_SNAP payload. ENOENT: not a call in
 * setup (a bridged call's snapshot); EBADMSG: bad or missing values (s
 * left empty); ENOMEM. Hostile input: lengths checked, unknown tags
 * skipped, legs past CALL_SETUP_LEGS skipped.
 */
int  call_setup_decode(struct call_setup_snap *s, struct pl tlv);
/** Free what s owns; s is zeroed. */
void call_setup_clear(struct call_setup_snap *s);

#endif
