/**
 * @file presence_int.h  Subscription internals shared by presence.c (the
 * subscriptions and their NOTIFYs) and presence_subscribe.c (SUBSCRIBE
 * requests). Not for other callers: presence.h is the interface.
 */
#ifndef TANDEM_PBX_PRESENCE_INT_H
#define TANDEM_PBX_PRESENCE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hash.h"
#include "core/loop.h"
#include "pbx/mwi.h"
#include "pbx/peers.h"
#include "pbx/presence.h"
#include "sip/dialog.h"

#define PRESENCE_CT_DIALOG "application/dialog-info+xml"
#define PRESENCE_CT_MWI    "application/simple-message-summary"

struct presence_sub {
	struct hash_le le;
	bool in_table;
	enum presence_sub_state state;
	enum presence_event ev;
	struct sip_dialog *dlg;
	struct sip_ctrans *ct;       /* NOTIFY in flight; holds a reference */
	struct tmr expire;
	uint32_t version;            /* of the next dialog-info document */
	bool force;                  /* send the next NOTIFY even if unchanged */
	char peer[64];
	char evparam[80];            /* ";id=..." of the Event, echoed (8.2.1) */
	char exten[80], context[80]; /* dialog: the hint's place */
	char entity[256];            /* dialog: sip:EXTEN@HOST */
	char mailboxes[256];         /* message-summary: the peer's mailbox= */
	char account[256];           /* message-summary: Message-Account */
	bool buggymwi;
	const char *last_state;      /* what the last NOTIFY showed */
	struct mwi_counts last_mwi;
};

/* presence.c */
bool presence_ready(void);
/** A peer option, else [general]'s, else def. p may be NULL. */
const char *presence_opt(const struct peer *p, const char *name, const char *def);
bool presence_opt_bool(const struct peer *p, const char *name, bool def);
const char *presence_event_name(enum presence_event ev);
/** A zeroed subscription (one reference) not in the table yet, or NULL. */
struct presence_sub *presence_sub_alloc(void);
/** Enter s in the table (the table holds the reference alloc gave). */
void presence_sub_add(struct presence_sub *s);
/** The subscription owning dialog d, or NULL (d may be a call's). */
struct presence_sub *presence_sub_of(const struct sip_dialog *d);
/** Subscriptions peer holds. */
unsigned presence_subs_of(const char *peer);
/** (Re)arm the expiry and send the full state: a new one or a refresh. */
void presence_sub_start(struct presence_sub *s, uint32_t expires);
/** End s, with a final NOTIFY when reason is set; the table lets go of it. */
void presence_sub_end(struct presence_sub *s, const char *reason);
/** "exten@context" or the mailbox list, for logs. */
const char *presence_sub_target(const struct presence_sub *s, char *buf, size_t size);

#endif
