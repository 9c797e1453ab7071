/**
 * @file presence.h  Subscriptions (RFC 6665) to the dialog event package
 * (RFC 4235, BLF keys) and the message-summary package (RFC 3842, MWI),
 * with chan_sip's semantics: hints in the subscriber's subscribecontext,
 * digest authentication as for REGISTER, subminexpiry/submaxexpiry.
 *
 * Device state comes from the call layer through presence_usage_h; the
 * call layer and the registrar call presence_device_changed() when a
 * peer's calls or registration change, and the NOTIFYs go out on the next
 * loop turn. docs/configure.md ("Busy lamps and message waiting") is the
 * user's view.
 */
#ifndef TANDEM_PBX_PRESENCE_H
#define TANDEM_PBX_PRESENCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/sip.h"

/* Defaults (Asterisk 11+ chan_sip): sip.conf [general] subminexpiry and
 * submaxexpiry; a SUBSCRIBE without Expires gets the packages' default
 * (RFC 4235 4.1, RFC 3842 4). */
#define PRESENCE_MIN_EXPIRY      60u
#define PRESENCE_MAX_EXPIRY      3600u
#define PRESENCE_DEFAULT_EXPIRY  3600u
#define PRESENCE_MAX_PER_PEER    512u   /* more: 503 */

/** A device (a peer) as Asterisk's device states see it. */
enum presence_dev {
	PRESENCE_DEV_IDLE,         /* reachable and in no call */
	PRESENCE_DEV_RINGING,      /* a call rings it, none answered */
	PRESENCE_DEV_INUSE,        /* in a call: placed or answered */
	PRESENCE_DEV_RINGINUSE,    /* in a call and another one rings it */
	PRESENCE_DEV_UNAVAILABLE,  /* host=dynamic and not registered, or unknown */
};

/** What the call layer knows of one peer. */
struct presence_usage {
	unsigned ringing;   /* outgoing legs to it not answered yet */
	unsigned inuse;     /* calls it placed, and legs to it answered */
};

/** Fill u for peer (the call layer's call_peer_usage). */
typedef void (presence_usage_h)(const char *peer, struct presence_usage *u);

enum presence_event { PRESENCE_EV_DIALOG, PRESENCE_EV_MWI };

enum presence_sub_state {
	PRESENCE_SUB_ACTIVE,       /* 200 sent, NOTIFYs flow */
	PRESENCE_SUB_TERMINATED,   /* final NOTIFY sent; freed */
};

int  presence_init(void);
/** Ends every subscription (final NOTIFY). Call before call_close(). */
void presence_close(void);
/** Where device usage comes from; NULL: every device idle when reachable. */
void presence_set_usage_h(presence_usage_h *h);

/** A SUBSCRIBE (new or in a dialog) in server transaction st. */
void presence_subscribe(struct sip_strans *st, const struct sip_msg *msg,
			const struct sip_src *src);
/**
 * A NOTIFY we did not subscribe for: keep-alive and message-summary (a
 * trunk's MWI) get 200, one in a dialog we do not know 481, others 489.
 */
void presence_notify_in(struct sip_strans *st, const struct sip_msg *msg,
			const struct sip_src *src);

/**
 * peer's calls or registration changed (NULL: some peer's). Subscriptions
 * whose hint names it are brought up to date by a zero-delay timer, after
 * the caller's event is handled: one NOTIFY each when what they show
 * changed. Cheap; call it freely, before or after the state changes.
 */
void presence_device_changed(const char *peer);

/**
 * The counts of mailbox ("box@context"; NULL: any) may have changed:
 * message-summary subscriptions listing it get a NOTIFY if theirs did.
 */
void presence_mwi_changed(const char *mailbox);
/** True when peer holds an active message-summary subscription. */
bool presence_mwi_subscribed(const char *peer);

/**
 * The hint of exten in context (current dialplan) with ${EXTEN} replaced,
 * into buf; NULL when there is none (or it does not fit).
 */
const char *presence_hint_get(const char *context, const char *exten, char *buf,
			      size_t size);
/** State of one device, from the usage handler and the registrar. */
enum presence_dev presence_device_state(const char *peer);
/** Aggregate state of a hint ("SIP/101-tfg&SIP/102-tfg"), as Asterisk's. */
enum presence_dev presence_hint_state(const char *hint);
/** True when hint names SIP/peer among its devices. */
bool presence_hint_has(const char *hint, const char *peer);
const char *presence_dev_name(enum presence_dev s);
const char *presence_sub_state_name(enum presence_sub_state s);

/**
 * The RFC 4235 <state> for a device state under sip.conf's notifyringing
 * (0 no, 1 yes, 2 notinuse): "early", "confirmed" or "terminated".
 */
const char *presence_dialog_state(enum presence_dev s, int notifyringing);
/**
 * A full dialog-info document (RFC 4235 4.1) with one dialog: id, its
 * state, direction="recipient" when early. entity and id are escaped.
 * Returns the length, or -1 when buf is too small.
 */
int presence_dialog_info(char *buf, size_t size, uint32_t version, const char *entity,
			 const char *id, const char *state);

size_t presence_count(void);
/** {"subscriptions":[{"peer","event","target","state","expires_in",...}]} */
json_t *presence_json(void);

#endif
