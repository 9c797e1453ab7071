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

#endif
