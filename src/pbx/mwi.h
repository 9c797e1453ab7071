/**
 * @file mwi.h  Message waiting indication (RFC 3842) as chan_sip gives it:
 * a NOTIFY with Event: message-summary to every phone whose peer has
 * mailbox=, subscribed (through presence.c) or not (unsolicited, to the
 * registered contact), when the counts of one of its mailboxes change,
 * when it registers, and on voicemail.conf's pollmailboxes/pollfreq.
 *
 * A peer's mailbox= lists mailboxes separated by '&' or ','; each is
 * "box@context" or "box" (context "default"); counts are summed over them.
 */
#ifndef TANDEM_PBX_MWI_H
#define TANDEM_PBX_MWI_H

#include <stdbool.h>
#include <stddef.h>

struct mwi_counts {
	int newmsgs;   /* INBOX + Urgent (Asterisk's inboxcount) */
	int oldmsgs;   /* Old */
	int urgent;    /* Urgent */
};

/** Start: counts are read under datadir; the poll timer runs from now on. */
int  mwi_init(const char *datadir);
void mwi_close(void);

/**
 * The voicemail code saved, deleted or moved a message of mailbox
 * ("box@context" or "box"): subscribers and peers listing it get a NOTIFY
 * when their counts changed.
 */
void mwi_mailbox_changed(const char *mailbox);
/**
 * peer registered (or refreshed): it gets the current counts (unsolicited,
 * unless subscribed or subscribemwi=yes) once the REGISTER's 200 is out.
 */
void mwi_peer_registered(const char *peer);
/** Check every mailbox now, as one pollfreq tick does. */
void mwi_poll(void);

/** Sum of the counts of the mailboxes in list (a mailbox= value). 0 or errno. */
int  mwi_counts_get(const char *list, struct mwi_counts *out);
/** True when list (a mailbox= value) names mailbox; NULL mailbox: any. */
bool mwi_list_has(const char *list, const char *mailbox);
/**
 * The application/simple-message-summary body: Messages-Waiting,
 * Message-Account (account, may be NULL) and Voice-Message "new/old
 * (urgent/0)", without the parenthesis for buggymwi phones. Returns the
 * length, or -1 when buf is too small.
 */
int  mwi_body(char *buf, size_t size, const struct mwi_counts *c, const char *account,
	      bool buggy);

#endif
