/**
 * @file dialog.h  SIP dialogs (RFC 3261 12): the state two user agents
 * share for the life of a call, and the requests sent inside it.
 *
 * A dialog is identified by Call-ID, local tag and remote tag. Tandem is
 * a B2BUA, so each call has a UAS dialog with the caller and a UAC dialog
 * with each callee. In-dialog requests go to where the peer is reachable
 * (its source address: symmetric signalling for NATed phones, chan_sip's
 * nat=force_rport), with the Request-URI set to the remote target.
 */
#ifndef TANDEM_SIP_DIALOG_H
#define TANDEM_SIP_DIALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hash.h"
#include "sip/sip.h"

enum sip_dialog_state { DIALOG_EARLY, DIALOG_CONFIRMED, DIALOG_TERMINATED };

struct sip_dialog {
	struct hash_le le;
	enum sip_dialog_state state;
	bool uac;
	bool in_table;
	char *callid;
	char *ltag, *rtag;
	char *lhdr;          /* our From/To header value, with our tag */
	char *rhdr;          /* theirs, with their tag */
	char *rtarget;       /* remote target: their Contact URI */
	char *routes;        /* "Route: ...\r\n" lines, in the order to send */
	char *contact;       /* our Contact URI */
	uint32_t lseq, rseq;
	struct sip_src dst;  /* where in-dialog requests go */
	void *owner;
};

/**
 * A UAS dialog from an INVITE we answer (12.1.1): our tag is ltag, our
 * Contact is contact. Early until sip_dialog_confirm().
 */
int sip_dialog_uas(struct sip_dialog **dp, const struct sip_msg *req,
		   const struct sip_src *src, const char *ltag, const char *contact,
		   void *owner);
/**
 * A UAC dialog from a response with a To tag to our INVITE (12.1.2).
 * from_hdr is the From value we sent (with our tag), cseq the INVITE's.
 */
int sip_dialog_uac(struct sip_dialog **dp, const struct sip_msg *resp,
		   const struct sip_src *dst, const char *from_hdr, const char *contact,
		   uint32_t cseq, void *owner);
void sip_dialog_confirm(struct sip_dialog *d);

struct jnl_wbuf;
/** Append d's fields as TLVs (dialog_codec.c; docs/design/cluster.md 9). */
int sip_dialog_encode(struct jnl_wbuf *b, const struct sip_dialog *d);
/**
 * A dialog from TLVs (hostile: lengths checked, unknown tags skipped),
 * not in the table, no owner: 0, EBADMSG (a field bad or missing), ENOMEM.
 */
int sip_dialog_decode(struct sip_dialog **dp, struct pl tlv);
/** Enter a decoded dialog in the table: EEXIST when one with its Call-ID
 * and tags is there already. */
int sip_dialog_insert(struct sip_dialog *d, void *owner);
/** Remove from the table and free. NULL-safe. */
void sip_dialog_free(struct sip_dialog *d);
/** The dialog an in-dialog request (or ACK) belongs to, or NULL. */
struct sip_dialog *sip_dialog_find(const struct sip_msg *req);
/**
 * Check and record the remote CSeq of an in-dialog request (12.2.2):
 * false when it is lower than the last one (the caller answers 500).
 */
bool sip_dialog_rseq_ok(struct sip_dialog *d, const struct sip_msg *req);
/** Update the remote target from a Contact in req or resp (re-INVITE). */
void sip_dialog_update_target(struct sip_dialog *d, const struct sip_msg *msg);

/** Send an in-dialog request (BYE, re-INVITE, INFO...) in a client transaction. */
int sip_dialog_request(struct sip_dialog *d, const char *met, const char *extra,
		       const char *ctype, const char *body, size_t blen,
		       sip_resp_h *h, void *arg, struct sip_ctrans **ctp);
/** ACK a 2xx to our INVITE with CSeq cseq (13.2.2.4): no transaction. */
int sip_dialog_ack(struct sip_dialog *d, uint32_t cseq, const char *ctype,
		   const char *body, size_t blen);

const char *sip_dialog_state_name(enum sip_dialog_state s);
size_t sip_dialog_count(void);
int  sip_dialog_init(void);
void sip_dialog_close(void);

#endif
